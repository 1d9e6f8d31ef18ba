/**
 * Performer / FAVOR+ (Choromanski et al. 2020): softmax attention approximated with positive
 * orthogonal random features, φ(x) = exp(ωᵀx' − ‖x'‖²/2)/√m with x' = x·d^{−1/4}, so that
 * E[φ(q)·φ(k)] = exp(q·k/√d). The ω are rows of random orthogonal d × d blocks, each row rescaled
 * to the length of a Gaussian vector (as in the reference `gaussian_orthogonal_random_matrix`).
 * Positive features keep the normaliser positive, which is what makes FAVOR+ stable.
 *
 * Stabilisers (constants that cancel between numerator and normaliser, as in performer-pytorch):
 * each query row subtracts its own maximum log-feature; keys subtract a per-head maximum — over
 * all keys in the non-causal form, and in the causal form the running maximum over keys j ≤ i
 * (never a future key), rescaling earlier sums online (`stabilisedKernelAttention`). Without the
 * key stabiliser, keys of norm ≈ 48 at dHead 16 have every feature below float32's range and
 * rows come out as zeros. Where even the stabilised products underflow (query and key features
 * that share no large feature), `checkFinite` refuses the result with a named error.
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkNumber } from '../core/errors.js';
import { Rng, getRng } from '../core/rng.js';
import { MASKED, bmm, checkQkv, keyMask, roundUp, stopGradient } from './common.js';
import { type KernelAttentionOptions, kernelAttention } from './linear.js';

export interface PerformerAttentionOptions extends KernelAttentionOptions {
  /** Random features [nbFeatures, dHead]; drawn from `rng` when absent. */
  features?: Tensor2D;
  /** Number of random features m when `features` is absent. Default round(dHead·ln dHead). */
  nbFeatures?: number;
  rng?: Rng;
  mask?: Tensor;
  checkFinite?: boolean;
}

/** The reference default: m = round(d·ln d) (at least 1). */
export function defaultNbFeatures(dHead: number): number {
  return Math.max(1, Math.round(dHead * Math.log(dHead)));
}

/** Orthonormal rows by Gram–Schmidt of Gaussian rows (float64), i.e. a Haar-random orthogonal block. */
function orthogonalBlock(rng: Rng, d: number): number[][] {
  const rows: number[][] = [];
  while (rows.length < d) {
    const v = Array.from(rng.normalArray(d), Number);
    for (const u of rows) {
      const dot = v.reduce((s, x, i) => s + x * u[i]!, 0);
      for (let i = 0; i < d; i++) v[i]! -= dot * u[i]!;
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (norm < 1e-6) continue;
    rows.push(v.map((x) => x / norm));
  }
  return rows;
}

/**
 * Positive orthogonal random features ω ∈ R^{m × d}: orthogonal blocks of d rows (the last block
 * truncated), each row scaled to the norm of an independent d-dimensional Gaussian vector.
 */
export function drawOrthogonalFeatures(nbFeatures: number, dHead: number, rng: Rng = getRng()): Tensor2D {
  checkInt(nbFeatures, 'nbFeatures', { min: 1 });
  checkInt(dHead, 'dHead', { min: 1 });
  const out = new Float32Array(nbFeatures * dHead);
  let row = 0;
  while (row < nbFeatures) {
    const block = orthogonalBlock(rng, dHead);
    for (const r of block) {
      if (row >= nbFeatures) break;
      const g = rng.normalArray(dHead);
      let s = 0;
      for (let i = 0; i < dHead; i++) s += g[i]! * g[i]!;
      const scale = Math.sqrt(s);
      for (let i = 0; i < dHead; i++) out[row * dHead + i] = r[i]! * scale;
      row++;
    }
  }
  return tf.tensor2d(out, [nbFeatures, dHead]);
}

/** FAVOR+ features of x [..., dHead] under ω [m, dHead] → [..., m]. */
export function performerFeatureMap(x: Tensor, features: Tensor2D, isQuery: boolean): Tensor {
  const d = features.shape[1];
  const m = features.shape[0];
  check(x.shape[x.rank - 1] === d, 'features', `have dHead ${d} but the input's last dimension is ${x.shape[x.rank - 1]}`, 'draw features with the head dimension of q and k');
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const xs = tf.mul(tf.reshape(x, [-1, d]), Math.pow(d, -0.25));
    let proj: Tensor = tf.matMul(xs, features, false, true); // [rows, m]
    const diag = tf.mul(tf.sum(tf.square(xs), -1, true), 0.5);
    proj = tf.sub(proj, diag);
    if (isQuery) proj = tf.sub(proj, tf.max(proj, -1, true));
    const phi = tf.mul(tf.exp(proj), 1 / Math.sqrt(m));
    return tf.reshape(phi, [...lead, m]);
  });
}

