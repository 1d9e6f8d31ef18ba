import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { loadMnist, loadMnistArrays } from '../src/data/mnist.js';
import { loadBrown, loadBrownDocuments, detokenize, stripTag, parseBrownFile } from '../src/data/brown.js';
import { duplicationBatch } from '../src/data/synthetic.js';
import { augment, randomAffine } from '../src/data/augment.js';

test('MNIST: 10 000 digits of 28×28 in [0, 1], about 1 000 per class', () => {
  const m = loadMnistArrays();
  assert.equal(m.n, 10000);
  assert.equal(m.images.length, 10000 * 784);
  let lo = Infinity, hi = -Infinity;
  for (const v of m.images) { if (v < lo) lo = v; if (v > hi) hi = v; }
  assert.equal(lo, 0);
  assert.ok(hi <= 1 && hi > 0.9);
  const counts = new Array(10).fill(0);
  for (const l of m.labels) counts[l]++;
  assert.equal(counts.reduce((a, b) => a + b), 10000);
  for (const c of counts) assert.ok(c > 850 && c < 1150, `class count ${c}`);
});

test('MNIST split: shapes, disjoint and complete, seeded, labels follow the images', () => {
  const s = loadMnist({ seed: 3, testFraction: 0.2 });
  assert.deepEqual(s.trainX.shape, [8000, 28, 28, 1]);
  assert.deepEqual(s.testX.shape, [2000, 28, 28, 1]);
  assert.equal(s.trainY.dtype, 'int32');
  const all = new Set([...s.trainIndex, ...s.testIndex]);
  assert.equal(all.size, 10000);
  const again = loadMnist({ seed: 3, testFraction: 0.2 });
  assert.deepEqual(Array.from(again.testIndex), Array.from(s.testIndex));
  const other = loadMnist({ seed: 4, testFraction: 0.2 });
  assert.notDeepEqual(Array.from(other.testIndex.slice(0, 20)), Array.from(s.testIndex.slice(0, 20)));
  // The label of sample i is the package's label of its index; its pixels are that image's pixels.
  const m = loadMnistArrays();
  const y = s.testY.dataSync();
  const x = s.testX.dataSync();
  for (const i of [0, 17, 1999]) {
    const j = s.testIndex[i]!;
    assert.equal(y[i], m.labels[j]);
    assert.deepEqual(Array.from(x.subarray(i * 784, i * 784 + 784)), Array.from(m.images.subarray(j * 784, j * 784 + 784)));
  }
  tf.dispose([s.trainX, s.trainY, s.testX, s.testY, again.trainX, again.trainY, again.testX, again.testY, other.trainX, other.trainY, other.testX, other.testY]);
  const lim = loadMnist({ trainLimit: 100, testLimit: 50 });
  assert.deepEqual(lim.trainX.shape, [100, 28, 28, 1]);
  assert.deepEqual(lim.testY.shape, [50]);
  tf.dispose([lim.trainX, lim.trainY, lim.testX, lim.testY]);
});

test('Brown: tags stripped and tokens rejoined into readable text', () => {
  assert.equal(stripTag('Atlanta\'s/np$'), "Atlanta's");
  assert.equal(stripTag('1/2/cd'), '1/2');
  assert.equal(
    detokenize(['The', 'jury', 'said', '``', 'no', 'evidence', "''", ',', 'in', '(', 'fact', ')', 'none', '.']),
    'The jury said "no evidence", in (fact) none.',
  );
  const raw = '\n\n\tThe/at Fulton/np-tl County/nn-tl said/vbd Friday/nr ./.\n\n\n\tIt/pps ended/vbd ./.\n';
  assert.equal(parseBrownFile(raw), 'The Fulton County said Friday.\nIt ended.');
});

