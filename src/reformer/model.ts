/**
 * The Reformer (Kitaev et al. 2020): a stack of reversible blocks whose first branch is (shared-QK
 * LSH) attention and whose second is a chunked feed-forward, both pre-LayerNorm; and ReformerLM, a
 * token language model around it.
 *
 *   x1 = x2 = x;  for each layer: y1 = x1 + Attn(LN(x2)), y2 = x2 + FF(LN(y1));  out = (y1 + y2)/2
 *
 * The attention kind is a training choice and can be overridden when evaluating, as the paper's
 * Table 2 does: an LSH-trained model evaluated with full (shared-QK) attention or with more hash
 * rounds (`forward(tokens, { attention: 'full' })`, `{ nHashes: 8 }`).
 *
 * `reversible: true` (default) computes gradients by recomputing activations from outputs; false
 * uses plain autodiff of the very same function (more memory, same numbers).
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, checkOneOf, describeShape } from '../core/errors.js';
import { Rng, getRng } from '../core/rng.js';
import { layerNorm, linear } from '../core/ops.js';
import { assignGroup, tensorsToGroup, type ArrayGroup } from '../core/checkpoint.js';
import { ATTENTION_KINDS, type AttentionKind } from '../attention/attention.js';
import { fullAttention } from '../attention/full.js';
import { HASH_KINDS, type HashKind, disposeHash, drawHash } from '../attention/hash.js';
import { lshAttention, lshAttentionWithBuckets, resolveLSH } from '../attention/lsh.js';
import { linformerAttention, refuseCausalLinformer } from '../attention/linformer.js';
import { linearAttention } from '../attention/linear.js';
import { defaultNbFeatures, drawOrthogonalFeatures, performerAttention } from '../attention/performer.js';
import { mergeHeads, splitHeads } from '../attention/layers.js';
import { chunkedFeedForward, feedForward } from './feedforward.js';
import { ReversibleBlock, reversibleSequence, type ResidualFn } from './reversible.js';

export interface ReformerConfig {
  dModel: number;
  depth: number;
  heads: number;
  /** Feed-forward width. Default 4·dModel. */
  dFF?: number;
  /** Attention used in training. Default 'lsh'. */
  attention?: AttentionKind;
  causal?: boolean;
  /** One projection for queries and keys (keys = unit-length queries for 'lsh'/'full'). Default: true for 'lsh'. */
  sharedQK?: boolean;
  bucketSize?: number;
  nHashes?: number;
  nBuckets?: number;
  hash?: HashKind;
  hashBits?: number;
  attendAcrossBuckets?: boolean;
  allowDuplicateAttention?: boolean;
  /** Longest sequence (Linformer's projection length; ReformerLM's positions). */
  maxLen?: number;
  /** Linformer projected length. Default min(64, maxLen). */
  linformerK?: number;
  /** Performer random features. Default round(dHead·ln dHead). */
  nbFeatures?: number;
  /** Linear/Performer causal chunk. Default 64. */
  chunkSize?: number;
  /** Feed-forward slices along the sequence. Default 1. */
  ffChunks?: number;
  /** Recompute activations in the backward pass. Default true. */
  reversible?: boolean;
  seed?: number;
}

export interface ForwardOptions {
  /** Evaluate with another attention kind ('full' on a shared-QK model is the Reformer's full shared-QK attention). */
  attention?: AttentionKind;
  /** LSH rounds for this pass. */
  nHashes?: number;
  /** Key-padding mask [batch, seq]. */
  mask?: Tensor;
  /**
   * LSH buckets per layer. Layers missing from the map hash and store their buckets there; layers
   * present reuse them, so several passes can share one bucketing (e.g. finite differences).
   * Within one pass the backward always reuses the forward's buckets, with or without this.
   */
  bucketCache?: LSHBucketCache;
}

/** Buckets by layer index: int32 data and shape [batch, heads, nHashes, paddedLength]. */
export type LSHBucketCache = Map<number, { data: Int32Array; shape: number[] }>;

