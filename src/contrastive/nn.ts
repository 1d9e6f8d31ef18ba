/**
 * The few building blocks the contrastive and BYOL models need, as small classes that own explicit
 * tf.Variables. Explicit variables keep the papers' mechanics visible: which parameters a loss
 * differentiates (stop-gradient), which ones an EMA copies (BYOL's target), and which ones a linear
 * probe freezes. Every initialiser draws from the caller's Rng, so the same seed gives the same net.
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, checkNumber } from '../core/errors.js';
import { linear } from '../core/ops.js';
import type { Rng } from '../core/rng.js';

/** Anything with parameters: `variables()` maps stable names to the trainable tf.Variables. */
export interface Module {
  variables(): Record<string, tf.Variable>;
  /** Non-trainable state (batch-norm running statistics). */
  buffers(): Record<string, tf.Variable>;
  dispose(): void;
}

/** Prefixes every key of a variable record, e.g. to merge an encoder's and a head's variables. */
export function prefixed(prefix: string, vars: Record<string, tf.Variable>): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(vars)) out[`${prefix}/${k}`] = v;
  return out;
}

/**
 * The identity in the forward pass and a zero gradient in the backward pass (PyTorch's
 * `.detach()`, JAX's `stop_gradient`); tfjs has no such op.
 */
export function detach<T extends Tensor>(x: T): T {
  const f = tf.customGrad((...inputs: Array<Tensor | tf.GradSaveFunc>) => ({
    value: tf.clone(inputs[0] as Tensor),
    gradFunc: (dy: Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as T;
}

/** x / max(‖x‖₂, eps) along the last axis (PyTorch's F.normalize). */
export function l2Normalize<T extends Tensor>(x: T, eps = 1e-12): T {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
    return tf.div(x, tf.maximum(norm, eps)) as T;
  });
}

/** He-normal (fan-in) initial values, the default for layers followed by ReLU. */
function heNormal(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalArray(n, 0, Math.sqrt(2 / fanIn)), shape, 'float32');
}

/** Fully connected layer y = x·W + b on the last axis. */
export class Dense implements Module {
  readonly w: tf.Variable;
  readonly b: tf.Variable | undefined;
  constructor(
    readonly inDim: number,
    readonly outDim: number,
    rng: Rng,
    opts: { bias?: boolean; gain?: number } = {},
  ) {
    checkInt(inDim, 'inDim', { min: 1 });
    checkInt(outDim, 'outDim', { min: 1 });
    const gain = opts.gain ?? Math.SQRT2;
    const n = inDim * outDim;
    this.w = tf.tidy(() => tf.variable(tf.tensor2d(rng.normalArray(n, 0, gain / Math.sqrt(inDim)), [inDim, outDim])));
    this.b = opts.bias === false ? undefined : tf.tidy(() => tf.variable(tf.zeros([outDim])));
  }
  apply(x: Tensor): Tensor {
    return linear(x, this.w, this.b);
  }
  variables(): Record<string, tf.Variable> {
    return this.b ? { w: this.w, b: this.b } : { w: this.w };
  }
  buffers(): Record<string, tf.Variable> {
    return {};
  }
  dispose(): void {
    this.w.dispose();
    this.b?.dispose();
  }
}

/** 3×3 (or k×k) convolution with 'same' padding and a bias, NHWC. */
export class Conv2d implements Module {
  readonly w: tf.Variable;
  readonly b: tf.Variable;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    rng: Rng,
    readonly opts: { kernel?: number; stride?: number } = {},
  ) {
    checkInt(inChannels, 'inChannels', { min: 1 });
    checkInt(outChannels, 'outChannels', { min: 1 });
    const k = opts.kernel ?? 3;
    checkInt(k, 'kernel', { min: 1 });
    this.w = tf.variable(heNormal(rng, [k, k, inChannels, outChannels], k * k * inChannels));
    this.b = tf.tidy(() => tf.variable(tf.zeros([outChannels])));
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    const s = this.opts.stride ?? 1;
    return tf.tidy(() => tf.add(tf.conv2d(x, this.w as tf.Tensor4D, s, 'same'), this.b));
  }
  variables(): Record<string, tf.Variable> {
    return { w: this.w, b: this.b };
  }
  buffers(): Record<string, tf.Variable> {
    return {};
  }
  dispose(): void {
    this.w.dispose();
    this.b.dispose();
  }
}

/**
 * Batch normalisation over every axis but the last (channels). In training it normalises with the
 * batch's own mean and (biased) variance and folds them into running averages; in evaluation it
 * uses the running averages.
 */
export class BatchNorm implements Module {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  constructor(
    readonly channels: number,
    readonly momentum = 0.9,
    readonly eps = 1e-5,
  ) {
    checkInt(channels, 'channels', { min: 1 });
    checkNumber(momentum, 'momentum', { min: 0, max: 1 });
    this.gamma = tf.tidy(() => tf.variable(tf.ones([channels])));
    this.beta = tf.tidy(() => tf.variable(tf.zeros([channels])));
    this.runningMean = tf.tidy(() => tf.variable(tf.zeros([channels]), false));
    this.runningVar = tf.tidy(() => tf.variable(tf.ones([channels]), false));
  }
  apply(x: Tensor, training: boolean): Tensor {
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    if (!training) {
      return tf.tidy(() => tf.add(tf.mul(tf.div(tf.sub(x, this.runningMean), tf.sqrt(tf.add(this.runningVar, this.eps))), this.gamma), this.beta));
    }
    check(x.shape[0]! > 1, 'batch', `batch norm in training needs more than one sample, got shape [${x.shape.join(', ')}]`, 'use a batch of at least 2');
    const { mean, variance } = tf.moments(x, axes);
    const m = this.momentum;
    this.runningMean.assign(tf.tidy(() => tf.add(tf.mul(this.runningMean, m), tf.mul(detach(mean), 1 - m))));
    this.runningVar.assign(tf.tidy(() => tf.add(tf.mul(this.runningVar, m), tf.mul(detach(variance), 1 - m))));
    const out = tf.tidy(() => tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps))), this.gamma), this.beta));
    mean.dispose();
    variance.dispose();
    return out;
  }
  variables(): Record<string, tf.Variable> {
    return { gamma: this.gamma, beta: this.beta };
  }
  buffers(): Record<string, tf.Variable> {
    return { runningMean: this.runningMean, runningVar: this.runningVar };
  }
  dispose(): void {
    for (const v of [this.gamma, this.beta, this.runningMean, this.runningVar]) v.dispose();
  }
}

/** Copies every value of `from` into `to` (same keys and shapes), e.g. BYOL's target initialisation. */
export function copyVariables(from: Record<string, tf.Variable>, to: Record<string, tf.Variable>): void {
  for (const [k, v] of Object.entries(to)) {
    const src = from[k];
    check(src !== undefined, 'from', `has no variable '${k}'`, 'copy between modules built from the same config');
    check(src.shape.join(',') === v.shape.join(','), 'from', `variable '${k}' has shape [${src.shape.join(', ')}] but the target has [${v.shape.join(', ')}]`, 'copy between modules built from the same config');
    v.assign(src);
  }
}
