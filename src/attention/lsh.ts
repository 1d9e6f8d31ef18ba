/**
 * LSH attention (Reformer, Kitaev et al. 2020 §2), after the reference implementations
 * (google/trax `LSHSelfAttention`, lucidrains/reformer-pytorch `LSHAttention`):
 *
 * 1. Shared QK: keys are the unit-length queries; `k` is ignored.
 * 2. Hash every position nHashes times (angular: argmax([xR; −xR]); or the coset hash).
 * 3. Per round, stable-sort positions by (bucket, position) and keep the inverse permutation.
 * 4. Cut the sorted sequence (all rounds back to back) into chunks of `bucketSize`; each chunk
 *    attends to itself and the chunk before it (look-one-back, wrapping across rounds).
 * 5. Masks on original positions: causal, key padding, "not yourself unless nothing else is
 *    valid" (a −5·10⁴ penalty), optionally other buckets, optionally duplicates across rounds.
 * 6. Undo the sort and combine the rounds weighted by their log-sum-exp: o = Σ_r softmax_r(z)·o_r.
 *
 * Sequences of any length are padded to a multiple of `bucketSize` and the padding is masked.
 * Gradients flow through the values and the logits; the buckets and sort order are constants of
 * the forward pass (the permutation gradients are the inverse permutations), so the backward pass
 * uses the forward pass's buckets. Pass `buckets` to reuse a previous pass's buckets exactly
 * (the reversible Reformer does this when it recomputes activations).
 */
import { tf, type Tensor, type Tensor4D } from '../core/tf.js';
import { check, checkInt, checkOneOf, describeShape } from '../core/errors.js';
import { Rng, getRng } from '../core/rng.js';
import {
  MASKED,
  SELF_PENALTY,
  batchGather,
  bmm,
  checkQkv,
  int,
  inversePermutation,
  keyMask,
  padSeq,
  permuteRows,
  roundUp,
  stopGradient,
  unitLength,
  withGradient,
} from './common.js';
import { HASH_KINDS, type HashKind, type LSHHash, checkBucketCount, disposeHash, drawHash, hashVectors } from './hash.js';

export interface LSHAttentionOptions {
  /** Chunk length m (trax `chunk_len`, lucidrains `bucket_size`). Default 64. */
  bucketSize?: number;
  /** Hash rounds. Default 4. */
  nHashes?: number;
  /** Buckets per round. Default paddedLength/bucketSize (even, ≥ 2; a power of two for 'coset'). */
  nBuckets?: number;
  /** 'angular' (the paper's) or 'coset' (syndrome of sign bits). Default 'angular'. */
  hash?: HashKind;
  /** Coset hash: sign bits per round. Default 2·log2(nBuckets). */
  hashBits?: number;
  causal?: boolean;
  /** Key-padding mask [batch, seq]: 1 = attend, 0 = padding. */
  mask?: Tensor;
  /** Let a query attend to keys of other buckets that share its chunk window. Default true. */
  attendAcrossBuckets?: boolean;
  /** Let a key that several rounds (or both window halves) bring in count more than once. Default true. */
  allowDuplicateAttention?: boolean;
  /** Logit scale. Default 1/√dHead. */
  scale?: number;
  /** Draws the hash (default: the global Rng). */
  rng?: Rng;
  /** An explicit hash (its dim, nBuckets and nHashes must fit). */
  hashParams?: LSHHash;
  /** Buckets of a previous pass, int32 [batch, heads, nHashes, paddedLength] (from `lshAttentionWithBuckets`). */
  buckets?: Tensor;
  checkFinite?: boolean;
}

export interface LSHResolved {
  bucketSize: number;
  nHashes: number;
  nBuckets: number;
  paddedLength: number;
  hash: HashKind;
}

