/**
 * Independent references for checking attention code: plain float64 softmax attention (with the
 * Reformer's shared-QK rules) and a finite-difference gradient check. Slow by design; used by the
 * tests and handy when porting a new kernel.
 */
import { tf, type Tensor } from '../core/tf.js';
import { Rng } from '../core/rng.js';

export type Mat = number[][];

export function randn4(rng: Rng, shape: [number, number, number, number], scale = 1): tf.Tensor4D {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(rng.normalArray(n, 0, scale), shape);
}

/** Largest absolute difference of two tensors. */
export function maxDiff(a: Tensor, b: Tensor): number {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = d.dataSync()[0]!;
  d.dispose();
  return v;
}

export interface RefOptions {
  causal?: boolean;
  /** Key validity (1 = attend). */
  valid?: number[];
  /** Reformer shared-QK: keys = q/‖q‖, self only as a last resort. */
  sharedQK?: boolean;
  /** Restrict each query to keys with allowed(i, j). */
  allowed?: (i: number, j: number) => boolean;
}

/** Softmax attention for one head in float64. */
export function refAttention(q: Mat, k: Mat, v: Mat, o: RefOptions = {}): Mat {
  const d = q[0]!.length;
  const keys = o.sharedQK ? q.map((r) => { const nr = Math.sqrt(r.reduce((s, x) => s + x * x, 0)); return r.map((x) => x / nr); }) : k;
  return q.map((qi, i) => {
    const cand: Array<{ j: number; s: number }> = [];
    let selfOnly: number | undefined;
    keys.forEach((kj, j) => {
      if (o.causal && j > i) return;
      if (o.valid && !o.valid[j]) return;
      if (o.allowed && !o.allowed(i, j)) return;
      if (o.sharedQK && j === i) { selfOnly = j; return; }
      cand.push({ j, s: qi.reduce((s, x, t) => s + x * kj[t]!, 0) / Math.sqrt(d) });
    });
    if (cand.length === 0) return v[selfOnly ?? i]!.slice();
    const mx = Math.max(...cand.map((c) => c.s));
    const w = cand.map((c) => Math.exp(c.s - mx));
    const z = w.reduce((a, b) => a + b, 0);
    return v[0]!.map((_, t) => cand.reduce((s, c, idx) => s + (w[idx]! / z) * v[c.j]![t]!, 0));
  });
}

/** [b, h, n, d] tensor → per (b, h) matrices. */
export function heads(x: Tensor): Mat[][] {
  return x.arraySync() as Mat[][];
}

/** Applies a per-head reference to [b, h, n, d] tensors and returns the [b, h, n, dv] result. */
export function refPerHead(q: Tensor, k: Tensor, v: Tensor, f: (q: Mat, k: Mat, v: Mat, b: number, h: number) => Mat): tf.Tensor4D {
  const Q = heads(q), K = heads(k), V = heads(v);
  const out = Q.map((qb, b) => qb.map((qh, h) => f(qh, K[b]![h]!, V[b]![h]!, b, h)));
  return tf.tensor4d(out);
}

export interface GradientMismatch {
  input: number;
  index: number;
  finiteDifference: number;
  gradient: number;
}

/**
 * Central finite differences of a scalar function against tf.grads at `samples` random entries of
 * every input. Returns the entries where |fd − grad| > atol + rtol·|fd| (empty when all agree).
 */
export function gradientMismatches(
  f: (...xs: Tensor[]) => tf.Scalar,
  xs: Tensor[],
  rng: Rng,
  opts: { eps?: number; samples?: number; atol?: number; rtol?: number } = {},
): GradientMismatch[] {
  const eps = opts.eps ?? 1e-2;
  const samples = opts.samples ?? 5;
  const atol = opts.atol ?? 3e-3;
  const rtol = opts.rtol ?? 3e-2;
  const grads = tf.grads(f)(xs);
  const bad: GradientMismatch[] = [];
  xs.forEach((x, xi) => {
    const g = grads[xi]!.dataSync();
    const base = x.dataSync();
    for (let s = 0; s < samples; s++) {
      const idx = rng.int(base.length);
      const eval1 = (delta: number): number => {
        const data = Float32Array.from(base);
        data[idx]! += delta;
        const xt = tf.tensor(data, x.shape);
        const y = f(...xs.map((t, j) => (j === xi ? xt : t)));
        const val = y.dataSync()[0]!;
        tf.dispose([xt, y]);
        return val;
      };
      const fd = (eval1(eps) - eval1(-eps)) / (2 * eps);
      const an = g[idx]!;
      if (!(Math.abs(fd - an) <= atol + rtol * Math.abs(fd))) bad.push({ input: xi, index: idx, finiteDifference: fd, gradient: an });
    }
  });
  tf.dispose(grads);
  return bad;
}

/** A fixed random weighting so that sum(out ⊙ R) has a non-trivial gradient. */
export function weightedSum(out: Tensor, r: Tensor): tf.Scalar {
  return tf.sum(tf.mul(out, r));
}
