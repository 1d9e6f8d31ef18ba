/**
 * Radioactive data: carriers, alignment, detection, marking, black-box statistic and the small
 * networks, against references computed independently (known rotations, closed forms, pixel
 * bounds, exact H0 behaviour on a seeded clean model).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../src/core/tf.js';
import { initEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { loadMnist } from '../src/data/mnist.js';
import {
  makeCarriers,
  alignFeatures,
  choleskySolve,
  mapWeights,
  scoreCarriers,
  projectOut,
  cosinePvalue,
  detect,
  lossGapStatistic,
  blackBoxTest,
  markImages,
  psnr,
  randomShift,
  createNet,
  trainClassifier,
  accuracy,
  saveNet,
  loadNet,
  logCosinePvalue,
  logStudentTSurvival,
  type FeatureClassifier,
  type Classifier,
  type Carriers,
} from '../src/radioactive/index.js';

await initEngine({ backend: 'cpu', seed: 0 });

/** A random orthogonal matrix [d, d] (Gram–Schmidt on Gaussian columns), row-major. */
function randomOrthogonal(d: number, rng: Rng): Float64Array {
  const q = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i]! * q[i * d + p]!;
      for (let i = 0; i < d; i++) v[i]! -= dot * q[i * d + p]!;
    }
    const n = Math.hypot(...v);
    for (let i = 0; i < d; i++) q[i * d + j] = v[i]! / n;
  }
  return q;
}

function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) for (let j = 0; j < m; j++) out[i * m + j]! += a[i * k + p]! * b[p * m + j]!;
  return out;
}

test('makeCarriers: unit rows, reproducible from the seed, independent across seeds', () => {
  const a = makeCarriers(10, 64, 7);
  const b = makeCarriers(10, 64, 7);
  const c = makeCarriers(10, 64, 8);
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  for (let k = 0; k < 10; k++) {
    let n = 0;
    for (let j = 0; j < 64; j++) n += a.data[k * 64 + j]! ** 2;
    assert.ok(Math.abs(n - 1) < 1e-6);
  }
  assert.throws(() => makeCarriers(0, 8, 1), PaperlabError);
  assert.throws(() => makeCarriers(3, 1, 1), PaperlabError);
});

test('alignment recovers a known rotation (with offsets) and maps weights back exactly', () => {
  const rng = new Rng(11);
  const n = 300;
  const d = 12;
  const fm = Float64Array.from({ length: n * d }, () => rng.normal() + 2); // non-zero mean, like ReLU features
  const r = randomOrthogonal(d, rng);
  const ft = matmul(fm, r, n, d, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) ft[i * d + j]! += j - 5; // per-feature offsets
  const al = alignFeatures(fm, ft, n, d, d, { ridge: 0 });
  let err = 0;
  for (let i = 0; i < d * d; i++) err = Math.max(err, Math.abs(al.m[i]! - r[i]!));
  assert.ok(err < 1e-8, `max |M − R| = ${err}`);
  assert.ok(al.r2 > 1 - 1e-12);
  // A suspect head W_t = Rᵀ·W_m is mapped back to W_m.
  const wm = Float64Array.from({ length: d * 3 }, () => rng.normal());
  const rt = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) rt[i * d + j] = r[j * d + i]!;
  const back = mapWeights(al, matmul(rt, wm, d, d, 3), 3);
  for (let i = 0; i < wm.length; i++) assert.ok(Math.abs(back[i]! - wm[i]!) < 1e-8, `mapped weight ${i}: ${back[i]} vs ${wm[i]}`);
  // Into a larger suspect space (d_t > d_m) too.
  const wide = Float64Array.from({ length: d * 20 }, () => rng.normal());
  const al2 = alignFeatures(fm, matmul(fm, wide, n, d, 20), n, d, 20, { ridge: 0 });
  for (let i = 0; i < wide.length; i++) assert.ok(Math.abs(al2.m[i]! - wide[i]!) < 1e-8);
  assert.throws(() => alignFeatures(fm.subarray(0, 10 * d), ft.subarray(0, 10 * d), 10, d, d), (e: unknown) => e instanceof PaperlabError && e.argument === 'held-out images');
});

