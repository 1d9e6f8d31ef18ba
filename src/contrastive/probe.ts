/**
 * Reading a frozen representation: batched feature extraction, the linear probe (stage two of the
 * two-stage recipe), kNN accuracy, and the per-channel std of L2-normalised embeddings that shows
 * collapse (0 when every input maps to one point, ≈ 1/√d for well-spread embeddings).
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, checkNumber, describeShape } from '../core/errors.js';
import { AdamW } from '../core/optim.js';
import { trainStep } from '../core/train.js';
import type { Rng } from '../core/rng.js';
import type { ArrayGroup } from '../core/checkpoint.js';
import { int32Array, openResume, readInt32, type CheckpointOptions } from '../core/resume.js';
import { Dense } from './nn.js';

/** Shuffled minibatches of indices, a fresh permutation every epoch. */
export class BatchSampler {
  private perm: Int32Array;
  private pos = 0;
  constructor(
    readonly n: number,
    readonly batchSize: number,
    private readonly rng: Rng,
  ) {
    checkInt(n, 'n', { min: 1 });
    checkInt(batchSize, 'batchSize', { min: 1, max: n });
    this.perm = rng.permutation(n);
  }
  next(): Int32Array {
    if (this.pos + this.batchSize > this.n) {
      this.perm = this.rng.permutation(this.n);
      this.pos = 0;
    }
    const out = this.perm.slice(this.pos, this.pos + this.batchSize);
    this.pos += this.batchSize;
    return out;
  }
  /** The current permutation and position (for checkpoints). */
  getState(): ArrayGroup {
    return { perm: int32Array(this.perm), pos: int32Array([this.pos]) };
  }
  setState(g: ArrayGroup): void {
    const perm = readInt32(g, 'perm');
    const pos = readInt32(g, 'pos')[0]!;
    check(perm.length === this.n && pos >= 0 && pos <= this.n, 'checkpoint', `sampler state is for ${perm.length} examples, not ${this.n}`, 'resume with the same training data');
    this.perm = Int32Array.from(perm);
    this.pos = pos;
  }
}

/** A sampler's state as TrainerState's `extra` (for openResume). */
export function samplerState(sampler: BatchSampler): { get(): ArrayGroup; set(g: ArrayGroup): void } {
  return { get: () => sampler.getState(), set: (g) => sampler.setState(g) };
}

/** Rows `idx` of `x` (any rank), as a new tensor. */
export function takeRows<T extends Tensor>(x: T, idx: Int32Array): T {
  return tf.tidy(() => tf.gather(x, tf.tensor1d(idx, 'int32')) as T);
}

/** Applies `fn` to `x` in chunks of `batchSize` rows (no gradients kept) and concatenates. */
export function mapInBatches(x: Tensor, fn: (chunk: Tensor) => Tensor, batchSize = 256): tf.Tensor2D {
  checkInt(batchSize, 'batchSize', { min: 1 });
  const n = x.shape[0]!;
  const parts: Tensor[] = [];
  for (let i = 0; i < n; i += batchSize) {
    const size = Math.min(batchSize, n - i);
    parts.push(tf.tidy(() => fn(tf.slice(x, i, size))));
  }
  const out = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return out;
}

/** Images [N, H, W, C] → [N, H·W·C], the raw-pixel "representation". */
export function flattenImages(x: tf.Tensor4D): tf.Tensor2D {
  return tf.reshape(x, [x.shape[0], -1]);
}

/** Share of rows whose argmax matches the label. */
export function argmaxAccuracy(logits: Tensor, labels: tf.Tensor1D): number {
  return meanOf(argmaxCorrect(logits, labels));
}

/**
 * Per-row correctness (1 = the argmax is the label), in row order: what McNemar's test of two
 * classifiers scored on the same test items needs (src/core/stats.ts `mcnemar`).
 */
export function argmaxCorrect(logits: Tensor, labels: tf.Tensor1D): Uint8Array {
  check(logits.rank === 2 && logits.shape[0] === labels.shape[0], 'logits', `expected [${labels.shape[0]}, classes], got ${describeShape(logits.shape)}`, 'pass one row of class scores per label');
  const hits = tf.tidy(() => tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'int32'));
  const out = Uint8Array.from(hits.dataSync());
  hits.dispose();
  return out;
}

