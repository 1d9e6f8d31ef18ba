/**
 * SupCon / NT-Xent against closed forms and an independent float64 implementation of the paper's
 * L_out formula; gradients by finite differences of that reference; the edge cases (singleton
 * classes, one view, unnormalised inputs) and argument errors; the probe utilities.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import {
  BatchNorm,
  BatchSampler,
  Dense,
  Encoder,
  ProjectionHead,
  collapsedLoss,
  evaluateClassifier,
  pretrainContrastive,
  trainCrossEntropy,
  embeddingStd,
  knnAccuracy,
  l2Normalize,
  linearProbe,
  ntXentLoss,
  detach,
  supConLoss,
  supConLossViewMajor,
} from '../src/contrastive/index.js';

await tf.setBackend('cpu');
tf.enableProdMode();

type Feats = number[][][]; // [batch][views][dim]

/** The paper's L_out, written from the formula: float64, loops, no shared code. */
function refSupCon(f: Feats, labels: number[] | null, T: number, Tb: number, mode: 'all' | 'one', normalize = true): number {
  const B = f.length;
  const V = f[0]!.length;
  const items: Array<{ s: number; z: number[] }> = [];
  for (let v = 0; v < V; v++) {
    for (let s = 0; s < B; s++) {
      const z = f[s]![v]!;
      const n = normalize ? Math.max(Math.hypot(...z), 1e-12) : 1;
      items.push({ s, z: z.map((x) => x / n) });
    }
  }
  const dot = (a: number[], b: number[]) => a.reduce((acc, x, i) => acc + x * b[i]!, 0);
  const anchors = mode === 'all' ? items.length : B;
  let total = 0;
  for (let i = 0; i < anchors; i++) {
    const zi = items[i]!;
    let denom = 0;
    for (let k = 0; k < items.length; k++) if (k !== i) denom += Math.exp(dot(zi.z, items[k]!.z) / T);
    let sum = 0;
    let count = 0;
    for (let p = 0; p < items.length; p++) {
      if (p === i) continue;
      const same = labels ? labels[items[p]!.s] === labels[zi.s] : items[p]!.s === zi.s;
      if (!same) continue;
      sum += Math.log(Math.exp(dot(zi.z, items[p]!.z) / T) / denom);
      count++;
    }
    if (count > 0) total += (-(T / Tb) * sum) / count;
  }
  return total / anchors;
}

/** SimCLR's NT-Xent from its formula: cosine similarity, ℓ(i,j) averaged over all 2N ordered pairs. */
function refNtXent(z1: number[][], z2: number[][], T: number): number {
  const all = [...z1, ...z2];
  const N = z1.length;
  const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b));
  let total = 0;
  for (let i = 0; i < 2 * N; i++) {
    const j = i < N ? i + N : i - N;
    let denom = 0;
    for (let k = 0; k < 2 * N; k++) if (k !== i) denom += Math.exp(cos(all[i]!, all[k]!) / T);
    total += -Math.log(Math.exp(cos(all[i]!, all[j]!) / T) / denom);
  }
  return total / (2 * N);
}

function randFeats(rng: Rng, B: number, V: number, D: number, scale = 1): Feats {
  return Array.from({ length: B }, () => Array.from({ length: V }, () => Array.from(rng.normalArray(D, 0, scale))));
}

