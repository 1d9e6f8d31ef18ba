/**
 * Radioactive data on MNIST: mark a fraction of the training set through a small marking network,
 * train suspects on it — a linear probe on the marker's own features (the paper's easiest case), a
 * network of the marking architecture from scratch, and a different architecture from scratch — plus
 * clean models that must not be flagged, and test them white-box (aligned cosines, Fisher) and
 * black-box (loss gap on the marked images against control marks).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tf } from '../core/tf.js';
import { lineChart } from '../core/charts.js';
import type { JsonValue } from '../core/checkpoint.js';
import { loadMnist } from '../data/mnist.js';
import { makeCarriers } from '../radioactive/carriers.js';
import { createNet, LinearProbe, trainClassifier, accuracy, type FeatureNet, type NetConfig } from '../radioactive/nets.js';
import { markImages } from '../radioactive/mark.js';
import { detect, prepareBlackBox, blackBoxTest, disposeProbe } from '../radioactive/detect.js';
import { encodePng } from '../radioactive/png.js';
import type { Experiment, TableRow } from './types.js';

type SuspectKind = 'probe' | 'mlp' | 'patch' | 'cnn';
type ScratchKind = Exclude<SuspectKind, 'probe'>;
const KIND_LABEL: Record<SuspectKind, string> = {
  probe: 'linear probe on the marker’s features',
  mlp: 'same architecture (MLP), from scratch',
  patch: 'different architecture (patch net), from scratch',
  cnn: 'different architecture (CNN), from scratch',
};

interface Settings {
  fractions: number[];
  epochs: number;
  markerEpochs: number;
  iterations: number;
  radius: number;
  lambdaFt: number;
  lambdaImg: number;
  maxShift: number;
  heldOut: number;
  blackBoxImages: number;
  controls: number;
  /** A second, weaker radius (the paper's 10/255) tested at the largest fraction only; null = skip. */
  extraRadius: number | null;
  marker: Partial<NetConfig>;
  suspects: Record<ScratchKind, Partial<NetConfig>>;
}

const BASE: Omit<Settings, 'fractions' | 'epochs' | 'iterations' | 'controls' | 'extraRadius'> = {
  markerEpochs: 4,
  radius: 32 / 255,
  lambdaFt: 0.1,
  lambdaImg: 0.05,
  maxShift: 0,
  heldOut: 1000,
  blackBoxImages: 200,
  marker: { arch: 'mlp', hidden: 256, featureDim: 256 },
  suspects: { mlp: { arch: 'mlp', hidden: 256, featureDim: 256 }, patch: { arch: 'patch', hidden: 16, patch: 4, featureDim: 64 }, cnn: { arch: 'cnn', hidden: 16, featureDim: 64 } },
};
const QUICK: Settings = { ...BASE, fractions: [0.02, 0.2], epochs: 6, iterations: 25, controls: 5, extraRadius: null };
const FULL: Settings = { ...BASE, fractions: [0.01, 0.02, 0.05, 0.1, 0.2], epochs: 10, iterations: 40, controls: 8, extraRadius: 10 / 255 };

/** Flag at p < 0.01, the CLI's default. */
const ALPHA = 0.01;
const LOG_ALPHA = Math.log10(ALPHA);

interface Row {
  kind: SuspectKind;
  fraction: number;
  /** L∞ radius of the marks (pixels in [0, 1]). */
  radius: number;
  accuracy: number;
  accuracyDrop: number;
  log10p: number;
  /** White-box log10 p after projecting the marker's own class directions out (not in the paper). */
  log10pExcluded: number;
  meanCosine: number;
  alignmentR2: number;
  blackBoxLog10p: number;
  blackBoxGap: number;
}

const r2 = (v: number): number => Number(v.toFixed(2));
const r4 = (v: number): number => Number(v.toFixed(4));

/** Writes a strip of example digits: originals, marked, and |δ| scaled to the radius. */
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

