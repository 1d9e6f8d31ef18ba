/**
 * Shared pieces of the three attention experiments (reformer-duplication, attention-scaling,
 * attention-accuracy): the papers' published numbers, time budgets, the crossover-length and
 * extrapolation arithmetic, the encoder (masked) tasks every attention kind can train on, and a
 * lockstep training loop with a fixed number of steps (never a time cap: the same seed must give
 * the same numbers on a fast or a busy machine). The pure functions here are what test/attention-experiments
 * checks.
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, checkNumber } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { AdamW } from '../core/optim.js';
import { trainStep } from '../core/train.js';
import { warmupCosine } from '../core/schedule.js';
import { duplicationBatch } from '../data/synthetic.js';
import type { ReformerLM } from '../reformer/model.js';

// ---------------------------------------------------------------- published numbers

/** Reformer Table 2 (0w0w, length 1024): accuracy (%) by training attention (rows) and evaluation attention (columns). */
export const REFORMER_TABLE2: Record<'full' | 'lsh4' | 'lsh2' | 'lsh1', Record<'full' | 'lsh8' | 'lsh4' | 'lsh2' | 'lsh1', number>> = {
  full: { full: 100, lsh8: 94.8, lsh4: 92.5, lsh2: 76.9, lsh1: 52.5 },
  lsh4: { full: 0.8, lsh8: 100, lsh4: 99.9, lsh2: 99.4, lsh1: 91.9 },
  lsh2: { full: 0.8, lsh8: 100, lsh4: 99.9, lsh2: 98.1, lsh1: 86.8 },
  lsh1: { full: 0.8, lsh8: 99.9, lsh4: 99.6, lsh2: 94.8, lsh1: 77.9 },
};

/** Linformer Table 3 (k = 128): inference speed-up and memory saving against a Transformer. */
export const LINFORMER_TABLE3: ReadonlyArray<{ n: number; speedup: number; memorySaving: number }> = [
  { n: 512, speedup: 1.5, memorySaving: 1.7 },
  { n: 1024, speedup: 1.7, memorySaving: 3.0 },
  { n: 2048, speedup: 2.6, memorySaving: 6.1 },
  { n: 4096, speedup: 3.4, memorySaving: 14 },
  { n: 8192, speedup: 5.5, memorySaving: 28 },
  { n: 16384, speedup: 8.6, memorySaving: 56 },
  { n: 65536, speedup: 20, memorySaving: 60 },
];

/** Long Range Arena (Tay et al. 2021): training steps per second at 1K and 4K tokens, and average accuracy (%). */
export const LRA: Record<'transformer' | 'reformer' | 'linformer' | 'linear' | 'performer', { steps1k: number; steps4k: number; accuracy: number }> = {
  transformer: { steps1k: 8.1, steps4k: 1.4, accuracy: 54.39 },
  reformer: { steps1k: 4.4, steps4k: 1.1, accuracy: 50.67 },
  linformer: { steps1k: 9.3, steps4k: 7.7, accuracy: 51.36 },
  linear: { steps1k: 9.1, steps4k: 7.8, accuracy: 50.55 },
  performer: { steps1k: 9.5, steps4k: 8.0, accuracy: 51.41 },
};

/** Linformer §5 (dev average over the fine-tuning tasks): RoBERTa-base vs Linformer at n = 512. */
export const LINFORMER_QUALITY = { roberta: 92.25, k128: 91.75, k256: 92.08 };

/** The reading notes' three doubts, quoted. */
export const DOUBTS = {
  speed: 'some gain in speed but doesn’t look too significant',
  tradeoff: 'trade-off in performance seems larger than claimed',
  kernelized: 'the “kernelized transformer” appears to be a better work',
} as const;

// ---------------------------------------------------------------- small helpers

/** Wall-clock budget: `left()` seconds remain of `seconds` from construction. */
export class Deadline {
  private readonly t0 = performance.now();
  constructor(readonly seconds: number) {
    checkNumber(seconds, 'seconds', { min: 0 });
  }
  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }
  left(): number {
    return this.seconds - this.elapsed();
  }
  passed(): boolean {
    return this.left() <= 0;
  }
}

