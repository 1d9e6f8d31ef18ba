/**
 * Radioactive data (Sablayrolles et al. 2020) on MNIST and Fashion-MNIST.
 *
 * The data owner trains a CNN marking network, draws one secret carrier per class (the seed is the
 * carrier draw), and marks a fraction of the training set the way the reference implementation
 * (facebookresearch/radioactive_data, make_data_radioactive.py) does: per batch of images, ~90
 * optimisation steps on the pixels, each step through a fresh RandomResizedCropFlip augmentation,
 * with the L∞ ball of radius 10/255 and periodic rounding to 8-bit pixels; PSNR is reported.
 * Suspects trained on the marked data — a linear probe on the marker's features, the marker's own
 * architecture from scratch, and a different architecture from scratch — are scored with the paper's
 * white-box statistic: the mean over classes of the *carrier cosine* cos(M·w_k, u_k) after the
 * least-squares feature alignment (paper §4, "Detection"). Each suspect is paired with a clean model
 * of the same kind trained with the same seed on unmarked data; the sweep's interval of
 * (marked − clean) cosine over carrier draws is the answer, not a single run's p-value (Fisher's
 * combined p depends on the class count and on the one carrier draw, so p-values of different set-ups
 * are not comparable). The black-box loss-gap test (paper §5.4) is reported beside it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tf } from '../core/tf.js';
import { lineChart } from '../core/charts.js';
import { mcnemar } from '../core/stats.js';
import { Rng } from '../core/rng.js';
import type { JsonValue } from '../core/checkpoint.js';
import { loadImageDataset, type ImageDataset } from '../data/fashion.js';
import { makeCarriers } from '../radioactive/carriers.js';
import { createNet, LinearProbe, trainClassifier, mapBatches, type FeatureNet, type NetArch, type NetConfig } from '../radioactive/nets.js';
import { markImages, type MarkOptions } from '../radioactive/mark.js';
import { detect, prepareBlackBox, blackBoxTest, disposeProbe } from '../radioactive/detect.js';
import { encodePng } from '../radioactive/png.js';
import type { Experiment, SweepComparisonSpec, SweepStats, TableRow } from './types.js';

/** A suspect: the linear probe on the marker's features, or a network of `arch` from scratch. */
export type SuspectKind = 'probe' | NetArch;
export type SuspectRole = 'probe' | 'same' | 'different';

const ARCH_NAME: Record<NetArch, string> = { mlp: 'MLP', patch: 'patch net', cnn: 'CNN' };

/** Table-row wording of a suspect; stable across seeds so the sweep pairs rows up. */
export function suspectLabel(kind: SuspectKind, markerArch: NetArch): string {
  if (kind === 'probe') return 'linear probe on the marker’s features';
  return kind === markerArch ? `same architecture (${ARCH_NAME[kind]}), from scratch` : `different architecture (${ARCH_NAME[kind]}), from scratch`;
}
export function suspectRole(kind: SuspectKind, markerArch: NetArch): SuspectRole {
  return kind === 'probe' ? 'probe' : kind === markerArch ? 'same' : 'different';
}
export const pct = (f: number): string => `${+(f * 100).toFixed(1)} %`;
/** The paper's white-box statistic, averaged over classes (row label). */
export const cosineLabel = (kind: SuspectKind, markerArch: NetArch, fraction: number): string =>
  `mean carrier cosine — ${suspectLabel(kind, markerArch)}, ${fraction === 0 ? 'clean (no marked data)' : `${pct(fraction)} marked`}`;
export const accuracyLabel = (kind: SuspectKind, markerArch: NetArch, fraction: number): string =>
  `test accuracy — ${suspectLabel(kind, markerArch)}, ${fraction === 0 ? 'clean (no marked data)' : `${pct(fraction)} marked`}`;