function meanOf(correct: Uint8Array): number {
  let h = 0;
  for (const c of correct) h += c;
  return h / correct.length;
}

/** Mean softmax cross-entropy of integer labels. */
export function crossEntropy(logits: Tensor, labels: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(labels, 'int32'), numClasses), logits) as tf.Scalar);
}

function numClassesOf(...labels: tf.Tensor1D[]): number {
  let m = 0;
  for (const l of labels) {
    const t = tf.max(l);
    m = Math.max(m, t.dataSync()[0]!);
    t.dispose();
  }
  return m + 1;
}

export interface ProbeOptions extends CheckpointOptions {
  /** Optimisation steps. Default 500. */
  steps?: number;
  /** Minibatch size (capped at the training-set size). Default 256. */
  batchSize?: number;
  /** AdamW learning rate. Default 0.01. */
  lr?: number;
  weightDecay?: number;
  /** Standardise each feature with the training set's mean and std first. Default true. */
  standardize?: boolean;
  numClasses?: number;
  rng: Rng;
}

export interface ProbeResult {
  trainAccuracy: number;
  testAccuracy: number;
  /** Per test item: 1 when the probe classified it correctly (for McNemar against another read-out). */
  testCorrect: Uint8Array;
  finalLoss: number;
  numClasses: number;
}

/**
 * Stage two: a linear (softmax) classifier trained on frozen features, scored on held-out
 * features. Standardisation is a fixed per-feature affine map, so the classifier stays linear in
 * the representation.
 */
export async function linearProbe(trainF: tf.Tensor2D, trainY: tf.Tensor1D, testF: tf.Tensor2D, testY: tf.Tensor1D, opts: ProbeOptions): Promise<ProbeResult> {
  check(trainF.rank === 2 && trainF.shape[0] === trainY.shape[0], 'trainF', `expected [${trainY.shape[0]}, dim] to match trainY, got ${describeShape(trainF.shape)}`, 'pass one feature row per training label');
  check(testF.rank === 2 && testF.shape[0] === testY.shape[0] && testF.shape[1] === trainF.shape[1], 'testF', `expected [${testY.shape[0]}, ${trainF.shape[1]}], got ${describeShape(testF.shape)}`, 'extract test features with the same encoder');
  const steps = opts.steps ?? 500;
  const lr = opts.lr ?? 0.01;
  checkInt(steps, 'steps', { min: 1 });
  checkNumber(lr, 'lr', { min: 0, exclusiveMin: true });
  const n = trainF.shape[0];
  const batchSize = Math.min(opts.batchSize ?? 256, n);
  const numClasses = opts.numClasses ?? numClassesOf(trainY, testY);
  const [xtr, xte] = tf.tidy(() => {
    if (opts.standardize === false) return [tf.clone(trainF), tf.clone(testF)];
    const { mean, variance } = tf.moments(trainF, 0);
    const sd = tf.add(tf.sqrt(variance), 1e-6);
    return [tf.div(tf.sub(trainF, mean), sd), tf.div(tf.sub(testF, mean), sd)];
  });
  const clf = new Dense(trainF.shape[1], numClasses, opts.rng, { gain: 1 });
  const vars = clf.variables();
  const opt = new AdamW({ lr, weightDecay: opts.weightDecay ?? 0 });
  const sampler = new BatchSampler(n, batchSize, opts.rng);
  let finalLoss = Number.NaN;
  try {
    const config = { kind: 'linear-probe', steps, batchSize, lr, weightDecay: opts.weightDecay ?? 0, standardize: opts.standardize !== false, numClasses, n, dim: trainF.shape[1] };
    const ck = await openResume('paperlab-linear-probe', opts, steps, config, { variables: vars, optimizer: opt, rng: opts.rng, extra: samplerState(sampler) });
    if (ck.meta !== undefined) finalLoss = (ck.meta as { finalLoss: number }).finalLoss;
    for (let s = ck.startStep; s < ck.endStep; s++) {
      const idx = sampler.next();
      const xb = takeRows(xtr, idx);
      const yb = takeRows(trainY, idx);
      // Cosine decay to 0 so the last steps settle instead of bouncing at the full rate.
      const stepLr = 0.5 * lr * (1 + Math.cos((Math.PI * s) / steps));
      finalLoss = trainStep(() => crossEntropy(clf.apply(xb), yb, numClasses), vars, opt, { lr: stepLr, step: s }).loss;
      tf.dispose([xb, yb]);
      const done = s + 1;
      if (ck.every !== undefined && (done % ck.every === 0 || done === ck.endStep)) await ck.save(done, { finalLoss });
    }
    const trainAccuracy = tf.tidy(() => argmaxAccuracy(clf.apply(xtr), trainY));
    const testCorrect = tf.tidy(() => argmaxCorrect(clf.apply(xte), testY));
    return { trainAccuracy, testAccuracy: meanOf(testCorrect), testCorrect, finalLoss, numClasses };
  } finally {
    opt.dispose();
    clf.dispose();
    tf.dispose([xtr, xte]);
  }
}

