/** BatchMatMul and _FusedMatMul over OpenBLAS sgemm (broadcasting batch dims, fused bias/activation). */
import type { NativeAddon } from './addon.js';
import { ACT, BIAS } from './addon.js';
import { allocF32, attr, f32, f32Pair, input, sizeOf, type CpuBackend, type KernelArgs, type NativeImpl, type TensorInfo } from './util.js';

interface MatmulPlan {
  aBatch: number[];
  bBatch: number[];
  outShape: number[];
  M: number;
  N: number;
  K: number;
}

/** Shapes of a (possibly broadcasting) batched matmul, or null if they do not fit (tfjs then reports the error). */
export function planMatmul(aShape: readonly number[], bShape: readonly number[], ta: boolean, tb: boolean): MatmulPlan | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const M = ta ? aShape[ra - 1]! : aShape[ra - 2]!;
  const Ka = ta ? aShape[ra - 2]! : aShape[ra - 1]!;
  const Kb = tb ? bShape[rb - 1]! : bShape[rb - 2]!;
  const N = tb ? bShape[rb - 2]! : bShape[rb - 1]!;
  if (Ka !== Kb) return null;
  const r = Math.max(ra, rb) - 2;
  const aBatch = [...new Array<number>(r - (ra - 2)).fill(1), ...aShape.slice(0, -2)];
  const bBatch = [...new Array<number>(r - (rb - 2)).fill(1), ...bShape.slice(0, -2)];
  const oBatch: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = aBatch[i]!;
    const y = bBatch[i]!;
    if (x !== y && x !== 1 && y !== 1) return null;
    oBatch.push(x === 1 ? y : x);
  }
  return { aBatch, bBatch, outShape: [...oBatch, M, N], M, N, K: Ka };
}

export function batchMatMul(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const pair = f32Pair(args, backend);
    if (!pair) return null;
    const { a, b, av, bv } = pair;
    const ta = Boolean(attr(args, 'transposeA'));
    const tb = Boolean(attr(args, 'transposeB'));
    const p = planMatmul(a.shape, b.shape, ta, tb);
    if (!p) return null;
    const out = allocF32(sizeOf(p.outShape));
    addon.matmul(av, p.aBatch, bv, p.bBatch, out, p.M, p.N, p.K, ta, tb, null, BIAS.none, ACT.linear!, 0);
    return backend.makeTensorInfo(p.outShape, 'float32', out);
  };
}

/** How a bias broadcasts over [..., M, N]: a scalar or a row of N values; else null. */
export function biasKind(bias: TensorInfo, outShape: readonly number[]): number | null {
  const n = sizeOf(bias.shape);
  if (bias.shape.length > outShape.length) return null;
  if (n === 1) return BIAS.scalar;
  const N = outShape[outShape.length - 1]!;
  const r = bias.shape.length;
  if (n === N && bias.shape[r - 1] === N) return BIAS.column;
  return null;
}

export function fusedMatMul(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const bias = input(args, 'bias');
    if (input(args, 'preluActivationWeights')) return null;
    const activation = attr<string | undefined>(args, 'activation') ?? 'linear';
    const act = ACT[activation];
    if (act === undefined) return null;
    const pair = f32Pair(args, backend);
    if (!pair) return null;
    const { a, b, av, bv } = pair;
    const ta = Boolean(attr(args, 'transposeA'));
    const tb = Boolean(attr(args, 'transposeB'));
    const p = planMatmul(a.shape, b.shape, ta, tb);
    if (!p) return null;
    let kind: number = BIAS.none;
    let biasV: Float32Array | null = null;
    if (bias) {
      biasV = f32(backend, bias);
      const k = biasKind(bias, p.outShape);
      if (!biasV || k === null) return null;
      kind = k;
    }
    const out = allocF32(sizeOf(p.outShape));
    const alpha = Number(attr<number | undefined>(args, 'leakyreluAlpha') ?? 0.2);
    addon.matmul(av, p.aBatch, bv, p.bBatch, out, p.M, p.N, p.K, ta, tb, biasV, kind, act, alpha);
    return backend.makeTensorInfo(p.outShape, 'float32', out);
  };
}
