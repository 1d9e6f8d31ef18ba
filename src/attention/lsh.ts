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
 * The discrete part (sort, gather indices, masks) is built in plain JS from the buckets; the
 * differentiable part works on a chunk-major layout so that "the chunk before" is a contiguous
 * roll and the two halves of each window are never concatenated (tfjs's cpu split/slice on inner
 * axes is slow). Gradients flow through the values and the logits; the buckets and sort order are
 * constants of the forward pass (the gradients of the gathers are the inverse gathers), so the
 * backward pass uses the forward pass's buckets. Pass `buckets` to reuse a previous pass's buckets
 * exactly (the reversible Reformer does this when it recomputes activations).
 */
import { tf, type Tensor, type Tensor4D } from '../core/tf.js';
import { check, checkInt, checkOneOf, describeShape } from '../core/errors.js';
import { Rng, getRng } from '../core/rng.js';
import { MASKED, SELF_PENALTY, bmm, checkQkv, keyMask, padSeq, roundUp, stopGradient, unitLength, withGradient } from './common.js';
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

export interface LSHAttentionResult {
  output: Tensor4D;
  /** int32 [batch, heads, nHashes, paddedLength]: pass back as `buckets` to reuse them. */
  buckets: Tensor;
}

/**
 * The discrete part of LSH attention, computed in plain JS from the buckets (it has no gradient
 * and is a few integer passes over H·N positions, where tfjs would need dozens of kernels):
 * the sort of every round, the gather indices to and from the chunked layout, and the additive
 * logit biases (self, causal, padding, other buckets, duplicates) of each chunk against itself
 * (A) and against the chunk before it (B).
 *
 * Chunked layout: row (c·G + g)·m + i holds slot i of global chunk c (rounds back to back) of
 * group g (batch·heads), so chunks are the leading axis and "the chunk before" is a contiguous
 * roll along it.
 */
interface Schedule {
  /** [C·G·m] source row (g·N + position) of each chunked row. */
  sortIdx: Int32Array;
  /** [G·H·N] chunked row of every (group, round, position), padding included. */
  undoAll: Int32Array;
  /** [G·H·n] chunked row of every (group, round, real position). */
  undoReal: Int32Array;
  /** [C·G·m] (g·H + r)·n + position of each chunked row, or G·H·n (a zero row) for padding. */
  toReal: Int32Array;
  biasA: Float32Array;
  biasB: Float32Array;
}

