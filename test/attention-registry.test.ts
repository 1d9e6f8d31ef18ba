/**
 * The attention registry (src/attention/registry.ts): a toy kind added with one registration
 * works in GPT; every decoding kind's `extend` equals its causal forward; GPT's cached and
 * uncached sampling give the same tokens; Performer and linear attention stay correct at large
 * norms (float64 references); AdamW's fused update equals the formula and resumes exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, type Tensor, type Tensor4D } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { AdamW } from '../src/core/optim.js';
import { MASKED } from '../src/attention/common.js';
import { fullAttention } from '../src/attention/full.js';
import { linearAttention } from '../src/attention/linear.js';
import { lshAttention } from '../src/attention/lsh.js';
import { drawOrthogonalFeatures, performerAttention } from '../src/attention/performer.js';
import { type AttentionKindSpec, attentionKinds, createAttention, disposeDecodeState, registerAttentionKind, unregisterAttentionKind, type DecodeState } from '../src/attention/registry.js';
import { GPT, type GPTAttentionKind } from '../src/gpt/model.js';
import { generate } from '../src/gpt/sampler.js';

function randn(rng: Rng, shape: number[], scale = 1): Tensor4D {
  return tf.tensor4d(rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, scale), shape as [number, number, number, number]);
}
function maxDiff(a: Tensor, b: Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
const rows = (t: Tensor): number[][] => (t.arraySync() as number[][][][])[0]![0]!;

/** The toy kind of docs/attention.md: causal softmax attention over the last `window` positions. */
const localWindow: AttentionKindSpec<{ window: number }> = {
  name: 'local-window',
  summary: 'softmax attention over the last `window` positions',
  capabilities: { causal: true, sharedQK: 'no', decoding: 'none' },
  defaults: { window: 4 },
  resolve(o) {
    const window = o.window ?? 4;
    if (!Number.isInteger(window) || window < 1) throw new PaperlabError('window', `must be a whole number ≥ 1, got ${window}`, 'pass e.g. window: 4');
    return { window };
  },
  params: () => [],
  forward(q, k, v, o, ctx) {
    return tf.tidy(() => {
      const [b, h, n, d] = q.shape;
      const i = tf.reshape(tf.range(0, n, 1, 'int32'), [n, 1]);
      const j = tf.reshape(tf.range(0, n, 1, 'int32'), [1, n]);
      let far: Tensor = tf.greater(tf.sub(i, j), o.window - 1);
      if (ctx.causal) far = tf.logicalOr(far, tf.greater(j, i));
      const bias = tf.mul(tf.cast(far, 'float32'), MASKED);
      const logits = tf.add(tf.matMul(tf.reshape(tf.mul(q, 1 / Math.sqrt(d)), [b * h, n, d]), tf.reshape(k, [b * h, n, d]), false, true), bias);
      return tf.reshape(tf.matMul(tf.softmax(logits, -1), tf.reshape(v, [b * h, n, v.shape[3]])), [b, h, n, v.shape[3]]) as Tensor4D;
    });
  },
};

