/** Broadcasting binary ops, unary ops, Softmax, AddN, and paperlab's fused LayerNorm and GELU kernels. */
import { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';
import { BIN, UN } from './addon.js';
import { allocF32, attr, f32, f32Pair, input, sizeOf, type CpuBackend, type KernelArgs, type NativeImpl, type TensorInfo } from './util.js';

export function binary(addon: NativeAddon, op: number): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const pair = f32Pair(args, backend);
    if (!pair) return null;
    const { a, b, av, bv } = pair;
    let outShape: number[];
    try {
      outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    } catch {
      return null; // the original kernel reports the shape error
    }
    const out = allocF32(sizeOf(outShape));
    addon.binary(op, av, a.shape, bv, b.shape, out, outShape);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

export function unary(addon: NativeAddon, op: number, alphaAttr?: string, alphaDefault = 0): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = f32(backend, x);
    if (!xv || !x) return null;
    const alpha = alphaAttr ? Number(attr<number | undefined>(args, alphaAttr) ?? alphaDefault) : 0;
    const out = allocF32(xv.length);
    addon.unary(op, xv, out, alpha);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  };
}

export function softmax(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'logits');
    const xv = f32(backend, x);
    if (!xv || !x || x.shape.length === 0) return null;
    const rank = x.shape.length;
    const dim = Number(attr<number>(args, 'dim'));
    if (dim !== -1 && dim !== rank - 1) return null;
    const cols = x.shape[rank - 1]!;
    const out = allocF32(xv.length);
    addon.softmax(xv, out, cols === 0 ? 0 : xv.length / cols, cols);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  };
}

export function addN(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const list = (Array.isArray(args.inputs) ? args.inputs : Object.values(args.inputs)) as TensorInfo[];
    if (list.length === 0) return null;
    const shape = list[0]!.shape;
    const vals: Float32Array[] = [];
    for (const t of list) {
      const v = f32(backend, t);
      if (!v || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) return null;
      vals.push(v);
    }
    const out = allocF32(vals[0]!.length);
    addon.addN(vals, out);
    return backend.makeTensorInfo(shape.slice(), 'float32', out);
  };
}

// ---- paperlab's fused kernels (registered under their own names, used by src/core/ops.ts) ----
export const LAYER_NORM = 'PaperlabLayerNorm';
export const LAYER_NORM_GRAD = 'PaperlabLayerNormGrad';
export const GELU = 'PaperlabGelu';
export const GELU_GRAD = 'PaperlabGeluGrad';
export const ADAM = 'PaperlabAdam';
export const SOFTMAX_GRAD = 'PaperlabSoftmaxGrad';
export const ATTENTION = 'PaperlabCausalAttention';
export const ATTENTION_GRAD = 'PaperlabCausalAttentionGrad';

/** inputs {x, gamma, beta}, attrs {eps} → [y, mean, rstd] (mean/rstd: one per row of the last axis). */
export function layerNormKernel(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const gamma = input(args, 'gamma');
    const beta = input(args, 'beta');
    const xv = f32(backend, x);
    const gv = f32(backend, gamma);
    const bv = f32(backend, beta);
    if (!x || !xv || !gv || !bv || x.shape.length === 0) throw new Error('PaperlabLayerNorm: needs float32 x, gamma, beta');
    const cols = x.shape[x.shape.length - 1]!;
    const rows = cols === 0 ? 0 : xv.length / cols;
    const y = allocF32(xv.length);
    const mean = allocF32(rows);
    const rstd = allocF32(rows);
    addon.layerNorm(xv, gv, bv, y, mean, rstd, rows, cols, Number(attr<number>(args, 'eps')));
    const statShape = [...x.shape.slice(0, -1), 1];
    return [
      backend.makeTensorInfo(x.shape.slice(), 'float32', y),
      backend.makeTensorInfo(statShape, 'float32', mean),
      backend.makeTensorInfo(statShape, 'float32', rstd),
    ];
  };
}

/** inputs {dy, x, gamma, mean, rstd} → [dx, dgamma, dbeta] (dgamma/dbeta shaped like gamma). */
export function layerNormGradKernel(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const gamma = input(args, 'gamma');
    const vals = ['dy', 'x', 'gamma', 'mean', 'rstd'].map((n) => f32(backend, input(args, n)));
    if (!x || !gamma || vals.some((v) => !v)) throw new Error('PaperlabLayerNormGrad: needs float32 inputs');
    const [dy, xv, gv, mv, rv] = vals as Float32Array[];
    const cols = x.shape[x.shape.length - 1]!;
    const rows = cols === 0 ? 0 : xv!.length / cols;
    const dx = allocF32(xv!.length);
    const dg = allocF32(cols);
    const db = allocF32(cols);
    addon.layerNormGrad(dy!, xv!, gv!, mv!, rv!, dx, dg, db, rows, cols);
    return [
      backend.makeTensorInfo(x.shape.slice(), 'float32', dx),
      backend.makeTensorInfo(gamma.shape.slice(), 'float32', dg),
      backend.makeTensorInfo(gamma.shape.slice(), 'float32', db),
    ];
  };
}

export function geluKernel(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = f32(backend, x);
    if (!x || !xv) throw new Error('PaperlabGelu: needs a float32 x');
    const out = allocF32(xv.length);
    addon.unary(UN.Gelu, xv, out, 0);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  };
}

