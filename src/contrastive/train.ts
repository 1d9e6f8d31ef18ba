/**
 * The two-stage recipe and its baseline, at equal budget:
 *
 *   pretrainContrastive  stage one: encoder + projection head on two augmented views per image,
 *                        SupCon (labels) or SimCLR (no labels) loss
 *   probeEncoder         stage two: freeze the encoder, train a linear classifier on its features
 *   trainCrossEntropy    the baseline: the same encoder + a linear layer, trained end to end with
 *                        softmax cross-entropy on the same two augmented views per image
 *
 * "Equal budget" means the same steps, batch size, augmentations, optimiser and schedule: every
 * step encodes 2·batchSize augmented images in all three.
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, checkNumber, checkOneOf, checkShape } from '../core/errors.js';
import { AdamW } from '../core/optim.js';
import { trainStep, type LoopHistory } from '../core/train.js';
import { warmupCosine } from '../core/schedule.js';
import type { Rng } from '../core/rng.js';
import { openResume, resumableRun, type CheckpointOptions } from '../core/resume.js';
import { twoViews, type AugmentOptions } from '../data/augment.js';
import { Encoder, MlpHead } from './encoder.js';
import { Dense, prefixed } from './nn.js';
import { supConLossViewMajor, type ContrastMode } from './losses.js';
import { BatchSampler, samplerState, argmaxAccuracy, crossEntropy, linearProbe, mapInBatches, takeRows, type ProbeOptions, type ProbeResult } from './probe.js';

export const CONTRASTIVE_METHODS = ['supcon', 'simclr'] as const;
export type ContrastiveMethod = (typeof CONTRASTIVE_METHODS)[number];

/**
 * A budget plus checkpoints: with `checkpointDir` the trainers write the variables, batch-norm
 * statistics, optimizer moments, RNG and sampler state there; `resume: true` continues exactly
 * (same batches, same augmentations, same updates), and `stopAfter` stops early as if killed.
 */
export interface TrainBudget extends CheckpointOptions {
  steps: number;
  /** Images per step (each seen as two augmented views). Default 128. */
  batchSize?: number;
  /** Peak AdamW learning rate (5 % linear warm-up, cosine decay to 10 %). Default 1e-3. */
  lr?: number;
  /** Decoupled weight decay on matrices. Default 1e-4. */
  weightDecay?: number;
  /** Augmentations of each view (src/data/augment.ts). */
  augment?: AugmentOptions;
  rng: Rng;
  /** Progress label and silencing (see runTraining). */
  label?: string;
  quiet?: boolean;
  evalEvery?: number;
  evaluate?: (step: number) => Record<string, number> | Promise<Record<string, number>>;
}

export interface ContrastiveOptions extends TrainBudget {
  /** 'supcon' uses the labels, 'simclr' ignores them. */
  method: ContrastiveMethod;
  /** τ. Default 0.1 (the paper's SupCon setting). */
  temperature?: number;
  /** τ_base. Default 0.07. */
  baseTemperature?: number;
  contrastMode?: ContrastMode;
}

function resolveBudget(o: TrainBudget, n: number): { batchSize: number; lr: number; weightDecay: number } {
  checkInt(o.steps, 'steps', { min: 1 });
  const batchSize = o.batchSize ?? 128;
  checkInt(batchSize, 'batchSize', { min: 2, max: n });
  const lr = o.lr ?? 1e-3;
  checkNumber(lr, 'lr', { min: 0, exclusiveMin: true });
  const weightDecay = o.weightDecay ?? 1e-4;
  checkNumber(weightDecay, 'weightDecay', { min: 0 });
  return { batchSize, lr, weightDecay };
}

/** The module buffers a checkpoint restores (the trainable variables come from `vars`). */
function buffersOf(...modules: Array<[string, { buffers(): Record<string, tf.Variable> }]>): Record<string, tf.Variable> {
  return Object.assign({}, ...modules.map(([p, m]) => prefixed(p, m.buffers()))) as Record<string, tf.Variable>;
}

function checkData(images: tf.Tensor4D, labels: tf.Tensor1D | undefined, encoder: Encoder): number {
  const n = encoder.checkImages(images, 'images');
  if (labels) checkShape(labels.shape, [n], 'labels');
  return n;
}

/** Two augmented views of the sampled images, concatenated: [2B, H, W, C] (first views first). */
function viewsOf(images: tf.Tensor4D, idx: Int32Array, rng: Rng, augment: AugmentOptions | undefined): tf.Tensor4D {
  const batch = takeRows(images, idx);
  const [v1, v2] = twoViews(batch, rng, augment);
  const both = tf.concat([v1, v2], 0);
  tf.dispose([batch, v1, v2]);
  return both;
}

/**
 * Stage one. Trains `encoder` and `head` in place with the SupCon (or SimCLR) loss on two
 * augmented views of each image; returns the loss history.
 */
