/**
 * The public entry point as users import it: `import { … } from 'paperlab'` (the package's
 * self-reference through its "exports" map). Every name the README and docs/ import from
 * 'paperlab' must exist there, so the documentation cannot drift from the API; and the exported
 * fused ops must agree with their plain definitions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as paperlab from 'paperlab';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Value names imported from 'paperlab' in a markdown file's code blocks (`type X` imports skipped). */
function importedNames(markdown: string): string[] {
  const names: string[] = [];
  for (const m of markdown.matchAll(/import\s*\{([^}]*)\}\s*from\s*'paperlab'/g)) {
    for (const part of m[1]!.split(',')) {
      const name = part.replace(/\/\/.*$/gm, '').trim().split(/\s+as\s+/)[0]!.trim();
      if (name && !name.startsWith('type ')) names.push(name);
    }
  }
  return names;
}

test("every name the README and docs import from 'paperlab' is exported", () => {
  const files = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))];
  const exported = new Set(Object.keys(paperlab));
  let checked = 0;
  const missing: string[] = [];
  for (const f of files) {
    for (const name of importedNames(readFileSync(path.join(root, f), 'utf8'))) {
      checked++;
      if (!exported.has(name)) missing.push(`${f}: ${name}`);
    }
  }
  assert.ok(checked >= 20, `expected the docs to import at least 20 names, found ${checked}`);
  assert.deepEqual(missing, [], 'documented imports that the package does not export');
});

test('exported fused ops agree with their definitions (layerNorm, gelu, causalAttention, adamUpdate)', async () => {
  const { tf, initEngine, Rng, layerNorm, gelu, causalAttention, adamUpdate, attention } = paperlab;
  await initEngine({ seed: 0 });
  const rng = new Rng(7);
  const rand = (shape: number[]): paperlab.tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
  tf.tidy(() => {
    // layerNorm of a hand case: [1, 2, 3] has mean 2, variance 2/3
    const y = layerNorm(tf.tensor2d([[1, 2, 3]]), tf.ones([3]), tf.zeros([3]), 0).dataSync();
    const s = Math.sqrt(2 / 3);
    [-1 / s, 0, 1 / s].forEach((e, i) => assert.ok(Math.abs(y[i]! - e) < 1e-5, `layerNorm[${i}] ${y[i]} vs ${e}`));
    // gelu (tanh form, as GPT-2) at a few points
    const xs = [-2, -0.5, 0, 0.7, 3];
    const g = gelu(tf.tensor1d(xs)).dataSync();
    xs.forEach((x, i) => {
      const e = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      assert.ok(Math.abs(g[i]! - e) < 1e-5, `gelu(${x}) ${g[i]} vs ${e}`);
    });
    // causalAttention over [N, T, D] equals the attention module's causal full attention over [1, N, T, D]
    const [q, k, v] = [rand([3, 5, 4]), rand([3, 5, 4]), rand([3, 5, 4])];
    const a = causalAttention(q, k, v);
    const b = attention(q.expandDims(0) as paperlab.tf.Tensor4D, k.expandDims(0) as paperlab.tf.Tensor4D, v.expandDims(0) as paperlab.tf.Tensor4D, { kind: 'full', causal: true }).squeeze([0]);
    const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    assert.ok(diff < 1e-5, `causalAttention vs attention(kind 'full', causal) differ by ${diff}`);
    // adamUpdate, first step from zero moments with ε = 0: m' = (1−β1)g, √(v'/bc2) = |g|, so p' = p − lr·sign(g)
    const p = tf.tensor1d([1, -2, 0.5]);
    const grad = tf.tensor1d([0.3, -4, 1e-3]);
    const lr = 0.01;
    const up = adamUpdate(p, tf.zeros([3]), tf.zeros([3]), grad, { beta1: 0.9, beta2: 0.999, eps: 0, stepSize: lr / (1 - 0.9), bc2: 1 - 0.999, decay: 0 });
    const pn = up.p.dataSync();
    [1 - lr, -2 + lr, 0.5 - lr].forEach((e, i) => assert.ok(Math.abs(pn[i]! - e) < 1e-6, `adam p[${i}] ${pn[i]} vs ${e}`));
  });
});

test('buffer-pool bound: default within 1–4 GiB, settable, bad values refused', () => {
  const { poolLimit, setPoolLimit } = paperlab;
  const GiB = 2 ** 30;
  const prev = poolLimit();
  if (!process.env.PAPERLAB_POOL_MB) assert.ok(prev >= GiB && prev <= 4 * GiB, `default bound ${prev}`);
  assert.equal(setPoolLimit(2 * prev), prev);
  assert.equal(poolLimit(), 2 * prev);
  assert.equal(setPoolLimit(prev), 2 * prev);
  assert.throws(() => setPoolLimit(Number.NaN), /bytes/);
  assert.throws(() => setPoolLimit(-1), /bytes/);
  assert.equal(poolLimit(), prev);
});