/** The chunk length, rounds, buckets and padded length LSH attention uses for a sequence of length n. */
export function resolveLSH(n: number, opts: Pick<LSHAttentionOptions, 'bucketSize' | 'nHashes' | 'nBuckets' | 'hash'> = {}): LSHResolved {
  const bucketSize = opts.bucketSize ?? 64;
  checkInt(bucketSize, 'bucketSize', { min: 1 });
  const nHashes = opts.nHashes ?? 4;
  checkInt(nHashes, 'nHashes', { min: 1 });
  const hash = opts.hash ?? 'angular';
  checkOneOf(hash, HASH_KINDS, 'hash');
  const paddedLength = roundUp(Math.max(n, 1), bucketSize);
  const chunks = paddedLength / bucketSize;
  let nBuckets = opts.nBuckets;
  if (nBuckets === undefined) {
    nBuckets = hash === 'angular' ? Math.max(2, chunks + (chunks % 2)) : Math.max(2, 2 ** Math.ceil(Math.log2(chunks)));
  }
  checkBucketCount(nBuckets, hash);
  return { bucketSize, nHashes, nBuckets, paddedLength, hash };
}

/** x [G, C, m, ...] → [G, C, 2m, ...]: each chunk followed by the one before it (wrapping). */
function lookOneBack(x: Tensor): Tensor {
  const c = x.shape[1]!;
  const prev = c === 1 ? x : tf.concat([tf.slice(x, [0, c - 1], [-1, 1]), tf.slice(x, [0, 0], [-1, c - 1])], 1);
  return tf.concat([x, prev], 2);
}

/**
 * Gathers rows of x [G, N, d] into the sorted order of every round: → [G, H·N, d], out[g, r·N + s]
 * = x[g, sticker[g, r, s]]. The gradient sums the rounds' inverse gathers.
 */
function sortRows(x: Tensor, sticker: Tensor, undoGlobal: Tensor, h: number): Tensor {
  const [g, n, d] = x.shape as [number, number, number];
  const flatSticker = tf.reshape(sticker, [g, h * n]);
  return withGradient(
    x,
    (xin) => batchGather(xin, flatSticker),
    (dy) => tf.tidy(() => tf.sum(tf.reshape(batchGather(dy, undoGlobal), [g, h, n, d]), 1)),
  );
}

/** −log of how often each (query, key) pair of a chunk row occurs over all rounds and both window halves. */
function duplicateBias(undo: Tensor, qt: Tensor, kt: Tensor, m: number): Tensor {
  return tf.tidy(() => {
    const [g, h, n] = undo.shape as [number, number, number];
    const nChunks = n / m;
    const cpos = tf.transpose(tf.floorDiv(undo, int(m)), [0, 2, 1]); // [G, N, H] chunk of each position per round
    const cq = batchGather(cpos, qt); // [G, C, m, H]
    const ck = batchGather(cpos, kt); // [G, C, 2m, H]
    const cqE = tf.expandDims(cq, 3); // [G, C, m, 1, H]
    const ckE = tf.expandDims(ck, 2); // [G, C, 1, 2m, H]
    const same = tf.cast(tf.equal(cqE, ckE), 'float32');
    const back = tf.cast(tf.logicalAnd(tf.greater(cqE, 0), tf.equal(ckE, tf.sub(cqE, 1))), 'float32');
    const cqNext = h === 1 ? cq : tf.concat([tf.slice(cq, [0, 0, 0, 1], [-1, -1, -1, h - 1]), tf.slice(cq, [0, 0, 0, 0], [-1, -1, -1, 1])], 3);
    const wrap = tf.cast(tf.logicalAnd(tf.equal(tf.expandDims(cqNext, 3), 0), tf.equal(ckE, nChunks - 1)), 'float32');
    const count = tf.sum(tf.addN([same, back, wrap]), -1); // [G, C, m, 2m]
    return tf.neg(tf.log(tf.maximum(count, 1)));
  });
}

export interface LSHAttentionResult {
  output: Tensor4D;
  /** int32 [batch, heads, nHashes, paddedLength]: pass back as `buckets` to reuse them. */
  buckets: Tensor;
}

/**
 * LSH attention on q, v of shape [batch, heads, seq, dHead] (shared-QK: `k` is ignored; pass q or
 * null). Returns the output and the buckets it used.
 */
