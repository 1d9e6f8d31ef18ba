/**
 * Every native kernel against an independent plain-JS reference (double-precision loops over the
 * broadcast/unfused definition), over odd, empty and broadcasting shapes, transposes and through
 * gradients. The same file runs on the fallback path (PAPERLAB_NATIVE=0, tfjs's own kernels):
 * native-fallback.test.ts spawns it that way. Checks of known tfjs-cpu bugs run only natively.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../src/core/engine.js';
import { tf, type Tensor } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { nativeKernelStats, resetNativeKernelStats } from '../src/core/kernels/index.js';

process.env.PAPERLAB_NATIVE_STRICT = '1'; // a native kernel that throws fails the test instead of falling back
const engine = await initEngine({ backend: 'cpu', seed: 0 });
const NATIVE = engine.native.active;
const skipFallback = NATIVE ? false : 'tfjs cpu kernel is wrong here (known bug); checked only with native kernels';
const rng = new Rng(1234);

// ---------------------------------------------------------------- helpers
type Arr = ArrayLike<number>;
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
function strides(s: readonly number[]): number[] {
  const st = new Array<number>(s.length).fill(1);
  for (let i = s.length - 2; i >= 0; i--) st[i] = st[i + 1]! * s[i + 1]!;
  return st;
}
function unravel(i: number, s: readonly number[]): number[] {
  const idx = new Array<number>(s.length).fill(0);
  for (let d = s.length - 1; d >= 0; d--) {
    idx[d] = i % s[d]!;
    i = Math.floor(i / s[d]!);
  }
  return idx;
}
/** Flat index into an operand of shape `s` broadcast (right-aligned) to an output index. */
function bindex(outIdx: number[], s: readonly number[]): number {
  const off = outIdx.length - s.length;
  const st = strides(s);
  let f = 0;
  for (let d = 0; d < s.length; d++) f += (s[d] === 1 ? 0 : outIdx[d + off]!) * st[d]!;
  return f;
}
function randArr(n: number, lo = -1, hi = 1): Float32Array {
  return rng.uniformArray(n, lo, hi);
}
function randT(shape: number[], lo = -1, hi = 1): Tensor {
  return tf.tensor(randArr(size(shape), lo, hi), shape, 'float32');
}
function data(t: Tensor): Float32Array | Int32Array {
  return t.dataSync() as Float32Array | Int32Array;
}
function close(got: Arr, ref: Arr, what: string, rtol = 2e-5, atol = 1e-5): void {
  assert.equal(got.length, ref.length, `${what}: length ${got.length} vs ${ref.length}`);
  for (let i = 0; i < ref.length; i++) {
    const g = got[i]!;
    const r = ref[i]!;
    if (Number.isNaN(r) || Number.isNaN(g)) {
      assert.ok(Number.isNaN(r) && Number.isNaN(g), `${what}[${i}]: got ${g}, want ${r}`);
      continue;
    }
    if (!Number.isFinite(r)) {
      assert.equal(g, r, `${what}[${i}]: got ${g}, want ${r}`);
      continue;
    }
    assert.ok(Math.abs(g - r) <= atol + rtol * Math.abs(r), `${what}[${i}]: got ${g}, want ${r}`);
  }
}
function sameShape(t: Tensor, shape: number[], what: string): void {
  assert.deepEqual(t.shape, shape, `${what}: shape`);
}
/** Runs `f`, checks that `kernel` ran natively (when the addon is active) and returns its result. */
function ranNatively<T>(kernel: string, f: () => T): T {
  const before = nativeKernelStats.get(kernel)?.native ?? 0;
  const r = f();
  if (NATIVE) assert.ok((nativeKernelStats.get(kernel)?.native ?? 0) > before, `${kernel} did not run natively`);
  return r;
}

// ---------------------------------------------------------------- references
function refMatmul(a: Arr, as: number[], b: Arr, bs: number[], ta: boolean, tb: boolean): { v: Float64Array; shape: number[] } {
  const ra = as.length;
  const rb = bs.length;
  const M = ta ? as[ra - 1]! : as[ra - 2]!;
  const K = ta ? as[ra - 2]! : as[ra - 1]!;
  const N = tb ? bs[rb - 2]! : bs[rb - 1]!;
  const abatch = as.slice(0, -2);
  const bbatch = bs.slice(0, -2);
  const r = Math.max(abatch.length, bbatch.length);
  const A = [...new Array<number>(r - abatch.length).fill(1), ...abatch];
  const B = [...new Array<number>(r - bbatch.length).fill(1), ...bbatch];
  const ob = A.map((x, i) => Math.max(x, B[i]!));
  const v = new Float64Array(size(ob) * M * N);
  for (let t = 0; t < size(ob); t++) {
    const idx = unravel(t, ob);
    const ao = bindex(idx, A) * M * K;
    const bo = bindex(idx, B) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = ta ? a[ao + k * M + i]! : a[ao + i * K + k]!;
          const bv = tb ? b[bo + j * K + k]! : b[bo + k * N + j]!;
          s += av * bv;
        }
        v[(t * M + i) * N + j] = s;
      }
    }
  }
  return { v, shape: [...ob, M, N] };
}

function refBinary(f: (x: number, y: number) => number, a: Arr, as: number[], b: Arr, bs: number[]): { v: Float32Array; shape: number[] } {
  const r = Math.max(as.length, bs.length);
  const A = [...new Array<number>(r - as.length).fill(1), ...as];
  const B = [...new Array<number>(r - bs.length).fill(1), ...bs];
  const shape = A.map((x, i) => (x === 1 ? B[i]! : x));
  const v = new Float32Array(size(shape));
  for (let i = 0; i < v.length; i++) {
    const idx = unravel(i, shape);
    v[i] = f(a[bindex(idx, A)]!, b[bindex(idx, B)]!);
  }
  return { v, shape };
}