/**
 * Log-features log φ(x) = ωᵀx' − ‖x'‖²/2 − ½·log m of x [..., dHead] (no exponent taken, so no
 * underflow); queries additionally subtract their row maximum.
 */
export function performerLogFeatures(x: Tensor, features: Tensor2D, isQuery: boolean): Tensor {
  const d = features.shape[1];
  const m = features.shape[0];
  check(x.shape[x.rank - 1] === d, 'features', `have dHead ${d} but the input's last dimension is ${x.shape[x.rank - 1]}`, 'draw features with the head dimension of q and k');
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const xs = tf.mul(tf.reshape(x, [-1, d]), Math.pow(d, -0.25));
    let proj: Tensor = tf.sub(tf.matMul(xs, features, false, true), tf.add(tf.mul(tf.sum(tf.square(xs), -1, true), 0.5), 0.5 * Math.log(m)));
    if (isQuery) proj = tf.sub(proj, stopGradient(tf.max(proj, -1, true)));
    return tf.reshape(proj, [...lead, m]);
  });
}

/** Running maximum along axis 1 of [G, N] (log₂N doubling steps). */
function cumMax(x: Tensor): Tensor {
  const [g, n] = x.shape as [number, number];
  let y = x;
  for (let s = 1; s < n; s *= 2) {
    const shifted = tf.concat([tf.fill([g, s], -3e38), tf.slice(y, [0, 0], [g, n - s])], 1);
    y = tf.maximum(y, shifted);
  }
  return y;
}

export interface StabilisedKernelOptions extends KernelAttentionOptions {
  /** Key validity [G, n, 1] (1 = attend, 0 = padding). */
  keyValid?: Tensor;
  /** Also return the normaliser [G, n, 1] (for the underflow check). */
  withNormaliser?: boolean;
}

/**
 * Kernel attention with positive query features phiQ [G, n, D] and key *log*-features logK
 * [G, n, D], v [G, n, M] → [G, n, M], key-stabilised. Non-causal: ψ = exp(logK − r), r the
 * maximum over all keys of the head. Causal: r_i = max over keys j ≤ i, and key j counts for query
 * i with exp(logK_j − r_i) ≤ 1; in the chunked form earlier chunks' sums are carried relative to
 * their own running maximum and rescaled by exp(e_b − e_{a−1}) ≤ 1 (a decay matrix over chunks),
 * so nothing overflows and nothing looks ahead. The stabilisers cancel in the ratio (eps aside), so
 * they are held constant for the gradient.
 */
