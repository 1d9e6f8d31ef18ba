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

/** Augments a batch [N, H, W, C] of images in [0, 1]; returns a new tensor of the same shape. */
export function augment(images: tf.Tensor4D, rng: Rng, o: AugmentOptions = {}): tf.Tensor4D {
  checkShape(images.shape, [null, null, null, null], 'images');
  const noiseStd = o.noiseStd ?? 0.05;
  checkNumber(noiseStd, 'noiseStd', { min: 0 });
  const [n, h, w, ch] = images.shape;
  const params: number[] = [];
  for (let i = 0; i < n; i++) params.push(...randomAffine(h, w, rng, o));
  const noise = noiseStd > 0 ? rng.normalArray(n * h * w * ch, 0, noiseStd) : undefined;
  return tf.tidy(() => {
    let out: tf.Tensor4D = tf.image.transform(images, tf.tensor2d(params, [n, 8]), 'bilinear', 'constant', 0);
    if (noise) out = tf.add(out, tf.tensor4d(noise, [n, h, w, ch]));
    return tf.clipByValue(out, 0, 1);
  });
}

/** Two independently augmented views of the same batch (contrastive learning, BYOL). */
export function twoViews(images: tf.Tensor4D, rng: Rng, o: AugmentOptions = {}): [tf.Tensor4D, tf.Tensor4D] {
  return [augment(images, rng, o), augment(images, rng, o)];
}
