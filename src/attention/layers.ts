/**
 * Multi-head self-attention layers (tfjs layers: `getConfig` + `registerClass`, so
 * `model.save` / `tf.loadLayersModel` round-trip). Input [batch, seq, dModel] — or
 * [x, mask] with a key-padding mask [batch, seq] — output [batch, seq, dModel]:
 *
 *   q, k, v = x·Wq, x·Wk, x·Wv split into heads → attention of the layer's kind → merge → ·Wo
 *
 * `LSHSelfAttention` is shared-QK (one Wqk, keys = unit-length queries). Randomness (initial
 * weights, hash rotations drawn at every call, Performer features) comes from an `Rng` seeded by
 * the `seed` option, which the config records: the same seed gives the same numbers, and
 * `reseed(s)` restarts the per-call stream.
 */
import { tf, type Tensor, type Tensor4D } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkOneOf, describeShape } from '../core/errors.js';
import { Rng, getRng } from '../core/rng.js';
import { linear } from '../core/ops.js';
import { fullAttention } from './full.js';
import { HASH_KINDS, type HashKind } from './hash.js';
import { lshAttention } from './lsh.js';
import { LINFORMER_SHARING, type LinformerSharing, linformerAttention, refuseCausalLinformer } from './linformer.js';
import { linearAttention } from './linear.js';
import { defaultNbFeatures, drawOrthogonalFeatures, performerAttention } from './performer.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type LayerVariable = tf.LayerVariable;
type Shape = Array<number | null>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Kwargs = Record<string, any>;
type ConfigValue = string | number | boolean | null;

export interface AttentionLayerArgs extends LayerArgs {
  heads: number;
  /** Per-head width. Default dModel / heads. */
  dHead?: number;
  causal?: boolean;
  /** Seeds initial weights and per-call randomness. Default: drawn from the global Rng. */
  seed?: number;
  /** Check inputs for NaN/Inf (one read-back per call). Default true. */
  checkFinite?: boolean;
}

/** Splits [b, n, h·dh] into [b, h, n, dh]. */
export function splitHeads(x: Tensor, heads: number): Tensor4D {
  const [b, n, hd] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [b, n, heads, hd / heads]), [0, 2, 1, 3]) as Tensor4D;
}

/** Merges [b, h, n, dh] into [b, n, h·dh]. */
export function mergeHeads(x: Tensor): tf.Tensor3D {
  const [b, h, n, dh] = x.shape as [number, number, number, number];
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, n, h * dh]);
}

abstract class SelfAttentionBase extends tf.layers.Layer {
  readonly heads: number;
  readonly dHeadArg: number | undefined;
  readonly causal: boolean;
  readonly seed: number;
  readonly checkFinite: boolean;
  protected rng: Rng;
  protected dModel = 0;
  protected dHead = 0;
  protected wq?: LayerVariable;
  protected wk?: LayerVariable;
  protected wv?: LayerVariable;
  protected wo?: LayerVariable;
  /** LSH uses one projection for queries and keys. */
  protected readonly sharedQK: boolean = false;

  constructor(args: AttentionLayerArgs) {
    super(args);
    checkInt(args.heads, 'heads', { min: 1 });
    if (args.dHead != null) checkInt(args.dHead, 'dHead', { min: 1 });
    this.heads = args.heads;
    this.dHeadArg = args.dHead ?? undefined;
    this.causal = args.causal ?? false;
    this.seed = args.seed ?? getRng().nextU32();
    this.checkFinite = args.checkFinite ?? true;
    this.rng = new Rng(this.seed);
  }

  /** Restarts the layer's per-call random stream (hash rotations, feature redraws). */
  reseed(seed: number = this.seed): void {
    this.rng = new Rng(seed).fork('calls');
  }

  protected initWeight(name: string, shape: number[], std: number, trainable = true): LayerVariable {
    const w = this.addWeight(name, shape, 'float32', tf.initializers.zeros(), undefined, trainable);
    const n = shape.reduce((a, b) => a * b, 1);
    w.write(tf.tensor(this.rng.normalArray(n, 0, std), shape));
    return w;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const d = shape[shape.length - 1];
    check(typeof d === 'number' && d > 0, 'inputShape', `expected [batch, seq, dModel] with a known dModel, got ${describeShape(shape.map((s) => s ?? -1))}`, 'give the model input a fixed last dimension');
    this.dModel = d;
    this.dHead = this.dHeadArg ?? d / this.heads;
    check(Number.isInteger(this.dHead), 'heads', `dModel ${d} is not divisible by heads ${this.heads}`, 'choose heads dividing dModel, or pass dHead');
    const inner = this.heads * this.dHead;
    const std = 1 / Math.sqrt(d);
    this.rng = new Rng(this.seed);
    this.wq = this.initWeight('wq', [d, inner], std);
    if (!this.sharedQK) this.wk = this.initWeight('wk', [d, inner], std);
    this.wv = this.initWeight('wv', [d, inner], std);
    this.wo = this.initWeight('wo', [inner, d], 1 / Math.sqrt(inner));
    this.buildExtra(shape);
    this.rng = new Rng(this.seed).fork('calls');
    this.built = true;
  }

