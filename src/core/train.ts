/**
 * The training loop every paperlab trainer uses: a learning-rate schedule, gradient clipping,
 * periodic evaluation and checkpoints, progress output, and a stop with a clear error the moment a
 * loss turns NaN or Inf (naming the step, so the run can be resumed from the last checkpoint).
 */
import { tf, type Tensor } from './tf.js';
import { PaperlabError, checkInt } from './errors.js';
import { AdamW, clipByGlobalNorm } from './optim.js';
import { Progress } from './progress.js';
import type { Schedule } from './schedule.js';

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/**
 * One optimisation step: gradients of the scalar `lossFn` w.r.t. `vars`, optional global-norm clipping, an
 * AdamW update at learning rate `lr`. Returns the loss and the gradient norm before clipping.
 */
export function trainStep(
  lossFn: () => tf.Tensor,
  vars: Record<string, tf.Variable>,
  optimizer: AdamW,
  opts: { lr?: number; clipNorm?: number; step?: number } = {},
): StepResult {
  if (opts.lr !== undefined) optimizer.lr = opts.lr;
  const list = Object.values(vars);
  const { value, grads } = tf.variableGrads(() => {
    const l = lossFn();
    if (l.rank !== 0) throw new PaperlabError('lossFn', `must return a scalar, got shape [${l.shape.join(', ')}]`, 'reduce the loss with tf.mean or tf.sum');
    return l as tf.Scalar;
  }, list);
  const loss = value.dataSync()[0]!;
  value.dispose();
  if (!Number.isFinite(loss)) {
    tf.dispose(grads);
    throw new PaperlabError(
      'loss',
      `is ${loss} at step ${opts.step ?? '?'}`,
      'lower the learning rate, enable gradient clipping (clipNorm), check the inputs for NaN/Inf, then resume from the last checkpoint',
    );
  }
  // variableGrads keys by variable name; map back to the caller's keys.
  const byKey: Record<string, Tensor> = {};
  for (const [key, v] of Object.entries(vars)) {
    const g = grads[v.name];
    if (g) byKey[key] = g;
  }
  const { grads: clipped, norm } = clipByGlobalNorm(byKey, opts.clipNorm ?? 0);
  optimizer.apply(clipped, vars);
  tf.dispose(grads);
  if (clipped !== byKey) tf.dispose(Object.values(clipped));
  return { loss, gradNorm: norm };
}

export interface LoopOptions {
  /** Total number of steps of the run (not counting `startStep`). */
  steps: number;
  /** First step to run (after resuming from a checkpoint). Default 0. */
  startStep?: number;
  schedule?: Schedule;
  /** One step; returns the training loss. */
  step: (step: number, lr: number) => number | StepResult | Promise<number | StepResult>;
  evalEvery?: number;
  evaluate?: (step: number) => Record<string, number> | Promise<Record<string, number>>;
  checkpointEvery?: number;
  checkpoint?: (stepsDone: number) => Promise<void>;
  label?: string;
  quiet?: boolean;
  /** Extra numbers for the progress line, e.g. tokens/s. */
  extra?: (step: number, secs: number) => Record<string, number>;
}

export interface LoopHistory {
  losses: number[];
  evals: Array<{ step: number } & Record<string, number>>;
  seconds: number;
}

/** Runs steps `startStep..steps-1`; evaluation and checkpoints fire after completed steps. */
export async function runTraining(o: LoopOptions): Promise<LoopHistory> {
  checkInt(o.steps, 'steps', { min: 0 });
  const start = o.startStep ?? 0;
  checkInt(start, 'startStep', { min: 0, max: o.steps });
  const progress = new Progress(o.steps, { label: o.label, quiet: o.quiet });
  const t0 = Date.now();
  const history: LoopHistory = { losses: [], evals: [], seconds: 0 };
  for (let s = start; s < o.steps; s++) {
    const lr = o.schedule ? o.schedule(s) : Number.NaN;
    const r = await o.step(s, lr);
    const loss = typeof r === 'number' ? r : r.loss;
    if (!Number.isFinite(loss)) {
      throw new PaperlabError('loss', `is ${loss} at step ${s}`, 'lower the learning rate, enable gradient clipping, check the inputs for NaN/Inf, then resume from the last checkpoint');
    }
    history.losses.push(loss);
    const done = s + 1;
    const metrics: Record<string, number> = { loss };
    if (Number.isFinite(lr)) metrics.lr = lr;
    if (o.extra) Object.assign(metrics, o.extra(done, (Date.now() - t0) / 1000));
    if (o.evaluate && o.evalEvery && (done % o.evalEvery === 0 || done === o.steps)) {
      const ev = await o.evaluate(done);
      history.evals.push({ step: done, ...ev });
      progress.log(`${o.label ?? 'eval'} step ${done}: ${Object.entries(ev).map(([k, v]) => `${k} ${v.toFixed(4)}`).join('  ')}`);
    }
    if (o.checkpoint && o.checkpointEvery && (done % o.checkpointEvery === 0 || done === o.steps)) await o.checkpoint(done);
    progress.tick(done, metrics);
  }
  history.seconds = (Date.now() - t0) / 1000;
  return history;
}