function lossOf(f: Feats, labels: number[] | null, opts: Parameters<typeof supConLoss>[2] = {}): number {
  const t = tf.tensor3d(f);
  const l = supConLoss(t, labels, opts);
  const v = l.dataSync()[0]!;
  tf.dispose([t, l]);
  return v;
}

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('two samples, two views: loss equals the closed form, with and without labels', () => {
  // sample 0 → e1 in both views, sample 1 → e2 in both views; every anchor sees one other view at
  // similarity 1 and two entries at similarity 0.
  const f: Feats = [[[1, 0], [1, 0]], [[0, 1], [0, 1]]];
  const T = 0.5;
  const Tb = 0.07;
  const denom = Math.exp(1 / T) + 2;
  const simclr = -(T / Tb) * (1 / T - Math.log(denom));
  close(lossOf(f, null, { temperature: T, baseTemperature: Tb }), simclr, 1e-5, 'no labels');
  close(lossOf(f, [0, 1], { temperature: T, baseTemperature: Tb }), simclr, 1e-5, 'distinct labels = SimCLR');
  // Same label: the positives are the other view (sim 1) and both views of the other sample (sim 0).
  const sup = -(T / Tb) * ((1 / T + 0 + 0) / 3 - Math.log(denom));
  close(lossOf(f, [3, 3], { temperature: T, baseTemperature: Tb }), sup, 1e-5, 'shared label');
  // 'one' mode: only the first views are anchors; by symmetry the same values.
  close(lossOf(f, [3, 3], { temperature: T, baseTemperature: Tb, contrastMode: 'one' }), sup, 1e-5, 'one mode');
});

test('random features: matches the float64 reference for both contrast modes, 1–3 views', () => {
  const rng = new Rng(3);
  for (const [B, V, D] of [[6, 2, 5], [5, 3, 4], [4, 1, 3]] as const) {
    const f = randFeats(rng, B, V, D);
    const labels = Array.from({ length: B }, (_, i) => i % 3);
    for (const mode of ['all', 'one'] as const) {
      for (const lab of [labels, null]) {
        const opts = { temperature: 0.1, baseTemperature: 0.07, contrastMode: mode };
        close(lossOf(f, lab, opts), refSupCon(f, lab, 0.1, 0.07, mode), 2e-4, `B${B} V${V} ${mode} ${lab ? 'labels' : 'none'}`);
      }
    }
  }
});

test('view-major entry point equals the [batch, views, dim] one', () => {
  const rng = new Rng(4);
  const f = randFeats(rng, 5, 2, 4);
  const labels = [0, 1, 0, 2, 1];
  const t = tf.tensor3d(f);
  const vm = tf.reshape(tf.transpose(t, [1, 0, 2]), [10, 4]);
  const a = supConLoss(t, labels, { temperature: 0.2 }).dataSync()[0]!;
  const b = supConLossViewMajor(vm, 2, labels, { temperature: 0.2 }).dataSync()[0]!;
  close(a, b, 1e-6, 'view-major');
});

test('labels = none is NT-Xent: ntXentLoss equals SimCLR\'s formula and supConLoss with τ_base = τ', () => {
  const rng = new Rng(5);
  const N = 6;
  const D = 4;
  const z1 = Array.from({ length: N }, () => Array.from(rng.normalArray(D)));
  const z2 = Array.from({ length: N }, () => Array.from(rng.normalArray(D)));
  const ref = refNtXent(z1, z2, 0.3);
  const nt = ntXentLoss(tf.tensor2d(z1), tf.tensor2d(z2), { temperature: 0.3 }).dataSync()[0]!;
  close(nt, ref, 1e-4, 'ntXentLoss');
  const f: Feats = z1.map((row, i) => [row, z2[i]!]);
  close(lossOf(f, null, { temperature: 0.3, baseTemperature: 0.3 }), ref, 1e-4, 'supConLoss(labels=none)');
});

test('invariant to the scale of the features (they are normalised inside)', () => {
  const rng = new Rng(6);
  const f = randFeats(rng, 5, 2, 6);
  const labels = [0, 0, 1, 1, 2];
  const base = lossOf(f, labels, { temperature: 0.1 });
  for (const c of [1e-3, 7, 1e4]) close(lossOf(f.map((s) => s.map((v) => v.map((x) => x * c))), labels, { temperature: 0.1 }), base, 1e-4, `scale ${c}`);
});

