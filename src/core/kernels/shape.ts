/** Data movement (Transpose, Slice, SplitV, Concat, GatherV2), scatter-add (UnsortedSegmentSum) and reductions. */
import { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';
import { RED } from './addon.js';
import { freeTemp } from './pool.js';
import { allocF32, allocOut, attr, bits32, f32, i32, input, sizeOf, type CpuBackend, type KernelArgs, type NativeImpl, type TensorInfo } from './util.js';

export function transpose(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = bits32(backend, x);
    if (!x || !xv) return null;
    const perm = attr<number[]>(args, 'perm');
    if (!Array.isArray(perm) || perm.length !== x.shape.length) return null;
    const outShape = perm.map((p) => x.shape[p]!);
    const { values, view } = allocOut(x.dtype, xv.length);
    addon.transpose(xv, x.shape, perm, view);
    return backend.makeTensorInfo(outShape, x.dtype, values);
  };
}

/** True when the slice is one contiguous run of the input (tfjs then returns a zero-copy view). */
function contiguous(shape: readonly number[], begin: readonly number[], size: readonly number[]): boolean {
  return tf.slice_util.isSliceContinous(shape as number[], begin as number[], size as number[]);
}

export function slice(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = bits32(backend, x);
    if (!x || !xv) return null;
    let begin: number[];
    let size: number[];
    try {
      [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attr(args, 'begin'), attr(args, 'size'));
      tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, size);
    } catch {
      return null;
    }
    if (sizeOf(size) === 0 || contiguous(x.shape, begin, size)) return null; // tfjs's zero-copy path
    const { values, view } = allocOut(x.dtype, sizeOf(size));
    addon.slice(xv, x.shape, begin, size, view);
    return backend.makeTensorInfo(size, x.dtype, values);
  };
}

export function splitV(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = bits32(backend, x);
    if (!x || !xv || x.shape.length === 0) return null;
    let axis: number;
    let sizes: number[];
    try {
      axis = tf.util.parseAxisParam(attr(args, 'axis'), x.shape)[0]!;
      sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attr(args, 'numOrSizeSplits'), axis);
    } catch {
      return null;
    }
    const outer = sizeOf(x.shape.slice(0, axis));
    if (outer <= 1) return null; // every piece is contiguous: tfjs returns zero-copy views
    const innerRest = sizeOf(x.shape.slice(axis + 1));
    const inners = sizes.map((s) => s * innerRest);
    const outs = sizes.map((s) => allocOut(x.dtype, outer * s * innerRest));
    addon.split(xv, inners, outer, outs.map((o) => o.view));
    return sizes.map((s, i) => {
      const shape = x.shape.slice();
      shape[axis] = s;
      return backend.makeTensorInfo(shape, x.dtype, outs[i]!.values);
    });
  };
}

export function concat(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const list = (Array.isArray(args.inputs) ? args.inputs : Object.values(args.inputs)) as TensorInfo[];
    if (list.length < 2) return null;
    const dtype = list[0]!.dtype;
    if (list.some((t) => t.dtype !== dtype)) return null;
    let axis: number;
    let outShape: number[];
    try {
      axis = tf.util.parseAxisParam(attr(args, 'axis'), list[0]!.shape)[0]!;
      tf.backend_util.assertParamsConsistent(list.map((t) => t.shape), axis);
      outShape = tf.backend_util.computeOutShape(list.map((t) => t.shape), axis);
    } catch {
      return null;
    }
    const n = sizeOf(outShape);
    if (n === 0) return null;
    const vals: Float32Array[] = [];
    for (const t of list) {
      const v = bits32(backend, t);
      if (!v) return null;
      vals.push(v);
    }
    const outer = sizeOf(outShape.slice(0, axis));
    const inners = list.map((t) => sizeOf(t.shape.slice(axis)));
    const { values, view } = allocOut(dtype, n);
    addon.concat(vals, inners, outer, view);
    return backend.makeTensorInfo(outShape, dtype, values);
  };
}

export function gatherV2(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const indices = input(args, 'indices');
    const xv = bits32(backend, x);
    const iv = i32(backend, indices);
    if (!x || !indices || !xv || !iv || x.shape.length === 0) return null;
    if ((attr<number | undefined>(args, 'batchDims') ?? 0) !== 0) return null;
    let axis: number;
    try {
      axis = tf.util.parseAxisParam(attr(args, 'axis'), x.shape)[0]!;
    } catch {
      return null;
    }
    const outer = sizeOf(x.shape.slice(0, axis));
    const dim = x.shape[axis]!;
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    const { values, view } = allocOut(x.dtype, outer * iv.length * inner);
    const bad = addon.gather(xv, outer, dim, inner, iv, view);
    if (bad >= 0) return null; // tfjs's kernel throws its "index out of range" error
    return backend.makeTensorInfo(outShape, x.dtype, values);
  };
}

export function unsortedSegmentSum(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const ids = input(args, 'segmentIds');
    const xv = f32(backend, x);
    const iv = i32(backend, ids);
    if (!x || !ids || !xv || !iv) return null;
    const numSegments = Number(attr<number>(args, 'numSegments'));
    if (!Number.isInteger(numSegments) || numSegments < 0) return null;
    const r = ids.shape.length;
    if (r > x.shape.length || ids.shape.some((d, i) => d !== x.shape[i])) return null;
    const rows = iv.length;
    const innerShape = x.shape.slice(r);
    const inner = sizeOf(innerShape);
    const out = allocF32(numSegments * inner);
    addon.unsortedSegmentSum(xv, rows, inner, iv, numSegments, out);
    return backend.makeTensorInfo([numSegments, ...innerShape], 'float32', out);
  };
}