/**
 * k-nearest-neighbour accuracy with cosine similarity (majority vote of the k nearest;
 * a tie goes to the class that reached the count first, i.e. the one with nearer neighbours), a training-free read-out of a representation.
 */
export function knnAccuracy(trainF: tf.Tensor2D, trainY: tf.Tensor1D, testF: tf.Tensor2D, testY: tf.Tensor1D, k = 20): number {
  return meanOf(knnCorrect(trainF, trainY, testF, testY, k));
}

/** knnAccuracy's per-test-item correctness (1 = the k-NN vote is the label), in row order. */
export function knnCorrect(trainF: tf.Tensor2D, trainY: tf.Tensor1D, testF: tf.Tensor2D, testY: tf.Tensor1D, k = 20): Uint8Array {
  checkInt(k, 'k', { min: 1, max: trainF.shape[0] });
  check(testF.shape[1] === trainF.shape[1], 'testF', `has ${testF.shape[1]} features but trainF has ${trainF.shape[1]}`, 'extract both with the same encoder');
  const trY = trainY.dataSync();
  const teY = testY.dataSync();
  const nTest = testF.shape[0];
  check(testY.shape[0] === nTest, 'testY', `has ${testY.shape[0]} labels for ${nTest} test rows`, 'pass one label per test row');
  const correct = new Uint8Array(nTest);
  const chunk = 256;
  for (let i = 0; i < nTest; i += chunk) {
    const size = Math.min(chunk, nTest - i);
    const indices = tf.tidy(() => tf.topk(tf.matMul(l2(tf.slice(testF, i, size)), l2(trainF), false, true), k).indices);
    const idx = indices.dataSync();
    indices.dispose();
    for (let r = 0; r < size; r++) {
      const votes = new Map<number, number>();
      let best = trY[idx[r * k]!]!;
      let bestVotes = 0;
      for (let j = 0; j < k; j++) {
        const c = trY[idx[r * k + j]!]!;
        const v = (votes.get(c) ?? 0) + 1;
        votes.set(c, v);
        if (v > bestVotes) {
          bestVotes = v;
          best = c;
        }
      }
      if (best === teY[i + r]) correct[i + r] = 1;
    }
  }
  return correct;
}

function l2(x: Tensor): Tensor {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12));
}

/**
 * SimSiam's collapse measure: the std over the batch of each channel of z/‖z‖, averaged over
 * channels. 0 when every row is the same vector; ≈ 1/√d for embeddings spread over the sphere.
 */
export function embeddingStd(z: Tensor): number {
  check(z.rank === 2 && z.shape[0]! >= 2, 'z', `expected [N ≥ 2, dim], got ${describeShape(z.shape)}`, 'pass a batch of at least two embeddings');
  const t = tf.tidy(() => tf.mean(tf.sqrt(tf.moments(l2(z), 0).variance)));
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}