test('choleskySolve solves a symmetric positive-definite system', () => {
  // A = [[4, 2], [2, 3]], B = [[2], [1]] → X = [[0.5], [0]].
  const x = choleskySolve(Float64Array.from([4, 2, 2, 3]), Float64Array.from([2, 1]), 2, 1);
  assert.ok(Math.abs(x[0]! - 0.5) < 1e-14 && Math.abs(x[1]!) < 1e-14);
});

test('scoreCarriers: cosines and p-values of hand-made weights', () => {
  const c: Carriers = { numClasses: 2, dim: 3, data: Float32Array.from([1, 0, 0, 0, 1, 0]) };
  // [d, K] weights: class 0 = (1, 1, 0)/√2·anything, class 1 = (0, −1, 0).
  const s = scoreCarriers([2, 0, 2, -5, 0, 0], c);
  assert.ok(Math.abs(s.cosines[0]! - Math.SQRT1_2) < 1e-12);
  assert.ok(Math.abs(s.cosines[1]! + 1) < 1e-12);
  // d = 3: P(C ≥ c) = (1 − c)/2.
  assert.ok(Math.abs(s.log10p[0]! - Math.log10((1 - Math.SQRT1_2) / 2)) < 1e-12);
  assert.ok(Math.abs(s.log10p[1]!) < 1e-12);
  assert.throws(() => scoreCarriers([0, 0, 0, 0, 0, 0], c), PaperlabError);
});

test('projectOut removes a span exactly and keeps the random-cosine law (simulated)', () => {
  const rng = new Rng(17);
  const d = 12;
  const k = 3;
  const basis = Float64Array.from({ length: d * 2 }, () => rng.normal()); // [d, 2]
  const w = Float64Array.from({ length: d * k }, () => rng.normal());
  const p = projectOut(w, d, k, basis, 2);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < 2; j++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += p[i * k + c]! * basis[i * 2 + j]!;
      assert.ok(Math.abs(dot) < 1e-10, 'projected weights not orthogonal to the removed span');
    }
  }
  // Projecting twice changes nothing; a dependent extra column is ignored.
  const again = projectOut(p, d, k, Float64Array.from({ length: d * 3 }, (_, i) => (i % 3 === 2 ? basis[Math.floor(i / 3) * 2]! * 2 : basis[Math.floor(i / 3) * 2 + (i % 3)]!)), 3);
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(again[i]! - p[i]!) < 1e-10);
  // Under H0 (random carriers), the cosine of a projected fixed vector still follows the d-dim law.
  const draws = 4000;
  let hits = 0;
  const fixed = projectOut(Float64Array.from({ length: d }, () => rng.normal()), d, 1, basis, 2);
  for (let t = 0; t < draws; t++) {
    const s = scoreCarriers(fixed, makeCarriers(1, d, rng.fork(`c${t}`)));
    if (s.cosines[0]! >= 0.3) hits++;
  }
  const pth = cosinePvalue(0.3, d);
  assert.ok(Math.abs(hits / draws - pth) < 5 * Math.sqrt((pth * (1 - pth)) / draws), `${hits / draws} vs ${pth}`);
});

/** Linear test double: features = x_flat·A (marker) or x_flat·A·R (suspect), head given. */
class LinearNet implements FeatureClassifier {
  constructor(
    readonly a: tf.Tensor2D,
    readonly head: tf.Tensor2D,
  ) {}
  get numClasses(): number {
    return this.head.shape[1];
  }
  get featureDim(): number {
    return this.a.shape[1];
  }
  features(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(tf.reshape(x, [x.shape[0], -1]), this.a));
  }
  logits(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.matMul(this.features(x), this.head));
  }
  classifierWeights(): tf.Tensor2D {
    return this.head;
  }
}