export function geluGradKernel(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = f32(backend, x);
    const dyv = f32(backend, input(args, 'dy'));
    if (!x || !xv || !dyv) throw new Error('PaperlabGeluGrad: needs float32 dy and x');
    const out = allocF32(xv.length);
    addon.geluGrad(dyv, xv, out);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  };
}

/** inputs {dy, y} (y = softmax over the last axis) → dx = y ⊙ (dy − Σ dy·y). */
export function softmaxGradKernel(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const y = input(args, 'y');
    const dyv = f32(backend, input(args, 'dy'));
    const yv = f32(backend, y);
    if (!y || !dyv || !yv || dyv.length !== yv.length || y.shape.length === 0) throw new Error('PaperlabSoftmaxGrad: needs float32 dy and y of one shape');
    const cols = y.shape[y.shape.length - 1]!;
    const out = allocF32(yv.length);
    addon.softmaxGrad(dyv, yv, out, cols === 0 ? 0 : yv.length / cols, cols);
    return backend.makeTensorInfo(y.shape.slice(), 'float32', out);
  };
}

function attnDims(q: TensorInfo | undefined): [number, number, number] | null {
  if (!q || q.shape.length !== 3) return null;
  return [q.shape[0]!, q.shape[1]!, q.shape[2]!];
}

/** inputs {q, k, v} ([N, T, D]), attrs {scale} → [y [N, T, D], p [N, T, T]] (causal softmax attention). */
export function attentionKernel(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const q = input(args, 'q');
    const dims = attnDims(q);
    const vals = ['q', 'k', 'v'].map((n) => f32(backend, input(args, n)));
    if (!dims || vals.some((v) => !v || v.length !== vals[0]!.length)) throw new Error('PaperlabCausalAttention: needs float32 q, k, v of one shape [N, T, D]');
    const [N, T, D] = dims;
    const y = allocF32(N * T * D);
    const p = allocF32(N * T * T);
    addon.attention(vals[0]!, vals[1]!, vals[2]!, y, p, N, T, D, Number(attr<number>(args, 'scale')));
    return [backend.makeTensorInfo([N, T, D], 'float32', y), backend.makeTensorInfo([N, T, T], 'float32', p)];
  };
}

/** inputs {dy, q, k, v, p}, attrs {scale} → [dq, dk, dv]. */
export function attentionGradKernel(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const q = input(args, 'q');
    const dims = attnDims(q);
    const vals = ['dy', 'q', 'k', 'v', 'p'].map((n) => f32(backend, input(args, n)));
    if (!dims || vals.some((v) => !v)) throw new Error('PaperlabCausalAttentionGrad: needs float32 inputs');
    const [N, T, D] = dims;
    const outs = [0, 1, 2].map(() => allocF32(N * T * D));
    addon.attentionGrad(vals[0]!, vals[1]!, vals[2]!, vals[3]!, vals[4]!, outs[0]!, outs[1]!, outs[2]!, N, T, D, Number(attr<number>(args, 'scale')));
    return outs.map((o) => backend.makeTensorInfo([N, T, D], 'float32', o));
  };
}

/** inputs {p, m, v, g}, attrs {beta1, beta2, eps, stepSize, bc2, decay} → [p', m', v'] (see ops.adamUpdate). */
export function adamKernel(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const p = input(args, 'p');
    const vals = ['p', 'm', 'v', 'g'].map((n) => f32(backend, input(args, n)));
    if (!p || vals.some((v) => !v || v.length !== vals[0]!.length)) throw new Error('PaperlabAdam: needs float32 p, m, v, g of one size');
    const [pv, mv, vv, gv] = vals as Float32Array[];
    const n = pv!.length;
    const po = allocF32(n);
    const mo = allocF32(n);
    const vo = allocF32(n);
    const num = (k: string): number => Number(attr<number>(args, k));
    addon.adam(pv!, mv!, vv!, gv!, po, mo, vo, num('beta1'), num('beta2'), num('eps'), num('stepSize'), num('bc2'), num('decay'));
    return [po, mo, vo].map((o) => backend.makeTensorInfo(p.shape.slice(), 'float32', o));
  };
}

export const BINARY_KERNELS: Array<[string, number]> = [
  ['Add', BIN.Add], ['Sub', BIN.Sub], ['Multiply', BIN.Multiply], ['RealDiv', BIN.RealDiv], ['Maximum', BIN.Maximum],
  ['Minimum', BIN.Minimum], ['SquaredDifference', BIN.SquaredDifference], ['Pow', BIN.Pow],
];

export const UNARY_KERNELS: Array<[string, number, string?, number?]> = [
  ['Exp', UN.Exp], ['Log', UN.Log], ['Tanh', UN.Tanh], ['Sigmoid', UN.Sigmoid], ['Relu', UN.Relu], ['Relu6', UN.Relu6],
  ['Sqrt', UN.Sqrt], ['Rsqrt', UN.Rsqrt], ['Square', UN.Square], ['Neg', UN.Neg], ['Abs', UN.Abs], ['Elu', UN.Elu],
  ['LeakyRelu', UN.LeakyRelu, 'alpha', 0.2], ['Reciprocal', UN.Reciprocal], ['Step', UN.Step, 'alpha', 0],
];