export function stabilisedKernelAttention(phiQ: Tensor, logK: Tensor, v: Tensor, opts: StabilisedKernelOptions = {}): { output: Tensor; normaliser?: Tensor } {
  const eps = opts.eps ?? 1e-6;
  checkNumber(eps, 'eps', { min: 0 });
  const [g, n, dd] = phiQ.shape as [number, number, number];
  const mm = v.shape[2]!;
  return tf.tidy(() => {
    const valid = opts.keyValid;
    const masked = valid ? tf.add(logK, tf.mul(tf.sub(1, valid), MASKED)) : logK;
    if (!opts.causal) {
      const r = stopGradient(tf.max(masked, [1, 2], true));
      let psi: Tensor = tf.exp(tf.sub(masked, r));
      if (valid) psi = tf.mul(psi, valid);
      const kv = bmm(psi, v, true, false);
      const z = tf.reshape(tf.sum(psi, 1), [g, dd, 1]);
      const den = bmm(phiQ, z);
      const output = tf.div(bmm(phiQ, kv), tf.add(den, eps));
      return opts.withNormaliser ? { output, normaliser: den } : { output };
    }
    const c = Math.min(opts.chunkSize ?? 64, Math.max(n, 1));
    checkInt(c, 'chunkSize', { min: 1 });
    const N = roundUp(n, c);
    const nc = N / c;
    const pad = (x: Tensor): Tensor => (N === n ? x : tf.pad(x, [[0, 0], [0, N - n], [0, 0]]));
    const lk = pad(masked);
    const r = cumMax(stopGradient(tf.max(lk, -1))); // [G, N], non-decreasing
    let psi: Tensor = tf.exp(tf.sub(lk, tf.expandDims(r, -1)));
    if (valid) psi = tf.mul(psi, pad(valid));
    const qc = tf.reshape(pad(phiQ), [g * nc, c, dd]);
    const kc = tf.reshape(psi, [g * nc, c, dd]);
    const vc = tf.reshape(pad(v), [g * nc, c, mm]);
    const rc = tf.reshape(r, [g * nc, c]);
    const e = tf.reshape(tf.slice(tf.reshape(r, [g, nc, c]), [0, 0, c - 1], [g, nc, 1]), [g, nc]); // r at each chunk's end
    const ePrev = tf.concat([tf.slice(e, [0, 0], [g, 1]), tf.slice(e, [0, 0], [g, nc - 1])], 1); // e_{a−1} (row 0 unused)
    // inside a chunk: (φq_i·ψ_j)·exp(r_j − r_i) for j ≤ i
    const tril = tf.linalg.bandPart(tf.ones([c, c]), -1, 0);
    const w = tf.mul(tf.exp(tf.minimum(tf.sub(tf.expandDims(rc, 1), tf.expandDims(rc, 2)), 0)), tril);
    const a = tf.mul(bmm(qc, kc, false, true), w);
    // earlier chunks: sums relative to each chunk's end, combined with decays exp(e_b − e_{a−1})
    const kTilde = tf.mul(kc, tf.expandDims(tf.exp(tf.sub(rc, tf.reshape(e, [g * nc, 1]))), -1));
    const tkv = tf.reshape(bmm(kTilde, vc, true, false), [g, nc, dd * mm]);
    const tz = tf.reshape(tf.sum(kTilde, 1), [g, nc, dd]);
    const lower = tf.linalg.bandPart(tf.ones([nc, nc]), -1, 0).sub(tf.eye(nc));
    const decay = tf.mul(tf.exp(tf.minimum(tf.sub(tf.expandDims(e, 1), tf.expandDims(ePrev, 2)), 0)), lower); // [G, a, b]
    const s = tf.reshape(bmm(decay, tkv), [g * nc, dd, mm]);
    const z = tf.reshape(bmm(decay, tz), [g * nc, dd, 1]);
    const qScale = tf.exp(tf.minimum(tf.sub(tf.reshape(ePrev, [g * nc, 1]), rc), 0)); // exp(e_{a−1} − r_i)
    const qTilde = tf.mul(qc, tf.expandDims(qScale, -1));
    const num = tf.add(bmm(qTilde, s), bmm(a, vc));
    const den = tf.add(bmm(qTilde, z), tf.sum(a, -1, true));
    let output: Tensor = tf.reshape(tf.div(num, tf.add(den, eps)), [g, N, mm]);
    let normaliser: Tensor = tf.reshape(den, [g, N, 1]);
    if (N !== n) {
      output = tf.slice(output, [0, 0, 0], [g, n, mm]);
      normaliser = tf.slice(normaliser, [0, 0, 0], [g, n, 1]);
    }
    return opts.withNormaliser ? { output, normaliser } : { output };
  });
}