test('registry: a toy local-window kind added with one registration computes its definition and runs inside GPT', () => {
  registerAttentionKind(localWindow);
  try {
    assert.ok(attentionKinds().includes('local-window'));
    assert.throws(() => registerAttentionKind(localWindow), (e: unknown) => e instanceof PaperlabError && e.argument === 'spec.name');
    const rng = new Rng(1);
    const q = randn(rng, [1, 1, 6, 3]), k = randn(rng, [1, 1, 6, 3]), v = randn(rng, [1, 1, 6, 2]);
    const att = createAttention('local-window', { window: 2 }, { heads: 1, dHead: 3, causal: true });
    const out = rows(att.forward(q, k, v));
    // hand reference: position i attends to i−1 and i
    const Q = rows(q), K = rows(k), V = rows(v);
    for (let i = 0; i < 6; i++) {
      const js = [i - 1, i].filter((j) => j >= 0);
      const w = js.map((j) => Math.exp(Q[i]!.reduce((s, x, t) => s + x * K[j]![t]!, 0) / Math.sqrt(3)));
      const z = w.reduce((a, b) => a + b, 0);
      for (let c = 0; c < 2; c++) assert.ok(Math.abs(out[i]![c]! - js.reduce((s, j, t) => s + (w[t]! / z) * V[j]![c]!, 0)) < 1e-5);
    }
    assert.throws(() => createAttention('local-window', { window: 0 }, { heads: 1, dHead: 3, causal: true }), (e: unknown) => e instanceof PaperlabError && e.argument === 'window');
    assert.throws(() => createAttention('local-window', { bucketSize: 2 }, { heads: 1, dHead: 3, causal: true }), (e: unknown) => e instanceof PaperlabError && e.argument === 'options.bucketSize');
    // the same kind in a GPT: no model code knows it; window ≥ blockSize is full causal attention
    const cfg = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 };
    const toy = new GPT({ ...cfg, attention: 'local-window' as GPTAttentionKind, attentionOptions: { window: 8 } as never }, new Rng(3));
    const full = new GPT(cfg, new Rng(3));
    const ids = tf.tensor2d([[3, 1, 4, 1, 5, 9, 2, 6]], [1, 8], 'int32');
    assert.ok(maxDiff(toy.forward(ids), full.forward(ids)) < 1e-4);
    assert.equal(toy.supportsKVCache, false);
    toy.dispose();
    full.dispose();
  } finally {
    unregisterAttentionKind('local-window');
  }
  assert.throws(() => createAttention('local-window', {}, { heads: 1, dHead: 3, causal: true }), (e: unknown) => e instanceof PaperlabError && e.argument === 'kind');
  assert.throws(() => createAttention('linformer', {}, { heads: 1, dHead: 3, causal: true, maxLen: 8 }), (e: unknown) => e instanceof PaperlabError && e.argument === 'causal');
});

test('decoding: extend (prompt, then one token at a time) equals the causal forward for full, linear and Performer', () => {
  const rng = new Rng(2);
  for (const kind of ['full', 'linear', 'performer']) {
    const att = createAttention(kind, kind === 'full' ? {} : { chunkSize: 3 }, { heads: 2, dHead: 4, causal: true });
    const params = att.initParams(rng);
    const q = randn(rng, [2, 2, 9, 4]), k = randn(rng, [2, 2, 9, 4], 2), v = randn(rng, [2, 2, 9, 3]);
    const want = att.forward(q, k, v, { params });
    let state: DecodeState | null = null;
    const slice = (x: Tensor4D, from: number, len: number): Tensor4D => tf.slice(x, [0, 0, from, 0], [-1, -1, len, -1]);
    const parts: Tensor[] = [];
    for (const [from, len] of [[0, 4], [4, 1], [5, 1], [6, 3]] as const) {
      const r: { output: Tensor4D; state: DecodeState } = att.extend(slice(q, from, len), slice(k, from, len), slice(v, from, len), state, params);
      parts.push(r.output);
      state = r.state;
    }
    assert.equal(state!.length, 9);
    const got = tf.concat(parts, 2);
    assert.ok(maxDiff(got, want) < 1e-4, `${kind}: ${maxDiff(got, want)}`);
    disposeDecodeState(state);
    tf.dispose([q, k, v, want, got, ...parts, ...params]);
  }
});

test('GPT generate: cached decoding (KV cache for full, recurrent state for linear/Performer) samples the same tokens as recomputation', async () => {
  for (const attention of ['full', 'linear', 'performer'] as const) {
    const m = new GPT({ vocabSize: 13, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16, attention, attentionOptions: { chunkSize: 4 } }, new Rng(5));
    // larger weights than the 0.02 init, so logits differ between tokens and sampling is informative
    for (const v of Object.values(m.variables)) if (v.rank === 2) v.assign(tf.mul(v, 20));
    assert.equal(m.supportsKVCache, true);
    const a = await generate(m, [[1, 2, 3], [4, 5, 6]], { maxTokens: 14, temperature: 1, rng: new Rng(9) }); // runs past blockSize
    const b = await generate(m, [[1, 2, 3], [4, 5, 6]], { maxTokens: 14, temperature: 1, rng: new Rng(9), cache: false });
    assert.deepEqual(a, b, attention);
    assert.ok(new Set(a.flat()).size > 3, `${attention}: sampling should not be degenerate`);
    m.dispose();
  }
});

