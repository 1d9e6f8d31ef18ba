/**
 * Both GELU forms against closed forms computed independently in float64: 'erf' against x·Φ(x) with
 * Φ from a Simpson integral of the Gaussian density (not an erf approximation), 'tanh' against its
 * formula; gradients against the closed-form derivative Φ(x) + x·φ(x) and finite differences; the
 * GPT config field and its validation.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../src/core/engine.js';
import { tf, type Tensor } from '../src/core/tf.js';
import { PaperlabError } from '../src/core/errors.js';
import { gelu } from '../src/core/ops.js';
import { GPT, resolveGPTConfig } from '../src/gpt/model.js';
import { Rng } from '../src/core/rng.js';

before(async () => {
  await initEngine({ backend: 'cpu', seed: 0 });
});

/** Φ(x) = 1/2 + ∫₀ˣ φ(t) dt by composite Simpson with 4000 panels (error ≪ 1e-12 for |x| ≤ 12). */
function Phi(x: number): number {
  const n = 4000;
  const h = x / n;
  const phi = (t: number): number => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  let s = phi(0) + phi(x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * phi(i * h);
  return 0.5 + (s * h) / 3;
}
const geluExact = (x: number): number => x * Phi(x);
const geluExactGrad = (x: number): number => Phi(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

const xs = [-12, -6, -3.2, -2.1, -1, -0.5, -1e-3, 0, 1e-3, 0.3, 0.7, 1, 1.5, 2, 2.5, 3.7, 6, 12];
const vals = (t: Tensor): Float32Array => t.dataSync() as Float32Array;

test("gelu(x, 'erf') is x·Φ(x) (exact GELU, nn.GELU()) to float32 precision", () => {
  const y = vals(gelu(tf.tensor1d(xs), 'erf'));
  xs.forEach((x, i) => assert.ok(Math.abs(y[i]! - geluExact(x)) <= 2e-6 + 2e-6 * Math.abs(x), `erf gelu(${x}) = ${y[i]}, want ${geluExact(x)}`));
});

test("gelu(x) and gelu(x, 'tanh') are the tanh approximation, which differs from the exact form", () => {
  const a = vals(gelu(tf.tensor1d(xs)));
  const b = vals(gelu(tf.tensor1d(xs), 'tanh'));
  let maxDiff = 0;
  xs.forEach((x, i) => {
    assert.ok(Math.abs(a[i]! - geluTanh(x)) <= 2e-6 + 1e-6 * Math.abs(x), `tanh gelu(${x}) = ${a[i]}, want ${geluTanh(x)}`);
    assert.equal(a[i], b[i]);
    maxDiff = Math.max(maxDiff, Math.abs(geluTanh(x) - geluExact(x)));
  });
  // The approximation is off by up to ~2e-4 on these points: the forms are really different functions.
  assert.ok(maxDiff > 1e-4 && maxDiff < 1e-3, `max |tanh − erf| = ${maxDiff}`);
});

test("the 'erf' gradient is Φ(x) + x·φ(x), and agrees with central differences", () => {
  const x = tf.tensor1d(xs.filter((v) => Math.abs(v) < 7));
  const g = vals(tf.grad((a: Tensor) => tf.sum(gelu(a, 'erf')))(x));
  const xv = vals(x);
  xv.forEach((v, i) => {
    assert.ok(Math.abs(g[i]! - geluExactGrad(v)) < 2e-5, `d gelu_erf(${v}) = ${g[i]}, want ${geluExactGrad(v)}`);
    const h = 1e-4;
    const fd = (geluExact(v + h) - geluExact(v - h)) / (2 * h);
    assert.ok(Math.abs(g[i]! - fd) < 2e-5, `d gelu_erf(${v}) = ${g[i]}, finite difference ${fd}`);
  });
});

test('gelu refuses an unknown form and a non-float tensor with a PaperlabError naming the argument', () => {
  assert.throws(() => gelu(tf.tensor1d([1]), 'exact' as 'erf'), (e: unknown) => e instanceof PaperlabError && e.argument === 'form');
  assert.throws(() => gelu(tf.tensor1d([1, 2], 'int32')), (e: unknown) => e instanceof PaperlabError && e.argument === 'x');
  assert.equal(gelu(tf.zeros([0, 3]), 'erf').shape.join(','), '0,3');
});

test("GPTConfig.gelu: explicit default 'tanh', 'erf' changes the MLP, anything else is refused", () => {
  assert.equal(resolveGPTConfig({ vocabSize: 5 }).gelu, 'tanh');
  assert.throws(() => resolveGPTConfig({ vocabSize: 5, gelu: 'relu' as 'erf' }), (e: unknown) => e instanceof PaperlabError && e.argument === 'gelu');
  const cfg = { vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 8 };
  const a = new GPT({ ...cfg, gelu: 'tanh' }, new Rng(1));
  const b = new GPT({ ...cfg, gelu: 'erf' }, new Rng(1));
  // Large MLP weights so the pre-activations reach |x| ≈ 2, where the forms differ most.
  for (const m of [a, b]) for (const [k, v] of Object.entries(m.variables)) if (k.includes('mlp')) v.assign(tf.mul(v, 60));
  const idx = tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32');
  const la = vals(a.forward(idx));
  const lb = vals(b.forward(idx));
  let d = 0;
  for (let i = 0; i < la.length; i++) d = Math.max(d, Math.abs(la[i]! - lb[i]!));
  assert.ok(d > 1e-5, `the erf model's logits should differ from the tanh model's (max diff ${d})`);
  a.dispose();
  b.dispose();
});