interface ConvCfg { N: number; H: number; W: number; C: number; FH: number; FW: number; OC: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number; OH: number; OW: number }
function convCfg(xs: number[], ws: number[], strides: [number, number], dil: [number, number], pad: 'same' | 'valid' | [[number, number], [number, number]]): ConvCfg {
  const [N, H, W, C] = xs as [number, number, number, number];
  const [FH, FW, , OC] = ws as [number, number, number, number];
  const [sh, sw] = strides;
  const [dh, dw] = dil;
  const eH = (FH - 1) * dh + 1;
  const eW = (FW - 1) * dw + 1;
  let pt = 0;
  let pl = 0;
  let OH: number;
  let OW: number;
  if (pad === 'valid') {
    OH = Math.ceil((H - eH + 1) / sh);
    OW = Math.ceil((W - eW + 1) / sw);
  } else if (pad === 'same') {
    OH = Math.ceil(H / sh);
    OW = Math.ceil(W / sw);
    pt = Math.floor(Math.max(0, (OH - 1) * sh + eH - H) / 2);
    pl = Math.floor(Math.max(0, (OW - 1) * sw + eW - W) / 2);
  } else {
    pt = pad[0][0];
    pl = pad[1][0];
    OH = Math.floor((H + pad[0][0] + pad[0][1] - eH) / sh) + 1;
    OW = Math.floor((W + pad[1][0] + pad[1][1] - eW) / sw) + 1;
  }
  return { N, H, W, C, FH, FW, OC, sh, sw, dh, dw, pt, pl, OH, OW };
}
/** Visits every (output position, filter tap) pair that reads an in-bounds input pixel. */
function convTaps(c: ConvCfg, f: (n: number, oh: number, ow: number, fh: number, fw: number, ih: number, iw: number) => void): void {
  for (let n = 0; n < c.N; n++)
    for (let oh = 0; oh < c.OH; oh++)
      for (let ow = 0; ow < c.OW; ow++)
        for (let fh = 0; fh < c.FH; fh++) {
          const ih = oh * c.sh - c.pt + fh * c.dh;
          if (ih < 0 || ih >= c.H) continue;
          for (let fw = 0; fw < c.FW; fw++) {
            const iw = ow * c.sw - c.pl + fw * c.dw;
            if (iw >= 0 && iw < c.W) f(n, oh, ow, fh, fw, ih, iw);
          }
        }
}
function refConv(c: ConvCfg, x: Arr, w: Arr): Float64Array {
  const y = new Float64Array(c.N * c.OH * c.OW * c.OC);
  convTaps(c, (n, oh, ow, fh, fw, ih, iw) => {
    const yo = ((n * c.OH + oh) * c.OW + ow) * c.OC;
    const xo = ((n * c.H + ih) * c.W + iw) * c.C;
    for (let ci = 0; ci < c.C; ci++)
      for (let o = 0; o < c.OC; o++) y[yo + o]! += x[xo + ci]! * w[((fh * c.FW + fw) * c.C + ci) * c.OC + o]!;
  });
  return y;
}
function refConvGrads(c: ConvCfg, x: Arr, w: Arr, dy: Arr): { dx: Float64Array; dw: Float64Array } {
  const dx = new Float64Array(c.N * c.H * c.W * c.C);
  const dwv = new Float64Array(c.FH * c.FW * c.C * c.OC);
  convTaps(c, (n, oh, ow, fh, fw, ih, iw) => {
    const yo = ((n * c.OH + oh) * c.OW + ow) * c.OC;
    const xo = ((n * c.H + ih) * c.W + iw) * c.C;
    for (let ci = 0; ci < c.C; ci++)
      for (let o = 0; o < c.OC; o++) {
        const wi = ((fh * c.FW + fw) * c.C + ci) * c.OC + o;
        dx[xo + ci]! += dy[yo + o]! * w[wi]!;
        dwv[wi]! += dy[yo + o]! * x[xo + ci]!;
      }
  });
  return { dx, dw: dwv };
}

// ---------------------------------------------------------------- tests
describe('native kernels: engine', () => {
  it('reports its state in one line', () => {
    assert.equal(typeof engine.native.message, 'string');
    assert.ok(!engine.native.message.includes('\n'));
    if (!NATIVE) {
      process.stderr.write(`# native kernels not active (${engine.native.message}); checking tfjs's own kernels\n`);
    } else {
      assert.ok(engine.native.kernels.includes('BatchMatMul'));
      assert.ok(engine.native.kernels.includes('PaperlabLayerNorm'));
    }
  });
});