/** A seed for the stream named `label` under the run's seed, independent of how many other streams were drawn before it. */
export function labelSeed(seed: number, label: string): number {
  return new Rng(seed).fork(label).nextU32();
}

/** Rounds to `d` significant digits (keeps result.json readable). */
export function sig(x: number, d = 3): number {
  return Number(x.toPrecision(d));
}

/** "2.3×" (or "0.45×"). */
export function times(x: number): string {
  return `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2)}×`;
}

export function pct(x: number, digits = 1): string {
  return `${(100 * x).toFixed(digits)} %`;
}

/** Whether an error is an allocation failure (tfjs allocates typed arrays; V8 throws RangeError). */
export function isOutOfMemory(e: unknown): boolean {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return /allocation failed|Invalid typed array length|Array buffer allocation|out of memory|Cannot allocate|heap out of memory|Invalid array length/i.test(msg);
}

// ---------------------------------------------------------------- scaling arithmetic

export interface Point {
  n: number;
  /** Measured value, null where it could not be measured. */
  v: number | null;
}

/**
 * Predicts the value at `n` from the last two measured points by a power law v ∝ n^p, with p at
 * least `minExponent` (so a noisy flat stretch at small n does not under-predict); with one point,
 * p = `minExponent`. Returns null with no points.
 */
export function predictPowerLaw(points: Point[], n: number, minExponent: number): number | null {
  const m = points.filter((p): p is { n: number; v: number } => p.v !== null && p.v > 0).sort((a, b) => a.n - b.n);
  if (m.length === 0) return null;
  const last = m[m.length - 1]!;
  let p = minExponent;
  if (m.length >= 2) {
    const prev = m[m.length - 2]!;
    p = Math.max(minExponent, Math.log(last.v / prev.v) / Math.log(last.n / prev.n));
  }
  return last.v * Math.pow(n / last.n, p);
}

export type CrossoverHow =
  /** Faster already at the shortest length both ran. */
  | 'below range'
  /** Slower at one measured length, faster at the next (and beyond): log-log interpolation between them. */
  | 'interpolated'
  /** Never faster where both ran, but full attention could not run at a longer length where this kind did. */
  | 'full unavailable'
  /** Never faster where both ran: the power laws fitted to each kind's last two points meet at this length. */
  | 'extrapolated'
  /** Never faster, and the fitted power laws do not meet at a longer length. */
  | 'none';

export interface Crossover {
  /** The length from which the kind is faster than full attention (null when there is none). */
  n: number | null;
  how: CrossoverHow;
  /** A phrase completing "it is faster than full attention …". */
  text: string;
}

/**
 * The sequence length from which `kind` is faster than full attention. `ns` ascending; `full` and
 * `kind` the times at each length (null = not measured: out of memory or skipped). A crossover
 * must hold: the kind has to stay faster at every longer length where both ran.
 */