test('gradient w.r.t. the features matches finite differences of the float64 reference', () => {
  const rng = new Rng(7);
  const B = 4;
  const V = 2;
  const D = 3;
  const f = randFeats(rng, B, V, D);
  const labels = [0, 1, 0, 2];
  for (const mode of ['all', 'one'] as const) {
    const g = tf.grad((x: tf.Tensor) => supConLoss(x, labels, { temperature: 0.2, baseTemperature: 0.07, contrastMode: mode }))(tf.tensor3d(f));
    const got = g.dataSync();
    const h = 1e-5;
    let i = 0;
    for (let s = 0; s < B; s++) {
      for (let v = 0; v < V; v++) {
        for (let d = 0; d < D; d++, i++) {
          const plus = f.map((a) => a.map((b) => b.slice()));
          const minus = f.map((a) => a.map((b) => b.slice()));
          plus[s]![v]![d]! += h;
          minus[s]![v]![d]! -= h;
          const fd = (refSupCon(plus, labels, 0.2, 0.07, mode) - refSupCon(minus, labels, 0.2, 0.07, mode)) / (2 * h);
          assert.ok(Math.abs(got[i]! - fd) < 2e-3 * Math.max(1, Math.abs(fd)), `${mode} d/df[${s}][${v}][${d}]: ${got[i]} vs ${fd}`);
        }
      }
    }
  }
});

test('no NaN: singleton classes, a single view, anchors without positives, huge unnormalised inputs', () => {
  const rng = new Rng(8);
  // Every label distinct and one view: no anchor has a positive → 0, with a finite (zero) gradient.
  const one = tf.tensor3d(randFeats(rng, 4, 1, 3));
  const l0 = supConLoss(one, [0, 1, 2, 3]);
  assert.equal(Math.abs(l0.dataSync()[0]!), 0);
  const g0 = tf.grad((x: tf.Tensor) => supConLoss(x, [0, 1, 2, 3]))(one).dataSync();
  assert.ok(g0.every((v) => v === 0));
  // One singleton among pairs: it contributes 0 but still counts in the mean, as in the reference.
  const f = randFeats(rng, 3, 1, 3);
  const mixed = lossOf(f, [0, 0, 1]);
  assert.ok(Number.isFinite(mixed));
  close(mixed, refSupCon(f, [0, 0, 1], 0.07, 0.07, 'all'), 1e-4, 'singleton mixed');
  // A batch of one sample with one view has nothing to contrast with: 0, not NaN.
  assert.equal(Math.abs(lossOf([[[1, 2]]], null)), 0);
  // Unnormalised, large features with normalize: false stay finite (the reference gives NaN here).
  const big = randFeats(rng, 4, 2, 3, 100);
  const lb = lossOf(big, [0, 1, 0, 1], { normalize: false, temperature: 0.1 });
  assert.ok(Number.isFinite(lb), `got ${lb}`);
  const gb = tf.grad((x: tf.Tensor) => supConLoss(x, [0, 1, 0, 1], { normalize: false, temperature: 0.1 }))(tf.tensor3d(big)).dataSync();
  assert.ok(gb.every(Number.isFinite));
});

test('collapse signature: identical embeddings give (τ/τ_base)·ln(2N−1), with or without labels', () => {
  close(collapsedLoss(256, 2, 0.1, 0.07), 8.909, 1e-3, 'batch 256');
  const N = 8;
  const f: Feats = Array.from({ length: N }, () => [[0.3, -1, 2], [0.3, -1, 2]]);
  close(lossOf(f, null, { temperature: 0.1, baseTemperature: 0.07 }), collapsedLoss(N, 2, 0.1, 0.07), 1e-5, 'simclr');
  close(lossOf(f, [0, 1, 2, 0, 1, 2, 0, 1], { temperature: 0.1, baseTemperature: 0.07 }), collapsedLoss(N, 2, 0.1, 0.07), 1e-5, 'supcon');
});