describe('BatchMatMul / _FusedMatMul', () => {
  const cases: Array<[number[], number[], boolean, boolean, boolean?]> = [
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[1, 1], [1, 1], false, false],
    [[3, 4, 5], [3, 5, 6], false, false],
    [[3, 5, 4], [3, 6, 5], true, true],
    [[1, 4, 6], [3, 6, 2], false, false],
    [[2, 3, 4], [4, 5], false, false],
    [[2, 1, 3, 4], [5, 4, 6], false, false, true],
    [[3, 1, 4, 5], [1, 2, 5, 3], false, false, true],
    [[0, 5], [5, 3], false, false],
    [[4, 0], [0, 3], false, false],
    [[2, 0, 4], [2, 4, 3], false, false],
    [[130, 257], [257, 129], false, false],
    [[257, 130], [129, 257], true, true],
    [[16, 64, 32], [16, 32, 64], false, false],
    [[8, 64, 33], [33, 48], false, false],
    [[8, 33, 64], [33, 48], true, false],
    [[2, 4, 64, 32], [2, 4, 64, 32], false, true],
  ];
  for (const [as, bs, ta, tb, bothBroadcast] of cases) {
    it(`${JSON.stringify(as)}${ta ? 'ᵀ' : ''} × ${JSON.stringify(bs)}${tb ? 'ᵀ' : ''}`, { skip: bothBroadcast ? skipFallback : false }, () => {
      const a = randT(as);
      const b = randT(bs);
      const ref = refMatmul(data(a), as, data(b), bs, ta, tb);
      const y = ranNatively('BatchMatMul', () => tf.matMul(a, b, ta, tb));
      sameShape(y, ref.shape, 'matMul');
      close(data(y), ref.v, 'matMul', 1e-5, 1e-5);
    });
  }

  for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu'] as const) {
    it(`fused bias + ${activation}`, () => {
      const a = randT([37, 19]);
      const b = randT([19, 23]);
      const bias = randT([23]);
      const y = ranNatively('_FusedMatMul', () => tf.fused.matMul({ a, b, bias, activation, leakyreluAlpha: 0.3 }));
      const mm = refMatmul(data(a), [37, 19], data(b), [19, 23], false, false).v;
      const bv = data(bias);
      const act = (v: number): number =>
        activation === 'relu' ? Math.max(0, v) : activation === 'relu6' ? Math.min(6, Math.max(0, v)) : activation === 'elu' ? (v >= 0 ? v : Math.exp(v) - 1)
          : activation === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : activation === 'leakyrelu' ? (v < 0 ? 0.3 * v : v) : v;
      close(data(y), Array.from(mm, (v, i) => act(v + bv[i % 23]!)), `fused ${activation}`);
    });
  }

  it('fused with scalar bias, transposes and a 3-D batch', () => {
    const a = randT([2, 6, 9]);
    const b = randT([2, 4, 6]);
    const bias = randT([1]);
    const y = ranNatively('_FusedMatMul', () => tf.fused.matMul({ a, b, bias, transposeA: true, transposeB: true, activation: 'relu' }));
    const ref = refMatmul(data(a), [2, 6, 9], data(b), [2, 4, 6], true, true);
    sameShape(y, ref.shape, 'fused');
    close(data(y), Array.from(ref.v, (v) => Math.max(0, v + data(bias)[0]!)), 'fused scalar bias');
  });

  it('prelu falls back to tfjs and stays correct', () => {
    const a = randT([5, 4]);
    const b = randT([4, 3]);
    const alpha = tf.tensor1d([0.1, 0.2, 0.3]);
    const y = tf.fused.matMul({ a, b, activation: 'prelu', preluActivationWeights: alpha });
    const mm = refMatmul(data(a), [5, 4], data(b), [4, 3], false, false).v;
    close(data(y), Array.from(mm, (v, i) => (v < 0 ? [0.1, 0.2, 0.3][i % 3]! * v : v)), 'prelu');
  });

  it('gradients of matMul and fused matMul match the reference', () => {
    const a = randT([2, 7, 5]);
    const b = randT([2, 5, 6]);
    const bias = randT([6]);
    const R = randT([2, 7, 6]);
    const [ga, gb, gbias] = tf.grads((x: Tensor, y: Tensor, z: Tensor) =>
      tf.sum(tf.mul(tf.fused.matMul({ a: x as tf.Tensor3D, b: y as tf.Tensor3D, bias: z }), R)))([a, b, bias]);
    // dA = R·Bᵀ, dB = Aᵀ·R, dbias = Σ R
    close(data(ga!), refMatmul(data(R), [2, 7, 6], data(b), [2, 5, 6], false, true).v, 'dA');
    close(data(gb!), refMatmul(data(a), [2, 7, 5], data(R), [2, 7, 6], true, false).v, 'dB');
    const rv = data(R);
    const db = new Float64Array(6);
    for (let i = 0; i < rv.length; i++) db[i % 6]! += rv[i]!;
    close(data(gbias!), db, 'dbias');
  });

  it('an int32 matMul falls back to tfjs', () => {
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    const y = tf.matMul(a, a);
    assert.deepEqual(Array.from(data(y)), [7, 10, 15, 22]);
  });
});

