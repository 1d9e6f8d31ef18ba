/**
 * The contract every attention kind fulfils (one file per kind in this folder, one line in
 * registry.ts). A kind owns:
 *
 * - its options: names, defaults and validation (`resolve`, the one place they are checked);
 * - its capabilities: causal form, shared-QK needs, cached decoding;
 * - its parameters (projections, random features) in a fixed, documented order: models keep them
 *   and pass them back to `forward` as a list, which is what custom gradients (the reversible
 *   Reformer) need;
 * - its caches: LSH buckets of a pass, the KV cache or the recurrent state of decoding.
 *
 * Models and layers hold one `Attention` (registry.ts) per layer and never branch on the kind.
 */
import type { Tensor, Tensor4D } from '../../core/tf.js';
import type { Rng } from '../../core/rng.js';

/** What a model knows about a layer when it creates its attention. */
export interface AttentionContext {
  heads: number;
  dHead: number;
  /** Causal self-attention (decoders). */
  causal: boolean;
  /** Longest sequence the layer sees (Linformer's projection length). */
  maxLen?: number;
}

export interface AttentionCapabilities {
  /** Has a causal form. */
  causal: boolean;
  /** 'required': keys are derived from the queries (q is passed as k); 'optional': the `sharedQK` option. */
  sharedQK: 'required' | 'optional' | 'no';
  /** How `generate` continues a sequence: 'kv' (cache keys/values), 'recurrent' (O(1) state), 'none' (recompute). */
  decoding: 'kv' | 'recurrent' | 'none';
}

/** One parameter of a kind. `trainable: false` ones are buffers (saved, not optimised). */
export interface ParamSpec {
  /** Name inside the layer (e.g. 'E', 'features'). */
  name: string;
  shape: number[];
  trainable: boolean;
  /** Initial value, drawn from the model's Rng. */
  init(rng: Rng): Tensor;
}

/**
 * The LSH buckets of one layer in one pass, kept so that recomputing the pass (reversible
 * backward, finite differences) hashes identically.
 */
export interface BucketStore {
  get(): { data: Int32Array; shape: number[] } | undefined;
  set(entry: { data: Int32Array; shape: number[] }): void;
}

/** Per-call inputs besides q, k, v. */
export interface AttendArgs {
  /** The kind's parameters in `params()` order. */
  params: Tensor[];
  /** Key-padding mask [batch, seqK]: 1 = attend, 0 = padding. */
  mask?: Tensor;
  /** Per-call randomness (LSH hash rotations). */
  rng?: Rng;
  /** Check q, k, v for NaN/Inf (one read-back). Default true. */
  checkFinite?: boolean;
  /** LSH: reuse / record buckets. */
  buckets?: BucketStore;
  /** Dropout on the attention probabilities (full attention; training only). */
  dropout?: (p: Tensor) => Tensor;
  /** Per-call option overrides the kind allows (LSH: nHashes). */
  overrides?: Record<string, number>;
}

/** An opaque decoding state (KV cache or recurrent sums) of one layer. */
export interface DecodeState {
  /** Positions consumed. */
  length: number;
  /** The state's tensors (kept; disposed by `dispose`). */
  tensors: Tensor[];
}

/** Cached decoding of one layer: `extend` feeds T new positions (the prompt, then one a step). */
export interface Decoder {
  /**
   * q, k, v [batch, heads, T, dHead] of T new positions → outputs [batch, heads, T, dValue] equal to
   * the causal forward at those positions, and the extended state (the old one is disposed).
   */
  extend(q: Tensor4D, k: Tensor4D, v: Tensor4D, state: DecodeState | null, params: Tensor[]): { output: Tensor4D; state: DecodeState };
}

/** A registered attention kind with resolved options type O. */
export interface AttentionKindSpec<O extends object = object> {
  readonly name: string;
  /** One line for docs and CLI help. */
  readonly summary: string;
  readonly capabilities: AttentionCapabilities;
  /** Default of every option (undefined: derived from the context, see `resolve`). */
  readonly defaults: Readonly<O>;
  /** Fills defaults and validates; every mistake names the option. */
  resolve(options: Partial<O>, ctx: AttentionContext): O;
  /** Parameters in their fixed order (empty for parameter-free kinds). */
  params(o: O, ctx: AttentionContext): ParamSpec[];
  /** q, k, v [batch, heads, seq, dHead] → [batch, heads, seqQ, dValue]. */
  forward(q: Tensor4D, k: Tensor4D, v: Tensor4D, o: O, ctx: AttentionContext, args: AttendArgs): Tensor4D;
  /** Cached decoding, when `capabilities.decoding` is not 'none'. */
  decoder?(o: O, ctx: AttentionContext): Decoder;
}
