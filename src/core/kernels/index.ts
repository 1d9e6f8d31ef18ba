/**
 * Registers the native kernels over tfjs's cpu backend (public registerKernel API). Each native
 * kernel handles the float32 cases it covers and hands every other call (dtype, layout, shape or
 * attribute it does not cover) to tfjs's original kernel, saved here with tf.getKernel, so a call
 * never gets a wrong answer. unregisterNativeKernels() restores the originals.
 */
import { tf } from '../tf.js';
import { asAddon, RED, type NativeAddon } from './addon.js';
import * as conv from './conv.js';
import * as ew from './elementwise.js';
import * as mm from './matmul.js';
import * as sh from './shape.js';
import { bump, strict, stats, type CpuBackend, type KernelArgs, type NativeImpl, type TensorInfo } from './util.js';
import { installPool, uninstallPool } from './pool.js';

export { stats as nativeKernelStats } from './util.js';
export { poolStats, poolInstalled, pooledBytes, setPoolLimit, poolLimit } from './pool.js';
export type { NativeAddon } from './addon.js';
export { LAYER_NORM, LAYER_NORM_GRAD, GELU, GELU_GRAD, ADAM, ATTENTION, ATTENTION_GRAD } from './elementwise.js';

const BACKEND = 'cpu';

/** Kernels that replace an existing tfjs kernel. */
function replacements(a: NativeAddon): Array<[string, NativeImpl]> {
  return [
    ['BatchMatMul', mm.batchMatMul(a)],
    ['_FusedMatMul', mm.fusedMatMul(a)],
    ['Conv2D', conv.conv2d(a)],
    ['FusedConv2D', conv.fusedConv2d(a)],
    ['Conv2DBackpropInput', conv.conv2dBackpropInput(a)],
    ['Conv2DBackpropFilter', conv.conv2dBackpropFilter(a)],
    ['MaxPool', conv.pool(a, true)],
    ['AvgPool', conv.pool(a, false)],
    ['MaxPoolGrad', conv.maxPoolGrad(a)],
    ['AvgPoolGrad', conv.avgPoolGrad(a)],
    ...ew.BINARY_KERNELS.map(([name, op]): [string, NativeImpl] => [name, ew.binary(a, op)]),
    ...ew.UNARY_KERNELS.map(([name, op, alphaAttr, alphaDefault]): [string, NativeImpl] => [name, ew.unary(a, op, alphaAttr, alphaDefault)]),
    ['Softmax', ew.softmax(a)],
    ['AddN', ew.addN(a)],
    ['Sum', sh.reduce(a, RED.Sum, 'axis')],
    ['Mean', sh.reduce(a, RED.Mean, 'axis')],
    ['Max', sh.reduce(a, RED.Max, 'reductionIndices')],
    ['Min', sh.reduce(a, RED.Min, 'axis')],
    ['Transpose', sh.transpose(a)],
    ['Slice', sh.slice(a)],
    ['SplitV', sh.splitV(a)],
    ['Concat', sh.concat(a)],
    ['GatherV2', sh.gatherV2(a)],
    ['UnsortedSegmentSum', sh.unsortedSegmentSum(a)],
    ['Pack', sh.pack(a)],
    ['Unpack', sh.unpack(a)],
    ['PadV2', sh.padV2(a)],
    ['OneHot', sh.oneHot(a)],
  ];
}

/** paperlab's own kernels (no tfjs original), used by layerNorm/gelu in src/core/ops.ts. */
function additions(a: NativeAddon): Array<[string, NativeImpl]> {
  return [
    [ew.LAYER_NORM, ew.layerNormKernel(a)],
    [ew.LAYER_NORM_GRAD, ew.layerNormGradKernel(a)],
    [ew.GELU, ew.geluKernel(a)],
    [ew.GELU_GRAD, ew.geluGradKernel(a)],
    [ew.ADAM, ew.adamKernel(a)],
    [ew.SOFTMAX_GRAD, ew.softmaxGradKernel(a)],
    [ew.ATTENTION, ew.attentionKernel(a)],
    [ew.ATTENTION_GRAD, ew.attentionGradKernel(a)],
  ];
}

const originals = new Map<string, tf.KernelConfig>();
let softmaxGradOriginal: tf.GradConfig | undefined;

/**
 * Softmax's gradient in tfjs is four kernels over the whole tensor (mul, sum, sub, mul); this one is
 * a single pass. Registered with the public registerGradient API; other dims/dtypes use the original.
 */
