/**
 * The networks of the two-stage recipe, sized for 28×28 digits on a CPU:
 *
 *   Encoder        image → representation r (what the linear probe reads; kept after training)
 *   ProjectionHead r → z, an MLP to 128 dimensions that the contrastive loss acts on (discarded)
 *
 * The encoder is a small CNN (3×3 stride-2 convolutions + ReLU, then a dense layer) or, for quick
 * runs on tfjs's own slow convolution kernels, an MLP. BYOL reuses both, and the head's optional
 * batch norm gives BYOL's projector and predictor (Linear → BN → ReLU → Linear).
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, checkOneOf, checkShape } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { BatchNorm, Conv2d, Dense, prefixed, type Module } from './nn.js';

export const ENCODER_KINDS = ['cnn', 'mlp'] as const;
export type EncoderKind = (typeof ENCODER_KINDS)[number];

export interface EncoderConfig {
  /** 'cnn' (default) or 'mlp' (fast with tfjs's own kernels). */
  kind?: EncoderKind;
  /** CNN: output channels of each 3×3 stride-2 convolution. Default [16, 32] (28→14→7). */
  channels?: number[];
  /** MLP: hidden layer widths. Default [256]. */
  hidden?: number[];
  /** Size of the representation r. Default 128. */
  dim?: number;
  /** Batch norm after every convolution / hidden layer. Default false. */
  batchNorm?: boolean;
  /** Average-pool the image by this factor first (2: 28×28 → 14×14, a 4× cheaper first layer). Default 1. */
  inputPool?: number;
  /** Input image side and channels. Default 28 and 1 (MNIST). */
  imageSize?: number;
  imageChannels?: number;
}

export type ResolvedEncoderConfig = Required<EncoderConfig>;

export function resolveEncoderConfig(c: EncoderConfig = {}): ResolvedEncoderConfig {
  const r: ResolvedEncoderConfig = {
    kind: c.kind ?? 'cnn',
    channels: c.channels ?? [16, 32],
    hidden: c.hidden ?? [256],
    dim: c.dim ?? 128,
    batchNorm: c.batchNorm ?? false,
    inputPool: c.inputPool ?? 1,
    imageSize: c.imageSize ?? 28,
    imageChannels: c.imageChannels ?? 1,
  };
  checkOneOf(r.kind, ENCODER_KINDS, 'encoder.kind');
  checkInt(r.dim, 'encoder.dim', { min: 1 });
  checkInt(r.imageSize, 'encoder.imageSize', { min: 1 });
  checkInt(r.imageChannels, 'encoder.imageChannels', { min: 1 });
  checkInt(r.inputPool, 'encoder.inputPool', { min: 1, max: r.imageSize });
  r.channels.forEach((ch, i) => checkInt(ch, `encoder.channels[${i}]`, { min: 1 }));
  r.hidden.forEach((h, i) => checkInt(h, `encoder.hidden[${i}]`, { min: 1 }));
  return r;
}

/** image [N, H, W, C] in [0, 1] → representation [N, dim] (after a ReLU, like a ResNet's pooled output). */
export class Encoder implements Module {
  readonly config: ResolvedEncoderConfig;
  private readonly convs: Conv2d[] = [];
  private readonly dense: Dense[] = [];
  private readonly norms: BatchNorm[] = [];

  constructor(config: EncoderConfig, rng: Rng) {
    const c = resolveEncoderConfig(config);
    this.config = c;
    if (c.kind === 'cnn') {
      let cin = c.imageChannels;
      let side = Math.floor(c.imageSize / c.inputPool);
      for (const ch of c.channels) {
        this.convs.push(new Conv2d(cin, ch, rng, { kernel: 3, stride: 2 }));
        if (c.batchNorm) this.norms.push(new BatchNorm(ch));
        cin = ch;
        side = Math.ceil(side / 2);
      }
      this.dense.push(new Dense(side * side * cin, c.dim, rng));
    } else {
      const side = Math.floor(c.imageSize / c.inputPool);
      let din = side * side * c.imageChannels;
      for (const h of c.hidden) {
        this.dense.push(new Dense(din, h, rng));
        if (c.batchNorm) this.norms.push(new BatchNorm(h));
        din = h;
      }
      this.dense.push(new Dense(din, c.dim, rng));
    }
  }

  get dim(): number {
    return this.config.dim;
  }

