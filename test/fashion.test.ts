/**
 * The Fashion-MNIST loader: IDX parsing on hand-built files (header, sizes checked before any
 * allocation), a clear error naming the Debian package when the files are missing, and the real
 * dataset's known facts (60 000 + 10 000 images, 1 000 test images per class) when it is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_DIR, loadFashionMnist, loadFashionMnistArrays, loadImageDataset, parseIdx } from '../src/data/fashion.js';
import { PaperlabError } from '../src/core/errors.js';

function idx(dims: number[], bytes: number[]): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(bytes)]));
}

test('parseIdx reads a hand-built file and refuses bad magic, wrong rank, truncation and giant declared sizes', () => {
  const ok = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]), 'f', 2);
  assert.deepEqual(ok.dims, [2, 3]);
  assert.deepEqual([...ok.data], [1, 2, 3, 4, 5, 6]);
  const bad = (buf: Uint8Array, dims: number, re: RegExp) => assert.throws(() => parseIdx(buf, 'f.gz', dims), (e: unknown) => e instanceof PaperlabError && e.argument === 'f.gz' && re.test(e.message));
  const wrongMagic = idx([1], [0]);
  wrongMagic[2] = 0x0d; // float32 IDX
  bad(wrongMagic, 1, /bad magic/);
  bad(idx([2, 3], [1, 2, 3, 4, 5, 6]), 3, /2 dimensions, expected 3/);
  bad(idx([2, 3], [1, 2, 3]), 2, /declares 2×3 = 6 bytes but holds 3/);
  bad(idx([0xffffffff, 0xffffffff, 0xffffffff], []), 3, /declares .* bytes but holds 0/);
  bad(new Uint8Array([0, 0, 8, 3, 0, 0]), 3, /truncated inside its header/);
});

test('missing files: the error names the Debian package; a folder of hand-built files loads', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-fashion-'));
  try {
    assert.throws(() => loadFashionMnistArrays('test', dir), (e: unknown) => e instanceof PaperlabError && /apt-get install -y dataset-fashion-mnist/.test(e.message));
    const img = (n: number) => gzipSync(idx([n, 28, 28], Array.from({ length: n * 784 }, (_, i) => i % 256)));
    const lab = (ys: number[]) => gzipSync(idx([ys.length], ys));
    writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), img(3));
    writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), lab([4, 0, 9]));
    writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), img(2));
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), lab([1, 12]));
    const tr = loadFashionMnistArrays('train', dir);
    assert.equal(tr.n, 3);
    assert.deepEqual([...tr.labels], [4, 0, 9]);
    assert.equal(tr.images[255], 1, 'byte 255 → 1.0');
    assert.equal(tr.images[256], 0);
    assert.throws(() => loadFashionMnistArrays('test', dir), (e: unknown) => e instanceof PaperlabError && /label 1 is 12/.test(e.message));
    writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), lab([1]));
    assert.throws(() => loadFashionMnistArrays('test', dir), (e: unknown) => e instanceof PaperlabError && /1 labels for 2 images/.test(e.message));
    writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), Buffer.from('not gzip'));
    assert.throws(() => loadFashionMnistArrays('test', dir), (e: unknown) => e instanceof PaperlabError && /cannot be read as gzip/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const installed = existsSync(path.join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));

test('the installed dataset: 60 000 + 10 000 images, 1 000 test images per class, seeded subsets', { skip: installed ? false : `not installed (apt-get install -y dataset-fashion-mnist)` }, () => {
  const te = loadFashionMnistArrays('test');
  assert.equal(loadFashionMnistArrays('train').n, 60_000);
  assert.equal(te.n, 10_000);
  const counts = new Array(10).fill(0);
  for (const y of te.labels) counts[y]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
  let lo = Infinity, hi = -Infinity;
  for (const v of te.images) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  const a = loadFashionMnist({ seed: 1, trainLimit: 50, testLimit: 20 });
  const b = loadImageDataset('fashion-mnist', { seed: 1, trainLimit: 50, testLimit: 20 });
  const c = loadFashionMnist({ seed: 2, trainLimit: 50, testLimit: 20 });
  assert.deepEqual(a.trainX.shape, [50, 28, 28, 1]);
  assert.deepEqual([...a.trainIndex], [...b.trainIndex], 'same seed, same subset');
  assert.notDeepEqual([...a.trainIndex], [...c.trainIndex], 'another seed, another subset');
  for (const t of [a, b, c]) for (const x of [t.trainX, t.trainY, t.testX, t.testY]) x.dispose();
  assert.throws(() => loadFashionMnist({ trainLimit: 0 }), (e: unknown) => e instanceof PaperlabError && e.argument === 'trainLimit');
});
