/**
 * Linear ("kernelized") attention (Katharopoulos et al. 2020, "Transformers are RNNs"):
 * V'_i = φ(Q_i)ᵀ(Σ_j φ(K_j)V_jᵀ) / (φ(Q_i)ᵀ Σ_j φ(K_j)), φ(x) = elu(x) + 1 — O(n·D·M) instead of
 * O(n²).
 *
 * The causal form sums over j ≤ i only. A plain cumulative sum would hold an n × D × M tensor; here
 * the sequence is cut into chunks of `chunkSize`: inside a chunk the masked quadratic form, across
 * chunks running sums S = Σ φ(K)ᵀV and z = Σ φ(K) (only n/chunkSize × D × M of them). The recurrent
 * form (`linearAttentionStep`) carries (S, z) one token at a time for generation and computes the
 * same numbers.
 *
 * The kernel core (`kernelAttention`) takes features already mapped, so Performer reuses it.
 */
import { tf, type Tensor, type Tensor3D, type Tensor4D } from '../core/tf.js';
import { check, checkInt, checkNumber, describeShape } from '../core/errors.js';
import { bmm, checkFiniteTensors, cumsumExclusive, checkQkv, keyMask, roundUp } from './common.js';

export interface KernelAttentionOptions {
  causal?: boolean;
  /** Chunk length of the causal form. Default 64. */
  chunkSize?: number;
  /** Added to the normaliser. Default 1e-6. */
  eps?: number;
}

export interface LinearAttentionOptions extends KernelAttentionOptions {
  /** Key-padding mask [batch, seq]: 1 = attend, 0 = padding. */
  mask?: Tensor;
  checkFinite?: boolean;
}

/**
 * φ(x) = elu(x) + 1 (positive, so the normaliser never vanishes), computed as x + 1 for x > 0 and
 * exp(x) otherwise: elu(x) + 1 in float32 rounds exp(x) − 1 to −1 below x ≈ −17 (here: relu(x) + exp(min(x, 0))), so keys or queries
 * with large negative coordinates got features of exactly 0 and rows of zeros (the same failure
 * as Performer's underflow); exp(x) keeps them down to float32's range.
 */
export function eluFeatureMap(x: Tensor): Tensor {
  return tf.tidy(() => tf.add(tf.relu(x), tf.exp(tf.minimum(x, 0))));
}

/**
 * Attention with positive features: phiQ [G, n, D], phiK [G, n, D], v [G, n, M] → [G, n, M].
 * G folds batch and heads.
 */
export function kernelAttention(phiQ: Tensor3D, phiK: Tensor3D, v: Tensor3D, opts: KernelAttentionOptions = {}): Tensor3D {
  const eps = opts.eps ?? 1e-6;
  checkNumber(eps, 'eps', { min: 0 });
  const [g, n, dd] = phiQ.shape;
  const mm = v.shape[2];
  return tf.tidy(() => {
    if (!opts.causal) {
      const kv = bmm(phiK, v, true, false); // [G, D, M]
      const z = tf.reshape(tf.sum(phiK, 1), [g, dd, 1]);
      const num = bmm(phiQ, kv);
      const den = bmm(phiQ, z);
      return tf.div(num, tf.add(den, eps)) as Tensor3D;
    }
    const c = Math.min(opts.chunkSize ?? 64, Math.max(n, 1));
    checkInt(c, 'chunkSize', { min: 1 });
    const N = roundUp(n, c);
    const nc = N / c;
    const pad = (x: Tensor): Tensor => (N === n ? x : tf.pad(x, [[0, 0], [0, N - n], [0, 0]]));
    const qc = tf.reshape(pad(phiQ), [g * nc, c, dd]);
    const kc = tf.reshape(pad(phiK), [g * nc, c, dd]);
    const vc = tf.reshape(pad(v), [g * nc, c, mm]);
    // running sums over earlier chunks (exclusive cumulative sums along the chunk axis)
    const kvc = tf.reshape(bmm(kc, vc, true, false), [g, nc, dd * mm]);
    const s = tf.reshape(cumsumExclusive(kvc, 1), [g * nc, dd, mm]);
    const zc = tf.reshape(tf.sum(kc, 1), [g, nc, dd]);
    const z = tf.reshape(cumsumExclusive(zc, 1), [g * nc, dd, 1]);
    // inside a chunk: the masked quadratic form
    const tril = tf.linalg.bandPart(tf.ones([c, c]), -1, 0);
    const a = tf.mul(bmm(qc, kc, false, true), tril); // [G·nc, c, c]
    const num = tf.add(bmm(qc, s), bmm(a, vc));
    const den = tf.add(bmm(qc, z), tf.sum(a, -1, true));
    let out: Tensor = tf.reshape(tf.div(num, tf.add(den, eps)), [g, N, mm]);
    if (N !== n) out = tf.slice(out, [0, 0, 0], [g, n, mm]);
    return out as Tensor3D;
  });
}

