/**
 * `paperlab radioactive train|mark|detect`: the radioactive-data workflow for a data owner.
 *
 *   train   a classifier with a feature layer (the marking network, or a stand-in suspect)
 *   mark    images of a PNG folder or .npy array with secret carriers through the marking network
 *   detect  whether a suspect network trained on the marked images (white box, or --black-box)
 */
import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../core/tf.js';
import { initEngine } from '../core/engine.js';
import { PaperlabError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { makeCarriers, checkCarriers, type Carriers } from '../radioactive/carriers.js';
import { NET_ARCHS, createNet, loadNet, saveNet, trainClassifier, accuracy, type NetArch, type FeatureNet } from '../radioactive/nets.js';
import { markImages, MARK_AUGMENTS, type MarkAugment, type MarkOptions } from '../radioactive/mark.js';
import { detect, detectBlackBox } from '../radioactive/detect.js';
import { loadImageSet, saveImageSet, type ImageSet } from '../radioactive/io.js';
import { readNpy, writeNpy } from '../radioactive/npy.js';
import { UsageError, intOption, numOption, parse, strOption, type OptionSpec } from './args.js';
import { backendFrom } from './core-commands.js';
import type { Command } from './command.js';

const USAGE = `Usage: paperlab radioactive <train|mark|detect> [options]

  train   --images DATA --out NET [--labels Y.npy] [--arch mlp|patch|cnn] [--feature-dim 64]
          [--hidden N] [--epochs 5] [--batch-size 128] [--lr 0.003] [--seed 0]
  mark    --images DATA --net NET --carriers C.npy --out OUT [--labels Y.npy] [--seed 0]
          [--radius 10] [--iterations 60] [--lr 0.01] [--lambda-ft 0.5] [--lambda-img 0.05] [--max-shift 1]
          [--augment shift|resized-crop-flip|none] (resized-crop-flip: the reference's augmentation)
          (C.npy is created from --seed when it does not exist: keep it secret, detection needs it)
  detect  --net NET --suspect NET2 --carriers C.npy --images HELDOUT [--alpha 0.01]
          [--black-box --labels Y.npy [--controls 8] + the mark options used for marking]

  DATA is a folder of PNGs (DIR/<class>/*.png, or DIR/*.png with --labels) or a .npy array
  [N, H, W(, C)] of uint8 (0…255) or float (0…1) with --labels Y.npy (N integers).
  NET is a network directory written by 'train'. --radius is in 8-bit pixel steps (10 = 10/255).
  Common: --json  --backend auto|cpu|wasm|tensorflow`;

const common: OptionSpec = { json: { type: 'boolean' }, backend: { type: 'string' }, seed: { type: 'string' } };
const markOpts: OptionSpec = {
  radius: { type: 'string' },
  iterations: { type: 'string' },
  lr: { type: 'string' },
  'lambda-ft': { type: 'string' },
  'lambda-img': { type: 'string' },
  'max-shift': { type: 'string' },
  augment: { type: 'string' },
};

type Values = Record<string, string | boolean | undefined>;

function need(values: Values, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} is required`, USAGE);
  return v;
}

function augmentFrom(v: string | boolean | undefined): MarkAugment {
  const a = typeof v === 'string' ? v : 'shift';
  if (!(MARK_AUGMENTS as readonly string[]).includes(a)) throw new PaperlabError('augment', `'${a}' is not one of ${MARK_AUGMENTS.join(', ')}`, 'pass --augment shift, --augment resized-crop-flip or --augment none');
  return a as MarkAugment;
}

function markOptionsFrom(values: Values, seed: number): MarkOptions {
  const o: MarkOptions = {
    radius: numOption(values.radius, 'radius', 10) / 255,
    iterations: intOption(values.iterations, 'iterations', 60, 0),
    lr: numOption(values.lr, 'lr', 0.01),
    lambdaFt: numOption(values['lambda-ft'], 'lambda-ft', 0.5),
    lambdaImg: numOption(values['lambda-img'], 'lambda-img', 0.05),
    maxShift: intOption(values['max-shift'], 'max-shift', 1, 0),
    augment: augmentFrom(values.augment),
    rng: new Rng(seed).fork('mark'),
  };
  return o;
}

function tensorOf(set: ImageSet): tf.Tensor4D {
  return tf.tensor4d(set.images, set.shape);
}

function requireLabels(set: ImageSet, what: string): Int32Array {
  if (!set.labels) throw new PaperlabError('labels', `${what} needs a label per image`, 'use a DIR/<class>/*.png folder or pass --labels Y.npy');
  return set.labels;
}

/** Reads carriers from a .npy [K, d] file. */
export async function readCarriers(file: string): Promise<Carriers> {
  if (!existsSync(file)) throw new PaperlabError('carriers', `${file} does not exist`, 'pass the carriers file written by `paperlab radioactive mark`');
  const arr = readNpy(new Uint8Array(await fs.readFile(file)), file);
  if (arr.shape.length !== 2) throw new PaperlabError('carriers', `${file} has shape [${arr.shape.join(', ')}], not [classes, dim]`, 'pass the carriers file written by `paperlab radioactive mark`');
  const c: Carriers = { numClasses: arr.shape[0]!, dim: arr.shape[1]!, data: Float32Array.from(arr.data as ArrayLike<number>) };
  checkCarriers(c, `carriers ${file}`);
  return c;
}

export async function writeCarriers(file: string, c: Carriers): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await fs.writeFile(file, writeNpy(c.data, [c.numClasses, c.dim]));
}

function checkNetFits(net: FeatureNet, set: ImageSet, what: string): void {
  const [, h, w, c] = set.shape;
  const [nh, nw, nc] = net.config.inputShape;
  if (h !== nh || w !== nw || c !== nc) throw new PaperlabError(what, `expects ${nh}×${nw}×${nc} images but the data are ${h}×${w}×${c}`, 'use data of the size the network was trained on');
}

function out(values: Values, json: unknown, text: string): void {
  process.stdout.write(values.json ? JSON.stringify(json, null, 2) + '\n' : text + '\n');
}

async function runTrain(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    { ...common, images: { type: 'string' }, labels: { type: 'string' }, out: { type: 'string' }, arch: { type: 'string' }, 'feature-dim': { type: 'string' }, hidden: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' } },
    USAGE,
    false,
  );
  const seed = intOption(values.seed, 'seed', 0);
  const arch = strOption(values.arch, 'mlp');
  if (!(NET_ARCHS as readonly string[]).includes(arch)) throw new UsageError(`--arch must be one of ${NET_ARCHS.join(', ')}, got '${arch}'`, USAGE);
  const dir = need(values, 'out');
  await initEngine({ backend: backendFrom(values.backend), seed });
  const set = await loadImageSet(need(values, 'images'), { labels: typeof values.labels === 'string' ? values.labels : undefined });
  const labels = requireLabels(set, 'training');
  const numClasses = Math.max(...labels) + 1;
  const rng = new Rng(seed);
  const net = createNet(
    {
      arch: arch as NetArch,
      inputShape: [set.shape[1], set.shape[2], set.shape[3]],
      numClasses: Math.max(2, numClasses),
      featureDim: intOption(values['feature-dim'], 'feature-dim', 64, 2),
      ...(values.hidden !== undefined ? { hidden: intOption(values.hidden, 'hidden', 128, 1) } : {}),
    },
    rng.fork('init'),
  );
  const x = tensorOf(set);
  try {
    await trainClassifier(net, x, labels, {
      epochs: intOption(values.epochs, 'epochs', 5, 1),
      batchSize: intOption(values['batch-size'], 'batch-size', 128, 1),
      lr: numOption(values.lr, 'lr', 3e-3),
      rng: rng.fork('train'),
      quiet: Boolean(values.json),
    });
    const acc = accuracy(net, x, labels);
    await saveNet(dir, net, { trainedOn: path.resolve(need(values, 'images')), seed });
    out(values, { out: dir, arch, trainAccuracy: acc, parameters: net.parameterCount() }, `trained ${arch} (${net.parameterCount()} parameters, feature dim ${net.featureDim}): training accuracy ${(acc * 100).toFixed(2)} %\n  → ${dir}`);
  } finally {
    x.dispose();
    net.dispose();
  }
}

async function runMark(argv: string[]): Promise<void> {
  const { values } = parse(argv, { ...common, ...markOpts, images: { type: 'string' }, labels: { type: 'string' }, net: { type: 'string' }, carriers: { type: 'string' }, out: { type: 'string' } }, USAGE, false);
  const seed = intOption(values.seed, 'seed', 0);
  const outPath = need(values, 'out');
  const carrierFile = need(values, 'carriers');
  const imagesPath = need(values, 'images');
  if (path.resolve(outPath) === path.resolve(imagesPath)) throw new UsageError('--out must differ from --images (the originals are kept)', USAGE);
  await initEngine({ backend: backendFrom(values.backend), seed });
  const net = await loadNet(need(values, 'net'));
  const set = await loadImageSet(imagesPath, { labels: typeof values.labels === 'string' ? values.labels : undefined });
  checkNetFits(net, set, 'marking network');
  const labels = requireLabels(set, 'marking');
  let carriers: Carriers;
  let created = false;
  if (existsSync(carrierFile)) carriers = await readCarriers(carrierFile);
  else {
    carriers = makeCarriers(net.numClasses, net.featureDim, seed);
    await writeCarriers(carrierFile, carriers);
    created = true;
  }
  if (carriers.dim !== net.featureDim || carriers.numClasses !== net.numClasses) {
    throw new PaperlabError('carriers', `${carrierFile} is ${carriers.numClasses}×${carriers.dim} but the network has ${net.numClasses} classes and feature dim ${net.featureDim}`, 'use the carriers made for this marking network, or a new --carriers path');
  }
  const x = tensorOf(set);
  try {
    const r = await markImages(x, labels, net, carriers, { ...markOptionsFrom(values, seed), quiet: Boolean(values.json) });
    const marked = r.images.dataSync() as Float32Array;
    r.images.dispose();
    await saveImageSet(outPath, marked, set);
    const summary = { out: outPath, carriers: carrierFile, carriersCreated: created, images: set.shape[0], psnr: r.psnr, maxAbsDelta: r.maxAbsDelta, featureShift: r.featureShift, shiftCosine: r.shiftCosine, seconds: r.seconds };
    out(
      values,
      summary,
      `marked ${set.shape[0]} images: PSNR ${r.psnr.toFixed(2)} dB, max |δ| ${(r.maxAbsDelta * 255).toFixed(1)}/255, ` +
        `features moved ${r.featureShift.toFixed(3)} along the carriers (cosine ${r.shiftCosine.toFixed(2)})\n  → ${outPath}\n` +
        `  carriers: ${carrierFile}${created ? ' (new: keep this file secret and safe, detection needs it)' : ''}`,
    );
  } finally {
    x.dispose();
    net.dispose();
  }
}

async function runDetect(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { ...common, ...markOpts, net: { type: 'string' }, suspect: { type: 'string' }, carriers: { type: 'string' }, images: { type: 'string' }, labels: { type: 'string' }, 'black-box': { type: 'boolean' }, controls: { type: 'string' }, alpha: { type: 'string' } },
    USAGE,
    false,
  );
  const seed = intOption(values.seed, 'seed', 0);
  const alpha = numOption(values.alpha, 'alpha', 0.01);
  if (!(alpha > 0 && alpha < 1)) throw new UsageError(`--alpha must lie in (0, 1), got ${alpha}`, USAGE);
  await initEngine({ backend: backendFrom(values.backend), seed });
  const marker = await loadNet(need(values, 'net'));
  const suspect = await loadNet(need(values, 'suspect'));
  const carriers = await readCarriers(need(values, 'carriers'));
  const set = await loadImageSet(need(values, 'images'), { labels: typeof values.labels === 'string' ? values.labels : undefined });
  checkNetFits(marker, set, 'marking network');
  checkNetFits(suspect, set, 'suspect network');
  const x = tensorOf(set);
  try {
    if (values['black-box']) {
      const labels = requireLabels(set, 'the black-box test');
      const r = await detectBlackBox(suspect, marker, carriers, x, labels, {
        controls: intOption(values.controls, 'controls', 8, 2),
        controlSeed: new Rng(seed).fork('controls'),
        mark: { ...markOptionsFrom(values, seed), quiet: Boolean(values.json) },
        quiet: Boolean(values.json),
      });
      const flagged = r.log10p < Math.log10(alpha);
      out(
        values,
        { mode: 'black-box', ...r, alpha, flagged },
        `black box: loss gap (original − marked) ${r.gap.toFixed(4)} vs controls ${r.controlGaps.map((g) => g.toFixed(4)).join(' ')}\n` +
          `  pooled t = ${r.t.toFixed(2)} (${r.dof} dof, log10 p ${r.pooledLog10p.toFixed(2)}); per class log10 p ${r.classLog10p.map((v) => (v === null ? '–' : v.toFixed(2))).join(' ')}\n` +
          `  combined (Fisher over classes) log10 p = ${r.log10p.toFixed(2)} → ${flagged ? `FLAGGED at α = ${alpha}` : `not flagged at α = ${alpha}`}`,
      );
      return 0;
    }
    const r = detect(suspect, marker, carriers, x);
    const flagged = r.combinedLog10p < Math.log10(alpha);
    out(
      values,
      { mode: 'white-box', ...r, alpha, flagged },
      [
        `white box: ${r.numClasses} classes, feature dim ${r.dim}, ${r.heldOut} held-out images, alignment R² ${r.alignmentR2.toFixed(3)}`,
        ...r.cosines.map((c, k) => `  class ${k}: cosine ${c.toFixed(3)}  log10 p ${r.log10p[k]!.toFixed(2)}`),
        `combined (Fisher) log10 p = ${r.combinedLog10p.toFixed(2)} → ${flagged ? `FLAGGED: the suspect was very likely trained on the marked data (α = ${alpha})` : `not flagged at α = ${alpha}`}`,
      ].join('\n'),
    );
    return 0;
  } finally {
    x.dispose();
    marker.dispose();
    suspect.dispose();
  }
}

export const radioactive: Command = {
  name: 'radioactive',
  summary: 'mark a dataset and detect models trained on it (radioactive data)',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'train') return runTrain(rest);
    if (sub === 'mark') return runMark(rest);
    if (sub === 'detect') return runDetect(rest);
    throw new UsageError(sub ? `unknown sub-command '${sub}'` : 'name a sub-command: train, mark or detect', USAGE);
  },
};