test('detect: a rotated suspect whose head points along the carriers is flagged; a random head is not', () => {
  const rng = new Rng(3);
  const d = 16;
  const k = 10;
  const pix = 36;
  const carriers = makeCarriers(k, d, 5);
  const a = tf.tensor2d(rng.normalArray(pix * d), [pix, d]);
  const r = randomOrthogonal(d, rng);
  const ar = tf.matMul(a, tf.tensor2d(Float32Array.from(r), [d, d])) as tf.Tensor2D;
  // Suspect head (suspect space) = Rᵀ·Uᵀ so that M·W_t = Uᵀ.
  const ut = new Float64Array(d * k);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) ut[j * k + c] = carriers.data[c * d + j]!;
  const rt = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) rt[i * d + j] = r[j * d + i]!;
  const marked = new LinearNet(ar, tf.tensor2d(Float32Array.from(matmul(rt, ut, d, d, k)), [d, k]));
  const clean = new LinearNet(ar, tf.tensor2d(rng.normalArray(d * k), [d, k]));
  const marker = new LinearNet(a, tf.tensor2d(rng.normalArray(d * k), [d, k]));
  const held = tf.tensor4d(rng.normalArray(200 * pix), [200, 6, 6, 1]);
  const hit = detect(marked, marker, carriers, held);
  hit.cosines.forEach((c) => assert.ok(c > 0.999, `cosine ${c}`));
  assert.ok(hit.alignmentR2 > 0.9999);
  // Ten cosines ≈ 1 in 16 dims: each p ≈ 0 in float but the log is finite.
  assert.ok(Number.isFinite(hit.combinedLog10p) && hit.combinedLog10p < -30, `combined ${hit.combinedLog10p}`);
  const withExcl = detect(marked, marker, carriers, held, { exclude: { data: Float64Array.from({ length: d }, (_, i) => (i === 0 ? 1 : 0)), cols: 1 } });
  assert.equal(withExcl.excluded!.cosines.length, k);
  assert.deepEqual(withExcl.cosines, hit.cosines);
  const miss = detect(clean, marker, carriers, held);
  assert.ok(miss.combinedLog10p > Math.log10(0.05), `clean head flagged: ${miss.combinedLog10p}`);
  assert.throws(() => detect(marked, marker, makeCarriers(k, d + 1, 1), held), (e: unknown) => e instanceof PaperlabError && e.argument === 'carriers');
  assert.throws(() => detect(marked, marker, carriers, tf.slice(held, [0, 0, 0, 0], [10, -1, -1, -1])), (e: unknown) => e instanceof PaperlabError && e.argument === 'held-out images');
  tf.dispose([a, ar, held, marked.head, clean.head, marker.head]);
});

test('randomShift: every image is a zero-filled integer translation and gradients reach the pixels', () => {
  const rng = new Rng(1);
  const n = 6;
  const x = tf.tensor4d(Float32Array.from({ length: n * 5 * 5 }, (_, i) => 1 + (i % 25)), [n, 5, 5, 1]);
  const y = randomShift(x, 1, rng, 3);
  const xs = x.arraySync();
  const ys = y.arraySync();
  for (let i = 0; i < n; i++) {
    const ok = [-1, 0, 1].some((dy) => [-1, 0, 1].some((dx) => ys[i]!.every((row, r) => row.every((v, c) => v[0] === (xs[i]![r - dy]?.[c - dx]?.[0] ?? 0)))));
    assert.ok(ok, `image ${i} is not a shift`);
  }
  const g = tf.grad((z: tf.Tensor) => tf.sum(randomShift(z as tf.Tensor4D, 1, new Rng(1), 3)))(x);
  const gs = g.dataSync();
  assert.ok(gs.every((v) => v === 0 || v === 1) && gs.some((v) => v === 1));
  tf.dispose([x, y, g]);
});

