/**
 * Supervised contrastive loss (Khosla et al. 2020, L_out) and SimCLR's NT-Xent, with the semantics
 * of the reference implementation (HobbitLong/SupContrast, losses.py):
 *
 * - features [batch, views, dim] are stacked view-major (all first views, then all second views…);
 * - contrastMode 'all' uses every view as an anchor, 'one' only the first view of each sample;
 * - logits = anchor·contrastᵀ / τ, minus the detached row maximum; the anchor itself is masked out;
 * - positives of an anchor: every other entry with the same label (its own other views included);
 *   without labels only its own other views, which is SimCLR's NT-Xent;
 * - the denominator runs over every other entry, positives included;
 * - loss_i = −(τ/τ_base) · mean over positives p of log softmax_i(p), averaged over all anchors; an
 *   anchor without positives contributes 0 (|P| is clamped to 1), so singleton classes give no NaN.
 *
 * Two deliberate differences, neither of which changes a finite value: features are L2-normalised
 * here (the reference expects the caller to do it and returns NaN on large unnormalised inputs), and
 * the row maximum is taken over the non-self entries, which keeps unnormalised inputs finite too.
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, checkNumber, checkOneOf, describeShape } from '../core/errors.js';
import { detach, l2Normalize } from './nn.js';

export const CONTRAST_MODES = ['all', 'one'] as const;
export type ContrastMode = (typeof CONTRAST_MODES)[number];

export interface SupConOptions {
  /** τ. Default 0.07 (the reference's default; the paper's best is 0.1). */
  temperature?: number;
  /** τ_base; the loss is scaled by τ/τ_base. Default 0.07. */
  baseTemperature?: number;
  /** 'all' (default): every view is an anchor. 'one': only the first view. */
  contrastMode?: ContrastMode;
  /** L2-normalise features along the last axis first. Default true. */
  normalize?: boolean;
}

/** Integer class labels, one per sample: a tensor, a typed array or a plain array. */
export type LabelsLike = tf.Tensor1D | Int32Array | readonly number[];

function readLabels(labels: LabelsLike, batch: number): Int32Array {
  let arr: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    check(labels.rank === 1, 'labels', `expected a rank-1 tensor [batch], got shape ${describeShape(labels.shape)}`, 'pass one integer label per sample');
    arr = labels.dataSync();
  } else arr = labels;
  check(arr.length === batch, 'labels', `has ${arr.length} entries but features has batch ${batch}`, 'pass exactly one label per sample (features is [batch, views, dim])');
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const v = arr[i]!;
    check(Number.isInteger(v), 'labels', `entry ${i} is ${v}, not an integer`, 'pass integer class ids');
    out[i] = v;
  }
  return out;
}

/**
 * The supervised contrastive loss L_out. Without `labels` it is SimCLR's NT-Xent (scaled by
 * τ/τ_base). Returns a scalar; differentiable w.r.t. `features`.
 *
 * ```ts
 * const z = tf.stack([proj1, proj2], 1);          // [batch, 2, 128]
 * const loss = supConLoss(z, labels, { temperature: 0.1 });
 * ```
 */
export function supConLoss(features: Tensor, labels?: LabelsLike | null, opts: SupConOptions = {}): tf.Scalar {
  check(
    features.rank === 3,
    'features',
    `expected rank 3 [batch, views, dim], got shape ${describeShape(features.shape)}`,
    'stack the views on axis 1, e.g. tf.stack([z1, z2], 1); for a single view use expandDims(z, 1)',
  );
  const [batch, views, dim] = features.shape as [number, number, number];
  check(batch >= 1 && views >= 1 && dim >= 1, 'features', `has an empty dimension: ${describeShape(features.shape)}`, 'pass at least one sample, one view and one feature');
  return tf.tidy(() => supConLossViewMajor(tf.reshape(tf.transpose(features, [1, 0, 2]), [views * batch, dim]), views, labels, opts));
}

/**
 * supConLoss on features already stacked view-major, [views·batch, dim] (all first views, then all
 * second views…), as a trainer gets them from encoding the concatenated views. Saves a transpose.
 */
