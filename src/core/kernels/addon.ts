/**
 * The functions of the native addon (native/src/*.cc), as TypeScript sees them. Every function
 * checks its arguments (types, lengths, shapes) and throws a RangeError/TypeError rather than touch
 * memory it should not; outputs are caller-allocated Float32Arrays.
 */
export type Dims = readonly number[];
export type F32 = Float32Array;

export interface NativeAddon {
  version: number;
  blasInfo(): string;
  numThreads(): number;
  setThreads(n: number): number;
  tuneMalloc(mmapThreshold: number, trimThreshold: number, topPad: number): boolean;
  matmul(a: F32, aBatch: Dims, b: F32, bBatch: Dims, out: F32, M: number, N: number, K: number, transA: boolean, transB: boolean,
    bias: F32 | null, biasKind: number, act: number, alpha: number): void;
  sgemmDirect(a: F32, b: F32, c: F32, M: number, N: number, K: number, transA: boolean, transB: boolean, threads: number): void;
  conv2d(x: F32, filter: F32, out: F32, params: Dims, bias: F32 | null, biasKind: number, act: number, alpha: number): void;
  conv2dBackpropInput(dy: F32, filter: F32, dx: F32, params: Dims): void;
  conv2dBackpropFilter(x: F32, dy: F32, dw: F32, params: Dims): void;
  pool2d(x: F32, out: F32, params: Dims, isMax: boolean): void;
  maxPoolGrad(dy: F32, x: F32, dx: F32, params: Dims): void;
  avgPoolGrad(dy: F32, dx: F32, params: Dims): void;
  binary(op: number, a: F32, aShape: Dims, b: F32, bShape: Dims, out: F32, outShape: Dims): void;
  unary(op: number, x: F32, out: F32, alpha: number): void;
  softmax(x: F32, out: F32, rows: number, cols: number): void;
  softmaxGrad(dy: F32, y: F32, dx: F32, rows: number, cols: number): void;
  attention(q: F32, k: F32, v: F32, y: F32, p: F32, N: number, T: number, D: number, scale: number): void;
  attentionGrad(dy: F32, q: F32, k: F32, v: F32, p: F32, dq: F32, dk: F32, dv: F32, N: number, T: number, D: number, scale: number): void;
  layerNorm(x: F32, gamma: F32, beta: F32, y: F32, mean: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  layerNormGrad(dy: F32, x: F32, gamma: F32, mean: F32, rstd: F32, dx: F32, dgamma: F32, dbeta: F32, rows: number, cols: number): void;
  geluGrad(dy: F32, x: F32, dx: F32): void;
  addN(inputs: F32[], out: F32): void;
  adam(p: F32, m: F32, v: F32, g: F32, pOut: F32, mOut: F32, vOut: F32, beta1: number, beta2: number, eps: number, stepSize: number,
    bc2: number, decay: number): void;
  transpose(x: F32, shape: Dims, perm: Dims, out: F32): void;
  slice(x: F32, shape: Dims, begin: Dims, size: Dims, out: F32): void;
  concat(inputs: F32[], inners: Dims, outer: number, out: F32): void;
  split(x: F32, inners: Dims, outer: number, outs: F32[]): void;
  /** Returns -1, or the position of the first index outside [0, dim) (then nothing is written). */
  gather(x: F32, outer: number, dim: number, inner: number, indices: Int32Array, out: F32): number;
  unsortedSegmentSum(x: F32, rows: number, inner: number, ids: Int32Array, numSegments: number, out: F32): void;
  reduce(op: number, x: F32, outer: number, R: number, inner: number, out: F32): void;
  pad(x: F32, shape: Dims, before: Dims, after: Dims, value: number, out: F32): void;
  oneHot(indices: Int32Array, depth: number, on: number, off: number, out: F32): void;
  /** 'avx512' (paperlab's kernel) or 'openblas'; with an argument, switches first. */
  gemmKernel(which?: 'avx512' | 'openblas'): string;
}

const REQUIRED: Array<keyof NativeAddon> = [
  'blasInfo', 'numThreads', 'matmul', 'sgemmDirect', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'pool2d',
  'maxPoolGrad', 'avgPoolGrad', 'binary', 'unary', 'softmax', 'layerNorm', 'layerNormGrad', 'geluGrad', 'addN', 'transpose',
  'slice', 'concat', 'split', 'gather', 'unsortedSegmentSum', 'reduce', 'pad', 'oneHot', 'gemmKernel', 'adam', 'softmaxGrad', 'attention', 'attentionGrad',
];

/** The addon if it has every function this version of paperlab calls, else null (stale build). */
export function asAddon(x: unknown): NativeAddon | null {
  if (!x || typeof x !== 'object') return null;
  const o = x as Record<string, unknown>;
  return REQUIRED.every((k) => typeof o[k] === 'function') ? (x as NativeAddon) : null;
}

// Op codes shared with native/src (keep in sync).
export const BIN = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6, Pow: 7 } as const;
export const UN = {
  Exp: 0, Log: 1, Tanh: 2, Sigmoid: 3, Relu: 4, Relu6: 5, Sqrt: 6, Rsqrt: 7, Square: 8, Neg: 9, Abs: 10, Elu: 11,
  LeakyRelu: 12, Reciprocal: 13, Step: 14, Gelu: 15, Copy: 16,
} as const;
export const RED = { Sum: 0, Mean: 1, Max: 2, Min: 3 } as const;
export const ACT: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, sigmoid: 4, leakyrelu: 5 };
export const BIAS = { none: 0, scalar: 1, column: 2 } as const;
