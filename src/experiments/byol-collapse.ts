/**
 * BYOL without negatives: what keeps it from collapsing? The papers' ablations at equal budget on
 * MNIST (or Fashion-MNIST: `byol-fashion`). BYOL as the paper builds it has batch norm in the
 * encoder (its ResNet) and in the projector and predictor (Linear → BN → ReLU → Linear). Arms:
 * BYOL; no BN in the heads, encoder BN kept (Fetterman & Albrecht 2020's ablation); no BN in the
 * encoder, heads' BN kept; no BN anywhere (Richemond et al. 2020's "BN removed" case); no predictor
 * and τ = 0 / τ = 1 (BYOL Table 5); SimSiam and SimSiam without stop-gradient (Chen & He 2020).
 * Each is scored by a linear probe on all training labels, a few-label probe (10 per class: the
 * harder read-out where MNIST's full probe saturates) and 20-NN on the frozen encoder, the spread
 * of its embeddings (std of z/‖z‖ × √d: 0 collapsed, ≈ 1 spread) and its final loss. McNemar on the
 * same test images compares each ablation with BYOL within a run; `paperlab sweep` pairs them by seed.
 */
import { tf } from '../core/tf.js';
import { lineChart, type ChartSpec } from '../core/charts.js';
import { Rng } from '../core/rng.js';
import type { JsonValue } from '../core/checkpoint.js';
import { mcnemar, type McNemarResult } from '../core/stats.js';
import { loadImageDataset, type ImageDataset } from '../data/fashion.js';
import type { AugmentOptions } from '../data/augment.js';
import { Encoder, encodeImages, knnCorrect, linearProbe, takeRows, type EncoderConfig } from '../contrastive/index.js';
import { BYOL, CollapseMonitor, trainByol, type ByolConfig } from '../byol/index.js';
import { FEW_LABELS, fewLabelIndex, formatMcnemar } from './contrastive-mnist.js';
import type { Experiment, ExperimentOutput, SweepComparisonSpec, SweepStats, TableRow } from './types.js';

export interface ByolCollapseConfig {
  /** 'mnist' or 'fashion-mnist'. */
  dataset: ImageDataset;
  /** The encoder; `batchNorm: true` is BYOL's (its ResNet normalises every convolution). */
  encoder: EncoderConfig;
  projector: { hidden: number; out: number };
  predictorHidden: number;
  trainSize: number;
  testSize: number;
  /** Training images used as the kNN memory bank while monitoring. */
  monitorBank: number;
  steps: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** τ_base of the cosine EMA schedule for the BYOL arms. */
  tauBase: number;
  augment: AugmentOptions;
  probeSteps: number;
  /** Labels per class of the few-label probe (0 = skip). */
  fewLabelsPerClass: number;
  monitorEvery: number;
  /** Arms to run (default: all). */
  arms?: string[];
}

export function byolCollapseConfig(quick: boolean, dataset: ImageDataset = 'mnist'): ByolCollapseConfig {
  const base = { dataset, weightDecay: 1e-4, augment: {}, fewLabelsPerClass: FEW_LABELS };
  return quick
    ? {
        ...base,
        encoder: { kind: 'mlp', inputPool: 2, hidden: [256], dim: 64, batchNorm: true },
        projector: { hidden: 128, out: 32 },
        predictorHidden: 128,
        trainSize: 2000,
        testSize: 500,
        monitorBank: 500,
        steps: 200,
        batchSize: 32,
        lr: 3e-3,
        tauBase: 0.9,
        probeSteps: 200,
        monitorEvery: 25,
      }
    : {
        ...base,
        encoder: { kind: 'cnn', channels: [16, 32], dim: 128, batchNorm: true },
        projector: { hidden: 256, out: 64 },
        predictorHidden: 256,
        trainSize: 8000,
        testSize: 2000,
        monitorBank: 2000,
        steps: 1000,
        batchSize: 128,
        lr: 2e-3,
        tauBase: 0.99,
        probeSteps: 1000,
        monitorEvery: 100,
      };
}

interface ArmSpec {
  key: string;
  label: string;
  config: Partial<ByolConfig>;
  /** Batch norm in the encoder (default: the config's, i.e. BYOL's ResNet has it). */
  encoderBatchNorm?: boolean;
  /** Published top-1 (ImageNet linear eval) of the same ablation. */
  paper: number | string | null;
}

