/**
 * Checkpoint and exact resume for trainers built on runTraining (the contrastive, cross-entropy,
 * probe and BYOL loops), the way the GPT trainer does it: the checkpoint holds the trainable
 * variables, the non-trainable buffers (batch-norm statistics, EMA targets), the optimizer's
 * moments, the RNG state, any sampler state and the history so far, so that stopping after k steps
 * and resuming gives the same numbers, bit for bit, as a run that never stopped.
 */
import path from 'node:path';
import { tf } from './tf.js';
import { PaperlabError, check, checkInt } from './errors.js';
import { assignGroup, hasCheckpoint, loadCheckpoint, saveCheckpoint, tensorsToGroup, type ArrayGroup, type JsonValue, type StoredArray } from './checkpoint.js';
import type { AdamW } from './optim.js';
import { runTraining, type LoopHistory, type LoopOptions } from './train.js';
import type { Rng } from './rng.js';

/** The options every resumable trainer takes. */
export interface CheckpointOptions {
  /** Directory to write checkpoints to (none written when absent). */
  checkpointDir?: string;
  /** Write a checkpoint every this many steps (and always after the last step run). Default: only at the end. */
  checkpointEvery?: number;
  /** Continue from the checkpoint in `checkpointDir` (an error when there is none). */
  resume?: boolean;
  /**
   * Stop after this many steps (checkpointing there) although the schedule runs to `steps`, as if
   * the run were killed; a later call with `resume: true` finishes it.
   */
  stopAfter?: number;
}

/** Everything about a trainer that changes while it runs. */
export interface TrainerState {
  variables: Record<string, tf.Variable>;
  /** Non-trainable state that training changes (batch-norm running statistics, a BYOL target). */
  buffers?: Record<string, tf.Variable>;
  optimizer: AdamW;
  rng: Rng;
  /** Extra int32/float32 state, e.g. a batch sampler's permutation and position. */
  extra?: { get(): ArrayGroup; set(group: ArrayGroup): void };
}

/** A trainer's view of its checkpoint: where to resume and how to save. */
export interface Resumer {
  /** First step to run (0 for a fresh run). */
  startStep: number;
  /** The step to stop after (`stopAfter` or `steps`). */
  endStep: number;
  /** The run's full length. */
  steps: number;
  /** Metadata saved with the checkpoint being resumed (the trainer's history), undefined when fresh. */
  meta: JsonValue | undefined;
  /** Saves a checkpoint after `done` steps with the trainer's history in `meta` (no-op without a directory). */
  save(done: number, meta: JsonValue): Promise<void>;
  /** checkpointEvery for runTraining (undefined without a directory). */
  every: number | undefined;
}

/**
 * Opens (or refuses) a checkpoint for trainer `kind`. `config` is what must match on resume (the
 * step count, batch size, …): resuming with other settings would not continue the same run.
 * On resume it restores `state` in place.
 */
