/**
 * Image sets on disk for the `paperlab radioactive` commands, in two formats:
 *
 *   - a folder of PNGs: either `DIR/<class>/*.png` (one sub-folder per class, like torchvision's
 *     ImageFolder; integer folder names are used as the labels, other names are sorted and numbered)
 *     or a flat `DIR/*.png` with the labels in a separate .npy file;
 *   - a .npy array [N, H, W] or [N, H, W, C] of uint8 (0…255) or float (0…1), with labels in a
 *     separate .npy of N integers.
 *
 * Pixels are held in memory as float32 in [0, 1]. Saving writes the same format as was loaded
 * (folder → PNGs with the same relative names; .npy → the same dtype and shape).
 */
import { promises as fs, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { PaperlabError } from '../core/errors.js';
import { decodePng, encodePng, type PngImage } from './png.js';
import { readNpy, writeNpy } from './npy.js';

export interface ImageSet {
  /** [N·H·W·C] pixels in [0, 1]. */
  images: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array | null;
  /** Folder input: the class folder names, index = label (null for flat folders and .npy). */
  classNames: string[] | null;
  /** Folder input: each image's path relative to the folder. */
  files: string[] | null;
  format: 'folder' | 'npy';
  /** How the pixels were stored: 8-bit (PNG, uint8 .npy) or float. */
  storage: 'uint8' | 'float';
  /** .npy input: the array's original shape (3-D or 4-D). */
  sourceShape: number[];
}

async function readLabelsNpy(file: string, n: number): Promise<Int32Array> {
  if (!existsSync(file)) throw new PaperlabError('labels', `${file} does not exist`, 'pass a .npy file of one integer class per image');
  const arr = readNpy(new Uint8Array(await fs.readFile(file)), file);
  if (arr.shape.length !== 1 || arr.shape[0] !== n) {
    throw new PaperlabError('labels', `${file} has shape [${arr.shape.join(', ')}] but there are ${n} images`, `save a 1-D array of ${n} integer labels`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(arr.data[i]);
    if (!Number.isInteger(v) || v < 0) throw new PaperlabError('labels', `${file} holds ${v} at index ${i}, not a class index`, 'save non-negative integer labels (0, 1, 2, …)');
    out[i] = v;
  }
  return out;
}

async function listPngs(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((f) => f.toLowerCase().endsWith('.png')).sort();
}

function toChannels(img: PngImage, want: 1 | 3): Uint8Array {
  const { width, height, channels, data } = img;
  const n = width * height;
  const out = new Uint8Array(n * want);
  for (let i = 0; i < n; i++) {
    if (want === 1) out[i] = data[i * channels]!; // grey or grey+alpha (colour images force want = 3)
    else if (channels >= 3) {
      out[i * 3] = data[i * channels]!;
      out[i * 3 + 1] = data[i * channels + 1]!;
      out[i * 3 + 2] = data[i * channels + 2]!;
    } else out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = data[i * channels]!;
  }
  return out;
}

/** Loads a folder of PNGs or a .npy array; `labels` is a .npy of labels (needed for flat folders and .npy images when marking). */
export async function loadImageSet(p: string, o: { labels?: string } = {}): Promise<ImageSet> {
  if (!existsSync(p)) throw new PaperlabError('images', `${p} does not exist`, 'pass a folder of PNG images or a .npy file');
  if (statSync(p).isDirectory()) {
    const entries = await fs.readdir(p, { withFileTypes: true });
    const classDirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    let files: string[];
    let labels: Int32Array | null = null;
    let classNames: string[] | null = null;
    if (classDirs.length > 0) {
      const numeric = classDirs.every((c) => /^\d+$/.test(c));
      const ordered = numeric ? classDirs.slice().sort((a, b) => Number(a) - Number(b)) : classDirs;
      files = [];
      const lab: number[] = [];
      for (const [i, c] of ordered.entries()) {
        for (const f of await listPngs(path.join(p, c))) {
          files.push(path.join(c, f));
          lab.push(numeric ? Number(c) : i);
        }
      }
      labels = Int32Array.from(lab);
      classNames = numeric ? Array.from({ length: Math.max(...lab, -1) + 1 }, (_, i) => String(i)) : ordered;
    } else files = await listPngs(p);
    if (files.length === 0) throw new PaperlabError('images', `${p} holds no .png files`, 'put PNGs in DIR/<class>/*.png or DIR/*.png');
    const decoded = await Promise.all(files.map(async (f) => decodePng(new Uint8Array(await fs.readFile(path.join(p, f))), path.join(p, f))));
    const { width, height } = decoded[0]!;
    const bad = decoded.findIndex((d) => d.width !== width || d.height !== height);
    if (bad >= 0) throw new PaperlabError('images', `${files[bad]} is ${decoded[bad]!.width}×${decoded[bad]!.height} but ${files[0]} is ${width}×${height}`, 'resize all images to one size first');
    const c: 1 | 3 = decoded.some((d) => d.channels >= 3) ? 3 : 1;
    const per = width * height * c;
    const images = new Float32Array(files.length * per);
    decoded.forEach((d, i) => {
      const px = toChannels(d, c);
      for (let j = 0; j < per; j++) images[i * per + j] = px[j]! / 255;
    });
    if (o.labels) labels = await readLabelsNpy(o.labels, files.length);
    return { images, shape: [files.length, height, width, c], labels, classNames, files, format: 'folder', storage: 'uint8', sourceShape: [files.length, height, width, c] };
  }
  if (!p.toLowerCase().endsWith('.npy')) throw new PaperlabError('images', `${p} is neither a folder nor a .npy file`, 'pass a folder of PNGs or a .npy array saved with numpy.save');
  const arr = readNpy(new Uint8Array(await fs.readFile(p)), p);
  if (arr.shape.length !== 3 && arr.shape.length !== 4) throw new PaperlabError('images', `${p} has shape [${arr.shape.join(', ')}]`, 'save images as [N, H, W] or [N, H, W, C]');
  const [n, h, w] = arr.shape as [number, number, number];
  const c = arr.shape.length === 4 ? arr.shape[3]! : 1;
  const storage = arr.descr.endsWith('u1') ? 'uint8' : 'float';
  if (storage === 'float' && !(arr.data instanceof Float32Array || arr.data instanceof Float64Array)) {
    throw new PaperlabError('images', `${p} has integer dtype ${arr.descr}`, 'save uint8 (0…255) or float (0…1) pixels');
  }
  const images = new Float32Array(arr.data.length);
  for (let i = 0; i < images.length; i++) {
    const v = storage === 'uint8' ? arr.data[i]! / 255 : arr.data[i]!;
    if (!(v >= 0 && v <= 1)) throw new PaperlabError('images', `${p} holds ${arr.data[i]} at flat index ${i}, outside [0, 1]`, 'save float pixels scaled to [0, 1] (divide 8-bit values by 255) or save uint8');
    images[i] = v;
  }
  const labels = o.labels ? await readLabelsNpy(o.labels, n) : null;
  return { images, shape: [n, h, w, c], labels, classNames: null, files: null, format: 'npy', storage, sourceShape: arr.shape };
}

/** Writes `images` (same shape as `like`) in `like`'s format: a PNG folder or a .npy file at `p`. */
export async function saveImageSet(p: string, images: Float32Array, like: ImageSet): Promise<void> {
  const [n, h, w, c] = like.shape;
  if (images.length !== n * h * w * c) throw new PaperlabError('images', `has ${images.length} values, not ${n}·${h}·${w}·${c}`, 'pass images of the loaded set’s shape');
  const to8 = (v: number): number => Math.max(0, Math.min(255, Math.round(v * 255)));
  if (like.format === 'folder') {
    if (p.toLowerCase().endsWith('.npy')) throw new PaperlabError('out', `${p} ends in .npy but the input was a PNG folder`, 'pass an output folder');
    const per = h * w * c;
    for (let i = 0; i < n; i++) {
      const file = path.join(p, like.files![i]!);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const data = new Uint8Array(per);
      for (let j = 0; j < per; j++) data[j] = to8(images[i * per + j]!);
      await fs.writeFile(file, encodePng({ width: w, height: h, channels: c as 1 | 3, data }));
    }
    return;
  }
  if (!p.toLowerCase().endsWith('.npy')) throw new PaperlabError('out', `${p} must end in .npy because the input was a .npy array`, 'pass e.g. --out marked.npy');
  await fs.mkdir(path.dirname(path.resolve(p)), { recursive: true });
  const data = like.storage === 'uint8' ? Uint8Array.from(images, to8) : Float32Array.from(images);
  await fs.writeFile(p, writeNpy(data, like.sourceShape));
}
