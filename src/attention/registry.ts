/**
 * The attention registry: every kind is one file in kinds/ and one line in `BUILT_IN` below. Models
 * and layers create one `Attention` per layer and never branch on the kind:
 *
 * ```ts
 * const attn = createAttention('lsh', { bucketSize: 32, nHashes: 2 }, { heads: 4, dHead: 16, causal: true });
 * const params = attn.initParams(rng);                   // in attn.paramSpecs order
 * const y = attn.forward(q, k, v, { params, rng });      // q, k, v [batch, heads, seq, dHead]
 * ```
 *
 * To add a kind, see docs/attention.md ("Add an attention kind").
 */
import type { Tensor, Tensor4D } from '../core/tf.js';
import { tf } from '../core/tf.js';
import { PaperlabError, check, checkInt } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { fullKind } from './kinds/full.js';
import { lshKind } from './kinds/lsh.js';
import { linformerKind } from './kinds/linformer.js';
import { linearKind } from './kinds/linear.js';
import { performerKind } from './kinds/performer.js';
import type { AttendArgs, AttentionCapabilities, AttentionContext, AttentionKindSpec, DecodeState, Decoder, ParamSpec } from './kinds/types.js';

export type { AttendArgs, AttentionCapabilities, AttentionContext, AttentionKindSpec, BucketStore, DecodeState, Decoder, ParamSpec } from './kinds/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySpec = AttentionKindSpec<any>;

const BUILT_IN: AnySpec[] = [fullKind, lshKind, linformerKind, linearKind, performerKind];

const registry = new Map<string, AnySpec>(BUILT_IN.map((s) => [s.name, s]));

/** Adds a kind (your own, or a test's). Refuses a name that is taken. */
export function registerAttentionKind(spec: AnySpec): void {
  check(typeof spec.name === 'string' && /^[a-z][a-z0-9-]*$/.test(spec.name), 'spec.name', `must be a lowercase identifier, got '${String(spec.name)}'`, "name the kind like 'local-window'");
  check(!registry.has(spec.name), 'spec.name', `'${spec.name}' is already registered`, 'choose another name (or unregisterAttentionKind first)');
  registry.set(spec.name, spec);
}

/** Removes a kind added with registerAttentionKind (built-in kinds stay). */
export function unregisterAttentionKind(name: string): void {
  check(!BUILT_IN.some((s) => s.name === name), 'name', `'${name}' is built in`, 'unregister only kinds you registered');
  registry.delete(name);
}

/** Names of every registered kind, built-in first. */
export function attentionKinds(): string[] {
  return [...registry.keys()];
}

/** The spec of a kind by name (a PaperlabError listing the kinds when unknown). */
export function attentionKind(name: string): AnySpec {
  const s = registry.get(name);
  if (!s) throw new PaperlabError('kind', `'${String(name)}' is not an attention kind`, `use one of: ${attentionKinds().join(', ')}`);
  return s;
}

/** One attention of a layer: a kind with resolved options in a context (heads, dHead, causal, maxLen). */
export class Attention {
  readonly spec: AnySpec;
  readonly options: Readonly<Record<string, unknown>>;
  readonly context: Readonly<AttentionContext>;
  /** The kind's parameters, in the order `forward` expects them. */
  readonly paramSpecs: readonly ParamSpec[];
  private decoderImpl?: Decoder;

  constructor(kind: string, options: Record<string, unknown>, context: AttentionContext) {
    this.spec = attentionKind(kind);
    checkInt(context.heads, 'heads', { min: 1 });
    checkInt(context.dHead, 'dHead', { min: 1 });
    if (context.causal) check(this.spec.capabilities.causal, 'causal', `'${kind}' has no causal form`, "use kind 'full', 'linear', 'performer' or 'lsh' for causal attention, or causal: false");
    const known = Object.keys(this.spec.defaults);
    for (const [key, value] of Object.entries(options)) {
      if (value === undefined) continue;
      check(known.includes(key), `options.${key}`, `is not an option of '${kind}' attention`, `use ${known.length ? known.join(', ') : 'no options'}`);
    }
    this.context = { ...context };
    this.options = Object.freeze(this.spec.resolve(stripUndefined(options), this.context));
    this.paramSpecs = Object.freeze(this.spec.params(this.options, this.context));
  }

  get kind(): string {
    return this.spec.name;
  }

  get capabilities(): AttentionCapabilities {
    return this.spec.capabilities;
  }

  /** Keys are derived from the queries (pass q as k). */
  get sharedQK(): boolean {
    return this.spec.capabilities.sharedQK === 'required' || (this.spec.capabilities.sharedQK === 'optional' && this.options.sharedQK === true);
  }

  /** Fresh parameter values in `paramSpecs` order, drawn from `rng` in that order. */
  initParams(rng: Rng): Tensor[] {
    return this.paramSpecs.map((p) => p.init(rng));
  }

  /** q, k, v [batch, heads, seq, dHead] → [batch, heads, seqQ, dValue]. */
  forward(q: Tensor4D, k: Tensor4D, v: Tensor4D, args: Partial<AttendArgs> = {}): Tensor4D {
    const params = args.params ?? [];
    check(params.length === this.paramSpecs.length, 'params', `has ${params.length} tensors, '${this.kind}' attention takes ${this.paramSpecs.length} (${this.paramSpecs.map((p) => p.name).join(', ') || 'none'})`, 'pass the tensors of initParams() in order');
    return this.spec.forward(q, k, v, this.options, this.context, { ...args, params });
  }

  /** Whether `extend` works (capabilities.decoding is 'kv' or 'recurrent' and the options allow it). */
  get canDecode(): boolean {
    return this.spec.capabilities.decoding !== 'none' && this.spec.decoder !== undefined && !(this.spec.capabilities.sharedQK === 'optional' && this.options.sharedQK === true);
  }

  /**
   * Causal decoding: outputs for T new positions given the state of the earlier ones (null at the
   * start) and the new state; the old state's tensors are disposed. Equals `forward` with
   * causal: true at those positions.
   */
  extend(q: Tensor4D, k: Tensor4D, v: Tensor4D, state: DecodeState | null, params: Tensor[] = []): { output: Tensor4D; state: DecodeState } {
    check(this.canDecode, 'kind', `'${this.kind}' attention has no cached decoding`, 'recompute the context each step');
    check(this.context.causal, 'causal', 'decoding needs a causal attention', 'create the attention with causal: true');
    this.decoderImpl ??= this.spec.decoder!(this.options, this.context);
    return this.decoderImpl.extend(q, k, v, state, params);
  }

  /** Numeric and string options (for configs and reports). */
  describe(): Record<string, number | string | boolean> {
    const out: Record<string, number | string | boolean> = {};
    for (const [key, value] of Object.entries(this.options)) if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') out[key] = value;
    return out;
  }
}

/** `new Attention(kind, options, context)`. */
export function createAttention(kind: string, options: Record<string, unknown>, context: AttentionContext): Attention {
  return new Attention(kind, options, context);
}

/** Disposes a decoding state. */
export function disposeDecodeState(state: DecodeState | null | undefined): void {
  if (state) tf.dispose(state.tensors);
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
