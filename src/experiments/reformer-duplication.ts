/**
 * Reformer Table 2 at a CPU-sized scale: the duplication task 0w0w (a causal language model must
 * copy w from the first half), one layer, shared-QK attention. Models are trained with full
 * attention and with LSH attention of 1, 2 and 4 hash rounds — angular (the paper's hash) and the
 * coset hash (syndromes of sign bits, the notes' idea) — and every model is evaluated with full
 * attention and with LSH-1/2/4/8 of both hashes. Accuracy is over the second copy of w.
 *
 * A model is evaluated with the other hash by loading its weights into a twin built with that
 * hash (the hash only decides the buckets; the weights are the same).
 */
import { lineChart } from '../core/charts.js';
import { tf } from '../core/tf.js';
import { Rng } from '../core/rng.js';
import type { JsonValue } from '../core/checkpoint.js';
import { duplicationBatch, type DuplicationBatch } from '../data/synthetic.js';
import type { HashKind } from '../attention/hash.js';
import { ReformerLM, type ReformerLMConfig } from '../reformer/model.js';
import { DOUBTS, REFORMER_TABLE2, batchPerStep, labelSeed, pct, sig, times, trainLockstep } from './attention-common.js';
import type { Experiment, ExperimentOutput, RunContext, TableRow } from './types.js';

export interface TrainRow {
  id: string;
  attention: 'full' | 'lsh';
  hash: HashKind;
  nHashes: number;
}

export interface EvalCol {
  id: string;
  attention: 'full' | 'lsh';
  hash: HashKind;
  nHashes: number;
}

export interface DuplicationSettings {
  length: number;
  vocab: number;
  dModel: number;
  heads: number;
  dFF: number;
  bucketSize: number;
  batch: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  evalSequences: number;
  rows: TrainRow[];
}

export const lsh = (hash: HashKind, nHashes: number): TrainRow => ({ id: `${hash === 'angular' ? 'LSH' : 'coset LSH'}-${nHashes}`, attention: 'lsh', hash, nHashes });
export const FULL_ROW: TrainRow = { id: 'full', attention: 'full', hash: 'angular', nHashes: 1 };

export const EVAL_COLS: EvalCol[] = [
  { id: 'full', attention: 'full', hash: 'angular', nHashes: 1 },
  ...(['angular', 'coset'] as const).flatMap((hash) => [8, 4, 2, 1].map((k) => lsh(hash, k))),
];

export const DUPLICATION_QUICK: DuplicationSettings = {
  length: 64,
  vocab: 32,
  dModel: 64,
  heads: 4,
  dFF: 128,
  bucketSize: 8,
  batch: 16,
  steps: 120,
  lr: 3e-3,
  warmupSteps: 12,
  evalSequences: 32,
  rows: [FULL_ROW, lsh('angular', 1), lsh('angular', 2), lsh('angular', 4), lsh('coset', 2)],
};

export const DUPLICATION_FULL: DuplicationSettings = {
  length: 256,
  vocab: 64,
  dModel: 128,
  heads: 4,
  dFF: 512,
  bucketSize: 32,
  batch: 16,
  steps: 1000,
  lr: 1e-3,
  warmupSteps: 50,
  evalSequences: 128,
  rows: [FULL_ROW, lsh('angular', 1), lsh('angular', 2), lsh('angular', 4), lsh('coset', 1), lsh('coset', 2), lsh('coset', 4)],
};

/** The paper's Table 2 value for a (training row, evaluation column) pair, or null (coset, or not in the table). */
export function paperAccuracy(row: TrainRow, col: EvalCol): number | null {
  if (row.hash !== 'angular' || col.hash !== 'angular') return null;
  const r = row.attention === 'full' ? 'full' : (`lsh${row.nHashes}` as 'lsh1' | 'lsh2' | 'lsh4');
  const c = col.attention === 'full' ? 'full' : (`lsh${col.nHashes}` as 'lsh1' | 'lsh2' | 'lsh4' | 'lsh8');
  return REFORMER_TABLE2[r as keyof typeof REFORMER_TABLE2]?.[c] ?? null;
}

