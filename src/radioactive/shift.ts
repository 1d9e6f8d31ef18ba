/**
 * A differentiable augmentation for marking: random integer translations with zero fill, built from
 * pad + slice + concat so gradients flow back to the pixels being optimised (tf.image.transform has
 * no gradient in tfjs). The batch is cut into a few contiguous segments and each segment gets its own
 * random shift, which keeps the op count small: every image still sees a uniformly random shift at
 * every iteration.
 */
import { tf } from '../core/tf.js';
import { checkInt } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/**
 * Cuts a batch of n into min(segments, n) contiguous segments, calls `part(start, size)` for each in
 * order (so random draws happen segment by segment), and concatenates the parts along the batch.
 * Shared by the marking augmentations: one random transform per segment keeps the op count small.
 */
export function bySegments(n: number, segments: number, part: (start: number, size: number) => tf.Tensor4D): tf.Tensor4D {
  const parts: tf.Tensor4D[] = [];
  const k = Math.min(segments, n);
  let start = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(((i + 1) * n) / k) - start;
    if (size <= 0) continue;
    parts.push(part(start, size));
    start += size;
  }
  return parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
}

/** Shifts images [N, H, W, C] by random (dy, dx) ∈ [−maxShift, maxShift]², segment by segment. */
export function randomShift(x: tf.Tensor4D, maxShift: number, rng: Rng, segments = 8): tf.Tensor4D {
  checkInt(maxShift, 'maxShift', { min: 0 });
  checkInt(segments, 'segments', { min: 1 });
  if (maxShift === 0) return tf.clone(x);
  const [n, h, w, c] = x.shape;
  const s = maxShift;
  return tf.tidy(() => {
    const padded = tf.pad(x, [
      [0, 0],
      [s, s],
      [s, s],
      [0, 0],
    ]);
    return bySegments(n, segments, (start, size) => {
      const dy = rng.int(2 * s + 1) - s;
      const dx = rng.int(2 * s + 1) - s;
      return tf.slice(padded, [start, s - dy, s - dx, 0], [size, h, w, c]);
    });
  });
}
