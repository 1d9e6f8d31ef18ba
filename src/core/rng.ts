/**
 * The one seeded random number generator behind every random choice in paperlab: data shuffles,
 * augmentations, initialisers, sampling, and the integer seeds handed to tfjs random ops.
 *
 * xoshiro128** (Blackman & Vigna): 128 bits of state, fast in 32-bit JS arithmetic, and its state is
 * four integers, so it is trivial to save in a checkpoint and restore exactly.
 */
import { PaperlabError, checkInt } from './errors.js';

export interface RngState {
  s: [number, number, number, number];
  /** Cached second Box–Muller normal, so a restored generator continues the same stream. */
  spare: number | null;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Hashes a string label to 32 bits (FNV-1a), used to derive independent child streams. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new PaperlabError('seed', `expected a finite number, got ${String(seed)}`, 'pass an integer seed such as 0 or 42');
    const sm = splitmix32(Math.floor(seed) ^ Math.floor(seed / 0x100000000));
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** Next raw 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of resolution. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal by Box–Muller; the second value is kept for the next call. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return mean + std * v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). Rejection sampling keeps it exactly uniform. */
  int(n: number): number {
    checkInt(n, 'n', { min: 1 });
    if (n > 0xffffffff) return Math.floor(this.next() * n);
    const limit = Math.floor(0x100000000 / n) * n;
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[];
  shuffle<A extends { length: number; [i: number]: number }>(items: A): A;
  shuffle(items: { length: number; [i: number]: unknown }): unknown {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** Fills a Float32Array with normals (used for initialisers and random projections). */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  uniformArray(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  /** An integer seed for a tfjs random op (`tf.randomNormal(..., seed)`), drawn from this stream. */
  tfSeed(): number {
    return this.nextU32() & 0x7fffffff;
  }

  /**
   * An independent child stream named by `label`. It consumes one draw from this stream, so the
   * parent stays reproducible, and different labels give unrelated children.
   */
  fork(label = ''): Rng {
    const child = new Rng(0);
    const sm = splitmix32(this.nextU32() ^ hashLabel(label));
    child.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if (child.s.every((v) => v === 0)) child.s[0] = 1;
    return child;
  }

  getState(): RngState {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!], spare: this.spare };
  }

  setState(state: RngState): void {
    if (!state || !Array.isArray(state.s) || state.s.length !== 4 || !state.s.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
      throw new PaperlabError('rng state', 'is not four unsigned 32-bit integers', 'restore a state produced by Rng.getState()');
    }
    this.s = new Uint32Array(state.s);
    this.spare = state.spare ?? null;
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }
}

let globalRng = new Rng(0);

/** Re-seeds the process-wide generator; `initEngine({ seed })` calls this. */
export function setGlobalSeed(seed: number): Rng {
  globalRng = new Rng(seed);
  return globalRng;
}

/** The process-wide generator (seed 0 until `setGlobalSeed` or `initEngine` is called). */
export function getRng(): Rng {
  return globalRng;
}
