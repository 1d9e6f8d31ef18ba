/**
 * The reference implementation's marking augmentation (facebookresearch/radioactive_data,
 * `RandomResizedCropFlip`): every iteration each image is seen through a random crop of area
 * scale·H·W (scale ∈ [0.08, 1], aspect ratio ∈ [3/4, 4/3] log-uniform, integer box; up to 10 tries,
 * else the whole image), resized back to H×W bilinearly (half-pixel centres, edges clamped, as
 * PyTorch's F.interpolate with align_corners=False), and mirrored left–right with probability ½.
 *
 * Written as two matrix products, out = R_y · X · R_xᵀ, so gradients flow back to the pixels being
 * optimised (tfjs's cropAndResize has no gradient). As in shift.ts the batch is cut into a few
 * contiguous segments, each with its own random crop, which keeps the op count small.
 */
import { tf } from '../core/tf.js';
import { check, checkInt, checkNumber } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { bySegments } from './shift.js';

export interface CropBox {
  /** Top row, left column, height and width of the crop (integers, inside the image). */
  top: number;
  left: number;
  height: number;
  width: number;
  flip: boolean;
}

export interface ResizedCropOptions {
  /** Range of the crop's area as a fraction of the image. Default [0.08, 1] (the reference's). */
  scale?: [number, number];
  /** Range of the crop's aspect ratio w/h (sampled log-uniformly). Default [3/4, 4/3]. */
  ratio?: [number, number];
  /** Mirror left–right with probability ½. Default true. */
  flip?: boolean;
  /** Contiguous batch segments with their own crop. Default 8. */
  segments?: number;
}

/** Samples one crop box the way the reference does (torchvision's RandomResizedCrop rule). */
export function sampleCropBox(height: number, width: number, rng: Rng, o: ResizedCropOptions = {}): CropBox {
  const [s0, s1] = o.scale ?? [0.08, 1];
  const [r0, r1] = o.ratio ?? [3 / 4, 4 / 3];
  check(s0 > 0 && s0 <= s1 && s1 <= 1, 'scale', `must be [lo, hi] with 0 < lo ≤ hi ≤ 1, got [${s0}, ${s1}]`, 'pass e.g. [0.08, 1]');
  check(r0 > 0 && r0 <= r1, 'ratio', `must be [lo, hi] with 0 < lo ≤ hi, got [${r0}, ${r1}]`, 'pass e.g. [0.75, 1.3333]');
  const flip = (o.flip ?? true) && rng.uniform() < 0.5;
  const area = height * width;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = (s0 + (s1 - s0) * rng.uniform()) * area;
    const aspect = Math.exp(Math.log(r0) + (Math.log(r1) - Math.log(r0)) * rng.uniform());
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w >= 1 && h >= 1 && w <= width && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w, flip };
    }
  }
  return { top: 0, left: 0, height, width, flip };
}

/**
 * The [out, size] matrix that takes a line of `size` pixels to `out` pixels: bilinear resampling of
 * the segment [start, start + length) with half-pixel centres, mirrored when `flip`.
 */
export function resizeMatrix(size: number, start: number, length: number, out: number, flip = false): Float32Array {
  checkInt(size, 'size', { min: 1 });
  checkInt(out, 'out', { min: 1 });
  checkInt(length, 'length', { min: 1, max: size });
  checkInt(start, 'start', { min: 0, max: size - length });
  const m = new Float32Array(out * size);
  const scale = length / out;
  for (let o = 0; o < out; o++) {
    const src = Math.max(0, (o + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), length - 1);
    const i1 = Math.min(i0 + 1, length - 1);
    const t = src - i0;
    const row = flip ? out - 1 - o : o;
    m[row * size + start + i0] += 1 - t;
    m[row * size + start + i1] += t;
  }
  return m;
}

/** Applies one crop box to images [N, H, W, C]: R_y · X · R_xᵀ per channel. */
export function applyCropBox(x: tf.Tensor4D, box: CropBox): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.tidy(() => {
    const ry = tf.tensor2d(resizeMatrix(h, box.top, box.height, h), [h, h]);
    const rx = tf.tensor2d(resizeMatrix(w, box.left, box.width, w, box.flip), [w, w]);
    // [N, H, W, C] → [N·C, H, W] → rows: X·R_xᵀ → transpose → ·R_yᵀ → back.
    const planes = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n * c * h, w]);
    const cols = tf.reshape(tf.matMul(planes, rx, false, true), [n * c, h, w]);
    const t = tf.reshape(tf.transpose(cols, [0, 2, 1]), [n * c * w, h]);
    const both = tf.reshape(tf.matMul(t, ry, false, true), [n, c, w, h]);
    return tf.transpose(both, [0, 3, 2, 1]) as tf.Tensor4D;
  });
}

/** Random resized crop + flip of images [N, H, W, C], one random box per batch segment. */
export function randomResizedCropFlip(x: tf.Tensor4D, rng: Rng, o: ResizedCropOptions = {}): tf.Tensor4D {
  const segments = o.segments ?? 8;
  checkInt(segments, 'segments', { min: 1 });
  if (o.scale) o.scale.forEach((v, i) => checkNumber(v, `scale[${i}]`, { min: 0 }));
  const [n, h, w] = x.shape;
  return tf.tidy(() => bySegments(n, segments, (start, size) => applyCropBox(tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]), sampleCropBox(h, w, rng, o))));
}
