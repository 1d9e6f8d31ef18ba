/**
 * Issue 15 for contrastive-mnist / byol-collapse: per-item correctness of the read-outs (what
 * McNemar needs), and the verdict functions — every phrase checked against the numbers it is built
 * from, on hand-made inputs where the right answer is known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { direction, mcnemarFromCounts, meanInterval, pairedT } from '../src/core/stats.js';
import { Encoder, argmaxCorrect, knnAccuracy, knnCorrect, linearProbe } from '../src/contrastive/index.js';
import { BYOL } from '../src/byol/index.js';
import {
  FEW_LABELS,
  contrastiveSweepVerdict,
  contrastiveVerdict,
  fewLabelIndex,
  formatMcnemar,
  trainedOrdering,
  type ContrastiveVerdictInput,
} from '../src/experiments/contrastive-mnist.js';
import { BYOL_ARMS, BYOL_COMPARISONS, COLLAPSE_THRESHOLD, byolRow, byolSweepVerdict, byolVerdict, type ArmResult } from '../src/experiments/byol-collapse.js';
import { experiments } from '../src/experiments/index.js';
import type { SweepComparisonRow, SweepSummaryRow } from '../src/experiments/types.js';

await tf.setBackend('cpu');
tf.enableProdMode();

test('argmaxCorrect and knnCorrect give per-item correctness whose mean is the accuracy; the probe returns it', async () => {
  const logits = tf.tensor2d([[2, 1, 0], [0, 3, 1], [1, 0, 5], [4, 4.5, 0]]);
  assert.deepEqual(Array.from(argmaxCorrect(logits, tf.tensor1d([0, 2, 2, 0], 'int32'))), [1, 0, 1, 0]);
  const trX = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
  const trY = tf.tensor1d([0, 0, 1, 1], 'int32');
  const teX = tf.tensor2d([[1, 0.05], [0.05, 1], [0.2, 1]]);
  const teY = tf.tensor1d([0, 0, 1], 'int32');
  assert.deepEqual(Array.from(knnCorrect(trX, trY, teX, teY, 1)), [1, 0, 1]);
  assert.equal(knnAccuracy(trX, trY, teX, teY, 1), 2 / 3);
  assert.throws(() => knnCorrect(trX, trY, teX, tf.tensor1d([0, 1], 'int32'), 1), /testY/);
  const rng = new Rng(3);
  const x = tf.tensor2d(rng.normalArray(120 * 4), [120, 4]);
  const y = tf.tensor1d(Array.from({ length: 120 }, (_, i) => i % 3), 'int32');
  const p = await linearProbe(x, y, x, y, { steps: 30, rng });
  assert.equal(p.testCorrect.length, 120);
  assert.equal(p.testCorrect.reduce((a, b) => a + b, 0) / 120, p.testAccuracy);
});

test('fewLabelIndex takes the first k of each class in order', () => {
  assert.deepEqual(Array.from(fewLabelIndex(Int32Array.from([1, 0, 1, 1, 0, 2, 0]), 2)), [0, 1, 2, 4, 5]);
});

test('formatMcnemar prints the exact p and both discordant counts', () => {
  assert.equal(formatMcnemar(mcnemarFromCounts(8, 2)), 'p = 0.11 (only A right 8, only B right 2)');
  assert.match(formatMcnemar(mcnemarFromCounts(40, 0)), /^p = 1\.8e-12 /);
});

test('trainedOrdering sorts the arms and prints exact ties as =', () => {
  assert.equal(trainedOrdering({ simclr: 0.9, ce: 0.95, supcon: 0.97 }), 'SimCLR < CE < SupCon');
  assert.equal(trainedOrdering({ simclr: 0.9, ce: 0.97, supcon: 0.97 }), 'SimCLR < CE = SupCon');
  assert.equal(trainedOrdering({ simclr: 0.99, ce: 0.95, supcon: 0.97 }), 'CE < SupCon < SimCLR');
});

const cInput = (over: Partial<ContrastiveVerdictInput> = {}): ContrastiveVerdictInput => ({
  dataset: 'mnist',
  testSize: 1000,
  accuracy: { raw: 0.87, random: 0.86, simclr: 0.9, ce: 0.95, supcon: 0.97, ceProbe: 0.96 },
  pSupconVsCe: 0.01,
  pSupconVsSimclr: 0.4,
  collapse: { simclr: { final: 2.4, collapsed: 6.92, std: 0.9 }, supcon: { final: 4.9, collapsed: 6.92, std: 0.8 } },
  ...over,
});

test('contrastiveVerdict: ordering, McNemar reading and collapse follow the numbers', () => {
  const v = contrastiveVerdict(cInput());
  assert.match(v, /ordering SimCLR < CE < SupCon, the paper's;/);
  assert.match(v, /SupCon vs CE \+2\.0 points \(McNemar p = 0\.010: a real difference/);
  assert.match(v, /SupCon vs SimCLR \+7\.0 points \(McNemar p = 0\.40: within noise\)/);
  assert.match(v, /no collapse/);
  assert.match(v, /1000 MNIST test digits/);
  const w = contrastiveVerdict(cInput({ dataset: 'fashion-mnist', accuracy: { raw: 0.8, random: 0.7, simclr: 0.85, ce: 0.84, supcon: 0.83, ceProbe: 0.84 }, collapse: { simclr: { final: 6.9, collapsed: 6.92, std: 0.02 } } }));
  assert.match(w, /not the paper's SimCLR < CE < SupCon/);
  assert.match(w, /SupCon vs CE -1\.0 points/);
  assert.match(w, /Fashion-MNIST test images/);
  assert.match(w, /collapse signature seen in SimCLR\./);
});

/** A comparison row as compareArms builds it, from per-seed values. */
function cmpRow(a: string, b: string, xs: number[], ys: number[]): SweepComparisonRow {
  const c = pairedT(xs, ys);
  return { a, b, unit: '', n: c.n, meanDiff: c.meanDiff, ci95: c.ci, p: c.p, test: 'paired-t', direction: direction(c.ci), sentence: `${a}|${b}|${direction(c.ci)}` };
}
function sumRow(label: string, xs: number[]): SweepSummaryRow {
  const iv = meanInterval(xs);
  return { label, mean: iv.mean, ci95: iv.ci, n: iv.n, unit: '', sd: iv.sd, paper: null };
}