describe('binary ops with broadcasting', () => {
  const ops: Array<[string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number]> = [
    ['Add', tf.add, (x, y) => x + y],
    ['Sub', tf.sub, (x, y) => x - y],
    ['Multiply', tf.mul, (x, y) => x * y],
    ['RealDiv', tf.div, (x, y) => x / y],
    ['Maximum', tf.maximum, (x, y) => Math.max(x, y)],
    ['Minimum', tf.minimum, (x, y) => Math.min(x, y)],
    ['SquaredDifference', tf.squaredDifference, (x, y) => (x - y) * (x - y)],
    ['Pow', tf.pow, (x, y) => Math.pow(x, y)],
  ];
  const shapes: Array<[number[], number[]]> = [
    [[3, 4], [3, 4]],
    [[2, 3, 4], [4]],
    [[2, 1, 4], [1, 3, 1]],
    [[5], []],
    [[], [5]],
    [[2, 3, 1, 5], [3, 7, 1]],
    [[0, 3], [1, 3]],
    [[64, 300], [300]],
    [[64, 300], [64, 1]],
    [[20000], [20000]],
    [[4, 2, 64, 64], [64, 64]],
  ];
  for (const [name, op, f] of ops) {
    it(name, () => {
      for (const [as, bs] of shapes) {
        const a = name === 'Pow' ? randT(as, 0.1, 2) : randT(as);
        const b = name === 'RealDiv' ? randT(bs, 0.5, 2) : name === 'Pow' ? randT(bs, -2, 2) : randT(bs);
        const ref = refBinary((x, y) => f(x, y), data(a), as, data(b), bs);
        const y = size(ref.shape) > 0 ? ranNatively(name, () => op(a, b)) : op(a, b);
        sameShape(y, ref.shape, `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`);
        close(data(y), ref.v, `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`, 2e-6, 1e-7);
      }
    });
  }
  it('NaN and ±Inf propagate as in tfjs', () => {
    const a = tf.tensor1d([NaN, 1, Infinity, -Infinity, 0, NaN]);
    const b = tf.tensor1d([1, NaN, 1, 2, -0, NaN]);
    close(data(tf.maximum(a, b)), [NaN, NaN, Infinity, 2, 0, NaN], 'max');
    close(data(tf.minimum(a, b)), [NaN, NaN, 1, -Infinity, 0, NaN], 'min');
    close(data(tf.div(a, b)), [NaN, NaN, Infinity, -Infinity, NaN, NaN], 'div');
    close(data(tf.pow(tf.tensor1d([-2, -2, 0, 4]), tf.tensor1d([2, 3, 0, 0.5]))), [4, -8, 1, 2], 'pow');
  });
  it('int32 inputs fall back to tfjs', () => {
    const y = tf.add(tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32'));
    assert.equal(y.dtype, 'int32');
    assert.deepEqual(Array.from(data(y)), [4, 6]);
  });
});

describe('unary ops', () => {
  const special = [0, -0, 1, -1, 0.5, -0.5, 3, -3, 20, -20, 88, -88, 90, -104, -120, 1e-30, -1e-30, 1e-7, -1e-7, Infinity, -Infinity, NaN];
  const values = new Float32Array([...special, ...randArr(3000, -6, 6), ...randArr(40000, -30, 30)]);
  const ops: Array<[string, (x: Tensor) => Tensor, (v: number) => number, number?]> = [
    ['Exp', tf.exp, Math.exp],
    ['Log', tf.log, Math.log],
    ['Tanh', tf.tanh, Math.tanh],
    ['Sigmoid', tf.sigmoid, (v) => 1 / (1 + Math.exp(-v))],
    ['Relu', tf.relu, (v) => (Number.isNaN(v) ? NaN : Math.max(0, v))],
    ['Relu6', tf.relu6, (v) => Math.min(6, Math.max(0, v))],
    ['Sqrt', tf.sqrt, Math.sqrt],
    ['Rsqrt', tf.rsqrt, (v) => 1 / Math.sqrt(v)],
    ['Square', tf.square, (v) => v * v],
    ['Neg', tf.neg, (v) => -v],
    ['Abs', tf.abs, Math.abs],
    ['Elu', tf.elu, (v) => (v >= 0 ? v : Math.expm1(v)), 1e-6],
    ['LeakyRelu', (x) => tf.leakyRelu(x, 0.1), (v) => (v < 0 ? 0.1 * v : v)],
    ['Reciprocal', tf.reciprocal, (v) => 1 / v],
    ['Step', (x) => tf.step(x, 0.25), (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : 0.25)],
  ];
  for (const [name, op, f, atol] of ops) {
    it(name, () => {
      const x = tf.tensor1d(values);
      const y = ranNatively(name, () => op(x));
      close(data(y), Array.from(values, (v) => Math.fround(f(v))), name, 4e-7, atol ?? 1e-30);
    });
  }
  it('shape is kept, empty tensors work', () => {
    sameShape(tf.exp(randT([2, 3, 5])), [2, 3, 5], 'exp');
    sameShape(tf.tanh(tf.zeros([0, 4])), [0, 4], 'empty tanh');
  });
});

describe('Softmax', () => {
  for (const shape of [[3, 7], [2, 5, 129], [1, 1], [256, 257], [4, 0]]) {
    it(JSON.stringify(shape), () => {
      const x = randT(shape, -8, 8);
      const y = size(shape) > 0 ? ranNatively('Softmax', () => tf.softmax(x)) : tf.softmax(x);
      const xv = data(x);
      const cols = shape[shape.length - 1]!;
      const ref = new Float64Array(xv.length);
      for (let r = 0; r * cols < xv.length; r++) {
        let m = -Infinity;
        for (let j = 0; j < cols; j++) m = Math.max(m, xv[r * cols + j]!);
        let s = 0;
        for (let j = 0; j < cols; j++) s += Math.exp(xv[r * cols + j]! - m);
        for (let j = 0; j < cols; j++) ref[r * cols + j] = Math.exp(xv[r * cols + j]! - m) / s;
      }
      sameShape(y, shape, 'softmax');
      close(data(y), ref, 'softmax', 1e-5, 1e-7);
    });
  }
  it('gradient (dy·y − Σ(dy·y)·y) matches the reference', () => {
    const x = randT([5, 11], -3, 3);
    const R = randT([5, 11]);
    const g = ranNatively('PaperlabSoftmaxGrad', () => tf.grad((t: Tensor) => tf.sum(tf.mul(tf.softmax(t), R)))(x));
    const y = data(tf.softmax(x));
    const rv = data(R);
    const ref = new Float64Array(55);
    for (let r = 0; r < 5; r++) {
      let s = 0;
      for (let j = 0; j < 11; j++) s += rv[r * 11 + j]! * y[r * 11 + j]!;
      for (let j = 0; j < 11; j++) ref[r * 11 + j] = y[r * 11 + j]! * (rv[r * 11 + j]! - s);
    }
    close(data(g), ref, 'softmax grad');
  });
});

describe('reductions', () => {
  const shape = [4, 5, 6, 7];
  const x = randT(shape, -5, 5);
  const xv = data(x);
  function refReduce(axes: number[], init: number, step: (acc: number, v: number) => number, fin: (acc: number, n: number) => number): Float64Array {
    const keep = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const oshape = keep.map((i) => shape[i]!);
    const out = new Float64Array(size(oshape)).fill(init);
    for (let i = 0; i < xv.length; i++) {
      const idx = unravel(i, shape);
      let o = 0;
      for (const k of keep) o = o * shape[k]! + idx[k]!;
      out[o] = step(out[o]!, xv[i]!);
    }
    const n = size(axes.map((a) => shape[a]!));
    return out.map((v) => fin(v, n));
  }
  const axesList = [[0], [3], [1, 2], [0, 3], [0, 2], [1, 3], [0, 1, 2, 3], [2]];
  const kinds: Array<[string, (t: Tensor, ax: number[], keep: boolean) => Tensor, number, (a: number, v: number) => number, (a: number, n: number) => number]> = [
    ['Sum', (t, ax, k) => tf.sum(t, ax, k), 0, (a, v) => a + v, (a) => a],
    ['Mean', (t, ax, k) => tf.mean(t, ax, k), 0, (a, v) => a + v, (a, n) => a / n],
    ['Max', (t, ax, k) => tf.max(t, ax, k), -Infinity, Math.max, (a) => a],
    ['Min', (t, ax, k) => tf.min(t, ax, k), Infinity, Math.min, (a) => a],
  ];
  for (const [name, op, init, step, fin] of kinds) {
    it(name, () => {
      for (const axes of axesList) {
        for (const keepDims of [false, true]) {
          const y = ranNatively(name, () => op(x, axes, keepDims));
          const oshape = keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
          sameShape(y, oshape, `${name} ${JSON.stringify(axes)}`);
          close(data(y), refReduce(axes, init, step, fin), `${name} ${JSON.stringify(axes)}`, 1e-5, 1e-4);
        }
      }
    });
  }
  it('long rows, long columns and NaN', () => {
    const big = randT([3, 70000]);
    const bv = data(big);
    const rows = [0, 1, 2].map((r) => Array.from(bv.slice(r * 70000, (r + 1) * 70000)).reduce((a: number, b: number) => a + b, 0));
    close(data(tf.sum(big, 1)), rows, 'row sums', 1e-5, 1e-3);
    const tall = randT([20000, 3]);
    const tv = data(tall);
    const cols = [0, 1, 2].map((c) => Array.from(tv).filter((_, i) => i % 3 === c).reduce((a: number, b: number) => a + b, 0));
    close(data(tf.sum(tall, 0)), cols, 'column sums', 1e-5, 1e-3);
    close(data(tf.sum(tall)), [cols[0]! + cols[1]! + cols[2]!], 'total', 1e-5, 1e-3);
    const withNan = tf.tensor2d([1, NaN, 3, 4, 5, 6], [2, 3]);
    close(data(tf.max(withNan, 1)), [NaN, 6], 'max NaN');
    close(data(tf.min(withNan, 0)), [1, NaN, 3], 'min NaN');
  });
});

describe('Transpose, Slice, SplitV, Concat', () => {
  function refTranspose(v: Arr, shape: number[], perm: number[]): Float64Array {
    const oshape = perm.map((p) => shape[p]!);
    const out = new Float64Array(v.length);
    const st = strides(shape);
    for (let i = 0; i < out.length; i++) {
      const oi = unravel(i, oshape);
      let f = 0;
      for (let d = 0; d < perm.length; d++) f += oi[d]! * st[perm[d]!]!;
      out[i] = v[f]!;
    }
    return out;
  }
  it('transposes of every kind', () => {
    const cases: Array<[number[], number[]]> = [
      [[2, 3, 4], [0, 2, 1]], [[2, 3, 4], [1, 0, 2]], [[2, 3, 4], [1, 2, 0]], [[2, 3, 4], [2, 0, 1]], [[2, 3, 4], [2, 1, 0]],
      [[2, 3, 4, 5], [0, 2, 1, 3]], [[2, 3, 4, 5], [3, 1, 2, 0]], [[2, 3, 4, 5], [1, 0, 3, 2]],
      [[32, 64, 33], [1, 0, 2]], [[32, 64, 33], [2, 1, 0]], [[16, 128, 4, 32], [0, 2, 1, 3]], [[1, 5, 1, 7], [3, 2, 1, 0]],
      [[37, 41], [1, 0]], [[0, 3], [1, 0]],
    ];
    for (const [shape, perm] of cases) {
      const x = randT(shape);
      const y = size(shape) > 0 ? ranNatively('Transpose', () => tf.transpose(x, perm)) : tf.transpose(x, perm);
      sameShape(y, perm.map((p) => shape[p]!), `transpose ${shape} ${perm}`);
      assert.deepEqual(Array.from(data(y)), Array.from(refTranspose(data(x), shape, perm)), `transpose ${shape} ${perm}`);
    }
    const xi = tf.tensor3d(Array.from({ length: 24 }, (_, i) => i * 1000003), [2, 3, 4], 'int32');
    const yi = tf.transpose(xi, [2, 0, 1]);
    assert.equal(yi.dtype, 'int32');
    assert.deepEqual(Array.from(data(yi)), Array.from(refTranspose(data(xi), [2, 3, 4], [2, 0, 1])));
  });
  it('slices (strided natively, contiguous as tfjs views)', () => {
    const x = randT([5, 6, 7]);
    const xv = data(x);
    const cases: Array<[number[], number[]]> = [[[1, 2, 3], [3, 3, 3]], [[0, 0, 1], [5, 6, 5]], [[4, 5, 6], [1, 1, 1]], [[1, 0, 0], [2, 6, 7]], [[0, 2, 0], [5, 1, 7]], [[2, 2, 2], [0, 3, 3]]];
    for (const [begin, sz] of cases) {
      const y = tf.slice(x, begin, sz);
      const ref = new Float32Array(size(sz));
      for (let i = 0; i < ref.length; i++) {
        const idx = unravel(i, sz);
        ref[i] = xv[((idx[0]! + begin[0]!) * 6 + idx[1]! + begin[1]!) * 7 + idx[2]! + begin[2]!]!;
      }
      sameShape(y, sz, 'slice');
      assert.deepEqual(Array.from(data(y)), Array.from(ref), `slice ${begin} ${sz}`);
    }
    ranNatively('Slice', () => tf.slice(x, [0, 1, 1], [2, 2, 2]));
    const xi = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
    assert.deepEqual(Array.from(data(tf.slice(xi, [0, 1], [2, 2]))), [2, 3, 5, 6]);
  });
  it('splits on every axis', () => {
    const shape = [4, 10, 3];
    const x = randT(shape);
    const xv = data(x);
    for (const [axis, sizes] of [[1, [2, 5, 3]], [2, [1, 1, 1]], [0, [1, 3]], [2, [3, 0]], [-1, [2, 1]]] as Array<[number, number[]]>) {
      const parts = tf.split(x, sizes, axis);
      const ax = axis < 0 ? axis + 3 : axis;
      let start = 0;
      parts.forEach((p, k) => {
        const sz = shape.slice();
        sz[ax] = sizes[k]!;
        sameShape(p, sz, 'split');
        const ref = new Float32Array(size(sz));
        for (let i = 0; i < ref.length; i++) {
          const idx = unravel(i, sz);
          idx[ax]! += start;
          ref[i] = xv[(idx[0]! * 10 + idx[1]!) * 3 + idx[2]!]!;
        }
        assert.deepEqual(Array.from(data(p)), Array.from(ref), `split axis ${axis} piece ${k}`);
        start += sizes[k]!;
      });
    }
    ranNatively('SplitV', () => tf.split(x, 2, 2 - 1));
  });
  it('concatenates on every axis, with empty pieces and int32', () => {
    const a = randT([2, 3, 4]);
    const b = randT([2, 5, 4]);
    const c = randT([2, 0, 4]);
    const y = ranNatively('Concat', () => tf.concat([a, c, b], 1));
    sameShape(y, [2, 8, 4], 'concat');
    const av = data(a);
    const bv = data(b);
    const ref: number[] = [];
    for (let n = 0; n < 2; n++) ref.push(...av.slice(n * 12, n * 12 + 12), ...bv.slice(n * 20, n * 20 + 20));
    assert.deepEqual(Array.from(data(y)), ref);
    const z = tf.concat([a, a], 0);
    assert.deepEqual(Array.from(data(z)), [...av, ...av]);
    const w = tf.concat([a, randT([2, 3, 1])], 2);
    sameShape(w, [2, 3, 5], 'concat last');
    const ints = tf.concat([tf.tensor2d([1, 2], [1, 2], 'int32'), tf.tensor2d([3, 4], [1, 2], 'int32')], 1);
    assert.equal(ints.dtype, 'int32');
    assert.deepEqual(Array.from(data(ints)), [1, 2, 3, 4]);
  });
});

describe('GatherV2 and UnsortedSegmentSum', () => {
  it('gathers along any axis with any index shape', () => {
    const x = randT([10, 4, 3]);
    const xv = data(x);
    const idx = tf.tensor2d([3, 0, 9, 9, 1, 2], [2, 3], 'int32');
    const y0 = ranNatively('GatherV2', () => tf.gather(x, idx, 0));
    sameShape(y0, [2, 3, 4, 3], 'gather axis 0');
    const ref0 = [3, 0, 9, 9, 1, 2].flatMap((i) => Array.from(xv.slice(i * 12, i * 12 + 12)));
    assert.deepEqual(Array.from(data(y0)), ref0);
    const y1 = tf.gather(x, tf.tensor1d([2, 2, 0], 'int32'), 1);
    sameShape(y1, [10, 3, 3], 'gather axis 1');
    const ref1: number[] = [];
    for (let a = 0; a < 10; a++) for (const j of [2, 2, 0]) ref1.push(...xv.slice(a * 12 + j * 3, a * 12 + j * 3 + 3));
    assert.deepEqual(Array.from(data(y1)), ref1);
    const ints = tf.gather(tf.tensor1d([5, 6, 7], 'int32'), tf.tensor1d([2, 0], 'int32'));
    assert.deepEqual(Array.from(data(ints)), [7, 5]);
  });
  it('an out-of-range index raises tfjs error instead of reading memory', () => {
    const x = randT([4, 2]);
    assert.throws(() => tf.gather(x, tf.tensor1d([1, 4], 'int32')).dataSync(), /index/);
    assert.throws(() => tf.gather(x, tf.tensor1d([-1], 'int32')).dataSync(), /index/);
  });
  it('scatter-adds rows into segments, dropping ids out of range', () => {
    const x = randT([9, 5]);
    const ids = [0, 3, 1, 3, -1, 0, 7, 3, 2];
    const y = ranNatively('UnsortedSegmentSum', () => tf.unsortedSegmentSum(x, tf.tensor1d(ids, 'int32'), 4));
    sameShape(y, [4, 5], 'segment sum');
    const xv = data(x);
    const ref = new Float64Array(20);
    ids.forEach((id, r) => {
      if (id >= 0 && id < 4) for (let c = 0; c < 5; c++) ref[id * 5 + c]! += xv[r * 5 + c]!;
    });
    close(data(y), ref, 'segment sum');
  });
  it('scatter-adds with rank-2 segment ids', { skip: skipFallback }, () => {
    const x3 = randT([3, 2, 70]);
    const y3 = tf.unsortedSegmentSum(x3, tf.tensor2d([1, 0, 1, 1, 0, 2], [3, 2], 'int32') as unknown as tf.Tensor1D, 3);
    sameShape(y3, [3, 70], 'segment sum rank-2 ids');
    const x3v = data(x3);
    const ref3 = new Float64Array(210);
    [1, 0, 1, 1, 0, 2].forEach((id, r) => {
      for (let c = 0; c < 70; c++) ref3[id * 70 + c]! += x3v[r * 70 + c]!;
    });
    close(data(y3), ref3, 'segment sum rank-2 ids');
  });
  it('the embedding gradient (gather → scatter-add) matches the reference', () => {
    const E = randT([96, 32]);
    const idx = tf.tensor2d(Array.from({ length: 4 * 33 }, () => rng.int(96)), [4, 33], 'int32');
    const R = randT([4, 33, 32]);
    const g = tf.grad((e: Tensor) => tf.sum(tf.mul(tf.gather(e, idx), R)))(E);
    const iv = data(idx);
    const rv = data(R);
    const ref = new Float64Array(96 * 32);
    for (let t = 0; t < iv.length; t++) for (let c = 0; c < 32; c++) ref[iv[t]! * 32 + c]! += rv[t * 32 + c]!;
    close(data(g), ref, 'embedding grad');
  });
});

describe('Conv2D and its gradients', () => {
  const cases: Array<{ xs: number[]; ws: number[]; strides: [number, number]; dil: [number, number]; pad: 'same' | 'valid' | [[number, number], [number, number]] }> = [
    { xs: [2, 9, 9, 3], ws: [3, 3, 3, 4], strides: [1, 1], dil: [1, 1], pad: 'same' },
    { xs: [2, 9, 9, 3], ws: [3, 3, 3, 4], strides: [2, 2], dil: [1, 1], pad: 'valid' },
    { xs: [2, 9, 8, 3], ws: [3, 3, 3, 4], strides: [2, 2], dil: [1, 1], pad: 'same' },
    { xs: [1, 11, 10, 2], ws: [3, 2, 2, 5], strides: [1, 1], dil: [2, 2], pad: 'same' },
    { xs: [2, 7, 6, 3], ws: [2, 3, 3, 4], strides: [1, 2], dil: [1, 1], pad: [[1, 2], [0, 1]] },
    { xs: [3, 5, 5, 8], ws: [1, 1, 8, 6], strides: [1, 1], dil: [1, 1], pad: 'valid' },
    { xs: [8, 28, 28, 1], ws: [5, 5, 1, 8], strides: [1, 1], dil: [1, 1], pad: 'valid' },
    { xs: [1, 4, 4, 1], ws: [4, 4, 1, 1], strides: [1, 1], dil: [1, 1], pad: 'valid' },
  ];
  for (const cs of cases) {
    const name = `x${JSON.stringify(cs.xs)} w${JSON.stringify(cs.ws)} s${cs.strides} d${cs.dil} ${JSON.stringify(cs.pad)}`;
    it(name, () => {
      const x = randT(cs.xs);
      const w = randT(cs.ws);
      const pad = Array.isArray(cs.pad) ? [[0, 0], cs.pad[0], cs.pad[1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]] : cs.pad;
      const c = convCfg(cs.xs, cs.ws, cs.strides, cs.dil, cs.pad);
      const y = ranNatively('Conv2D', () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, cs.strides, pad, 'NHWC', cs.dil));
      sameShape(y, [c.N, c.OH, c.OW, c.OC], 'conv');
      close(data(y), refConv(c, data(x), data(w)), 'conv', 1e-5, 1e-5);
      if (cs.dil[0] === 1 && cs.dil[1] === 1) {
        const R = randT([c.N, c.OH, c.OW, c.OC]);
        const [gx, gw] = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, cs.strides, pad), R)))([x, w]);
        const ref = refConvGrads(c, data(x), data(w), data(R));
        close(data(gx!), ref.dx, 'conv dx', 1e-5, 1e-5);
        close(data(gw!), ref.dw, 'conv dw', 1e-5, 1e-4);
      }
    });
  }
  it('fused conv2d with bias and relu; NCHW falls back', () => {
    const x = randT([2, 6, 6, 3]);
    const w = randT([3, 3, 3, 5]);
    const bias = randT([5]);
    const y = ranNatively('FusedConv2D', () => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias, activation: 'relu' }));
    const c = convCfg([2, 6, 6, 3], [3, 3, 3, 5], [1, 1], [1, 1], 'same');
    const bv = data(bias);
    close(data(y), Array.from(refConv(c, data(x), data(w)), (v, i) => Math.max(0, v + bv[i % 5]!)), 'fused conv');
  });
});

