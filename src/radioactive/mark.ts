/**
 * Marking: optimise each image x̃ (starting from x) so that the marking network's features of an
 * augmented view move along the class carrier, with penalties that keep the change invisible:
 *
 *   loss(x̃) = −(φ(aug(x̃)) − φ(x))·u_y  +  λ_ft·‖φ(aug(x̃)) − φ(x)‖  +  λ_img·‖x̃ − x‖²
 *
 * The augmentation is a random shift (default) or the reference implementation's random resized
 * crop + flip (`augment: 'resized-crop-flip'`, augment.ts).
 * After every step the perturbation is projected onto the L∞ ball of `radius` and the valid pixel
 * range; every `roundEvery` steps (and at the end) pixels are rounded to the 8-bit grid, so the
 * marked images survive being saved as PNG. Adam on the pixels, cosine-decayed step size.
 */
import { tf } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkNumber, checkOneOf, checkShape, checkFiniteArray } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Progress } from '../core/progress.js';
import { checkCarriers, type Carriers } from './carriers.js';
import type { FeatureClassifier } from './nets.js';
import { randomShift } from './shift.js';
import { randomResizedCropFlip, type ResizedCropOptions } from './augment.js';

export const MARK_AUGMENTS = ['shift', 'resized-crop-flip', 'none'] as const;
export type MarkAugment = (typeof MARK_AUGMENTS)[number];

export interface MarkOptions {
  /** Optimisation steps per image. Default 60. */
  iterations?: number;
  /** Adam step size in pixel units (pixels in [0, 1]). Default 0.01. */
  lr?: number;
  /** L∞ bound of the perturbation, pixels in [0, 1]. Default 10/255 (the paper's radius of 10). */
  radius?: number;
  /** Weight of the feature-distance penalty ‖φ(aug(x̃)) − φ(x)‖. Default 0.5 (as the reference). */
  lambdaFt?: number;
  /** Weight of the image penalty ‖x̃ − x‖². Default 0.05 (as the reference). */
  lambdaImg?: number;
  /**
   * Random shifts of up to this many pixels each iteration (the augmentation; match it to how suspects
   * are likely trained: shifts make marks robust but weaker for networks that are not shift-invariant).
   * Default 1; 0 = none.
   */
  maxShift?: number;
  /**
   * The augmentation seen by the marking network each iteration: 'shift' (random shifts up to
   * `maxShift`, the default), 'resized-crop-flip' (the reference implementation's
   * RandomResizedCropFlip: random crop of 8–100 % of the area, resized back, mirrored with
   * probability ½; see augment.ts) or 'none'.
   */
  augment?: MarkAugment;
  /** Options of the 'resized-crop-flip' augmentation (default: the reference's). */
  crop?: ResizedCropOptions;
  /** Valid pixel range. Default [0, 1]. */
  range?: [number, number];
  /** Quantisation levels across the range (255 = 8-bit), 0 = none. Default 255. */
  levels?: number;
  /** Round to the quantisation grid every this many steps (and always at the end). Default 10. */
  roundEvery?: number;
  /** Images optimised together (memory vs speed only: images do not interact). Default 256. */
  batchSize?: number;
  rng?: Rng;
  quiet?: boolean;
}

export interface MarkResult {
  /** The marked images, same shape as the input. The caller disposes them. */
  images: tf.Tensor4D;
  /** Mean over images of the per-image PSNR in dB (peak = the range's width). */
  psnr: number;
  psnrPerImage: Float64Array;
  /** Largest |x̃ − x| over all pixels. */
  maxAbsDelta: number;
  /** Mean of (φ(x̃) − φ(x))·u_y (un-augmented): how far features moved along the carrier. */
  featureShift: number;
  /** Mean of ‖φ(x̃) − φ(x)‖. */
  featureDistance: number;
  /** Mean cosine between φ(x̃) − φ(x) and u_y. */
  shiftCosine: number;
  seconds: number;
}

/** PSNR in dB of each image pair (rows of two [N, ...] arrays), peak value `peak`. Identical images give +Infinity. */
export function psnr(original: Float32Array, marked: Float32Array, n: number, peak = 1): Float64Array {
  check(original.length === marked.length && n > 0 && original.length % n === 0, 'images', `sizes differ (${original.length} vs ${marked.length}) or are not ${n} images`, 'pass two arrays of the same shape');
  const per = original.length / n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let se = 0;
    for (let j = i * per; j < (i + 1) * per; j++) se += (marked[j]! - original[j]!) ** 2;
    const mse = se / per;
    out[i] = mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
  }
  return out;
}

function finiteMean(xs: ArrayLike<number>): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    if (Number.isFinite(v)) {
      s += v;
      k++;
    }
  }
  return k ? s / k : Infinity;
}