export function crossoverLength(ns: number[], full: Array<number | null>, kind: Array<number | null>): Crossover {
  check(ns.length === full.length && ns.length === kind.length, 'ns', `lengths differ: ${ns.length} lengths, ${full.length} full times, ${kind.length} times`, 'pass one time per length');
  for (let i = 1; i < ns.length; i++) check(ns[i]! > ns[i - 1]!, 'ns', 'must be strictly ascending', 'sort the lengths');
  const both = ns.map((n, i) => ({ n, f: full[i]!, k: kind[i]! })).filter((p) => p.f !== null && p.k !== null && p.f > 0 && p.k > 0);
  // first index from which the kind is faster at every later common length
  let from = both.length;
  for (let i = both.length - 1; i >= 0; i--) {
    if (both[i]!.k < both[i]!.f) from = i;
    else break;
  }
  if (both.length > 0 && from === 0) {
    return { n: both[0]!.n, how: 'below range', text: `at every length measured (n ≥ ${both[0]!.n})` };
  }
  if (from < both.length) {
    const a = both[from - 1]!;
    const b = both[from]!;
    // log(k/f) is linear in log n between a and b; find its zero
    const ra = Math.log(a.k / a.f);
    const rb = Math.log(b.k / b.f);
    const t = ra === rb ? 1 : ra / (ra - rb);
    const n = Math.exp(Math.log(a.n) + t * (Math.log(b.n) - Math.log(a.n)));
    const r = Math.round(n);
    return { n: r, how: 'interpolated', text: `from n ≈ ${r} on (between the measured ${a.n} and ${b.n})` };
  }
  // never faster where both ran: does it run where full attention could not?
  const lastBoth = both.length ? both[both.length - 1]!.n : 0;
  const fullGone = ns.findIndex((n, i) => n > lastBoth && full[i] === null && kind[i] !== null);
  if (fullGone >= 0) {
    return { n: ns[fullGone]!, how: 'full unavailable', text: `at no length where both ran (up to n = ${lastBoth}), but at n = ${ns[fullGone]} only it could run` };
  }
  if (both.length >= 2) {
    const [a, b] = [both[both.length - 2]!, both[both.length - 1]!];
    const pf = Math.log(b.f / a.f) / Math.log(b.n / a.n);
    const pk = Math.log(b.k / a.k) / Math.log(b.n / a.n);
    if (pf > pk) {
      // log k(n) = log k_b + pk·x, log f(n) = log f_b + pf·x with x = log(n / n_b)
      const x = Math.log(b.k / b.f) / (pf - pk);
      const n = Math.round(b.n * Math.exp(x));
      return { n, how: 'extrapolated', text: `at no length measured; power laws fitted at n = ${a.n}, ${b.n} (full n^${pf.toFixed(2)}, this kind n^${pk.toFixed(2)}) meet at n ≈ ${n}` };
    }
    return { n: null, how: 'none', text: `at no length measured, and its time grows at least as fast as full attention's between n = ${a.n} and ${b.n} (this kind n^${pk.toFixed(2)}, full n^${pf.toFixed(2)})` };
  }
  return { n: null, how: 'none', text: 'at no length measured (too few lengths to extrapolate)' };
}

/** Ratio a/b of two measurements, null unless both exist. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0) || !(a > 0)) return null;
  return a / b;
}

// ---------------------------------------------------------------- encoder tasks (every kind, Linformer included)

/**
 * A batch for an encoder (non-causal) model: `tokens` in, predict `targets` where `weights` is 1.
 * All [batch·length], row-major.
 */
export interface EncoderBatch {
  tokens: Int32Array;
  targets: Int32Array;
  weights: Float32Array;
  batch: number;
  length: number;
}

/**
 * Masked duplication, the encoder form of 0w0w: input 0 w 0 M…M (M = the mask id `vocab`), the
 * targets are w at the masked positions. Solving it needs position h+i to find position i, the
 * same long-range lookup as the causal task, but it is open to non-causal kinds (Linformer has no
 * causal form). The model's vocabulary is `vocab + 1`.
 */
export function maskedDuplicationBatch(o: { batch: number; length: number; vocab: number }, rng: Rng): EncoderBatch {
  const d = duplicationBatch(o, rng);
  const { batch, length } = o;
  const half = length / 2;
  const tokens = d.tokens.slice();
  const targets = new Int32Array(batch * length);
  const weights = new Float32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    for (let i = 1; i < half; i++) {
      const p = b * length + half + i;
      targets[p] = d.tokens[p]!;
      weights[p] = 1;
      tokens[p] = o.vocab;
    }
  }
  return { tokens, targets, weights, batch, length };
}

/** A character vocabulary: the characters of a text, rare ones folded into UNK, plus MASK. */
export interface CharVocab {
  chars: string[];
  unk: number;
  mask: number;
  size: number;
  index: Map<string, number>;
}