export const BYOL_ARMS: ArmSpec[] = [
  { key: 'byol', label: 'BYOL', config: {}, paper: '72.5 (τ_base 0.99; Table 5a)' },
  {
    key: 'noHeadBN',
    label: 'BYOL, no BN in projector and predictor (encoder BN kept)',
    config: { headBatchNorm: false },
    paper: 'no better than a random encoder (Fetterman & Albrecht 2020, ResNet-18 with BN)',
  },
  { key: 'noEncoderBN', label: 'BYOL, no BN in the encoder (heads keep BN)', config: {}, encoderBatchNorm: false, paper: null },
  { key: 'noBN', label: 'BYOL, no BN anywhere', config: { headBatchNorm: false }, encoderBatchNorm: false, paper: 'collapses (Richemond et al. 2020: all BN removed); 73.9 with GroupNorm + weight standardisation instead' },
  { key: 'noPredictor', label: 'BYOL, no predictor', config: { predictor: false }, paper: '0.2–0.3 (Table 5b)' },
  { key: 'tau0', label: 'BYOL, τ = 0 (target = online, no EMA)', config: { tauBase: 0, tauSchedule: 'constant' }, paper: 0.3 },
  { key: 'tau1', label: 'BYOL, τ = 1 (fixed random target)', config: { tauBase: 1, tauSchedule: 'constant' }, paper: 18.8 },
  { key: 'simsiam', label: 'SimSiam', config: { mode: 'simsiam' }, paper: '67.7 (with stop-gradient)' },
  { key: 'simsiamNoSG', label: 'SimSiam, no stop-gradient', config: { mode: 'simsiam', stopGradient: false }, paper: 0.1 },
];

/** Table row labels of an arm (stable across seeds, so a sweep pairs them). */
export const byolRow = {
  probe: (arm: string) => `${arm}: linear probe`,
  few: (arm: string) => `${arm}: linear probe on ${FEW_LABELS} labels per class`,
  knn: (arm: string) => `${arm}: 20-NN accuracy`,
  spread: (arm: string) => `${arm}: embedding spread, std of z/‖z‖ × √d`,
  loss: (arm: string) => `${arm}: final loss (0 = perfect agreement, or collapse)`,
};

/** Which arm each ablation is compared with (the one it removes a single ingredient from). */
export function byolBaselineOf(key: string): string {
  return key === 'simsiamNoSG' ? 'simsiam' : 'byol';
}

export interface ArmResult {
  key: string;
  label: string;
  probe: number;
  /** Probe trained on `fewLabelsPerClass` labels per class (undefined when skipped). */
  fewLabel?: number;
  knn: number;
  projectionStd: number;
  representationStd: number;
  finalLoss: number;
  collapsed: boolean;
}

const pct = (v: number) => Number((100 * v).toFixed(2));
const meanOf = (c: Uint8Array) => c.reduce((a, b) => a + b, 0) / c.length;
const r3 = (v: number) => Number(v.toFixed(3));

/**
 * Spread below this (std of z/‖z‖ × √d) counts as collapsed: under a quarter of well-spread
 * embeddings. In our runs healthy arms sit at 0.7–0.8 and collapsing ones fall to 0.02–0.16.
 */
export const COLLAPSE_THRESHOLD = 0.25;