function quantize(x: tf.Tensor, lo: number, hi: number, levels: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(tf.round(tf.mul(tf.sub(x, lo), levels / (hi - lo))), (hi - lo) / levels), lo));
}

/**
 * Per-pixel bounds of the feasible set: the L∞ ball around x0 intersected with the range, and, when
 * quantising, shrunk to the nearest grid points inside it (so rounding then clipping stays on the
 * grid even when the originals are not, e.g. MNIST's 3-decimal values).
 */
function feasibleBounds(x0: tf.Tensor, radius: number, lo: number, hi: number, levels: number): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    let a = tf.maximum(tf.sub(x0, radius), lo);
    let b = tf.minimum(tf.add(x0, radius), hi);
    if (levels > 0) {
      const step = (hi - lo) / levels;
      const ga = tf.add(tf.mul(tf.ceil(tf.sub(tf.div(tf.sub(a, lo), step), 1e-4)), step), lo);
      const gb = tf.add(tf.mul(tf.floor(tf.add(tf.div(tf.sub(b, lo), step), 1e-4)), step), lo);
      // Keep the grid bounds only where the ball contains a grid point.
      const ok = tf.lessEqual(ga, gb);
      a = tf.where(ok, ga, a);
      b = tf.where(ok, gb, b);
    }
    return [a, b];
  });
}

/**
 * Marks `images` [N, H, W, C] (pixels in `range`) of classes `labels` with `carriers` through the
 * features of `markingNet`. Each image is optimised independently.
 */