type Resolved = Required<Omit<ReformerConfig, 'nBuckets' | 'hashBits' | 'maxLen' | 'nbFeatures' | 'linformerK'>> &
  Pick<ReformerConfig, 'nBuckets' | 'hashBits' | 'maxLen' | 'nbFeatures' | 'linformerK'>;

function resolve(c: ReformerConfig): Resolved {
  checkInt(c.dModel, 'dModel', { min: 1 });
  checkInt(c.depth, 'depth', { min: 1 });
  checkInt(c.heads, 'heads', { min: 1 });
  check(c.dModel % c.heads === 0, 'heads', `dModel ${c.dModel} is not divisible by heads ${c.heads}`, 'choose heads dividing dModel');
  const attention = c.attention ?? 'lsh';
  checkOneOf(attention, ATTENTION_KINDS, 'attention');
  const sharedQK = c.sharedQK ?? attention === 'lsh';
  if (attention === 'lsh') check(sharedQK, 'sharedQK', 'must be true for LSH attention (keys are the normalised queries)', 'drop sharedQK: false');
  const causal = c.causal ?? false;
  if (attention === 'linformer') {
    if (causal) refuseCausalLinformer();
    check(c.maxLen !== undefined, 'maxLen', 'is required for Linformer attention (the projections span the sequence)', 'pass maxLen');
  }
  const hash = c.hash ?? 'angular';
  checkOneOf(hash, HASH_KINDS, 'hash');
  const r: Resolved = {
    dModel: c.dModel,
    depth: c.depth,
    heads: c.heads,
    dFF: c.dFF ?? 4 * c.dModel,
    attention,
    causal,
    sharedQK,
    bucketSize: c.bucketSize ?? 64,
    nHashes: c.nHashes ?? 4,
    nBuckets: c.nBuckets,
    hash,
    hashBits: c.hashBits,
    attendAcrossBuckets: c.attendAcrossBuckets ?? true,
    allowDuplicateAttention: c.allowDuplicateAttention ?? true,
    maxLen: c.maxLen,
    linformerK: c.linformerK,
    nbFeatures: c.nbFeatures,
    chunkSize: c.chunkSize ?? 64,
    ffChunks: c.ffChunks ?? 1,
    reversible: c.reversible ?? true,
    seed: c.seed ?? getRng().nextU32(),
  };
  checkInt(r.dFF, 'dFF', { min: 1 });
  checkInt(r.ffChunks, 'ffChunks', { min: 1 });
  if (attention === 'lsh') resolveLSH(r.bucketSize, { bucketSize: r.bucketSize, nHashes: r.nHashes, nBuckets: r.nBuckets, hash });
  return r;
}

/** Where each parameter of a layer sits in its branch's parameter list. */
interface AttnLayout {
  lnG: number;
  lnB: number;
  wq: number;
  wk: number | undefined;
  wv: number;
  wo: number;
  e: number | undefined;
  f: number | undefined;
}

/** The reversible Reformer stack on embeddings [batch, seq, dModel]. */
export class Reformer {
  readonly config: Resolved;
  /** Trainable parameters by name (`l0.attn.wq`, …). */
  readonly variables: Record<string, tf.Variable> = {};
  /** Non-trainable state (Performer features) by name. */
  readonly buffers: Record<string, tf.Variable> = {};
  private readonly attnParams: tf.Variable[][] = [];
  private readonly ffParams: tf.Variable[][] = [];
  private readonly layout: AttnLayout;
  private callRng: Rng;