export const radioactiveMnist: Experiment = {
  name: 'radioactive-mnist',
  section: 'radioactive',
  paper: 'Radioactive data: tracing through training (Sablayrolles et al., 2020)',
  claim: 'Marking 1 % of ImageNet is enough to detect a ResNet-18 trained on it with p < 1e-4, without hurting its accuracy; detection also works across architectures.',
  question: 'The notes doubt it works "if a different classifier is used on the marked data", and say the images "look very bad": does either hold at small scale?',
  estimate: { quick: '~1 min (native kernels, idle 2 cores)', full: '~1.5 min (native kernels, idle 2 cores)' },
  async run(ctx) {
    const S = ctx.quick ? QUICK : FULL;
    const rng = ctx.rng.fork('radioactive');
    const data = loadMnist({ seed: ctx.seed });
    const n = data.trainX.shape[0];
    const shape: [number, number, number] = [28, 28, 1];
    const trainLabels = Int32Array.from(data.trainY.dataSync());
    const held = tf.slice(data.testX, [0, 0, 0, 0], [Math.min(S.heldOut, data.testX.shape[0]), -1, -1, -1]);
    const disposables: tf.Tensor[] = [data.trainX, data.trainY, data.testX, data.testY, held];
    const nets: FeatureNet[] = [];
    try {
      // 1. The data owner's marking network, trained on the clean training set.
      ctx.log(`training the marking network (${S.marker.arch}, feature dim ${S.marker.featureDim}) on ${n} digits`);
      const marker = createNet({ ...S.marker, inputShape: shape, numClasses: 10 }, rng.fork('marker'));
      nets.push(marker);
      await trainClassifier(marker, data.trainX, trainLabels, { epochs: S.markerEpochs, batchSize: 128, lr: 3e-3, rng: rng.fork('marker-train'), label: 'marker', quiet: true });
      const markerAccuracy = accuracy(marker, data.testX, data.testY);
      const carriers = makeCarriers(10, marker.featureDim, rng.fork('carriers'));
      // The marker's own class weights: trained before the carriers existed, so independent of them.
      const exclude = { data: Float64Array.from(marker.classifierWeights().dataSync()), cols: 10 };

      // 2. Mark the largest fraction once; smaller fractions are nested prefixes of the same order.
      const perm = rng.fork('which').permutation(n);
      const maxFrac = Math.max(...S.fractions);
      const nMax = Math.round(maxFrac * n);
      const idxT = tf.tensor1d(perm.slice(0, nMax), 'int32');
      const toMark = tf.gather(data.trainX, idxT) as tf.Tensor4D;
      idxT.dispose();
      disposables.push(toMark);
      const markLabels = Int32Array.from(perm.subarray(0, nMax), (i) => trainLabels[i]!);
      ctx.log(`marking ${nMax} images (${S.iterations} steps, radius ${(S.radius * 255).toFixed(0)}/255)`);
      const markOpts = { iterations: S.iterations, radius: S.radius, lambdaFt: S.lambdaFt, lambdaImg: S.lambdaImg, maxShift: S.maxShift, quiet: true };
      const mk = await markImages(toMark, markLabels, marker, carriers, { ...markOpts, rng: rng.fork('mark') });
      disposables.push(mk.images);
      const markedPixels = mk.images.dataSync() as Float32Array;
      await writeExamples(path.join(ctx.outDir, 'marked-examples.png'), (toMark.dataSync() as Float32Array).subarray(0, 10 * 784), markedPixels.subarray(0, 10 * 784), 10, S.radius);

      // Black-box probe: fresh test images (never trained on, not used for the alignment), marked with
      // the real carriers and with control carriers: did the suspect learn to answer to the carriers?
      const nbb = Math.min(S.blackBoxImages, data.testX.shape[0] - held.shape[0]);
      const bbImages = tf.slice(data.testX, [held.shape[0], 0, 0, 0], [nbb, -1, -1, -1]);
      disposables.push(bbImages);
      const bbLabels = Int32Array.from(data.testY.dataSync().subarray(held.shape[0], held.shape[0] + nbb));
      ctx.log(`marking ${nbb} test images with the carriers and ${S.controls} control carrier sets for the black-box test`);
      const probe = await prepareBlackBox(marker, carriers, bbImages, bbLabels, {
        controls: S.controls,
        controlSeed: rng.fork('controls'),
        mark: { ...markOpts, rng: rng.fork('probe-marks') },
        quiet: true,
      });

      const original = data.trainX.dataSync() as Float32Array;
      const trainSetFor = (fraction: number): tf.Tensor4D => {
        const k = Math.round(fraction * n);
        if (k === 0) return data.trainX;
        const buf = original.slice();
        for (let i = 0; i < k; i++) buf.set(markedPixels.subarray(i * 784, (i + 1) * 784), perm[i]! * 784);
        return tf.tensor4d(buf, data.trainX.shape);
      };
      const build = (kind: SuspectKind, label: string): FeatureNet => (kind === 'probe' ? new LinearProbe(marker, rng.fork(label)) : createNet({ ...S.suspects[kind], inputShape: shape, numClasses: 10 }, rng.fork(label)));

      const rows: Row[] = [];
      const cleanAccuracy: Partial<Record<SuspectKind, number>> = {};
      const cleanNets: Partial<Record<SuspectKind, FeatureNet>> = {};
      // The CNN suspect needs the native conv kernels (tfjs's own cpu conv is ~100× slower).
      const cnnOk = ctx.engine.native.active && ctx.engine.native.kernels.includes('Conv2DBackpropFilter');
      if (!cnnOk) ctx.log('native conv kernels are not active: skipping the CNN suspect');
      const scratchKinds: ScratchKind[] = cnnOk ? ['mlp', 'patch', 'cnn'] : ['mlp', 'patch'];
      const kinds: SuspectKind[] = ['probe', ...scratchKinds];
      try {
        for (const fraction of [0, ...S.fractions]) {
          const x = trainSetFor(fraction);
          for (const kind of kinds) {
            const label = `${kind}-${fraction}`;
            const net = build(kind, label);
            const epochs = kind === 'probe' ? Math.max(2, Math.ceil(S.epochs / 2)) : S.epochs;
            await trainClassifier(net, x, trainLabels, { epochs, batchSize: 128, lr: kind === 'probe' ? 1e-2 : 3e-3, rng: rng.fork(`${label}-train`), label, quiet: true });
            const acc = accuracy(net, data.testX, data.testY);
            if (fraction === 0) cleanAccuracy[kind] = acc;
            const det = detect(net, marker, carriers, held, { exclude });
            const bb = blackBoxTest(net, probe);
            rows.push({
              kind,
              fraction,
              radius: S.radius,
              accuracy: acc,
              accuracyDrop: (cleanAccuracy[kind] ?? acc) - acc,
              log10p: det.combinedLog10p,
              log10pExcluded: det.excluded!.combinedLog10p,
              meanCosine: det.meanCosine,
              alignmentR2: det.alignmentR2,
              blackBoxLog10p: bb.log10p,
              blackBoxGap: bb.gap,
            });
            ctx.log(`${fraction === 0 ? 'clean' : `${(fraction * 100).toFixed(0)} % marked`}, ${kind}: accuracy ${(acc * 100).toFixed(2)} %, white-box log10 p ${det.combinedLog10p.toFixed(2)} (mean cos ${det.meanCosine.toFixed(3)}; ${det.excluded!.combinedLog10p.toFixed(2)} with the marker's class directions removed), black-box log10 p ${bb.log10p.toFixed(2)}`);
            if (fraction === 0) {
              cleanNets[kind] = net;
              nets.push(net);
            } else net.dispose();
          }
          if (x !== data.trainX) x.dispose();
        }
      } finally {
        disposeProbe(probe);
      }

      // The paper's radius (10/255) at the largest fraction: fainter marks, higher PSNR.
      let extra: { psnr: number; rows: Row[] } | null = null;
      if (S.extraRadius !== null) {
        const opts2 = { ...markOpts, radius: S.extraRadius };
        ctx.log(`marking ${nMax} images again at radius ${(S.extraRadius * 255).toFixed(0)}/255`);
        const mk2 = await markImages(toMark, markLabels, marker, carriers, { ...opts2, rng: rng.fork('mark-extra') });
        const px2 = mk2.images.dataSync() as Float32Array;
        mk2.images.dispose();
        const probe2 = await prepareBlackBox(marker, carriers, bbImages, bbLabels, { controls: S.controls, controlSeed: rng.fork('controls-extra'), mark: { ...opts2, rng: rng.fork('probe-marks-extra') }, quiet: true });
        const buf = original.slice();
        for (let i = 0; i < nMax; i++) buf.set(px2.subarray(i * 784, (i + 1) * 784), perm[i]! * 784);
        const x2 = tf.tensor4d(buf, data.trainX.shape);
        const rows2: Row[] = [];
        try {
          for (const kind of kinds) {
            for (const fraction of [0, maxFrac]) {
              let net = cleanNets[kind]!;
              if (fraction > 0) {
                const label = `${kind}-extra`;
                net = build(kind, label);
                const epochs = kind === 'probe' ? Math.max(2, Math.ceil(S.epochs / 2)) : S.epochs;
                await trainClassifier(net, x2, trainLabels, { epochs, batchSize: 128, lr: kind === 'probe' ? 1e-2 : 3e-3, rng: rng.fork(`${label}-train`), label, quiet: true });
              }
              const acc = accuracy(net, data.testX, data.testY);
              const det = detect(net, marker, carriers, held, { exclude });
              const bb = blackBoxTest(net, probe2);
              rows2.push({ kind, fraction, radius: S.extraRadius, accuracy: acc, accuracyDrop: cleanAccuracy[kind]! - acc, log10p: det.combinedLog10p, log10pExcluded: det.excluded!.combinedLog10p, meanCosine: det.meanCosine, alignmentR2: det.alignmentR2, blackBoxLog10p: bb.log10p, blackBoxGap: bb.gap });
              ctx.log(`radius ${(S.extraRadius * 255).toFixed(0)}/255, ${fraction === 0 ? 'clean' : `${(fraction * 100).toFixed(0)} % marked`}, ${kind}: white-box log10 p ${det.combinedLog10p.toFixed(2)}, black-box log10 p ${bb.log10p.toFixed(2)}`);
              if (fraction > 0) net.dispose();
            }
          }
        } finally {
          x2.dispose();
          disposeProbe(probe2);
        }
        extra = { psnr: mk2.psnr, rows: rows2 };
      }

      // 3. Report.
      const pct = (f: number): string => `${+(f * 100).toFixed(1)} %`;
      const get = (kind: SuspectKind, f: number): Row => rows.find((r) => r.kind === kind && r.fraction === f)!;
      const table: TableRow[] = [];
      const minF = Math.min(...S.fractions);
      for (const kind of kinds) {
        for (const f of S.fractions) {
          const paper = kind === 'mlp' && f === 0.01 ? '< −4 (ImageNet, ResNet-18, 1 % marked)' : null;
          table.push({ label: `white-box log10 p — ${KIND_LABEL[kind]}, ${pct(f)} marked`, ours: r2(get(kind, f).log10p), paper, unit: 'log10 p' });
        }
      }
      for (const kind of kinds) table.push({ label: `white-box log10 p — clean model, ${KIND_LABEL[kind]} (must stay above ${LOG_ALPHA.toFixed(2)})`, ours: r2(get(kind, 0).log10p), paper: null, unit: 'log10 p' });
      for (const kind of kinds) {
        for (const f of [0, ...S.fractions]) {
          table.push({ label: `white-box log10 p, marker's class directions removed (not in the paper) — ${f === 0 ? 'clean model, ' : ''}${KIND_LABEL[kind]}${f === 0 ? '' : `, ${pct(f)} marked`}`, ours: r2(get(kind, f).log10pExcluded), paper: null, unit: 'log10 p' });
        }
      }
      for (const kind of scratchKinds) {
        for (const f of S.fractions) table.push({ label: `black-box log10 p (held-out images) — ${KIND_LABEL[kind]}, ${pct(f)} marked`, ours: r2(get(kind, f).blackBoxLog10p), paper: null, unit: 'log10 p' });
        table.push({ label: `black-box log10 p (held-out images) — clean model, ${KIND_LABEL[kind]}`, ours: r2(get(kind, 0).blackBoxLog10p), paper: null, unit: 'log10 p' });
      }
      const scratch = rows.filter((r) => r.kind !== 'probe' && r.fraction > 0);
      const sameArch = rows.filter((r) => r.kind === 'mlp' && r.fraction > 0).map((r) => r.log10p);
      table.push({
        label: 'white-box log10 p range, same architecture from scratch (third-party CIFAR-10 replication beside it)',
        ours: `${Math.max(...sameArch).toFixed(2)} to ${Math.min(...sameArch).toFixed(2)}`,
        paper: '−0.07 to −2.3 (CIFAR-10)',
        unit: 'log10 p',
      });
      for (const kind of scratchKinds) table.push({ label: `test-accuracy drop, ${KIND_LABEL[kind]}, ${pct(maxFrac)} marked`, ours: r4(get(kind, maxFrac).accuracyDrop * 100), paper: null, unit: 'percentage points' });
      table.push({ label: `PSNR of the marked images (radius ${(S.radius * 255).toFixed(0)}/255)`, ours: r2(mk.psnr), paper: null, unit: 'dB' });
      if (extra) {
        const rad = `radius ${(S.extraRadius! * 255).toFixed(0)}/255`;
        table.push({ label: `PSNR of the marked images (${rad}, the paper's radius)`, ours: r2(extra.psnr), paper: null, unit: 'dB' });
        for (const row of extra.rows) {
          const who = row.fraction === 0 ? `clean model, ${KIND_LABEL[row.kind]}` : `${KIND_LABEL[row.kind]}, ${pct(row.fraction)} marked`;
          table.push({ label: `${rad}: white-box log10 p — ${who}`, ours: r2(row.log10p), paper: null, unit: 'log10 p' });
          if (row.kind !== 'probe') table.push({ label: `${rad}: black-box log10 p — ${who}`, ours: r2(row.blackBoxLog10p), paper: null, unit: 'log10 p' });
        }
      }
      table.push({ label: 'marking network test accuracy', ours: r4(markerAccuracy * 100), paper: null, unit: '%' });

      const flagged = (v: number): boolean => v < LOG_ALPHA;
      const cleanWorst = Math.min(...rows.filter((r) => r.fraction === 0).flatMap((r) => [r.log10p, r.log10pExcluded]));
      const cleanBbWorst = Math.min(...[...rows, ...(extra?.rows ?? [])].filter((r) => r.fraction === 0 && r.kind !== 'probe').map((r) => r.blackBoxLog10p));
      const probeMin = rows.filter((r) => r.kind === 'probe' && r.fraction > 0 && flagged(r.log10p)).map((r) => r.fraction);
      const scratchFlagged = scratch.filter((r) => flagged(r.log10p));
      const bbFlagged = (kind: SuspectKind): number[] => rows.filter((r) => r.kind === kind && r.fraction > 0 && flagged(r.blackBoxLog10p)).map((r) => r.fraction);
      const describe = (fs: number[]): string => (fs.length ? `from ${pct(Math.min(...fs))} marked` : 'at no fraction');
      const sameAtMin = get('mlp', minF).log10p;
      const allSame = rows.filter((r) => r.kind === 'mlp' && r.fraction > 0).map((r) => r.log10p);
      const paperPart =
        sameAtMin < -4
          ? `matching the paper's p < 1e-4 at 1 % of ImageNet`
          : `short of the paper's p < 1e-4 at 1 % of ImageNet` + (Math.min(...allSame) >= -2.3 ? ' and no stronger than the third-party CIFAR-10 replication (−0.07 to −2.3)' : '');
      const allRows = [...rows, ...(extra?.rows ?? [])];
      const cleanFlagged = allRows.filter((r) => r.fraction === 0 && (flagged(r.log10p) || flagged(r.log10pExcluded) || (r.kind !== 'probe' && flagged(r.blackBoxLog10p))));
      const verdict =
        `With marks of PSNR ${mk.psnr.toFixed(1)} dB (L∞ radius ${(S.radius * 255).toFixed(0)}/255), the white-box test ` +
        (probeMin.length ? `flags a linear probe on the marker's features ${describe(probeMin)}` : 'flags not even a linear probe on the marker’s features') +
        ` (log10 p ${r2(get('probe', maxFrac).log10p)} at ${pct(maxFrac)}), and ` +
        (scratchFlagged.length === 0 ? 'no model trained from scratch' : `${scratchFlagged.length} of ${scratch.length} models trained from scratch`) +
        ` (at ${pct(maxFrac)}: ${scratchKinds.map((k) => `${k} ${r2(get(k, maxFrac).log10p)}`).join(', ')}; clean models ${scratchKinds.map((k) => r2(get(k, 0).log10p)).join(', ')}; the same architecture at ${pct(minF)}: ${r2(sameAtMin)}), ${paperPart}; ` +
        `projecting the marker's own class directions out before scoring (our variant) gives ${kinds.map((k) => `${k} ${r2(get(k, maxFrac).log10pExcluded)}`).join(', ')} at ${pct(maxFrac)} (clean: ${kinds.map((k) => r2(get(k, 0).log10pExcluded)).join(', ')}); ` +
        `the black-box loss gap on marked held-out images flags the same architecture ${describe(bbFlagged('mlp'))} and the different ones ${scratchKinds.filter((k) => k !== 'mlp').map((k) => `(${k}) ${describe(bbFlagged(k))}`).join(', ')}; ` +
        (extra
          ? `at the paper's radius ${(S.extraRadius! * 255).toFixed(0)}/255 (PSNR ${extra.psnr.toFixed(1)} dB) and ${pct(maxFrac)} marked the black-box log10 p is ${extra.rows.filter((r) => r.fraction > 0 && r.kind !== 'probe').map((r) => `${r2(r.blackBoxLog10p)} (${r.kind})`).join(', ')} and the linear probe's white-box ${r2(extra.rows.find((r) => r.kind === 'probe' && r.fraction > 0)!.log10p)}; `
          : '') +
        (cleanFlagged.length === 0
          ? `no clean model is flagged (lowest log10 p ${cleanWorst.toFixed(2)} white-box, ${cleanBbWorst.toFixed(2)} black-box, threshold ${LOG_ALPHA.toFixed(2)}).`
          : `but ${cleanFlagged.length} clean model(s) are flagged at α = ${ALPHA} (lowest log10 p ${Math.min(cleanWorst, cleanBbWorst).toFixed(2)}), a false positive.`);

      const chartRows = rows.filter((r) => r.fraction > 0).map((r) => ({ marked: r.fraction * 100, suspect: r.kind, log10p: r2(r.log10p), excluded: r2(r.log10pExcluded), blackBox: r2(r.blackBoxLog10p) }));
      const charts = [
        lineChart({
          id: 'log10p-vs-fraction',
          title: 'White-box detection vs marked fraction',
          alt: 'Combined log10 p-value of the white-box test against the percentage of marked training images, one line per suspect kind; lower is stronger evidence.',
          rows: chartRows,
          x: 'marked',
          y: 'log10p',
          series: 'suspect',
          xTitle: 'marked training images (%)',
          yTitle: 'log10 p (white box)',
        }),
        lineChart({
          id: 'log10p-excluded-vs-fraction',
          title: 'White-box detection, marker class directions removed (our variant)',
          alt: 'Combined log10 p-value of the white-box test after projecting the marking network’s own class weights out of the aligned suspect weights, against the percentage of marked training images, one line per suspect kind.',
          rows: chartRows,
          x: 'marked',
          y: 'excluded',
          series: 'suspect',
          xTitle: 'marked training images (%)',
          yTitle: 'log10 p (white box, directions removed)',
        }),
        lineChart({
          id: 'blackbox-vs-fraction',
          title: 'Black-box detection vs marked fraction',
          alt: 'Log10 p-value of the black-box loss-gap test against the percentage of marked training images, for the two from-scratch architectures.',
          rows: chartRows.filter((r) => r.suspect !== 'probe'),
          x: 'marked',
          y: 'blackBox',
          series: 'suspect',
          xTitle: 'marked training images (%)',
          yTitle: 'log10 p (black box)',
        }),
      ];
      const config: Record<string, JsonValue> = {
        fractions: S.fractions,
        epochs: S.epochs,
        markerEpochs: S.markerEpochs,
        markIterations: S.iterations,
        radius255: S.radius * 255,
        lambdaFt: S.lambdaFt,
        lambdaImg: S.lambdaImg,
        maxShift: S.maxShift,
        heldOut: held.shape[0],
        blackBoxImages: nbb,
        blackBoxOn: 'held-out test images (not trained on, not in the alignment set)',
        controls: S.controls,
        extraRadius255: S.extraRadius === null ? null : S.extraRadius * 255,
        marker: S.marker as JsonValue,
        suspects: Object.fromEntries(scratchKinds.map((k) => [k, S.suspects[k]])) as unknown as JsonValue,
        cnnSuspect: cnnOk ? 'trained' : 'skipped: native conv kernels inactive',
        trainImages: n,
        alpha: ALPHA,
      };
      const metrics: Record<string, JsonValue> = {
        psnr: mk.psnr,
        maxAbsDelta: mk.maxAbsDelta,
        featureShift: mk.featureShift,
        shiftCosine: mk.shiftCosine,
        markerAccuracy,
        markSeconds: mk.seconds,
        runs: rows.map((r) => ({ ...r })) as unknown as JsonValue,
        extraRadius: extra ? ({ psnr: extra.psnr, runs: extra.rows.map((r) => ({ ...r })) } as unknown as JsonValue) : null,
        cleanAccuracy: cleanAccuracy as JsonValue,
        examplesPng: 'marked-examples.png',
      };
      return { config, metrics, table, verdict, charts };
    } finally {
      for (const net of nets) net.dispose();
      tf.dispose(disposables);
    }
  },
};