export function lshAttentionWithBuckets(q: Tensor4D, k: Tensor4D | null, v: Tensor4D, opts: LSHAttentionOptions = {}): LSHAttentionResult {
  const dims = checkQkv(q, q, v, opts.checkFinite ?? true);
  if (k && k !== q) {
    check(k.shape.every((s, i) => s === q.shape[i]), 'k', `LSH attention is shared-QK (keys are the normalised queries) and ignores k, but k has shape ${describeShape(k.shape)} ≠ q ${describeShape(q.shape)}`, 'pass k = q (or null)');
  }
  const { batch: b, heads: nh, seqQ: n, dHead: d, dValue: dv } = dims;
  const hp = opts.hashParams;
  const res = resolveLSH(n, {
    bucketSize: opts.bucketSize,
    nHashes: hp ? hp.nHashes : opts.nHashes,
    nBuckets: hp ? hp.nBuckets : opts.nBuckets,
    hash: hp ? hp.kind : opts.hash,
  });
  const { bucketSize: m, nHashes: H, paddedLength: N } = res;
  const causal = opts.causal ?? false;
  const acrossBuckets = opts.attendAcrossBuckets ?? true;
  const allowDup = opts.allowDuplicateAttention ?? true;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const G = b * nh;
  const C = (H * N) / m;
  if (opts.buckets) {
    check(
      opts.buckets.rank === 4 && opts.buckets.shape[0] === b && opts.buckets.shape[1] === nh && opts.buckets.shape[2] === H && opts.buckets.shape[3] === N,
      'buckets',
      `expected int32 [${b}, ${nh}, ${H}, ${N}] (batch, heads, nHashes, padded length), got ${describeShape(opts.buckets.shape)}`,
      'pass the buckets returned by lshAttentionWithBuckets for the same inputs and options',
    );
  }
  const maskT = keyMask(opts.mask, b, n);
  let ownHash: LSHHash | undefined;
  try {
    return tf.tidy(() => {
      const q3 = tf.reshape(padSeq(q, N), [G, N, d]);
      const v3 = tf.reshape(padSeq(v, N), [G, N, dv]);

      // ---- discrete part: buckets, sort order, masks (constants; no gradient) ----
      let buckets: Tensor;
      if (opts.buckets) buckets = tf.cast(opts.buckets, 'int32');
      else {
        const h = hp ?? (ownHash = drawHash({ hash: res.hash, dim: d, nBuckets: res.nBuckets, nHashes: H, hashBits: opts.hashBits }, opts.rng ?? getRng()));
        check(h.nHashes === H && h.nBuckets === res.nBuckets, 'hashParams', 'does not match nHashes/nBuckets', 'draw the hash with the same nHashes and nBuckets');
        buckets = tf.reshape(hashVectors(stopGradient(q3), h), [b, nh, H, N]);
      }
      const bk = tf.reshape(buckets, [G, H, N]);
      const pos = tf.range(0, N, 1, 'int32');
      const keys = tf.add(tf.mul(bk, int(N)), pos); // unique per round: (bucket, position)
      const sorted = tf.topk(tf.neg(keys), N, true); // ascending (bucket, position); tfjs has no argsort
      const sticker = sorted.indices; // [G, H, N] positions in sorted order
      const undo = inversePermutation(sticker); // [G, H, N] sorted slot of each position
      const roundOff = tf.reshape(tf.range(0, H * N, N, 'int32'), [1, H, 1]);
      const permGlobal = tf.reshape(tf.add(sticker, roundOff), [G, H * N]);
      const undoGlobal = tf.reshape(tf.add(undo, roundOff), [G, H * N]);

      const qt = tf.reshape(sticker, [G, C, m]); // original position of every query slot
      const kt = tf.reshape(lookOneBack(tf.reshape(qt, [G, C, m, 1])), [G, C, 2 * m]);
      const qtE = tf.expandDims(qt, 3);
      const ktE = tf.expandDims(kt, 2);
      const biases: Tensor[] = [tf.mul(tf.cast(tf.equal(qtE, ktE), 'float32'), SELF_PENALTY)];
      if (causal) biases.push(tf.mul(tf.cast(tf.greater(ktE, qtE), 'float32'), MASKED));
      // key validity: real (not padding) and not masked by the caller
      let valid: Tensor = tf.cast(tf.less(pos, n), 'float32'); // [N]
      valid = tf.tile(tf.reshape(valid, [1, N]), [G, 1]);
      if (maskT) {
        const mp = tf.reshape(tf.tile(tf.reshape(tf.pad(maskT, [[0, 0], [0, N - n]]), [b, 1, N]), [1, nh, 1]), [G, N]);
        valid = tf.mul(valid, mp);
      }
      biases.push(tf.mul(tf.sub(1, tf.expandDims(batchGather(valid, kt), 2)), MASKED));
      if (!acrossBuckets) {
        const gb = tf.reshape(tf.add(tf.floorDiv(tf.neg(sorted.values), int(N)), tf.reshape(tf.range(0, H * res.nBuckets, res.nBuckets, 'int32'), [1, H, 1])), [G, C, m, 1]);
        const qb = tf.reshape(gb, [G, C, m]);
        const kb = tf.reshape(lookOneBack(gb), [G, C, 2 * m]);
        biases.push(tf.mul(tf.cast(tf.notEqual(tf.expandDims(qb, 3), tf.expandDims(kb, 2)), 'float32'), MASKED));
      }
      if (!allowDup) biases.push(duplicateBias(undo, qt, kt, m));
      const bias = biases.reduce((a, c) => tf.add(a, c)); // [G, C, m, 2m]

      // ---- differentiable part ----
      const sq = sortRows(q3, sticker, undoGlobal, H); // [G, H·N, d]
      const sv = sortRows(v3, sticker, undoGlobal, H);
      const bq = tf.reshape(sq, [G, C, m, d]);
      const bkk = lookOneBack(unitLength(bq)); // [G, C, 2m, d]
      const bvv = lookOneBack(tf.reshape(sv, [G, C, m, dv]));
      const dots = tf.add(tf.reshape(tf.mul(bmm(tf.reshape(bq, [G * C, m, d]), tf.reshape(bkk, [G * C, 2 * m, d]), false, true), scale), [G, C, m, 2 * m]), bias);
      // softmax normalised by its sum (not by exp(−lse): lse ≈ −5·10⁴ for rows that only see
      // themselves, where float32 rounding of lse would scale the row by up to 0.4 %)
      const mx = stopGradient(tf.max(dots, -1, true));
      const e = tf.exp(tf.sub(dots, mx));
      const se = tf.sum(e, -1, true);
      const probs = tf.div(e, se);
      const lse = tf.add(mx, tf.log(se)); // [G, C, m, 1]
      const bo = bmm(tf.reshape(probs, [G * C, m, 2 * m]), tf.reshape(bvv, [G * C, 2 * m, dv])); // [G·C, m, dv]
      const o = tf.reshape(permuteRows(tf.reshape(bo, [G, H * N, dv]), undoGlobal, permGlobal), [G, H, N, dv]);
      let out: Tensor;
      if (H === 1) out = tf.reshape(o, [G, N, dv]);
      else {
        const z = tf.reshape(permuteRows(tf.reshape(lse, [G, H * N, 1]), undoGlobal, permGlobal), [G, H, N, 1]);
        const ez = tf.exp(tf.sub(z, stopGradient(tf.max(z, 1, true))));
        const w = tf.div(ez, tf.sum(ez, 1, true)); // softmax over rounds
        out = tf.sum(tf.mul(o, w), 1);
      }
      if (N !== n) out = tf.slice(out, [0, 0, 0], [G, n, dv]);
      return { output: tf.reshape(out, [b, nh, n, dv]) as Tensor4D, buckets: tf.cast(buckets, 'int32') };
    });
  } finally {
    maskT?.dispose();
    if (ownHash) disposeHash(ownHash);
  }
}

/** LSH attention (shared-QK: `k` is ignored and may be null or q). */
export function lshAttention(q: Tensor4D, k: Tensor4D | null, v: Tensor4D, opts: LSHAttentionOptions = {}): Tensor4D {
  const r = lshAttentionWithBuckets(q, k, v, opts);
  r.buckets.dispose();
  return r.output;
}
