/**
 * A GPT decoder language model, laid out like nanoGPT's model.py: token + position embeddings,
 * pre-LN blocks (causal self-attention, GELU MLP), a final LayerNorm and an output head tied to
 * the token embedding. Initialisation is GPT-2's: N(0, 0.02) everywhere, residual projections
 * (attn.c_proj, mlp.c_proj) N(0, 0.02/√(2·nLayer)), biases 0, LayerNorm gains 1.
 *
 * The residual stream is kept 2-D ([B·T, C]) so every dense layer is one 2-D matmul (tfjs's matMul
 * gradient does not reduce broadcast batch dimensions), and attention works on [B·H, T, D].
 *
 * ```ts
 * const gpt = new GPT({ vocabSize: 85, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 64 }, new Rng(0));
 * const loss = gpt.loss(idx, targets);   // idx, targets: int32 [B, T]
 * ```
 */
import { tf, type Tensor } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkNumber, checkOneOf, checkShape } from '../core/errors.js';
import { GELU_FORMS, gelu, layerNorm, linear, type GELUForm } from '../core/ops.js';
import type { Rng } from '../core/rng.js';
import { engineInfo } from '../core/engine.js';
import { Attention, attentionKind, attentionKinds, createAttention, disposeDecodeState, type DecodeState } from '../attention/registry.js';

export const GPT_ATTENTION_KINDS = ['full', 'linear', 'performer', 'lsh'] as const;
export type GPTAttentionKind = (typeof GPT_ATTENTION_KINDS)[number];

export interface GPTConfig {
  vocabSize: number;
  /** Longest context (positions 0 … blockSize−1). */
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Dropout rate on embeddings, attention weights and residual branches (training only). Default 0. */
  dropout?: number;
  /** Biases in the dense layers and LayerNorms (GPT-2: true). Default true. */
  bias?: boolean;
  /**
   * Self-attention kind. Default 'full' (exact causal softmax attention, with a KV cache for
   * sampling); 'linear' (φ = elu + 1), 'performer' (FAVOR+) and 'lsh' (Reformer, shared QK) come
   * from src/attention, in their causal forms.
   */
  attention?: GPTAttentionKind;
  /** Options of the non-full kinds (defaults: the attention module's). */
  attentionOptions?: GPTAttentionOptions;
  /** MLP activation: 'tanh' (GPT-2's approximation, the default) or 'erf' (exact, nanoGPT's nn.GELU()). */
  gelu?: GELUForm;
}

export interface GPTAttentionOptions {
  /** lsh: chunk length (default 64, at most blockSize is useful). */
  bucketSize?: number;
  /** lsh: hashing rounds (default 4). */
  nHashes?: number;
  /** performer: random features per head (default round(d·ln d)); drawn once per layer at construction. */
  nbFeatures?: number;
  /** linear/performer: chunk length of the causal prefix sums (default 64). */
  chunkSize?: number;
}

/** nanoGPT's GPTConfig defaults (except vocabSize, which always comes from the tokenizer, and gelu: GPT-2's 'tanh', where nanoGPT's nn.GELU() is 'erf'). */
export const GPT_DEFAULTS: Omit<Required<GPTConfig>, 'vocabSize'> = {
  blockSize: 256,
  nLayer: 6,
  nHead: 6,
  nEmbd: 384,
  dropout: 0,
  bias: true,
  attention: 'full',
  attentionOptions: {},
  gelu: 'tanh',
};

