/**
 * Detection: did a suspect model train on radioactive data?
 *
 * White box (`detect`): extract features of clean held-out images with the marking network (F_m)
 * and the suspect (F_t); align F_t ≈ F_m·M by least squares; map the suspect's class weights into
 * marker space (M·w_k); take the cosine c_k of each with its carrier u_k. Under H0 each c_k is the
 * cosine of a random direction (p-value law in stats.ts); the K p-values are combined with Fisher.
 *
 * Black box (`detectBlackBox`): only the suspect's losses are used. The loss gap
 * g = mean[loss(x) − loss(x̃)] between originals and their marked versions is compared with the gaps
 * of the same images marked with `controls` fresh random carriers the suspect cannot have seen.
 * Under H0 the true carriers are exchangeable with the controls, so the true gap is one more draw
 * from the controls' distribution: t = (g − mean_c)/(sd_c·√(1 + 1/M)) follows Student's t with
 * M − 1 degrees of freedom when the gaps are roughly normal (a prediction interval). Each class has
 * its own carrier (and its own control carriers), so the test is run per class — the classes'
 * statistics are independent under H0 — and the per-class p-values are combined with Fisher.
 */
import { tf } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { checkCarriers, makeCarriers, type Carriers } from './carriers.js';
import { alignFeatures, mapWeights, type AlignOptions } from './align.js';
import { mapBatches, perExampleLoss, type Classifier, type FeatureClassifier } from './nets.js';
import { markImages, type MarkOptions } from './mark.js';
import { fisherCombineLog, logCosinePvalue, logStudentTSurvival, toLog10 } from './stats.js';

/** Largest |cosine| scored (see scoreCarriers). */
export const COS_CAP = 1 - 1e-12;

export interface CarrierScores {
  /** cos(w̃_k, u_k) per class. */
  cosines: number[];
  /** log10 of each class's one-sided p-value. */
  log10p: number[];
  /** log10 of Fisher's combined p-value over the classes. */
  combinedLog10p: number;
  meanCosine: number;
  dim: number;
  numClasses: number;
}

export interface DetectResult extends CarrierScores {
  /** R² of the least-squares alignment on the held-out features. */
  alignmentR2: number;
  heldOut: number;
  /** The same test after projecting `exclude` out of the mapped weights (only when it was given). */
  excluded?: CarrierScores;
}

/**
 * Scores class weights already in marker space, `weights` [d, K] row-major (column k = class k),
 * against the carriers: cosines, per-class log10 p and Fisher's combined log10 p.
 */
export function scoreCarriers(weights: ArrayLike<number>, carriers: Carriers): CarrierScores {
  checkCarriers(carriers);
  const { dim: d, numClasses: k } = carriers;
  check(weights.length === d * k, 'weights', `have ${weights.length} values, not d·K = ${d}·${k}`, 'pass the class weights as a [d, K] array in the carriers’ space');
  const cosines: number[] = [];
  const lnP: number[] = [];
  for (let c = 0; c < k; c++) {
    let dot = 0;
    let nw = 0;
    for (let j = 0; j < d; j++) {
      const w = weights[j * k + c]!;
      dot += w * carriers.data[c * d + j]!;
      nw += w * w;
    }
    if (!(nw > 0)) throw new PaperlabError('weights', `class ${c}'s weight vector is zero after alignment`, 'check that the suspect is trained and the held-out images are varied');
    // |c| is capped at 1 − 1e−12: float32 weights give cosines accurate to ~1e−7 at best, and an
    // exact ±1 would turn the p-value into 0 (log −∞), which no finite evidence supports.
    const cos = Math.max(-COS_CAP, Math.min(COS_CAP, dot / Math.sqrt(nw)));
    cosines.push(cos);
    lnP.push(logCosinePvalue(cos, d));
  }
  return {
    cosines,
    log10p: lnP.map(toLog10),
    combinedLog10p: toLog10(fisherCombineLog(lnP)),
    meanCosine: cosines.reduce((a, b) => a + b, 0) / k,
    dim: d,
    numClasses: k,
  };
}

export interface DetectOptions extends AlignOptions {
  batchSize?: number;
  /**
   * Marker-space directions [d, r] (row-major) to project out of the mapped class weights before a
   * second scoring, e.g. the marking network's own class weights: the "natural" part every model
   * trained on this task shares, which otherwise makes all models' cosines move together for one
   * carrier draw. They must not depend on the carriers; then the null law stays exact (a fixed unit
   * vector against a uniformly random one). Not part of the paper's test.
   */
  exclude?: { data: ArrayLike<number>; cols: number };
}