test('markImages: L∞ ball, valid 8-bit pixels, PSNR bound, features pushed along the class carrier', async () => {
  const mn = loadMnist({ seed: 0, trainLimit: 16, testLimit: 1 });
  const net = createNet({ arch: 'mlp', inputShape: [28, 28, 1], numClasses: 10, featureDim: 16, hidden: 32 }, new Rng(2));
  const carriers = makeCarriers(10, 16, 9);
  const labels = Int32Array.from(mn.trainY.dataSync());
  const radius = 8 / 255;
  const r = await markImages(mn.trainX, labels, net, carriers, { iterations: 12, radius, roundEvery: 5, maxShift: 0, rng: new Rng(4), quiet: true });
  const x = mn.trainX.dataSync() as Float32Array;
  const m = r.images.dataSync() as Float32Array;
  let maxd = 0;
  for (let i = 0; i < m.length; i++) {
    maxd = Math.max(maxd, Math.abs(m[i]! - x[i]!));
    assert.ok(m[i]! >= 0 && m[i]! <= 1, 'pixel outside [0, 1]');
    assert.ok(Math.abs(m[i]! * 255 - Math.round(m[i]! * 255)) < 1e-3, 'pixel off the 8-bit grid');
  }
  assert.ok(maxd <= radius + 1e-6 && Math.abs(maxd - r.maxAbsDelta) < 1e-7, `max |δ| ${maxd}`);
  assert.ok(r.psnr >= 20 * Math.log10(1 / radius) - 1e-6, `PSNR ${r.psnr} below the L∞ bound`);
  const per = psnr(x, m, 16);
  assert.ok(Math.abs(per.reduce((s, v) => s + v, 0) / 16 - r.psnr) < 1e-9);
  assert.ok(r.featureShift > 0 && r.shiftCosine > 0.2, `shift ${r.featureShift}, cosine ${r.shiftCosine}`);
  // Projection on the image's own carrier beats projection on another class's carrier.
  const f0 = net.features(mn.trainX).arraySync();
  const f1 = net.features(r.images).arraySync();
  let own = 0;
  let other = 0;
  for (let i = 0; i < 16; i++) {
    const k = labels[i]!;
    const o = (k + 1) % 10;
    for (let j = 0; j < 16; j++) {
      own += (f1[i]![j]! - f0[i]![j]!) * carriers.data[k * 16 + j]!;
      other += (f1[i]![j]! - f0[i]![j]!) * carriers.data[o * 16 + j]!;
    }
  }
  assert.ok(own > 2 * Math.abs(other), `own ${own} vs other ${other}`);
  // Same seed → same marks.
  const again = await markImages(mn.trainX, labels, net, carriers, { iterations: 12, radius, roundEvery: 5, maxShift: 0, rng: new Rng(4), quiet: true });
  assert.deepEqual(again.images.dataSync(), r.images.dataSync());
  await assert.rejects(markImages(mn.trainX, labels, net, makeCarriers(10, 8, 1)), (e: unknown) => e instanceof PaperlabError && e.argument === 'carriers');
  await assert.rejects(markImages(tf.mul(mn.trainX, 255) as tf.Tensor4D, labels, net, carriers), (e: unknown) => e instanceof PaperlabError && /255/.test(e.fix));
  tf.dispose([r.images, again.images, mn.trainX, mn.trainY, mn.testX, mn.testY]);
  net.dispose();
});

