/**
 * `paperlab bench kernels`: matmul GFLOP/s for n = 256…2048 — tf.matMul on the active engine (native
 * kernel), OpenBLAS sgemm called directly in the same process (with its own threads), and tfjs's
 * shipped cpu kernel — plus throughput (million elements/s) of the hot elementwise, softmax,
 * reduction and data-movement kernels, native against shipped. Measurements of the same n or op
 * are interleaved, so machine noise hits both sides alike; medians are reported.
 *
 * The shipped matmul runs at ~1 GFLOP/s, so it is timed with one repetition and skipped at n = 2048
 * (null) unless --full is given.
 */
import { tf, type Tensor } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { engineInfo } from '../src/core/engine.js';
import { loadAddon } from '../src/core/native.js';
import { activeAddon, registerNativeKernels, unregisterNativeKernels } from '../src/core/kernels/index.js';
import { gelu, layerNorm } from '../src/core/ops.js';
import { intOption } from '../src/cli/args.js';
import { median, type Benchmark } from './types.js';

export interface KernelsResult {
  matmul: Array<{
    n: number;
    /** tf.matMul with the native kernel as configured (paperlab's AVX-512 GEMM where available). */
    tfjsGflops: number;
    /** OpenBLAS cblas_sgemm called directly, with OpenBLAS's own threads. */
    blasGflops: number | null;
    /** tfjs's shipped cpu kernel. */
    shippedGflops: number | null;
    /** tf.matMul with the native kernel switched to OpenBLAS (PAPERLAB_GEMM=openblas). */
    tfjsOpenblasGflops?: number | null;
    gemm?: string;
  }>;
  ops: Array<{ op: string; elements: number; nativeMeps: number | null; shippedMeps: number | null }>;
  engine: { backend: string; native: boolean; threads: number; blas?: string; openblasCoretype?: string; openblasL2Size?: string };
  notes: string[];
}

/** Median seconds per call of f (after one warm-up call), over `reps` calls or at least `minSec`. */
function timeIt(f: () => void, reps: number, minSec = 0): number {
  f();
  const ts: number[] = [];
  const start = performance.now();
  for (let i = 0; i < reps || (performance.now() - start) / 1000 < minSec; i++) {
    const t0 = performance.now();
    f();
    ts.push((performance.now() - t0) / 1000);
    if (ts.length >= 1000) break;
  }
  return median(ts);
}

/** Runs f with tfjs's shipped kernels, then puts the native ones back. */
function shipped<T>(f: () => T): T {
  const on = activeAddon() !== null;
  if (on) unregisterNativeKernels();
  try {
    return f();
  } finally {
    if (on) registerNativeKernels(loadAddon().addon);
  }
}

/** Lets idle worker threads (ours and OpenBLAS's) go to sleep between timed blocks. */
function pause(ms = 250): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function round(x: number | null, digits = 1): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

interface OpCase {
  op: string;
  elements: number;
  make(rng: Rng): Tensor[];
  run(t: Tensor[]): Tensor | Tensor[];
}

function randn(rng: Rng, shape: number[]): Tensor {
  return tf.tensor(rng.uniformArray(shape.reduce((a, b) => a * b, 1), -2, 2), shape, 'float32');
}