describe('pooling and its gradients', () => {
  function refPool(xv: Arr, xs: number[], f: number, s: number, pad: 'same' | 'valid', isMax: boolean): { y: Float64Array; arg: Int32Array; shape: number[] } {
    const c = convCfg(xs, [f, f, xs[3]!, 1], [s, s], [1, 1], pad);
    const y = new Float64Array(c.N * c.OH * c.OW * c.C);
    const arg = new Int32Array(y.length).fill(-1);
    for (let n = 0; n < c.N; n++)
      for (let oh = 0; oh < c.OH; oh++)
        for (let ow = 0; ow < c.OW; ow++)
          for (let ch = 0; ch < c.C; ch++) {
            let best = -Infinity;
            let sum = 0;
            let cnt = 0;
            let at = -1;
            for (let fh = 0; fh < f; fh++)
              for (let fw = 0; fw < f; fw++) {
                const ih = oh * s - c.pt + fh;
                const iw = ow * s - c.pl + fw;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                const i = ((n * c.H + ih) * c.W + iw) * c.C + ch;
                if (xv[i]! > best) (best = xv[i]!), (at = i);
                sum += xv[i]!;
                cnt++;
              }
            const o = ((n * c.OH + oh) * c.OW + ow) * c.C + ch;
            y[o] = isMax ? best : sum / cnt;
            arg[o] = at;
          }
    return { y, arg, shape: [c.N, c.OH, c.OW, c.C] };
  }
  const cases: Array<[number[], number, number, 'same' | 'valid']> = [
    [[2, 9, 9, 3], 3, 2, 'same'],
    [[2, 8, 8, 4], 2, 2, 'valid'],
    [[1, 7, 5, 2], 3, 1, 'same'],
    [[4, 28, 28, 8], 2, 2, 'valid'],
  ];
  for (const [xs, f, s, pad] of cases) {
    it(`max and avg pool ${JSON.stringify(xs)} ${f}x${f}/${s} ${pad}`, () => {
      // quantised values make ties common (as after a ReLU): the first maximum takes the gradient
      const x = tf.tensor(Array.from(randArr(size(xs)), (v) => Math.max(0, Math.round(v * 3))), xs, 'float32');
      const xv = data(x);
      const mx = refPool(xv, xs, f, s, pad, true);
      const av = refPool(xv, xs, f, s, pad, false);
      const ym = ranNatively('MaxPool', () => tf.maxPool(x as tf.Tensor4D, f, s, pad));
      const ya = ranNatively('AvgPool', () => tf.avgPool(x as tf.Tensor4D, f, s, pad));
      sameShape(ym, mx.shape, 'maxPool');
      close(data(ym), mx.y, 'maxPool');
      close(data(ya), av.y, 'avgPool');
      const R = randT(mx.shape);
      const rv = data(R);
      const gm = ranNatively('MaxPoolGrad', () => tf.grad((t: Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, f, s, pad), R)))(x));
      const refGm = new Float64Array(xv.length);
      mx.arg.forEach((at, o) => {
        if (at >= 0) refGm[at]! += rv[o]!;
      });
      close(data(gm), refGm, 'maxPool grad');
      // tfjs's avgPool gradient spreads dy/(f·f) over the window (exact when no window is clipped)
      const ga = ranNatively('AvgPoolGrad', () => tf.grad((t: Tensor) => tf.sum(tf.mul(tf.avgPool(t as tf.Tensor4D, f, s, pad), R)))(x));
      const c = convCfg(xs, [f, f, xs[3]!, 1], [s, s], [1, 1], pad);
      const refGa = new Float64Array(xv.length);
      for (let n = 0; n < c.N; n++)
        for (let oh = 0; oh < c.OH; oh++)
          for (let ow = 0; ow < c.OW; ow++)
            for (let fh = 0; fh < f; fh++)
              for (let fw = 0; fw < f; fw++) {
                const ih = oh * s - c.pt + fh;
                const iw = ow * s - c.pl + fw;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                for (let ch = 0; ch < c.C; ch++) refGa[((n * c.H + ih) * c.W + iw) * c.C + ch]! += rv[((n * c.OH + oh) * c.OW + ow) * c.C + ch]! / (f * f);
              }
      close(data(ga), refGa, 'avgPool grad');
    });
  }
});

