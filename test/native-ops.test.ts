/**
 * paperlab's fused ops (layerNorm, gelu, linear): forward against double-precision references,
 * gradients against central finite differences of those references, and the native path against
 * the plain tf composition (the fallback) in the same process, including gradients that reach
 * tf.Variables through tf.variableGrads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../src/core/engine.js';
import { tf, type Tensor } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { adamUpdate, causalAttention, gelu, layerNorm, linear } from '../src/core/ops.js';
import { AdamW } from '../src/core/optim.js';
import { loadAddon } from '../src/core/native.js';
import { registerNativeKernels, unregisterNativeKernels, nativeKernelStats } from '../src/core/kernels/index.js';

process.env.PAPERLAB_NATIVE_STRICT = '1';
const engine = await initEngine({ backend: 'cpu', seed: 0 });
const NATIVE = engine.native.active;
const rng = new Rng(77);

function close(got: ArrayLike<number>, ref: ArrayLike<number>, what: string, rtol = 1e-5, atol = 1e-5): void {
  assert.equal(got.length, ref.length, `${what}: length`);
  for (let i = 0; i < ref.length; i++) {
    assert.ok(Math.abs(got[i]! - ref[i]!) <= atol + rtol * Math.abs(ref[i]!), `${what}[${i}]: got ${got[i]}, want ${ref[i]}`);
  }
}
const vals = (t: Tensor): Float32Array => t.dataSync() as Float32Array;
const randT = (shape: number[], lo = -1, hi = 1): Tensor => tf.tensor(rng.uniformArray(shape.reduce((a, b) => a * b, 1), lo, hi), shape);

/** Runs f with tfjs's own kernels (plain composition path), then restores the native kernels. */
function plain<T>(f: () => T): T {
  if (!NATIVE) return f();
  unregisterNativeKernels();
  try {
    return f();
  } finally {
    registerNativeKernels(loadAddon().addon);
  }
}

/** Central differences of a double-precision scalar function at p (all coordinates). */
function numGrad(f: (p: Float64Array) => number, p: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    p[i] = v + h;
    const up = f(p);
    p[i] = v - h;
    const dn = f(p);
    p[i] = v;
    g[i] = (up - dn) / (2 * h);
  }
  return g;
}

// double-precision references
function refLayerNorm(x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, C: number, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r * C < x.length; r++) {
    let m = 0;
    for (let j = 0; j < C; j++) m += x[r * C + j]!;
    m /= C;
    let v = 0;
    for (let j = 0; j < C; j++) v += (x[r * C + j]! - m) ** 2;
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let j = 0; j < C; j++) y[r * C + j] = (x[r * C + j]! - m) * s * g[j]! + b[j]!;
  }
  return y;
}
const refGelu = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