test('bad arguments give PaperlabErrors that name the argument', () => {
  const f = tf.zeros([4, 2, 3]);
  const expect = (fn: () => unknown, arg: string) =>
    assert.throws(fn, (e: unknown) => e instanceof PaperlabError && e.argument === arg, `expected a PaperlabError on '${arg}'`);
  expect(() => supConLoss(tf.zeros([4, 3]), null), 'features');
  expect(() => supConLoss(f, [0, 1, 2]), 'labels');
  expect(() => supConLoss(f, [0, 1, 2, 0.5]), 'labels');
  expect(() => supConLoss(f, null, { temperature: 0 }), 'temperature');
  expect(() => supConLoss(f, null, { contrastMode: 'some' as 'all' }), 'contrastMode');
  expect(() => ntXentLoss(tf.zeros([4, 3]), tf.zeros([5, 3])), 'z2');
  expect(() => supConLossViewMajor(tf.zeros([5, 3]), 2, null), 'features');
});

test('detach (stop-gradient) and l2Normalize', () => {
  const x = tf.tensor1d([3, 4]);
  assert.deepEqual(Array.from(l2Normalize(x).dataSync()).map((v) => Number(v.toFixed(6))), [0.6, 0.8]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.add(tf.mul(detach(a), a), detach(tf.square(a)))))(x).dataSync();
  assert.deepEqual(Array.from(g), [3, 4]); // d/da [sg(a)·a] = sg(a)
  assert.deepEqual(Array.from(detach(x).dataSync()), [3, 4]);
});

test('BatchSampler visits every index once per epoch', () => {
  const s = new BatchSampler(10, 3, new Rng(1));
  const seen = [...s.next(), ...s.next(), ...s.next()].sort((a, b) => a - b);
  assert.equal(new Set(seen).size, 9);
  assert.throws(() => new BatchSampler(2, 3, new Rng(1)), PaperlabError);
});

test('embeddingStd is 0 on constant embeddings and ≈ 1/√d on random ones; kNN and the probe read separable data', async () => {
  assert.equal(embeddingStd(tf.tile(tf.tensor2d([[1, -2, 3, 0.5]]), [50, 1])), 0);
  const d = 64;
  const rng = new Rng(9);
  const s = embeddingStd(tf.tensor2d(rng.normalArray(4000 * d), [4000, d]));
  close(s, 1 / Math.sqrt(d), 0.02, 'random std·√d');
  // Two Gaussian blobs far apart: kNN and the linear probe both get them all right.
  const mk = (n: number) => {
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = i % 2;
      x.push([c ? 4 : -4, 0, 0].map((m) => m + rng.normal()));
      y.push(c);
    }
    return { x: tf.tensor2d(x), y: tf.tensor1d(y, 'int32') };
  };
  const tr = mk(200);
  const te = mk(100);
  assert.equal(knnAccuracy(tr.x, tr.y, te.x, te.y, 5), 1);
  const p = await linearProbe(tr.x, tr.y, te.x, te.y, { steps: 100, rng });
  assert.ok(p.testAccuracy > 0.98, `probe ${p.testAccuracy}`);
  // kNN on a hand case: the nearest neighbours decide.
  const trX = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
  const trY = tf.tensor1d([0, 0, 1, 1], 'int32');
  assert.equal(knnAccuracy(trX, trY, tf.tensor2d([[1, 0.05], [0.05, 1]]), tf.tensor1d([0, 1], 'int32'), 1), 1);
  assert.equal(knnAccuracy(trX, trY, tf.tensor2d([[1, 0.05], [0.05, 1]]), tf.tensor1d([1, 1], 'int32'), 2), 0.5);
});

test('BatchNorm: batch statistics in training (closed form), running averages in evaluation', () => {
  const bn = new BatchNorm(2, 0.9);
  const x = tf.tensor2d([[1, 10], [3, 10], [5, 16]]);
  const y = bn.apply(x, true).arraySync() as number[][];
  // channel 0: mean 3, biased var 8/3; channel 1: mean 12, var 8
  const s0 = Math.sqrt(8 / 3 + 1e-5);
  const s1 = Math.sqrt(8 + 1e-5);
  [[(1 - 3) / s0, (10 - 12) / s1], [0, (10 - 12) / s1], [(5 - 3) / s0, (16 - 12) / s1]].forEach((row, i) => row.forEach((v, j) => close(y[i]![j]!, v, 1e-5, `bn[${i}][${j}]`)));
  assert.deepEqual(Array.from(bn.runningMean.dataSync()).map((v) => Number(v.toFixed(5))), [0.3, 1.2]);
  close(bn.runningVar.dataSync()[1]!, 0.9 + 0.1 * 8, 1e-6, 'running var');
  const e = bn.apply(tf.tensor2d([[0.3, 1.2]]), false).dataSync();
  close(e[0]!, 0, 1e-6, 'eval uses running mean');
});

