/**
 * Locality-sensitive hashes for LSH attention, usable on their own (e.g. to show how a sequence is
 * bucketed).
 *
 * - Angular (Reformer §2, Andoni et al. 2015): a random rotation R ∈ R^{d × nBuckets/2} per round and
 *   h(x) = argmax([xR; −xR]). Nearby directions land in the same bucket with high probability.
 * - Coset (the reading notes' idea): `hashBits` sign bits s = [xP > 0] from random hyperplanes P
 *   (SimHash), then the syndrome A·s mod 2 under a random full-rank binary parity-check matrix
 *   A ∈ {0,1}^{r × hashBits}, r = log2(nBuckets), read as an r-bit bucket number: LSH as coset
 *   coding. With A = [I 0] it degenerates to "the first r sign bits". Two vectors at angle θ flip
 *   each sign bit independently with p = θ/π, so the collision probability has the closed form
 *   P = 2^{−r} Σ_{c ∈ {0,1}^r} (1 − 2p)^{wt(cᵀA)} (`cosetCollisionProbability`).
 */
import { tf, type Tensor } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkOneOf } from '../core/errors.js';
import { Rng, getRng } from '../core/rng.js';

export const HASH_KINDS = ['angular', 'coset'] as const;
export type HashKind = (typeof HASH_KINDS)[number];

export interface AngularHash {
  kind: 'angular';
  nBuckets: number;
  nHashes: number;
  /** [dim, nHashes, nBuckets/2] random rotations. */
  rotations: tf.Tensor3D;
}

export interface CosetHash {
  kind: 'coset';
  nBuckets: number;
  nHashes: number;
  hashBits: number;
  /** [dim, nHashes, hashBits] random hyperplanes. */
  projections: tf.Tensor3D;
  /** [nHashes, log2(nBuckets), hashBits] parity-check matrices of 0/1 (float32). */
  parityCheck: tf.Tensor3D;
}

export type LSHHash = AngularHash | CosetHash;

export interface DrawHashOptions {
  hash?: HashKind;
  /** Input dimension (dHead). */
  dim: number;
  nBuckets: number;
  nHashes?: number;
  /** Coset hash: sign bits per round. Default 2·log2(nBuckets). */
  hashBits?: number;
}

export function checkBucketCount(nBuckets: number, hash: HashKind, argument = 'nBuckets'): void {
  checkInt(nBuckets, argument, { min: 2 });
  if (hash === 'angular') {
    check(nBuckets % 2 === 0, argument, `must be even for the angular hash (argmax over [xR; −xR]), got ${nBuckets} (odd bucket count)`, `use ${nBuckets + 1}`);
  } else {
    check((nBuckets & (nBuckets - 1)) === 0, argument, `must be a power of two for the coset hash (buckets are r-bit syndromes), got ${nBuckets}`, `use ${2 ** Math.ceil(Math.log2(nBuckets))}`);
  }
}

/** GF(2) rank of a binary matrix given as rows of 0/1. */
function gf2Rank(rows: number[][]): number {
  const m = rows.map((r) => r.slice());
  let rank = 0;
  const cols = m[0]?.length ?? 0;
  for (let c = 0; c < cols && rank < m.length; c++) {
    const pivot = m.findIndex((r, i) => i >= rank && r[c] === 1);
    if (pivot < 0) continue;
    [m[rank], m[pivot]] = [m[pivot]!, m[rank]!];
    for (let i = 0; i < m.length; i++) {
      if (i !== rank && m[i]![c] === 1) m[i] = m[i]!.map((x, j) => x ^ m[rank]![j]!);
    }
    rank++;
  }
  return rank;
}

/** A random full-rank binary r × bits matrix (every syndrome reachable). */
export function randomParityCheck(rng: Rng, r: number, bits: number): number[][] {
  checkInt(r, 'r', { min: 1 });
  check(bits >= r, 'hashBits', `must be ≥ log2(nBuckets) = ${r}, got ${bits}`, `pass hashBits ≥ ${r}`);
  for (;;) {
    const rows = Array.from({ length: r }, () => Array.from({ length: bits }, () => rng.int(2)));
    if (gf2Rank(rows) === r) return rows;
  }
}

/** Draws the random parameters of an angular or coset hash from `rng` (default: the global Rng). */
export function drawHash(opts: DrawHashOptions, rng: Rng = getRng()): LSHHash {
  const kind = opts.hash ?? 'angular';
  checkOneOf(kind, HASH_KINDS, 'hash');
  checkInt(opts.dim, 'dim', { min: 1 });
  const nHashes = opts.nHashes ?? 1;
  checkInt(nHashes, 'nHashes', { min: 1 });
  checkBucketCount(opts.nBuckets, kind);
  if (kind === 'angular') {
    const half = opts.nBuckets / 2;
    const rotations = tf.tensor3d(rng.normalArray(opts.dim * nHashes * half), [opts.dim, nHashes, half]);
    return { kind, nBuckets: opts.nBuckets, nHashes, rotations };
  }
  const r = Math.round(Math.log2(opts.nBuckets));
  const bits = opts.hashBits ?? 2 * r;
  checkInt(bits, 'hashBits', { min: r, max: 30 });
  const projections = tf.tensor3d(rng.normalArray(opts.dim * nHashes * bits), [opts.dim, nHashes, bits]);
  const pc: number[] = [];
  for (let i = 0; i < nHashes; i++) pc.push(...randomParityCheck(rng, r, bits).flat());
  const parityCheck = tf.tensor3d(pc, [nHashes, r, bits]);
  return { kind, nBuckets: opts.nBuckets, nHashes, hashBits: bits, projections, parityCheck };
}

