/**
 * The addon itself: every entry point rejects bad lengths, shapes, types and aliasing with a JS
 * error (never a crash), the thread pool survives a resize, and the kernels register and unregister
 * cleanly. Skipped (with a message) when the addon is not built.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../src/core/engine.js';
import { tf } from '../src/core/tf.js';
import { loadAddon } from '../src/core/native.js';
import { activeAddon, poolInstalled, poolStats, registerNativeKernels, unregisterNativeKernels } from '../src/core/kernels/index.js';
import type { NativeAddon } from '../src/core/kernels/addon.js';

const engine = await initEngine({ backend: 'cpu', seed: 0 });
const addon = activeAddon() as NativeAddon | null;
const skip = addon ? false : `native addon not active (${engine.native.message})`;

const f32 = (n: number): Float32Array => new Float32Array(n);

describe('native addon argument checks', { skip }, () => {
  const a = addon!;
  it('matmul rejects wrong lengths, bad broadcasts and aliasing', () => {
    assert.throws(() => a.matmul(f32(6), [], f32(6), [], f32(5), 2, 2, 3, false, false, null, 0, 0, 0), /elements/);
    assert.throws(() => a.matmul(f32(6), [], f32(5), [], f32(4), 2, 2, 3, false, false, null, 0, 0, 0), /elements/);
    assert.throws(() => a.matmul(f32(12), [2], f32(18), [3], f32(12), 2, 2, 3, false, false, null, 0, 0, 0), /broadcast/);
    assert.throws(() => a.matmul(f32(6), [], f32(6), [], f32(4), 2, 2, 3, false, false, f32(3), 2, 0, 0), /bias/);
    assert.throws(() => a.matmul(f32(6), [], f32(6), [], f32(4), -2, 2, 3, false, false, null, 0, 0, 0), /integer/);
    const buf = f32(16);
    assert.throws(() => a.matmul(buf.subarray(0, 4), [], buf.subarray(4, 8), [], buf.subarray(2, 6), 2, 2, 2, false, false, null, 0, 0, 0), /overlaps/);
    assert.throws(() => a.matmul(new Float64Array(6) as unknown as Float32Array, [], f32(6), [], f32(4), 2, 2, 3, false, false, null, 0, 0, 0), TypeError);
  });
  it('elementwise and data-movement kernels reject bad shapes', () => {
    assert.throws(() => a.binary(0, f32(3), [3], f32(4), [4], f32(4), [4]), /broadcast/);
    assert.throws(() => a.binary(0, f32(3), [3], f32(3), [3], f32(2), [3]), /elements/);
    assert.throws(() => a.binary(99, f32(3), [3], f32(3), [3], f32(3), [3]), /op/);
    assert.throws(() => a.unary(0, f32(3), f32(2), 0), /elements/);
    assert.throws(() => a.softmax(f32(6), f32(6), 4, 2), /elements/);
    assert.throws(() => a.transpose(f32(6), [2, 3], [0, 0], f32(6)), /permutation/);
    assert.throws(() => a.transpose(f32(6), [2, 3], [1, 0], f32(5)), /elements/);
    assert.throws(() => a.slice(f32(6), [2, 3], [1, 2], [1, 2], f32(2)), /exceeds/);
    assert.throws(() => a.concat([f32(2), f32(3)], [2, 2], 1, f32(4)), /elements/);
    assert.throws(() => a.split(f32(4), [2, 2], 1, [f32(2), f32(3)]), /elements/);
    assert.throws(() => a.unsortedSegmentSum(f32(6), 3, 2, new Int32Array(2), 2, f32(4)), /elements/);
    assert.throws(() => a.reduce(0, f32(6), 2, 2, 2, f32(4)), /elements/);
    assert.throws(() => a.layerNorm(f32(6), f32(3), f32(2), f32(6), f32(2), f32(2), 2, 3, 1e-5), /elements/);
    assert.throws(() => a.addN([f32(3), f32(2)], f32(3)), /elements/);
    assert.throws(() => a.transpose(f32(6), [2, -3] as number[], [1, 0], f32(6)));
  });
  it('gather reports an out-of-range index instead of reading it', () => {
    const out = f32(2).fill(7);
    assert.equal(a.gather(Float32Array.from([1, 2, 3]), 1, 3, 1, Int32Array.from([0, 3]), out), 1);
    assert.deepEqual(Array.from(out), [7, 7]);
    assert.equal(a.gather(Float32Array.from([1, 2, 3]), 1, 3, 1, Int32Array.from([2, 0]), out), -1);
    assert.deepEqual(Array.from(out), [3, 1]);
  });
  it('convolution and pooling reject inconsistent parameters', () => {
    const p = [1, 4, 4, 1, 3, 3, 2, 2, 2, 1, 1, 1, 1, 0, 0];
    assert.throws(() => a.conv2d(f32(15), f32(18), f32(8), p, null, 0, 0, 0), /elements/);
    assert.throws(() => a.conv2d(f32(16), f32(18), f32(8), p.slice(0, 14), null, 0, 0, 0), /params/);
    assert.throws(() => a.conv2d(f32(16), f32(18), f32(8), [...p.slice(0, 9), 0, ...p.slice(10)], null, 0, 0, 0), /strides/);
    assert.throws(() => a.pool2d(f32(16), f32(3), [1, 4, 4, 1, 2, 2, 2, 2, 2, 2, 0, 0], true), /elements/);
    // out-of-range geometry stays in bounds: taps outside the input read as padding
    const out = f32(2 * 2 * 2);
    a.conv2d(f32(16).fill(1), f32(18).fill(1), out, [1, 4, 4, 1, 3, 3, 2, 2, 2, 1, 1, 1, 1, 5, 5], null, 0, 0, 0);
    assert.ok(out.every((v) => v === 0));
  });
  it('the thread pool can be resized and keeps giving the same answers', () => {
    const n = 300;
    const x = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
    const y1 = f32(n * n);
    const y2 = f32(n * n);
    a.matmul(x, [], x, [], y1, n, n, n, false, false, null, 0, 0, 0);
    const t = a.numThreads();
    a.setThreads(1);
    a.matmul(x, [], x, [], y2, n, n, n, false, false, null, 0, 0, 0);
    a.setThreads(t);
    assert.equal(a.numThreads(), t);
    for (let i = 0; i < y1.length; i++) assert.ok(Math.abs(y1[i]! - y2[i]!) <= 1e-4 * (1 + Math.abs(y1[i]!)));
  });
});

describe('kernel registration', { skip }, () => {
  it('unregister restores tfjs kernels and register installs them again', () => {
    const names = engine.native.kernels;
    assert.ok(names.length > 30);
    const nativeFn = tf.getKernel('BatchMatMul', 'cpu').kernelFunc;
    const nativeGrad = tf.getGradient('Softmax').gradFunc;
    unregisterNativeKernels();
    assert.notEqual(tf.getKernel('BatchMatMul', 'cpu').kernelFunc, nativeFn);
    assert.notEqual(tf.getGradient('Softmax').gradFunc, nativeGrad);
    assert.equal(tf.getKernel('PaperlabLayerNorm', 'cpu'), undefined);
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
    assert.deepEqual(Array.from(y.dataSync()), [3, 3, 3, 3]);
    const again = registerNativeKernels(loadAddon().addon);
    assert.deepEqual([...again].sort(), [...names].sort());
    assert.deepEqual(Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync()), [3, 3, 3, 3]);
  });
  it('a stale addon (missing functions) registers nothing', () => {
    assert.deepEqual(registerNativeKernels({ blasInfo: () => 'x' }), []);
    assert.deepEqual(registerNativeKernels(null), []);
    registerNativeKernels(loadAddon().addon);
  });
});

describe('output buffer pool', { skip: skip || (poolInstalled() ? false : 'pool disabled (PAPERLAB_POOL=0)') }, () => {
  const N = 50000;
  const churn = (): void => {
    // many same-sized outputs: recycled buffers get overwritten with other values
    for (let i = 0; i < 20; i++) {
      tf.tidy(() => {
        tf.mul(tf.add(tf.fill([N], i), 1), 3);
      });
    }
  };
  it('recycles buffers of disposed tensors', () => {
    const before = poolStats.hits;
    for (let i = 0; i < 5; i++) {
      tf.tidy(() => {
        tf.exp(tf.fill([N], 1));
      });
    }
    assert.ok(poolStats.hits > before);
  });
  it('never recycles a buffer whose values were read (dataSync, data, arraySync)', async () => {
    const a = tf.exp(tf.fill([N], 0.5));
    const v = a.dataSync();
    const b = tf.exp(tf.fill([N], 0.25));
    const w = (await b.data()) as Float32Array;
    const c = tf.exp(tf.fill([2, N / 2], 0.125));
    c.arraySync();
    const cv = c.dataSync();
    tf.dispose([a, b, c]);
    churn();
    assert.ok(v.every((x) => Math.abs(x - Math.exp(0.5)) < 1e-6));
    assert.ok(w.every((x) => Math.abs(x - Math.exp(0.25)) < 1e-6));
    assert.ok(cv.every((x) => Math.abs(x - Math.exp(0.125)) < 1e-6));
  });
  it('keeps a buffer alive while a zero-copy view of it lives', () => {
    const x = tf.exp(tf.fill([4, N / 4], 1)); // pooled buffer
    const [s, p1] = tf.tidy(() => {
      const view = tf.slice(x, [1, 0], [2, N / 4]); // contiguous: tfjs returns a view of x's buffer
      const parts = tf.split(tf.reshape(x, [N]), 2); // views too; parts[0] is disposed by tidy
      return [view, parts[1]!];
    });
    x.dispose(); // x's own data entry goes; the views must keep the buffer out of the pool
    churn();
    assert.ok(s!.dataSync().every((v) => Math.abs(v - Math.E) < 1e-6));
    assert.ok(p1!.dataSync().every((v) => Math.abs(v - Math.E) < 1e-6));
    tf.dispose([s!, p1!]);
  });
  it('a full pool evicts other sizes, least recently used first, so new shapes are still recycled', async () => {
    const { setPoolLimit, pooledBytes } = await import('../src/core/kernels/pool.js');
    const prev = setPoolLimit(3 * N * 4); // room for three buffers of N floats
    try {
      const churnSize = (n: number): void => {
        for (let i = 0; i < 3; i++) tf.tidy(() => void tf.exp(tf.fill([n], 1)));
      };
      churnSize(N); // the pool now holds buffers of N floats
      const evicted = poolStats.evicted;
      churnSize(N + 8); // a new shape: must push the old size out rather than be dropped
      assert.ok(poolStats.evicted > evicted, 'old size evicted');
      const hits = poolStats.hits;
      churnSize(N + 8);
      assert.ok(poolStats.hits > hits, 'the new size is recycled once the pool is full');
      assert.ok(pooledBytes() <= 3 * N * 4, `pool holds ${pooledBytes()} bytes, bound ${3 * N * 4}`);
      // recycled buffers still give right answers
      const y = tf.exp(tf.fill([N + 8], 0.5));
      assert.ok(y.dataSync().every((x) => Math.abs(x - Math.exp(0.5)) < 1e-6));
      y.dispose();
    } finally {
      setPoolLimit(prev);
    }
  });
  it('variables and kept tensors stay intact across training-like churn', () => {
    const v = tf.variable(tf.exp(tf.fill([N], 2)));
    const k = tf.keep(tf.tidy(() => tf.exp(tf.fill([N], 3))));
    for (let i = 0; i < 3; i++) v.assign(tf.tidy(() => tf.add(v, 1)));
    churn();
    assert.ok(v.dataSync().every((x) => Math.abs(x - (Math.exp(2) + 3)) < 1e-4));
    assert.ok(k.dataSync().every((x) => Math.abs(x - Math.exp(3)) < 1e-3));
    tf.dispose([v, k]);
  });
});
