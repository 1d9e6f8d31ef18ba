/**
 * Chunked feed-forward (Reformer §3): the position-wise FF layer is independent across positions,
 * so it can run on `chunks` slices of the sequence one after another. Inside a reversible block the
 * peak memory of the FF hidden layer (4·d per position) then shrinks by the number of chunks; the
 * result is exactly the unchunked one.
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, checkInt, describeShape } from '../core/errors.js';
import { gelu, linear } from '../core/ops.js';

export interface FeedForwardParams {
  /** [d, dFF] */
  w1: Tensor;
  /** [dFF] */
  b1: Tensor;
  /** [dFF, d] */
  w2: Tensor;
  /** [d] */
  b2: Tensor;
}

/** gelu(x·W1 + b1)·W2 + b2 on x [..., d]. */
export function feedForward(x: Tensor, p: FeedForwardParams): Tensor {
  return tf.tidy(() => linear(gelu(linear(x, p.w1, p.b1)), p.w2, p.b2));
}

/**
 * Applies `ff` to x [batch, seq, d] in `chunks` slices along the sequence (sizes ⌈seq/chunks⌉, the
 * last one shorter when seq is not a multiple) and concatenates the results.
 */
export function chunkedFeedForward(x: Tensor, ff: (x: Tensor) => Tensor, chunks = 1): Tensor {
  checkInt(chunks, 'chunks', { min: 1 });
  check(x.rank === 3, 'x', `expected [batch, seq, d], got ${describeShape(x.shape)}`, 'pass a [batch, seq, d] stream');
  const n = x.shape[1]!;
  const c = Math.min(chunks, n);
  if (c <= 1) return ff(x);
  const size = Math.ceil(n / c);
  const sizes: number[] = [];
  for (let s = 0; s < n; s += size) sizes.push(Math.min(size, n - s));
  return tf.tidy(() => tf.concat(tf.split(x, sizes, 1).map((part) => ff(part)), 1));
}