const M = 1 << 20; // one million elements
const OPS: OpCase[] = [
  { op: 'add [1024,1024]+[1024,1024]', elements: M, make: (r) => [randn(r, [1024, 1024]), randn(r, [1024, 1024])], run: ([a, b]) => tf.add(a!, b!) },
  { op: 'add row broadcast +[1024]', elements: M, make: (r) => [randn(r, [1024, 1024]), randn(r, [1024])], run: ([a, b]) => tf.add(a!, b!) },
  { op: 'mul column broadcast ×[1024,1]', elements: M, make: (r) => [randn(r, [1024, 1024]), randn(r, [1024, 1])], run: ([a, b]) => tf.mul(a!, b!) },
  { op: 'add mask [64,128,128]+[128,128]', elements: M, make: (r) => [randn(r, [64, 128, 128]), randn(r, [128, 128])], run: ([a, b]) => tf.add(a!, b!) },
  { op: 'exp', elements: M, make: (r) => [randn(r, [M])], run: ([a]) => tf.exp(a!) },
  { op: 'tanh', elements: M, make: (r) => [randn(r, [M])], run: ([a]) => tf.tanh(a!) },
  { op: 'sigmoid', elements: M, make: (r) => [randn(r, [M])], run: ([a]) => tf.sigmoid(a!) },
  { op: 'relu', elements: M, make: (r) => [randn(r, [M])], run: ([a]) => tf.relu(a!) },
  { op: 'gelu (paperlab op)', elements: M, make: (r) => [randn(r, [M])], run: ([a]) => gelu(a!) },
  { op: 'layerNorm [8192,128] (paperlab op)', elements: M, make: (r) => [randn(r, [8192, 128]), randn(r, [128]), randn(r, [128])], run: ([x, g, b]) => layerNorm(x!, g!, b!) },
  { op: 'softmax [8192,128]', elements: M, make: (r) => [randn(r, [8192, 128])], run: ([a]) => tf.softmax(a!) },
  { op: 'sum axis 0 [8192,128] (bias grad)', elements: M, make: (r) => [randn(r, [8192, 128])], run: ([a]) => tf.sum(a!, 0) },
  { op: 'sum last axis [8192,128]', elements: M, make: (r) => [randn(r, [8192, 128])], run: ([a]) => tf.sum(a!, -1) },
  { op: 'max last axis [8192,128]', elements: M, make: (r) => [randn(r, [8192, 128])], run: ([a]) => tf.max(a!, -1) },
  { op: 'transpose [1024,1024] 1,0', elements: M, make: (r) => [randn(r, [1024, 1024])], run: ([a]) => tf.transpose(a!, [1, 0]) },
  { op: 'transpose [16,128,4,128] 0,2,1,3', elements: M, make: (r) => [randn(r, [16, 128, 4, 128])], run: ([a]) => tf.transpose(a!, [0, 2, 1, 3]) },
  { op: 'split last axis [2048,3·128] in 3', elements: 3 * 2048 * 128, make: (r) => [randn(r, [2048, 384])], run: ([a]) => tf.split(a!, 3, 1) },
  { op: 'concat last axis 3×[2048,128]', elements: 3 * 2048 * 128, make: (r) => [randn(r, [2048, 128]), randn(r, [2048, 128]), randn(r, [2048, 128])], run: (ts) => tf.concat(ts, 1) },
  { op: 'gather 2048 rows of [96,128]', elements: 2048 * 128, make: (r) => [randn(r, [96, 128]), tf.tensor1d(Int32Array.from({ length: 2048 }, () => r.int(96)), 'int32')], run: ([e, i]) => tf.gather(e!, i!) },
  { op: 'unsortedSegmentSum [2048,128] → 96', elements: 2048 * 128, make: (r) => [randn(r, [2048, 128]), tf.tensor1d(Int32Array.from({ length: 2048 }, () => r.int(96)), 'int32')], run: ([x, i]) => tf.unsortedSegmentSum(x!, i! as tf.Tensor1D, 96) },
];

