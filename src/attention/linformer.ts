/**
 * Linformer (Wang et al. 2020): head = softmax(Q·(E·K)ᵀ/√d)·(F·V) with E, F ∈ R^{k×n} projecting
 * the n keys and values along the sequence down to k, so the cost is O(n·k).
 *
 * Sharing (the paper's §4): 'none' — E and F per head ([heads, k, n] each); 'headwise' — one E and
 * one F for all heads ([k, n]); 'kv' — one E = F for all heads; 'layerwise' — one E = F for all
 * heads and layers (pass the same tensor to every layer). The projections are built for a maximum
 * length n; shorter inputs use the first columns (slicing the projection). There is no causal form:
 * E mixes every position into every projected key, so position i would see the future.
 */
import { tf, type Tensor, type Tensor4D } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkOneOf, describeShape } from '../core/errors.js';
import { Rng, getRng } from '../core/rng.js';
import { bmm, checkQkv, keyMask } from './common.js';

export const LINFORMER_SHARING = ['none', 'headwise', 'kv', 'layerwise'] as const;
export type LinformerSharing = (typeof LINFORMER_SHARING)[number];

export interface LinformerAttentionOptions {
  /** Key projection: [heads, k, maxLen] for sharing 'none', else [k, maxLen]. */
  E: Tensor;
  /** Value projection (same shape as E); omitted (= E) for 'kv' and 'layerwise'. */
  F?: Tensor;
  /** Default 'headwise' when F is given, else 'kv'. */
  sharing?: LinformerSharing;
  /** Refused: Linformer has no causal form. */
  causal?: boolean;
  /** Key-padding mask [batch, seq]: padded keys and values are zeroed before projection. */
  mask?: Tensor;
  scale?: number;
  checkFinite?: boolean;
}

/** Refuses causal Linformer with the reason. */
export function refuseCausalLinformer(): never {
  throw new PaperlabError(
    'causal',
    'Linformer has no causal form: E·K mixes all n positions into each of the k projected keys, so every query would see future tokens',
    "use kind 'full', 'linear' or 'performer' (or 'lsh') for causal attention, or causal: false",
  );
}

/** Initial E or F: N(0, 1/k) entries (the paper's E = δR, R ~ N(0, 1/k)); [heads, k, maxLen] when heads is given. */
export function linformerProjection(k: number, maxLen: number, rng: Rng = getRng(), heads?: number): Tensor {
  checkInt(k, 'k', { min: 1 });
  checkInt(maxLen, 'maxLen', { min: 1 });
  check(k <= maxLen, 'k', `projected length k = ${k} exceeds the sequence length n = ${maxLen} (k > n: nothing to compress)`, `use k < ${maxLen}, or full attention`);
  const h = heads ?? 1;
  const values = rng.normalArray(h * k * maxLen, 0, 1 / Math.sqrt(k));
  return heads === undefined ? tf.tensor2d(values, [k, maxLen]) : tf.tensor3d(values, [h, k, maxLen]);
}

/** Projects x [b, h, n, d] along the sequence with P ([k, N] or [h, k, N], N ≥ n); returns xᵀ-projected [b·h, d, k]. */
function projectT(x: Tensor4D, p: Tensor): tf.Tensor3D {
  const [b, h, n, d] = x.shape;
  const ps = p.shape[p.rank - 1] === n ? p : p.rank === 2 ? tf.slice(p, [0, 0], [-1, n]) : tf.slice(p, [0, 0, 0], [-1, -1, n]);
  const k = ps.shape[ps.rank - 2]!;
  if (ps.rank === 2) {
    // one projection for every head: a single 2-D matmul [b·h·d, n] × [n, k]
    const xt = tf.reshape(tf.transpose(tf.reshape(x, [b * h, n, d]), [0, 2, 1]), [b * h * d, n]);
    return tf.reshape(tf.matMul(xt, ps, false, true), [b * h, d, k]);
  }
  // per-head projections: [h, k, n] × [h, n, b·d]
  const xh = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [h, n, b * d]);
  const y = bmm(ps, xh); // [h, k, b·d]
  return tf.reshape(tf.transpose(tf.reshape(y, [h, k, b, d]), [2, 0, 3, 1]), [b * h, d, k]);
}

/** Linformer attention on q, k, v of shape [batch, heads, seq, dHead]. */
export function linformerAttention(q: Tensor4D, k: Tensor4D, v: Tensor4D, opts: LinformerAttentionOptions): Tensor4D {
  if (opts.causal) refuseCausalLinformer();
  const dims = checkQkv(q, k, v, opts.checkFinite ?? true);
  const { batch: b, heads: h, seqQ: nq, seqK: n, dHead: d, dValue: dv } = dims;
  check(opts.E instanceof tf.Tensor, 'E', 'is missing', 'pass the key projection E (see linformerProjection)');
  const sharing = opts.sharing ?? (opts.F ? 'headwise' : 'kv');
  checkOneOf(sharing, LINFORMER_SHARING, 'sharing');
  const E = opts.E;
  const F = sharing === 'kv' || sharing === 'layerwise' ? E : opts.F;
  if (sharing === 'kv' || sharing === 'layerwise') check(!opts.F || opts.F === E, 'F', `must be omitted (or equal E) for sharing '${sharing}'`, `drop F, or use sharing 'headwise' or 'none'`);
  check(F instanceof tf.Tensor, 'F', `is missing for sharing '${sharing}'`, "pass F, or use sharing 'kv'");
  const want = sharing === 'none' ? 3 : 2;
  for (const [name, p] of [['E', E], ['F', F]] as const) {
    check(p.rank === want, name, `expected ${want === 3 ? `[heads, k, maxLen]` : '[k, maxLen]'} for sharing '${sharing}', got ${describeShape(p.shape)}`, want === 3 ? `pass one projection per head ([${h}, k, maxLen])` : 'pass one [k, maxLen] projection');
    if (want === 3) check(p.shape[0] === h, name, `has ${p.shape[0]} heads but the input has ${h}`, `pass [${h}, k, maxLen]`);
    const kk = p.shape[want - 2]!;
    const maxLen = p.shape[want - 1]!;
    check(kk <= maxLen, name, `projects to k = ${kk} > n = ${maxLen} (k > n: nothing to compress)`, `use k < ${maxLen}, or full attention`);
    check(n <= maxLen, 'k', `sequence length ${n} exceeds the projection's length ${maxLen}`, `build the projection for maxLen ≥ ${n}, or truncate the input`);
  }
  check(E.shape[want - 2] === F.shape[want - 2], 'F', `projects to ${F.shape[want - 2]} rows but E to ${E.shape[want - 2]}`, 'use the same k for E and F');
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const m = keyMask(opts.mask, b, n);
  try {
    return tf.tidy(() => {
      let kk: Tensor4D = k;
      let vv: Tensor4D = v;
      if (m) {
        const mk = tf.reshape(m, [b, 1, n, 1]);
        kk = tf.mul(k, mk);
        vv = tf.mul(v, mk);
      }
      const kT = projectT(kk, E); // [bh, d, k]
      const vT = projectT(vv, F); // [bh, dv, k]
      const logits = bmm(tf.reshape(tf.mul(q, scale), [b * h, nq, d]), kT); // [bh, nq, k]
      const p = tf.softmax(logits, -1);
      return tf.reshape(bmm(p, vT, false, true), [b, h, nq, dv]) as Tensor4D;
    });
  } finally {
    m?.dispose();
  }
}