describe('layerNorm', () => {
  for (const shape of [[2, 7, 16], [5, 129], [3, 1], [1, 1, 4], [64, 128]]) {
    it(`forward and gradients, shape ${JSON.stringify(shape)}`, () => {
      const C = shape[shape.length - 1]!;
      const x = randT(shape, -2, 3);
      const g = randT([C], 0.5, 1.5);
      const b = randT([C]);
      const R = randT(shape);
      const before = nativeKernelStats.get('PaperlabLayerNorm')?.native ?? 0;
      const y = layerNorm(x, g, b);
      if (NATIVE) assert.ok((nativeKernelStats.get('PaperlabLayerNorm')?.native ?? 0) > before, 'fused kernel ran');
      assert.deepEqual(y.shape, shape);
      close(vals(y), refLayerNorm(vals(x), vals(g), vals(b), C, 1e-5), 'layerNorm', 1e-5, 2e-5);
      const [gx, gg, gb] = tf.grads((a: Tensor, c: Tensor, d: Tensor) => tf.sum(tf.mul(layerNorm(a, c, d), R)))([x, g, b]);
      assert.deepEqual(gg!.shape, [C]);
      const n = x.size;
      if (n > 512) {
        // big case: compare with the plain tf composition instead of finite differences
        const [px, pg, pb] = plain(() => tf.grads((a: Tensor, c: Tensor, d: Tensor) => tf.sum(tf.mul(layerNorm(a, c, d), R)))([x, g, b]));
        close(vals(gx!), vals(px!), 'dx vs plain', 1e-4, 1e-4);
        close(vals(gg!), vals(pg!), 'dgamma vs plain', 1e-4, 1e-3);
        close(vals(gb!), vals(pb!), 'dbeta vs plain', 1e-4, 1e-3);
        return;
      }
      const rv = Float64Array.from(vals(R));
      const p = Float64Array.from([...vals(x), ...vals(g), ...vals(b)]);
      const loss = (q: Float64Array): number => {
        const yy = refLayerNorm(q.subarray(0, n), q.subarray(n, n + C), q.subarray(n + C), C, 1e-5);
        let s = 0;
        for (let i = 0; i < n; i++) s += yy[i]! * rv[i]!;
        return s;
      };
      const ng = numGrad(loss, p);
      close(vals(gx!), ng.subarray(0, n), 'dx', 2e-3, 2e-4);
      close(vals(gg!), ng.subarray(n, n + C), 'dgamma', 2e-3, 2e-4);
      close(vals(gb!), ng.subarray(n + C), 'dbeta', 2e-3, 2e-4);
    });
  }
  it('gradients reach tf.Variables (gamma, beta passed as customGrad inputs)', () => {
    const x = randT([4, 6, 8]);
    const g = tf.variable(randT([8], 0.5, 1.5), true, 'ln_test_g');
    const b = tf.variable(randT([8]), true, 'ln_test_b');
    const R = randT([4, 6, 8]);
    const f = (): tf.Scalar => tf.sum(tf.mul(layerNorm(x, g, b), R));
    const got = tf.variableGrads(f, [g, b]);
    const ref = plain(() => tf.variableGrads(f, [g, b]));
    close(vals(got.grads[g.name]!), vals(ref.grads[g.name]!), 'variable dgamma', 1e-4, 1e-4);
    close(vals(got.grads[b.name]!), vals(ref.grads[b.name]!), 'variable dbeta', 1e-4, 1e-4);
    g.dispose();
    b.dispose();
  });
  it('leaks no tensors', () => {
    const x = randT([3, 5]);
    const g = randT([5]);
    const b = randT([5]);
    const n0 = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads((a: Tensor, c: Tensor, d: Tensor) => tf.sum(layerNorm(a, c, d)))([x, g, b]);
    });
    layerNorm(x, g, b).dispose();
    assert.equal(tf.memory().numTensors, n0);
  });
  it('an int32 or odd-shaped gamma uses the plain composition', () => {
    const x = randT([2, 3, 4]);
    const y = layerNorm(x, tf.ones([1, 4]), tf.zeros([4]));
    close(vals(y), refLayerNorm(vals(x), [1, 1, 1, 1], [0, 0, 0, 0], 4, 1e-5), 'rank-2 gamma', 1e-5, 2e-5);
  });
});

describe('gelu', () => {
  it('forward, including large |x|', () => {
    const v = Float32Array.from([...rng.uniformArray(5000, -6, 6), 0, -0, 10, -10, 20, -20, 50, -50]);
    const y = gelu(tf.tensor1d(v));
    close(vals(y), Array.from(v, refGelu), 'gelu', 1e-5, 1e-6);
  });
  it('gradient against finite differences and the plain composition', () => {
    const x = randT([3, 40], -4, 4);
    const R = randT([3, 40]);
    const gx = tf.grad((a: Tensor) => tf.sum(tf.mul(gelu(a), R)))(x);
    const rv = vals(R);
    const ng = numGrad((q) => q.reduce((s, v, i) => s + refGelu(v) * rv[i]!, 0), Float64Array.from(vals(x)));
    close(vals(gx), ng, 'gelu grad', 1e-4, 1e-5);
    const px = plain(() => tf.grad((a: Tensor) => tf.sum(tf.mul(gelu(a), R)))(x));
    close(vals(gx), vals(px), 'gelu grad vs plain', 1e-4, 1e-5);
  });
});