  constructor(config: ReformerConfig) {
    this.config = resolve(config);
    const c = this.config;
    const rng = new Rng(c.seed);
    const d = c.dModel;
    const add = (name: string, shape: number[], std: number | 'ones' | 'zeros'): tf.Variable => {
      const n = shape.reduce((a, b) => a * b, 1);
      const init = std === 'ones' ? tf.ones(shape) : std === 'zeros' ? tf.zeros(shape) : tf.tensor(rng.normalArray(n, 0, std), shape);
      const v = tf.variable(init, true);
      init.dispose();
      this.variables[name] = v;
      return v;
    };
    const outStd = 1 / Math.sqrt(d * 2 * c.depth);
    const withLinformer = c.attention === 'linformer';
    const k = withLinformer ? Math.min(c.linformerK ?? 64, c.maxLen!) : 0;
    this.layout = { lnG: 0, lnB: 1, wq: 2, wk: c.sharedQK ? undefined : 3, wv: c.sharedQK ? 3 : 4, wo: c.sharedQK ? 4 : 5, e: undefined, f: undefined };
    if (withLinformer) {
      this.layout.e = this.layout.wo + 1;
      this.layout.f = this.layout.wo + 2;
    }
    for (let i = 0; i < c.depth; i++) {
      const p = `l${i}`;
      const attn = [add(`${p}.attn.ln.g`, [d], 'ones'), add(`${p}.attn.ln.b`, [d], 'zeros'), add(`${p}.attn.wq`, [d, d], 1 / Math.sqrt(d))];
      if (!c.sharedQK) attn.push(add(`${p}.attn.wk`, [d, d], 1 / Math.sqrt(d)));
      attn.push(add(`${p}.attn.wv`, [d, d], 1 / Math.sqrt(d)), add(`${p}.attn.wo`, [d, d], outStd));
      if (withLinformer) attn.push(add(`${p}.attn.E`, [k, c.maxLen!], 1 / Math.sqrt(k)), add(`${p}.attn.F`, [k, c.maxLen!], 1 / Math.sqrt(k)));
      this.attnParams.push(attn);
      this.ffParams.push([
        add(`${p}.ff.ln.g`, [d], 'ones'),
        add(`${p}.ff.ln.b`, [d], 'zeros'),
        add(`${p}.ff.w1`, [d, c.dFF], 1 / Math.sqrt(d)),
        add(`${p}.ff.b1`, [c.dFF], 'zeros'),
        add(`${p}.ff.w2`, [c.dFF, d], 1 / Math.sqrt(c.dFF * 2 * c.depth)),
        add(`${p}.ff.b2`, [d], 'zeros'),
      ]);
      if (c.attention === 'performer') {
        const dh = d / c.heads;
        const f = drawOrthogonalFeatures(c.nbFeatures ?? defaultNbFeatures(dh), dh, rng);
        this.buffers[`${p}.attn.features`] = tf.variable(f, false);
        f.dispose();
      }
    }
    this.callRng = new Rng(c.seed).fork('calls');
  }

  /** Restarts the per-pass random stream (LSH rotations). */
  reseed(seed: number = this.config.seed): void {
    this.callRng = new Rng(seed).fork('calls');
  }

  /** Draws new Performer features for every layer. */
  redrawFeatures(): void {
    for (const v of Object.values(this.buffers)) {
      const f = drawOrthogonalFeatures(v.shape[0]!, v.shape[1]!, this.callRng);
      v.assign(f);
      f.dispose();
    }
  }