export async function runByolCollapse(cfg: ByolCollapseConfig, ctx: { rng: Rng; seed: number; log: (m: string) => void }): Promise<ExperimentOutput> {
  const data = loadImageDataset(cfg.dataset, { seed: ctx.seed, trainLimit: cfg.trainSize, testLimit: cfg.testSize });
  const few = cfg.fewLabelsPerClass > 0 ? fewLabelIndex(data.trainY.dataSync() as Int32Array, cfg.fewLabelsPerClass) : undefined;
  const bankIdx = Int32Array.from({ length: Math.min(cfg.monitorBank, cfg.trainSize) }, (_, i) => i);
  const bank = { trainX: takeRows(data.trainX, bankIdx), trainY: takeRows(data.trainY, bankIdx), testX: data.testX, testY: data.testY };
  // Every arm's online network starts from the same weights (where the architecture allows).
  const initSeed = ctx.rng.fork('init').nextU32();
  const arms = cfg.arms ? BYOL_ARMS.filter((a) => cfg.arms!.includes(a.key)) : BYOL_ARMS;
  const results: ArmResult[] = [];
  const curves: Array<Record<string, string | number | null>> = [];
  const metrics: Record<string, JsonValue> = {};

  // Reference: the untrained encoder those arms start from.
  /** Full-label probe, few-label probe and 20-NN of a frozen encoder, with per-test-image correctness. */
  const readOut = async (enc: Encoder, key: string) => {
    const tr = encodeImages(enc, data.trainX);
    const te = encodeImages(enc, data.testX);
    try {
      const p = await linearProbe(tr, data.trainY, te, data.testY, { steps: cfg.probeSteps, rng: ctx.rng.fork(`probe-${key}`), numClasses: 10 });
      const knn = knnCorrect(tr, data.trainY, te, data.testY, 20);
      let fewP: { testAccuracy: number; testCorrect: Uint8Array } | undefined;
      if (few) {
        const fx = takeRows(tr, few);
        const fy = takeRows(data.trainY, few);
        fewP = await linearProbe(fx, fy, te, data.testY, { steps: cfg.probeSteps, rng: ctx.rng.fork(`few-${key}`), numClasses: 10 });
        tf.dispose([fx, fy]);
      }
      return { probe: p.testAccuracy, probeCorrect: p.testCorrect, knn: meanOf(knn), knnCorrect: knn, fewLabel: fewP?.testAccuracy, fewCorrect: fewP?.testCorrect };
    } finally {
      tf.dispose([tr, te]);
    }
  };
  const rand = new Encoder(cfg.encoder, new Rng(initSeed).fork('online').fork('encoder'));
  const randomRead = await readOut(rand, 'random');
  rand.dispose();
  const randomProbe = randomRead.probe;
  const randomKnn = randomRead.knn;
  ctx.log(`random encoder: probe ${pct(randomProbe)} %, kNN ${pct(randomKnn)} %${few ? `, ${cfg.fewLabelsPerClass}/class ${pct(randomRead.fewLabel!)} %` : ''}`);
  const correct: Record<string, { probe: Uint8Array; few?: Uint8Array; knn: Uint8Array }> = {};

  for (const arm of arms) {
    const modelCfg: ByolConfig = {
      encoder: { ...cfg.encoder, batchNorm: arm.encoderBatchNorm ?? cfg.encoder.batchNorm ?? false },
      projector: cfg.projector,
      predictor: { hidden: cfg.predictorHidden },
      tauBase: cfg.tauBase,
      ...arm.config,
    };
    const model = new BYOL(modelCfg, new Rng(initSeed));
    const monitor = new CollapseMonitor(bank);
    const hist = await trainByol(model, data.trainX, {
      steps: cfg.steps,
      batchSize: cfg.batchSize,
      lr: cfg.lr,
      weightDecay: cfg.weightDecay,
      augment: cfg.augment,
      rng: ctx.rng.fork(`train-${arm.key}`),
      monitor,
      monitorEvery: cfg.monitorEvery,
      label: arm.key,
    });
    const tail = hist.losses.slice(-Math.max(1, Math.round(hist.losses.length / 10)));
    const finalLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
    const read = await readOut(model.online.encoder, arm.key);
    const { probe, knn, fewLabel } = read;
    correct[arm.key] = { probe: read.probeCorrect, few: read.fewCorrect, knn: read.knnCorrect };
    const last = hist.monitor[hist.monitor.length - 1]!;
    const res: ArmResult = {
      key: arm.key,
      label: arm.label,
      probe,
      fewLabel,
      knn,
      projectionStd: last.projectionStd,
      representationStd: last.representationStd,
      finalLoss,
      collapsed: last.projectionStd < COLLAPSE_THRESHOLD,
    };
    results.push(res);
    for (const s of hist.monitor) curves.push({ step: s.step, run: arm.label, projectionStd: r3(s.projectionStd), knn: s.knnAccuracy === undefined ? null : pct(s.knnAccuracy) });
    metrics[arm.key] = {
      probe,
      fewLabel: fewLabel ?? null,
      knn,
      projectionStd: last.projectionStd,
      representationStd: last.representationStd,
      finalLoss,
      collapsed: res.collapsed,
      seconds: Number(hist.seconds.toFixed(1)),
      losses: hist.losses.map((l) => Number(l.toFixed(4))),
      monitor: hist.monitor.map((s) => ({ step: s.step, projectionStd: r3(s.projectionStd), representationStd: r3(s.representationStd), knn: s.knnAccuracy ?? null })),
    };
    ctx.log(`${arm.label}: probe ${pct(probe)} %${fewLabel === undefined ? '' : `, ${cfg.fewLabelsPerClass}/class ${pct(fewLabel)} %`}, kNN ${pct(knn)} %, spread ${r3(res.projectionStd)}, loss ${r3(finalLoss)}${res.collapsed ? ' — collapsed' : ''}`);
    model.dispose();
  }
  tf.dispose([bank.trainX, bank.trainY, data.trainX, data.trainY, data.testX, data.testY]);
  metrics.randomEncoder = { probe: randomProbe, knn: randomKnn, fewLabel: randomRead.fewLabel ?? null };

  const table: TableRow[] = [{ label: 'Random (untrained) encoder: linear probe', ours: pct(randomProbe), paper: null, unit: '% test accuracy' }];
  if (randomRead.fewLabel !== undefined) table.push({ label: byolRow.few('Random (untrained) encoder'), ours: pct(randomRead.fewLabel), paper: null, unit: '% test accuracy' });
  table.push({ label: byolRow.knn('Random (untrained) encoder'), ours: pct(randomKnn), paper: null, unit: '% test accuracy' });
  for (const r of results) {
    const spec = arms.find((a) => a.key === r.key)!;
    table.push({ label: byolRow.probe(r.label), ours: pct(r.probe), paper: spec.paper, unit: '% test accuracy (paper: ImageNet top-1)' });
  }
  for (const r of results) if (r.fewLabel !== undefined) table.push({ label: byolRow.few(r.label), ours: pct(r.fewLabel), paper: null, unit: '% test accuracy' });
  for (const r of results) table.push({ label: byolRow.knn(r.label), ours: pct(r.knn), paper: null, unit: '% test accuracy' });
  for (const r of results) table.push({ label: byolRow.spread(r.label), ours: r3(r.projectionStd), paper: r.key === 'simsiamNoSG' ? '0 (SimSiam Fig. 2)' : r.key === 'simsiam' ? '≈1 (SimSiam Fig. 2)' : null, unit: '0 = collapsed, ≈1 = spread' });
  for (const r of results) table.push({ label: byolRow.loss(r.label), ours: r3(r.finalLoss), paper: null, unit: '2 − 2cos, summed over both views' });

  // McNemar on the same test images: each ablation against the arm it removes one ingredient from.
  const pValues: Record<string, number> = {};
  const mcn: Record<string, JsonValue> = {};
  for (const r of results) {
    const base = byolBaselineOf(r.key);
    if (r.key === base || !correct[base]) continue;
    const baseLabel = results.find((x) => x.key === base)!.label;
    const entry: Record<string, JsonValue> = {};
    const addTest = (what: 'probe' | 'few' | 'knn', name: string) => {
      const a = correct[r.key]![what];
      const b = correct[base]![what];
      if (!a || !b) return;
      const m: McNemarResult = mcnemar(a, b);
      entry[what] = { b: m.b, c: m.c, p: m.pExact };
      if (what === (few ? 'few' : 'probe')) pValues[r.key] = m.pExact;
      table.push({ label: `McNemar (same ${cfg.testSize} test images, this run): ${r.label} vs ${baseLabel}, ${name}`, ours: formatMcnemar(m), paper: null, unit: 'exact two-sided p' });
    };
    addTest('probe', 'linear probe');
    addTest('few', `probe on ${cfg.fewLabelsPerClass} labels per class`);
    mcn[r.key] = entry;
  }
  metrics.mcnemar = mcn;

  let pByol: number | undefined;
  if (correct.byol) {
    const m = mcnemar(few ? correct.byol.few! : correct.byol.probe, few ? randomRead.fewCorrect! : randomRead.probeCorrect);
    pByol = m.pExact;
    table.push({ label: `McNemar (same ${cfg.testSize} test images, this run): BYOL vs the untrained encoder, ${few ? `probe on ${cfg.fewLabelsPerClass} labels per class` : 'linear probe'}`, ours: formatMcnemar(m), paper: null, unit: 'exact two-sided p' });
  }
  const verdict = byolVerdict(results, { probe: randomProbe, fewLabel: randomRead.fewLabel, pByol }, pValues);
  const charts: ChartSpec[] = [
    lineChart({
      id: 'embedding-spread',
      title: 'Embedding spread during training (std of z/‖z‖ × √d; 0 = collapsed)',
      alt: `Spread of the projections per arm over training steps; final values: ${results.map((r) => `${r.label} ${r3(r.projectionStd)}`).join('; ')}.`,
      rows: curves,
      x: 'step',
      y: 'projectionStd',
      series: 'run',
      yTitle: 'std of z/‖z‖ × √d',
    }),
    lineChart({
      id: 'knn-accuracy',
      title: '20-NN accuracy of the representation during training',
      alt: `kNN accuracy per arm over training steps; final values: ${results.map((r) => `${r.label} ${pct(r.knn)} %`).join('; ')}.`,
      rows: curves,
      x: 'step',
      y: 'knn',
      series: 'run',
      yTitle: '% test accuracy',
    }),
  ];
  return { config: cfg as unknown as Record<string, JsonValue>, metrics, table, verdict, charts };
}