describe('linear and a pre-LN transformer MLP block', () => {
  it('linear with and without bias, forward and gradients', () => {
    const x = randT([2, 5, 6]);
    const w = randT([6, 3]);
    const b = randT([3]);
    const R = randT([2, 5, 3]);
    for (const bias of [b, undefined]) {
      const y = linear(x, w, bias);
      assert.deepEqual(y.shape, [2, 5, 3]);
      const xv = vals(x);
      const wv = vals(w);
      const ref = new Float64Array(30);
      for (let r = 0; r < 10; r++)
        for (let j = 0; j < 3; j++) {
          let s = bias ? vals(b)[j]! : 0;
          for (let k = 0; k < 6; k++) s += xv[r * 6 + k]! * wv[k * 3 + j]!;
          ref[r * 3 + j] = s;
        }
      close(vals(y), ref, 'linear');
    }
    const [gx, gw, gb] = tf.grads((a: Tensor, c: Tensor, d: Tensor) => tf.sum(tf.mul(linear(a, c, d), R)))([x, w, b]);
    const [px, pw, pb] = plain(() => tf.grads((a: Tensor, c: Tensor, d: Tensor) => tf.sum(tf.mul(linear(a, c, d), R)))([x, w, b]));
    close(vals(gx!), vals(px!), 'dx');
    close(vals(gw!), vals(pw!), 'dw');
    close(vals(gb!), vals(pb!), 'db');
  });
  it('native and plain paths agree on every variable gradient', () => {
    const C = 32;
    const vars = {
      g: tf.variable(randT([C], 0.8, 1.2), true, 'blk_g'),
      b: tf.variable(randT([C], -0.1, 0.1), true, 'blk_b'),
      w1: tf.variable(randT([C, 4 * C], -0.2, 0.2), true, 'blk_w1'),
      b1: tf.variable(randT([4 * C], -0.1, 0.1), true, 'blk_b1'),
      w2: tf.variable(randT([4 * C, C], -0.2, 0.2), true, 'blk_w2'),
      b2: tf.variable(randT([C], -0.1, 0.1), true, 'blk_b2'),
    };
    const x = randT([4, 9, C]);
    const target = randT([4, 9, C]);
    const loss = (): tf.Scalar =>
      tf.tidy(() => {
        const h = linear(gelu(linear(layerNorm(x, vars.g, vars.b), vars.w1, vars.b1)), vars.w2, vars.b2);
        return tf.mean(tf.square(tf.sub(tf.add(x, h), target))) as tf.Scalar;
      });
    const list = Object.values(vars);
    const got = tf.variableGrads(loss, list);
    const ref = plain(() => tf.variableGrads(loss, list));
    close([got.value.dataSync()[0]!], [ref.value.dataSync()[0]!], 'loss', 1e-5, 1e-6);
    for (const v of list) close(vals(got.grads[v.name]!), vals(ref.grads[v.name]!), `grad ${v.name}`, 1e-3, 1e-5);
    list.forEach((v) => v.dispose());
  });
});

describe('adamUpdate', () => {
  it('matches a double-precision reference and AdamW.apply over several steps', () => {
    const n = 40000;
    const lr = 0.01;
    const wd = 0.1;
    const [b1, b2, eps] = [0.9, 0.95, 1e-8];
    const p0 = rng.uniformArray(n, -1, 1);
    const grads = [0, 1, 2].map(() => rng.uniformArray(n, -1, 1));
    // reference in doubles
    const P = Float64Array.from(p0);
    const Mr = new Float64Array(n);
    const Vr = new Float64Array(n);
    // fused op, step by step
    let p: Tensor = tf.tensor1d(p0);
    let m: Tensor = tf.zeros([n]);
    let v: Tensor = tf.zeros([n]);
    // AdamW from src/core/optim.ts on a variable (rank-1: give it decay explicitly)
    const variable = tf.variable(tf.tensor1d(p0), true, 'adam_ref');
    const opt = new AdamW({ lr, beta1: b1, beta2: b2, eps, weightDecay: wd, decay: () => true });
    grads.forEach((gv, t) => {
      const step = t + 1;
      const bc1 = 1 - b1 ** step;
      const bc2 = 1 - b2 ** step;
      for (let i = 0; i < n; i++) {
        Mr[i] = b1 * Mr[i]! + (1 - b1) * gv[i]!;
        Vr[i] = b2 * Vr[i]! + (1 - b2) * gv[i]! ** 2;
        P[i] = P[i]! - (Mr[i]! / (Math.sqrt(Vr[i]! / bc2) + eps)) * (lr / bc1) - P[i]! * lr * wd;
      }
      const g = tf.tensor1d(gv);
      const r = adamUpdate(p, m, v, g, { beta1: b1, beta2: b2, eps, stepSize: lr / bc1, bc2, decay: lr * wd });
      tf.dispose([p, m, v]);
      [p, m, v] = [r.p, r.m, r.v];
      opt.apply({ w: g }, { w: variable });
      g.dispose();
    });
    close(vals(p), P, 'adamUpdate vs reference', 1e-5, 1e-6);
    close(vals(m), Mr, 'adam m', 1e-5, 1e-7);
    close(vals(v), Vr, 'adam v', 1e-5, 1e-9);
    close(vals(p), vals(variable), 'adamUpdate vs AdamW.apply', 1e-5, 1e-6);
    const plainR = plain(() => adamUpdate(tf.tensor1d(p0), tf.zeros([n]), tf.zeros([n]), tf.tensor1d(grads[0]!), { beta1: b1, beta2: b2, eps, stepSize: lr / (1 - b1), bc2: 1 - b2, decay: 0 }));
    const fusedR = adamUpdate(tf.tensor1d(p0), tf.zeros([n]), tf.zeros([n]), tf.tensor1d(grads[0]!), { beta1: b1, beta2: b2, eps, stepSize: lr / (1 - b1), bc2: 1 - b2, decay: 0 });
    close(vals(fusedR.p), vals(plainR.p), 'fused vs plain, no decay', 1e-6, 1e-7);
    opt.dispose();
    variable.dispose();
  });
});