  /** Extra weights (Linformer projections, Performer features). */
  protected buildExtra(_inputShape: Shape): void {}

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return s.slice();
  }

  protected abstract attend(q: Tensor4D, k: Tensor4D, v: Tensor4D, mask: Tensor | undefined, kwargs: Kwargs): Tensor4D;

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const x = list[0]!;
    const mask = list[1] ?? (kwargs.mask instanceof tf.Tensor ? (kwargs.mask as Tensor) : undefined);
    check(x.rank === 3 && x.shape[2] === this.dModel, 'inputs', `expected [batch, seq, ${this.dModel}], got ${describeShape(x.shape)}`, 'pass the same dModel the layer was built with');
    return tf.tidy(() => {
      const q = splitHeads(linear(x, this.wq!.read()), this.heads);
      const k = this.sharedQK ? q : splitHeads(linear(x, this.wk!.read()), this.heads);
      const v = splitHeads(linear(x, this.wv!.read()), this.heads);
      const o = this.attend(q, k, v, mask, kwargs);
      return linear(mergeHeads(o), this.wo!.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const cfg: Record<string, ConfigValue> = { heads: this.heads, causal: this.causal, seed: this.seed, checkFinite: this.checkFinite };
    if (this.dHeadArg !== undefined) cfg.dHead = this.dHeadArg;
    return { ...super.getConfig(), ...cfg, ...this.extraConfig() };
  }

  protected extraConfig(): Record<string, ConfigValue> {
    return {};
  }
}

/** Full softmax multi-head attention. */
export class MultiHeadAttention extends SelfAttentionBase {
  static className = 'paperlab.MultiHeadAttention';
  protected attend(q: Tensor4D, k: Tensor4D, v: Tensor4D, mask: Tensor | undefined): Tensor4D {
    return fullAttention(q, k, v, { causal: this.causal, mask, checkFinite: this.checkFinite });
  }
}

export interface LSHSelfAttentionArgs extends AttentionLayerArgs {
  bucketSize?: number;
  nHashes?: number;
  nBuckets?: number;
  hash?: HashKind;
  hashBits?: number;
  attendAcrossBuckets?: boolean;
  allowDuplicateAttention?: boolean;
}

/**
 * Reformer LSH self-attention (shared-QK). Fresh hash rotations are drawn from the layer's Rng at
 * every call. Pass `{ nHashes }` or `{ fullAttention: true }` in the call's kwargs to evaluate
 * with other settings (the paper's Table 2 evaluates LSH-trained models with full attention).
 */
export class LSHSelfAttention extends SelfAttentionBase {
  static className = 'paperlab.LSHSelfAttention';
  protected override readonly sharedQK = true;
  readonly bucketSize: number;
  readonly nHashes: number;
  readonly nBuckets: number | undefined;
  readonly hash: HashKind;
  readonly hashBits: number | undefined;
  readonly attendAcrossBuckets: boolean;
  readonly allowDuplicateAttention: boolean;

  constructor(args: LSHSelfAttentionArgs) {
    super(args);
    this.bucketSize = args.bucketSize ?? 64;
    this.nHashes = args.nHashes ?? 4;
    this.nBuckets = args.nBuckets ?? undefined;
    this.hash = args.hash ?? 'angular';
    this.hashBits = args.hashBits ?? undefined;
    this.attendAcrossBuckets = args.attendAcrossBuckets ?? true;
    this.allowDuplicateAttention = args.allowDuplicateAttention ?? true;
    checkInt(this.bucketSize, 'bucketSize', { min: 1 });
    checkInt(this.nHashes, 'nHashes', { min: 1 });
    checkOneOf(this.hash, HASH_KINDS, 'hash');
    if (this.nBuckets !== undefined) {
      checkInt(this.nBuckets, 'nBuckets', { min: 2 });
      if (this.hash === 'angular') check(this.nBuckets % 2 === 0, 'nBuckets', `must be even for the angular hash, got ${this.nBuckets} (odd bucket count)`, `use ${this.nBuckets + 1}`);
    }
  }

  protected attend(q: Tensor4D, _k: Tensor4D, v: Tensor4D, mask: Tensor | undefined, kwargs: Kwargs): Tensor4D {
    if (kwargs.fullAttention === true) return fullAttention(q, q, v, { causal: this.causal, mask, sharedQK: true, checkFinite: this.checkFinite });
    return lshAttention(q, null, v, {
      causal: this.causal,
      mask,
      bucketSize: this.bucketSize,
      nHashes: typeof kwargs.nHashes === 'number' ? kwargs.nHashes : this.nHashes,
      nBuckets: this.nBuckets,
      hash: this.hash,
      hashBits: this.hashBits,
      attendAcrossBuckets: this.attendAcrossBuckets,
      allowDuplicateAttention: this.allowDuplicateAttention,
      rng: this.rng,
      checkFinite: this.checkFinite,
    });
  }

  protected override extraConfig(): Record<string, ConfigValue> {
    return {
      bucketSize: this.bucketSize,
      nHashes: this.nHashes,
      nBuckets: this.nBuckets ?? null,
      hash: this.hash,
      hashBits: this.hashBits ?? null,
      attendAcrossBuckets: this.attendAcrossBuckets,
      allowDuplicateAttention: this.allowDuplicateAttention,
    };
  }
}

export interface LinformerSelfAttentionArgs extends AttentionLayerArgs {
  /** Projected length. */
  k: number;
  /** Longest sequence (the projections' n); shorter inputs slice the projections. */
  maxLen: number;
  /** Default 'headwise'. 'layerwise' needs `projection` (a [k, maxLen] variable shared by the layers). */
  sharing?: LinformerSharing;
  /** The shared E = F for sharing 'layerwise' (e.g. `otherLayer.projection`). */
  projection?: tf.Variable;
}

/**
 * Linformer self-attention. `causal: true` is refused (no causal form). Layerwise sharing uses an
 * external variable, which a saved model cannot record: such layers refuse `getConfig`.
 */
export class LinformerSelfAttention extends SelfAttentionBase {
  static className = 'paperlab.LinformerSelfAttention';
  readonly k: number;
  readonly maxLen: number;
  readonly sharing: LinformerSharing;
  private external?: tf.Variable;
  private e?: LayerVariable;
  private f?: LayerVariable;

  constructor(args: LinformerSelfAttentionArgs) {
    super(args);
    if (args.causal) refuseCausalLinformer();
    checkInt(args.k, 'k', { min: 1 });
    checkInt(args.maxLen, 'maxLen', { min: 1 });
    check(args.k <= args.maxLen, 'k', `projected length k = ${args.k} exceeds maxLen n = ${args.maxLen} (k > n: nothing to compress)`, `use k < ${args.maxLen}, or full attention`);
    this.k = args.k;
    this.maxLen = args.maxLen;
    this.sharing = args.sharing ?? 'headwise';
    checkOneOf(this.sharing, LINFORMER_SHARING, 'sharing');
    if (this.sharing === 'layerwise') {
      check(args.projection instanceof tf.Variable, 'projection', "is required for sharing 'layerwise'", 'create one with tf.variable(linformerProjection(k, maxLen)) and pass it to every layer');
      check(args.projection.shape[0] === args.k && args.projection.shape[1] === args.maxLen, 'projection', `expected [${args.k}, ${args.maxLen}], got ${describeShape(args.projection.shape)}`, 'pass a [k, maxLen] variable');
      this.external = args.projection;
    } else check(args.projection === undefined, 'projection', `is only used with sharing 'layerwise', not '${this.sharing}'`, "drop it or use sharing 'layerwise'");
  }

  /** The E projection in use (the shared one for 'layerwise'). */
  get projection(): tf.Variable | undefined {
    return this.external ?? (this.e?.read() as tf.Variable | undefined);
  }

  protected override buildExtra(): void {
    const std = 1 / Math.sqrt(this.k);
    if (this.sharing === 'layerwise') return;
    const shape = this.sharing === 'none' ? [this.heads, this.k, this.maxLen] : [this.k, this.maxLen];
    this.e = this.initWeight('E', shape, std);
    if (this.sharing !== 'kv') this.f = this.initWeight('F', shape, std);
  }

  protected attend(q: Tensor4D, k: Tensor4D, v: Tensor4D, mask: Tensor | undefined): Tensor4D {
    const E = this.external ?? this.e!.read();
    const F = this.f?.read();
    return linformerAttention(q, k, v, { E, F, sharing: this.sharing, mask, checkFinite: this.checkFinite });
  }

  override getConfig(): tf.serialization.ConfigDict {
    if (this.external) {
      throw new PaperlabError('sharing', "'layerwise' uses a projection shared across layers, which a saved layer config cannot record", "save with sharing 'kv' (one projection per layer), or keep the shared projection in your own checkpoint");
    }
    return super.getConfig();
  }

  protected override extraConfig(): Record<string, ConfigValue> {
    return { k: this.k, maxLen: this.maxLen, sharing: this.sharing };
  }
}

export interface LinearAttentionArgs extends AttentionLayerArgs {
  /** Chunk length of the causal form. Default 64. */
  chunkSize?: number;
  eps?: number;
}

/** Linear (elu+1 kernel) multi-head attention, causal or not. */
export class LinearAttention extends SelfAttentionBase {
  static className = 'paperlab.LinearAttention';
  readonly chunkSize: number;
  readonly eps: number;
  constructor(args: LinearAttentionArgs) {
    super(args);
    this.chunkSize = args.chunkSize ?? 64;
    this.eps = args.eps ?? 1e-6;
    checkInt(this.chunkSize, 'chunkSize', { min: 1 });
  }
  protected attend(q: Tensor4D, k: Tensor4D, v: Tensor4D, mask: Tensor | undefined): Tensor4D {
    return linearAttention(q, k, v, { causal: this.causal, mask, chunkSize: this.chunkSize, eps: this.eps, checkFinite: this.checkFinite });
  }
  protected override extraConfig(): Record<string, ConfigValue> {
    return { chunkSize: this.chunkSize, eps: this.eps };
  }
}

export interface PerformerAttentionArgs extends AttentionLayerArgs {
  /** Random features m. Default round(dHead·ln dHead). */
  nbFeatures?: number;
  /** Redraw the features every this many training calls (0 = never). Default 1000. */
  redrawInterval?: number;
  chunkSize?: number;
  eps?: number;
}

/**
 * Performer (FAVOR+) multi-head attention. The random features are a non-trainable weight, so a
 * saved model keeps them; during training (`training: true` in the call kwargs) they are redrawn
 * every `redrawInterval` calls.
 */
export class PerformerAttention extends SelfAttentionBase {
  static className = 'paperlab.PerformerAttention';
  readonly nbFeatures: number | undefined;
  readonly redrawInterval: number;
  readonly chunkSize: number;
  readonly eps: number;
  private features?: LayerVariable;
  private trainingCalls = 0;

  constructor(args: PerformerAttentionArgs) {
    super(args);
    this.nbFeatures = args.nbFeatures ?? undefined;
    if (this.nbFeatures !== undefined) checkInt(this.nbFeatures, 'nbFeatures', { min: 1 });
    this.redrawInterval = args.redrawInterval ?? 1000;
    checkInt(this.redrawInterval, 'redrawInterval', { min: 0 });
    this.chunkSize = args.chunkSize ?? 64;
    this.eps = args.eps ?? 1e-6;
  }

  protected override buildExtra(): void {
    const m = this.nbFeatures ?? defaultNbFeatures(this.dHead);
    this.features = this.addWeight('features', [m, this.dHead], 'float32', tf.initializers.zeros(), undefined, false);
    const f = drawOrthogonalFeatures(m, this.dHead, this.rng);
    this.features.write(f);
    f.dispose();
  }

  /** Draws new random features now. */
  redrawFeatures(): void {
    const f = drawOrthogonalFeatures(this.features!.shape[0]!, this.dHead, this.rng);
    this.features!.write(f);
    f.dispose();
  }

  protected attend(q: Tensor4D, k: Tensor4D, v: Tensor4D, mask: Tensor | undefined, kwargs: Kwargs): Tensor4D {
    if (kwargs.training === true && this.redrawInterval > 0) {
      if (this.trainingCalls > 0 && this.trainingCalls % this.redrawInterval === 0) this.redrawFeatures();
      this.trainingCalls++;
    }
    return performerAttention(q, k, v, { causal: this.causal, mask, features: this.features!.read() as tf.Tensor2D, chunkSize: this.chunkSize, eps: this.eps, checkFinite: this.checkFinite });
  }

  protected override extraConfig(): Record<string, ConfigValue> {
    return { nbFeatures: this.nbFeatures ?? null, redrawInterval: this.redrawInterval, chunkSize: this.chunkSize, eps: this.eps };
  }
}

for (const cls of [MultiHeadAttention, LSHSelfAttention, LinformerSelfAttention, LinearAttention, PerformerAttention]) {
  tf.serialization.registerClass(cls);
}