/** Applies a key-padding mask to key features [b·h, n, D]: padded keys contribute nothing. */
export function maskKeyFeatures(phiK: Tensor3D, mask: Tensor | undefined, batch: number, heads: number): Tensor3D {
  const m = keyMask(mask, batch, phiK.shape[1]);
  if (!m) return phiK;
  return tf.tidy(() => {
    const mk = tf.reshape(tf.tile(tf.reshape(m, [batch, 1, -1]), [1, heads, 1]), [batch * heads, -1, 1]);
    m.dispose();
    return tf.mul(phiK, mk) as Tensor3D;
  });
}

/** Linear attention on q, k, v of shape [batch, heads, seq, dHead] with φ = elu + 1. */
export function linearAttention(q: Tensor4D, k: Tensor4D, v: Tensor4D, opts: LinearAttentionOptions = {}): Tensor4D {
  const dims = checkQkv(q, k, v, opts.checkFinite ?? true);
  const { batch: b, heads: h, seqQ: nq, seqK: nk, dHead: d, dValue: dv } = dims;
  if (opts.causal) check(nq === nk, 'causal', `needs as many queries as keys, got ${nq} and ${nk}`, 'use causal: false for cross-attention');
  return tf.tidy(() => {
    const phiQ = eluFeatureMap(tf.reshape(q, [b * h, nq, d])) as Tensor3D;
    const phiK = maskKeyFeatures(eluFeatureMap(tf.reshape(k, [b * h, nk, d])) as Tensor3D, opts.mask, b, h);
    const out = kernelAttention(phiQ, phiK, tf.reshape(v, [b * h, nk, dv]), opts);
    return tf.reshape(out, [b, h, nq, dv]) as Tensor4D;
  });
}

/** The recurrent state of causal kernel attention: S = Σ φ(k)vᵀ and z = Σ φ(k). */
export interface LinearAttentionState {
  /** [batch, heads, D, dValue] */
  s: Tensor4D;
  /** [batch, heads, D] */
  z: Tensor3D;
  /** Tokens consumed so far. */
  steps: number;
}

export interface LinearStepOptions {
  /** Feature map for queries and keys (default elu + 1; Performer passes its random features). */
  featureMap?: (x: Tensor, isQuery: boolean) => Tensor;
  eps?: number;
}

/**
 * One step of causal linear attention as an RNN: q, k [batch, heads, dHead], v [batch, heads, dValue].
 * Returns the output for this position and the updated state (the old state is not disposed).
 */
export function linearAttentionStep(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  state: LinearAttentionState | null,
  opts: LinearStepOptions = {},
): { output: Tensor3D; state: LinearAttentionState } {
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    check(t.rank === 3, name, `expected [batch, heads, dim] for one step, got ${describeShape(t.shape)}`, 'pass the current position only');
  }
  check(q.shape[2] === k.shape[2], 'k', `head dimension ${k.shape[2]} differs from q's ${q.shape[2]} (mismatched head dims)`, 'project queries and keys to the same dHead');
  checkFiniteTensors({ q, k, v });
  const eps = opts.eps ?? 1e-6;
  const fm = opts.featureMap ?? ((x: Tensor) => eluFeatureMap(x));
  return tf.tidy(() => {
    const [b, h] = q.shape as [number, number];
    const dv = v.shape[2]!;
    const phiQ = fm(q, true); // [b, h, D]
    const phiK = fm(k, false);
    const dd = phiQ.shape[2]!;
    const outer = tf.matMul(tf.reshape(phiK, [b * h, dd, 1]), tf.reshape(v, [b * h, 1, dv])); // [bh, D, M]
    const s = state ? tf.add(state.s, tf.reshape(outer, [b, h, dd, dv])) : tf.reshape(outer, [b, h, dd, dv]);
    const z = state ? tf.add(state.z, phiK) : phiK;
    const num = tf.matMul(tf.reshape(phiQ, [b * h, 1, dd]), tf.reshape(s, [b * h, dd, dv])); // [bh, 1, M]
    const den = tf.sum(tf.mul(phiQ, z), -1); // [b, h]
    const output = tf.div(tf.reshape(num, [b, h, dv]), tf.add(tf.expandDims(den, -1), eps)) as Tensor3D;
    return { output, state: { s: s as Tensor4D, z: z as Tensor3D, steps: (state?.steps ?? 0) + 1 } };
  });
}