describe('causalAttention', () => {
  function refAttention(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, N: number, T: number, D: number): Float64Array {
    const y = new Float64Array(N * T * D);
    const sc = 1 / Math.sqrt(D);
    for (let n = 0; n < N; n++)
      for (let i = 0; i < T; i++) {
        const s = new Float64Array(i + 1);
        let m = -Infinity;
        for (let j = 0; j <= i; j++) {
          let d = 0;
          for (let c = 0; c < D; c++) d += q[(n * T + i) * D + c]! * k[(n * T + j) * D + c]!;
          s[j] = d * sc;
          m = Math.max(m, s[j]!);
        }
        let z = 0;
        for (let j = 0; j <= i; j++) z += (s[j] = Math.exp(s[j]! - m));
        for (let j = 0; j <= i; j++) for (let c = 0; c < D; c++) y[(n * T + i) * D + c]! += (s[j]! / z) * v[(n * T + j) * D + c]!;
      }
    return y;
  }
  it('forward and gradients on odd shapes (finite differences)', () => {
    const [N, T, D] = [2, 5, 3];
    const q = randT([N, T, D], -2, 2);
    const k = randT([N, T, D], -2, 2);
    const v = randT([N, T, D]);
    const R = randT([N, T, D]);
    close(vals(causalAttention(q, k, v)), refAttention(vals(q), vals(k), vals(v), N, T, D), 'attention', 1e-5, 1e-6);
    const [gq, gk, gv] = tf.grads((a: Tensor, b: Tensor, c: Tensor) => tf.sum(tf.mul(causalAttention(a, b, c), R)))([q, k, v]);
    const n = N * T * D;
    const rv = vals(R);
    const p = Float64Array.from([...vals(q), ...vals(k), ...vals(v)]);
    const ng = numGrad((x) => {
      const y = refAttention(x.subarray(0, n), x.subarray(n, 2 * n), x.subarray(2 * n), N, T, D);
      return y.reduce((s, yi, i) => s + yi * rv[i]!, 0);
    }, p);
    close(vals(gq!), ng.subarray(0, n), 'dq', 2e-3, 2e-4);
    close(vals(gk!), ng.subarray(n, 2 * n), 'dk', 2e-3, 2e-4);
    close(vals(gv!), ng.subarray(2 * n), 'dv', 2e-3, 2e-4);
  });
  it('GPT-sized heads agree with the plain composition, forward and backward', () => {
    const [N, T, D] = [8, 128, 32];
    const q = randT([N, T, D]);
    const k = randT([N, T, D]);
    const v = randT([N, T, D]);
    const R = randT([N, T, D]);
    const f = (a: Tensor, b: Tensor, c: Tensor): Tensor => tf.sum(tf.mul(causalAttention(a, b, c), R));
    const before = nativeKernelStats.get('PaperlabCausalAttention')?.native ?? 0;
    const y = causalAttention(q, k, v);
    if (NATIVE) assert.ok((nativeKernelStats.get('PaperlabCausalAttention')?.native ?? 0) > before, 'fused kernel ran');
    const yp = plain(() => causalAttention(q, k, v));
    close(vals(y), vals(yp), 'attention vs plain', 1e-4, 1e-5);
    const g = tf.grads(f)([q, k, v]);
    const gp = plain(() => tf.grads(f)([q, k, v]));
    g.forEach((t, i) => close(vals(t), vals(gp[i]!), `grad ${'qkv'[i]} vs plain`, 1e-3, 1e-5));
  });
  it('a single position attends to itself', () => {
    const v = randT([3, 1, 4]);
    close(vals(causalAttention(randT([3, 1, 4]), randT([3, 1, 4]), v)), vals(v), 'T = 1');
  });
});