export const kernelsBench: Benchmark<KernelsResult> = {
  name: 'kernels',
  summary: 'matmul GFLOP/s (tfjs native vs direct sgemm vs shipped) and op throughput; --full also times shipped matmul at 2048',
  options: { full: { type: 'boolean' }, reps: { type: 'string' } },
  async run(values) {
    const reps = intOption(values.reps, 'reps', 7, 1);
    const full = Boolean(values.full);
    const addon = activeAddon();
    const threads = addon?.numThreads() ?? 1;
    const notes: string[] = [];
    const rng = new Rng(0);
    const matmul: KernelsResult['matmul'] = [];
    for (const n of [256, 512, 1024, 2048]) {
      const flop = 2 * n * n * n;
      const a = randn(rng, [n, n]);
      const b = randn(rng, [n, n]);
      const av = a.dataSync() as Float32Array;
      const bv = b.dataSync() as Float32Array;
      const c = new Float32Array(n * n);
      const k = n <= 512 ? 3 * reps : reps;
      const tTf: number[] = [];
      const tBlas: number[] = [];
      const tTfBlas: number[] = [];
      const gemm = addon?.gemmKernel() ?? 'tfjs';
      const tfOnce = (): void => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D).dispose();
      const blasOnce = (): void => addon?.sgemmDirect(av, bv, c, n, n, n, false, false, threads);
      // Blocks of repetitions, alternated over three rounds, with a pause between blocks: idle
      // threads of one pool (OpenBLAS's spin for ~0.1 s) would otherwise steal the cores of the other.
      for (let round = 0; round < 3; round++) {
        tTf.push(timeIt(tfOnce, k));
        await pause();
        if (addon) {
          tBlas.push(timeIt(blasOnce, k));
          await pause();
          if (gemm !== 'openblas') {
            addon.gemmKernel('openblas');
            tTfBlas.push(timeIt(tfOnce, k));
            addon.gemmKernel(gemm as 'avx512');
            await pause();
          }
        }
      }
      let shippedGflops: number | null = null;
      if (n <= 1024 || full) {
        const t = shipped(() => timeIt(tfOnce, n <= 256 ? 3 : 1));
        shippedGflops = flop / t / 1e9;
      }
      matmul.push({
        n,
        tfjsGflops: round(flop / median(tTf) / 1e9)!,
        blasGflops: addon ? round(flop / median(tBlas) / 1e9) : null,
        shippedGflops: round(shippedGflops, 2),
        ...(tTfBlas.length ? { tfjsOpenblasGflops: round(flop / median(tTfBlas) / 1e9) } : {}),
        gemm,
      });
      tf.dispose([a, b]);
    }
    if (!full) notes.push('shippedGflops at n = 2048 skipped (about 20 s at ~1 GFLOP/s); pass --full to time it');
    if (!addon) notes.push('native kernels not active: tfjsGflops is the shipped kernel and blasGflops is null');

    const ops: KernelsResult['ops'] = [];
    for (const c of OPS) {
      const ins = c.make(rng);
      const once = (): void => {
        const out = c.run(ins);
        tf.dispose(out);
      };
      const tn: number[] = [];
      const ts: number[] = [];
      for (let i = 0; i < 3; i++) {
        tn.push(timeIt(once, reps, 0.05));
        ts.push(shipped(() => timeIt(once, 1)));
      }
      ops.push({ op: c.op, elements: c.elements, nativeMeps: addon ? round(c.elements / median(tn) / 1e6) : null, shippedMeps: round(c.elements / median(ts) / 1e6) });
      tf.dispose(ins);
    }
    const e = engineInfo();
    return {
      matmul,
      ops,
      engine: {
        backend: e?.backend ?? tf.getBackend(),
        native: e?.native.active ?? false,
        threads,
        ...(e?.native.blas ? { blas: e.native.blas } : {}),
        ...(process.env.OPENBLAS_CORETYPE ? { openblasCoretype: process.env.OPENBLAS_CORETYPE } : {}),
        ...(process.env.OPENBLAS_L2_SIZE ? { openblasL2Size: process.env.OPENBLAS_L2_SIZE } : {}),
      },
      notes,
    };
  },
  format(r) {
    const f = (x: number | null, w = 9): string => (x === null ? '—' : x.toFixed(1)).padStart(w);
    const lines = [
      `kernels on ${r.engine.backend}${r.engine.native ? ` + native (${r.engine.threads} threads)` : ' (tfjs kernels)'}${r.engine.openblasCoretype ? `, OPENBLAS_CORETYPE=${r.engine.openblasCoretype}` : ''}`,
      `  matmul GFLOP/s        n   tf.matMul (${r.matmul[0]?.gemm ?? '?'})  sgemm(direct)  shipped  tfjs/sgemm  tf.matMul(openblas)`,
      ...r.matmul.map((m) => `  ${String(m.n).padStart(22)} ${f(m.tfjsGflops, 11)} ${f(m.blasGflops, 22)} ${f(m.shippedGflops, 8)} ${m.blasGflops ? `${((100 * m.tfjsGflops) / m.blasGflops).toFixed(0)} %`.padStart(11) : ''.padStart(11)} ${m.tfjsOpenblasGflops != null && m.blasGflops ? `${f(m.tfjsOpenblasGflops, 9)} (${((100 * m.tfjsOpenblasGflops) / m.blasGflops).toFixed(0)} %)` : ''}`),
      '  op (million elements/s)                      native   shipped   speed-up',
      ...r.ops.map((o) => `  ${o.op.padEnd(42)} ${f(o.nativeMeps)} ${f(o.shippedMeps)} ${o.nativeMeps && o.shippedMeps ? `${(o.nativeMeps / o.shippedMeps).toFixed(0)}×`.padStart(10) : ''}`),
      ...r.notes.map((n) => `  note: ${n}`),
    ];
    return lines.join('\n');
  },
};