interface Settings {
  fractions: number[];
  trainLimit: number;
  testLimit: number;
  epochs: number;
  markerEpochs: number;
  mark: Required<Pick<MarkOptions, 'iterations' | 'radius' | 'lr' | 'lambdaFt' | 'lambdaImg' | 'augment' | 'batchSize'>>;
  heldOut: number;
  blackBoxImages: number;
  controls: number;
  marker: Partial<NetConfig> & { arch: NetArch };
  /** Different architectures trained from scratch beside the marker's own. */
  others: Array<Partial<NetConfig> & { arch: NetArch }>;
}

const NETS: Record<NetArch, Partial<NetConfig> & { arch: NetArch }> = {
  cnn: { arch: 'cnn', hidden: 16, featureDim: 128 },
  mlp: { arch: 'mlp', hidden: 256, featureDim: 128 },
  patch: { arch: 'patch', hidden: 16, patch: 4, featureDim: 64 },
};

/**
 * The marking set-up of the reference's README command: 90 steps, RandomResizedCropFlip each step,
 * radius 10 (8-bit steps). Its λ's (lambda_ft_l2 0.01, lambda_l2_img 0.0005 on images normalised by
 * ImageNet's std ≈ 0.225, i.e. ≈ 0.01 on [0, 1] pixels) carry over; Adam replaces SGD(lr = 1)
 * because a fixed SGD step depends on the feature scale of the network, Adam's does not.
 */
const MARK: Settings['mark'] = { iterations: 90, radius: 10 / 255, lr: 0.01, lambdaFt: 0.01, lambdaImg: 0.01, augment: 'resized-crop-flip', batchSize: 400 };
const BASE = { trainLimit: 8000, testLimit: 2000, markerEpochs: 4, mark: MARK, heldOut: 1000, blackBoxImages: 200, marker: NETS.cnn };
// Quick: half the training images and a smaller black-box probe, same marking budget (< ~90 s).
const QUICK: Settings = { ...BASE, trainLimit: 4000, blackBoxImages: 100, fractions: [0.05, 0.2], epochs: 5, controls: 4, others: [NETS.mlp] };
const FULL: Settings = { ...BASE, fractions: [0.01, 0.02, 0.05, 0.1, 0.2], epochs: 8, controls: 8, others: [NETS.mlp, NETS.patch] };
const ALL_FRACTIONS = [...new Set([...QUICK.fractions, ...FULL.fractions])].sort((a, b) => a - b);

/** Flag at p < 0.01 (the CLI's default). */
const ALPHA = 0.01;

export interface Row {
  kind: SuspectKind;
  fraction: number;
  accuracy: number;
  meanCosine: number;
  cosines: number[];
  log10p: number;
  alignmentR2: number;
  blackBoxLog10p: number | null;
  blackBoxGap: number | null;
}

/** Which kinds a run trains: the probe, the marker's architecture and the others (CNNs only with native conv). */
export function suspectKinds(markerArch: NetArch, others: readonly NetArch[], cnnOk: boolean): SuspectKind[] {
  const kinds: SuspectKind[] = ['probe', markerArch, ...others.filter((a) => a !== markerArch)];
  return kinds.filter((k) => cnnOk || k !== 'cnn');
}

/**
 * The sweep's paired comparisons: for every suspect kind and marked fraction, marked-suspect cosine
 * vs the clean model of the same kind and seed (same carrier draw); and the accuracy at the largest
 * fraction vs clean (the paper's "without hurting accuracy"). Rows missing from a mode are skipped
 * by the sweep. Both marker architectures are listed (the CNN marker falls back to the MLP without
 * the native conv kernels).
 */
