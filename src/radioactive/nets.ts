/**
 * Small image classifiers with an explicit feature layer, for marking and for suspects:
 *
 *   features φ(x) ∈ R^d  →  logits = φ(x)·W + b      (W: [d, K], the "classifier weights")
 *
 * Three architectures, deliberately different in how they see an image:
 *   - `mlp`:   flatten → dense(hidden) → ReLU → dense(d) → ReLU                  (no weight sharing)
 *   - `patch`: non-overlapping p×p patches → shared dense(hidden) → ReLU → flatten → dense(d) → ReLU
 *              (a stride-p convolution written as reshape + matmul: local, weight-shared)
 *   - `cnn`:   conv3×3/2(hidden) → ReLU → conv3×3/2(2·hidden) → ReLU → flatten → dense(d) → ReLU
 * All are cheap on tfjs's cpu backend except `cnn`, which needs the native conv kernels to be quick.
 */
import { tf } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkNumber, checkOneOf, checkShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { AdamW } from '../core/optim.js';
import { trainStep, runTraining, type LoopHistory } from '../core/train.js';
import { warmupCosine } from '../core/schedule.js';
import { saveCheckpoint, loadCheckpoint, tensorsToGroup, assignGroup, type JsonValue } from '../core/checkpoint.js';
import { randomShift } from './shift.js';

export const NET_ARCHS = ['mlp', 'patch', 'cnn'] as const;
export type NetArch = (typeof NET_ARCHS)[number];

export interface NetConfig {
  arch: NetArch;
  /** [height, width, channels] of the input images. */
  inputShape: [number, number, number];
  numClasses: number;
  /** d, the dimension of the feature layer (and of the carriers when this net marks). Default 32. */
  featureDim: number;
  /** mlp: hidden width; patch: patch-embedding width; cnn: channels of the first conv. Default 128 / 16 / 8. */
  hidden: number;
  /** patch side for `patch` (must divide height and width). Default 4. */
  patch: number;
}

/** Anything that maps images to class logits (all the black-box test needs). */
export interface Classifier {
  readonly numClasses: number;
  /** Images [N, H, W, C] in [0, 1] → logits [N, K]. */
  logits(x: tf.Tensor4D): tf.Tensor2D;
}

/** A classifier with a linear head on an explicit feature layer (what white-box detection needs). */
export interface FeatureClassifier extends Classifier {
  readonly featureDim: number;
  /** Images [N, H, W, C] → features [N, d], the input of the linear head. */
  features(x: tf.Tensor4D): tf.Tensor2D;
  /** The head's weight matrix [d, K]: column k is the class-k weight vector. */
  classifierWeights(): tf.Tensor2D;
}

export function defaultNetConfig(partial: Partial<NetConfig> & Pick<NetConfig, 'inputShape' | 'numClasses'>): NetConfig {
  const arch = partial.arch ?? 'mlp';
  checkOneOf(arch, NET_ARCHS, 'arch');
  const cfg: NetConfig = {
    arch,
    inputShape: partial.inputShape,
    numClasses: partial.numClasses,
    featureDim: partial.featureDim ?? 32,
    hidden: partial.hidden ?? (arch === 'mlp' ? 128 : arch === 'patch' ? 16 : 8),
    patch: partial.patch ?? 4,
  };
  check(Array.isArray(cfg.inputShape) && cfg.inputShape.length === 3, 'inputShape', `expected [height, width, channels], got ${JSON.stringify(cfg.inputShape)}`, 'pass e.g. [28, 28, 1]');
  cfg.inputShape.forEach((v, i) => checkInt(v, `inputShape[${i}]`, { min: 1 }));
  checkInt(cfg.numClasses, 'numClasses', { min: 2 });
  checkInt(cfg.featureDim, 'featureDim', { min: 2 });
  checkInt(cfg.hidden, 'hidden', { min: 1 });
  checkInt(cfg.patch, 'patch', { min: 1 });
  if (arch === 'patch') {
    const [h, w] = cfg.inputShape;
    check(h % cfg.patch === 0 && w % cfg.patch === 0, 'patch', `${cfg.patch} does not divide the image size ${h}×${w}`, 'pick a patch side that divides both height and width (e.g. 4 or 7 for 28×28)');
  }
  return cfg;
}

function heNormal(rng: Rng, shape: number[], fanIn: number): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => tf.variable(tf.tensor(rng.normalArray(n, 0, Math.sqrt(2 / fanIn)), shape)));
}
function zeros(shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros(shape)));
}

/** Base class: the head and the bookkeeping shared by every architecture. */
export abstract class FeatureNet implements FeatureClassifier {
  readonly config: NetConfig;
  /** Trainable variables by name (the keys stored in checkpoints). */
  readonly vars: Record<string, tf.Variable> = {};