function installSoftmaxGrad(): void {
  const original = tf.getGradient('Softmax');
  if (!original || softmaxGradOriginal) return;
  softmaxGradOriginal = original;
  tf.registerGradient({
    kernelName: 'Softmax',
    outputsToSave: [true],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const y = saved[0]!;
      const g = dy as tf.Tensor;
      const dim = Number((attrs as { dim?: number } | undefined)?.dim ?? -1);
      const last = dim === -1 || dim === y.rank - 1;
      if (!last || y.dtype !== 'float32' || g.dtype !== 'float32' || !fusedKernelReady(ew.SOFTMAX_GRAD)) {
        return original.gradFunc(dy, saved, attrs ?? {});
      }
      return { logits: () => tf.engine().runKernel(ew.SOFTMAX_GRAD, { dy: g, y } as tf.NamedTensorMap, {}) as tf.Tensor };
    },
  });
}

function uninstallSoftmaxGrad(): void {
  if (!softmaxGradOriginal) return;
  tf.registerGradient(softmaxGradOriginal);
  softmaxGradOriginal = undefined;
}
const added = new Set<string>();
let active: NativeAddon | null = null;

function wrap(name: string, impl: NativeImpl, original: tf.KernelConfig | undefined): tf.KernelFunc {
  const fallback = original?.kernelFunc;
  return ((args: KernelArgs) => {
    const backend = args.backend as CpuBackend;
    let out: TensorInfo | TensorInfo[] | null = null;
    try {
      out = impl(args, backend);
    } catch (e) {
      if (strict() || !fallback) throw e;
      bump(name, 'errors');
      out = null;
    }
    if (out !== null) {
      bump(name, 'native');
      return out;
    }
    if (!fallback) throw new Error(`${name}: no native implementation for these inputs`);
    bump(name, 'fallback');
    return fallback(args as Parameters<tf.KernelFunc>[0]);
  }) as tf.KernelFunc;
}

/**
 * Installs the native kernels over the cpu backend and returns their names (empty if the addon
 * lacks functions this version needs, e.g. a stale build). Calling it again re-installs them.
 */
export function registerNativeKernels(addonModule: unknown): string[] {
  const addon = asAddon(addonModule);
  if (!addon) return [];
  unregisterNativeKernels();
  tuneMalloc(addon);
  const cpu = tf.findBackend(BACKEND);
  if (cpu) installPool(cpu as unknown as CpuBackend);
  const names: string[] = [];
  for (const [name, impl] of replacements(addon)) {
    const original = tf.getKernel(name, BACKEND);
    if (!original) continue;
    originals.set(name, original);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ ...original, kernelFunc: wrap(name, impl, original) });
    names.push(name);
  }
  for (const [name, impl] of additions(addon)) {
    if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: wrap(name, impl, undefined) });
    added.add(name);
    names.push(name);
  }
  active = addon;
  installSoftmaxGrad();
  return names;
}

/**
 * glibc returns every large freed block to the kernel and maps fresh zero pages for the next one,
 * so each op's output costs page faults (a 4 MiB tensor: ~5 ms instead of ~0.5 ms). Raising the mmap
 * and trim thresholds keeps freed tensor memory in the heap for reuse: the same effect as
 * MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_ in the environment, applied with
 * mallopt from inside the process. PAPERLAB_MALLOC_TUNE=0 leaves malloc alone.
 */
let mallocTuned = false;
function tuneMalloc(addon: NativeAddon): void {
  if (mallocTuned || process.env.PAPERLAB_MALLOC_TUNE === '0' || typeof addon.tuneMalloc !== 'function') return;
  mallocTuned = addon.tuneMalloc(32 << 20, 512 << 20, 64 << 20);
}

/** Restores tfjs's original kernels (used by tests that compare both paths in one process). */
export function unregisterNativeKernels(): void {
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(original);
  }
  originals.clear();
  for (const name of added) tf.unregisterKernel(name, BACKEND);
  added.clear();
  uninstallPool();
  uninstallSoftmaxGrad();
  active = null;
}

/** The addon whose kernels are registered now, or null. */
export function activeAddon(): NativeAddon | null {
  return active;
}

/** True when paperlab's fused kernel `name` can run now: registered and the cpu backend active. */
export function fusedKernelReady(name: string): boolean {
  return active !== null && added.has(name) && tf.getBackend() === BACKEND;
}

/** Zeroes the native/fallback counters. */
export function resetNativeKernelStats(): void {
  stats.clear();
}
