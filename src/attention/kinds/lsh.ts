/**
 * 'lsh': Reformer LSH attention (shared QK: keys are the unit-length queries, pass q as k). Fresh
 * hash rotations are drawn from the call's Rng unless the call's bucket store already holds this
 * layer's buckets (the reversible backward, finite differences). No parameters; no cached decoding
 * (a new token can change every bucket's chunk boundaries), so `generate` recomputes.
 */
import { tf, type Tensor4D } from '../../core/tf.js';
import { check, checkInt, checkOneOf } from '../../core/errors.js';
import { getRng } from '../../core/rng.js';
import { HASH_KINDS, type HashKind, checkBucketCount, disposeHash, drawHash } from '../hash.js';
import { lshAttention, lshAttentionWithBuckets, resolveLSH } from '../lsh.js';
import type { AttentionKindSpec } from './types.js';

export interface LSHKindOptions {
  /** Chunk length (trax `chunk_len`, lucidrains `bucket_size`). Default 64. */
  bucketSize: number;
  /** Hash rounds. Default 4. */
  nHashes: number;
  /** Buckets per round. Default: from the padded length (see resolveLSH). */
  nBuckets: number | undefined;
  /** 'angular' (the paper's) or 'coset'. Default 'angular'. */
  hash: HashKind;
  /** Coset hash: sign bits per round. Default 2·log2(nBuckets). */
  hashBits: number | undefined;
  /** Default true. */
  attendAcrossBuckets: boolean;
  /** Default true. */
  allowDuplicateAttention: boolean;
}

export const lshKind: AttentionKindSpec<LSHKindOptions> = {
  name: 'lsh',
  summary: 'Reformer LSH attention, shared QK, O(n·bucketSize·nHashes)',
  capabilities: { causal: true, sharedQK: 'required', decoding: 'none' },
  defaults: { bucketSize: 64, nHashes: 4, nBuckets: undefined, hash: 'angular', hashBits: undefined, attendAcrossBuckets: true, allowDuplicateAttention: true },
  resolve(o) {
    const d = lshKind.defaults;
    const r: LSHKindOptions = {
      bucketSize: o.bucketSize ?? d.bucketSize,
      nHashes: o.nHashes ?? d.nHashes,
      nBuckets: o.nBuckets ?? undefined,
      hash: o.hash ?? d.hash,
      hashBits: o.hashBits ?? undefined,
      attendAcrossBuckets: o.attendAcrossBuckets ?? d.attendAcrossBuckets,
      allowDuplicateAttention: o.allowDuplicateAttention ?? d.allowDuplicateAttention,
    };
    checkInt(r.bucketSize, 'bucketSize', { min: 1 });
    checkInt(r.nHashes, 'nHashes', { min: 1 });
    checkOneOf(r.hash, HASH_KINDS, 'hash');
    if (r.nBuckets !== undefined) checkBucketCount(r.nBuckets, r.hash);
    if (r.hashBits !== undefined) checkInt(r.hashBits, 'hashBits', { min: 1 });
    check(typeof r.attendAcrossBuckets === 'boolean', 'attendAcrossBuckets', `expected true or false, got ${String(r.attendAcrossBuckets)}`, 'pass a boolean');
    check(typeof r.allowDuplicateAttention === 'boolean', 'allowDuplicateAttention', `expected true or false, got ${String(r.allowDuplicateAttention)}`, 'pass a boolean');
    return r;
  },
  params: () => [],
  forward(q, _k, v, o, ctx, args) {
    const nHashes = args.overrides?.nHashes ?? o.nHashes;
    checkInt(nHashes, 'nHashes', { min: 1 });
    const opts = { ...o, nHashes, causal: ctx.causal, mask: args.mask, checkFinite: args.checkFinite ?? true };
    const store = args.buckets;
    if (!store) return lshAttention(q, null, v, { ...opts, rng: args.rng ?? getRng() });
    const held = store.get();
    if (held) {
      const buckets = tf.tensor(held.data, held.shape, 'int32');
      try {
        return lshAttention(q, null, v, { ...opts, buckets });
      } finally {
        buckets.dispose();
      }
    }
    const res = resolveLSH(q.shape[2], opts);
    const hash = drawHash({ hash: res.hash, dim: q.shape[3], nBuckets: res.nBuckets, nHashes: res.nHashes, hashBits: o.hashBits }, args.rng ?? getRng());
    try {
      const r = lshAttentionWithBuckets(q, null, v, { ...opts, hashParams: hash });
      store.set({ data: r.buckets.dataSync() as Int32Array, shape: r.buckets.shape.slice() });
      r.buckets.dispose();
      return r.output as Tensor4D;
    } finally {
      disposeHash(hash);
    }
  },
};