/** Fills defaults and validates a config; every mistake names the field. */
export function resolveGPTConfig(config: Partial<GPTConfig> & { vocabSize: number }): Required<GPTConfig> {
  const c: Required<GPTConfig> = { ...GPT_DEFAULTS, ...stripUndefined(config) } as Required<GPTConfig>;
  checkInt(c.vocabSize, 'vocabSize', { min: 2 });
  checkInt(c.blockSize, 'blockSize', { min: 1 });
  checkInt(c.nLayer, 'nLayer', { min: 1 });
  checkInt(c.nHead, 'nHead', { min: 1 });
  checkInt(c.nEmbd, 'nEmbd', { min: 1 });
  check(c.nEmbd % c.nHead === 0, 'nEmbd', `${c.nEmbd} is not divisible by nHead = ${c.nHead}`, 'choose nEmbd as a multiple of nHead (e.g. nHead 4, nEmbd 128)');
  checkNumber(c.dropout, 'dropout', { min: 0, max: 0.99 });
  check(typeof c.bias === 'boolean', 'bias', `expected true or false, got ${String(c.bias)}`, 'pass bias: true (GPT-2) or false');
  check(attentionKinds().includes(c.attention), 'attention', `'${String(c.attention)}' is not an attention kind`, `use one of ${GPT_ATTENTION_KINDS.join(', ')}`);
  check(attentionKind(c.attention).capabilities.causal, 'attention', `'${c.attention}' has no causal form`, `use one of ${GPT_ATTENTION_KINDS.join(', ')}`);
  checkOneOf(c.gelu, GELU_FORMS, 'gelu');
  const ao = c.attentionOptions ?? {};
  check(typeof ao === 'object' && !Array.isArray(ao), 'attentionOptions', 'must be an object', 'pass e.g. { bucketSize: 32, nHashes: 2 }');
  for (const k of ['bucketSize', 'nHashes', 'nbFeatures', 'chunkSize'] as const) if (ao[k] !== undefined) checkInt(ao[k]!, `attentionOptions.${k}`, { min: 1 });
  c.attentionOptions = stripUndefined(ao);
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Number of trainable parameters of a config (the tied head adds none). */
export function gptParamCount(config: Partial<GPTConfig> & { vocabSize: number }): number {
  const c = { ...GPT_DEFAULTS, ...stripUndefined(config) } as Required<GPTConfig>;
  const C = c.nEmbd;
  const b = c.bias ? 1 : 0;
  const perLayer = 2 * C * (1 + b) + C * 3 * C + b * 3 * C + C * C + b * C + C * 4 * C + b * 4 * C + 4 * C * C + b * C;
  return c.vocabSize * C + c.blockSize * C + c.nLayer * perLayer + C * (1 + b);
}

/**
 * The decoding state of every layer for the positions seen so far, so that generating one more
 * token costs one forward step over one position: keys and values for full attention, the
 * recurrent sums (O(1) in the context) for linear and Performer. Owned tensors; call dispose().
 */
export class KVCache {
  /** Positions held (the next token goes at this position). */
  length = 0;
  /** Per layer: the attention's decoding state. */
  layers: Array<DecodeState | undefined>;

  constructor(
    readonly nLayer: number,
    readonly batch: number,
  ) {
    this.layers = new Array(nLayer).fill(undefined);
  }

  dispose(): void {
    for (const l of this.layers) disposeDecodeState(l);
    this.layers = new Array(this.nLayer).fill(undefined);
    this.length = 0;
  }
}

let instances = 0;

/**
 * True when the gather gradient (UnsortedSegmentSum) is cheap: tfjs-node, or a native kernel over the
 * cpu backend. (On wasm it is missing altogether, so the one-hot path is the one that trains there.)
 */
function gatherIsFast(): boolean {
  const e = engineInfo();
  return Boolean(e && (e.backend === 'tensorflow' || (e.backend === 'cpu' && e.native.active && e.native.kernels.includes('UnsortedSegmentSum'))));
}

export class GPT {
  readonly config: Required<GPTConfig>;
  /** Parameters by nanoGPT-style name: wte, wpe, h.0.ln_1.weight, h.0.attn.c_attn.weight, …, ln_f.bias. */
  readonly variables: Record<string, tf.Variable>;
  /** Fixed non-trainable tensors (Performer's random features, `h.{i}.attn.features`); saved with checkpoints. */
  readonly buffers: Record<string, tf.Tensor>;
  /** The attention of each layer (kind, options, parameters, decoding). */
  readonly attn: Attention[];
  /** When true, dropout is applied (set by the trainer; sampling and evaluation leave it false). */
  training = false;
  /** Stream that seeds dropout masks; the trainer points it at its own RNG so resumes are exact. */
  dropoutRng: Rng;
  private readonly zeros: Map<number, Tensor> = new Map();
  private disposed = false;

  constructor(config: Partial<GPTConfig> & { vocabSize: number }, rng: Rng) {
    this.config = resolveGPTConfig(config);
    const { vocabSize: V, blockSize: T, nLayer: L, nEmbd: C, bias } = this.config;
    const id = instances++;
    const vars: Record<string, tf.Variable> = {};
    const add = (name: string, shape: number[], init: 'normal' | 'zeros' | 'ones', std = 0.02): void => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = init === 'normal' ? rng.normalArray(n, 0, std) : new Float32Array(n).fill(init === 'ones' ? 1 : 0);
      vars[name] = tf.tidy(() => tf.variable(tf.tensor(data, shape, 'float32'), true, `gpt${id}/${name}`)); // tidy: the initial tensor would outlive dispose()
    };
    const projStd = 0.02 / Math.sqrt(2 * L);
    add('wte', [V, C], 'normal');
    add('wpe', [T, C], 'normal');
    for (let i = 0; i < L; i++) {
      const p = `h.${i}`;
      add(`${p}.ln_1.weight`, [C], 'ones');
      if (bias) add(`${p}.ln_1.bias`, [C], 'zeros');
      add(`${p}.attn.c_attn.weight`, [C, 3 * C], 'normal');
      if (bias) add(`${p}.attn.c_attn.bias`, [3 * C], 'zeros');
      add(`${p}.attn.c_proj.weight`, [C, C], 'normal', projStd);
      if (bias) add(`${p}.attn.c_proj.bias`, [C], 'zeros');
      add(`${p}.ln_2.weight`, [C], 'ones');
      if (bias) add(`${p}.ln_2.bias`, [C], 'zeros');
      add(`${p}.mlp.c_fc.weight`, [C, 4 * C], 'normal');
      if (bias) add(`${p}.mlp.c_fc.bias`, [4 * C], 'zeros');
      add(`${p}.mlp.c_proj.weight`, [4 * C, C], 'normal', projStd);
      if (bias) add(`${p}.mlp.c_proj.bias`, [C], 'zeros');
    }
    add('ln_f.weight', [C], 'ones');
    if (bias) add('ln_f.bias', [C], 'zeros');
    this.variables = vars;
    // One attention per layer; its buffers (Performer's features) are drawn after the weights, so a
    // model's initial weights do not depend on its attention kind.
    this.attn = [];
    this.buffers = {};
    const ctx = { heads: this.config.nHead, dHead: C / this.config.nHead, causal: true, maxLen: T };
    for (let i = 0; i < L; i++) {
      // attentionOptions is one bag for every kind: each kind takes the options it has
      const own = Object.fromEntries(Object.entries(this.config.attentionOptions).filter(([key]) => key in attentionKind(this.config.attention).defaults));
      const a = createAttention(this.config.attention, own, ctx);
      this.attn.push(a);
      a.paramSpecs.forEach((spec) => {
        const t = tf.keep(spec.init(rng));
        if (spec.trainable) vars[`h.${i}.attn.${spec.name}`] = tf.variable(t, true, `gpt${id}/h.${i}.attn.${spec.name}`);
        else this.buffers[`h.${i}.attn.${spec.name}`] = t;
      });
    }
    this.dropoutRng = rng.fork('gpt-dropout');
  }

  /** Number of parameters (the tied output head is counted once). */
  get paramCount(): number {
    return Object.values(this.variables).reduce((a, v) => a + v.size, 0);
  }

  private v(name: string): tf.Variable {
    const x = this.variables[name];
    if (!x) throw new PaperlabError('GPT variables', `have no '${name}'`, 'construct the model with the same config as the checkpoint');
    return x;
  }

  private optionalBias(name: string): Tensor | undefined {
    return this.config.bias ? this.v(name) : undefined;
  }

  /** LayerNorm shift: the variable, or zeros when bias is off. */
  private lnBeta(name: string): Tensor {
    if (this.config.bias) return this.v(name);
    const C = this.config.nEmbd;
    let z = this.zeros.get(C);
    if (!z) {
      z = tf.keep(tf.zeros([C]));
      this.zeros.set(C, z);
    }
    return z;
  }

  private dropout(x: Tensor): Tensor {
    const p = this.config.dropout;
    if (!this.training || p <= 0) return x;
    return tf.dropout(x, p, undefined, this.dropoutRng.tfSeed());
  }

  private checkIdx(idx: tf.Tensor, argument: string, past = 0): { B: number; T: number } {
    this.checkAlive();
    const dims = checkShape(idx.shape, ['B', 'T'], argument);
    check(idx.dtype === 'int32', argument, `must be int32 token ids, got dtype ${idx.dtype}`, 'build it with tf.tensor2d(ids, [B, T], "int32")');
    const B = dims.B!;
    const T = dims.T!;
    check(T >= 1, argument, 'has no positions', 'pass at least one token per row');
    check(
      past + T <= this.config.blockSize,
      argument,
      `${past > 0 ? `${past} cached + ` : ''}${T} positions exceed blockSize ${this.config.blockSize}`,
      `crop the context to the last ${this.config.blockSize} tokens (or train with a larger blockSize)`,
    );
    return { B, T };
  }

  private checkAlive(): void {
    if (this.disposed) throw new PaperlabError('GPT', 'was disposed', 'create a new model (or load the checkpoint again)');
  }

  /** Token + position embeddings for positions past … past+T−1, as [B·T, C]. */
  private embed(idx: tf.Tensor2D, B: number, T: number, past: number): Tensor {
    const { nEmbd: C, vocabSize: V } = this.config;
    const flat = tf.reshape(idx, [B * T]);
    // tfjs's own gather gradient (UnsortedSegmentSum) costs O(vocab·B·T·C) on the cpu backend, so
    // without a native scatter-add the lookup is a one-hot matmul (same numbers, a cheap gradient).
    const tok = gatherIsFast() || V > 8192 ? tf.gather(this.v('wte'), flat) : tf.matMul(tf.oneHot(flat, V, 1, 0, 'float32'), this.v('wte') as unknown as tf.Tensor2D);
    const pos = tf.slice(this.v('wpe'), [past, 0], [T, C]);
    const x = tf.add(tf.reshape(tok, [B, T, C]), pos);
    return tf.reshape(this.dropout(x), [B * T, C]);
  }

  /** Layer i's attention parameters, in its kind's order. */
  private attnParams(i: number): Tensor[] {
    return this.attn[i]!.paramSpecs.map((p) => this.variables[`h.${i}.attn.${p.name}`] ?? this.buffers[`h.${i}.attn.${p.name}`]!);
  }

  /**
   * Causal self-attention of layer `i` on the normalised stream h ([B·T, C]). With a cache, the T
   * new positions continue the cached ones (KV cache or recurrent state) and the cache is extended.
   */
  private attention(i: number, h: Tensor, B: number, T: number, cache?: KVCache): Tensor {
    const { nHead: H, nEmbd: C } = this.config;
    const D = C / H;
    const p = `h.${i}.attn`;
    const qkv = linear(h, this.v(`${p}.c_attn.weight`), this.optionalBias(`${p}.c_attn.bias`));
    // [B·T, 3C] → [B, T, 3, H, D] → [3, B, H, T, D]: q, k, v are contiguous slices along axis 0.
    const heads = tf.transpose(tf.reshape(qkv, [B, T, 3, H, D]), [2, 0, 3, 1, 4]);
    const [q, k0, v] = tf.unstack(heads, 0) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const attn = this.attn[i]!;
    const k = attn.sharedQK ? q : k0;
    let y: tf.Tensor4D;
    if (cache) {
      const r = attn.extend(q, k, v, cache.layers[i] ?? null, this.attnParams(i));
      for (const t of r.state.tensors) tf.keep(t);
      cache.layers[i] = r.state;
      y = r.output;
    } else {
      const dropout = this.training && this.config.dropout > 0 ? (x: Tensor) => this.dropout(x) : undefined;
      y = attn.forward(q, k, v, { params: this.attnParams(i), rng: this.dropoutRng, checkFinite: false, dropout });
    }
    const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B * T, C]);
    return this.dropout(linear(merged, this.v(`${p}.c_proj.weight`), this.optionalBias(`${p}.c_proj.bias`)));
  }

  /** Whether `forwardCached` works: full (KV cache), linear and Performer (recurrent state); LSH recomputes. */
  get supportsKVCache(): boolean {
    return this.attn[0]!.canDecode;
  }

  private mlp(i: number, h: Tensor): Tensor {
    const p = `h.${i}.mlp`;
    const u = gelu(linear(h, this.v(`${p}.c_fc.weight`), this.optionalBias(`${p}.c_fc.bias`)), this.config.gelu);
    return this.dropout(linear(u, this.v(`${p}.c_proj.weight`), this.optionalBias(`${p}.c_proj.bias`)));
  }

  /** Final hidden states [B·T, C] after ln_f. */
  private hidden(idx: tf.Tensor2D, B: number, T: number, cache?: KVCache): Tensor {
    const past = cache ? cache.length : 0;
    let x = this.embed(idx, B, T, past);
    for (let i = 0; i < this.config.nLayer; i++) {
      const p = `h.${i}`;
      x = tf.add(x, this.attention(i, layerNorm(x, this.v(`${p}.ln_1.weight`), this.lnBeta(`${p}.ln_1.bias`)), B, T, cache));
      x = tf.add(x, this.mlp(i, layerNorm(x, this.v(`${p}.ln_2.weight`), this.lnBeta(`${p}.ln_2.bias`))));
    }
    if (cache) cache.length = past + T;
    return layerNorm(x, this.v('ln_f.weight'), this.lnBeta('ln_f.bias'));
  }

  /** Logits [B·T, V] through the tied head (hidden · wteᵀ). */
  private head(x: Tensor): tf.Tensor2D {
    return tf.matMul(x as tf.Tensor2D, this.v('wte') as unknown as tf.Tensor2D, false, true);
  }

  /** Next-token logits for every position: int32 [B, T] → float32 [B, T, V]. */
  forward(idx: tf.Tensor2D): tf.Tensor3D {
    const { B, T } = this.checkIdx(idx, 'idx');
    return tf.tidy(() => tf.reshape(this.head(this.hidden(idx, B, T)), [B, T, this.config.vocabSize]));
  }

  /** Mean cross-entropy (nats per token) of predicting targets[b, t] from idx[b, ≤t]. */
  loss(idx: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    const { B, T } = this.checkIdx(idx, 'idx');
    checkShape(targets.shape, [B, T], 'targets');
    check(targets.dtype === 'int32', 'targets', `must be int32 token ids, got dtype ${targets.dtype}`, 'build it with tf.tensor2d(ids, [B, T], "int32")');
    return tf.tidy(() => {
      const logits = this.head(this.hidden(idx, B, T));
      const labels = tf.oneHot(tf.reshape(targets, [B * T]), this.config.vocabSize, 1, 0, 'float32');
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    });
  }

  /** An empty KV cache for `batch` sequences. */
  createCache(batch: number): KVCache {
    checkInt(batch, 'batch', { min: 1 });
    return new KVCache(this.config.nLayer, batch);
  }

  /**
   * Logits [B, T, V] for T new tokens that continue the sequences held in `cache` (empty cache: a
   * prompt); the cache is extended by T positions. The results equal `forward` on the whole
   * sequence, at the new positions.
   */
  forwardCached(idx: tf.Tensor2D, cache: KVCache): tf.Tensor3D {
    check(this.supportsKVCache, 'cache', `has no cached decoding for '${this.config.attention}' attention`, 'sample with { cache: false } (generate does this automatically)');
    const { B, T } = this.checkIdx(idx, 'idx', cache.length);
    check(cache.nLayer === this.config.nLayer, 'cache', `has ${cache.nLayer} layers, the model ${this.config.nLayer}`, 'create the cache with model.createCache()');
    check(B === cache.batch, 'idx', `has batch ${B} but the cache holds ${cache.batch} sequences`, 'pass one row per cached sequence');
    return tf.tidy(() => tf.reshape(this.head(this.hidden(idx, B, T, cache)), [B, T, this.config.vocabSize]));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(Object.values(this.variables));
    tf.dispose(Object.values(this.buffers));
    for (const z of this.zeros.values()) z.dispose();
    this.zeros.clear();
  }
}