/** Characters seen at least `minCount` times (sorted by code point), then UNK, then MASK. */
export function buildCharVocab(text: string, minCount = 20): CharVocab {
  checkInt(minCount, 'minCount', { min: 1 });
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const chars = [...counts.entries()].filter(([, c]) => c >= minCount).map(([ch]) => ch).sort();
  const index = new Map(chars.map((ch, i) => [ch, i] as const));
  return { chars, unk: chars.length, mask: chars.length + 1, size: chars.length + 2, index };
}

export function encodeChars(text: string, v: CharVocab): Int32Array {
  const out = new Int32Array([...text].length);
  let i = 0;
  for (const ch of text) out[i++] = v.index.get(ch) ?? v.unk;
  return out;
}

/**
 * Masked character modelling (Linformer's pre-training objective, at the character level): random
 * windows of `length` characters; each position is masked with probability `rate` (at least one
 * per row); the targets are the original characters at the masked positions.
 */
export function maskedCharBatch(ids: Int32Array, o: { batch: number; length: number; rate: number; mask: number }, rng: Rng): EncoderBatch {
  const { batch, length } = o;
  check(ids.length > length, 'ids', `text of ${ids.length} characters is shorter than one window of ${length}`, 'use a longer text or a shorter window');
  const tokens = new Int32Array(batch * length);
  const targets = new Int32Array(batch * length);
  const weights = new Float32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    const start = rng.int(ids.length - length);
    let any = false;
    for (let i = 0; i < length; i++) {
      const p = b * length + i;
      tokens[p] = ids[start + i]!;
      if (rng.next() < o.rate) {
        targets[p] = tokens[p]!;
        weights[p] = 1;
        tokens[p] = o.mask;
        any = true;
      }
    }
    if (!any) {
      const p = b * length + rng.int(length);
      targets[p] = tokens[p]!;
      weights[p] = 1;
      tokens[p] = o.mask;
    }
  }
  return { tokens, targets, weights, batch, length };
}

/** Weighted cross-entropy (nats) and accuracy of an encoder model's logits at the weighted positions. */
function encoderTerms(model: ReformerLM, b: EncoderBatch): { nll: Tensor; hit: Tensor; w: Tensor } {
  const tokens = tf.tensor2d(b.tokens, [b.batch, b.length], 'int32');
  const logits = model.logits(tokens);
  const targets = tf.tensor2d(b.targets, [b.batch, b.length], 'int32');
  const lp = tf.logSoftmax(logits);
  const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(targets, model.config.vocab), lp), -1));
  const hit = tf.cast(tf.equal(tf.argMax(logits, -1), targets), 'float32');
  const w = tf.tensor2d(b.weights, [b.batch, b.length]);
  return { nll, hit, w };
}

export function encoderLoss(model: ReformerLM, b: EncoderBatch): tf.Scalar {
  return tf.tidy(() => {
    const { nll, w } = encoderTerms(model, b);
    return tf.div(tf.sum(tf.mul(nll, w)), tf.maximum(tf.sum(w), 1)) as tf.Scalar;
  });
}

/** Mean loss (nats), bits per predicted token and accuracy over the weighted positions of several batches. */
export function encoderEvaluate(model: ReformerLM, batches: EncoderBatch[]): { loss: number; bits: number; accuracy: number } {
  let nllSum = 0;
  let hitSum = 0;
  let count = 0;
  for (const b of batches) {
    const [n, h, c] = tf.tidy(() => {
      const { nll, hit, w } = encoderTerms(model, b);
      return [tf.sum(tf.mul(nll, w)), tf.sum(tf.mul(hit, w)), tf.sum(w)];
    });
    nllSum += n!.dataSync()[0]!;
    hitSum += h!.dataSync()[0]!;
    count += c!.dataSync()[0]!;
    tf.dispose([n!, h!, c!]);
  }
  const loss = nllSum / Math.max(count, 1);
  return { loss, bits: loss / Math.LN2, accuracy: hitSum / Math.max(count, 1) };
}

// ---------------------------------------------------------------- training in lockstep with a time cap

export interface LockstepRun {
  label: string;
  vars: Record<string, tf.Variable>;
  /** The loss of this run on the batch of step `step` (every run sees the same batches). */
  loss: (step: number) => tf.Scalar;
  evaluate: () => Record<string, number>;
}