test('encoders: CNN and pooled-MLP shapes; the same seed gives the same weights', () => {
  const x = tf.zeros([3, 28, 28, 1]) as tf.Tensor4D;
  const cnn = new Encoder({ kind: 'cnn', channels: [4, 8], dim: 16 }, new Rng(1));
  assert.deepEqual(cnn.apply(x).shape, [3, 16]);
  assert.deepEqual(cnn.variables()['dense0/w']!.shape, [7 * 7 * 8, 16]);
  const mlp = new Encoder({ kind: 'mlp', inputPool: 2, hidden: [32], dim: 8 }, new Rng(1));
  assert.deepEqual(mlp.variables()['dense0/w']!.shape, [14 * 14, 32]);
  assert.deepEqual(mlp.apply(x).shape, [3, 8]);
  const again = new Encoder({ kind: 'mlp', inputPool: 2, hidden: [32], dim: 8 }, new Rng(1));
  assert.deepEqual(Array.from(again.variables()['dense0/w']!.dataSync()), Array.from(mlp.variables()['dense0/w']!.dataSync()));
  assert.throws(() => mlp.apply(tf.zeros([2, 14, 14, 1]) as tf.Tensor4D), (e: unknown) => e instanceof PaperlabError && e.argument === 'images');
  assert.throws(() => new Encoder({ kind: 'rnn' as 'cnn' }, new Rng(1)), (e: unknown) => e instanceof PaperlabError && e.argument === 'encoder.kind');
});

test('trainers: a few seeded steps are finite and reproducible; bad arguments are named', async () => {
  const small = { kind: 'mlp' as const, hidden: [16], dim: 8, imageSize: 6 };
  const rng = new Rng(11);
  const x = tf.tensor4d(rng.uniformArray(40 * 36), [40, 6, 6, 1]);
  const y = tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 4), 'int32');
  const run = async (method: 'supcon' | 'simclr') => {
    const r = new Rng(12);
    const enc = new Encoder(small, r.fork('e'));
    const head = new ProjectionHead(8, r.fork('h'), { out: 4 });
    return (await pretrainContrastive(enc, head, x, y, { method, steps: 3, batchSize: 8, rng: r.fork('t'), quiet: true })).losses;
  };
  const a = await run('supcon');
  assert.deepEqual(a, await run('supcon'));
  assert.ok(a.every(Number.isFinite));
  assert.ok((await run('simclr')).every(Number.isFinite));
  const enc = new Encoder(small, new Rng(13));
  const clf = new Dense(8, 4, new Rng(14));
  const ce = await trainCrossEntropy(enc, clf, x, y, { steps: 3, batchSize: 8, rng: new Rng(15), quiet: true });
  assert.ok(ce.losses.every(Number.isFinite));
  const acc = evaluateClassifier(enc, clf, x, y);
  assert.ok(acc >= 0 && acc <= 1);
  const head = new ProjectionHead(8, new Rng(16));
  await assert.rejects(pretrainContrastive(enc, head, x, undefined, { method: 'supcon', steps: 1, batchSize: 8, rng }), (e: unknown) => e instanceof PaperlabError && e.argument === 'labels');
  await assert.rejects(pretrainContrastive(enc, new ProjectionHead(5, new Rng(1)), x, y, { method: 'simclr', steps: 1, batchSize: 8, rng }), (e: unknown) => e instanceof PaperlabError && e.argument === 'head');
  await assert.rejects(pretrainContrastive(enc, head, x, y, { method: 'simclr', steps: 1, batchSize: 80, rng }), (e: unknown) => e instanceof PaperlabError && e.argument === 'batchSize');
});