/** Sum / Mean (attr axis) and Max / Min (attr reductionIndices), any axes, keepDims. */
export function reduce(addon: NativeAddon, op: number, axisAttr: 'axis' | 'reductionIndices'): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = f32(backend, x);
    if (!x || !xv) return null;
    const shape = x.shape;
    let axes: number[];
    try {
      axes = tf.util.parseAxisParam(attr(args, axisAttr), shape as number[]);
    } catch {
      return null;
    }
    axes = [...new Set(axes)].sort((p, q) => p - q);
    const keepDims = Boolean(attr(args, 'keepDims'));
    const outShape = keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
    const R = sizeOf(axes.map((a) => shape[a]!));
    if (R === 0 && (op === RED.Max || op === RED.Min)) return null;
    const out = allocF32(sizeOf(outShape));
    const contiguousAxes = axes.length === 0 || axes[axes.length - 1]! - axes[0]! === axes.length - 1;
    if (contiguousAxes) {
      const first = axes.length ? axes[0]! : shape.length;
      const last = axes.length ? axes[axes.length - 1]! + 1 : shape.length;
      addon.reduce(op, xv, sizeOf(shape.slice(0, first)), R, sizeOf(shape.slice(last)), out);
    } else {
      // move the reduced axes last (one native transpose), then reduce rows
      const keep = shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const perm = [...keep, ...axes];
      const tmp = allocF32(xv.length);
      addon.transpose(xv, shape, perm, tmp);
      addon.reduce(op, tmp, sizeOf(keep.map((i) => shape[i]!)), R, 1, out);
      freeTemp(tmp);
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

/** Pack (tf.stack): a concat of the inputs viewed as [outer, inner] along a new axis. */
export function pack(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const list = (Array.isArray(args.inputs) ? args.inputs : Object.values(args.inputs)) as TensorInfo[];
    if (list.length < 2) return null;
    const { shape, dtype } = list[0]!;
    if (list.some((t) => t.dtype !== dtype || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) return null;
    let axis = Number(attr<number>(args, 'axis') ?? 0);
    if (axis < 0) axis += shape.length + 1;
    if (!Number.isInteger(axis) || axis < 0 || axis > shape.length) return null;
    const vals: Float32Array[] = [];
    for (const t of list) {
      const v = bits32(backend, t);
      if (!v) return null;
      vals.push(v);
    }
    const outShape = [...shape.slice(0, axis), list.length, ...shape.slice(axis)];
    const n = sizeOf(outShape);
    if (n === 0) return null;
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis));
    const { values, view } = allocOut(dtype, n);
    addon.concat(vals, list.map(() => inner), outer, view);
    return backend.makeTensorInfo(outShape, dtype, values);
  };
}

/** Unpack (tf.unstack) along an inner axis (axis 0 pieces are zero-copy views in tfjs: left to it). */
export function unpack(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'value');
    const xv = bits32(backend, x);
    if (!x || !xv || x.shape.length === 0) return null;
    let axis = Number(attr<number>(args, 'axis') ?? 0);
    if (axis < 0) axis += x.shape.length;
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) return null;
    const outer = sizeOf(x.shape.slice(0, axis));
    const num = x.shape[axis]!;
    if (outer <= 1 || num === 0 || xv.length === 0) return null;
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outShape = x.shape.filter((_, i) => i !== axis);
    const outs = Array.from({ length: num }, () => allocOut(x.dtype, outer * inner));
    addon.split(xv, new Array<number>(num).fill(inner), outer, outs.map((o) => o.view));
    return outs.map((o) => backend.makeTensorInfo(outShape.slice(), x.dtype, o.values));
  };
}

export function padV2(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = bits32(backend, x);
    const paddings = attr<Array<[number, number]>>(args, 'paddings');
    if (!x || !xv || !Array.isArray(paddings) || paddings.length !== x.shape.length) return null;
    if (paddings.some((p) => !Array.isArray(p) || p.length !== 2 || !(p[0] >= 0) || !(p[1] >= 0))) return null;
    const value = Number(attr<number | undefined>(args, 'constantValue') ?? 0);
    if (x.dtype === 'int32' && value !== 0) return null; // int32 padding with 0 only (zero bits)
    const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
    const n = sizeOf(outShape);
    if (n === 0) return null;
    const { values, view } = allocOut(x.dtype, n);
    addon.pad(xv, x.shape, paddings.map((p) => p[0]), paddings.map((p) => p[1]), value, view);
    return backend.makeTensorInfo(outShape, x.dtype, values);
  };
}

export function oneHot(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const indices = input(args, 'indices');
    const iv = i32(backend, indices);
    const dtype = attr<string | undefined>(args, 'dtype') ?? 'int32';
    const depth = Number(attr<number>(args, 'depth'));
    if (!indices || !iv || dtype !== 'float32' || !Number.isInteger(depth) || depth < 0) return null;
    const out = allocF32(iv.length * depth);
    addon.oneHot(iv, depth, Number(attr<number>(args, 'onValue') ?? 1), Number(attr<number>(args, 'offValue') ?? 0), out);
    return backend.makeTensorInfo([...indices.shape, depth], 'float32', out);
  };
}