test('contrastiveSweepVerdict: the ordering counts as reproduced only when both paired intervals exclude 0', () => {
  const e = experiments.find((x) => x.name === 'contrastive-mnist')!;
  const specs = e.sweep!.comparisons!;
  const sc = specs.find((c) => c.aName === 'SupCon' && c.bName === 'cross-entropy')!;
  const cs = specs.find((c) => c.aName === 'cross-entropy' && c.bName === 'SimCLR')!;
  const seeds = [0, 1, 2, 3, 4];
  const up = [1, 1.2, 0.8, 1.1, 0.9];
  const zero = [0.5, -0.4, 0.3, -0.6, 0.1];
  const rows = (d1: number[], d2: number[]) => [cmpRow(sc.a, sc.b, d1, [0, 0, 0, 0, 0]), cmpRow(cs.a, cs.b, d2, [0, 0, 0, 0, 0])];
  assert.match(contrastiveSweepVerdict({ seeds, comparisons: rows(up, up) }), /is reproduced \(both intervals exclude 0\)/);
  const v = contrastiveSweepVerdict({ seeds, comparisons: rows(zero, up) });
  assert.match(v, /is not shown: SupCon − CE is within noise, CE − SimCLR is positive/);
  assert.match(contrastiveSweepVerdict({ seeds, comparisons: rows(up, up.map((x) => -x)) }), /CE − SimCLR is negative/);
  assert.match(contrastiveSweepVerdict({ seeds, comparisons: [] }), /cannot be read/);
  // Both entries share the comparisons, and every comparison label is a table row the run writes.
  assert.equal(experiments.find((x) => x.name === 'contrastive-fashion')!.sweep, e.sweep);
  for (const c of specs) for (const l of [c.a, c.b]) assert.ok(/linear probe|end to end|labels per class/.test(l), l);
});