export interface RowResult {
  row: TrainRow;
  stepsDone: number;
  steps: number;
  trainSeconds: number;
  /** Wall-clock and process CPU milliseconds per training step. */
  msPerStep: number;
  cpuMsPerStep: number;
  /** Accuracy (0–1) by evaluation column id; null = not evaluated. */
  accuracy: Record<string, number | null>;
}

/** Table rows for the accuracy matrix and the per-row training cost (pure: exported for tests). */
export function duplicationTable(results: RowResult[], cols: EvalCol[] = EVAL_COLS): TableRow[] {
  const table: TableRow[] = [];
  for (const r of results) {
    for (const c of cols) {
      const a = r.accuracy[c.id];
      const note = a === null || a === undefined ? ' (not evaluated)' : '';
      table.push({ label: `trained ${r.row.id} → evaluated ${c.id}${note}`, ours: a === null || a === undefined ? null : sig(100 * a, 4), paper: paperAccuracy(r.row, c), unit: '% (second half)' });
    }
  }
  for (const r of results) {
    table.push({ label: `training CPU time per step, ${r.row.id}`, ours: sig(r.cpuMsPerStep), paper: null, unit: 'ms' });
    table.push({ label: `training wall-clock per step, ${r.row.id} (shared machine)`, ours: sig(r.msPerStep), paper: null, unit: 'ms' });
  }
  return table;
}

/** The verdict sentence from this run's numbers (pure: exported for tests). */
export function duplicationVerdict(results: RowResult[], o: { length: number; native: boolean }): string {
  const get = (rowId: string, colId: string): number | null => results.find((r) => r.row.id === rowId)?.accuracy[colId] ?? null;
  const f = (x: number | null): string => (x === null ? 'n/a' : pct(x));
  const parts: string[] = [];
  const fullFull = get('full', 'full');
  const best = results.filter((r) => r.row.attention === 'lsh' && r.row.hash === 'angular').sort((a, b) => b.row.nHashes - a.row.nHashes)[0];
  if (best) {
    const own = get(best.row.id, best.row.id);
    const gap = fullFull !== null && own !== null ? fullFull - own : null;
    const paperOwn = paperAccuracy(best.row, { id: best.row.id, attention: 'lsh', hash: 'angular', nHashes: best.row.nHashes });
    parts.push(
      `Trade-off ("${DOUBTS.tradeoff}"): at length ${o.length}, full attention reaches ${f(fullFull)} and ${best.row.id} training evaluated with ${best.row.id} ${f(own)} (paper: 100 % vs ${paperOwn ?? 'n/a'} %)` +
        (gap === null ? '' : ` — ${Math.abs(gap) <= 0.02 ? 'no real loss' : gap > 0 ? `a ${(100 * gap).toFixed(1)}-point loss` : `${(-100 * gap).toFixed(1)} points better`}`) +
        `; the full-trained model evaluated with LSH-8 / LSH-1 keeps ${f(get('full', 'LSH-8'))} / ${f(get('full', 'LSH-1'))} (paper 94.8 % / 52.5 %), and LSH-trained models evaluated with full attention score ${results.filter((r) => r.row.attention === 'lsh').map((r) => f(get(r.row.id, 'full'))).join(', ')} (paper 0.8 %).`,
    );
  }
  // coset vs angular, at matching rounds
  const pairs = results
    .filter((r) => r.row.attention === 'lsh' && r.row.hash === 'coset')
    .map((c) => {
      const a = `LSH-${c.row.nHashes}`;
      return `${c.row.id} ${f(get(c.row.id, c.row.id))} vs ${a} ${f(get(a, a))}`;
    });
  const cross = results.filter((r) => r.row.attention === 'lsh' && r.row.hash === 'angular').map((r) => `${r.row.id}-trained with coset hashing ${f(get(r.row.id, `coset ${r.row.id}`))} (angular ${f(get(r.row.id, r.row.id))})`);
  if (pairs.length || cross.length) parts.push(`Coset hash (trained and evaluated with it, against angular): ${[...pairs, ...cross].join('; ')}.`);
  // speed at this length
  const fullRow = results.find((r) => r.row.id === 'full');
  if (fullRow && best) {
    const r = best.cpuMsPerStep / fullRow.cpuMsPerStep;
    parts.push(`Speed ("${DOUBTS.speed}"): one ${best.row.id} training step takes ${times(r)} the CPU time of a full-attention step at length ${o.length}${r > 1 ? ' — slower, as users report below ~2048 tokens' : ''}.`);
  }
  if (!o.native) parts.push('Native kernels were inactive: accuracies are unaffected, CPU times are those of the plain tfjs kernels.');
  return parts.join(' ');
}