  /** The residual branches of layer `i` for one pass (LSH buckets are cached per pass). */
  private branches(i: number, o: ForwardOptions, kind: AttentionKind): { f: ResidualFn; g: ResidualFn } {
    const c = this.config;
    const L = this.layout;
    const heads = c.heads;
    const rng = this.callRng;
    const nHashes = o.nHashes ?? c.nHashes;
    const features = this.buffers[`l${i}.attn.features`];
    const cache: LSHBucketCache = o.bucketCache ?? new Map();
    const f: ResidualFn = (x, p) =>
      tf.tidy(() => {
        const h = layerNorm(x, p[L.lnG]!, p[L.lnB]!);
        const q = splitHeads(linear(h, p[L.wq]!), heads);
        const k = L.wk === undefined ? q : splitHeads(linear(h, p[L.wk]!), heads);
        const v = splitHeads(linear(h, p[L.wv]!), heads);
        let out: tf.Tensor4D;
        const common = { causal: c.causal, mask: o.mask, checkFinite: false };
        if (kind === 'full') out = fullAttention(q, k, v, { ...common, sharedQK: c.sharedQK });
        else if (kind === 'lsh') {
          const lopts = { ...common, bucketSize: c.bucketSize, nHashes, nBuckets: c.nBuckets, hash: c.hash, hashBits: c.hashBits, attendAcrossBuckets: c.attendAcrossBuckets, allowDuplicateAttention: c.allowDuplicateAttention };
          const cached = cache.get(i);
          if (cached) out = lshAttention(q, null, v, { ...lopts, buckets: tf.tensor(cached.data, cached.shape, 'int32') });
          else {
            const res = resolveLSH(q.shape[2], lopts);
            const hash = drawHash({ hash: res.hash, dim: q.shape[3], nBuckets: res.nBuckets, nHashes: res.nHashes, hashBits: c.hashBits }, rng);
            const r = lshAttentionWithBuckets(q, null, v, { ...lopts, hashParams: hash });
            cache.set(i, { data: r.buckets.dataSync() as Int32Array, shape: r.buckets.shape.slice() });
            disposeHash(hash);
            out = r.output;
          }
        } else if (kind === 'linformer') out = linformerAttention(q, k, v, { E: p[L.e!]!, F: p[L.f!]!, sharing: 'headwise', mask: o.mask, checkFinite: false });
        else if (kind === 'linear') out = linearAttention(q, k, v, { ...common, chunkSize: c.chunkSize });
        else out = performerAttention(q, k, v, { ...common, chunkSize: c.chunkSize, features: features as unknown as tf.Tensor2D });
        return linear(mergeHeads(out), p[L.wo]!);
      });
    const g: ResidualFn = (x, p) =>
      chunkedFeedForward(x, (part) => feedForward(layerNorm(part, p[0]!, p[1]!), { w1: p[2]!, b1: p[3]!, w2: p[4]!, b2: p[5]! }), c.ffChunks);
    return { f, g };
  }

  private checkKind(kind: AttentionKind): void {
    checkOneOf(kind, ATTENTION_KINDS, 'attention');
    const c = this.config;
    if (kind === 'lsh') check(c.sharedQK, 'attention', "'lsh' needs a shared-QK model (trained with sharedQK: true)", "evaluate with 'full', or train with attention 'lsh' / sharedQK: true");
    if (kind === 'linformer') check(c.attention === 'linformer', 'attention', "'linformer' needs the E/F projections of a model trained with Linformer", 'evaluate with the kind the model was trained with');
    if (kind === 'performer') check(c.attention === 'performer', 'attention', "'performer' needs the random features of a model built with Performer", 'evaluate with the kind the model was trained with');
  }

  /** The reversible blocks of one pass (exposed for tests and custom stacks). */
  blocks(o: ForwardOptions = {}): ReversibleBlock[] {
    const kind = o.attention ?? this.config.attention;
    this.checkKind(kind);
    if (o.nHashes !== undefined) checkInt(o.nHashes, 'nHashes', { min: 1 });
    return this.attnParams.map((ap, i) => {
      const { f, g } = this.branches(i, o, kind);
      return new ReversibleBlock(f, g, ap, this.ffParams[i]!, this.config.ffChunks);
    });
  }

  /** x [batch, seq, dModel] → [batch, seq, dModel]. */
  forward(x: Tensor, o: ForwardOptions = {}): tf.Tensor3D {
    check(x.rank === 3 && x.shape[2] === this.config.dModel, 'x', `expected [batch, seq, ${this.config.dModel}], got ${describeShape(x.shape)}`, 'embed the tokens to dModel first');
    if (this.config.attention === 'linformer' || o.attention === 'linformer') {
      check(x.shape[1]! <= this.config.maxLen!, 'x', `sequence length ${x.shape[1]} exceeds maxLen ${this.config.maxLen}`, 'raise maxLen or shorten the input');
    }
    const blocks = this.blocks(o);
    return tf.tidy(() => {
      let y1: Tensor;
      let y2: Tensor;
      if (this.config.reversible) [y1, y2] = reversibleSequence(blocks, x, x);
      else {
        y1 = x;
        y2 = x;
        for (const b of blocks) [y1, y2] = b.forward(y1, y2);
      }
      return tf.mul(tf.add(y1, y2), 0.5) as tf.Tensor3D;
    });
  }

