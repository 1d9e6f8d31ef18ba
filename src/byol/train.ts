/**
 * The BYOL / SimSiam training loop: two augmented views per image, one AdamW step on the online
 * network, then the target's EMA step with τ_k; the collapse monitor runs every `monitorEvery`
 * steps. Same budget conventions as src/contrastive/train.ts (steps, batch, lr, warm-up + cosine).
 */
import { tf } from '../core/tf.js';
import { checkInt } from '../core/errors.js';
import { AdamW } from '../core/optim.js';
import { trainStep, type LoopHistory } from '../core/train.js';
import { openResume, resumableRun } from '../core/resume.js';
import { prefixed } from '../contrastive/nn.js';
import { warmupCosine } from '../core/schedule.js';
import { twoViews } from '../data/augment.js';
import { BatchSampler, samplerState, takeRows, type TrainBudget } from '../contrastive/index.js';
import type { BYOL } from './byol.js';
import type { CollapseMonitor, CollapseStats } from './monitor.js';

export interface ByolTrainOptions extends TrainBudget {
  monitor?: CollapseMonitor;
  /** Measure collapse every this many steps (and after the last). Default: 10 times per run. */
  monitorEvery?: number;
}

export interface ByolHistory extends LoopHistory {
  /** τ used for the target update after each step (empty in SimSiam mode). */
  taus: number[];
  monitor: CollapseStats[];
}

/** Trains `model` in place on `images` ([N, H, W, C] in [0, 1]); labels are never used. */
export async function trainByol(model: BYOL, images: tf.Tensor4D, o: ByolTrainOptions): Promise<ByolHistory> {
  const n = model.online.encoder.checkImages(images, 'images');
  checkInt(o.steps, 'steps', { min: 1 });
  const batchSize = o.batchSize ?? 128;
  checkInt(batchSize, 'batchSize', { min: 2, max: n });
  const lr = o.lr ?? 1e-3;
  const vars = model.variables();
  const opt = new AdamW({ lr, weightDecay: o.weightDecay ?? 1e-4 });
  const sampler = new BatchSampler(n, batchSize, o.rng);
  const taus: number[] = [];
  const monitorEvery = o.monitorEvery ?? Math.max(1, Math.round(o.steps / 10));
  // What training changes besides the online weights: batch-norm statistics and the EMA target.
  const buffers = {
    ...prefixed('online/encoder', model.online.encoder.buffers()),
    ...prefixed('online/projector', model.online.projector.buffers()),
    ...(model.online.predictor ? prefixed('online/predictor', model.online.predictor.buffers()) : {}),
    ...(model.target
      ? {
          ...prefixed('target', model.targetVariables()),
          ...prefixed('target/encoder', model.target.encoder.buffers()),
          ...prefixed('target/projector', model.target.projector.buffers()),
        }
      : {}),
  };
  const ck = await openResume(
    'paperlab-train-byol',
    o,
    o.steps,
    JSON.parse(JSON.stringify({ mode: model.config.mode, steps: o.steps, batchSize, lr, weightDecay: o.weightDecay ?? 1e-4, augment: o.augment ?? null, n, monitorEvery: o.monitor ? monitorEvery : null })),
    { variables: vars, buffers, optimizer: opt, rng: o.rng, extra: samplerState(sampler) },
  ).catch((e: unknown) => {
    opt.dispose();
    throw e;
  });
  if (ck.meta !== undefined) {
    const m = ck.meta as unknown as { taus: number[]; monitor: CollapseStats[] };
    taus.push(...m.taus);
    // The monitor's history up to the checkpoint (JSON wrote NaN as null).
    if (o.monitor) o.monitor.history.push(...m.monitor.map((st) => ({ ...st, knnAccuracy: st.knnAccuracy ?? undefined })));
  } else if (o.monitor) o.monitor.measure(model, 0);
  try {
    const history = await resumableRun(
      ck,
      {
      schedule: warmupCosine({ lr, warmupSteps: Math.round(0.05 * o.steps), totalSteps: o.steps }),
      label: o.label ?? model.config.mode,
      quiet: o.quiet,
      evalEvery: o.monitor ? monitorEvery : o.evalEvery,
      evaluate: o.monitor
        ? (step) => {
            const s = o.monitor!.measure(model, step);
            return { projStd: s.projectionStd, repStd: s.representationStd, knn: s.knnAccuracy ?? Number.NaN };
          }
        : o.evaluate,
      step: (s, stepLr) => {
        const batch = takeRows(images, sampler.next());
        const [v1, v2] = twoViews(batch, o.rng, o.augment);
        const r = trainStep(() => model.loss(v1, v2, true), vars, opt, { lr: stepLr, step: s });
        tf.dispose([batch, v1, v2]);
        if (model.target) {
          const tau = model.tau(s + 1, o.steps);
          model.updateTarget(tau);
          taus.push(tau);
        }
        return r;
      },
      },
      () => ({ taus: taus.slice(), monitor: JSON.parse(JSON.stringify(o.monitor ? o.monitor.history : [])) }),
    );
    return { ...history, taus, monitor: o.monitor ? o.monitor.history.slice() : [] };
  } finally {
    opt.dispose();
  }
}