export async function markImages(
  images: tf.Tensor4D,
  labels: tf.Tensor1D | Int32Array,
  markingNet: FeatureClassifier,
  carriers: Carriers,
  o: MarkOptions = {},
): Promise<MarkResult> {
  checkShape(images.shape, [null, null, null, null], 'images');
  checkCarriers(carriers);
  const n = images.shape[0];
  const y = labels instanceof Int32Array ? labels : Int32Array.from(labels.dataSync());
  check(y.length === n, 'labels', `has ${y.length} entries but there are ${n} images`, 'pass one label per image');
  check(carriers.dim === markingNet.featureDim, 'carriers', `have dimension ${carriers.dim} but the marking network's features have ${markingNet.featureDim}`, 'make the carriers with makeCarriers(numClasses, markingNet.featureDim, seed)');
  for (let i = 0; i < n; i++) {
    if (!(y[i]! >= 0 && y[i]! < carriers.numClasses)) throw new PaperlabError('labels', `label ${y[i]} at index ${i} has no carrier (carriers cover 0…${carriers.numClasses - 1})`, 'pass labels in range or carriers for every class');
  }
  const iterations = o.iterations ?? 60;
  const lr = o.lr ?? 0.01;
  const radius = o.radius ?? 10 / 255;
  const lambdaFt = o.lambdaFt ?? 0.5;
  const lambdaImg = o.lambdaImg ?? 0.05;
  const maxShift = o.maxShift ?? 1;
  const augment = o.augment ?? 'shift';
  checkOneOf(augment, MARK_AUGMENTS, 'augment');
  const [lo, hi] = o.range ?? [0, 1];
  const levels = o.levels ?? 255;
  const roundEvery = o.roundEvery ?? 10;
  const batchSize = o.batchSize ?? 256;
  checkInt(iterations, 'iterations', { min: 0 });
  checkNumber(lr, 'lr', { min: 0 });
  checkNumber(radius, 'radius', { min: 0 });
  checkNumber(lambdaFt, 'lambdaFt', { min: 0 });
  checkNumber(lambdaImg, 'lambdaImg', { min: 0 });
  checkInt(levels, 'levels', { min: 0 });
  checkInt(roundEvery, 'roundEvery', { min: 0 });
  checkInt(batchSize, 'batchSize', { min: 1 });
  check(hi > lo, 'range', `must be [low, high] with low < high, got [${lo}, ${hi}]`, 'pass e.g. [0, 1]');
  const rng = o.rng ?? new Rng(0).fork('mark');
  const t0 = Date.now();

  const origAll = images.dataSync() as Float32Array;
  checkFiniteArray(origAll, 'images');
  for (let i = 0; i < origAll.length; i++) {
    if (origAll[i]! < lo - 1e-6 || origAll[i]! > hi + 1e-6) {
      throw new PaperlabError('images', `pixel ${origAll[i]} at flat index ${i} is outside the range [${lo}, ${hi}]`, 'scale pixels to [0, 1] (divide 8-bit values by 255) or pass range');
    }
  }
  const uAll = tf.tensor2d(carriers.data, [carriers.numClasses, carriers.dim]);
  const out = new Float32Array(origAll.length);
  const progress = new Progress(Math.ceil(n / batchSize) * iterations, { label: 'mark', quiet: o.quiet });
  let done = 0;
  let shiftSum = 0;
  let distSum = 0;
  let cosSum = 0;

  try {
    for (let s = 0; s < n; s += batchSize) {
      const size = Math.min(batchSize, n - s);
      const x0 = tf.slice(images, [s, 0, 0, 0], [size, -1, -1, -1]);
      const yb = tf.tensor1d(y.subarray(s, s + size), 'int32');
      const u = tf.gather(uAll, yb) as tf.Tensor2D; // [B, d]
      const f0 = tf.tidy(() => markingNet.features(x0));
      const [boxLo, boxHi] = feasibleBounds(x0, radius, lo, hi, levels);
      let xt: tf.Tensor4D = tf.clone(x0);
      let m: tf.Tensor = tf.zerosLike(x0);
      let v: tf.Tensor = tf.zerosLike(x0);
      const b1 = 0.9;
      const b2 = 0.999;
      const lossOf = (z: tf.Tensor4D): tf.Scalar => {
        const view = augment === 'resized-crop-flip' ? randomResizedCropFlip(z, rng, o.crop) : augment === 'shift' && maxShift > 0 ? randomShift(z, maxShift, rng) : z;
        const ft = markingNet.features(view);
        const diff = tf.sub(ft, f0);
        const along = tf.sum(tf.mul(diff, u));
        const dist = tf.sum(tf.sqrt(tf.add(tf.sum(tf.square(diff), 1), 1e-12)));
        const img = tf.sum(tf.square(tf.sub(z, x0)));
        return tf.addN([tf.neg(along), tf.mul(dist, lambdaFt), tf.mul(img, lambdaImg)]) as tf.Scalar;
      };
      for (let it = 0; it < iterations; it++) {
        const stepLr = lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * it) / Math.max(1, iterations))));
        const [nx, nm, nv] = tf.tidy(() => {
          const g = tf.grad((z: tf.Tensor) => lossOf(z as tf.Tensor4D))(xt);
          const m1 = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
          const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
          const bc1 = 1 - Math.pow(b1, it + 1);
          const bc2 = 1 - Math.pow(b2, it + 1);
          const step = tf.div(tf.div(m1, bc1), tf.add(tf.sqrt(tf.div(v1, bc2)), 1e-8));
          let z: tf.Tensor = tf.sub(xt, tf.mul(step, stepLr));
          // Project onto the L∞ ball around the original within the valid range; round to the grid now and then.
          if (levels > 0 && roundEvery > 0 && (it + 1) % roundEvery === 0) z = quantize(z, lo, hi, levels);
          z = tf.minimum(tf.maximum(z, boxLo), boxHi);
          return [z as tf.Tensor4D, m1, v1];
        });
        tf.dispose([xt, m, v]);
        xt = nx;
        m = nm;
        v = nv;
        progress.tick(++done);
        if (it % 10 === 9) await new Promise((r) => setImmediate(r));
      }
      if (levels > 0) {
        const q = tf.tidy(() => tf.minimum(tf.maximum(quantize(xt, lo, hi, levels), boxLo), boxHi) as tf.Tensor4D);
        xt.dispose();
        xt = q;
      }
      // How far the (un-augmented) features moved.
      const [along, dist, cos] = tf.tidy(() => {
        const diff = tf.sub(markingNet.features(xt), f0);
        const a = tf.sum(tf.mul(diff, u), 1);
        const d = tf.sqrt(tf.sum(tf.square(diff), 1));
        return [tf.sum(a), tf.sum(d), tf.sum(tf.div(a, tf.add(d, 1e-12)))];
      });
      shiftSum += along!.dataSync()[0]!;
      distSum += dist!.dataSync()[0]!;
      cosSum += cos!.dataSync()[0]!;
      out.set(xt.dataSync() as Float32Array, s * (origAll.length / n));
      tf.dispose([x0, yb, u, f0, boxLo, boxHi, xt, m, v, along!, dist!, cos!]);
    }
  } finally {
    uAll.dispose();
  }
  const per = psnr(origAll, out, n, hi - lo);
  let maxAbs = 0;
  for (let i = 0; i < out.length; i++) maxAbs = Math.max(maxAbs, Math.abs(out[i]! - origAll[i]!));
  return {
    images: tf.tensor4d(out, images.shape),
    psnr: finiteMean(per),
    psnrPerImage: per,
    maxAbsDelta: maxAbs,
    featureShift: shiftSum / n,
    featureDistance: distSum / n,
    shiftCosine: cosSum / n,
    seconds: (Date.now() - t0) / 1000,
  };
}