export function radioactiveComparisons(): Array<SweepComparisonSpec & { kind: SuspectKind; fraction: number; markerArch: NetArch; metric: 'cosine' | 'accuracy' | 'black-box' }> {
  const out: Array<SweepComparisonSpec & { kind: SuspectKind; fraction: number; markerArch: NetArch; metric: 'cosine' | 'accuracy' | 'black-box' }> = [];
  for (const markerArch of ['cnn', 'mlp'] as NetArch[]) {
    for (const kind of ['probe', 'cnn', 'mlp', 'patch'] as SuspectKind[]) {
      for (const f of ALL_FRACTIONS) {
        out.push({
          a: cosineLabel(kind, markerArch, f),
          b: cosineLabel(kind, markerArch, 0),
          aName: `carrier cosine (${suspectLabel(kind, markerArch)}, ${pct(f)} marked)`,
          bName: 'clean model',
          test: 'paired-t',
          kind,
          fraction: f,
          markerArch,
          metric: 'cosine',
        });
      }
      if (kind !== 'probe') {
        for (const f of ALL_FRACTIONS) {
          const bb = (x: number): string => `black-box log10 p (held-out images) — ${suspectLabel(kind, markerArch)}, ${x === 0 ? 'clean (no marked data)' : `${pct(x)} marked`}`;
          out.push({ a: bb(f), b: bb(0), aName: `black-box log10 p (${suspectLabel(kind, markerArch)}, ${pct(f)} marked)`, bName: 'clean model', test: 'paired-t', kind, fraction: f, markerArch, metric: 'black-box' });
        }
      }
      const maxF = Math.max(...ALL_FRACTIONS);
      out.push({ a: accuracyLabel(kind, markerArch, maxF), b: accuracyLabel(kind, markerArch, 0), aName: `accuracy (${suspectLabel(kind, markerArch)}, ${pct(maxF)} marked)`, bName: 'clean model', test: 'paired-t', kind, fraction: maxF, markerArch, metric: 'accuracy' });
    }
  }
  // The probe's and the patch net's labels read the same under either marker: keep each pair once.
  const seen = new Set<string>();
  return out.filter((c) => {
    const key = `${c.a}\u0000${c.b}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
const COMPARISONS = radioactiveComparisons();

/**
 * The sweep's verdict from its paired comparisons only: per suspect role, the smallest marked
 * fraction whose (marked − clean) cosine interval lies above 0 ("detected from X %"), else "within
 * noise at every fraction"; then the accuracy comparison. Every phrase reads an interval.
 */
export function radioactiveSweepVerdict(stats: SweepStats): string {
  const n = stats.seeds.length;
  const parts: string[] = [];
  const byLabel = new Map(stats.comparisons.map((c) => [`${c.a}\u0000${c.b}`, c]));
  const found = COMPARISONS.map((spec) => ({ spec, c: byLabel.get(`${spec.a}\u0000${spec.b}`) })).filter((x) => x.c && x.c.n >= 2);
  const kinds = [...new Set(found.filter((x) => x.spec.metric === 'cosine').map((x) => `${x.spec.markerArch}|${x.spec.kind}`))];
  for (const key of kinds) {
    const [markerArch, kind] = key.split('|') as [NetArch, SuspectKind];
    const rows = found.filter((x) => x.spec.metric === 'cosine' && x.spec.markerArch === markerArch && x.spec.kind === kind).sort((a, b) => a.spec.fraction - b.spec.fraction);
    const name = suspectLabel(kind, markerArch);
    const each = rows.map(({ spec, c }) => `${pct(spec.fraction)}: ${fmt(c!.meanDiff)} ${interval(c!.ci95)}${c!.direction === 'greater' ? ' above' : c!.direction === 'less' ? ' below' : ' within noise'}`).join(', ');
    const above = rows.filter((x) => x.c!.direction === 'greater').map((x) => x.spec.fraction);
    const below = rows.filter((x) => x.c!.direction === 'less').map((x) => x.spec.fraction);
    const head = above.length ? `marked > clean from ${pct(Math.min(...above))} marked` : 'within noise of the clean model at every fraction';
    parts.push(`${name}: ${head}${below.length ? ` (but below the clean model at ${below.map(pct).join(', ')})` : ''} — cosine gain ${each}`);
  }
  const bbKinds = [...new Set(found.filter((x) => x.spec.metric === 'black-box').map((x) => `${x.spec.markerArch}|${x.spec.kind}`))];
  for (const key of bbKinds) {
    const [markerArch, kind] = key.split('|') as [NetArch, SuspectKind];
    const rows = found.filter((x) => x.spec.metric === 'black-box' && x.spec.markerArch === markerArch && x.spec.kind === kind).sort((a, b) => a.spec.fraction - b.spec.fraction);
    // Lower log10 p than the clean model = more evidence of the marks.
    const lower = rows.filter((x) => x.c!.direction === 'less').map((x) => x.spec.fraction);
    parts.push(`black-box test, ${suspectLabel(kind, markerArch)}: ${lower.length ? `log10 p below the clean model's from ${pct(Math.min(...lower))} marked` : 'log10 p within noise of the clean model at every fraction'} (${rows.map(({ spec, c }) => `${pct(spec.fraction)}: ${fmt(c!.meanDiff)} ${interval(c!.ci95)}`).join(', ')})`);
  }
  const acc = found.filter((x) => x.spec.metric === 'accuracy');
  if (acc.length) {
    parts.push(
      'test accuracy at the largest fraction vs clean: ' +
        acc.map(({ spec, c }) => `${spec.kind === 'probe' ? 'probe' : ARCH_NAME[spec.kind]} ${c!.direction === 'within noise' ? 'within noise' : c!.direction === 'greater' ? 'higher' : 'lower'} (${fmt(c!.meanDiff * 100)} points ${interval(c!.ci95 && [c!.ci95[0] * 100, c!.ci95[1] * 100])})`).join(', '),
    );
  }
  if (!parts.length) return `Over ${n} seed${n === 1 ? '' : 's'}: no comparison had two seeds; run more seeds.`;
  return `Over ${n} carrier draws (seeds), marked-suspect minus clean-model mean carrier cosine, paired by seed, 95 % t interval: ${parts.join('; ')}.`;
}

function fmt(x: number): string {
  return Number(x.toPrecision(2)).toString();
}
function interval(ci: [number, number] | null): string {
  return ci ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : '(no interval)';
}

/**
 * One run's verdict (one carrier draw, so no interval): each suspect's cosine at the largest fraction
 * beside its clean model's, and whether Fisher's p (for this draw) crosses α. Pure: reads only `rows`.
 */
export function radioactiveRunVerdict(rows: readonly Row[], markerArch: NetArch, psnr: number, alpha = ALPHA): string {
  const fractions = [...new Set(rows.map((r) => r.fraction).filter((f) => f > 0))];
  if (!fractions.length) return 'No marked suspect was trained.';
  const maxF = Math.max(...fractions);
  const kinds = [...new Set(rows.map((r) => r.kind))];
  const logA = Math.log10(alpha);
  const parts = kinds.map((k) => {
    const m = rows.find((r) => r.kind === k && r.fraction === maxF);
    const c = rows.find((r) => r.kind === k && r.fraction === 0);
    if (!m || !c) return `${suspectLabel(k, markerArch)}: incomplete`;
    const gain = m.meanCosine - c.meanCosine;
    return `${suspectLabel(k, markerArch)} ${m.meanCosine.toFixed(3)} vs clean ${c.meanCosine.toFixed(3)} (gain ${gain >= 0 ? '+' : ''}${gain.toFixed(3)}; log10 p ${m.log10p.toFixed(2)}, ${m.log10p < logA ? 'flagged' : 'not flagged'} at α = ${alpha})`;
  });
  const cleanFlagged = rows.filter((r) => r.fraction === 0 && r.log10p < logA).map((r) => r.kind);
  return (
    `One carrier draw, marks of PSNR ${psnr.toFixed(1)} dB; mean carrier cosine at ${pct(maxF)} marked: ${parts.join('; ')}. ` +
    (cleanFlagged.length ? `Clean model(s) flagged by the white-box test at α = ${alpha}: ${cleanFlagged.join(', ')} (a false positive for this draw). ` : 'No clean model is flagged. ') +
    'A single draw has no interval: run `paperlab sweep` for the marked − clean interval over carrier draws.'
  );
}

/** Writes a strip of example images: originals, marked, and |δ| scaled to the radius. */
async function writeExamples(file: string, orig: Float32Array, marked: Float32Array, count: number, radius: number): Promise<void> {
  const s = 28;
  const gap = 2;
  const w = count * (s + gap) - gap;
  const h = 3 * s + 2 * gap;
  const data = new Uint8Array(w * h).fill(128);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const p = i * s * s + y * s + x;
        const col = i * (s + gap) + x;
        data[y * w + col] = Math.round(orig[p]! * 255);
        data[(y + s + gap) * w + col] = Math.round(marked[p]! * 255);
        data[(y + 2 * (s + gap)) * w + col] = Math.round(Math.min(1, Math.abs(marked[p]! - orig[p]!) / radius) * 255);
      }
    }
  }
  await fs.writeFile(file, encodePng({ width: w, height: h, channels: 1, data }));
}

/** 1/0 per test image: is the arg-max logit the label? (for McNemar between two suspects) */
function correctness(net: FeatureNet, x: tf.Tensor4D, y: Int32Array): Uint8Array {
  const { data, dim } = mapBatches(x, (b) => net.logits(b));
  const out = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let k = 1; k < dim; k++) if (data[i * dim + k]! > data[i * dim + best]!) best = k;
    out[i] = best === y[i] ? 1 : 0;
  }
  return out;
}

const r4 = (v: number): number => Number(v.toFixed(4));

function makeRadioactive(name: string, dataset: ImageDataset): Experiment {
  const what = dataset === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
  return {
    name,
    section: 'radioactive',
    paper: 'Radioactive data: tracing through training (Sablayrolles et al., 2020)',
    claim: 'Marking 1 % of ImageNet is enough to detect a ResNet-18 trained on it with p < 1e-4, without hurting its accuracy; detection also works across architectures.',
    question: `The notes doubt it works "if a different classifier is used on the marked data", and say the images "look very bad": on ${what}, does a marked suspect's carrier cosine rise above a clean model's over carrier draws, for the marker's architecture and a different one?`,
    estimate: { quick: '~1.5 min (native kernels, idle 2 cores)', full: '~5 min (native kernels, idle 2 cores)' },
    sweep: { comparisons: COMPARISONS.map(({ a, b, aName, bName, test }) => ({ a, b, aName, bName, test })), verdict: radioactiveSweepVerdict },
    async run(ctx) {
      const S = ctx.quick ? QUICK : FULL;
      const rng = ctx.rng.fork('radioactive');
      const data = loadImageDataset(dataset, { seed: ctx.seed, trainLimit: S.trainLimit, testLimit: S.testLimit });
      const n = data.trainX.shape[0];
      const shape: [number, number, number] = [28, 28, 1];
      const trainLabels = Int32Array.from(data.trainY.dataSync());
      const testLabels = Int32Array.from(data.testY.dataSync());
      const held = tf.slice(data.testX, [0, 0, 0, 0], [Math.min(S.heldOut, data.testX.shape[0]), -1, -1, -1]);
      const disposables: tf.Tensor[] = [data.trainX, data.trainY, data.testX, data.testY, held];
      const nets: FeatureNet[] = [];
      // CNNs need the native conv kernels (tfjs's own cpu conv is ~100× slower): without them the
      // marker falls back to the MLP and CNN suspects are skipped.
      const cnnOk = ctx.engine.native.active && ctx.engine.native.kernels.includes('Conv2DBackpropFilter');
      const markerCfg = cnnOk ? S.marker : NETS.mlp;
      const markerArch = markerCfg.arch;
      if (!cnnOk) ctx.log('native conv kernels are not active: MLP marker, no CNN suspect');
      try {
        // 1. The data owner's marking network, trained on the clean training set.
        ctx.log(`training the marking network (${markerArch}, feature dim ${markerCfg.featureDim}) on ${n} ${what} images`);
        const marker = createNet({ ...markerCfg, inputShape: shape, numClasses: 10 }, rng.fork('marker'));
        nets.push(marker);
        await trainClassifier(marker, data.trainX, trainLabels, { epochs: S.markerEpochs, batchSize: 128, lr: 3e-3, rng: rng.fork('marker-train'), label: 'marker', quiet: true });
        const markerCorrect = correctness(marker, data.testX, testLabels);
        const markerAccuracy = markerCorrect.reduce((s, v) => s + v, 0) / markerCorrect.length;
        // The carrier draw: a fresh one per seed.
        const carriers = makeCarriers(10, marker.featureDim, rng.fork('carriers'));

        // 2. Mark the largest fraction once; smaller fractions are nested prefixes of the same order.
        const perm = rng.fork('which').permutation(n);
        const maxFrac = Math.max(...S.fractions);
        const nMax = Math.round(maxFrac * n);
        const idxT = tf.tensor1d(perm.slice(0, nMax), 'int32');
        const toMark = tf.gather(data.trainX, idxT) as tf.Tensor4D;
        idxT.dispose();
        disposables.push(toMark);
        const markLabels = Int32Array.from(perm.subarray(0, nMax), (i) => trainLabels[i]!);
        const markOpts: MarkOptions = { ...S.mark, quiet: true };
        ctx.log(`marking ${nMax} images (${S.mark.iterations} steps, ${S.mark.augment}, radius ${(S.mark.radius * 255).toFixed(0)}/255)`);
        const mk = await markImages(toMark, markLabels, marker, carriers, { ...markOpts, rng: rng.fork('mark') });
        disposables.push(mk.images);
        const markedPixels = mk.images.dataSync() as Float32Array;
        await writeExamples(path.join(ctx.outDir, 'marked-examples.png'), (toMark.dataSync() as Float32Array).subarray(0, 10 * 784), markedPixels.subarray(0, 10 * 784), 10, S.mark.radius);
        ctx.log(`marks: PSNR ${mk.psnr.toFixed(1)} dB, feature shift cosine ${mk.shiftCosine.toFixed(3)} (${mk.seconds.toFixed(0)} s)`);

        // Black-box probe: test images outside the alignment set, marked with the carriers and with
        // control carriers the suspect cannot have seen.
        const nbb = Math.min(S.blackBoxImages, data.testX.shape[0] - held.shape[0]);
        const bbImages = tf.slice(data.testX, [held.shape[0], 0, 0, 0], [nbb, -1, -1, -1]);
        disposables.push(bbImages);
        const bbLabels = testLabels.slice(held.shape[0], held.shape[0] + nbb);
        ctx.log(`marking ${nbb} test images with the carriers and ${S.controls} control carrier sets (black-box test)`);
        const probe = await prepareBlackBox(marker, carriers, bbImages, bbLabels, { controls: S.controls, controlSeed: rng.fork('controls'), mark: { ...markOpts, rng: rng.fork('probe-marks') }, quiet: true });

        const original = data.trainX.dataSync() as Float32Array;
        const trainSetFor = (fraction: number): tf.Tensor4D => {
          const k = Math.round(fraction * n);
          if (k === 0) return data.trainX;
          const buf = original.slice();
          for (let i = 0; i < k; i++) buf.set(markedPixels.subarray(i * 784, (i + 1) * 784), perm[i]! * 784);
          return tf.tensor4d(buf, data.trainX.shape);
        };
        const kinds = suspectKinds(markerArch, S.others.map((o) => o.arch), cnnOk);
        const cfgOf = (k: NetArch): Partial<NetConfig> => (k === markerArch ? markerCfg : NETS[k]);
        // Same label ⇒ same initialisation and batch order for the clean and the marked model of a kind:
        // the pair differs only in the marked images.
        const pairSeeds = new Map(kinds.map((k) => [k, rng.fork(`${k}-pair`).int(0x7fffffff)]));
        const pairRng = (kind: SuspectKind, what: string): Rng => new Rng(pairSeeds.get(kind)!).fork(what);
        const build = (kind: SuspectKind): FeatureNet => (kind === 'probe' ? new LinearProbe(marker, pairRng(kind, 'init')) : createNet({ ...cfgOf(kind), inputShape: shape, numClasses: 10 }, pairRng(kind, 'init')));

        const rows: Row[] = [];
        const correct = new Map<string, Uint8Array>();
        try {
          for (const fraction of [0, ...S.fractions]) {
            const x = trainSetFor(fraction);
            for (const kind of kinds) {
              const net = build(kind);
              const epochs = kind === 'probe' ? Math.max(2, Math.ceil(S.epochs / 2)) : S.epochs;
              await trainClassifier(net, x, trainLabels, { epochs, batchSize: 128, lr: kind === 'probe' ? 1e-2 : 3e-3, rng: pairRng(kind, 'train'), label: kind, quiet: true });
              const corr = correctness(net, data.testX, testLabels);
              if (fraction === 0 || fraction === maxFrac) correct.set(`${kind}-${fraction}`, corr);
              const det = detect(net, marker, carriers, held);
              const bb = kind === 'probe' ? null : blackBoxTest(net, probe);
              rows.push({ kind, fraction, accuracy: corr.reduce((s, v) => s + v, 0) / corr.length, meanCosine: det.meanCosine, cosines: det.cosines, log10p: det.combinedLog10p, alignmentR2: det.alignmentR2, blackBoxLog10p: bb ? bb.log10p : null, blackBoxGap: bb ? bb.gap : null });
              const r = rows[rows.length - 1]!;
              ctx.log(`${fraction === 0 ? 'clean' : `${pct(fraction)} marked`}, ${kind}: accuracy ${(r.accuracy * 100).toFixed(2)} %, mean carrier cosine ${r.meanCosine.toFixed(4)}, white-box log10 p ${r.log10p.toFixed(2)}${bb ? `, black-box log10 p ${bb.log10p.toFixed(2)}` : ''}`);
              net.dispose();
            }
            if (x !== data.trainX) x.dispose();
          }
        } finally {
          disposeProbe(probe);
        }

        // 3. Report. Row labels carry no run-dependent numbers, so the sweep pairs them across seeds.
        const get = (kind: SuspectKind, f: number): Row => rows.find((r) => r.kind === kind && r.fraction === f)!;
        const table: TableRow[] = [];
        for (const kind of kinds) {
          for (const f of [0, ...S.fractions]) table.push({ label: cosineLabel(kind, markerArch, f), ours: r4(get(kind, f).meanCosine), paper: null, unit: 'cosine' });
        }
        for (const kind of kinds) {
          for (const f of [0, ...S.fractions]) {
            const paper = kind === markerArch && f === 0.01 ? '< −4 (ImageNet, ResNet-18, 1 % marked)' : null;
            table.push({ label: `white-box log10 p (this carrier draw) — ${suspectLabel(kind, markerArch)}, ${f === 0 ? 'clean (no marked data)' : `${pct(f)} marked`}`, ours: Number(get(kind, f).log10p.toFixed(2)), paper, unit: 'log10 p' });
          }
        }
        for (const kind of kinds.filter((k) => k !== 'probe')) {
          for (const f of [0, ...S.fractions]) table.push({ label: `black-box log10 p (held-out images) — ${suspectLabel(kind, markerArch)}, ${f === 0 ? 'clean (no marked data)' : `${pct(f)} marked`}`, ours: Number(get(kind, f).blackBoxLog10p!.toFixed(2)), paper: null, unit: 'log10 p' });
        }
        const mcn: Record<string, JsonValue> = {};
        for (const kind of kinds) {
          for (const f of [0, maxFrac]) table.push({ label: accuracyLabel(kind, markerArch, f), ours: r4(get(kind, f).accuracy), paper: null, unit: 'fraction' });
          // Same test images for both: McNemar on the discordant pairs.
          const m = mcnemar(correct.get(`${kind}-${maxFrac}`)!, correct.get(`${kind}-0`)!);
          mcn[kind] = m as unknown as JsonValue;
          table.push({ label: `McNemar exact p, accuracy ${pct(maxFrac)} marked vs clean — ${suspectLabel(kind, markerArch)}`, ours: Number(m.pExact.toPrecision(3)), paper: null, unit: 'p' });
        }
        table.push({ label: `PSNR of the marked images (radius ${(S.mark.radius * 255).toFixed(0)}/255)`, ours: Number(mk.psnr.toFixed(2)), paper: null, unit: 'dB' });
        table.push({ label: 'marking network test accuracy', ours: r4(markerAccuracy), paper: null, unit: 'fraction' });

        const verdict = radioactiveRunVerdict(rows, markerArch, mk.psnr);
        const chartRows = rows.map((r) => ({ marked: r.fraction * 100, suspect: r.kind, cosine: r4(r.meanCosine) }));
        const charts = [
          lineChart({
            id: 'cosine-vs-fraction',
            title: `Mean carrier cosine vs marked fraction (${what}, one carrier draw)`,
            alt: 'Mean over classes of the cosine between the aligned suspect class weights and the carriers, against the percentage of marked training images (0 = the clean model), one line per suspect kind; higher is stronger evidence.',
            rows: chartRows,
            x: 'marked',
            y: 'cosine',
            series: 'suspect',
            xTitle: 'marked training images (%)',
            yTitle: 'mean carrier cosine',
          }),
        ];
        const config: Record<string, JsonValue> = {
          dataset,
          fractions: S.fractions,
          epochs: S.epochs,
          markerEpochs: S.markerEpochs,
          marker: markerCfg as JsonValue,
          suspects: kinds,
          suspectConfigs: Object.fromEntries(kinds.filter((k) => k !== 'probe').map((k) => [k, cfgOf(k as NetArch)])) as unknown as JsonValue,
          mark: { ...S.mark, radius255: S.mark.radius * 255 } as unknown as JsonValue,
          markReference: 'facebookresearch/radioactive_data make_data_radioactive.py: 90 iterations, RandomResizedCropFlip, radius 10; Adam instead of SGD',
          heldOut: held.shape[0],
          blackBoxImages: nbb,
          controls: S.controls,
          trainImages: n,
          testImages: data.testX.shape[0],
          alpha: ALPHA,
          pairing: 'clean and marked suspects of a kind share the initialisation and batch order (same seed); the seed is the carrier draw',
        };
        const metrics: Record<string, JsonValue> = {
          psnr: mk.psnr,
          maxAbsDelta: mk.maxAbsDelta,
          featureShift: mk.featureShift,
          shiftCosine: mk.shiftCosine,
          markerAccuracy,
          markSeconds: mk.seconds,
          runs: rows.map((r) => ({ ...r })) as unknown as JsonValue,
          mcnemar: mcn,
          examplesPng: 'marked-examples.png',
        };
        return { config, metrics, table, verdict, charts };
      } finally {
        for (const net of nets) net.dispose();
        tf.dispose(disposables);
      }
    },
  };
}

export const radioactiveMnist: Experiment = makeRadioactive('radioactive-mnist', 'mnist');
export const radioactiveFashion: Experiment = makeRadioactive('radioactive-fashion', 'fashion-mnist');