  get numParams(): number {
    return Object.values(this.variables).reduce((s, v) => s + v.size, 0);
  }

  dispose(): void {
    tf.dispose([...Object.values(this.variables), ...Object.values(this.buffers)]);
  }
}

export interface ReformerLMConfig extends ReformerConfig {
  vocab: number;
  /** Longest sequence (learned positions). */
  maxLen: number;
}

/** Token batches, e.g. a `DuplicationBatch`: row-major [batch·length] ids. */
export interface TokenBatch {
  tokens: Int32Array;
  batch: number;
  length: number;
}

export interface LossOptions extends ForwardOptions {
  /**
   * Weight of predicting token t (from tokens < t), one per position (position 0 is never
   * predicted), e.g. `DuplicationBatch.scoreMask`. Default: every position 1…length−1 weighs 1.
   */
  weights?: Float32Array;
}

/** A Reformer language model: token + learned position embeddings → Reformer → LayerNorm → logits. */
export class ReformerLM {
  readonly config: ReformerLMConfig;
  readonly reformer: Reformer;
  /** All trainable parameters, for `trainStep`. */
  readonly variables: Record<string, tf.Variable>;

  constructor(config: ReformerLMConfig) {
    checkInt(config.vocab, 'vocab', { min: 2 });
    checkInt(config.maxLen, 'maxLen', { min: 1 });
    const cfg: ReformerLMConfig = { ...config, causal: config.causal ?? true, seed: config.seed ?? getRng().nextU32() };
    this.config = cfg;
    this.reformer = new Reformer(cfg);
    const rng = new Rng(cfg.seed!).fork('embeddings');
    const d = cfg.dModel;
    const v = (shape: number[], std: number | 'ones' | 'zeros'): tf.Variable => {
      const n = shape.reduce((a, b) => a * b, 1);
      const init = std === 'ones' ? tf.ones(shape) : std === 'zeros' ? tf.zeros(shape) : tf.tensor(rng.normalArray(n, 0, std), shape);
      const out = tf.variable(init, true);
      init.dispose();
      return out;
    };
    this.variables = {
      'emb.tokens': v([cfg.vocab, d], 0.02),
      'emb.positions': v([cfg.maxLen, d], 0.02),
      ...this.reformer.variables,
      'out.ln.g': v([d], 'ones'),
      'out.ln.b': v([d], 'zeros'),
      'out.w': v([d, cfg.vocab], 0.02),
      'out.b': v([cfg.vocab], 'zeros'),
    };
  }

  private tokensTensor(b: TokenBatch | tf.Tensor2D): tf.Tensor2D {
    if (b instanceof tf.Tensor) {
      check(b.rank === 2 && b.dtype === 'int32', 'tokens', `expected int32 [batch, seq], got ${b.dtype} ${describeShape(b.shape)}`, 'pass token ids as an int32 tensor');
      return b;
    }
    check(b.tokens.length === b.batch * b.length, 'tokens', `has ${b.tokens.length} ids but batch·length = ${b.batch * b.length}`, 'pass a row-major [batch·length] array');
    return tf.tensor2d(b.tokens, [b.batch, b.length], 'int32');
  }

  /** Logits [batch, seq, vocab]; position t predicts token t+1. */
  logits(tokens: TokenBatch | tf.Tensor2D, o: ForwardOptions = {}): tf.Tensor3D {
    const c = this.config;
    return tf.tidy(() => {
      const t = this.tokensTensor(tokens);
      const [b, n] = t.shape;
      check(n <= c.maxLen, 'tokens', `sequence length ${n} exceeds maxLen ${c.maxLen}`, 'raise maxLen or shorten the input');
      const ids = tf.reshape(t, [-1]);
      const max = tf.max(ids).dataSync()[0]!;
      const min = tf.min(ids).dataSync()[0]!;
      check(min >= 0 && max < c.vocab, 'tokens', `ids must lie in [0, ${c.vocab}), got [${min}, ${max}]`, 'map tokens into the vocabulary');
      // one-hot × table: the gather gradient (UnsortedSegmentSum) is quadratic on the cpu backend
      const emb = tf.reshape(tf.matMul(tf.oneHot(ids, c.vocab), this.variables['emb.tokens']!), [b, n, c.dModel]);
      const x = tf.add(emb, tf.slice(this.variables['emb.positions']!, [0, 0], [n, c.dModel]));
      const h = layerNorm(this.reformer.forward(x, o), this.variables['out.ln.g']!, this.variables['out.ln.b']!);
      return linear(h, this.variables['out.w']!, this.variables['out.b']!) as tf.Tensor3D;
    });
  }