export async function openResume(kind: string, o: CheckpointOptions, steps: number, config: JsonValue, state: TrainerState): Promise<Resumer> {
  const dir = o.checkpointDir ? path.resolve(o.checkpointDir) : undefined;
  if (o.checkpointEvery !== undefined) checkInt(o.checkpointEvery, 'checkpointEvery', { min: 1 });
  if (o.resume && !dir) throw new PaperlabError('resume', 'needs a checkpoint directory', 'pass checkpointDir, the directory of the run to resume');
  if (o.stopAfter !== undefined && !dir) throw new PaperlabError('stopAfter', 'would stop the run without a checkpoint to resume from', 'pass checkpointDir too');
  if (dir && !o.resume && hasCheckpoint(dir)) {
    throw new PaperlabError('checkpointDir', `${dir} already holds a checkpoint`, 'pass resume: true to continue it, or choose another directory');
  }
  if (o.resume && dir && !hasCheckpoint(dir)) throw new PaperlabError('resume', `${dir} holds no checkpoint`, 'start without resume, or pass the checkpointDir of an earlier run');
  let startStep = 0;
  let meta: JsonValue | undefined;
  if (o.resume && dir) {
    const ck = await loadCheckpoint(dir);
    const m = ck.meta as { kind?: string; config?: JsonValue; history?: JsonValue } | undefined;
    if (!m || m.kind !== kind) throw new PaperlabError('checkpoint', `${dir} was written by ${m?.kind ?? 'another program'}, not ${kind}`, `resume ${kind} from a directory it wrote`);
    const want = JSON.stringify(config);
    if (JSON.stringify(m.config) !== want) {
      throw new PaperlabError('checkpoint', `${dir} was written with settings ${JSON.stringify(m.config)}, not ${want}`, 'resume with the settings of the interrupted run');
    }
    assignGroup(ck.groups.variables ?? {}, state.variables, `checkpoint ${dir}`);
    if (state.buffers) assignGroup(ck.groups.buffers ?? {}, state.buffers, `checkpoint ${dir}`);
    if (!ck.groups.optimizer) throw new PaperlabError('checkpoint', `${dir} holds no optimizer state`, 'resume from a directory written by the same trainer');
    state.optimizer.setState(ck.groups.optimizer);
    if (!ck.rng) throw new PaperlabError('checkpoint', `${dir} has no RNG state`, 'resume from a directory written by the same trainer');
    state.rng.setState(ck.rng);
    if (state.extra) state.extra.set(ck.groups.extra ?? {});
    startStep = ck.step;
    meta = m.history;
  }
  const endStep = o.stopAfter ?? steps;
  checkInt(endStep, 'stopAfter', { min: Math.max(1, startStep), max: steps });
  return {
    startStep,
    endStep,
    steps,
    meta,
    every: dir ? (o.checkpointEvery ?? endStep) : undefined,
    async save(done, history) {
      if (!dir) return;
      await saveCheckpoint(dir, {
        step: done,
        rng: state.rng.getState(),
        meta: { kind, config, history },
        groups: {
          variables: await tensorsToGroup(state.variables),
          ...(state.buffers ? { buffers: await tensorsToGroup(state.buffers) } : {}),
          optimizer: await state.optimizer.getState(),
          ...(state.extra ? { extra: state.extra.get() } : {}),
        },
      });
    },
  };
}

/** A stored int32 vector (for sampler state). */
export function int32Array(values: ArrayLike<number>): StoredArray {
  return { shape: [values.length], dtype: 'int32', data: Int32Array.from(values) };
}

/** Reads back an int32 vector saved with int32Array, checking it is there. */
export function readInt32(group: ArrayGroup, name: string): Int32Array {
  const a = group[name];
  check(a !== undefined && a.dtype === 'int32', 'checkpoint', `has no int32 array '${name}'`, 'resume from a directory written by the same trainer');
  return a!.data as Int32Array;
}

/**
 * runTraining from the checkpoint's step to `stopAfter`/`steps`, saving the loss and evaluation
 * history (plus `extraMeta()`) with every checkpoint; returns the history of the whole run,
 * earlier invocations included. Without a checkpoint directory it is runTraining.
 */
export async function resumableRun(
  ck: Resumer,
  o: Omit<LoopOptions, 'startStep' | 'steps' | 'checkpoint' | 'checkpointEvery'>,
  extraMeta: () => Record<string, JsonValue> = () => ({}),
): Promise<LoopHistory> {
  const prev = ck.meta as unknown as { losses: number[]; evals: Array<Record<string, number | null>> } | undefined;
  const losses = prev?.losses.slice() ?? [];
  // JSON has no NaN: evaluations saved NaN as null.
  const evals = (prev?.evals ?? []).map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v ?? Number.NaN]))) as LoopHistory['evals'];
  const evaluate = o.evaluate;
  const h = await runTraining({
    ...o,
    startStep: ck.startStep,
    steps: ck.endStep,
    totalSteps: ck.steps,
    step: async (s, lr, ctx) => {
      const r = await o.step(s, lr, ctx);
      losses.push(typeof r === 'number' ? r : r.loss);
      return r;
    },
    evaluate: evaluate
      ? async (step) => {
          const e = await evaluate(step);
          evals.push({ step, ...e });
          return e;
        }
      : undefined,
    checkpointEvery: ck.every,
    checkpoint: ck.every === undefined ? undefined : (done) => ck.save(done, JSON.parse(JSON.stringify({ losses, evals, ...extraMeta() })) as JsonValue),
  });
  return { losses, evals, seconds: h.seconds };
}