  /** Checks an image batch against the configured size; returns N. */
  checkImages(x: Tensor, argument = 'images'): number {
    const { imageSize: s, imageChannels: ch } = this.config;
    checkShape(x.shape, [null, s, s, ch], argument);
    return x.shape[0]!;
  }

  apply(x: tf.Tensor4D, training = false): tf.Tensor2D {
    const n = this.checkImages(x);
    return tf.tidy(() => {
      let h: Tensor = x;
      let k = 0;
      if (this.config.inputPool > 1) h = tf.avgPool(x, this.config.inputPool, this.config.inputPool, 'valid');
      if (this.config.kind === 'cnn') {
        this.convs.forEach((conv, i) => {
          h = conv.apply(h as tf.Tensor4D);
          if (this.config.batchNorm) h = this.norms[i]!.apply(h, training);
          h = tf.relu(h);
        });
        h = tf.reshape(h, [n, -1]);
      } else {
        h = tf.reshape(h, [n, -1]);
        for (; k < this.dense.length - 1; k++) {
          h = this.dense[k]!.apply(h);
          if (this.config.batchNorm) h = this.norms[k]!.apply(h, training);
          h = tf.relu(h);
        }
      }
      return tf.relu(this.dense[this.dense.length - 1]!.apply(h)) as tf.Tensor2D;
    });
  }

  variables(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    this.convs.forEach((m, i) => Object.assign(out, prefixed(`conv${i}`, m.variables())));
    this.dense.forEach((m, i) => Object.assign(out, prefixed(`dense${i}`, m.variables())));
    this.norms.forEach((m, i) => Object.assign(out, prefixed(`bn${i}`, m.variables())));
    return out;
  }

  buffers(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    this.norms.forEach((m, i) => Object.assign(out, prefixed(`bn${i}`, m.buffers())));
    return out;
  }

  dispose(): void {
    for (const m of [...this.convs, ...this.dense, ...this.norms]) m.dispose();
  }
}

export interface HeadConfig {
  /** Hidden width. Default: the input width. */
  hidden?: number;
  /** Output width. Default 128 (SupCon's projection). */
  out?: number;
  /** Linear → BN → ReLU → Linear (BYOL) instead of Linear → ReLU → Linear (SupCon). Default false. */
  batchNorm?: boolean;
}

/** Two-layer MLP head: SupCon's projection head, BYOL's projector and predictor. */
export class MlpHead implements Module {
  readonly hidden: number;
  readonly out: number;
  readonly batchNorm: boolean;
  private readonly fc1: Dense;
  private readonly fc2: Dense;
  private readonly bn: BatchNorm | undefined;

  constructor(
    readonly inDim: number,
    config: HeadConfig,
    rng: Rng,
  ) {
    checkInt(inDim, 'inDim', { min: 1 });
    this.hidden = config.hidden ?? inDim;
    this.out = config.out ?? 128;
    this.batchNorm = config.batchNorm ?? false;
    checkInt(this.hidden, 'head.hidden', { min: 1 });
    checkInt(this.out, 'head.out', { min: 1 });
    this.fc1 = new Dense(inDim, this.hidden, rng, { bias: !this.batchNorm });
    this.bn = this.batchNorm ? new BatchNorm(this.hidden) : undefined;
    this.fc2 = new Dense(this.hidden, this.out, rng, { gain: 1 });
  }

  apply(x: Tensor, training = false): tf.Tensor2D {
    check(x.rank === 2 && x.shape[1] === this.inDim, 'x', `expected [N, ${this.inDim}], got [${x.shape.join(', ')}]`, 'pass the encoder output');
    return tf.tidy(() => {
      let h = this.fc1.apply(x);
      if (this.bn) h = this.bn.apply(h, training);
      return this.fc2.apply(tf.relu(h)) as tf.Tensor2D;
    });
  }

  variables(): Record<string, tf.Variable> {
    return { ...prefixed('fc1', this.fc1.variables()), ...(this.bn ? prefixed('bn', this.bn.variables()) : {}), ...prefixed('fc2', this.fc2.variables()) };
  }

  buffers(): Record<string, tf.Variable> {
    return this.bn ? prefixed('bn', this.bn.buffers()) : {};
  }

  dispose(): void {
    this.fc1.dispose();
    this.fc2.dispose();
    this.bn?.dispose();
  }
}

/** SupCon's projection head: representation → 128-d embedding (Linear → ReLU → Linear). */
export class ProjectionHead extends MlpHead {
  constructor(inDim: number, rng: Rng, config: HeadConfig = {}) {
    super(inDim, config, rng);
  }
}