const arm = (key: string, o: Partial<ArmResult> = {}): ArmResult => {
  const spec = BYOL_ARMS.find((a) => a.key === key)!;
  const projectionStd = o.projectionStd ?? 0.8;
  return { key, label: spec.label, probe: 0.9, fewLabel: 0.7, knn: 0.88, projectionStd, representationStd: 0.5, finalLoss: 0.9, collapsed: projectionStd < COLLAPSE_THRESHOLD, ...o };
};

test('byolVerdict: needed = collapsed, or lower with McNemar p < 0.05; the few-label probe is the read-out when present', () => {
  const results = [
    arm('byol'),
    arm('noPredictor', { projectionStd: 0.05, finalLoss: 0.01 }), // collapsed → needed
    arm('tau0', { fewLabel: 0.6 }), // lower and significant → needed
    arm('noEncoderBN', { fewLabel: 0.6 }), // lower but not significant → not needed
    arm('noHeadBN', { fewLabel: 0.75 }), // higher → not needed
  ];
  const v = byolVerdict(results, { probe: 0.85, fewLabel: 0.5, pByol: 0.001 }, { noPredictor: 0.3, tau0: 0.01, noEncoderBN: 0.2, noHeadBN: 0.001 });
  assert.match(v, /Removing the predictor and the EMA target \(τ > 0\) collapsed the embeddings or cost few-label probe accuracy/);
  assert.match(v, /removing batch norm in the projector and predictor and batch norm in the encoder did not\./);
  assert.match(v, /Collapsed: BYOL, no predictor\./);
  assert.doesNotMatch(v, /has not beaten its random initialisation/);
  // BYOL below the random encoder (or not significantly above it): the verdict says to read collapse only.
  assert.match(byolVerdict([arm('byol')], { probe: 0.85, fewLabel: 0.8 }, {}), /has not beaten its random initialisation on the few-label probe/);
  assert.match(byolVerdict([arm('byol')], { probe: 0.85, fewLabel: 0.5, pByol: 0.3 }, {}), /has not beaten/);
  // Without few-label numbers the full probe is read.
  const noFew = [arm('byol', { fewLabel: undefined }), arm('tau0', { fewLabel: undefined, probe: 0.8 })];
  assert.match(byolVerdict(noFew, { probe: 0.5, pByol: 0.001 }, { tau0: 0.001 }), /cost probe accuracy/);
  assert.match(byolVerdict([arm('byol'), arm('tau0')], { probe: 0.5, fewLabel: 0.5, pByol: 0.01 }, { tau0: 0.9 }), /No single removal collapsed .*; removing the EMA target \(τ > 0\) did not\./);
});

test('BYOL sweep comparisons: every ablation against its baseline on four read-outs, labels as the table writes them', () => {
  assert.equal(BYOL_COMPARISONS.length, (BYOL_ARMS.length - 1) * 4);
  const sg = BYOL_COMPARISONS.filter((c) => c.a.startsWith('SimSiam, no stop-gradient'));
  assert.ok(sg.every((c) => c.b.startsWith('SimSiam:')));
  assert.ok(BYOL_COMPARISONS.some((c) => c.a === byolRow.few('BYOL, no predictor') && c.b === byolRow.few('BYOL')));
  assert.ok(byolRow.few('BYOL').includes(`${FEW_LABELS} labels per class`));
  const byolEntry = experiments.find((x) => x.name === 'byol-collapse')!;
  assert.equal(experiments.find((x) => x.name === 'byol-fashion')!.sweep, byolEntry.sweep);
});

