/**
 * Helpers shared by the native kernel wrappers: typed views of cpu-backend tensors, output
 * allocation, and the bookkeeping of fallbacks.
 */
import { tf } from '../tf.js';
import { allocPooled } from './pool.js';

export type TensorInfo = tf.TensorInfo;
export type DataType = tf.DataType;

/** The slice of tfjs's MathBackendCPU that the kernels use. */
export interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: DataType, values?: unknown): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined> | TensorInfo[];
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** A native kernel body: returns its output(s), or null to hand the call to tfjs's original kernel. */
export type NativeImpl = (args: KernelArgs, backend: CpuBackend) => TensorInfo | TensorInfo[] | null;

/** The Float32Array behind a float32 tensor, or null (other dtype, complex, not materialised). */
export function f32(backend: CpuBackend, t: TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : null;
}

/** The Int32Array behind an int32 tensor, or null. */
export function i32(backend: CpuBackend, t: TensorInfo | undefined): Int32Array | null {
  if (!t || t.dtype !== 'int32') return null;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Int32Array ? v : null;
}

/**
 * A Float32Array view of a float32 or int32 tensor's bits, for kernels that only move data
 * (transpose, slice, concat, gather). null for other dtypes.
 */
export function bits32(backend: CpuBackend, t: TensorInfo | undefined): Float32Array | null {
  if (!t || (t.dtype !== 'float32' && t.dtype !== 'int32')) return null;
  const v = backend.data.get(t.dataId)?.values;
  if (v instanceof Float32Array) return v;
  if (v instanceof Int32Array) return new Float32Array(v.buffer, v.byteOffset, v.length);
  return null;
}

/**
 * A Float32Array of n elements for a kernel output. Large ones are uninitialised (the kernels write
 * every element): recycled from the buffer pool (pool.ts) or fresh from Buffer.allocUnsafeSlow,
 * which saves the zero-fill of a calloc.
 */
export function allocF32(n: number): Float32Array {
  return allocPooled(n);
}

/** Output storage of a dtype (float32 or int32) and a Float32Array view of it for the addon. */
export function allocOut(dtype: DataType, n: number): { values: Float32Array | Int32Array; view: Float32Array } {
  const view = allocF32(n);
  return dtype === 'int32' ? { values: new Int32Array(view.buffer, view.byteOffset, n), view } : { values: view, view };
}

export function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

export function input(args: KernelArgs, name: string): TensorInfo | undefined {
  const inputs = args.inputs as Record<string, TensorInfo | undefined>;
  return inputs[name];
}

/** Inputs `a` and `b` with their float32 values, or null (missing input or not float32: tfjs's kernel runs). */
export function f32Pair(args: KernelArgs, backend: CpuBackend): { a: TensorInfo; b: TensorInfo; av: Float32Array; bv: Float32Array } | null {
  const a = input(args, 'a');
  const b = input(args, 'b');
  const av = f32(backend, a);
  const bv = f32(backend, b);
  return av && bv && a && b ? { a, b, av, bv } : null;
}

export function attr<T>(args: KernelArgs, name: string): T {
  return (args.attrs ?? {})[name] as T;
}

/** Counters: how often each kernel ran natively and how often it fell back to tfjs. */
export const stats = new Map<string, { native: number; fallback: number; errors: number }>();

export function bump(name: string, what: 'native' | 'fallback' | 'errors'): void {
  let s = stats.get(name);
  if (!s) stats.set(name, (s = { native: 0, fallback: 0, errors: 0 }));
  s[what]++;
}

/** PAPERLAB_NATIVE_STRICT=1 rethrows errors from native kernels instead of falling back (tests). */
export const strict = (): boolean => process.env.PAPERLAB_NATIVE_STRICT === '1';