describe('Pack, Unpack, PadV2, OneHot', () => {
  it('stack and unstack on every axis', () => {
    const ts = [randT([3, 4, 5]), randT([3, 4, 5]), randT([3, 4, 5])];
    const vs = ts.map(data);
    for (const axis of [0, 1, 2, 3, -1]) {
      const y = axis === 1 ? ranNatively('Pack', () => tf.stack(ts, axis)) : tf.stack(ts, axis);
      const ax = axis < 0 ? axis + 4 : axis;
      const shape = [3, 4, 5];
      const oshape = [...shape.slice(0, ax), 3, ...shape.slice(ax)];
      sameShape(y, oshape, `stack axis ${axis}`);
      const ref = new Float32Array(size(oshape));
      for (let i = 0; i < ref.length; i++) {
        const idx = unravel(i, oshape);
        const k = idx[ax]!;
        const src = idx.filter((_, d) => d !== ax);
        ref[i] = vs[k]![(src[0]! * 4 + src[1]!) * 5 + src[2]!]!;
      }
      assert.deepEqual(Array.from(data(y)), Array.from(ref), `stack axis ${axis}`);
      const back = axis === 1 ? ranNatively('Unpack', () => tf.unstack(y, axis)) : tf.unstack(y, axis);
      assert.equal(back.length, 3);
      back.forEach((b, k) => assert.deepEqual(Array.from(data(b)), Array.from(vs[k]!), `unstack axis ${axis} piece ${k}`));
    }
    const ints = tf.stack([tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3, 4], 'int32')], 1);
    assert.equal(ints.dtype, 'int32');
    assert.deepEqual(Array.from(data(ints)), [1, 3, 2, 4]);
  });
  it('pads with a constant', () => {
    const x = randT([3, 4, 2]);
    const xv = data(x);
    const pads: Array<[number, number]> = [[1, 0], [2, 3], [0, 1]];
    const y = ranNatively('PadV2', () => tf.pad(x, pads, 0.5));
    const oshape = [4, 9, 3];
    sameShape(y, oshape, 'pad');
    const ref = new Float32Array(size(oshape)).fill(0.5);
    for (let i = 0; i < xv.length; i++) {
      const [a, b, c] = unravel(i, [3, 4, 2]) as [number, number, number];
      ref[((a + 1) * 9 + b + 2) * 3 + c] = xv[i]!;
    }
    assert.deepEqual(Array.from(data(y)), Array.from(ref));
    assert.deepEqual(Array.from(data(tf.pad(tf.tensor1d([7, 8], 'int32'), [[1, 2]]))), [0, 7, 8, 0, 0]);
    assert.deepEqual(Array.from(data(tf.pad(tf.tensor1d([7, 8], 'int32'), [[1, 0]], 5))), [5, 7, 8]);
    // the gradient of a slice is a pad
    const g = tf.grad((t: Tensor) => tf.sum(tf.slice(t, [1, 1, 0], [2, 2, 2])))(x);
    assert.deepEqual(Array.from(data(g)), Array.from({ length: 24 }, (_, i) => {
      const [a, b] = unravel(i, [3, 4, 2]) as [number, number];
      return a >= 1 && a < 3 && b >= 1 && b < 3 ? 1 : 0;
    }));
  });
  it('one-hot encodes, rows of out-of-range ids are all off', () => {
    const y = ranNatively('OneHot', () => tf.oneHot(tf.tensor2d([0, 3, -1, 2, 9, 1], [2, 3], 'int32'), 4, 2, -1, 'float32'));
    sameShape(y, [2, 3, 4], 'oneHot');
    const ref = [0, 3, -1, 2, 9, 1].flatMap((id) => [0, 1, 2, 3].map((j) => (j === id ? 2 : -1)));
    assert.deepEqual(Array.from(data(y)), ref);
    const yi = tf.oneHot(tf.tensor1d([1, 0], 'int32'), 2);
    assert.equal(yi.dtype, 'int32');
    assert.deepEqual(Array.from(data(yi)), [0, 1, 1, 0]);
  });
});

describe('AddN', () => {
  it('sums same-shaped tensors', () => {
    const ts = [randT([3, 50]), randT([3, 50]), randT([3, 50])];
    const y = ranNatively('AddN', () => tf.addN(ts));
    const vs = ts.map(data);
    close(data(y), Array.from(vs[0]!, (v, i) => v + vs[1]![i]! + vs[2]![i]!), 'addN');
  });
});

describe('fallback counters', () => {
  it('uncovered cases go to tfjs and are counted', { skip: NATIVE ? false : 'native kernels not active' }, () => {
    resetNativeKernelStats();
    tf.add(tf.tensor1d([1], 'int32'), tf.tensor1d([2], 'int32'));
    assert.ok((nativeKernelStats.get('Add')?.fallback ?? 0) >= 1);
  });
});
