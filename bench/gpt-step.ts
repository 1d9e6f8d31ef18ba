/**
 * `paperlab bench gpt-step`: milliseconds of one training step (forward, backward, Adam) of a fixed
 * small GPT — 4 layers, d_model 128, 4 heads, context 128, batch 16, vocab 96, GELU, pre-LN — with the
 * active engine, after warm-up. The figure to compare with PyTorch's CPU build on the same machine.
 *
 * --profile adds the kernel time by kernel name (and the part of the step spent outside kernels).
 * For tfjs's own kernels run it with PAPERLAB_NATIVE=0 (about 30 s a step; --steps 2 --warmup 1):
 * the model then makes its fallback choices (one-hot embedding lookup), as a user without the
 * addon would get. cpuStepMs (process CPU time per step) helps on a shared machine: with
 * PAPERLAB_THREADS=1 it is the work of a step, unaffected by other processes' load.
 */
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { AdamW } from '../src/core/optim.js';
import { trainStep } from '../src/core/train.js';
import { engineInfo } from '../src/core/engine.js';
import { startKernelProfile, type KernelTime } from '../src/core/kernels/profile.js';
import { GPT } from '../src/gpt/model.js';
import { intOption } from '../src/cli/args.js';
import { median, randomLmBatch, type Benchmark } from './types.js';

export const GPT_STEP_SHAPE = { nLayer: 4, nEmbd: 128, nHead: 4, blockSize: 128, batchSize: 16, vocabSize: 96 } as const;

export interface GptStepResult {
  medianStepMs: number;
  minStepMs: number;
  /** Median process CPU time per step (all threads), ms. */
  cpuStepMs: number;
  steps: number;
  engine: { backend: string; native: boolean; kernels: number; threads: number; blas?: string; openblasCoretype?: string };
  shape: typeof GPT_STEP_SHAPE & { params: number; optimizer: string };
  /** Kernel time by name over the timed steps, per step (with --profile). */
  profile?: { kernelMsPerStep: number; outsideKernelsMsPerStep: number; kernels: Array<KernelTime & { msPerStep: number }> };
}

interface Runner {
  step(): { wall: number; cpu: number };
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
    step(): { wall: number; cpu: number } {
      const { x: xt, y: yt } = randomLmBatch(rng, B, T, V);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      trainStep(() => model.loss(xt, yt), model.variables, opt);
      const dt = performance.now() - t0;
      const c = process.cpuUsage(c0);
      tf.dispose([xt, yt]);
      return { wall: dt, cpu: (c.user + c.system) / 1000 };
    },
    dispose(): void {
      opt.dispose();
      model.dispose();
    },
  };
}

export const gptStepBench: Benchmark<GptStepResult> = {
  name: 'gpt-step',
  summary: 'ms per GPT training step (4×128, 4 heads, ctx 128, batch 16, vocab 96); --steps N --warmup N --profile',
  options: { steps: { type: 'string' }, warmup: { type: 'string' }, profile: { type: 'boolean' } },
  async run(values) {
    const steps = intOption(values.steps, 'steps', 10, 1);
    const warmup = intOption(values.warmup, 'warmup', 3, 0);
    const r = makeRunner(0);
    const ms: number[] = [];
    const cpu: number[] = [];
    let profile: GptStepResult['profile'];
    try {
      for (let s = 0; s < warmup; s++) r.step();
      const stop = values.profile ? startKernelProfile() : null;
      for (let s = 0; s < steps; s++) {
        const t = r.step();
        ms.push(t.wall);
        cpu.push(t.cpu);
      }
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
    const e = engineInfo();
    return {
      medianStepMs: round(median(ms)),
      minStepMs: round(Math.min(...ms)),
      cpuStepMs: round(median(cpu)),
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
    };
  },
  format(r) {
    const s = r.shape;
    const lines = [
      `gpt-step: ${s.nLayer} layers × ${s.nEmbd}, ${s.nHead} heads, context ${s.blockSize}, batch ${s.batchSize}, vocab ${s.vocabSize} (${s.params.toLocaleString('en')} parameters)`,
      `  engine ${r.engine.backend}${r.engine.native ? ` + ${r.engine.kernels} native kernels, ${r.engine.threads} threads` : ' (tfjs kernels)'}`,
      `  ${r.medianStepMs.toFixed(1)} ms/step median, ${r.minStepMs.toFixed(1)} min, over ${r.steps} steps (${r.cpuStepMs.toFixed(1)} ms of CPU per step)`,
    ];
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
