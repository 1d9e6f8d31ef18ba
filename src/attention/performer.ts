/**
 * Performer / FAVOR+ (Choromanski et al. 2020): softmax attention approximated with positive
 * orthogonal random features, φ(x) = exp(ωᵀx' − ‖x'‖²/2)/√m with x' = x·d^{−1/4}, so that
 * E[φ(q)·φ(k)] = exp(q·k/√d). The ω are rows of random orthogonal d × d blocks, each row rescaled
 * to the length of a Gaussian vector (as in the reference `gaussian_orthogonal_random_matrix`).
 * Positive features keep the normaliser positive, which is what makes FAVOR+ stable.
 *
 * Queries are stabilised by subtracting their row maximum (a per-row constant, cancelled by the
 * normaliser); keys are not shifted, so the causal and recurrent forms agree exactly.
 */
import { tf, type Tensor, type Tensor2D, type Tensor4D } from '../core/tf.js';
import { check, checkInt } from '../core/errors.js';
import { Rng, getRng } from '../core/rng.js';
import { checkQkv } from './common.js';
import { type KernelAttentionOptions, kernelAttention, maskKeyFeatures } from './linear.js';

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

/** Performer attention on q, k, v of shape [batch, heads, seq, dHead]. */
export function performerAttention(q: Tensor4D, k: Tensor4D, v: Tensor4D, opts: PerformerAttentionOptions = {}): Tensor4D {
  const dims = checkQkv(q, k, v, opts.checkFinite ?? true);
  const { batch: b, heads: h, seqQ: nq, seqK: nk, dHead: d, dValue: dv } = dims;
  if (opts.causal) check(nq === nk, 'causal', `needs as many queries as keys, got ${nq} and ${nk}`, 'use causal: false for cross-attention');
  if (opts.features) {
    check(opts.features.rank === 2 && opts.features.shape[1] === d, 'features', `expected [nbFeatures, ${d}], got [${opts.features.shape.join(', ')}]`, 'draw features with drawOrthogonalFeatures(m, dHead)');
  }
  const own = opts.features ? undefined : drawOrthogonalFeatures(opts.nbFeatures ?? defaultNbFeatures(d), d, opts.rng ?? getRng());
  const features = opts.features ?? own!;
  try {
    return tf.tidy(() => {
      const phiQ = performerFeatureMap(tf.reshape(q, [b * h, nq, d]), features, true) as tf.Tensor3D;
      const phiK = maskKeyFeatures(performerFeatureMap(tf.reshape(k, [b * h, nk, d]), features, false) as tf.Tensor3D, opts.mask, b, h);
      return tf.reshape(kernelAttention(phiQ, phiK, tf.reshape(v, [b * h, nk, dv]), opts), [b, h, nq, dv]) as Tensor4D;
    });
  } finally {
    own?.dispose();
  }
}
