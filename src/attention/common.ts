/**
 * Shared pieces of the attention kernels: argument checks, key-padding masks, sequence padding,
 * custom gradients (tfjs's gather gradient goes through UnsortedSegmentSum, quadratic on the cpu
 * backend; its Cumsum gradient is wrong off the last axis) and a stop-gradient.
 */
import { tf, type Tensor, type Tensor4D } from '../core/tf.js';
import { PaperlabError, check, describeShape } from '../core/errors.js';

/** A large negative logit for masked positions (finite, so fully masked rows never give NaN). */
export const MASKED = -1e9;
/** The Reformer's penalty for attending to oneself: used only when nothing else is valid. */
export const SELF_PENALTY = -5e4;

export interface QkvDims {
  batch: number;
  heads: number;
  seqQ: number;
  seqK: number;
  dHead: number;
  dValue: number;
}

/**
 * Checks q, k, v of shape [batch, heads, seq, dHead] against each other and returns their sizes.
 * `finite` additionally reads the inputs back once and refuses NaN/Inf with a named error.
 */
export function checkQkv(q: Tensor, k: Tensor, v: Tensor, finite = true): QkvDims {
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    check(t.rank === 4, name, `expected rank 4 [batch, heads, seq, dHead], got shape ${describeShape(t.shape)}`, 'split heads first: reshape [batch, seq, heads·dHead] to [batch, seq, heads, dHead] and transpose to [batch, heads, seq, dHead]');
    check(t.dtype === 'float32', name, `expected float32, got ${t.dtype}`, 'cast the tensor to float32');
  }
  const [b, h, nq, dq] = q.shape as [number, number, number, number];
  const [bk, hk, nk, dk] = k.shape as [number, number, number, number];
  const [bv, hv, nv, dv] = v.shape as [number, number, number, number];
  check(bk === b && bv === b, 'k/v', `batch sizes differ: q ${b}, k ${bk}, v ${bv}`, 'pass q, k and v from the same batch');
  check(hk === h && hv === h, 'k/v', `head counts differ: q ${h}, k ${hk}, v ${hv}`, 'split q, k and v into the same number of heads');
  check(dk === dq, 'k', `head dimension ${dk} differs from q's ${dq} (mismatched head dims)`, 'project queries and keys to the same dHead');
  check(nv === nk, 'v', `sequence length ${nv} differs from k's ${nk}`, 'pass keys and values for the same positions');
  if (finite) checkFiniteTensors({ q, k, v });
  return { batch: b, heads: h, seqQ: nq, seqK: nk, dHead: dq, dValue: dv };
}

/**
 * Refuses NaN/Inf with one read-back: the sum of all values is finite unless something is NaN/Inf
 * (or the sum overflows, which is then told apart by an exact check).
 */
export function checkFiniteTensors(tensors: Record<string, Tensor>): void {
  const entries = Object.entries(tensors);
  const total = tf.tidy(() => tf.addN(entries.map(([, t]) => tf.sum(tf.cast(t, 'float32')))));
  const s = total.dataSync()[0]!;
  total.dispose();
  if (Number.isFinite(s)) return;
  for (const [name, t] of entries) {
    const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(t))));
    const isBad = bad.dataSync()[0] === 1;
    bad.dispose();
    if (isBad) {
      const nan = tf.tidy(() => tf.any(tf.isNaN(t)));
      const hasNaN = nan.dataSync()[0] === 1;
      nan.dispose();
      throw new PaperlabError(name, `contains ${hasNaN ? 'NaN' : 'Inf'} values`, 'find where the NaN/Inf first appears (lower the learning rate, clip gradients, check the inputs)');
    }
  }
}

/**
 * Normalises a key-padding mask ([batch, seqK], 1 = attend, 0 = padding; bool or numeric) to a
 * float32 [batch, seqK] of ones and zeros.
 */
export function keyMask(mask: Tensor | undefined, batch: number, seqK: number): tf.Tensor2D | undefined {
  if (!mask) return undefined;
  check(
    mask.rank === 2 && mask.shape[0] === batch && mask.shape[1] === seqK,
    'mask',
    `expected a key-padding mask of shape [${batch}, ${seqK}] (1 = attend, 0 = padding), got ${describeShape(mask.shape)}`,
    'pass one row per batch element with one entry per key position',
  );
  return tf.tidy(() => tf.cast(tf.notEqual(mask, 0), 'float32')) as tf.Tensor2D;
}

/** Pads axis 2 (the sequence) of a [b, h, n, d] tensor with zeros up to `to`. */
export function padSeq(x: Tensor4D, to: number): Tensor4D {
  const n = x.shape[2];
  if (n === to) return x;
  return tf.pad(x, [[0, 0], [0, 0], [0, to - n], [0, 0]]);
}

/** Rounds `n` up to a multiple of `m`. */
export function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * y = forward(x) with the gradient dy ↦ backward(dy) (a one-input tf.customGrad). Tensors the
 * closures capture are constants of this call.
 */
export function withGradient(x: Tensor, forward: (x: Tensor) => Tensor, backward: (dy: Tensor) => Tensor): Tensor {
  const f = tf.customGrad(((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const xin = args[0] as Tensor;
    return { value: forward(xin), gradFunc: (dy: Tensor) => backward(dy) };
  }) as Parameters<typeof tf.customGrad>[0]);
  return f(x);
}

/** Rows of x scaled to unit L2 norm along the last axis. */
export function unitLength(x: Tensor, eps = 1e-6): Tensor {
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.add(tf.sum(tf.square(x), -1, true), eps))));
}

/** Batched matmul on rank-3 tensors with equal batch sizes (the safe path on the cpu backend). */
export function bmm(a: Tensor, b: Tensor, transposeA = false, transposeB = false): tf.Tensor3D {
  return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, transposeA, transposeB);
}

/**
 * The same values with no link to the gradient tape (tfjs has no stop_gradient): used for the
 * discrete path of LSH (hash → sort → masks), whose ops (TopK, Equal, …) have no gradients.
 */
export function stopGradient<T extends Tensor>(x: T): T {
  // share the buffer (as a backend's reshape does): one more reference, then a tape-less tensor
  tf.backend().incRef(x.dataId);
  return tf.engine().makeTensorFromDataId(x.dataId, x.shape.slice(), x.dtype) as T;
}

/**
 * Exclusive cumulative sum along `axis` with a correct gradient (the reverse exclusive cumulative
 * sum); tfjs 4.22's own Cumsum gradient transposes wrongly when `axis` is not the last one.
 */
export function cumsumExclusive(x: Tensor, axis: number): Tensor {
  return withGradient(x, (xin) => tf.cumsum(xin, axis, true, false), (dy) => tf.cumsum(dy, axis, true, true));
}
