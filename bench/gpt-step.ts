/**
 * `paperlab bench gpt-step`: milliseconds of one training step (forward, backward, Adam) of a fixed
 * small GPT — 4 layers, d_model 128, 4 heads, context 128, batch 16, vocab 96, GELU, pre-LN — with the
 * active engine, after warm-up. The figure to compare with PyTorch's CPU build on the same machine.
 *
 * --profile adds the kernel time by kernel name (and the part of the step spent outside kernels);
 * --shipped also times tfjs's own kernels in the same process (about 30 s a step).
 */
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { AdamW } from '../src/core/optim.js';
import { trainStep } from '../src/core/train.js';
import { engineInfo } from '../src/core/engine.js';
import { loadAddon } from '../src/core/native.js';
import { activeAddon, registerNativeKernels, unregisterNativeKernels } from '../src/core/kernels/index.js';
import { startKernelProfile, type KernelTime } from '../src/core/kernels/profile.js';
import { GPT } from '../src/gpt/model.js';
import { intOption } from '../src/cli/args.js';
import { median, type Benchmark } from './types.js';

export const GPT_STEP_SHAPE = { nLayer: 4, nEmbd: 128, nHead: 4, blockSize: 128, batchSize: 16, vocabSize: 96 } as const;

export interface GptStepResult {
  medianStepMs: number;
  minStepMs: number;
  steps: number;
  engine: { backend: string; native: boolean; kernels: number; threads: number; blas?: string; openblasCoretype?: string };
  shape: typeof GPT_STEP_SHAPE & { params: number; optimizer: string };
  /** Kernel time by name over the timed steps, per step (with --profile). */
  profile?: { kernelMsPerStep: number; outsideKernelsMsPerStep: number; kernels: Array<KernelTime & { msPerStep: number }> };
  /** The same step on tfjs's shipped kernels (with --shipped). */
  shipped?: { medianStepMs: number; steps: number };
}

interface Runner {
  step(): number;
  dispose(): void;
  params: number;
}

function makeRunner(seed: number): Runner {
  const { nLayer, nEmbd, nHead, blockSize: T, batchSize: B, vocabSize: V } = GPT_STEP_SHAPE;
  const rng = new Rng(seed);
  const model = new GPT({ vocabSize: V, blockSize: T, nLayer, nHead, nEmbd, dropout: 0, bias: true }, rng);
  const opt = new AdamW({ lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0 });
  return {
    params: model.paramCount,
    step(): number {
      const ids = Int32Array.from({ length: B * (T + 1) }, () => rng.int(V));
      const x = new Int32Array(B * T);
      const y = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        x.set(ids.subarray(b * (T + 1), b * (T + 1) + T), b * T);
        y.set(ids.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
      }
      const xt = tf.tensor2d(x, [B, T], 'int32');
      const yt = tf.tensor2d(y, [B, T], 'int32');
      const t0 = performance.now();
      trainStep(() => model.loss(xt, yt), model.variables, opt);
      const dt = performance.now() - t0;
      tf.dispose([xt, yt]);
      return dt;
    },
    dispose(): void {
      opt.dispose();
      model.dispose();
    },
  };
}

export const gptStepBench: Benchmark<GptStepResult> = {
  name: 'gpt-step',
  summary: 'ms per GPT training step (4×128, 4 heads, ctx 128, batch 16, vocab 96); --steps N --warmup N --profile --shipped',
  options: { steps: { type: 'string' }, warmup: { type: 'string' }, profile: { type: 'boolean' }, shipped: { type: 'boolean' } },
  async run(values) {
    const steps = intOption(values.steps, 'steps', 10, 1);
    const warmup = intOption(values.warmup, 'warmup', 3, 0);
    const r = makeRunner(0);
    const ms: number[] = [];
    let profile: GptStepResult['profile'];
    try {
      for (let s = 0; s < warmup; s++) r.step();
      const stop = values.profile ? startKernelProfile() : null;
      for (let s = 0; s < steps; s++) ms.push(r.step());
      if (stop) {
        const kernels = stop();
        const total = kernels.reduce((a, k) => a + k.ms, 0) / steps;
        const stepMean = ms.reduce((a, b) => a + b, 0) / steps;
        profile = {
          kernelMsPerStep: round(total),
          outsideKernelsMsPerStep: round(stepMean - total),
          kernels: kernels.map((k) => ({ kernel: k.kernel, calls: k.calls / steps, ms: round(k.ms), msPerStep: round(k.ms / steps) })),
        };
      }
    } finally {
      r.dispose();
    }
    let shipped: GptStepResult['shipped'];
    if (values.shipped) {
      const nativeOn = activeAddon() !== null;
      if (nativeOn) unregisterNativeKernels();
      const s = makeRunner(0);
      try {
        s.step(); // warm-up
        const sm = [s.step()];
        shipped = { medianStepMs: round(median(sm)), steps: sm.length };
      } finally {
        s.dispose();
        if (nativeOn) registerNativeKernels(loadAddon().addon);
      }
    }
    const e = engineInfo();
    return {
      medianStepMs: round(median(ms)),
      minStepMs: round(Math.min(...ms)),
      steps,
      engine: {
        backend: e?.backend ?? tf.getBackend(),
        native: e?.native.active ?? false,
        kernels: e?.native.kernels.length ?? 0,
        threads: e?.threads ?? 1,
        ...(e?.native.blas ? { blas: e.native.blas } : {}),
        ...(process.env.OPENBLAS_CORETYPE ? { openblasCoretype: process.env.OPENBLAS_CORETYPE } : {}),
      },
      shape: { ...GPT_STEP_SHAPE, params: r.params, optimizer: 'AdamW (weight decay 0 = Adam), lr 1e-3' },
      ...(profile ? { profile } : {}),
      ...(shipped ? { shipped } : {}),
    };
  },
  format(r) {
    const s = r.shape;
    const lines = [
      `gpt-step: ${s.nLayer} layers × ${s.nEmbd}, ${s.nHead} heads, context ${s.blockSize}, batch ${s.batchSize}, vocab ${s.vocabSize} (${s.params.toLocaleString('en')} parameters)`,
      `  engine ${r.engine.backend}${r.engine.native ? ` + ${r.engine.kernels} native kernels, ${r.engine.threads} threads` : ' (tfjs kernels)'}`,
      `  ${r.medianStepMs.toFixed(1)} ms/step median, ${r.minStepMs.toFixed(1)} min, over ${r.steps} steps`,
    ];
    if (r.shipped) lines.push(`  tfjs shipped kernels: ${r.shipped.medianStepMs.toFixed(0)} ms/step (${(r.shipped.medianStepMs / r.medianStepMs).toFixed(0)}× slower)`);
    if (r.profile) {
      lines.push(`  per step: ${r.profile.kernelMsPerStep.toFixed(1)} ms in kernels, ${r.profile.outsideKernelsMsPerStep.toFixed(1)} ms outside (tfjs engine, autodiff, JS)`);
      for (const k of r.profile.kernels.slice(0, 20)) lines.push(`    ${k.kernel.padEnd(26)} ${k.msPerStep.toFixed(2).padStart(8)} ms  ${String(k.calls).padStart(6)} calls`);
    }
    return lines.join('\n');
  },
};

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