function buildSchedule(
  buckets: Int32Array,
  valid: Uint8Array,
  dims: { G: number; H: number; N: number; n: number; m: number; nBuckets: number },
  flags: { causal: boolean; across: boolean; allowDup: boolean },
): Schedule {
  const { G, H, N, n, m, nBuckets } = dims;
  const nC = N / m;
  const C = H * nC;
  const rows = C * G * m;
  const sortIdx = new Int32Array(rows);
  const posOf = new Int32Array(rows);
  const bucketOf = new Int32Array(rows);
  const undoAll = new Int32Array(G * H * N);
  const undoReal = new Int32Array(G * H * n);
  const toReal = new Int32Array(rows);
  const chunkOf = new Int32Array(G * H * N); // local chunk of each position in each round
  const keys = new Float64Array(N);
  for (let g = 0; g < G; g++) {
    for (let r = 0; r < H; r++) {
      const base = (g * H + r) * N;
      for (let p = 0; p < N; p++) keys[p] = buckets[base + p]! * N + p; // (bucket, position): a stable sort
      keys.sort();
      for (let s = 0; s < N; s++) {
        const key = keys[s]!;
        const p = key % N;
        const t = r * N + s;
        const c = Math.floor(t / m);
        const row = (c * G + g) * m + (t % m);
        sortIdx[row] = g * N + p;
        posOf[row] = p;
        bucketOf[row] = r * nBuckets + (key - p) / N;
        undoAll[base + p] = row;
        chunkOf[base + p] = Math.floor(s / m);
        if (p < n) {
          undoReal[(g * H + r) * n + p] = row;
          toReal[row] = (g * H + r) * n + p;
        } else toReal[row] = G * H * n;
      }
    }
  }
  const biasA = new Float32Array(rows * m);
  const biasB = new Float32Array(rows * m);
  for (let c = 0; c < C; c++) {
    const cp = (c - 1 + C) % C;
    for (let g = 0; g < G; g++) {
      for (let i = 0; i < m; i++) {
        const qr = (c * G + g) * m + i;
        const qp = posOf[qr]!;
        for (let half = 0; half < 2; half++) {
          const bias = half === 0 ? biasA : biasB;
          const kc = half === 0 ? c : cp;
          for (let j = 0; j < m; j++) {
            const kr = (kc * G + g) * m + j;
            const kp = posOf[kr]!;
            let b = 0;
            if (kp === qp) b += SELF_PENALTY;
            if (flags.causal && kp > qp) b += MASKED;
            if (!valid[g * N + kp]) b += MASKED;
            if (!flags.across && bucketOf[kr] !== bucketOf[qr]) b += MASKED;
            if (!flags.allowDup) {
              // how often key kp sits in query qp's windows over all rounds (chunk and look-back)
              let count = 0;
              for (let r = 0; r < H; r++) {
                const cq = chunkOf[(g * H + r) * N + qp]!;
                const ck = chunkOf[(g * H + r) * N + kp]!;
                if (ck === cq) count++;
                if (cq > 0 && ck === cq - 1) count++;
                if (ck === nC - 1 && chunkOf[(g * H + ((r + 1) % H)) * N + qp] === 0) count++;
              }
              b -= Math.log(Math.max(count, 1));
            }
            bias[qr * m + j] = b;
          }
        }
      }
    }
  }
  return { sortIdx, undoAll, undoReal, toReal, biasA, biasB };
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
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  return tf.tidy(() => {
    const q2 = tf.reshape(padSeq(q, N), [G * N, d]);
    const v2 = tf.reshape(padSeq(v, N), [G * N, dv]);

    // ---- discrete part (no gradient): buckets → schedule ----
    let buckets: Tensor;
    if (opts.buckets) buckets = tf.cast(opts.buckets, 'int32');
    else {
      let ownHash: LSHHash | undefined;
      const h = hp ?? (ownHash = drawHash({ hash: res.hash, dim: d, nBuckets: res.nBuckets, nHashes: H, hashBits: opts.hashBits }, opts.rng ?? getRng()));
      check(h.nHashes === H && h.nBuckets === res.nBuckets, 'hashParams', 'does not match nHashes/nBuckets', 'draw the hash with the same nHashes and nBuckets');
      buckets = tf.reshape(hashVectors(stopGradient(tf.reshape(q2, [G, N, d])), h), [b, nh, H, N]);
      if (ownHash) disposeHash(ownHash);
    }
    const valid = new Uint8Array(G * N);
    const maskData = maskT ? maskT.dataSync() : undefined;
    for (let g = 0; g < G; g++) {
      const bi = Math.floor(g / nh);
      for (let p = 0; p < n; p++) valid[g * N + p] = !maskData || maskData[bi * n + p] !== 0 ? 1 : 0;
    }
    const sch = buildSchedule(buckets.dataSync() as Int32Array, valid, { G, H, N, n, m, nBuckets: res.nBuckets }, {
      causal: opts.causal ?? false,
      across: opts.attendAcrossBuckets ?? true,
      allowDup: opts.allowDuplicateAttention ?? true,
    });
    // indices used by the backward pass are captured as arrays: it may run after this tidy ends
    const sortIdx = tf.tensor1d(sch.sortIdx, 'int32');
    const undoReal = tf.tensor1d(sch.undoReal, 'int32');
    const biasA = tf.tensor3d(sch.biasA, [C * G, m, m]);
    const biasB = tf.tensor3d(sch.biasB, [C * G, m, m]);

    // ---- differentiable part ----
    // gather into chunked order; gradient: sum over rounds of the inverse gathers
    const sortRows = (x: Tensor, width: number): Tensor =>
      withGradient(
        x,
        (xin) => tf.gather(xin, sortIdx),
        (dy) => tf.tidy(() => tf.reshape(tf.sum(tf.reshape(tf.gather(dy, tf.tensor1d(sch.undoAll, 'int32')), [G, H, N, width]), 1), [G * N, width])),
      );
    // back to [G·H·n] order (padding dropped); gradient: gather into chunked order, padding → 0
    const unsortRows = (x: Tensor, width: number): Tensor =>
      withGradient(
        x,
        (xin) => tf.gather(xin, undoReal),
        (dy) => tf.tidy(() => tf.gather(tf.concat([dy, tf.zeros([1, width])], 0), tf.tensor1d(sch.toReal, 'int32'))),
      );
    const sq = tf.reshape(sortRows(q2, d), [C, G * m, d]);
    const sv = tf.reshape(sortRows(v2, dv), [C, G * m, dv]);
    const sk = unitLength(sq);
    // the chunk before (wrapping across rounds): a roll along the leading axis, whose gradient is
    // the opposite roll (tfjs's own slice gradient pads to the full shape, slowly)
    const rollBy = (x: Tensor, first: number): Tensor => tf.concat([tf.slice(x, [first, 0, 0], [C - first, -1, -1]), tf.slice(x, [0, 0, 0], [first, -1, -1])], 0);
    const roll = (x: Tensor): Tensor => (C === 1 ? x : withGradient(x, (xin) => rollBy(xin, C - 1), (dy) => rollBy(dy, 1)));
    const bq = tf.reshape(tf.mul(sq, scale), [C * G, m, d]); // scale the queries (n·d), not the logits (n·2m)
    const dotsA = tf.add(bmm(bq, tf.reshape(sk, [C * G, m, d]), false, true), biasA);
    const dotsB = tf.add(bmm(bq, tf.reshape(roll(sk), [C * G, m, d]), false, true), biasB);
    // softmax over both halves without concatenating them; normalised by the sum (not exp(−lse),
    // whose float32 rounding at −5·10⁴ would scale rows that only see themselves)
    const mx = stopGradient(tf.maximum(tf.max(dotsA, -1, true), tf.max(dotsB, -1, true)));
    const eA = tf.exp(tf.sub(dotsA, mx));
    const eB = tf.exp(tf.sub(dotsB, mx));
    const se = tf.add(tf.sum(eA, -1, true), tf.sum(eB, -1, true)); // [C·G, m, 1]
    const num = tf.add(bmm(eA, tf.reshape(sv, [C * G, m, dv])), bmm(eB, tf.reshape(roll(sv), [C * G, m, dv])));
    const bo = tf.reshape(tf.div(num, se), [C * G * m, dv]);
    const o = tf.reshape(unsortRows(bo, dv), [G, H, n, dv]);
    let out: Tensor;
    if (H === 1) out = tf.reshape(o, [G, n, dv]);
    else {
      const lse = tf.reshape(tf.add(mx, tf.log(se)), [C * G * m, 1]);
      const z = tf.reshape(unsortRows(lse, 1), [G, H, n, 1]);
      const ez = tf.exp(tf.sub(z, stopGradient(tf.max(z, 1, true))));
      const w = tf.div(ez, tf.sum(ez, 1, true)); // softmax over rounds of their log-sum-exps
      out = tf.sum(tf.mul(o, w), 1);
    }
    maskT?.dispose();
    return { output: tf.reshape(out, [b, nh, n, dv]) as Tensor4D, buckets };
  });
}

/** LSH attention (shared-QK: `k` is ignored and may be null or q). */
export function lshAttention(q: Tensor4D, k: Tensor4D | null, v: Tensor4D, opts: LSHAttentionOptions = {}): Tensor4D {
  const r = lshAttentionWithBuckets(q, k, v, opts);
  r.buckets.dispose();
  return r.output;
}