test('byolSweepVerdict: collapsed / not collapsed / undecided from the spread interval, needed from the paired few-label interval', () => {
  const seeds = [0, 1, 2, 3, 4];
  const byolFew = [70, 72, 71, 69, 73];
  const summary = [
    sumRow(byolRow.few('BYOL'), byolFew),
    sumRow(byolRow.spread('BYOL'), [0.8, 0.82, 0.79, 0.81, 0.8]),
    sumRow(byolRow.spread('BYOL, no predictor'), [0.05, 0.06, 0.04, 0.07, 0.05]), // below → collapsed
    sumRow(byolRow.spread('BYOL, τ = 0 (target = online, no EMA)'), [0.78, 0.8, 0.77, 0.79, 0.81]), // healthy
    sumRow(byolRow.spread('BYOL, no BN in the encoder (heads keep BN)'), [0.1, 0.7, 0.2, 0.6, 0.3]), // spans 0.25
    sumRow(byolRow.spread('SimSiam'), [0.8, 0.82, 0.79, 0.81, 0.8]), // healthy, no comparison row → undecided
  ];
  const comparisons = [
    cmpRow(byolRow.few('BYOL, no predictor'), byolRow.few('BYOL'), [69, 72, 70, 69, 72], byolFew),
    cmpRow(byolRow.few('BYOL, τ = 0 (target = online, no EMA)'), byolRow.few('BYOL'), [70.5, 72.5, 71, 69.5, 73], byolFew), // within noise
    cmpRow(byolRow.few('BYOL, no BN in the encoder (heads keep BN)'), byolRow.few('BYOL'), byolFew.map((x) => x), byolFew), // identical: zero difference
  ];
  const v = byolSweepVerdict({ seeds, summary, comparisons });
  assert.match(v, /^Over 5 seeds/);
  assert.match(v, /BYOL, no predictor: spread 0\.054 \[[^\]]+\] — collapsed \(interval below 0\.25\)/);
  assert.match(v, /BYOL, τ = 0 \(target = online, no EMA\): spread 0\.79 \[[^\]]+\] — not collapsed \(interval above 0\.25\), 10-label probe \+0\.3 \[[^\]]+\] points vs BYOL \(within noise\)/);
  assert.match(v, /BYOL, no BN in the encoder \(heads keep BN\): spread 0\.38 \[[^\]]+\] — undecided/);
  assert.match(v, /Needed against collapse or for the 10-label probe at this budget: the predictor; not needed: the EMA \(τ = 0\); undecided: BN in the encoder and the EMA target network \(SimSiam\)\./);
  // A healthy arm whose few-label probe is lower beyond noise is needed too.
  const lower = [cmpRow(byolRow.few('BYOL, τ = 0 (target = online, no EMA)'), byolRow.few('BYOL'), byolFew.map((x) => x - 3 + (x % 2) * 0.5), byolFew)];
  assert.match(byolSweepVerdict({ seeds, summary, comparisons: lower }), /at this budget: the predictor and the EMA \(τ = 0\);/);
});

test('BYOL with BN in the encoder normalises every hidden layer; the ablation arms switch encoder and head BN separately', () => {
  const enc = { kind: 'mlp' as const, hidden: [6], dim: 4, imageSize: 4 };
  const withBn = new BYOL({ encoder: { ...enc, batchNorm: true }, projector: { hidden: 5, out: 3 }, predictor: { hidden: 5 } }, new Rng(1));
  assert.ok(Object.keys(withBn.online.encoder.buffers()).length > 0);
  assert.ok(Object.keys(withBn.online.projector.buffers()).length > 0);
  withBn.dispose();
  const e = new Encoder(enc, new Rng(1));
  assert.equal(Object.keys(e.buffers()).length, 0);
  e.dispose();
  const spec = (k: string) => BYOL_ARMS.find((a) => a.key === k)!;
  assert.equal(spec('noHeadBN').config.headBatchNorm, false);
  assert.equal(spec('noHeadBN').encoderBatchNorm, undefined);
  assert.equal(spec('noEncoderBN').encoderBatchNorm, false);
  assert.equal(spec('noEncoderBN').config.headBatchNorm, undefined);
  assert.equal(spec('noBN').encoderBatchNorm, false);
  assert.equal(spec('noBN').config.headBatchNorm, false);
});