export interface LockstepOptions {
  steps: number;
  lr: number;
  warmupSteps: number;
  clipNorm: number;
  /** Evaluate after these many steps (and at the end). 0 = only at the end. */
  evalEvery: number;
  log?: (msg: string) => void;
}

export interface LockstepResult {
  stepsDone: number;
  /** This run's own training seconds (evaluation excluded). */
  trainSeconds: number;
  /** This run's process CPU seconds while training (all threads): stable on a shared machine. */
  cpuSeconds: number;
  finalLoss: number;
  /** Evaluations with this run's training seconds spent so far. */
  history: Array<{ step: number; seconds: number } & Record<string, number>>;
}

/**
 * Trains several models step by step in turn — step s of every run before step s+1 of any — with
 * AdamW, warm-up + cosine and clipping, for exactly `steps` steps: an equal budget in steps, and
 * interleaving spreads any slowdown of a shared machine over every run alike, so the per-run
 * timings stay comparable. Each run's time is its own.
 */
export function trainLockstep(runs: LockstepRun[], o: LockstepOptions): LockstepResult[] {
  checkInt(o.steps, 'steps', { min: 1 });
  checkInt(o.evalEvery, 'evalEvery', { min: 0 });
  const schedule = warmupCosine({ lr: o.lr, warmupSteps: Math.min(o.warmupSteps, o.steps - 1), totalSteps: o.steps, minRatio: 0.1 });
  const opts = runs.map(() => new AdamW({ lr: o.lr }));
  const out: LockstepResult[] = runs.map(() => ({ stepsDone: 0, trainSeconds: 0, cpuSeconds: 0, finalLoss: Number.NaN, history: [] }));
  const every = Math.max(1, Math.ceil(o.steps / 5));
  let spent = 0;
  const evaluateAll = (step: number): void => {
    runs.forEach((r, i) => out[i]!.history.push({ step, seconds: out[i]!.trainSeconds, ...r.evaluate() }));
  };
  try {
    for (let s = 0; s < o.steps; s++) {
      runs.forEach((r, i) => {
        const t = performance.now();
        const u = process.cpuUsage();
        const res = trainStep(() => r.loss(s), r.vars, opts[i]!, { lr: schedule(s), clipNorm: o.clipNorm, step: s });
        const du = process.cpuUsage(u);
        const dt = (performance.now() - t) / 1000;
        spent += dt;
        out[i]!.trainSeconds += dt;
        out[i]!.cpuSeconds += (du.user + du.system) / 1e6;
        out[i]!.stepsDone = s + 1;
        out[i]!.finalLoss = res.loss;
      });
      const done = s + 1;
      if (o.log && (done % every === 0 || done === 1)) o.log(`step ${done}/${o.steps}: ${runs.map((r, i) => `${r.label} ${out[i]!.finalLoss.toFixed(3)}`).join(', ')} (${spent.toFixed(1)} s)`);
      if (o.evalEvery > 0 && done % o.evalEvery === 0 && done < o.steps) evaluateAll(done);
    }
    evaluateAll(o.steps);
  } finally {
    for (const opt of opts) opt.dispose();
  }
  return out;
}

/**
 * The value of `key` a run had reached after `seconds` of training, read off its evaluation
 * history (the last evaluation at or before that time; null if none was that early).
 */
export function valueAtTime(history: Array<{ seconds: number } & Record<string, number>>, key: string, seconds: number): number | null {
  let best: number | null = null;
  for (const h of history) if (h.seconds <= seconds + 1e-9 && h[key] !== undefined) best = h[key]!;
  return best;
}

/** One batch per step, made on the first request for that step and shared by every run (steps ascend). */
export function batchPerStep<B>(make: () => B): (step: number) => B {
  let last = -1;
  let current: B | undefined;
  return (step: number) => {
    if (step !== last || current === undefined) {
      current = make();
      last = step;
    }
    return current;
  };
}