export function supConLossViewMajor(contrast: Tensor, views: number, labels?: LabelsLike | null, opts: SupConOptions = {}): tf.Scalar {
  const temperature = opts.temperature ?? 0.07;
  const baseTemperature = opts.baseTemperature ?? 0.07;
  const mode = opts.contrastMode ?? 'all';
  checkNumber(temperature, 'temperature', { min: 0, exclusiveMin: true });
  checkNumber(baseTemperature, 'baseTemperature', { min: 0, exclusiveMin: true });
  checkOneOf(mode, CONTRAST_MODES, 'contrastMode');
  checkInt(views, 'views', { min: 1 });
  check(contrast.rank === 2, 'features', `expected [views·batch, dim], got shape ${describeShape(contrast.shape)}`, 'reshape the features to 2-D, view-major');
  const [nC, dim] = contrast.shape as [number, number];
  check(nC % views === 0 && nC > 0 && dim > 0, 'features', `has ${nC} rows, not a positive multiple of views = ${views}`, 'stack the same batch once per view');
  check(contrast.dtype === 'float32', 'features', `dtype is ${contrast.dtype}`, 'cast to float32');
  const batch = nC / views;
  const lab = labels === undefined || labels === null ? undefined : readLabels(labels, batch);

  const anchorCount = mode === 'all' ? views : 1;
  const nA = anchorCount * batch; // anchors: the first nA rows of the view-major stack
  if (nC < 2) return tf.tidy(() => tf.mul(tf.sum(contrast), 0) as tf.Scalar); // nothing to contrast with

  // Masks over [anchor, contrast]; row a is sample a % batch, column c is sample c % batch.
  const pos = new Float32Array(nA * nC);
  const notSelf = new Uint8Array(nA * nC);
  const posCount = new Float32Array(nA);
  for (let a = 0; a < nA; a++) {
    const ia = a % batch;
    for (let c = 0; c < nC; c++) {
      if (c === a) continue;
      notSelf[a * nC + c] = 1;
      const ic = c % batch;
      if (lab ? lab[ia] === lab[ic] : ia === ic) {
        pos[a * nC + c] = 1;
        posCount[a] += 1;
      }
    }
  }
  // An anchor without positives contributes 0 to the mean instead of 0/0 (|P| clamped to 1).
  const posDivisor = posCount.map((p) => (p < 1e-6 ? 1 : p));

  return tf.tidy(() => {
    const f = opts.normalize === false ? contrast : l2Normalize(contrast);
    const anchor = nA === nC ? f : tf.slice(f, 0, nA);
    const logits = tf.div(tf.matMul(anchor, f, false, true), temperature);
    const keep = tf.tensor2d(notSelf, [nA, nC], 'bool');
    const masked = tf.where(keep, logits, tf.fill([nA, nC], Number.NEGATIVE_INFINITY)); // −inf on the diagonal
    const rowMax = detach(tf.max(masked, 1)); // [nA], over the non-self entries
    const logDenominator = tf.log(tf.sum(tf.exp(tf.sub(masked, tf.expandDims(rowMax, 1))), 1)); // [nA]
    // Σ_{p∈P} log_prob(p) = Σ_p logits(p) − |P|·(rowMax + logDenominator).
    const posLogits = tf.sum(tf.mul(tf.tensor2d(pos, [nA, nC]), logits), 1);
    const sumLogProbPos = tf.sub(posLogits, tf.mul(tf.tensor1d(posCount), tf.add(rowMax, logDenominator)));
    const meanLogProbPos = tf.div(sumLogProbPos, tf.tensor1d(posDivisor));
    return tf.mul(tf.mean(meanLogProbPos), -(temperature / baseTemperature)) as tf.Scalar;
  });
}

export interface NtXentOptions {
  /** τ. Default 0.1 (SimCLR's ImageNet setting). */
  temperature?: number;
  normalize?: boolean;
}

/**
 * SimCLR's NT-Xent: ℓ(i,j) = −log( exp(sim(z_i,z_j)/τ) / Σ_{k≠i} exp(sim(z_i,z_k)/τ) ) with cosine
 * similarity, averaged over all 2N ordered positive pairs. `z1`, `z2`: [batch, dim], the two views.
 * Equal to supConLoss without labels and with τ_base = τ.
 */
export function ntXentLoss(z1: Tensor, z2: Tensor, opts: NtXentOptions = {}): tf.Scalar {
  check(z1.rank === 2, 'z1', `expected [batch, dim], got shape ${describeShape(z1.shape)}`, 'pass the first view\'s embeddings as a 2-D tensor');
  check(
    z2.rank === 2 && z2.shape[0] === z1.shape[0] && z2.shape[1] === z1.shape[1],
    'z2',
    `expected shape ${describeShape(z1.shape)} like z1, got ${describeShape(z2.shape)}`,
    'pass the second view of the same batch',
  );
  const temperature = opts.temperature ?? 0.1;
  return tf.tidy(() => supConLossViewMajor(tf.concat([z1, z2], 0), 2, undefined, { temperature, baseTemperature: temperature, normalize: opts.normalize }));
}

/**
 * The value the loss sticks at when every embedding is the same (the collapse signature):
 * (τ/τ_base)·ln(views·batch − 1), e.g. 8.909 for batch 256, two views, τ = 0.1, τ_base = 0.07. Holds with and
 * without labels, since every log-probability is then −ln(views·batch − 1).
 */
export function collapsedLoss(batch: number, views = 2, temperature = 0.07, baseTemperature = 0.07): number {
  return (temperature / baseTemperature) * Math.log(views * batch - 1);
}