  constructor(config: NetConfig, rng: Rng) {
    this.config = config;
    const { featureDim: d, numClasses: k } = config;
    this.vars.head_w = heNormal(rng, [d, k], d);
    this.vars.head_b = zeros([k]);
  }

  get numClasses(): number {
    return this.config.numClasses;
  }
  get featureDim(): number {
    return this.config.featureDim;
  }

  protected checkInput(x: tf.Tensor4D): void {
    checkShape(x.shape, [null, ...this.config.inputShape], 'images');
  }

  abstract features(x: tf.Tensor4D): tf.Tensor2D;

  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(this.features(x), this.vars.head_w!), this.vars.head_b!) as tf.Tensor2D);
  }

  classifierWeights(): tf.Tensor2D {
    return this.vars.head_w! as tf.Tensor as tf.Tensor2D;
  }

  parameterCount(): number {
    return Object.values(this.vars).reduce((s, v) => s + v.size, 0);
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
  }
}

/** flatten → dense(hidden) → ReLU → dense(d) → ReLU. */
export class MlpNet extends FeatureNet {
  constructor(config: NetConfig, rng: Rng) {
    super(config, rng);
    const [h, w, c] = config.inputShape;
    const inDim = h * w * c;
    this.vars.fc1_w = heNormal(rng, [inDim, config.hidden], inDim);
    this.vars.fc1_b = zeros([config.hidden]);
    this.vars.fc2_w = heNormal(rng, [config.hidden, config.featureDim], config.hidden);
    this.vars.fc2_b = zeros([config.featureDim]);
  }

  features(x: tf.Tensor4D): tf.Tensor2D {
    this.checkInput(x);
    const v = this.vars;
    return tf.tidy(() => {
      const flat = tf.reshape(x, [x.shape[0], -1]);
      const h1 = tf.relu(tf.add(tf.matMul(flat, v.fc1_w!), v.fc1_b!));
      return tf.relu(tf.add(tf.matMul(h1, v.fc2_w!), v.fc2_b!)) as tf.Tensor2D;
    });
  }
}

/** Non-overlapping p×p patches → shared dense(hidden) → ReLU → flatten → dense(d) → ReLU. */
export class PatchNet extends FeatureNet {
  constructor(config: NetConfig, rng: Rng) {
    super(config, rng);
    const [h, w, c] = config.inputShape;
    const p = config.patch;
    const patchDim = p * p * c;
    const nPatches = (h / p) * (w / p);
    this.vars.patch_w = heNormal(rng, [patchDim, config.hidden], patchDim);
    this.vars.patch_b = zeros([config.hidden]);
    this.vars.fc_w = heNormal(rng, [nPatches * config.hidden, config.featureDim], nPatches * config.hidden);
    this.vars.fc_b = zeros([config.featureDim]);
  }

  features(x: tf.Tensor4D): tf.Tensor2D {
    this.checkInput(x);
    const v = this.vars;
    const [h, w, c] = this.config.inputShape;
    const p = this.config.patch;
    const n = x.shape[0];
    const gh = h / p;
    const gw = w / p;
    return tf.tidy(() => {
      // [N, gh, p, gw, p, C] → [N, gh, gw, p, p, C] → [N·gh·gw, p·p·C]
      const patches = tf.reshape(tf.transpose(tf.reshape(x, [n, gh, p, gw, p, c]), [0, 1, 3, 2, 4, 5]), [n * gh * gw, p * p * c]);
      const emb = tf.relu(tf.add(tf.matMul(patches, v.patch_w!), v.patch_b!));
      const flat = tf.reshape(emb, [n, gh * gw * this.config.hidden]);
      return tf.relu(tf.add(tf.matMul(flat, v.fc_w!), v.fc_b!)) as tf.Tensor2D;
    });
  }
}

/** conv3×3 stride 2 (hidden) → ReLU → conv3×3 stride 2 (2·hidden) → ReLU → flatten → dense(d) → ReLU. */
export class ConvNet extends FeatureNet {
  constructor(config: NetConfig, rng: Rng) {
    super(config, rng);
    const [h, w, c] = config.inputShape;
    const c1 = config.hidden;
    const c2 = 2 * config.hidden;
    const oh = Math.ceil(Math.ceil(h / 2) / 2);
    const ow = Math.ceil(Math.ceil(w / 2) / 2);
    this.vars.conv1_w = heNormal(rng, [3, 3, c, c1], 9 * c);
    this.vars.conv1_b = zeros([c1]);
    this.vars.conv2_w = heNormal(rng, [3, 3, c1, c2], 9 * c1);
    this.vars.conv2_b = zeros([c2]);
    this.vars.fc_w = heNormal(rng, [oh * ow * c2, config.featureDim], oh * ow * c2);
    this.vars.fc_b = zeros([config.featureDim]);
  }

