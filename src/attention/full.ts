/**
 * Full softmax attention (Vaswani et al. 2017): softmax(Q·Kᵀ/√d + mask)·V, O(n²) time and memory.
 * With `sharedQK` it is the Reformer's full shared-QK attention — keys are the unit-length queries
 * and a position attends to itself only when nothing else is valid — the exact computation LSH
 * attention approximates, and what the Reformer paper evaluates LSH-trained models with.
 */
import { tf, type Tensor, type Tensor4D } from '../core/tf.js';
import { check } from '../core/errors.js';
import { MASKED, SELF_PENALTY, checkQkv, keyMask, unitLength } from './common.js';

export interface FullAttentionOptions {
  /** Position i attends only to j ≤ i. Needs seqQ = seqK. Default false. */
  causal?: boolean;
  /** Key-padding mask [batch, seqK]: 1 = attend, 0 = padding. */
  mask?: Tensor;
  /** Logit scale. Default 1/√dHead. */
  scale?: number;
  /** Reformer shared-QK attention: keys = q/‖q‖ (k is ignored), self attended only as a last resort. */
  sharedQK?: boolean;
  /** Check q, k, v for NaN/Inf (one read-back). Default true. */
  checkFinite?: boolean;
  /** Applied to the attention probabilities (e.g. dropout while training). */
  dropout?: (p: Tensor) => Tensor;
}

/** Additive logit bias [nq, nk] for a causal mask (and the shared-QK self penalty). */
function structuralBias(nq: number, nk: number, causal: boolean, selfPenalty: boolean): Tensor | undefined {
  if (!causal && !selfPenalty) return undefined;
  return tf.tidy(() => {
    const i = tf.reshape(tf.range(0, nq, 1, 'int32'), [nq, 1]);
    const j = tf.reshape(tf.range(0, nk, 1, 'int32'), [1, nk]);
    let bias: Tensor = tf.zeros([nq, nk]);
    if (causal) bias = tf.add(bias, tf.mul(tf.cast(tf.greater(j, i), 'float32'), MASKED));
    if (selfPenalty) bias = tf.add(bias, tf.mul(tf.cast(tf.equal(j, i), 'float32'), SELF_PENALTY));
    return bias;
  });
}

/** Full attention on q, k, v of shape [batch, heads, seq, dHead]; returns [batch, heads, seqQ, dValue]. */
export function fullAttention(q: Tensor4D, k: Tensor4D, v: Tensor4D, opts: FullAttentionOptions = {}): Tensor4D {
  const shared = opts.sharedQK ?? false;
  const kk = shared ? q : k;
  const dims = checkQkv(q, kk, v, opts.checkFinite ?? true);
  const causal = opts.causal ?? false;
  if (causal || shared) {
    check(dims.seqQ === dims.seqK, 'causal', `needs as many queries as keys, got ${dims.seqQ} queries and ${dims.seqK} keys`, 'use causal: false for cross-attention');
  }
  const scale = opts.scale ?? 1 / Math.sqrt(dims.dHead);
  return tf.tidy(() => {
    const { batch: b, heads: h, seqQ: nq, seqK: nk, dHead: d, dValue: dv } = dims;
    const q3 = tf.reshape(tf.mul(q, scale), [b * h, nq, d]); // scale the queries (n·d), not the logits (n²)
    const k3 = tf.reshape(shared ? unitLength(q) : kk, [b * h, nk, d]);
    const v3 = tf.reshape(v, [b * h, nk, dv]);
    let logits: Tensor = tf.reshape(tf.matMul(q3, k3, false, true), [b, h, nq, nk]);
    const bias = structuralBias(nq, nk, causal, shared);
    if (bias) logits = tf.add(logits, bias);
    const m = keyMask(opts.mask, b, nk);
    if (m) logits = tf.add(logits, tf.reshape(tf.mul(tf.sub(1, m), MASKED), [b, 1, 1, nk]));
    let p = tf.softmax(logits, -1);
    if (opts.dropout) p = opts.dropout(p);
    return tf.reshape(tf.matMul(tf.reshape(p, [b * h, nq, nk]), v3), [b, h, nq, dv]) as Tensor4D;
  });
}