/** float64 FAVOR+ with the same features (log-domain, no underflow), eps 0. */
function favorReference(q: number[][], k: number[][], v: number[][], w: number[][], causal: boolean): number[][] {
  const d = q[0]!.length;
  const s = Math.pow(d, -0.25);
  const logf = (x: number[]): number[] => {
    const xs = x.map((t) => t * s);
    const sq = xs.reduce((a, t) => a + t * t, 0) / 2;
    return w.map((row) => row.reduce((a, t, i) => a + t * xs[i]!, 0) - sq);
  };
  const lq = q.map(logf), lk = k.map(logf);
  return q.map((_, i) => {
    // weights exp(lq_f + lk_f) summed over f, shifted by the row's maximum
    const js = k.map((_, j) => j).filter((j) => !causal || j <= i);
    const logw = js.map((j) => {
      const terms = lq[i]!.map((a, f) => a + lk[j]![f]!);
      const mx = Math.max(...terms);
      return mx + Math.log(terms.reduce((acc, t) => acc + Math.exp(t - mx), 0));
    });
    const mx = Math.max(...logw);
    const ws = logw.map((l) => Math.exp(l - mx));
    const z = ws.reduce((a, b) => a + b, 0);
    return v[0]!.map((_, c) => js.reduce((acc, j, t) => acc + (ws[t]! / z) * v[j]![c]!, 0));
  });
}

test('Performer at large key norms (‖k‖ = 48, dHead 16): no zero rows — equals float64 FAVOR+, keeps the scale of exact softmax — and float32 overflow of both sides is refused by name', () => {
  const rng = new Rng(3);
  const d = 16, n = 24;
  const scaled = (norm: number): Tensor4D => {
    const a = rng.normalArray(n * d);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += a[i * d + j]! ** 2;
      for (let j = 0; j < d; j++) a[i * d + j]! *= norm / Math.sqrt(s);
    }
    return tf.tensor4d(a, [1, 1, n, d]);
  };
  const features = drawOrthogonalFeatures(64, d, new Rng(4));
  const W = features.arraySync() as number[][];
  const q = scaled(2), k = scaled(48), v = randn(rng, [1, 1, n, 3]);
  for (const causal of [false, true]) {
    const out = performerAttention(q, k, v, { causal, features, chunkSize: 5 });
    const ref = favorReference(rows(q), rows(k), rows(v), W, causal);
    const got = rows(out);
    let err = 0;
    let refNorm = 0;
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) {
      err = Math.max(err, Math.abs(got[i]![c]! - ref[i]![c]!));
      refNorm = Math.max(refNorm, Math.abs(ref[i]![c]!));
    }
    assert.ok(err < 1e-3 * Math.max(1, refNorm), `causal=${causal}: max error ${err} against float64 FAVOR+`);
    // the failure was rows of zeros: the output keeps exact attention's scale
    const exact = fullAttention(q, k, v, { causal });
    const ratio = tf.tidy(() => tf.div(tf.norm(out), tf.norm(exact)).dataSync()[0]!);
    assert.ok(ratio > 0.5 && ratio < 2, `causal=${causal}: norm ratio to exact softmax ${ratio}`);
    tf.dispose([out, exact]);
  }
  // both sides huge: the stabilised products leave float32's range, refused with the reason
  const big = scaled(48);
  for (const causal of [false, true]) {
    assert.throws(() => performerAttention(big, k, v, { causal, features }), (e: unknown) => e instanceof PaperlabError && e.argument === 'q/k' && /underflowed/.test(e.message));
  }
  tf.dispose([q, k, v, big, features]);
});