export function disposeHash(h: LSHHash): void {
  if (h.kind === 'angular') h.rotations.dispose();
  else {
    h.projections.dispose();
    h.parityCheck.dispose();
  }
}

function hashDim(h: LSHHash): number {
  return h.kind === 'angular' ? h.rotations.shape[0] : h.projections.shape[0];
}

/**
 * Buckets of vectors x [..., n, dim] under each hash round: int32 [..., nHashes, n] with values in
 * [0, nBuckets). Not differentiable (buckets are discrete).
 */
export function hashVectors(x: Tensor, h: LSHHash): Tensor {
  const dim = hashDim(h);
  check(x.rank >= 2 && x.shape[x.rank - 1] === dim, 'x', `expected [..., n, ${dim}] to match the hash's dim, got [${x.shape.join(', ')}]`, `draw the hash with dim ${x.shape[x.rank - 1]}`);
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1); // [..., n]
    const x2 = tf.reshape(x, [-1, dim]);
    const rows = x2.shape[0];
    let buckets: Tensor;
    if (h.kind === 'angular') {
      const half = h.nBuckets / 2;
      const rot = tf.reshape(tf.matMul(x2, tf.reshape(h.rotations, [dim, h.nHashes * half])), [rows, h.nHashes, half]);
      buckets = tf.argMax(tf.concat([rot, tf.neg(rot)], -1), -1); // [rows, nHashes]
    } else {
      const bits = h.hashBits;
      const r = h.parityCheck.shape[1];
      const proj = tf.reshape(tf.matMul(x2, tf.reshape(h.projections, [dim, h.nHashes * bits])), [rows, h.nHashes, 1, bits]);
      const s = tf.cast(tf.greater(proj, 0), 'float32');
      const syndrome = tf.mod(tf.sum(tf.mul(s, h.parityCheck), -1), 2); // [rows, nHashes, r]
      const weights = tf.tensor1d(Array.from({ length: r }, (_, i) => 2 ** i));
      buckets = tf.cast(tf.round(tf.sum(tf.mul(syndrome, weights), -1)), 'int32');
    }
    const shaped = tf.reshape(buckets, [...lead, h.nHashes]);
    // move the hash axis in front of n: [..., n, H] → [..., H, n]
    const r = shaped.rank;
    const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
    return tf.cast(tf.transpose(shaped, perm), 'int32');
  });
}

/** The angular hash of x: argmax([xR; −xR]) per round → int32 [..., nHashes, n]. */
export function angularHash(x: Tensor, rotations: tf.Tensor3D): Tensor {
  const nBuckets = rotations.shape[2] * 2;
  return hashVectors(x, { kind: 'angular', nBuckets, nHashes: rotations.shape[1], rotations });
}

/** The coset hash of x: syndrome of sign bits under parity checks → int32 [..., nHashes, n]. */
export function cosetHash(x: Tensor, projections: tf.Tensor3D, parityCheck: tf.Tensor3D): Tensor {
  const r = parityCheck.shape[1];
  check(parityCheck.shape[0] === projections.shape[1] && parityCheck.shape[2] === projections.shape[2], 'parityCheck', `shape [${parityCheck.shape.join(', ')}] does not fit projections [${projections.shape.join(', ')}]`, 'pass [nHashes, r, hashBits] matching projections [dim, nHashes, hashBits]');
  return hashVectors(x, { kind: 'coset', nBuckets: 2 ** r, nHashes: projections.shape[1], hashBits: projections.shape[2], projections, parityCheck });
}

/**
 * Convenience for demos: buckets of plain vectors (rows of `x`) as arrays, one per hash round.
 * ```ts
 * const { buckets } = lshBuckets(points, { nBuckets: 8, nHashes: 2, hash: 'coset', seed: 1 });
 * ```
 */
export function lshBuckets(x: number[][], opts: { nBuckets: number; nHashes?: number; hash?: HashKind; hashBits?: number; seed?: number }): { buckets: number[][] } {
  check(x.length > 0 && x.every((r) => r.length === x[0]!.length && r.every(Number.isFinite)), 'x', 'expected a non-empty list of equal-length finite vectors', 'pass points as number[][]');
  const dim = x[0]!.length;
  const h = drawHash({ hash: opts.hash, dim, nBuckets: opts.nBuckets, nHashes: opts.nHashes, hashBits: opts.hashBits }, new Rng(opts.seed ?? 0));
  try {
    const b = tf.tidy(() => hashVectors(tf.tensor2d(x), h));
    const arr = b.arraySync() as number[][];
    b.dispose();
    return { buckets: arr };
  } finally {
    disposeHash(h);
  }
}

/**
 * Closed-form collision probability of the coset hash for two vectors at angle θ (radians), given
 * its parity-check matrix (rows of 0/1): 2^{−r} Σ_c (1 − 2θ/π)^{wt(cᵀA)}.
 */
export function cosetCollisionProbability(theta: number, parityCheck: number[][]): number {
  const r = parityCheck.length;
  if (r === 0) throw new PaperlabError('parityCheck', 'has no rows', 'pass an r × hashBits matrix');
  const bits = parityCheck[0]!.length;
  const rho = 1 - (2 * theta) / Math.PI;
  let total = 0;
  for (let c = 0; c < 1 << r; c++) {
    let wt = 0;
    for (let j = 0; j < bits; j++) {
      let parity = 0;
      for (let i = 0; i < r; i++) if ((c >> i) & 1) parity ^= parityCheck[i]![j]!;
      wt += parity;
    }
    total += Math.pow(rho, wt);
  }
  return total / (1 << r);
}