/** The reference a verdict compares BYOL with: the untrained encoder's read-outs. */
export interface RandomReference {
  probe: number;
  fewLabel?: number;
  /** McNemar p of BYOL against the untrained encoder on the main read-out (same test images). */
  pByol?: number;
}

/**
 * The answer to "why no collapse?" from one run's numbers. The main read-out is the few-label probe
 * when the run has one (the full probe saturates on MNIST), else the full probe. Removing an
 * ingredient counts as needed when its arm collapsed (spread < COLLAPSE_THRESHOLD) while the arm it
 * was removed from did not, or when both are alike in collapse but the ablation's read-out is lower
 * with McNemar p < 0.05 (`pValues[key]`, against BYOL, or SimSiam for the no-stop-gradient arm).
 */
export function byolVerdict(results: ArmResult[], random: RandomReference, pValues: Record<string, number>): string {
  const get = (k: string) => results.find((r) => r.key === k);
  const useFew = results.length > 0 && results.every((r) => r.fewLabel !== undefined) && random.fewLabel !== undefined;
  const read = (r: { probe: number; fewLabel?: number }) => (useFew ? r.fewLabel! : r.probe);
  const readName = useFew ? 'few-label probe' : 'probe';
  const state = (r: ArmResult) =>
    r.collapsed ? `collapsed (spread ${r.projectionStd.toFixed(3)}, loss ${r.finalLoss.toFixed(3)}, ${readName} ${pct(read(r))} %)` : `spread ${r.projectionStd.toFixed(2)}, ${readName} ${pct(read(r))} %`;
  const worse = (a: ArmResult, b: ArmResult) => (a.collapsed !== b.collapsed ? a.collapsed : read(a) < read(b) && (pValues[a.key] ?? 1) < 0.05);
  const parts: string[] = [];
  const byol = get('byol');
  const sim = get('simsiam');
  const needed: string[] = [];
  const notNeeded: string[] = [];
  const factor = (name: string, without: ArmResult | undefined, withIt: ArmResult | undefined) => {
    if (!without || !withIt) return;
    const p = pValues[without.key];
    parts.push(`${without.label}: ${state(without)}${p === undefined ? '' : ` (McNemar p = ${p.toPrecision(2)} vs ${withIt.label})`}`);
    (worse(without, withIt) ? needed : notNeeded).push(name);
  };
  if (byol) {
    const learned = read(byol) > read(random) && (random.pByol ?? 1) < 0.05;
    parts.push(
      `BYOL: ${state(byol)} (random encoder ${pct(read(random))} %${random.pByol === undefined ? '' : `, McNemar p = ${random.pByol.toPrecision(2)}`}${learned ? '' : `; at this budget BYOL has not beaten its random initialisation on the ${readName}, so read this run for collapse, not accuracy`})`,
    );
  }
  factor('the stop-gradient', get('simsiamNoSG'), sim);
  factor('the predictor', get('noPredictor'), byol);
  factor('the EMA target (τ > 0)', get('tau0'), byol);
  factor('batch norm in the projector and predictor', get('noHeadBN'), byol);
  factor('batch norm in the encoder', get('noEncoderBN'), byol);
  factor('batch norm everywhere', get('noBN'), byol);
  if (sim) parts.push(`SimSiam: ${state(sim)}`);
  const tau1 = get('tau1');
  if (tau1) parts.push(`τ = 1: ${state(tau1)}`);
  const collapsed = results.filter((r) => r.collapsed).map((r) => r.label);
  return (
    `${parts.join('; ')}. ` +
    (collapsed.length ? `Collapsed: ${collapsed.join('; ')}. ` : 'No arm collapsed at this budget. ') +
    (needed.length ? `Removing ${andList(needed)} collapsed the embeddings or cost ${readName} accuracy (McNemar p < 0.05) in this run` : `No single removal collapsed the embeddings or cost ${readName} accuracy in this run`) +
    (notNeeded.length ? `; removing ${andList(notNeeded)} did not.` : '.') +
    ' One run: the sweep over seeds is the verdict to read.'
  );
}

