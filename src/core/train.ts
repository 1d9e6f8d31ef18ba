/**
 * The training loop every paperlab trainer uses: a learning-rate schedule, gradient clipping,
 * periodic evaluation and checkpoints, progress output, and a stop with a clear error the moment a
 * loss turns NaN or Inf (naming the step, so the run can be resumed from the last checkpoint).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { tf, type Tensor } from './tf.js';
import { PaperlabError, checkInt, checkNumber } from './errors.js';
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
 *
 * With `accumulate: k` (nanoGPT's gradient_accumulation_steps) `lossFn(micro)` is called for
 * micro = 0..k-1, each on its own micro-batch; the gradients are averaged before clipping and the
 * single update, so k micro-batches of B rows equal one batch of k·B rows for a mean loss, at the
 * memory of B rows. The returned loss is the mean over the micro-batches.
 */
export function trainStep(
  lossFn: (micro: number) => tf.Tensor,
  vars: Record<string, tf.Variable>,
  optimizer: AdamW,
  opts: { lr?: number; clipNorm?: number; step?: number; accumulate?: number } = {},
): StepResult {
  const k = opts.accumulate ?? 1;
  checkInt(k, 'accumulate', { min: 1 });
  if (opts.lr !== undefined) optimizer.lr = opts.lr;
  const list = Object.values(vars);
  // variableGrads keys by variable name; map back to the caller's keys.
  let byKey: Record<string, Tensor> = {};
  let lossSum = 0;
  for (let micro = 0; micro < k; micro++) {
    const { value, grads } = tf.variableGrads(() => {
      const l = lossFn(micro);
      if (l.rank !== 0) throw new PaperlabError('lossFn', `must return a scalar, got shape [${l.shape.join(', ')}]`, 'reduce the loss with tf.mean or tf.sum');
      return l as tf.Scalar;
    }, list);
    const loss = value.dataSync()[0]!;
    value.dispose();
    if (!Number.isFinite(loss)) {
      tf.dispose(grads);
      tf.dispose(Object.values(byKey));
      throw new PaperlabError(
        'loss',
        `is ${loss} at step ${opts.step ?? '?'}${k > 1 ? ` (micro-batch ${micro} of ${k})` : ''}`,
        'lower the learning rate, enable gradient clipping (clipNorm), check the inputs for NaN/Inf, then resume from the last checkpoint',
      );
    }
    lossSum += loss;
    if (micro === 0) {
      for (const [key, v] of Object.entries(vars)) {
        const g = grads[v.name];
        if (g) byKey[key] = g;
      }
    } else {
      const next: Record<string, Tensor> = {};
      for (const [key, v] of Object.entries(vars)) {
        const g = grads[v.name];
        const acc = byKey[key];
        if (g && acc) next[key] = tf.add(acc, g);
        else if (g ?? acc) next[key] = tf.clone((g ?? acc)!);
      }
      tf.dispose(Object.values(byKey));
      tf.dispose(grads);
      byKey = next;
    }
  }
  if (k > 1) {
    const mean: Record<string, Tensor> = {};
    for (const [key, g] of Object.entries(byKey)) mean[key] = tf.div(g, k);
    tf.dispose(Object.values(byKey));
    byKey = mean;
  }
  const { grads: clipped, norm } = clipByGlobalNorm(byKey, opts.clipNorm ?? 0);
  optimizer.apply(clipped, vars);
  tf.dispose(Object.values(byKey));
  if (clipped !== byKey) tf.dispose(Object.values(clipped));
  return { loss: lossSum / k, gradNorm: norm };
}

