/**
 * The attention kernels against independent float64 references, closed forms and each other:
 * full, LSH (incl. the hashes), Linformer, linear (causal = recurrent), Performer; gradients by
 * finite differences; bad options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, type Tensor } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import {
  attention,
  angularHash,
  cosetCollisionProbability,
  cosetHash,
  drawHash,
  disposeHash,
  drawOrthogonalFeatures,
  fullAttention,
  gradientMismatches,
  hashVectors,
  linearAttention,
  linearAttentionStep,
  linformerAttention,
  measureAttention,
  linformerProjection,
  lshAttention,
  lshAttentionWithBuckets,
  lshBuckets,
  performerAttention,
  performerFeatureMap,
  refAttention,
  refPerHead,
  type LinearAttentionState,
} from '../src/attention/index.js';

await tf.setBackend('cpu');
tf.enableProdMode();

function randn(rng: Rng, shape: [number, number, number, number], scale = 1): tf.Tensor4D {
  return tf.tensor4d(rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, scale), shape);
}
function maxDiff(a: Tensor, b: Tensor): number {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = d.dataSync()[0]!;
  d.dispose();
  return v;
}
function meanAbs(a: Tensor, b: Tensor): number {
  const d = tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))));
  const v = d.dataSync()[0]!;
  d.dispose();
  return v;
}
function throwsPaperlab(fn: () => unknown, argument: string, text?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PaperlabError, `expected PaperlabError, got ${String(e)}`);
    assert.equal(e.argument, argument);
    if (text) assert.match(e.message, text);
    return true;
  });
}

test('full attention equals the float64 reference (plain, causal, key mask)', () => {
  const rng = new Rng(1);
  const q = randn(rng, [2, 2, 5, 3]), k = randn(rng, [2, 2, 5, 3]), v = randn(rng, [2, 2, 5, 4]);
  const mask = tf.tensor2d([[1, 1, 0, 1, 1], [1, 1, 1, 1, 0]]);
  const valid = [[1, 1, 0, 1, 1], [1, 1, 1, 1, 0]];
  for (const causal of [false, true]) {
    const out = fullAttention(q, k, v, { causal, mask });
    const ref = refPerHead(q, k, v, (qh, kh, vh, b) => refAttention(qh, kh, vh, { causal, valid: valid[b] }));
    assert.ok(maxDiff(out, ref) < 1e-5, `causal=${causal}: ${maxDiff(out, ref)}`);
    tf.dispose([out, ref]);
  }
  // shared-QK: keys are the unit-length queries, self only when nothing else is valid
  const out = fullAttention(q, k, v, { causal: true, sharedQK: true });
  const ref = refPerHead(q, q, v, (qh, kh, vh) => refAttention(qh, kh, vh, { causal: true, sharedQK: true }));
  assert.ok(maxDiff(out, ref) < 1e-5);
  tf.dispose([q, k, v, mask, out, ref]);
});

test('LSH with one chunk covering the sequence equals full shared-QK attention (≤ 1e-5)', () => {
  const rng = new Rng(2);
  // n = 7 is padded to the chunk of 8: the padding is masked, not refused
  const q = randn(rng, [2, 2, 7, 4]), v = randn(rng, [2, 2, 7, 4]);
  const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1], [1, 0, 1, 1, 1, 0, 1]]);
  const valid = [[1, 1, 1, 1, 1, 1, 1], [1, 0, 1, 1, 1, 0, 1]];
  for (const causal of [false, true]) {
    for (const nHashes of [1, 3]) {
      for (const allowDuplicateAttention of [true, false]) {
        const out = lshAttention(q, q, v, { bucketSize: 8, nHashes, causal, allowDuplicateAttention, mask, rng });
        const ref = refPerHead(q, q, v, (qh, kh, vh, b) => refAttention(qh, kh, vh, { causal, sharedQK: true, valid: valid[b] }));
        const diff = maxDiff(out, ref);
        assert.ok(diff <= 1e-5, `causal=${causal} nHashes=${nHashes} dup=${allowDuplicateAttention}: ${diff}`);
        tf.dispose([out, ref]);
      }
    }
  }
  tf.dispose([q, v, mask]);
});

test('LSH without attendAcrossBuckets attends within its own bucket only', () => {
  const rng = new Rng(3);
  const q = randn(rng, [1, 2, 12, 4]), v = randn(rng, [1, 2, 12, 3]);
  const { output, buckets } = lshAttentionWithBuckets(q, null, v, { bucketSize: 16, nHashes: 1, nBuckets: 4, attendAcrossBuckets: false, rng });
  const bk = buckets.arraySync() as number[][][][]; // [b, h, H, N]
  const ref = refPerHead(q, q, v, (qh, kh, vh, b, h) => refAttention(qh, kh, vh, { sharedQK: true, allowed: (i, j) => bk[b]![h]![0]![i] === bk[b]![h]![0]![j] }));
  assert.ok(maxDiff(output, ref) < 1e-5, `${maxDiff(output, ref)}`);
  tf.dispose([q, v, output, buckets, ref]);
});

test('LSH: more hash rounds never lower agreement with full attention on average', () => {
  const rng = new Rng(4);
  const rounds = [1, 2, 4, 8];
  const errs = rounds.map(() => 0);
  const trials = 4;
  for (let t = 0; t < trials; t++) {
    const q = randn(rng, [1, 2, 64, 8], 1.5), v = randn(rng, [1, 2, 64, 8]);
    const full = fullAttention(q, q, v, { sharedQK: true });
    rounds.forEach((nHashes, i) => {
      const out = lshAttention(q, null, v, { bucketSize: 8, nHashes, rng: new Rng(100 + t * 10 + i) });
      errs[i]! += meanAbs(out, full) / trials;
      out.dispose();
    });
    tf.dispose([q, v, full]);
  }
  for (let i = 1; i < rounds.length; i++) assert.ok(errs[i]! <= errs[i - 1]!, `error with ${rounds[i]} rounds ${errs[i]} > ${rounds[i - 1]} rounds ${errs[i - 1]}`);
  assert.ok(errs[3]! < 0.5 * errs[0]!, `8 rounds should clearly beat 1: ${errs.join(', ')}`);
});

test('LSH causal: outputs never depend on later values; padding equals explicit masked padding', () => {
  const rng = new Rng(5);
  const q = randn(rng, [1, 1, 10, 4]), v = randn(rng, [1, 1, 10, 4]);
  const hash = drawHash({ dim: 4, nBuckets: 4, nHashes: 2 }, rng);
  const opts = { bucketSize: 4, causal: true, hashParams: hash };
  const a = lshAttention(q, null, v, opts);
  const vb = v.arraySync();
  vb[0]![0]![7] = [9, -9, 9, -9];
  const v2 = tf.tensor4d(vb);
  const b = lshAttention(q, null, v2, opts);
  assert.ok(maxDiff(tf.slice(a, [0, 0, 0, 0], [1, 1, 7, 4]), tf.slice(b, [0, 0, 0, 0], [1, 1, 7, 4])) === 0, 'positions before 7 changed');
  // length 10 is padded to 12 inside; padding it ourselves (masked) gives the same numbers
  const qp = tf.pad(q, [[0, 0], [0, 0], [0, 2], [0, 0]]) as tf.Tensor4D;
  const vp = tf.pad(v, [[0, 0], [0, 0], [0, 2], [0, 0]]) as tf.Tensor4D;
  const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]]);
  const c = lshAttention(qp, null, vp, { ...opts, mask });
  assert.ok(maxDiff(a, tf.slice(c, [0, 0, 0, 0], [1, 1, 10, 4])) < 1e-6);
  disposeHash(hash);
  tf.dispose([q, v, v2, a, b, qp, vp, mask, c]);
});

test('LSH gradients match finite differences, and the backward pass reuses the forward buckets', () => {
  const rng = new Rng(6);
  const q = randn(rng, [1, 2, 6, 3]), v = randn(rng, [1, 2, 6, 3]);
  const r = randn(rng, [1, 2, 6, 3]);
  const hash = drawHash({ dim: 3, nBuckets: 4, nHashes: 2 }, rng);
  for (const allowDuplicateAttention of [true, false]) {
    const first = lshAttentionWithBuckets(q, null, v, { bucketSize: 2, hashParams: hash, causal: true, allowDuplicateAttention });
    // with the buckets held fixed the function is smooth: finite differences apply exactly
    const f = (qq: Tensor, vv: Tensor): tf.Scalar =>
      tf.sum(tf.mul(lshAttention(qq as tf.Tensor4D, null, vv as tf.Tensor4D, { bucketSize: 2, nHashes: 2, nBuckets: 4, buckets: first.buckets, causal: true, allowDuplicateAttention }), r));
    const bad = gradientMismatches(f, [q, v], rng, { samples: 8 });
    assert.deepEqual(bad, []);
    // hashing inside the pass (same hash) gives the same gradients as passing its buckets
    const g1 = tf.grads(f)([q, v]);
    const g2 = tf.grads((qq: Tensor, vv: Tensor) => tf.sum(tf.mul(lshAttention(qq as tf.Tensor4D, null, vv as tf.Tensor4D, { bucketSize: 2, hashParams: hash, causal: true, allowDuplicateAttention }), r)))([q, v]);
    assert.ok(maxDiff(g1[0]!, g2[0]!) === 0 && maxDiff(g1[1]!, g2[1]!) === 0);
    tf.dispose([first.output, first.buckets, ...g1, ...g2]);
  }
  disposeHash(hash);
  tf.dispose([q, v, r]);
});

test('angular hash: argmax([xR; −xR]); with 2 buckets it collides with probability 1 − θ/π', () => {
  const rng = new Rng(7);
  const x = tf.tensor2d([[1, 0, 0], [0.2, -1, 0.5], [-0.3, 0.1, -2]]);
  const h = drawHash({ dim: 3, nBuckets: 6, nHashes: 2 }, rng);
  assert.equal(h.kind, 'angular');
  const got = angularHash(x, h.kind === 'angular' ? h.rotations : (undefined as never)).arraySync() as number[][];
  const R = (h.kind === 'angular' ? h.rotations : (undefined as never)).arraySync() as number[][][]; // [d, H, 3]
  const X = x.arraySync() as number[][];
  for (let r = 0; r < 2; r++) {
    X.forEach((xi, i) => {
      const proj = [0, 1, 2].map((c) => xi.reduce((s, xv, t) => s + xv * R[t]![r]![c]!, 0));
      const scores = [...proj, ...proj.map((p) => -p)];
      assert.equal(got[r]![i], scores.indexOf(Math.max(...scores)));
    });
  }
  disposeHash(h);
  // collision rate over 3000 independent rounds for pairs at known angles
  const d = 16, rounds = 3000;
  const u = Array.from(rng.normalArray(d)), w0 = Array.from(rng.normalArray(d));
  const nu = Math.hypot(...u);
  const e1 = u.map((t) => t / nu);
  const dot = w0.reduce((s, t, i) => s + t * e1[i]!, 0);
  const w = w0.map((t, i) => t - dot * e1[i]!);
  const nw = Math.hypot(...w);
  const e2 = w.map((t) => t / nw);
  const thetas = [0.3, 1.2, 2.5];
  const pts = [e1, ...thetas.map((th) => e1.map((t, i) => Math.cos(th) * t + Math.sin(th) * e2[i]!))];
  const h2 = drawHash({ dim: d, nBuckets: 2, nHashes: rounds }, rng);
  const b = hashVectors(tf.tensor2d(pts), h2).arraySync() as number[][]; // [rounds, 4]
  thetas.forEach((th, i) => {
    const rate = b.filter((row) => row[0] === row[i + 1]).length / rounds;
    assert.ok(Math.abs(rate - (1 - th / Math.PI)) < 0.035, `θ=${th}: ${rate} vs ${1 - th / Math.PI}`);
  });
  disposeHash(h2);
  x.dispose();
});

test('coset hash: syndrome of sign bits; collision rate matches its closed form; identity checks = first sign bits', () => {
  const rng = new Rng(8);
  const d = 12, rounds = 3000;
  const h = drawHash({ hash: 'coset', dim: d, nBuckets: 4, nHashes: rounds, hashBits: 5 }, rng);
  assert.equal(h.kind, 'coset');
  if (h.kind !== 'coset') return;
  const A = h.parityCheck.arraySync() as number[][][];
  const e1 = Array.from({ length: d }, (_, i) => (i === 0 ? 1 : 0));
  const e2 = Array.from({ length: d }, (_, i) => (i === 1 ? 1 : 0));
  const thetas = [0.2, 0.8, 2.0];
  const pts = [e1, ...thetas.map((th) => e1.map((t, i) => Math.cos(th) * t + Math.sin(th) * e2[i]!))];
  const b = hashVectors(tf.tensor2d(pts), h).arraySync() as number[][];
  thetas.forEach((th, i) => {
    const rate = b.filter((row) => row[0] === row[i + 1]).length / rounds;
    const expected = A.reduce((s, a) => s + cosetCollisionProbability(th, a), 0) / rounds;
    assert.ok(Math.abs(rate - expected) < 0.035, `θ=${th}: ${rate} vs closed form ${expected}`);
  });
  // all 4 syndromes occur (full-rank parity checks), roughly uniformly for random directions
  disposeHash(h);
  const h20 = drawHash({ hash: 'coset', dim: d, nBuckets: 4, nHashes: 20, hashBits: 5 }, rng);
  const many = tf.tensor2d(rng.normalArray(400 * d), [400, d]);
  const counts = [0, 0, 0, 0];
  for (const row of hashVectors(many, h20).arraySync() as number[][]) for (const x of row) counts[x]!++;
  for (const c of counts) assert.ok(c > 0.2 * 8000 && c < 0.3 * 8000, `bucket counts ${counts.join(', ')}`);
  disposeHash(h20);
  // degenerate parity check [I 0]: bucket = first two sign bits
  const P = tf.tensor3d(rng.normalArray(d * 1 * 4), [d, 1, 4]);
  const I = tf.tensor3d([[[1, 0, 0, 0], [0, 1, 0, 0]]]);
  const X = tf.tensor2d(rng.normalArray(30 * d), [30, d]);
  const got = (cosetHash(X, P, I).arraySync() as number[][])[0]!;
  const proj = tf.matMul(X, tf.reshape(P, [d, 4])).arraySync() as number[][];
  proj.forEach((p, i) => assert.equal(got[i], (p[0]! > 0 ? 1 : 0) + (p[1]! > 0 ? 2 : 0)));
  // same seed → same buckets (for demos)
  const pts2 = [[1, 2, 3], [-1, 0.5, 2], [0, -1, 1]];
  assert.deepEqual(lshBuckets(pts2, { nBuckets: 4, nHashes: 3, hash: 'coset', seed: 5 }), lshBuckets(pts2, { nBuckets: 4, nHashes: 3, hash: 'coset', seed: 5 }));
  tf.dispose([many, P, I, X]);
});

test('coset hash is LSH: near pairs collide more often than far pairs, also inside attention', () => {
  const rng = new Rng(9);
  const q = randn(rng, [1, 1, 7, 4]), v = randn(rng, [1, 1, 7, 4]);
  // one chunk covering the sequence: any hash gives full attention
  const out = lshAttention(q, null, v, { hash: 'coset', bucketSize: 8, nHashes: 2, rng });
  const ref = fullAttention(q, q, v, { sharedQK: true });
  assert.ok(maxDiff(out, ref) < 1e-5);
  const A = [[1, 0, 1, 1], [0, 1, 1, 0]];
  const near = cosetCollisionProbability(0.2, A), far = cosetCollisionProbability(1.5, A);
  assert.ok(near > far && far > 0.25 - 1e-9);
  assert.ok(Math.abs(cosetCollisionProbability(Math.PI / 2, A) - 0.25) < 1e-12, 'orthogonal vectors: uniform syndromes');
  tf.dispose([q, v, out, ref]);
});

test('Linformer with k = n and identity projections equals full attention; shorter inputs slice the projection', () => {
  const rng = new Rng(10);
  const q = randn(rng, [2, 2, 6, 3]), k = randn(rng, [2, 2, 6, 3]), v = randn(rng, [2, 2, 6, 5]);
  const I = tf.eye(6);
  const full = fullAttention(q, k, v);
  for (const [E, F, sharing] of [[I, I, 'headwise'], [I, undefined, 'kv'], [tf.stack([I, I]), tf.stack([I, I]), 'none']] as const) {
    const out = linformerAttention(q, k, v, { E, F, sharing });
    assert.ok(maxDiff(out, full) < 1e-5, `${sharing}: ${maxDiff(out, full)}`);
    out.dispose();
  }
  const E = linformerProjection(3, 8, rng), F = linformerProjection(3, 8, rng);
  const a = linformerAttention(q, k, v, { E, F });
  const b = linformerAttention(q, k, v, { E: tf.slice(E, [0, 0], [3, 6]), F: tf.slice(F, [0, 0], [3, 6]) });
  assert.ok(maxDiff(a, b) === 0);
  tf.dispose([q, k, v, I, full, E, F, a, b]);
});

test('linear attention: non-causal and causal equal the float64 formula; causal (chunked) equals the recurrent form', () => {
  const rng = new Rng(11);
  const q = randn(rng, [1, 2, 7, 3]), k = randn(rng, [1, 2, 7, 3]), v = randn(rng, [1, 2, 7, 2]);
  const phi = (x: number): number => (x > 0 ? x + 1 : Math.exp(x));
  const ref = (causal: boolean): tf.Tensor4D =>
    refPerHead(q, k, v, (Q, K, V) =>
      Q.map((qi, i) => {
        const w = K.map((kj, j) => (causal && j > i ? 0 : qi.reduce((s, x, t) => s + phi(x) * phi(kj[t]!), 0)));
        const z = w.reduce((a, b) => a + b, 0);
        return V[0]!.map((_, t) => V.reduce((s, vj, j) => s + w[j]! * vj[t]!, 0) / (z + 1e-6));
      }),
    );
  for (const causal of [false, true]) {
    const r = ref(causal);
    for (const chunkSize of [1, 3, 7, 64]) {
      const out = linearAttention(q, k, v, { causal, chunkSize });
      assert.ok(maxDiff(out, r) < 1e-5, `causal=${causal} chunk=${chunkSize}: ${maxDiff(out, r)}`);
      out.dispose();
    }
    r.dispose();
  }
  const chunked = linearAttention(q, k, v, { causal: true, chunkSize: 3 });
  let state: LinearAttentionState | null = null;
  for (let t = 0; t < 7; t++) {
    const at = (x: Tensor): Tensor => tf.squeeze(tf.slice(x, [0, 0, t, 0], [-1, -1, 1, -1]), [2]);
    const step: { output: tf.Tensor3D; state: LinearAttentionState } = linearAttentionStep(at(q), at(k), at(v), state);
    const want = at(chunked);
    assert.ok(maxDiff(step.output, want) < 1e-5, `step ${t}`);
    state = step.state;
  }
  assert.equal(state!.steps, 7);
  tf.dispose([q, k, v, chunked]);
});

test("Performer: error against softmax attention falls as nbFeatures grows; causal equals its recurrent form", () => {
  const rng = new Rng(12);
  const ms = [4, 32, 256];
  const errs = ms.map(() => 0);
  for (let t = 0; t < 4; t++) {
    const q = randn(rng, [1, 2, 16, 8], 0.6), k = randn(rng, [1, 2, 16, 8], 0.6), v = randn(rng, [1, 2, 16, 4]);
    const full = fullAttention(q, k, v);
    ms.forEach((m, i) => {
      const out = performerAttention(q, k, v, { nbFeatures: m, rng: new Rng(50 + t * 7 + i) });
      errs[i]! += meanAbs(out, full) / 4;
      out.dispose();
    });
    tf.dispose([q, k, v, full]);
  }
  assert.ok(errs[0]! > errs[1]! && errs[1]! > errs[2]!, `errors ${errs.join(', ')}`);
  assert.ok(errs[2]! < 0.05, `256 features should approximate softmax well: ${errs[2]}`);
  const q = randn(rng, [1, 1, 5, 4]), k = randn(rng, [1, 1, 5, 4]), v = randn(rng, [1, 1, 5, 2]);
  const features = drawOrthogonalFeatures(6, 4, rng);
  const causal = performerAttention(q, k, v, { causal: true, features, chunkSize: 2 });
  let state: LinearAttentionState | null = null;
  for (let t = 0; t < 5; t++) {
    const at = (x: Tensor): Tensor => tf.squeeze(tf.slice(x, [0, 0, t, 0], [-1, -1, 1, -1]), [2]);
    const step: { output: tf.Tensor3D; state: LinearAttentionState } = linearAttentionStep(at(q), at(k), at(v), state, { featureMap: (x, isQuery) => performerFeatureMap(x, features, isQuery) });
    assert.ok(maxDiff(step.output, at(causal)) < 1e-5, `step ${t}`);
    state = step.state;
  }
  // orthogonal blocks: rows within a block are orthogonal
  const f = drawOrthogonalFeatures(4, 4, rng).arraySync() as number[][];
  for (let i = 0; i < 4; i++) for (let j = 0; j < i; j++) assert.ok(Math.abs(f[i]!.reduce((s, x, t) => s + x * f[j]![t]!, 0)) < 1e-4);
  tf.dispose([q, k, v, features, causal]);
});

test('every kind: gradients match finite differences (small shapes)', () => {
  const rng = new Rng(13);
  const q = randn(rng, [1, 2, 5, 3]), k = randn(rng, [1, 2, 5, 3]), v = randn(rng, [1, 2, 5, 3]);
  const r = randn(rng, [1, 2, 5, 3]);
  const E = linformerProjection(3, 5, rng), F = linformerProjection(3, 5, rng);
  const features = drawOrthogonalFeatures(8, 3, rng);
  const mask = tf.tensor2d([[1, 1, 1, 0, 1]]);
  const cases = [
    { kind: 'full', causal: true, mask },
    { kind: 'linformer', E, F, mask },
    { kind: 'linear', causal: true, chunkSize: 2, mask },
    { kind: 'linear', causal: false },
    { kind: 'performer', causal: true, features, chunkSize: 2 },
    { kind: 'performer', causal: false, features, mask },
  ] as const;
  for (const opts of cases) {
    const f = (qq: Tensor, kk: Tensor, vv: Tensor): tf.Scalar => tf.sum(tf.mul(attention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, opts), r));
    assert.deepEqual(gradientMismatches(f, [q, k, v], rng, { samples: 4 }), [], `${opts.kind} causal=${'causal' in opts ? String(opts.causal) : 'false'}`);
  }
  tf.dispose([q, k, v, r, E, F, features, mask]);
});

test('bad options and inputs give PaperlabErrors that name the argument', () => {
  const rng = new Rng(14);
  const q = randn(rng, [1, 2, 8, 4]), v = randn(rng, [1, 2, 8, 4]);
  throwsPaperlab(() => lshAttention(q, null, v, { nBuckets: 5 }), 'nBuckets', /odd bucket count/);
  throwsPaperlab(() => lshAttention(q, null, v, { hash: 'coset', nBuckets: 6 }), 'nBuckets', /power of two/);
  throwsPaperlab(() => lshAttention(q, null, v, { bucketSize: 0 }), 'bucketSize');
  throwsPaperlab(() => linformerProjection(10, 8, rng), 'k', /k > n/);
  throwsPaperlab(() => linformerAttention(q, q, v, { E: tf.ones([10, 8]) }), 'E', /k > n/);
  throwsPaperlab(() => linformerAttention(q, q, v, { E: tf.ones([4, 6]) }), 'k', /exceeds the projection/);
  throwsPaperlab(() => linformerAttention(q, q, v, { E: tf.ones([4, 8]), causal: true }), 'causal', /no causal form/);
  const k3 = randn(rng, [1, 2, 8, 3]);
  throwsPaperlab(() => fullAttention(q, k3, v), 'k', /mismatched head dims/);
  throwsPaperlab(() => linearAttention(q, k3, v), 'k', /mismatched head dims/);
  throwsPaperlab(() => lshAttention(q, k3 as tf.Tensor4D, v), 'k', /shared-QK/);
  const nan = tf.tensor4d(Float32Array.from(q.dataSync(), (x, i) => (i === 5 ? Number.NaN : x)), [1, 2, 8, 4]);
  for (const kind of ['full', 'lsh', 'linear', 'performer'] as const) throwsPaperlab(() => attention(nan, nan, v, { kind }), 'q', /NaN/);
  throwsPaperlab(() => attention(q, q, v, { kind: 'sparse' as 'full' }), 'kind');
  throwsPaperlab(() => fullAttention(q, q, v, { mask: tf.ones([1, 7]) }), 'mask');
  throwsPaperlab(() => fullAttention(tf.ones([2, 8, 4]) as unknown as tf.Tensor4D, q, v), 'q', /rank 4/);
  tf.dispose([q, v, k3, nan]);
});

test('measureAttention: peak memory of a forward+backward pass grows ~n² for full attention and ~n for the others', async () => {
  for (const kind of ['full', 'lsh', 'linformer', 'linear', 'performer'] as const) {
    const peaks: number[] = [];
    for (const seqLen of [64, 128, 256]) {
      const m = await measureAttention({ kind, seqLen, heads: 1, dHead: 8, repeats: 1, warmup: 0, bucketSize: 16, nHashes: 2, k: 16, nbFeatures: 16 });
      assert.ok(m.forwardMs >= 0 && m.forwardBackwardMs >= 0 && m.peakBytes > 0 && m.seqLen === seqLen);
      peaks.push(m.peakBytes);
    }
    const growth = [peaks[1]! / peaks[0]!, peaks[2]! / peaks[1]!];
    for (const g of growth) {
      if (kind === 'full') assert.ok(g > 3.2, `full: ×${g.toFixed(2)} per doubling`);
      else assert.ok(g > 1.8 && g < 2.2, `${kind}: ×${g.toFixed(2)} per doubling`);
    }
  }
});
