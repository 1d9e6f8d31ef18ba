/**
 * `paperlab bench gpt-train`: GPT training throughput (tokens/s) of a preset — forward, backward,
 * clipping and the AdamW update on random token batches, as `paperlab train gpt` runs them.
 */
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { AdamW } from '../src/core/optim.js';
import { trainStep } from '../src/core/train.js';
import { engineInfo } from '../src/core/engine.js';
import { trainingFlops } from '../src/gpt/compute.js';
import { GPT } from '../src/gpt/model.js';
import { GPT_PRESETS, GPT_PRESET_NAMES, type GPTPresetName } from '../src/gpt/trainer.js';
import { UsageError, intOption, strOption } from '../src/cli/args.js';
import { median, randomLmBatch, type Benchmark } from './types.js';

export interface GptTrainBench {
  preset: GPTPresetName;
  backend: string;
  native: boolean;
  params: number;
  vocabSize: number;
  batchSize: number;
  blockSize: number;
  steps: number;
  msPerStep: number[];
  medianMsPerStep: number;
  tokensPerSec: number;
  /** Model FLOPs per second: 6·N per token plus attention's 12·L·C·T (PaLM's accounting). */
  gflopsPerSec: number;
}

export const gptTrain: Benchmark<GptTrainBench> = {
  name: 'gpt-train',
  summary: 'GPT training tokens/s (small preset by default; --preset tiny|small --steps N --batch-size N)',
  options: { preset: { type: 'string' }, steps: { type: 'string' }, 'batch-size': { type: 'string' } },
  async run(values) {
    const preset = strOption(values.preset, 'small');
    if (!(GPT_PRESET_NAMES as readonly string[]).includes(preset)) throw new UsageError(`--preset must be one of ${GPT_PRESET_NAMES.join(', ')}, got '${preset}'`);
    const p = GPT_PRESETS[preset as GPTPresetName];
    const steps = intOption(values.steps, 'steps', 3, 1);
    const B = intOption(values['batch-size'], 'batch-size', p.batchSize, 1);
    // The char preset's vocabulary is the Brown corpus's 85 characters; BPE presets fix theirs.
    const V = p.tokenizer === 'char' ? 85 : p.vocabSize;
    const rng = new Rng(0);
    const model = new GPT({ ...p.model, vocabSize: V }, rng);
    model.training = true;
    const T = model.config.blockSize;
    const opt = new AdamW({ lr: p.lr, beta1: p.beta1, beta2: p.beta2, weightDecay: p.weightDecay });
    const ms: number[] = [];
    try {
      for (let s = 0; s <= steps; s++) {
        const { x: xt, y: yt } = randomLmBatch(rng, B, T, V);
        const t0 = performance.now();
        trainStep(() => model.loss(xt, yt), model.variables, opt, { lr: p.lr, clipNorm: p.clipNorm, step: s });
        const dt = performance.now() - t0;
        tf.dispose([xt, yt]);
        if (s > 0) ms.push(dt); // step 0 warms up (allocations, JIT)
      }
    } finally {
      opt.dispose();
    }
    const med = median(ms);
    const tokensPerSec = (B * T) / (med / 1000);
    const params = model.paramCount;
    const flopsPerToken = trainingFlops(params, 1, { attention: { layers: model.config.nLayer, dModel: model.config.nEmbd, context: T } });
    model.dispose();
    const e = engineInfo();
    return {
      preset: preset as GPTPresetName,
      backend: e?.backend ?? 'unknown',
      native: e?.native.active ?? false,
      params,
      vocabSize: V,
      batchSize: B,
      blockSize: T,
      steps,
      msPerStep: ms.map((x) => Number(x.toFixed(1))),
      medianMsPerStep: Number(med.toFixed(1)),
      tokensPerSec: Number(tokensPerSec.toFixed(1)),
      gflopsPerSec: Number(((flopsPerToken * tokensPerSec) / 1e9).toFixed(3)),
    };
  },
  format(r) {
    return (
      `gpt-train (${r.preset}: ${r.params.toLocaleString('en')} parameters, batch ${r.batchSize} × ${r.blockSize}, vocab ${r.vocabSize}) on ${r.backend}${r.native ? ' + native kernels' : ''}\n` +
      `  ${r.tokensPerSec.toFixed(0)} tokens/s, ${r.medianMsPerStep.toFixed(0)} ms/step (median of ${r.steps}), ${r.gflopsPerSec.toFixed(2)} GFLOP/s of model compute`
    );
  },
};