/**
 * Refuses a result whose normaliser underflowed (below eps) in some query row. `hasKey` [G, n, 1]
 * (or [G, 1, 1]): 1 where the row has any valid key at all (rows without one are legitimately empty).
 */
export function checkNormaliser(den: Tensor, hasKey: Tensor | undefined, q: Tensor, k: Tensor, eps: number): void {
  const [bad, qn, kn] = tf.tidy(() => {
    let low: Tensor = tf.cast(tf.less(den, Math.max(eps, 1e-30)), 'float32');
    if (hasKey) low = tf.mul(low, hasKey);
    return [tf.sum(low), tf.max(tf.norm(q, 'euclidean', -1)), tf.max(tf.norm(k, 'euclidean', -1))];
  });
  const count = bad.dataSync()[0]!;
  const qmax = qn.dataSync()[0]!;
  const kmax = kn.dataSync()[0]!;
  tf.dispose([bad, qn, kn]);
  if (count > 0) {
    const d = q.shape[q.rank - 1]!;
    throw new PaperlabError(
      'q/k',
      `are too large for FAVOR+ in float32: the normaliser of ${count} query row(s) underflowed below eps (max ‖q‖ = ${qmax.toPrecision(3)}, max ‖k‖ = ${kmax.toPrecision(3)} at dHead ${d}); those rows would come out as zeros`,
      'normalise queries and keys (LayerNorm, smaller projection weights) so that ‖q‖·‖k‖/√dHead stays below about 40, or use full attention',
    );
  }
}

/** Performer attention on q, k, v of shape [batch, heads, seq, dHead]. */
export function performerAttention(q: Tensor4D, k: Tensor4D, v: Tensor4D, opts: PerformerAttentionOptions = {}): Tensor4D {
  const finite = opts.checkFinite ?? true;
  const dims = checkQkv(q, k, v, finite);
  const { batch: b, heads: h, seqQ: nq, seqK: nk, dHead: d, dValue: dv } = dims;
  if (opts.causal) check(nq === nk, 'causal', `needs as many queries as keys, got ${nq} and ${nk}`, 'use causal: false for cross-attention');
  if (opts.features) {
    check(opts.features.rank === 2 && opts.features.shape[1] === d, 'features', `expected [nbFeatures, ${d}], got [${opts.features.shape.join(', ')}]`, 'draw features with drawOrthogonalFeatures(m, dHead)');
  }
  const own = opts.features ? undefined : drawOrthogonalFeatures(opts.nbFeatures ?? defaultNbFeatures(d), d, opts.rng ?? getRng());
  const features = opts.features ?? own!;
  const m = keyMask(opts.mask, b, nk);
  try {
    const valid = m ? tf.tidy(() => tf.reshape(tf.tile(tf.reshape(m, [b, 1, nk]), [1, h, 1]), [b * h, nk, 1])) : undefined;
    const r = tf.tidy(() => {
      const phiQ = tf.exp(performerLogFeatures(tf.reshape(q, [b * h, nq, d]), features, true));
      const logK = performerLogFeatures(tf.reshape(k, [b * h, nk, d]), features, false);
      return stabilisedKernelAttention(phiQ, logK, tf.reshape(v, [b * h, nk, dv]), { ...opts, keyValid: valid, withNormaliser: finite });
    });
    try {
      if (finite) {
        const hasKey = valid ? tf.tidy(() => tf.cast(tf.greater(opts.causal ? tf.cumsum(valid, 1) : tf.sum(valid, 1, true), 0), 'float32')) : undefined;
        try {
          checkNormaliser(r.normaliser!, hasKey, q, k, opts.eps ?? 1e-6);
        } finally {
          hasKey?.dispose();
        }
      }
      return tf.tidy(() => tf.reshape(r.output, [b, h, nq, dv]) as Tensor4D);
    } finally {
      r.output.dispose();
      r.normaliser?.dispose();
      valid?.dispose();
    }
  } finally {
    own?.dispose();
    m?.dispose();
  }
}