test('black-box statistic: Student-t prediction formula; a model preferring marked images is flagged', () => {
  const controls = [0.01, -0.02, 0.0, 0.015, -0.005];
  const s = lossGapStatistic(0.1, controls);
  const mean = controls.reduce((a, b) => a + b) / 5;
  const sd = Math.sqrt(controls.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
  assert.ok(Math.abs(s.t - (0.1 - mean) / (sd * Math.sqrt(1.2))) < 1e-12);
  assert.equal(s.dof, 4);
  assert.ok(Math.abs(s.log10p - logStudentTSurvival(s.t, 4) / Math.LN10) < 1e-12);
  assert.throws(() => lossGapStatistic(0.1, [0.2]), PaperlabError);

  // Test double: logits favour the label by the mean pixel value, so brighter (marked) images have lower loss.
  const byBrightness: Classifier = {
    numClasses: 2,
    logits: (x) => tf.tidy(() => {
      const m = tf.mul(tf.mean(tf.reshape(x, [x.shape[0], -1]), 1, true), 5);
      return tf.concat([m, tf.neg(m)], 1) as tf.Tensor2D;
    }),
  };
  const rng = new Rng(8);
  const base = tf.tensor4d(rng.uniformArray(20 * 16, 0.2, 0.6), [20, 4, 4, 1]);
  const probe = {
    originals: base,
    labels: new Int32Array(20),
    marked: tf.add(base, 0.02) as tf.Tensor4D,
    controls: Array.from({ length: 6 }, (_, j) => tf.add(base, tf.tensor4d(rng.normalArray(20 * 16, 0, 0.003 * (j + 1)), [20, 4, 4, 1])) as tf.Tensor4D),
    psnr: Number.NaN,
  };
  const hit = blackBoxTest(byBrightness, probe);
  assert.ok(hit.gap > 0 && hit.log10p < -3, `gap ${hit.gap}, log10 p ${hit.log10p}`);
  // One class present: the Fisher combination is that class's own test, equal to the pooled one.
  assert.equal(hit.classLog10p[1], null);
  assert.ok(Math.abs(hit.log10p - hit.classLog10p[0]!) < 1e-12 && Math.abs(hit.log10p - hit.pooledLog10p) < 1e-12);
  // A classifier blind to the pixels gives identical losses: no evidence.
  const blind: Classifier = { numClasses: 2, logits: (x) => tf.zeros([x.shape[0], 2]) };
  assert.ok(blackBoxTest(blind, probe).log10p > -0.5);
  tf.dispose([base, probe.marked, ...probe.controls]);
});

test('networks: training lowers the loss, checkpoints round-trip, clean models are not flagged (seeded)', async () => {
  const mn = loadMnist({ seed: 1, trainLimit: 1500, testLimit: 400 });
  const rng = new Rng(21);
  const shape: [number, number, number] = [28, 28, 1];
  const marker = createNet({ arch: 'mlp', inputShape: shape, numClasses: 10, featureDim: 16, hidden: 32 }, rng.fork('marker'));
  const before = accuracy(marker, mn.testX, mn.testY);
  const hist = await trainClassifier(marker, mn.trainX, mn.trainY, { epochs: 2, batchSize: 100, lr: 5e-3, rng: rng.fork('t1'), quiet: true });
  const after = accuracy(marker, mn.testX, mn.testY);
  assert.ok(hist.losses.at(-1)! < hist.losses[0]! && after > 0.7 && after > before + 0.3, `accuracy ${before} → ${after}`);

  const dir = mkdtempSync(path.join(tmpdir(), 'paperlab-radio-net-'));
  try {
    await saveNet(dir, marker);
    const back = await loadNet(dir);
    const a = marker.logits(mn.testX).dataSync();
    const b = back.logits(mn.testX).dataSync();
    assert.deepEqual(b, a);
    back.dispose();
    await assert.rejects(loadNet(path.join(dir, 'nope')), PaperlabError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // H0: models trained on clean data, one per architecture, against carriers they never saw.
  const carriers = makeCarriers(10, 16, 1234);
  for (const arch of ['mlp', 'patch'] as const) {
    const suspect = createNet({ arch, inputShape: shape, numClasses: 10, featureDim: 24 }, rng.fork(`s-${arch}`));
    await trainClassifier(suspect, mn.trainX, mn.trainY, { epochs: 2, batchSize: 100, lr: 5e-3, rng: rng.fork(`ts-${arch}`), quiet: true });
    const r = detect(suspect, marker, carriers, mn.testX);
    assert.equal(r.cosines.length, 10);
    assert.ok(r.alignmentR2 > 0.3, `alignment R² ${r.alignmentR2}`);
    assert.ok(r.combinedLog10p > Math.log10(0.05), `clean ${arch} model flagged: log10 p = ${r.combinedLog10p}`);
    // Each per-class p-value is the law's value at its cosine.
    r.cosines.forEach((c, k) => assert.ok(Math.abs(r.log10p[k]! - logCosinePvalue(c, 16) / Math.LN10) < 1e-12));
    suspect.dispose();
  }
  marker.dispose();
  tf.dispose([mn.trainX, mn.trainY, mn.testX, mn.testY]);
});