/** Removes the span of `basis` [d, r] (row-major) from each column of `weights` [d, K]. */
export function projectOut(weights: ArrayLike<number>, d: number, k: number, basis: ArrayLike<number>, r: number): Float64Array {
  check(weights.length === d * k, 'weights', `have ${weights.length} values, not ${d}·${k}`, 'pass a [d, K] array');
  check(basis.length === d * r, 'exclude', `has ${basis.length} values, not d·r = ${d}·${r}`, 'pass a [d, r] row-major array of directions');
  // Orthonormal basis of the span (modified Gram–Schmidt, dropping dependent columns).
  const q: Float64Array[] = [];
  for (let j = 0; j < r; j++) {
    const v = new Float64Array(d);
    for (let i = 0; i < d; i++) v[i] = basis[i * r + j]!;
    const n0 = Math.hypot(...v);
    for (const b of q) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i]! * b[i]!;
      for (let i = 0; i < d; i++) v[i]! -= dot * b[i]!;
    }
    const n = Math.hypot(...v);
    if (n > 1e-10 * Math.max(n0, 1e-300)) q.push(v.map((x) => x / n));
  }
  const out = Float64Array.from(weights);
  for (let c = 0; c < k; c++) {
    for (const b of q) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += out[i * k + c]! * b[i]!;
      for (let i = 0; i < d; i++) out[i * k + c]! -= dot * b[i]!;
    }
  }
  return out;
}

/**
 * White-box test of `suspect` for the marks made with `markingNet` and `carriers`, using clean
 * held-out images [N, H, W, C] (N well above the marker's feature dimension).
 */
export function detect(suspect: FeatureClassifier, markingNet: FeatureClassifier, carriers: Carriers, heldOutImages: tf.Tensor4D, o: DetectOptions = {}): DetectResult {
  checkCarriers(carriers);
  checkShape(heldOutImages.shape, [null, null, null, null], 'heldOutImages');
  check(carriers.dim === markingNet.featureDim, 'carriers', `have dimension ${carriers.dim} but the marking network's features have ${markingNet.featureDim}`, 'pass the carriers and marking network used for marking');
  check(suspect.numClasses === carriers.numClasses, 'suspect', `has ${suspect.numClasses} classes but there are ${carriers.numClasses} carriers`, 'test a suspect trained on the same label set');
  const bs = o.batchSize ?? 500;
  const fm = mapBatches(heldOutImages, (b) => markingNet.features(b), bs);
  const ft = mapBatches(heldOutImages, (b) => suspect.features(b), bs);
  const al = alignFeatures(fm.data, ft.data, fm.n, fm.dim, ft.dim, o);
  const w = suspect.classifierWeights().dataSync() as Float32Array;
  const mapped = mapWeights(al, w, suspect.numClasses);
  const result: DetectResult = { ...scoreCarriers(mapped, carriers), alignmentR2: al.r2, heldOut: fm.n };
  if (o.exclude) result.excluded = scoreCarriers(projectOut(mapped, carriers.dim, carriers.numClasses, o.exclude.data, o.exclude.cols), carriers);
  return result;
}

/** Student-t prediction statistic of a gap against control gaps (needs ≥ 2 controls). */
export function lossGapStatistic(gap: number, controlGaps: readonly number[]): { t: number; dof: number; log10p: number; controlMean: number; controlStd: number } {
  const m = controlGaps.length;
  check(m >= 2, 'controlGaps', `needs at least 2 control gaps, got ${m}`, 'use controls ≥ 2 (8 or more gives a usable test)');
  check(Number.isFinite(gap) && controlGaps.every(Number.isFinite), 'gaps', 'contain NaN or Inf', 'check the suspect’s logits');
  const mean = controlGaps.reduce((a, b) => a + b, 0) / m;
  const sd = Math.sqrt(controlGaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (m - 1));
  const scale = Math.max(sd, 1e-12 * Math.max(1, Math.abs(mean))) * Math.sqrt(1 + 1 / m);
  const t = (gap - mean) / scale;
  return { t, dof: m - 1, log10p: toLog10(logStudentTSurvival(t, m - 1)), controlMean: mean, controlStd: sd };
}

export interface BlackBoxOptions {
  /** Number of control carrier sets. Default 8. */
  controls?: number;
  /** Seed or generator of the control carriers (must be independent of the real ones). */
  controlSeed?: number | Rng;
  /** The images already marked with the real carriers (else they are marked here with `mark`). */
  marked?: tf.Tensor4D;
  /** Marking options: use the ones the data were marked with, for the real and control marks alike. */
  mark?: MarkOptions;
  quiet?: boolean;
}

/** Originals, their real marks and their control marks, reusable across suspects. */
export interface BlackBoxProbe {
  originals: tf.Tensor4D;
  labels: Int32Array;
  marked: tf.Tensor4D;
  controls: tf.Tensor4D[];
  /** Mean PSNR of the real marks (NaN when `marked` was supplied). */
  psnr: number;
}

