/**
 * One interface over every attention kind, so models can swap them by name:
 *
 * ```ts
 * const out = attention(q, k, v, { kind: 'lsh', causal: true, bucketSize: 32, nHashes: 4 });
 * ```
 *
 * q, k, v are [batch, heads, seq, dHead]; the result is [batch, heads, seqQ, dValue].
 * - 'full': softmax attention (`sharedQK: true` gives the Reformer's shared-QK variant).
 * - 'lsh': Reformer LSH attention. Shared-QK: `k` is ignored (pass q); keys are q/‖q‖.
 * - 'linformer': needs the projections `E` (and `F`) in the options; no causal form.
 * - 'linear': φ = elu + 1 kernel attention.
 * - 'performer': FAVOR+ positive orthogonal random features.
 */
import type { Tensor, Tensor4D } from '../core/tf.js';
import { checkOneOf } from '../core/errors.js';
import { type FullAttentionOptions, fullAttention } from './full.js';
import { type LSHAttentionOptions, lshAttention } from './lsh.js';
import { type LinformerAttentionOptions, linformerAttention } from './linformer.js';
import { type LinearAttentionOptions, linearAttention } from './linear.js';
import { type PerformerAttentionOptions, performerAttention } from './performer.js';

export const ATTENTION_KINDS = ['full', 'lsh', 'linformer', 'linear', 'performer'] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

export type AttentionOptions =
  | ({ kind: 'full' } & FullAttentionOptions)
  | ({ kind: 'lsh' } & LSHAttentionOptions)
  | ({ kind: 'linformer' } & LinformerAttentionOptions)
  | ({ kind: 'linear' } & LinearAttentionOptions)
  | ({ kind: 'performer' } & PerformerAttentionOptions);

/** Options every kind understands. */
export interface CommonAttentionOptions {
  causal?: boolean;
  /** Key-padding mask [batch, seqK]: 1 = attend, 0 = padding. */
  mask?: Tensor;
  checkFinite?: boolean;
}

/** Attention of the chosen kind on q, k, v of shape [batch, heads, seq, dHead]. */
export function attention(q: Tensor4D, k: Tensor4D, v: Tensor4D, opts: AttentionOptions): Tensor4D {
  checkOneOf(opts.kind, ATTENTION_KINDS, 'kind');
  switch (opts.kind) {
    case 'full':
      return fullAttention(q, k, v, opts);
    case 'lsh':
      return lshAttention(q, k, v, opts);
    case 'linformer':
      return linformerAttention(q, k, v, opts);
    case 'linear':
      return linearAttention(q, k, v, opts);
    case 'performer':
      return performerAttention(q, k, v, opts);
  }
}
