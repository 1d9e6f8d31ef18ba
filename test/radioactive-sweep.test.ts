/**
 * The reference's marking augmentation (random resized crop + flip as matrix products) against
 * hand-computed resamplings, its gradient against finite differences, and the radioactive
 * experiment's verdict functions: every phrase must follow from the numbers given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/core/tf.js';
import { initEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { resizeMatrix, applyCropBox, sampleCropBox, randomResizedCropFlip, markImages, makeCarriers, createNet } from '../src/radioactive/index.js';
import {
  radioactiveSweepVerdict,
  radioactiveRunVerdict,
  radioactiveComparisons,
  cosineLabel,
  accuracyLabel,
  suspectKinds,
  radioactiveMnist,
  radioactiveFashion,
  type Row,
} from '../src/experiments/radioactive-mnist.js';
import type { SweepStats, SweepComparisonRow } from '../src/experiments/types.js';

await initEngine({ seed: 0, backend: 'cpu' });

test('resizeMatrix: identity for the whole line, exact halving/doubling weights, mirror', () => {
  // Whole line to the same length: the identity.
  const id = resizeMatrix(4, 0, 4, 4);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.equal(id[i * 4 + j], i === j ? 1 : 0);
  // Crop [1, 3) of 4 pixels up to 4: src = (o + 0.5)/2 − 0.5 → 0 (clamped), 0.25, 0.75, 1.25 → 1 (clamped at the crop's end).
  const up = resizeMatrix(4, 1, 2, 4);
  const want = [
    [0, 1, 0, 0],
    [0, 0.75, 0.25, 0],
    [0, 0.25, 0.75, 0],
    [0, 0, 1, 0],
  ];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(up[i * 4 + j]! - want[i]![j]!) < 1e-7, `up[${i}][${j}]`);
  // Every row sums to 1 (a convex combination of pixels).
  const m = resizeMatrix(28, 3, 17, 28);
  for (let i = 0; i < 28; i++) assert.ok(Math.abs(m.subarray(i * 28, (i + 1) * 28).reduce((s, v) => s + v, 0) - 1) < 1e-6);
  // Mirror: rows reversed.
  const f = resizeMatrix(4, 1, 2, 4, true);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.equal(f[i * 4 + j], up[(3 - i) * 4 + j]);
  assert.throws(() => resizeMatrix(4, 3, 2, 4), PaperlabError);
});

test('applyCropBox matches a direct per-pixel bilinear resampling, and flips', () => {
  const rng = new Rng(3);
  const [n, h, w, c] = [2, 6, 5, 2];
  const data = rng.uniformArray(n * h * w * c);
  const x = tf.tensor4d(data, [n, h, w, c]);
  const box = { top: 1, left: 2, height: 4, width: 3, flip: true };
  const out = applyCropBox(x, box).dataSync();
  const ry = resizeMatrix(h, box.top, box.height, h);
  const rx = resizeMatrix(w, box.left, box.width, w, true);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let p = 0; p < h; p++) for (let q = 0; q < w; q++) s += ry[i * h + p]! * rx[j * w + q]! * data[((b * h + p) * w + q) * c + ch]!;
          assert.ok(Math.abs(out[((b * h + i) * w + j) * c + ch]! - s) < 1e-5);
        }
  // A full-image box with flip is a left–right mirror.
  const mir = applyCropBox(x, { top: 0, left: 0, height: h, width: w, flip: true }).dataSync();
  assert.ok(Math.abs(mir[0]! - data[(w - 1) * c]!) < 1e-6);
  x.dispose();
});

test('sampleCropBox: boxes inside the image with area in the scale range (or the whole-image fallback)', () => {
  const rng = new Rng(7);
  let flips = 0;
  for (let t = 0; t < 500; t++) {
    const b = sampleCropBox(28, 28, rng);
    assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 28 && b.left + b.width <= 28);
    const area = (b.height * b.width) / 784;
    // Rounding w and h can move the area a little outside [0.08, 1].
    assert.ok(area > 0.05 && area <= 1, `area ${area}`);
    if (b.flip) flips++;
  }
  assert.ok(flips > 200 && flips < 300, `flips ${flips}`);
  assert.throws(() => sampleCropBox(28, 28, rng, { scale: [0.5, 0.2] }), PaperlabError);
});

test('the crop-flip augmentation is differentiable: gradient matches finite differences', () => {
  const x = tf.tensor4d(new Rng(1).uniformArray(3 * 6 * 6), [3, 6, 6, 1]);
  const wts = tf.tensor4d(new Rng(2).normalArray(3 * 6 * 6), [3, 6, 6, 1]);
  const f = (z: tf.Tensor): tf.Scalar => tf.sum(tf.mul(randomResizedCropFlip(z as tf.Tensor4D, new Rng(5), { segments: 2 }), wts)) as tf.Scalar;
  const g = tf.grad(f)(x).dataSync();
  const base = x.dataSync();
  for (const i of [0, 17, 50, 100]) {
    const e = 1e-2;
    const xp = base.slice();
    xp[i]! += e;
    const xm = base.slice();
    xm[i]! -= e;
    const fd = (f(tf.tensor4d(xp, x.shape)).dataSync()[0]! - f(tf.tensor4d(xm, x.shape)).dataSync()[0]!) / (2 * e);
    assert.ok(Math.abs(fd - g[i]!) < 1e-3, `i ${i}: fd ${fd} vs grad ${g[i]}`);
  }
});

test('markImages with the reference augmentation stays in the L∞ ball and moves features along the carrier', async () => {
  const net = createNet({ arch: 'mlp', inputShape: [8, 8, 1], numClasses: 2, hidden: 16, featureDim: 8 }, new Rng(0));
  const x = tf.tensor4d(new Rng(4).uniformArray(6 * 64, 0.2, 0.8), [6, 8, 8, 1]);
  const y = new Int32Array([0, 1, 0, 1, 0, 1]);
  const radius = 10 / 255;
  const r = await markImages(x, y, net, makeCarriers(2, 8, 9), { iterations: 30, radius, augment: 'resized-crop-flip', quiet: true, rng: new Rng(1) });
  assert.ok(r.maxAbsDelta <= radius + 1e-6);
  assert.ok(r.featureShift > 0, `shift ${r.featureShift}`);
  await assert.rejects(markImages(x, y, net, makeCarriers(2, 8, 9), { iterations: 1, augment: 'rotate' as 'none', quiet: true }), PaperlabError);
  r.images.dispose();
  x.dispose();
  net.dispose();
});

function cmp(a: string, b: string, meanDiff: number, ci: [number, number] | null, n = 5): SweepComparisonRow {
  const dir = !ci ? 'no interval' : ci[0] > 0 ? 'greater' : ci[1] < 0 ? 'less' : 'within noise';
  return { a, b, unit: 'cosine', n, meanDiff, ci95: ci, p: null, test: 'paired-t', direction: dir, sentence: '' };
}
const stats = (comparisons: SweepComparisonRow[]): SweepStats => ({ name: 'radioactive-mnist', seeds: [0, 1, 2, 3, 4], quick: true, summary: [], comparisons });

test('sweep verdict: "marked > clean from X %" only where the interval excludes 0, else "within noise"', () => {
  const v = radioactiveSweepVerdict(
    stats([
      cmp(cosineLabel('cnn', 'cnn', 0.05), cosineLabel('cnn', 'cnn', 0), 0.004, [-0.002, 0.01]),
      cmp(cosineLabel('cnn', 'cnn', 0.2), cosineLabel('cnn', 'cnn', 0), 0.012, [0.004, 0.02]),
      cmp(cosineLabel('mlp', 'cnn', 0.05), cosineLabel('mlp', 'cnn', 0), 0.001, [-0.01, 0.012]),
      cmp(cosineLabel('mlp', 'cnn', 0.2), cosineLabel('mlp', 'cnn', 0), -0.001, [-0.02, 0.018]),
      cmp(accuracyLabel('cnn', 'cnn', 0.2), accuracyLabel('cnn', 'cnn', 0), -0.001, [-0.003, 0.001]),
    ]),
  );
  assert.match(v, /Over 5 carrier draws/);
  assert.match(v, /same architecture \(CNN\), from scratch: marked > clean from 20 % marked/);
  assert.match(v, /5 %: 0\.004 \[-0\.002, 0\.01\] within noise/);
  assert.match(v, /20 %: 0\.012 \[0\.004, 0\.02\] above/);
  assert.match(v, /different architecture \(MLP\), from scratch: within noise of the clean model at every fraction/);
  assert.match(v, /accuracy at the largest fraction vs clean: CNN within noise \(-0\.1 points \[-0\.3, 0\.1\]\)/);
  const bb = (f: number): string => `black-box log10 p (held-out images) — different architecture (MLP), from scratch, ${f === 0 ? 'clean (no marked data)' : `${f * 100} % marked`}`;
  const b = radioactiveSweepVerdict(stats([cmp(bb(0.05), bb(0), -0.8, [-1.9, 0.3]), cmp(bb(0.2), bb(0), -2, [-3, -1])]));
  assert.match(b, /black-box test, different architecture \(MLP\), from scratch: log10 p below the clean model's from 20 % marked \(5 %: -0\.8 \[-1\.9, 0\.3\], 20 %: -2 \[-3, -1\]\)/);
  // An interval below 0 is reported as such, not as detection.
  const w = radioactiveSweepVerdict(stats([cmp(cosineLabel('mlp', 'cnn', 0.2), cosineLabel('mlp', 'cnn', 0), -0.01, [-0.02, -0.001])]));
  assert.match(w, /within noise of the clean model at every fraction \(but below the clean model at 20 %\)/);
  // A single seed: no comparison with n ≥ 2.
  assert.match(radioactiveSweepVerdict(stats([cmp(cosineLabel('cnn', 'cnn', 0.2), cosineLabel('cnn', 'cnn', 0), 0.01, null, 1)])), /run more seeds/);
});

test('run verdict reads the rows: gain = marked − clean cosine, flagged only below log10 α', () => {
  const row = (kind: Row['kind'], fraction: number, meanCosine: number, log10p: number): Row => ({ kind, fraction, accuracy: 0.9, meanCosine, cosines: [], log10p, alignmentR2: 0.9, blackBoxLog10p: null, blackBoxGap: null });
  const v = radioactiveRunVerdict([row('cnn', 0, 0.01, -0.5), row('cnn', 0.2, 0.05, -2.5), row('mlp', 0, 0.0, -2.1), row('mlp', 0.2, 0.002, -0.3)], 'cnn', 31.96);
  assert.match(v, /PSNR 32\.0 dB/);
  assert.match(v, /same architecture \(CNN\), from scratch 0\.050 vs clean 0\.010 \(gain \+0\.040; log10 p -2\.50, flagged at α = 0\.01\)/);
  assert.match(v, /different architecture \(MLP\), from scratch 0\.002 vs clean 0\.000 \(gain \+0\.002; log10 p -0\.30, not flagged/);
  assert.match(v, /Clean model\(s\) flagged .*: mlp/);
  assert.equal(radioactiveRunVerdict([row('cnn', 0, 0, -0.1)], 'cnn', 30), 'No marked suspect was trained.');
});

test('radioactive experiments: stable labels, comparisons pair marked with clean of the same kind', () => {
  assert.equal(radioactiveMnist.name, 'radioactive-mnist');
  assert.equal(radioactiveFashion.name, 'radioactive-fashion');
  const specs = radioactiveComparisons();
  for (const s of specs) {
    assert.ok(!/\d\.\d{3}/.test(s.a), `no run-dependent number in ${s.a}`);
    assert.ok(s.b.endsWith('clean (no marked data)'));
  }
  assert.equal(radioactiveMnist.sweep!.comparisons!.length, specs.length);
  assert.deepEqual(suspectKinds('cnn', ['mlp', 'patch'], true), ['probe', 'cnn', 'mlp', 'patch']);
  assert.deepEqual(suspectKinds('mlp', ['mlp', 'cnn'], false), ['probe', 'mlp']);
});

test('each comparison (a, b) is listed once, so the sweep verdict names each suspect once', () => {
  const keys = radioactiveComparisons().map((s) => `${s.a}|${s.b}`);
  assert.equal(new Set(keys).size, keys.length);
  const v = radioactiveSweepVerdict(stats([cmp(cosineLabel('probe', 'cnn', 0.2), cosineLabel('probe', 'cnn', 0), 0.003, [0.002, 0.004])]));
  assert.equal(v.split('linear probe').length - 1, 1);
});