export interface LoopOptions {
  /** Total number of steps of the run (not counting `startStep`). */
  steps: number;
  /** First step to run (after resuming from a checkpoint). Default 0. */
  startStep?: number;
  /**
   * The run's full length when this call stops early at `steps` (to be resumed): the progress bar
   * and the final evaluation go by it, so a stopped-and-resumed run evaluates where an
   * uninterrupted one does. Default `steps`.
   */
  totalSteps?: number;
  schedule?: Schedule;
  /**
   * One step; returns the training loss. The third argument carries `accumulate` for the step to
   * pass on to trainStep (k micro-batches per optimizer update).
   */
  step: (step: number, lr: number, ctx: { accumulate: number }) => number | StepResult | Promise<number | StepResult>;
  /** Micro-batches per optimizer update (gradient accumulation), handed to `step`. Default 1. */
  accumulate?: number;
  /** Tokens (or examples) one step processes, all micro-batches together; gives tokens/s in the log. */
  tokensPerStep?: number;
  /**
   * A JSON-lines training log: one line per step, {"step", "loss", "lr", "tokens/s"} (plus the
   * evaluation's figures on the steps that evaluate). Appended to, so a resumed run continues it.
   */
  logFile?: string;
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
  const accumulate = o.accumulate ?? 1;
  checkInt(accumulate, 'accumulate', { min: 1 });
  if (o.tokensPerStep !== undefined) checkNumber(o.tokensPerStep, 'tokensPerStep', { min: 0 });
  const total = o.totalSteps ?? o.steps;
  checkInt(total, 'totalSteps', { min: o.steps });
  const progress = new Progress(total, { label: o.label, quiet: o.quiet });
  const t0 = Date.now();
  const history: LoopHistory = { losses: [], evals: [], seconds: 0 };
  const logFd = o.logFile ? openLog(o.logFile) : undefined;
  try {
  for (let s = start; s < o.steps; s++) {
    const lr = o.schedule ? o.schedule(s) : Number.NaN;
    const r = await o.step(s, lr, { accumulate });
    const loss = typeof r === 'number' ? r : r.loss;
    if (!Number.isFinite(loss)) {
      throw new PaperlabError('loss', `is ${loss} at step ${s}`, 'lower the learning rate, enable gradient clipping, check the inputs for NaN/Inf, then resume from the last checkpoint');
    }
    history.losses.push(loss);
    const done = s + 1;
    const metrics: Record<string, number> = { loss };
    if (Number.isFinite(lr)) metrics.lr = lr;
    const secs = (Date.now() - t0) / 1000;
    if (o.extra) Object.assign(metrics, o.extra(done, secs));
    const tokensPerSec = o.tokensPerStep !== undefined ? ((done - start) * o.tokensPerStep) / Math.max(secs, 1e-9) : undefined;
    let ev: Record<string, number> | undefined;
    if (o.evaluate && o.evalEvery && (done % o.evalEvery === 0 || done === total)) {
      ev = await o.evaluate(done);
      history.evals.push({ step: done, ...ev });
      progress.log(`${o.label ?? 'eval'} step ${done}: ${Object.entries(ev).map(([k, v]) => `${k} ${v.toFixed(4)}`).join('  ')}`);
    }
    if (logFd !== undefined) {
      const line: Record<string, number | null> = { step: done, loss, lr: Number.isFinite(lr) ? lr : null };
      if (tokensPerSec !== undefined) line['tokens/s'] = tokensPerSec;
      if (typeof r !== 'number') line.gradNorm = r.gradNorm;
      if (ev) for (const [k, v] of Object.entries(ev)) line[k] = Number.isFinite(v) ? v : null;
      writeSync(logFd, JSON.stringify(line) + '\n');
    }
    if (o.checkpoint && o.checkpointEvery && (done % o.checkpointEvery === 0 || done === o.steps)) await o.checkpoint(done);
    progress.tick(done, metrics);
  }
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  history.seconds = (Date.now() - t0) / 1000;
  return history;
}

function openLog(file: string): number {
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return openSync(file, 'a');
  } catch (e) {
    throw new PaperlabError('logFile', `cannot be opened for appending: ${file} (${(e as Error).message})`, 'pass a writable file path for the training log');
  }
}