/** Recurrent state of causal kernel attention, key-stabilised: S, z relative to the running maximum r. */
export interface KernelDecodeState {
  /** [G, D, M] Σ exp(logK_j − r)·v_jᵀ */
  s: Tensor;
  /** [G, D, 1] Σ exp(logK_j − r) */
  z: Tensor;
  /** [G, 1] running maximum of the key log-features (0 for plain features). */
  r: Tensor;
}

/**
 * T more positions of causal kernel attention after the positions summarised in `prior` (null: the
 * start): phiQ [G, T, D]; keys as log-features `logK` (Performer, stabilised like
 * `stabilisedKernelAttention`) or as features `phiK` (linear attention, r = 0); v [G, T, M].
 * Returns the outputs [G, T, M] — the causal form's at those positions — and the new state. O(T²)
 * inside the new block, O(1) per token against the past: the recurrent form for generation.
 */
export function kernelExtend(phiQ: Tensor, keys: { logK: Tensor } | { phiK: Tensor }, v: Tensor, prior: KernelDecodeState | null, eps = 1e-6, block = 64): { output: Tensor; state: KernelDecodeState } {
  const T0 = phiQ.shape[1]!;
  if (T0 > block) {
    // a long prompt: blocks of `block` positions, each against the state of the ones before (O(T·block), not O(T²))
    const res = tf.tidy(() => {
      const outs: Tensor[] = [];
      let state = prior;
      for (let from = 0; from < T0; from += block) {
        const len = Math.min(block, T0 - from);
        const cut = (x: Tensor): Tensor => tf.slice(x, [0, from, 0], [-1, len, -1]);
        const part: { logK: Tensor } | { phiK: Tensor } = 'logK' in keys ? { logK: cut(keys.logK) } : { phiK: cut(keys.phiK) };
        const r = kernelExtend(cut(phiQ), part, cut(v), state, eps, block);
        outs.push(r.output);
        state = r.state;
      }
      return { output: tf.concat(outs, 1), s: state!.s, z: state!.z, r: state!.r };
    });
    return { output: res.output, state: { s: res.s, z: res.z, r: res.r } };
  }
  return tf.tidy(() => {
    const [g, T] = phiQ.shape as [number, number];
    let psi: Tensor;
    let r: Tensor; // [G, T]
    if ('logK' in keys) {
      const local = cumMax(tf.max(keys.logK, -1));
      r = prior ? tf.maximum(local, prior.r) : local;
      psi = tf.exp(tf.sub(keys.logK, tf.expandDims(r, -1)));
    } else {
      r = tf.zeros([g, T]);
      psi = keys.phiK;
    }
    const tril = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
    const w = tf.mul(tf.exp(tf.minimum(tf.sub(tf.expandDims(r, 1), tf.expandDims(r, 2)), 0)), tril);
    const a = tf.mul(bmm(phiQ, psi, false, true), w);
    let num = bmm(a, v);
    let den = tf.sum(a, -1, true);
    const rEnd = tf.slice(r, [0, T - 1], [g, 1]);
    const wEnd = tf.expandDims(tf.exp(tf.sub(r, rEnd)), -1); // [G, T, 1] ≤ 1
    let s: Tensor = bmm(tf.mul(psi, wEnd), v, true, false);
    let z: Tensor = tf.reshape(tf.sum(tf.mul(psi, wEnd), 1), [g, -1, 1]);
    if (prior) {
      const qTilde = tf.mul(phiQ, tf.expandDims(tf.exp(tf.sub(prior.r, r)), -1));
      num = tf.add(num, bmm(qTilde, prior.s));
      den = tf.add(den, bmm(qTilde, prior.z));
      const decay = tf.reshape(tf.exp(tf.sub(prior.r, rEnd)), [g, 1, 1]);
      s = tf.add(s, tf.mul(prior.s, decay));
      z = tf.add(z, tf.mul(prior.z, decay));
    }
    return { output: tf.div(num, tf.add(den, eps)), state: { s, z, r: rEnd } };
  });
}