function andList(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** What removing each arm's ingredient is called in the sweep verdict. */
const INGREDIENT: Record<string, string> = {
  noHeadBN: 'BN in projector and predictor',
  noEncoderBN: 'BN in the encoder',
  noBN: 'all BN',
  noPredictor: 'the predictor',
  tau0: 'the EMA (τ = 0)',
  tau1: 'target updates (τ = 1)',
  simsiam: 'the EMA target network (SimSiam)',
  simsiamNoSG: "SimSiam's stop-gradient",
};

/** Paired comparisons over seeds: every ablation against BYOL (no-stop-gradient against SimSiam), on each read-out. */
export const BYOL_COMPARISONS: SweepComparisonSpec[] = BYOL_ARMS.filter((a) => a.key !== 'byol').flatMap((arm) => {
  const base = BYOL_ARMS.find((b) => b.key === byolBaselineOf(arm.key))!;
  return (['few', 'probe', 'knn', 'spread'] as const).map((what) => ({
    a: byolRow[what](arm.label),
    b: byolRow[what](base.label),
    aName: `${arm.label}${what === 'spread' ? ' (spread)' : what === 'few' ? ` (${FEW_LABELS} labels/class)` : what === 'knn' ? ' (20-NN)' : ' (probe)'}`,
    bName: base.label,
  }));
});

/**
 * The sweep's answer, per ablation: collapsed when the 95 % interval of its mean spread over seeds
 * lies below COLLAPSE_THRESHOLD, healthy when it lies above, undecided otherwise; and whether the
 * paired interval of its few-label-probe difference against BYOL (SimSiam for the stop-gradient arm)
 * excludes 0. An ingredient is needed when removing it collapses the embeddings or lowers the
 * few-label probe beyond noise; not needed when the arm stays healthy and the difference is within
 * noise (or positive); undecided otherwise.
 */
export function byolSweepVerdict(stats: Pick<SweepStats, 'seeds' | 'summary' | 'comparisons'>): string {
  const n = stats.seeds.length;
  const row = (label: string) => stats.summary.find((r) => r.label === label);
  const cmp = (a: string, b: string) => stats.comparisons.find((c) => c.a === a && c.b === b);
  const needed: string[] = [];
  const notNeeded: string[] = [];
  const undecided: string[] = [];
  const parts: string[] = [];
  const fmt = (v: number) => Number(v.toPrecision(3)).toString();
  const iv = (ci: [number, number] | null) => (ci ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : '[n < 2]');
  const byolFew = row(byolRow.few('BYOL'));
  const randFew = row(byolRow.few('Random (untrained) encoder'));
  const byolSpread = row(byolRow.spread('BYOL'));
  if (byolFew && byolSpread) {
    parts.push(`BYOL: spread ${fmt(byolSpread.mean)} ${iv(byolSpread.ci95)}, ${FEW_LABELS}-label probe ${fmt(byolFew.mean)} ${iv(byolFew.ci95)} %${randFew ? ` (untrained encoder ${fmt(randFew.mean)} ${iv(randFew.ci95)} %)` : ''}`);
  }
  for (const arm of BYOL_ARMS) {
    if (arm.key === 'byol') continue;
    const base = BYOL_ARMS.find((b) => b.key === byolBaselineOf(arm.key))!;
    const spread = row(byolRow.spread(arm.label));
    const fewCmp = cmp(byolRow.few(arm.label), byolRow.few(base.label));
    if (!spread) continue;
    const collapse = spread.ci95 === null ? 'undecided' : spread.ci95[1] < COLLAPSE_THRESHOLD ? 'collapsed' : spread.ci95[0] > COLLAPSE_THRESHOLD ? 'healthy' : 'undecided';
    const dir = fewCmp?.direction ?? 'no interval';
    const diffText = fewCmp ? `, ${FEW_LABELS}-label probe ${fewCmp.meanDiff >= 0 ? '+' : ''}${fmt(fewCmp.meanDiff)} ${iv(fewCmp.ci95)} points vs ${base.label} (${dir === 'greater' ? 'higher' : dir === 'less' ? 'lower' : dir})` : '';
    parts.push(`${arm.label}: spread ${fmt(spread.mean)} ${iv(spread.ci95)} — ${collapse === 'collapsed' ? `collapsed (interval below ${COLLAPSE_THRESHOLD})` : collapse === 'healthy' ? `not collapsed (interval above ${COLLAPSE_THRESHOLD})` : `undecided (interval spans ${COLLAPSE_THRESHOLD} or n < 2)`}${diffText}`);
    if (arm.key === 'tau1') continue; // τ = 1 removes learning in the target, not an anti-collapse device
    const name = INGREDIENT[arm.key] ?? arm.label;
    if (collapse === 'collapsed' || dir === 'less') needed.push(name);
    else if (collapse === 'healthy' && (dir === 'within noise' || dir === 'greater')) notNeeded.push(name);
    else undecided.push(name);
  }
  return (
    `Over ${n} seed${n === 1 ? '' : 's'} (means with 95 % t intervals; differences paired by seed): ${parts.join('; ')}. ` +
    `Needed against collapse or for the ${FEW_LABELS}-label probe at this budget: ${needed.length ? andList(needed) : 'none'}` +
    `; not needed: ${notNeeded.length ? andList(notNeeded) : 'none'}` +
    (undecided.length ? `; undecided: ${andList(undecided)}.` : '.')
  );
}

export const byolCollapse: Experiment = {
  name: 'byol-collapse',
  section: 'byol',
  paper: 'Bootstrap Your Own Latent (Grill et al., 2020); Exploring Simple Siamese Representation Learning (Chen & He, 2020)',
  claim: 'BYOL learns without negatives and does not collapse; removing the predictor or the moving-average target (τ = 0) collapses it (0.2–0.3 % top-1), and SimSiam collapses without stop-gradient (0.1 %).',
  question: 'The notes: "there is nothing in the model that avoids converging to the trivial solution (everything maps to a constant)" — so why does it not collapse?',
  estimate: { quick: '~40 s (38 s of CPU per seed, native kernels), ~5 min (tfjs kernels)', full: '~8 min (native kernels, idle 2 cores), ~1 day (tfjs kernels)' },
  run: (ctx) => runByolCollapse(byolCollapseConfig(ctx.quick), ctx),
  sweep: { comparisons: BYOL_COMPARISONS, verdict: byolSweepVerdict },
};

/** The same ablations on Fashion-MNIST, where a linear read-out of digits no longer saturates. */
export const byolFashion: Experiment = {
  ...byolCollapse,
  name: 'byol-fashion',
  claim: `${byolCollapse.claim} Re-checked on Fashion-MNIST, where the probes leave room for the arms to separate.`,
  estimate: { quick: '~40 s (native kernels, idle 2 cores)', full: '~8 min (native kernels, idle 2 cores; not yet measured)' },
  run: (ctx) => runByolCollapse(byolCollapseConfig(ctx.quick, 'fashion-mnist'), ctx),
};