export async function pretrainContrastive(encoder: Encoder, head: MlpHead, images: tf.Tensor4D, labels: tf.Tensor1D | undefined, o: ContrastiveOptions): Promise<LoopHistory> {
  checkOneOf(o.method, CONTRASTIVE_METHODS, 'method');
  const n = checkData(images, labels, encoder);
  check(o.method !== 'supcon' || labels !== undefined, 'labels', "are required for method 'supcon'", "pass the training labels, or use method 'simclr'");
  check(head.inDim === encoder.dim, 'head', `takes ${head.inDim} inputs but the encoder gives ${encoder.dim}`, 'build the head with inDim = encoder.dim');
  const { batchSize, lr, weightDecay } = resolveBudget(o, n);
  const vars = { ...prefixed('encoder', encoder.variables()), ...prefixed('head', head.variables()) };
  const opt = new AdamW({ lr, weightDecay });
  const sampler = new BatchSampler(n, batchSize, o.rng);
  const labelArr = labels ? (labels.dataSync() as Int32Array) : undefined;
  const lossOpts = { temperature: o.temperature ?? 0.1, baseTemperature: o.baseTemperature ?? 0.07, contrastMode: o.contrastMode ?? 'all' };
  try {
    const ck = await openResume(
      'paperlab-pretrain-contrastive',
      o,
      o.steps,
      JSON.parse(JSON.stringify({ method: o.method, steps: o.steps, batchSize, lr, weightDecay, ...lossOpts, augment: o.augment ?? null, n, labels: labels !== undefined })),
      { variables: vars, buffers: buffersOf(['encoder', encoder], ['head', head]), optimizer: opt, rng: o.rng, extra: samplerState(sampler) },
    );
    return await resumableRun(ck, {
      schedule: warmupCosine({ lr, warmupSteps: Math.round(0.05 * o.steps), totalSteps: o.steps }),
      label: o.label ?? o.method,
      quiet: o.quiet,
      evalEvery: o.evalEvery,
      evaluate: o.evaluate,
      step: (s, stepLr) => {
        const idx = sampler.next();
        const x = viewsOf(images, idx, o.rng, o.augment);
        const batchLabels = labelArr && o.method === 'supcon' ? Array.from(idx, (i) => labelArr[i]!) : undefined;
        const r = trainStep(
          () => {
            // x holds all first views then all second views, so z is already view-major.
            const z = head.apply(encoder.apply(x, true), true);
            return supConLossViewMajor(z, 2, batchLabels, lossOpts);
          },
          vars,
          opt,
          { lr: stepLr, step: s },
        );
        x.dispose();
        return r;
      },
    });
  } finally {
    opt.dispose();
  }
}

/** Representations of `images` from a frozen encoder (evaluation mode, batches of 256). */
export function encodeImages(encoder: Encoder, images: tf.Tensor4D, batchSize = 256): tf.Tensor2D {
  encoder.checkImages(images, 'images');
  return mapInBatches(images, (x) => encoder.apply(x as tf.Tensor4D, false), batchSize);
}

/** Stage two: a linear probe on the frozen encoder's representations of the train and test images. */
export async function probeEncoder(
  encoder: Encoder,
  data: { trainX: tf.Tensor4D; trainY: tf.Tensor1D; testX: tf.Tensor4D; testY: tf.Tensor1D },
  opts: ProbeOptions,
): Promise<ProbeResult> {
  const tr = encodeImages(encoder, data.trainX);
  const te = encodeImages(encoder, data.testX);
  try {
    return await linearProbe(tr, data.trainY, te, data.testY, opts);
  } finally {
    tf.dispose([tr, te]);
  }
}

export interface CrossEntropyOptions extends TrainBudget {
  numClasses?: number;
}

/**
 * The baseline: `encoder` + a linear `classifier` trained end to end with cross-entropy on two
 * augmented views of each image (so its compute per step equals the contrastive trainer's).
 */
export async function trainCrossEntropy(encoder: Encoder, classifier: Dense, images: tf.Tensor4D, labels: tf.Tensor1D, o: CrossEntropyOptions): Promise<LoopHistory> {
  const n = checkData(images, labels, encoder);
  check(classifier.inDim === encoder.dim, 'classifier', `takes ${classifier.inDim} inputs but the encoder gives ${encoder.dim}`, 'build it as new Dense(encoder.dim, numClasses, rng)');
  const { batchSize, lr, weightDecay } = resolveBudget(o, n);
  const numClasses = o.numClasses ?? classifier.outDim;
  const vars = { ...prefixed('encoder', encoder.variables()), ...prefixed('classifier', classifier.variables()) };
  const opt = new AdamW({ lr, weightDecay });
  const sampler = new BatchSampler(n, batchSize, o.rng);
  try {
    const ck = await openResume(
      'paperlab-train-cross-entropy',
      o,
      o.steps,
      JSON.parse(JSON.stringify({ steps: o.steps, batchSize, lr, weightDecay, numClasses, augment: o.augment ?? null, n })),
      { variables: vars, buffers: buffersOf(['encoder', encoder], ['classifier', classifier]), optimizer: opt, rng: o.rng, extra: samplerState(sampler) },
    );
    return await resumableRun(ck, {
      schedule: warmupCosine({ lr, warmupSteps: Math.round(0.05 * o.steps), totalSteps: o.steps }),
      label: o.label ?? 'cross-entropy',
      quiet: o.quiet,
      evalEvery: o.evalEvery,
      evaluate: o.evaluate,
      step: (s, stepLr) => {
        const idx = sampler.next();
        const x = viewsOf(images, idx, o.rng, o.augment);
        const y = tf.tidy(() => {
          const yb = takeRows(labels, idx);
          return tf.concat([yb, yb], 0) as tf.Tensor1D;
        });
        const r = trainStep(() => crossEntropy(classifier.apply(encoder.apply(x, true)), y, numClasses), vars, opt, { lr: stepLr, step: s });
        tf.dispose([x, y]);
        return r;
      },
    });
  } finally {
    opt.dispose();
  }
}

/** Test accuracy of an encoder + classifier trained end to end. */
export function evaluateClassifier(encoder: Encoder, classifier: Dense, images: tf.Tensor4D, labels: tf.Tensor1D): number {
  const logits = mapInBatches(images, (x) => classifier.apply(encoder.apply(x as tf.Tensor4D, false)) as Tensor);
  try {
    return argmaxAccuracy(logits, labels);
  } finally {
    logits.dispose();
  }
}