test('Brown: 500 documents, about a million words, no tags left; split by whole documents', () => {
  const docs = loadBrownDocuments();
  assert.equal(docs.length, 500);
  assert.equal(docs[0]!.id, 'ca01');
  assert.ok(docs[0]!.text.startsWith('The Fulton County Grand Jury said Friday an investigation of'));
  const words = docs.reduce((n, d) => n + d.text.split(/\s+/).length, 0);
  assert.ok(words > 900_000 && words < 1_200_000, `words ${words}`);
  for (const d of docs.slice(0, 50)) assert.ok(!/\w\/(nn|at|in|vbd|jj)\b/.test(d.text), `tag left in ${d.id}`);
  const s = loadBrown({ seed: 1, valFraction: 0.1 });
  assert.equal(s.val.length, 50);
  assert.equal(s.train.length, 450);
  const ids = new Set(s.train.map((d) => d.id));
  for (const d of s.val) assert.ok(!ids.has(d.id));
  assert.deepEqual(loadBrown({ seed: 1 }).val.map((d) => d.id), s.val.map((d) => d.id));
  assert.ok(s.valText.includes(s.val[0]!.text));
});

test('duplication task: 0 w 0 w with symbols from 1..vocab-1, seeded', () => {
  const b = duplicationBatch({ batch: 3, length: 10, vocab: 5 }, new Rng(1));
  for (let r = 0; r < 3; r++) {
    const row = Array.from(b.tokens.subarray(r * 10, r * 10 + 10));
    assert.equal(row[0], 0);
    assert.equal(row[5], 0);
    assert.deepEqual(row.slice(1, 5), row.slice(6, 10));
    for (const t of row.slice(1, 5)) assert.ok(t >= 1 && t <= 4);
  }
  assert.deepEqual(Array.from(b.scoreMask), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual(duplicationBatch({ batch: 3, length: 10, vocab: 5 }, new Rng(1)).tokens, b.tokens);
  assert.throws(() => duplicationBatch({ batch: 1, length: 9, vocab: 5 }, new Rng(1)), /length: must be even/);
});

test('augmentations: seeded, shape and range kept; a zero-strength warp is the identity', () => {
  const x = tf.tidy(() => tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 5)) as tf.Tensor4D;
  const a = augment(x, new Rng(2));
  const b = augment(x, new Rng(2));
  const c = augment(x, new Rng(3));
  assert.deepEqual(a.shape, [4, 28, 28, 1]);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.notDeepEqual(Array.from(a.dataSync()), Array.from(c.dataSync()));
  const v = a.dataSync();
  for (const p of v) assert.ok(p >= 0 && p <= 1);
  const id = augment(x, new Rng(2), { cropScale: [1, 1], maxRotation: 0, maxTranslate: 0, noiseStd: 0 });
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(id, x))).dataSync()[0]!);
  assert.ok(diff < 1e-5, `identity warp changed pixels by ${diff}`);
  // The affine map sends the image centre to the crop centre.
  const m = randomAffine(28, 28, new Rng(0), { cropScale: [1, 1], maxRotation: 30, maxTranslate: 0 });
  const cx = 13.5;
  assert.ok(Math.abs(m[0]! * cx + m[1]! * cx + m[2]! - cx) < 1e-9);
  assert.ok(Math.abs(m[3]! * cx + m[4]! * cx + m[5]! - cx) < 1e-9);
  tf.dispose([x, a, b, c, id]);
});

test('warpAffine: a one-pixel shift moves every image of the batch, half a pixel interpolates', async () => {
  const { warpAffine } = await import('../src/data/augment.js');
  const src = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]); // two 2×2 images
  // x_in = x + 1: each output pixel reads its right neighbour; the last column falls outside (0).
  assert.deepEqual(Array.from(warpAffine(src, [2, 2, 2, 1], [1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0])), [2, 0, 4, 0, 6, 0, 8, 0]);
  assert.deepEqual(Array.from(warpAffine(src, [2, 2, 2, 1], [1, 0, 0.5, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])), [1.5, 1, 3.5, 2, 5, 6, 7, 8]);
});