test('large norms in the other kinds: linear (coordinates ≈ −30), full and LSH (‖q‖ = 300) and Linformer match float64 references', () => {
  const rng = new Rng(6);
  // linear: elu(x) + 1 used to round to 0 below x ≈ −17, giving rows of zeros
  const q = tf.sub(randn(rng, [1, 1, 6, 3], 0.5), 30) as Tensor4D, k = tf.sub(randn(rng, [1, 1, 6, 3], 0.5), 30) as Tensor4D, v = randn(rng, [1, 1, 6, 2]);
  const Q = rows(q), K = rows(k), V = rows(v);
  for (const causal of [false, true]) {
    const got = rows(linearAttention(q, k, v, { causal, eps: 0 }));
    for (let i = 0; i < 6; i++) {
      const js = K.map((_, j) => j).filter((j) => !causal || j <= i);
      // φ(x) = exp(x) for x < 0: the weight of key j is exp(Σ_f…)… computed per feature in float64
      const w = js.map((j) => Q[i]!.reduce((s, x, f) => s + Math.exp(x - -30) * Math.exp(K[j]![f]! - -30), 0));
      const z = w.reduce((a, b) => a + b, 0);
      for (let c = 0; c < 2; c++) assert.ok(Math.abs(got[i]![c]! - js.reduce((s, j, t) => s + (w[t]! / z) * V[j]![c]!, 0)) < 1e-3, `linear causal=${causal} row ${i}`);
    }
  }
  // full and LSH (one chunk, one round = full shared-QK): softmax with max subtraction stays exact
  const qb = randn(rng, [1, 1, 8, 4], 150), vb = randn(rng, [1, 1, 8, 2]);
  const full = fullAttention(qb, qb, vb, { sharedQK: true, causal: true });
  const lsh = lshAttention(qb, null, vb, { bucketSize: 8, nHashes: 1, causal: true, rng: new Rng(1) });
  assert.ok(rows(full).flat().every(Number.isFinite));
  assert.ok(maxDiff(full, lsh) < 1e-4, `LSH one chunk vs full at large norms: ${maxDiff(full, lsh)}`);
  const plain = rows(fullAttention(qb, randn(rng, [1, 1, 8, 4], 150), vb));
  assert.ok(plain.flat().every(Number.isFinite));
  tf.dispose([q, k, v, qb, vb, full, lsh]);
});

test('AdamW through the fused adamUpdate: equals the AdamW formula in float64 and resumes exactly from its state', async () => {
  const p0 = [0.5, -1.5, 2, 0.25, -0.75, 1];
  const grads = [[0.1, -0.2, 0.3, 0.05, -0.4, 0.2], [-0.3, 0.1, 0.2, -0.1, 0.5, 0.0], [0.2, 0.2, -0.2, 0.3, -0.1, 0.4]];
  const cfg = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
  const p = tf.variable(tf.tensor2d(p0, [2, 3]));
  const opt = new AdamW(cfg);
  const m = p0.map(() => 0), v = p0.map(() => 0), x = p0.slice();
  for (let t = 1; t <= grads.length; t++) {
    const g = grads[t - 1]!;
    opt.apply({ w: tf.tensor2d(g, [2, 3]) }, { w: p });
    for (let i = 0; i < x.length; i++) {
      m[i] = cfg.beta1 * m[i]! + (1 - cfg.beta1) * g[i]!;
      v[i] = cfg.beta2 * v[i]! + (1 - cfg.beta2) * g[i]! ** 2;
      const step = (cfg.lr / (1 - cfg.beta1 ** t)) * (m[i]! / (Math.sqrt(v[i]! / (1 - cfg.beta2 ** t)) + cfg.eps));
      x[i] = x[i]! - step - x[i]! * cfg.lr * cfg.weightDecay;
    }
  }
  const got = p.dataSync();
  x.forEach((xi, i) => assert.ok(Math.abs(got[i]! - xi) < 1e-6, `param ${i}: ${got[i]} vs ${xi}`));
  // resume: state after 2 steps restored into a fresh optimizer gives bit-identical step 3
  const a = tf.variable(tf.tensor2d(p0, [2, 3])), b = tf.variable(tf.tensor2d(p0, [2, 3]));
  const o1 = new AdamW(cfg);
  for (const g of grads.slice(0, 2)) o1.apply({ w: tf.tensor2d(g, [2, 3]) }, { w: a });
  b.assign(a);
  const o2 = new AdamW(cfg);
  o2.setState(await o1.getState());
  o1.apply({ w: tf.tensor2d(grads[2]!, [2, 3]) }, { w: a });
  o2.apply({ w: tf.tensor2d(grads[2]!, [2, 3]) }, { w: b });
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.deepEqual(Array.from((await o1.getState())['m/w']!.data), Array.from((await o2.getState())['m/w']!.data));
  [p, a, b].forEach((t) => t.dispose());
  [opt, o1, o2].forEach((o) => o.dispose());
});
