/**
 * Seeded image augmentations for digits (contrastive learning, BYOL, radioactive marking):
 * random resized crop, small rotation and translation — composed into one affine warp per image
 * and applied with bilinear sampling — then Gaussian pixel noise, clipped to [0, 1]. Every random
 * number comes from the caller's Rng, so the same seed gives the same views.
 */
import { tf } from '../core/tf.js';
import { checkShape, checkNumber } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

export interface AugmentOptions {
  /** Area fraction of the random crop, [min, max]. Default [0.5, 1]. */
  cropScale?: [number, number];
  /** Maximum absolute rotation in degrees. Default 15. */
  maxRotation?: number;
  /** Maximum translation as a fraction of the image side. Default 0.1. */
  maxTranslate?: number;
  /** Standard deviation of added Gaussian noise (pixel values are in [0, 1]). Default 0.05. */
  noiseStd?: number;
}

/**
 * The inverse affine map (output pixel → input pixel) of one random augmentation, in the 8-number
 * form of tf.image.transform: x_in = a0·x + a1·y + a2, y_in = b0·x + b1·y + b2.
 */
export function randomAffine(h: number, w: number, rng: Rng, o: AugmentOptions = {}): number[] {
  const [smin, smax] = o.cropScale ?? [0.5, 1];
  const maxRot = ((o.maxRotation ?? 15) * Math.PI) / 180;
  const maxT = o.maxTranslate ?? 0.1;
  const zoom = Math.sqrt(rng.uniform(smin, smax)); // side of the crop as a fraction of the image
  const theta = rng.uniform(-maxRot, maxRot);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  // The crop centre may move as far as the crop still fits, plus the explicit translation.
  const ox = rng.uniform(-1, 1) * ((1 - zoom) * w) / 2 + rng.uniform(-maxT, maxT) * w;
  const oy = rng.uniform(-1, 1) * ((1 - zoom) * h) / 2 + rng.uniform(-maxT, maxT) * h;
  const c = Math.cos(theta) * zoom;
  const s = Math.sin(theta) * zoom;
  // in = centre + offset + zoom·R·(out − centre)
  return [c, -s, cx + ox - c * cx + s * cy, s, c, cy + oy - s * cx - c * cy, 0, 0];
}

/**
 * Bilinear affine warp of a batch [N, H, W, C] (row-major values), one 8-number map per image,
 * zero outside the image. Written here because tfjs 4.22's cpu Transform kernel returns after the
 * first image of a batch, leaving the others blank.
 */
export function warpAffine(src: Float32Array, shape: readonly [number, number, number, number], params: ArrayLike<number>): Float32Array {
  const [n, h, w, ch] = shape;
  const out = new Float32Array(n * h * w * ch);
  const at = (b: number, y: number, x: number, c: number): number => (y < 0 || y >= h || x < 0 || x >= w ? 0 : src[((b * h + y) * w + x) * ch + c]!);
  for (let b = 0; b < n; b++) {
    const [a0, a1, a2, b0, b1, b2] = [params[b * 8]!, params[b * 8 + 1]!, params[b * 8 + 2]!, params[b * 8 + 3]!, params[b * 8 + 4]!, params[b * 8 + 5]!];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const ix = a0 * x + a1 * y + a2;
        const iy = b0 * x + b1 * y + b2;
        const x0 = Math.floor(ix);
        const y0 = Math.floor(iy);
        const fx = ix - x0;
        const fy = iy - y0;
        for (let c = 0; c < ch; c++) {
          const top = at(b, y0, x0, c) * (1 - fx) + at(b, y0, x0 + 1, c) * fx;
          const bot = at(b, y0 + 1, x0, c) * (1 - fx) + at(b, y0 + 1, x0 + 1, c) * fx;
          out[((b * h + y) * w + x) * ch + c] = top * (1 - fy) + bot * fy;
        }
      }
    }
  }
  return out;
}

/** Augments a batch [N, H, W, C] of images in [0, 1]; returns a new tensor of the same shape. */
export function augment(images: tf.Tensor4D, rng: Rng, o: AugmentOptions = {}): tf.Tensor4D {
  checkShape(images.shape, [null, null, null, null], 'images');
  const noiseStd = o.noiseStd ?? 0.05;
  checkNumber(noiseStd, 'noiseStd', { min: 0 });
  const [n, h, w, ch] = images.shape;
  const params: number[] = [];
  for (let i = 0; i < n; i++) params.push(...randomAffine(h, w, rng, o));
  const out = warpAffine(images.dataSync() as Float32Array, [n, h, w, ch], params);
  if (noiseStd > 0) for (let i = 0; i < out.length; i++) out[i] = out[i]! + rng.normal(0, noiseStd);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]!));
  return tf.tensor4d(out, [n, h, w, ch]);
}

/** Two independently augmented views of the same batch (contrastive learning, BYOL). */
export function twoViews(images: tf.Tensor4D, rng: Rng, o: AugmentOptions = {}): [tf.Tensor4D, tf.Tensor4D] {
  return [augment(images, rng, o), augment(images, rng, o)];
}