  features(x: tf.Tensor4D): tf.Tensor2D {
    this.checkInput(x);
    const v = this.vars;
    return tf.tidy(() => {
      const h1 = tf.relu(tf.add(tf.conv2d(x, v.conv1_w! as tf.Tensor as tf.Tensor4D, 2, 'same'), v.conv1_b!)) as tf.Tensor4D;
      const h2 = tf.relu(tf.add(tf.conv2d(h1, v.conv2_w! as tf.Tensor as tf.Tensor4D, 2, 'same'), v.conv2_b!)) as tf.Tensor4D;
      const flat = tf.reshape(h2, [x.shape[0], -1]);
      return tf.relu(tf.add(tf.matMul(flat, v.fc_w!), v.fc_b!)) as tf.Tensor2D;
    });
  }
}

/**
 * A fresh linear head on another network's frozen features (the paper's easiest suspect: a logistic
 * regression on the marking network's own features). Only the head is in `vars`, so training it
 * leaves the base network untouched. Not saveable with saveNet (the base is not part of it).
 */
export class LinearProbe extends FeatureNet {
  readonly base: FeatureClassifier;

  constructor(base: FeatureNet, rng: Rng) {
    super(base.config, rng);
    this.base = base;
    // Logistic regression starts from zero: no random component in the weights being tested.
    this.vars.head_w!.assign(tf.zerosLike(this.vars.head_w!));
  }

  features(x: tf.Tensor4D): tf.Tensor2D {
    return this.base.features(x);
  }
}

/** Builds a network of `config.arch` with weights drawn from `rng`. */
export function createNet(config: Partial<NetConfig> & Pick<NetConfig, 'inputShape' | 'numClasses'>, rng: Rng): FeatureNet {
  const cfg = defaultNetConfig(config);
  if (cfg.arch === 'mlp') return new MlpNet(cfg, rng);
  if (cfg.arch === 'patch') return new PatchNet(cfg, rng);
  return new ConvNet(cfg, rng);
}

/** Runs `fn` over `x` in batches and concatenates the [n, k] outputs into one Float32Array. */
export function mapBatches(x: tf.Tensor4D, fn: (b: tf.Tensor4D) => tf.Tensor2D, batchSize = 500): { data: Float32Array; n: number; dim: number } {
  const n = x.shape[0];
  let out: Float32Array | undefined;
  let dim = 0;
  for (let s = 0; s < n; s += batchSize) {
    const size = Math.min(batchSize, n - s);
    const y = tf.tidy(() => fn(tf.slice(x, [s, 0, 0, 0], [size, -1, -1, -1])));
    const vals = y.dataSync() as Float32Array;
    dim = y.shape[1];
    y.dispose();
    out ??= new Float32Array(n * dim);
    out.set(vals, s * dim);
  }
  return { data: out ?? new Float32Array(0), n, dim };
}

function labelsArray(labels: tf.Tensor1D | Int32Array, n: number, numClasses: number): Int32Array {
  const arr = labels instanceof Int32Array ? labels : Int32Array.from(labels.dataSync());
  check(arr.length === n, 'labels', `has ${arr.length} entries but there are ${n} images`, 'pass one label per image');
  for (let i = 0; i < arr.length; i++) {
    const y = arr[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < numClasses)) throw new PaperlabError('labels', `label ${y} at index ${i} is outside 0…${numClasses - 1}`, `use class indices 0…${numClasses - 1}`);
  }
  return arr;
}

/** Fraction of images whose arg-max logit is the label. */
export function accuracy(net: Classifier, x: tf.Tensor4D, labels: tf.Tensor1D | Int32Array, batchSize = 500): number {
  const y = labelsArray(labels, x.shape[0], net.numClasses);
  const { data, dim } = mapBatches(x, (b) => net.logits(b), batchSize);
  let correct = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let k = 1; k < dim; k++) if (data[i * dim + k]! > data[i * dim + best]!) best = k;
    if (best === y[i]) correct++;
  }
  return y.length ? correct / y.length : 0;
}