export interface BlackBoxResult {
  lossOriginal: number;
  lossMarked: number;
  /** mean[loss(original) − loss(marked)]: positive when the suspect prefers the marked versions. */
  gap: number;
  controlGaps: number[];
  /** Pooled over all images: t statistic, degrees of freedom and log10 p. */
  t: number;
  dof: number;
  pooledLog10p: number;
  /** Per class (null where the probe has fewer than 2 images of the class): t and log10 p. */
  classT: Array<number | null>;
  classLog10p: Array<number | null>;
  /** Fisher's combination of the per-class p-values (the test's answer). */
  log10p: number;
}

/** Marks `images` with the real carriers (unless given) and with `controls` random carrier sets. */
export async function prepareBlackBox(markingNet: FeatureClassifier, carriers: Carriers, images: tf.Tensor4D, labels: tf.Tensor1D | Int32Array, o: BlackBoxOptions = {}): Promise<BlackBoxProbe> {
  const controls = o.controls ?? 8;
  checkInt(controls, 'controls', { min: 2 });
  const y = labels instanceof Int32Array ? labels : Int32Array.from(labels.dataSync());
  if (o.marked) checkShape(o.marked.shape, images.shape, 'marked');
  const rng = typeof o.controlSeed === 'number' ? new Rng(o.controlSeed).fork('controls') : (o.controlSeed ?? new Rng(0x5eed).fork('controls'));
  const markRng = o.mark?.rng ?? rng.fork('mark');
  let marked = o.marked ? tf.clone(o.marked) : undefined;
  let psnr = Number.NaN;
  if (!marked) {
    const r = await markImages(images, y, markingNet, carriers, { ...o.mark, rng: markRng, quiet: o.quiet ?? o.mark?.quiet });
    marked = r.images;
    psnr = r.psnr;
  }
  const ctrl: tf.Tensor4D[] = [];
  for (let j = 0; j < controls; j++) {
    const cj = makeCarriers(carriers.numClasses, carriers.dim, rng.fork(`control-${j}`));
    const r = await markImages(images, y, markingNet, cj, { ...o.mark, rng: markRng.fork(`control-${j}`), quiet: o.quiet ?? o.mark?.quiet });
    ctrl.push(r.images);
  }
  return { originals: tf.clone(images), labels: Int32Array.from(y), marked, controls: ctrl, psnr };
}

function mean(xs: Float64Array): number {
  let s = 0;
  for (const v of xs) s += v;
  return xs.length ? s / xs.length : 0;
}

/** Black-box test of one suspect with a prepared probe (only the suspect's logits are used). */
export function blackBoxTest(suspect: Classifier, probe: BlackBoxProbe): BlackBoxResult {
  const y = probe.labels;
  const base = perExampleLoss(suspect, probe.originals, y);
  const marked = perExampleLoss(suspect, probe.marked, y);
  const controls = probe.controls.map((c) => perExampleLoss(suspect, c, y));
  const lossOriginal = mean(base);
  const lossMarked = mean(marked);
  const gapOver = (l: Float64Array, members: number[]): number => members.reduce((s, i) => s + base[i]! - l[i]!, 0) / members.length;
  const all = Array.from(y, (_, i) => i);
  const gap = gapOver(marked, all);
  const controlGaps = controls.map((l) => gapOver(l, all));
  const pooled = lossGapStatistic(gap, controlGaps);
  const numClasses = Math.max(suspect.numClasses, ...Array.from(y, (v) => v + 1));
  const classT: Array<number | null> = [];
  const classLog10p: Array<number | null> = [];
  const lnPs: number[] = [];
  for (let k = 0; k < numClasses; k++) {
    const members = all.filter((i) => y[i] === k);
    if (members.length < 2) {
      classT.push(null);
      classLog10p.push(null);
      continue;
    }
    const st = lossGapStatistic(gapOver(marked, members), controls.map((l) => gapOver(l, members)));
    classT.push(st.t);
    classLog10p.push(st.log10p);
    lnPs.push(st.log10p * Math.LN10);
  }
  const log10p = lnPs.length ? toLog10(fisherCombineLog(lnPs)) : pooled.log10p;
  return { lossOriginal, lossMarked, gap, controlGaps, t: pooled.t, dof: pooled.dof, pooledLog10p: pooled.log10p, classT, classLog10p, log10p };
}

export function disposeProbe(p: BlackBoxProbe): void {
  tf.dispose([p.originals, p.marked, ...p.controls]);
}

/** prepareBlackBox + blackBoxTest for a single suspect. */
export async function detectBlackBox(
  suspect: Classifier,
  markingNet: FeatureClassifier,
  carriers: Carriers,
  images: tf.Tensor4D,
  labels: tf.Tensor1D | Int32Array,
  o: BlackBoxOptions = {},
): Promise<BlackBoxResult> {
  const probe = await prepareBlackBox(markingNet, carriers, images, labels, o);
  try {
    return blackBoxTest(suspect, probe);
  } finally {
    disposeProbe(probe);
  }
}