  private targetsAndWeights(b: TokenBatch | tf.Tensor2D, weights: Float32Array | undefined): { targets: Tensor; w: Tensor; n: number } {
    const t = this.tokensTensor(b);
    const n = t.shape[1];
    check(n >= 2, 'tokens', `need at least 2 positions to predict the next token, got ${n}`, 'pass longer sequences');
    if (weights) check(weights.length === n, 'weights', `has ${weights.length} entries for sequences of ${n}`, 'pass one weight per position');
    const targets = tf.slice(t, [0, 1], [-1, n - 1]);
    const w = weights ? tf.tensor1d(weights.slice(1)) : tf.ones([n - 1]);
    if (t !== b) t.dispose();
    return { targets, w, n };
  }

  /** Weighted next-token cross-entropy (nats). */
  loss(b: TokenBatch | tf.Tensor2D, o: LossOptions = {}): tf.Scalar {
    return tf.tidy(() => {
      const { targets, w, n } = this.targetsAndWeights(b, o.weights);
      const logits = this.logits(b, o);
      const lp = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [-1, n - 1, -1]));
      const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(targets as tf.Tensor2D, this.config.vocab), lp), -1)); // [b, n-1]
      const total = tf.mul(tf.sum(w), targets.shape[0]!);
      return tf.div(tf.sum(tf.mul(nll, w)), total) as tf.Scalar;
    });
  }

  /** Loss and accuracy (argmax = target) on the weighted positions, without gradients. */
  evaluate(b: TokenBatch | tf.Tensor2D, o: LossOptions = {}): { loss: number; accuracy: number } {
    const [loss, acc] = tf.tidy(() => {
      const { targets, w, n } = this.targetsAndWeights(b, o.weights);
      const logits = tf.slice(this.logits(b, o), [0, 0, 0], [-1, n - 1, -1]);
      const lp = tf.logSoftmax(logits);
      const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(targets as tf.Tensor2D, this.config.vocab), lp), -1));
      const hit = tf.cast(tf.equal(tf.argMax(logits, -1), targets), 'float32');
      const total = tf.mul(tf.sum(w), targets.shape[0]!);
      return [tf.div(tf.sum(tf.mul(nll, w)), total), tf.div(tf.sum(tf.mul(hit, w)), total)];
    });
    const out = { loss: loss.dataSync()[0]!, accuracy: acc.dataSync()[0]! };
    tf.dispose([loss, acc]);
    return out;
  }

  /** Restarts the per-pass random stream (LSH rotations). */
  reseed(seed?: number): void {
    this.reformer.reseed(seed);
  }

  get numParams(): number {
    return Object.values(this.variables).reduce((s, v) => s + v.size, 0);
  }

  /** Weights (and Performer features) as stored arrays, for checkpoints. */
  async getWeights(): Promise<ArrayGroup> {
    return tensorsToGroup({ ...this.variables, ...this.reformer.buffers });
  }

  /** Loads weights written by `getWeights` of a model with the same configuration. */
  setWeights(group: ArrayGroup): void {
    assignGroup(group, { ...this.variables, ...this.reformer.buffers }, 'weights');
  }

  dispose(): void {
    this.reformer.dispose();
    tf.dispose([this.variables['emb.tokens']!, this.variables['emb.positions']!, this.variables['out.ln.g']!, this.variables['out.ln.b']!, this.variables['out.w']!, this.variables['out.b']!]);
  }
}

