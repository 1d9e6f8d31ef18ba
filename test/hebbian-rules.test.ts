/** Hebbian rules and networks against hand-computed values and plain reference loops. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import {
  HEBBIAN_RULES,
  coefficientNames,
  coefficientsPerSynapse,
  hebbianDelta,
  hebbianUpdateLayer,
  normaliseLayer,
  type HebbianRule,
} from '../src/hebbian/rules.js';
import { PlasticNetwork, StaticNetwork, makePolicy, parameterCount, synapseCount } from '../src/hebbian/network.js';

const close = (a: number, b: number, tol = 1e-6, msg = ''): void => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

// A = 0.5, B = −0.25, C = 2, D = 0.1, η = 0.3; pre o_i = 0.8, post o_j = −0.5.
// A·o_i·o_j = −0.2, B·o_i = −0.2, C·o_j = −1.
const HAND: Record<HebbianRule, { c: number[]; want: number }> = {
  A: { c: [0.5], want: -0.2 },
  AD: { c: [0.5, 0.1], want: -0.1 },
  AD_lr: { c: [0.5, 0.1, 0.3], want: -0.03 },
  ABC: { c: [0.5, -0.25, 2], want: -1.4 },
  ABC_lr: { c: [0.5, -0.25, 2, 0.3], want: -0.42 },
  ABCD: { c: [0.5, -0.25, 2, 0.1], want: -1.3 },
  ABCD_lr: { c: [0.5, -0.25, 2, 0.1, 0.3], want: -0.39 },
};

test('each rule gives the hand-computed Δw', () => {
  for (const rule of HEBBIAN_RULES) {
    const { c, want } = HAND[rule];
    assert.equal(coefficientsPerSynapse(rule), c.length, rule);
    close(hebbianDelta(rule, c, 0.8, -0.5), want, 1e-12, rule);
  }
  // Rules without _lr take the fixed rate.
  close(hebbianDelta('ABCD', [0.5, -0.25, 2, 0.1], 0.8, -0.5, 0.5), -0.65, 1e-12, 'ABCD at fixedEta 0.5');
  assert.deepEqual(coefficientNames('AD_lr'), ['A', 'D', 'eta']);
  assert.deepEqual(coefficientNames('ABCD_lr'), ['A', 'B', 'C', 'D', 'eta']);
});

test('layer update matches a per-synapse loop, with w[j·nIn+i] and coefficients of synapse (j, i) at (j·nIn+i)·K', () => {
  const rng = new Rng(3);
  for (const rule of HEBBIAN_RULES) {
    const K = coefficientsPerSynapse(rule);
    const nIn = 4;
    const nOut = 3;
    const w = rng.uniformArray(nIn * nOut, -1, 1);
    const offset = 7;
    const coeffs = rng.normalArray(offset + nIn * nOut * K);
    const pre = rng.uniformArray(nIn, -1, 1);
    const post = rng.uniformArray(nOut, -1, 1);
    const want = Float64Array.from(w);
    let abs = 0;
    for (let j = 0; j < nOut; j++) {
      for (let i = 0; i < nIn; i++) {
        const c = Array.from(coeffs.subarray(offset + (j * nIn + i) * K, offset + (j * nIn + i + 1) * K));
        const d = hebbianDelta(rule, c, pre[i]!, post[j]!, 0.7);
        want[j * nIn + i]! += d;
        abs += Math.abs(d);
      }
    }
    const got = w.slice();
    const total = hebbianUpdateLayer(rule, got, coeffs, offset, pre, post, 0.7);
    for (let k = 0; k < got.length; k++) close(got[k]!, want[k]!, 1e-5, `${rule} w[${k}]`);
    close(total, abs, 1e-4, `${rule} Σ|Δw|`);
  }
});

test('changing one synapse’s coefficients changes only that weight', () => {
  const K = 5;
  const coeffs = new Float32Array(2 * 3 * K);
  const j = 1;
  const i = 2;
  coeffs.set([1, 0, 0, 0, 1], (j * 3 + i) * K); // A = 1, η = 1
  const w = new Float32Array(6);
  hebbianUpdateLayer('ABCD_lr', w, coeffs, 0, Float32Array.of(0.1, 0.2, 0.5), Float32Array.of(0.3, -0.4), 1);
  assert.deepEqual(Array.from(w).map((x) => Number(x.toFixed(6))), [0, 0, 0, 0, 0, -0.2]);
});

test('normaliseLayer divides by the max |w|', () => {
  const w = Float32Array.of(0.5, -2, 1);
  normaliseLayer(w);
  assert.deepEqual(Array.from(w), [0.25, -1, 0.5]);
  const z = new Float32Array(3);
  normaliseLayer(z);
  assert.deepEqual(Array.from(z), [0, 0, 0]);
});

test('plastic network: random U[−0.1, 0.1] start, tanh forward, update from that pass’s activations', () => {
  const sizes = [3, 4, 2];
  const spec = { sizes, rule: 'ABCD_lr' as const };
  const rng = new Rng(5);
  const coeffs = rng.normalArray(parameterCount({ kind: 'hebbian', ...spec }));
  assert.equal(coeffs.length, (3 * 4 + 4 * 2) * 5);
  const net = new PlasticNetwork(spec, coeffs);
  net.reset(new Rng(9));
  for (const w of net.weights) for (const v of w) assert.ok(v >= -0.1 && v <= 0.1);
  const w0 = net.weights.map((w) => w.slice());
  const again = new PlasticNetwork(spec, coeffs);
  again.reset(new Rng(9));
  assert.deepEqual(again.weights, w0, 'same rng, same starting weights');

  const x = [0.3, -0.7, 1.2];
  // Reference forward pass.
  const h = [0, 1, 2, 3].map((j) => Math.tanh(x.reduce((s, xi, i) => s + w0[0]![j * 3 + i]! * xi, 0)));
  const y = [0, 1].map((j) => Math.tanh(h.reduce((s, hi, i) => s + w0[1]![j * 4 + i]! * hi, 0)));
  const out = Array.from(net.act(x));
  out.forEach((v, j) => close(v, y[j]!, 1e-6, `output ${j}`));
  // Reference update: layer 0 with (x, h), layer 1 with (h, y).
  let abs = 0;
  for (const [l, pre, post] of [[0, x, h], [1, h, y]] as const) {
    const base = l === 0 ? 0 : 3 * 4 * 5;
    for (let j = 0; j < post.length; j++) {
      for (let i = 0; i < pre.length; i++) {
        const k = base + (j * pre.length + i) * 5;
        const d = hebbianDelta('ABCD_lr', coeffs.subarray(k, k + 5), pre[i]!, post[j]!);
        close(net.weights[l]![j * pre.length + i]!, w0[l]![j * pre.length + i]! + d, 1e-5, `w${l}[${j},${i}]`);
        abs += Math.abs(d);
      }
    }
  }
  close(net.lastWeightChange, abs / 20, 1e-5, 'mean |Δw|');
});

test('zero coefficients leave the weights alone; normalisation keeps each layer’s max |w| at 1', () => {
  const sizes = [2, 3, 1];
  const n = parameterCount({ kind: 'hebbian', sizes, rule: 'ABCD' });
  const still = new PlasticNetwork({ sizes, rule: 'ABCD' }, new Float32Array(n));
  still.reset(new Rng(1));
  const before = still.weights.map((w) => w.slice());
  for (let t = 0; t < 5; t++) still.act([0.5, -0.5]);
  assert.deepEqual(still.weights, before);
  assert.equal(still.lastWeightChange, 0);

  const norm = new PlasticNetwork({ sizes, rule: 'ABCD', normalise: true }, new Rng(2).normalArray(n));
  norm.reset(new Rng(1));
  for (let t = 0; t < 5; t++) {
    norm.act([Math.sin(t), Math.cos(t)]);
    for (const w of norm.weights) close(Math.max(...Array.from(w, Math.abs)), 1, 1e-6, 'max |w|');
  }
});

test('input bias: a constant 1 input whose synapses count and learn like the others', () => {
  const sizes = [2, 3, 1];
  assert.equal(synapseCount(sizes), 9);
  assert.equal(synapseCount(sizes, true), 12);
  assert.equal(parameterCount({ kind: 'hebbian', sizes, rule: 'AD', inputBias: true }), 24);
  // Static: output = tanh(W2 · tanh(W1 · [x, 1])).
  const params = Float32Array.from({ length: 12 }, (_, k) => (k - 6) / 10);
  const net = new StaticNetwork(sizes, params, true);
  const x = [0.4, -0.9, 1];
  const h = [0, 1, 2].map((j) => Math.tanh(x.reduce((s, xi, i) => s + params[j * 3 + i]! * xi, 0)));
  const y = Math.tanh(h.reduce((s, hi, i) => s + params[9 + i]! * hi, 0));
  close(net.act([0.4, -0.9])[0]!, y, 1e-6);
  // Plastic: the bias synapse's pre-synaptic activity is 1 (A·1·o_j + D).
  const coeffs = new Float32Array(24);
  coeffs[2 * 2] = 1; // synapse (j=0, i=2 = bias), coefficient A
  const p = new PlasticNetwork({ sizes, rule: 'AD', inputBias: true }, coeffs);
  p.reset(new Rng(0));
  const w = p.weights[0]![2]!;
  p.act([0, 0]);
  close(p.weights[0]![2]!, w + p.activations[1]![0]!, 1e-6);
});

test('bad shapes and coefficient counts are PaperlabErrors naming the argument', () => {
  assert.throws(() => new PlasticNetwork({ sizes: [2, 2], rule: 'ABCD_lr' }, new Float32Array(3)), (e: unknown) => e instanceof PaperlabError && e.argument === 'coeffs');
  assert.throws(() => makePolicy({ kind: 'static', sizes: [2, 2] }, new Float32Array(3)), (e: unknown) => e instanceof PaperlabError && e.argument === 'params');
  assert.throws(() => new StaticNetwork([2], []), (e: unknown) => e instanceof PaperlabError && e.argument === 'sizes');
  assert.throws(() => new PlasticNetwork({ sizes: [2, 2], rule: 'XYZ' as HebbianRule }, []), (e: unknown) => e instanceof PaperlabError && e.argument === 'rule');
  const net = new StaticNetwork([2, 1], [1, 1]);
  assert.throws(() => net.act([1, 2, 3]), (e: unknown) => e instanceof PaperlabError && e.argument === 'observation');
});

test('the browser-side files import nothing from Node', () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of src.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      assert.ok(spec.startsWith('.'), `${path.basename(file)} imports '${spec}', which a browser cannot load`);
      visit(path.resolve(path.dirname(file), spec));
    }
  };
  visit(path.resolve(here, '../src/hebbian/browser.js'));
  assert.ok(seen.size >= 6, `followed ${seen.size} files`);
});