/** Cross-entropy of each image under `net` (computed in float64 from the logits). */
export function perExampleLoss(net: Classifier, x: tf.Tensor4D, labels: tf.Tensor1D | Int32Array, batchSize = 500): Float64Array {
  const y = labelsArray(labels, x.shape[0], net.numClasses);
  const { data, dim } = mapBatches(x, (b) => net.logits(b), batchSize);
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    let m = -Infinity;
    for (let k = 0; k < dim; k++) m = Math.max(m, data[i * dim + k]!);
    let s = 0;
    for (let k = 0; k < dim; k++) s += Math.exp(data[i * dim + k]! - m);
    out[i] = m + Math.log(s) - data[i * dim + y[i]!]!;
  }
  return out;
}

export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  /** Peak learning rate of AdamW (cosine decay to 5 %). Default 2e-3. */
  lr?: number;
  weightDecay?: number;
  /** Random integer shifts up to this many pixels during training (0 = none). Default 0. */
  maxShift?: number;
  rng?: Rng;
  label?: string;
  quiet?: boolean;
}

/** Trains `net` from its current weights with cross-entropy and AdamW; returns the loop history. */
export async function trainClassifier(net: FeatureNet, images: tf.Tensor4D, labels: tf.Tensor1D | Int32Array, o: TrainOptions = {}): Promise<LoopHistory> {
  const n = images.shape[0];
  checkShape(images.shape, [null, ...net.config.inputShape], 'images');
  const y = labelsArray(labels, n, net.numClasses);
  const epochs = o.epochs ?? 5;
  const batchSize = Math.min(o.batchSize ?? 64, n);
  const lr = o.lr ?? 2e-3;
  const maxShift = o.maxShift ?? 0;
  checkInt(epochs, 'epochs', { min: 0 });
  checkInt(batchSize, 'batchSize', { min: 1 });
  checkNumber(lr, 'lr', { min: 0, exclusiveMin: true });
  const rng = o.rng ?? new Rng(0);
  const perEpoch = Math.ceil(n / batchSize);
  const steps = epochs * perEpoch;
  const opt = new AdamW({ lr, weightDecay: o.weightDecay ?? 0 });
  const yT = tf.tensor1d(y, 'int32');
  let perm = rng.permutation(n);
  try {
    return await runTraining({
      steps,
      schedule: warmupCosine({ lr, warmupSteps: Math.min(50, Math.floor(steps / 10)), totalSteps: steps, minRatio: 0.05 }),
      label: o.label ?? `train ${net.config.arch}`,
      quiet: o.quiet,
      step: (s, stepLr) => {
        const j = s % perEpoch;
        if (j === 0 && s > 0) perm = rng.permutation(n);
        const idx = perm.subarray(j * batchSize, Math.min(n, (j + 1) * batchSize));
        const idxT = tf.tensor1d(idx, 'int32');
        let xb = tf.gather(images, idxT) as tf.Tensor4D;
        const yb = tf.gather(yT, idxT) as tf.Tensor1D;
        if (maxShift > 0) {
          const shifted = randomShift(xb, maxShift, rng);
          xb.dispose();
          xb = shifted;
        }
        const oneHot = tf.oneHot(yb, net.numClasses);
        try {
          return trainStep(() => tf.losses.softmaxCrossEntropy(oneHot, net.logits(xb)) as tf.Scalar, net.vars, opt, { lr: stepLr, step: s });
        } finally {
          tf.dispose([idxT, xb, yb, oneHot]);
        }
      },
    });
  } finally {
    yT.dispose();
    opt.dispose();
  }
}

const NET_KIND = 'paperlab-radioactive-net';

/** Saves `net` (config + weights) as a paperlab checkpoint directory. */
export async function saveNet(dir: string, net: FeatureNet, meta: Record<string, JsonValue> = {}): Promise<void> {
  if (net instanceof LinearProbe) throw new PaperlabError('net', 'is a LinearProbe, whose frozen base network is not part of it', 'save the base network and the probe head separately');
  const config = net.config as unknown as JsonValue;
  await saveCheckpoint(dir, { step: 0, meta: { kind: NET_KIND, config, ...meta }, groups: { weights: await tensorsToGroup(net.vars) } });
}

/** Loads a network written by saveNet. */
export async function loadNet(dir: string): Promise<FeatureNet> {
  const ck = await loadCheckpoint(dir);
  const meta = ck.meta as { kind?: string; config?: NetConfig } | undefined;
  if (!meta || meta.kind !== NET_KIND || !meta.config) {
    throw new PaperlabError('network', `${dir} is a paperlab checkpoint but not a radioactive-data network`, 'pass a directory written by `paperlab radioactive train` or saveNet()');
  }
  const weights = ck.groups.weights;
  if (!weights) throw new PaperlabError('network', `${dir} has no weights group`, 'pass a directory written by saveNet()');
  const net = createNet(meta.config, new Rng(0));
  assignGroup(weights, net.vars, `network ${dir}`);
  return net;
}