export const reformerDuplication: Experiment = {
  name: 'reformer-duplication',
  section: 'reformer',
  paper: 'Reformer: The Efficient Transformer (Kitaev, Kaiser & Levskaya, 2020), Table 2',
  claim: 'On the duplication task 0w0w, LSH attention trained with 4 hash rounds is as accurate as full attention (99.9 % vs 100 % evaluated with LSH-4), more rounds at evaluation help, and a full-attention model still works when evaluated with LSH-8 (94.8 %).',
  question: 'The notes doubt the trade-offs of efficient attention and describe LSH as coset/syndrome coding: how much accuracy does LSH cost on the paper\'s own task, and does a coset hash work as well as the angular one?',
  estimate: { quick: '~20 s (native kernels, idle 2 cores)', full: '~21 min (native kernels, idle 2 cores: 7 models × 1000 steps at length 256)' },
  run: (ctx) => runDuplication(ctx, ctx.quick ? DUPLICATION_QUICK : DUPLICATION_FULL),
};

/** The experiment with explicit settings (tests run it at tiny sizes). */
export async function runDuplication(ctx: RunContext, s: DuplicationSettings): Promise<ExperimentOutput> {
  const dataSeed = ctx.rng.fork('data').nextU32();
  const evalRng = ctx.rng.fork('eval');
  const evalSeed = evalRng.nextU32();
  const evalBatches: DuplicationBatch[] = [];
  for (let i = 0; i < s.evalSequences; i += 32) evalBatches.push(duplicationBatch({ batch: Math.min(32, s.evalSequences - i), length: s.length, vocab: s.vocab }, evalRng));
  const baseConfig = (row: TrainRow, seed: number): ReformerLMConfig => ({
    vocab: s.vocab,
    maxLen: s.length,
    dModel: s.dModel,
    depth: 1,
    heads: s.heads,
    dFF: s.dFF,
    attention: row.attention,
    sharedQK: true,
    causal: true,
    bucketSize: s.bucketSize,
    nHashes: row.nHashes,
    hash: row.hash,
    reversible: false,
    seed,
  });
  const accuracyOf = (model: ReformerLM, col: EvalCol): number => {
    let sum = 0;
    let count = 0;
    for (const b of evalBatches) {
      model.reseed(evalSeed);
      const e = model.evaluate(b, { weights: b.scoreMask, attention: col.attention, nHashes: col.attention === 'lsh' ? col.nHashes : undefined });
      sum += e.accuracy * b.batch;
      count += b.batch;
    }
    return sum / count;
  };
  // every model trains in lockstep on the same batches; evaluations get what is left
  const models = s.rows.map((row) => {
    const seed = labelSeed(ctx.seed, `model-${row.id}`);
    return { row, seed, model: new ReformerLM(baseConfig(row, seed)) };
  });
  const results: RowResult[] = [];
  try {
    const rng = new Rng(dataSeed);
    const batchAt = batchPerStep(() => duplicationBatch({ batch: s.batch, length: s.length, vocab: s.vocab }, rng));
    const trained = trainLockstep(
      models.map(({ row, model }) => ({
        label: row.id,
        vars: model.variables,
        loss: (step: number) => {
          const b = batchAt(step);
          return model.loss(b, { weights: b.scoreMask });
        },
        evaluate: () => ({}),
      })),
      { steps: s.steps, lr: s.lr, warmupSteps: s.warmupSteps, clipNorm: 1, evalEvery: 0, log: ctx.log },
    );
    for (const [i, { row, seed, model }] of models.entries()) {
      const tr = trained[i]!;
      const accuracy: Record<string, number | null> = {};
      const twins = new Map<HashKind, ReformerLM>([[row.hash, model]]);
      try {
        for (const col of EVAL_COLS) {
          let m = twins.get(col.hash);
          if (!m) {
            m = new ReformerLM({ ...baseConfig(row, seed), hash: col.hash });
            m.setWeights(await model.getWeights());
            twins.set(col.hash, m);
          }
          accuracy[col.id] = accuracyOf(m, col);
        }
      } finally {
        for (const [h, m] of twins) if (h !== row.hash) m.dispose();
      }
      results.push({ row, stepsDone: tr.stepsDone, steps: s.steps, trainSeconds: tr.trainSeconds, msPerStep: (1000 * tr.trainSeconds) / Math.max(1, tr.stepsDone), cpuMsPerStep: (1000 * tr.cpuSeconds) / Math.max(1, tr.stepsDone), accuracy });
      ctx.log(`${row.id}: ${tr.stepsDone} steps in ${tr.trainSeconds.toFixed(1)} s; ${EVAL_COLS.map((c) => `${c.id} ${accuracy[c.id] === null ? '-' : pct(accuracy[c.id]!)}`).join(', ')}`);
    }
  } finally {
    for (const { model } of models) model.dispose();
  }
  const table = duplicationTable(results);
  const verdict = duplicationVerdict(results, { length: s.length, native: ctx.engine.native.active });
  const chartRows = results.flatMap((r) =>
    EVAL_COLS.filter((c) => c.attention === 'lsh').map((c) => ({ model: `trained ${r.row.id}, eval ${c.hash}`, nHashes: c.nHashes, accuracy: r.accuracy[c.id] === null ? null : sig(100 * r.accuracy[c.id]!, 4) })),
  );
  const charts = [
    lineChart({ id: 'accuracy-vs-hashes', title: `0w0w accuracy vs hash rounds at evaluation (length ${s.length})`, alt: 'Accuracy on the second copy of w for each trained model against the number of LSH rounds used at evaluation, angular and coset hashes.', rows: chartRows, x: 'nHashes', y: 'accuracy', series: 'model', xTitle: 'LSH rounds at evaluation', yTitle: 'accuracy (%)', logX: true }),
  ];
  const config: Record<string, JsonValue> = {
    task: '0w0w duplication, causal LM, loss and accuracy on the second copy of w',
    length: s.length,
    vocab: s.vocab,
    depth: 1,
    dModel: s.dModel,
    heads: s.heads,
    dFF: s.dFF,
    sharedQK: true,
    bucketSize: s.bucketSize,
    batch: s.batch,
    steps: s.steps,
    lr: s.lr,
    warmupSteps: s.warmupSteps,
    schedule: 'warm-up + cosine to 10 %, AdamW, clip 1',
    reversible: false,
    evalSequences: s.evalSequences,
    rows: s.rows.map((r) => r.id),
    evalColumns: EVAL_COLS.map((c) => c.id),
    paperScale: 'length 1024, vocab 127 (|w| 511), 1 layer, d 256, 4 heads',
  };
  return {
    config,
    metrics: {
      rows: results.map((r) => ({ id: r.row.id, stepsDone: r.stepsDone, trainSeconds: sig(r.trainSeconds, 4), msPerStep: sig(r.msPerStep, 4), cpuMsPerStep: sig(r.cpuMsPerStep, 4), accuracy: r.accuracy })) as unknown as JsonValue,
      nativeKernels: ctx.engine.native.active,
      tensorsAfter: tf.memory().numTensors,
    },
    table,
    verdict,
    charts,
  };
}
