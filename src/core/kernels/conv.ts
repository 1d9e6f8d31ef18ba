/** Conv2D (+ FusedConv2D) and its gradients via im2col + sgemm; MaxPool/AvgPool and their gradients. NHWC only. */
import { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';
import { ACT, BIAS } from './addon.js';
import { allocF32, attr, f32, input, sizeOf, type CpuBackend, type KernelArgs, type NativeImpl } from './util.js';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type Shape4 = [number, number, number, number];
type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type Rounding = Parameters<typeof tf.backend_util.computeConv2DInfo>[5];

function isNHWC(args: KernelArgs): boolean {
  const f = attr<string | undefined>(args, 'dataFormat');
  return f === undefined || f === 'NHWC' || f === 'channelsLast';
}

/** [N,H,W,C,FH,FW,OC,OH,OW,sh,sw,dh,dw,pt,pl] for the addon, or null if something is out of range. */
function convParams(c: Conv2DInfo): number[] | null {
  const p = [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.outChannels, c.outHeight, c.outWidth,
    c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth, c.padInfo.top, c.padInfo.left,
  ];
  return p.every((v) => Number.isInteger(v) && v >= 0) ? p : null;
}

function info(inShape: readonly number[], filterShape: readonly number[], args: KernelArgs, dilations: number | [number, number]): Conv2DInfo | null {
  if (inShape.length !== 4 || filterShape.length !== 4) return null;
  try {
    return tf.backend_util.computeConv2DInfo(
      inShape as Shape4, filterShape as Shape4, attr(args, 'strides'), dilations, attr<Pad>(args, 'pad'),
      attr<Rounding>(args, 'dimRoundingMode'), false, 'channelsLast',
    );
  } catch {
    return null;
  }
}

function convForward(addon: NativeAddon, fused: boolean): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const filter = input(args, 'filter');
    const xv = f32(backend, x);
    const fv = f32(backend, filter);
    if (!x || !filter || !xv || !fv || !isNHWC(args)) return null;
    let kind: number = BIAS.none;
    let act = ACT.linear!;
    let biasV: Float32Array | null = null;
    let alpha = 0;
    if (fused) {
      if (input(args, 'preluActivationWeights')) return null;
      const a = ACT[attr<string | undefined>(args, 'activation') ?? 'linear'];
      if (a === undefined) return null;
      act = a;
      alpha = Number(attr<number | undefined>(args, 'leakyreluAlpha') ?? 0.2);
      const bias = input(args, 'bias');
      if (bias) {
        biasV = f32(backend, bias);
        if (!biasV) return null;
        if (biasV.length === 1) kind = BIAS.scalar;
        else if (biasV.length === filter.shape[3] && bias.shape[bias.shape.length - 1] === filter.shape[3]) kind = BIAS.column;
        else return null;
      }
    }
    const c = info(x.shape, filter.shape, args, attr<number | [number, number] | undefined>(args, 'dilations') ?? 1);
    if (!c) return null;
    const p = convParams(c);
    if (!p) return null;
    const out = allocF32(sizeOf(c.outShape));
    addon.conv2d(xv, fv, out, p, biasV, kind, act, alpha);
    return backend.makeTensorInfo(c.outShape.slice(), 'float32', out);
  };
}

export const conv2d = (addon: NativeAddon): NativeImpl => convForward(addon, false);
export const fusedConv2d = (addon: NativeAddon): NativeImpl => convForward(addon, true);

export function conv2dBackpropInput(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const dy = input(args, 'dy');
    const filter = input(args, 'filter');
    const dyv = f32(backend, dy);
    const fv = f32(backend, filter);
    const inShape = attr<number[]>(args, 'inputShape');
    if (!dy || !filter || !dyv || !fv || !isNHWC(args) || !Array.isArray(inShape)) return null;
    const c = info(inShape, filter.shape, args, 1);
    if (!c || c.outShape.some((d, i) => d !== dy.shape[i])) return null;
    const p = convParams(c);
    if (!p) return null;
    const dx = allocF32(sizeOf(inShape));
    addon.conv2dBackpropInput(dyv, fv, dx, p);
    return backend.makeTensorInfo(inShape.slice(), 'float32', dx);
  };
}

export function conv2dBackpropFilter(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const dy = input(args, 'dy');
    const xv = f32(backend, x);
    const dyv = f32(backend, dy);
    const filterShape = attr<number[]>(args, 'filterShape');
    if (!x || !dy || !xv || !dyv || !isNHWC(args) || !Array.isArray(filterShape)) return null;
    const c = info(x.shape, filterShape, args, 1);
    if (!c || c.outShape.some((d, i) => d !== dy.shape[i])) return null;
    const p = convParams(c);
    if (!p) return null;
    const dw = allocF32(sizeOf(filterShape));
    addon.conv2dBackpropFilter(xv, dyv, dw, p);
    return backend.makeTensorInfo(filterShape.slice(), 'float32', dw);
  };
}

// ---- pooling ----
function poolInfo(xShape: readonly number[], args: KernelArgs): { c: Conv2DInfo; p: number[] } | null {
  if (xShape.length !== 4) return null;
  let c: Conv2DInfo;
  try {
    c = tf.backend_util.computePool2DInfo(
      xShape as Shape4, attr(args, 'filterSize'), attr(args, 'strides'), 1, attr<Pad>(args, 'pad'), attr<Rounding>(args, 'dimRoundingMode'),
    );
  } catch {
    return null;
  }
  if (c.dilationHeight !== 1 || c.dilationWidth !== 1) return null;
  const p = [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.filterHeight, c.filterWidth, c.outHeight, c.outWidth,
    c.strideHeight, c.strideWidth, c.padInfo.top, c.padInfo.left,
  ];
  return p.every((v) => Number.isInteger(v) && v >= 0) ? { c, p } : null;
}

export function pool(addon: NativeAddon, isMax: boolean): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const x = input(args, 'x');
    const xv = f32(backend, x);
    if (!x || !xv) return null;
    const pi = poolInfo(x.shape, args);
    if (!pi) return null;
    const out = allocF32(sizeOf(pi.c.outShape));
    addon.pool2d(xv, out, pi.p, isMax);
    return backend.makeTensorInfo(pi.c.outShape.slice(), 'float32', out);
  };
}

export function maxPoolGrad(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const dy = input(args, 'dy');
    const x = input(args, 'input');
    const dyv = f32(backend, dy);
    const xv = f32(backend, x);
    if (!dy || !x || !dyv || !xv) return null;
    const pi = poolInfo(x.shape, args);
    if (!pi || pi.c.outShape.some((d, i) => d !== dy.shape[i])) return null;
    const dx = allocF32(xv.length);
    addon.maxPoolGrad(dyv, xv, dx, pi.p);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', dx);
  };
}

export function avgPoolGrad(addon: NativeAddon): NativeImpl {
  return (args: KernelArgs, backend: CpuBackend) => {
    const dy = input(args, 'dy');
    const x = input(args, 'input');
    const dyv = f32(backend, dy);
    if (!dy || !x || !dyv || x.dtype !== 'float32') return null;
    const pi = poolInfo(x.shape, args);
    if (!pi || pi.c.outShape.some((d, i) => d !== dy.shape[i])) return null;
    const dx = allocF32(sizeOf(x.shape));
    addon.avgPoolGrad(dyv, dx, pi.p);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', dx);
  };
}
