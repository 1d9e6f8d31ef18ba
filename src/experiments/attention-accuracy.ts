/**
 * Speed weighed against quality: the same small model trained with each attention kind — full,
 * LSH, Linformer, linear, Performer — for the same number of steps on the same batches, on two
 * tasks, recording the quality reached and the wall-clock it took.
 *
 * Both tasks are encoder (non-causal) tasks, because Linformer has no causal form and its own
 * quality claims are masked-language-model numbers:
 *  - masked duplication: input 0 w 0 M…M, predict w at the masked positions (the 0w0w lookup);
 *  - masked character modelling on the Brown corpus: 15 % of characters masked, bits per character
 *    on them (held-out documents).
 * Equal budget = equal steps, batches and model size; the wall-clock of each run is measured, and
 * each kind's quality at the wall-clock the fastest kind needed for all its steps is read off its
 * evaluation history as a second, equal-time comparison.
 */
import { lineChart } from '../core/charts.js';
import { Rng } from '../core/rng.js';
import type { JsonValue } from '../core/checkpoint.js';
import { loadBrown } from '../data/brown.js';
import type { AttentionKind } from '../attention/attention.js';
import { defaultNbFeatures } from '../attention/performer.js';
import { ReformerLM } from '../reformer/model.js';
import {
  DOUBTS,
  LINFORMER_QUALITY,
  LRA,
  buildCharVocab,
  encodeChars,
  encoderEvaluate,
  encoderLoss,
  maskedCharBatch,
  maskedDuplicationBatch,
  sig,
  times,
  trainLockstep,
  batchPerStep,
  labelSeed,
  valueAtTime,
  type EncoderBatch,
} from './attention-common.js';
import type { Experiment, ExperimentOutput, RunContext, TableRow } from './types.js';

export const ACCURACY_KINDS: AttentionKind[] = ['full', 'lsh', 'linformer', 'linear', 'performer'];
const LRA_NAME: Record<AttentionKind, keyof typeof LRA> = { full: 'transformer', lsh: 'reformer', linformer: 'linformer', linear: 'linear', performer: 'performer' };

export type TaskId = 'duplication' | 'brown';

export interface TaskSettings {
  length: number;
  dModel: number;
  heads: number;
  depth: number;
  dFF: number;
  batch: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  evalBatches: number;
  bucketSize: number;
  nHashes: number;
  linformerK: number;
  /** Duplication: symbols of w (+1 for the mask id). */
  vocab?: number;
  /** Brown: fraction of characters masked. */
  maskRate?: number;
}

export interface AccuracySettings {
  duplication: TaskSettings;
  brown: TaskSettings;
  evalPoints: number;
}

export const ACCURACY_QUICK: AccuracySettings = {
  duplication: { length: 32, vocab: 8, dModel: 64, heads: 4, depth: 1, dFF: 128, batch: 16, steps: 150, lr: 3e-3, warmupSteps: 15, evalBatches: 1, bucketSize: 4, nHashes: 2, linformerK: 8 },
  brown: { length: 64, maskRate: 0.15, dModel: 64, heads: 4, depth: 1, dFF: 128, batch: 16, steps: 600, lr: 3e-3, warmupSteps: 20, evalBatches: 4, bucketSize: 8, nHashes: 2, linformerK: 16 },
  evalPoints: 4,
};

export const ACCURACY_FULL: AccuracySettings = {
  duplication: { length: 128, vocab: 32, dModel: 64, heads: 4, depth: 1, dFF: 256, batch: 16, steps: 600, lr: 2e-3, warmupSteps: 40, evalBatches: 4, bucketSize: 16, nHashes: 2, linformerK: 32 },
  brown: { length: 256, maskRate: 0.15, dModel: 64, heads: 4, depth: 2, dFF: 256, batch: 16, steps: 1500, lr: 2e-3, warmupSteps: 75, evalBatches: 8, bucketSize: 32, nHashes: 2, linformerK: 64 },
  evalPoints: 10,
};

export interface RunResult {
  task: TaskId;
  kind: AttentionKind;
  stepsDone: number;
  steps: number;
  trainSeconds: number;
  /** Wall-clock and process CPU milliseconds per training step (speed ratios use CPU time: the machine is shared). */
  msPerStep: number;
  cpuMsPerStep: number;
  /** Duplication: accuracy (0–1); Brown: bits per character. */
  quality: number;
  history: Array<{ step: number; seconds: number } & Record<string, number>>;
}

const qualityKey: Record<TaskId, 'accuracy' | 'bits'> = { duplication: 'accuracy', brown: 'bits' };

/** Quality of every run at the wall-clock the fastest run of its task needed (null if it had no evaluation that early). */
export function equalTimeQuality(runs: RunResult[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const task of ['duplication', 'brown'] as const) {
    const rs = runs.filter((r) => r.task === task);
    if (!rs.length) continue;
    const t = Math.min(...rs.map((r) => r.trainSeconds));
    for (const r of rs) out[`${task}/${r.kind}`] = valueAtTime(r.history, qualityKey[task], t);
  }
  return out;
}

/** Table rows beside LRA and Linformer's numbers (pure: exported for tests). */
export function accuracyTable(runs: RunResult[]): TableRow[] {
  const table: TableRow[] = [];
  const full = (task: TaskId): RunResult | undefined => runs.find((r) => r.task === task && r.kind === 'full');
  const eq = equalTimeQuality(runs);
  for (const r of runs.filter((x) => x.task === 'duplication')) {
    const lra = LRA[LRA_NAME[r.kind]];
    table.push({ label: `masked duplication accuracy, ${r.kind} (paper: LRA average accuracy)`, ours: sig(100 * r.quality, 4), paper: lra.accuracy, unit: '%' });
  }
  for (const r of runs.filter((x) => x.task === 'duplication' && x.kind !== 'full')) {
    const f = full('duplication');
    const lraGap = LRA.transformer.accuracy - LRA[LRA_NAME[r.kind]].accuracy;
    const paper = r.kind === 'linformer' ? `${lraGap.toFixed(2)} (LRA); ${(LINFORMER_QUALITY.roberta - LINFORMER_QUALITY.k128).toFixed(2)} (Linformer §5, k=128)` : sig(lraGap);
    table.push({ label: `accuracy lost against full attention, ${r.kind} (paper: LRA Transformer − kind)`, ours: f ? sig(100 * (f.quality - r.quality), 3) : null, paper, unit: 'points' });
  }
  for (const r of runs.filter((x) => x.task === 'brown')) table.push({ label: `Brown masked-character bits per character, ${r.kind}`, ours: sig(r.quality, 4), paper: null, unit: 'bits/char' });
  for (const r of runs.filter((x) => x.task === 'brown' && x.kind !== 'full')) {
    const f = full('brown');
    table.push({ label: `bits per character added against full attention, ${r.kind}`, ours: f ? sig(r.quality - f.quality, 3) : null, paper: null, unit: 'bits/char' });
  }
  for (const r of runs) {
    const f = full(r.task);
    const lra = LRA[LRA_NAME[r.kind]];
    table.push({ label: `training CPU time per step, ${r.task}, ${r.kind}`, ours: sig(r.cpuMsPerStep), paper: null, unit: 'ms' });
    table.push({ label: `training wall-clock per step, ${r.task}, ${r.kind} (shared machine)`, ours: sig(r.msPerStep), paper: null, unit: 'ms' });
    if (r.kind !== 'full') table.push({ label: `training speed relative to full (CPU time), ${r.task}, ${r.kind} (paper: LRA steps/s ratio at 1K tokens)`, ours: f ? sig(f.cpuMsPerStep / r.cpuMsPerStep) : null, paper: sig(lra.steps1k / LRA.transformer.steps1k), unit: '×' });
  }
  for (const r of runs) {
    const v = eq[`${r.task}/${r.kind}`];
    table.push({ label: `${r.task === 'duplication' ? 'accuracy' : 'bits per character'} at equal wall-clock (the fastest run's training time), ${r.task}, ${r.kind}`, ours: v === null || v === undefined ? null : r.task === 'duplication' ? sig(100 * v, 4) : sig(v, 4), paper: null, unit: r.task === 'duplication' ? '%' : 'bits/char' });
  }
  return table;
}

/**
 * Whether a task trained far enough to compare kinds on it: full attention above half accuracy on
 * duplication; on Brown, full attention at least 0.1 bit below the unigram baseline.
 */
export function taskLearned(runs: RunResult[], task: TaskId, unigramBits: number): boolean {
  const f = runs.find((r) => r.task === task && r.kind === 'full');
  if (!f) return false;
  return task === 'duplication' ? f.quality >= 0.5 : f.quality <= unigramBits - 0.1;
}

/** The verdict from this run's numbers: the notes' three doubts (pure: exported for tests). */
export function accuracyVerdict(runs: RunResult[], o: { dupLength: number; brownLength: number; unigramBits: number }): string {
  const get = (task: TaskId, kind: AttentionKind): RunResult | undefined => runs.find((r) => r.task === task && r.kind === kind);
  const fd = get('duplication', 'full');
  const fb = get('brown', 'full');
  const dOk = taskLearned(runs, 'duplication', o.unigramBits);
  const bOk = taskLearned(runs, 'brown', o.unigramBits);
  const speed = (task: TaskId, kind: AttentionKind): number | null => {
    const f = get(task, 'full');
    const r = get(task, kind);
    return f && r ? f.cpuMsPerStep / r.cpuMsPerStep : null;
  };
  const dGap = (kind: AttentionKind): number | null => (dOk && fd && get('duplication', kind) ? 100 * (fd.quality - get('duplication', kind)!.quality) : null);
  const bGap = (kind: AttentionKind): number | null => (bOk && fb && get('brown', kind) ? get('brown', kind)!.quality - fb.quality : null);
  const pts = (x: number | null): string => (x === null ? 'n/a' : `${x >= 0 ? '−' : '+'}${Math.abs(x).toFixed(1)} points`);
  const bits = (x: number | null): string => (x === null ? 'n/a' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)} bpc`);
  const sp = (x: number | null): string => (x === null ? 'n/a' : times(x));
  const parts: string[] = [];
  const eff = ACCURACY_KINDS.filter((k) => k !== 'full');
  const speeds = eff.map((k) => ({ k, s: speed('brown', k) ?? speed('duplication', k) })).filter((x) => x.s !== null) as Array<{ k: AttentionKind; s: number }>;
  const fastest = speeds.sort((a, b) => b.s - a.s)[0];
  parts.push(
    `Speed ("${DOUBTS.speed}"): at n=${o.dupLength}/${o.brownLength}, in CPU time, a training step with ${eff.map((k) => `${k} runs at ${sp(speed('duplication', k))}/${sp(speed('brown', k))}`).join(', ')} the speed of full attention` +
      (fastest ? ` — ${fastest.s > 1.2 ? `at best ${fastest.k} gains ${times(fastest.s)}` : 'no kind is meaningfully faster at these lengths'}` : '') +
      '.',
  );
  const notLearned = [
    dOk ? '' : `full attention reached only ${fd ? `${(100 * fd.quality).toFixed(1)} %` : 'n/a'} on masked duplication`,
    bOk ? '' : `Brown is still at the unigram stage (full attention ${fb ? fb.quality.toFixed(3) : 'n/a'} bpc, unigram ${o.unigramBits.toFixed(3)} bpc)`,
  ].filter(Boolean);
  const lg = dGap('linformer');
  const lb = bGap('linformer');
  const claimed = LINFORMER_QUALITY.roberta - LINFORMER_QUALITY.k128;
  if (!dOk && !bOk) {
    parts.push(`Trade-off ("${DOUBTS.tradeoff}") and kernelized ("${DOUBTS.kernelized}"): inconclusive at this budget — ${notLearned.join(' and ')}, so no quality gap can be read yet.`);
  } else {
    const larger = (lg !== null && lg > 2 * claimed) || (lb !== null && fb !== undefined && lb > 0.05 * fb.quality);
    parts.push(
      `Trade-off ("${DOUBTS.tradeoff}"): at equal steps Linformer costs ${pts(lg)} on masked duplication and ${bits(lb)} on Brown against full attention (claimed: −${claimed.toFixed(1)} points; LRA: −${(LRA.transformer.accuracy - LRA.linformer.accuracy).toFixed(1)}) — ${larger ? 'larger than claimed' : 'within what was claimed'}; LSH ${pts(dGap('lsh'))} / ${bits(bGap('lsh'))}` +
        (notLearned.length ? ` (${notLearned.join('; ')}: that task is left out)` : '') +
        '.',
    );
    const kern = (['linear', 'performer'] as const).map((k) => {
      const cmp = [dOk ? [dGap(k), lg] : null, bOk ? [bGap(k), lb] : null].filter((x): x is Array<number | null> => x !== null);
      const better = cmp.every(([a, b]) => a !== null && b !== null && a! <= b!);
      const worse = cmp.every(([a, b]) => a !== null && b !== null && a! > b!);
      return { k, text: `${k} ${pts(dGap(k))} / ${bits(bGap(k))} at ${sp(speed('brown', k))} the speed`, verdict: better ? 'better' : worse ? 'worse' : 'mixed' };
    });
    const good = kern.filter((x) => x.verdict === 'better').map((x) => x.k);
    parts.push(
      `Kernelized ("${DOUBTS.kernelized}"): ${kern.map((x) => x.text).join('; ')}, against Linformer's ${pts(lg)} / ${bits(lb)} at ${sp(speed('brown', 'linformer'))} — ` +
        (good.length === 2 ? 'both kernelized kinds match or beat Linformer on quality here' : good.length === 1 ? `${good[0]} matches or beats Linformer on quality, ${kern.find((x) => x.verdict !== 'better')!.k} does not` : 'neither kernelized kind beats Linformer on quality here') +
        ', and unlike Linformer they have a causal form.',
    );
  }
  return parts.join(' ');
}

/**
 * The unigram baseline where the models are scored: bits per masked character on `batches` when
 * every masked character is predicted from the training text's character frequencies (add-one
 * smoothed), ignoring context. Scored on the same positions as the models, so a small evaluation
 * set's own sampling noise cancels out of the comparison.
 */
export function unigramBitsOn(batches: EncoderBatch[], trainIds: Int32Array, size: number): number {
  const counts = charCounts(trainIds, size);
  const total = trainIds.length + size;
  let bits = 0;
  let n = 0;
  for (const b of batches) {
    for (let i = 0; i < b.weights.length; i++) {
      const w = b.weights[i]!;
      if (w === 0) continue;
      bits -= w * Math.log2((counts[b.targets[i]!]! + 1) / total);
      n += w;
    }
  }
  return bits / Math.max(n, 1);
}

/** How often each of `size` symbols occurs in `ids`. */
function charCounts(ids: Int32Array, size: number): Float64Array {
  const counts = new Float64Array(size);
  for (const id of ids) counts[id]! += 1;
  return counts;
}

/** Entropy (bits) of the character distribution of `ids` over `size` symbols. */
export function unigramBits(ids: Int32Array, size: number): number {
  const counts = charCounts(ids, size);
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / ids.length) * Math.log2(c / ids.length);
  return h;
}

export const attentionAccuracy: Experiment = {
  name: 'attention-accuracy',
  section: 'linformer',
  paper: 'Linformer (Wang et al., 2020); Reformer (Kitaev et al., 2020); linear attention (Katharopoulos et al., 2020); Performer (Choromanski et al., 2020); Long Range Arena (Tay et al., 2021)',
  claim: 'Efficient attention keeps the quality of full attention: Linformer k=128 loses 0.5 points of dev accuracy against RoBERTa; in LRA every efficient kind is within about 4 points of the Transformer (54.4 %) while training up to 5–6× faster at 4K tokens.',
  question: 'The notes: "trade-off in performance seems larger than claimed" and "the kernelized transformer appears to be a better work" — at an equal training budget, what does each kind cost in quality, and what does it buy in wall-clock?',
  estimate: { quick: '~1.5 min (native kernels, idle 2 cores)', full: '~19 min (native kernels, idle 2 cores: 10 runs; Brown at n=256, 1500 steps)' },
  run: (ctx) => runAccuracy(ctx, ctx.quick ? ACCURACY_QUICK : ACCURACY_FULL),
};

/** The experiment with explicit settings (tests run it at tiny sizes). */
export async function runAccuracy(ctx: RunContext, s: AccuracySettings): Promise<ExperimentOutput> {
  const runs: RunResult[] = [];
  // ---- data
  const dup = s.duplication;
  const dupVocab = dup.vocab!;
  const dupEvalRng = ctx.rng.fork('dup-eval');
  const dupEval: EncoderBatch[] = Array.from({ length: dup.evalBatches }, () => maskedDuplicationBatch({ batch: 32, length: dup.length, vocab: dupVocab }, dupEvalRng));
  const dupSeed = ctx.rng.fork('dup-train').nextU32();
  const brown = loadBrown({ seed: ctx.seed });
  const cv = buildCharVocab(brown.trainText);
  const trainIds = encodeChars(brown.trainText, cv);
  const valIds = encodeChars(brown.valText, cv);
  const br = s.brown;
  const brEvalRng = ctx.rng.fork('brown-eval');
  const brEval: EncoderBatch[] = Array.from({ length: br.evalBatches }, () => maskedCharBatch(valIds, { batch: 16, length: br.length, rate: br.maskRate!, mask: cv.mask }, brEvalRng));
  const brSeed = ctx.rng.fork('brown-train').nextU32();
  for (const task of ['duplication', 'brown'] as const) {
    const t = s[task];
    const evalSet = task === 'duplication' ? dupEval : brEval;
    const rng = new Rng(task === 'duplication' ? dupSeed : brSeed);
    const batchAt = batchPerStep(() =>
      task === 'duplication' ? maskedDuplicationBatch({ batch: t.batch, length: t.length, vocab: dupVocab }, rng) : maskedCharBatch(trainIds, { batch: t.batch, length: t.length, rate: t.maskRate!, mask: cv.mask }, rng),
    );
    const models = ACCURACY_KINDS.map((kind) => {
      const seed = labelSeed(ctx.seed, `model-${task}-${kind}`);
      const model = new ReformerLM({
        vocab: task === 'duplication' ? dupVocab + 1 : cv.size,
        maxLen: t.length,
        dModel: t.dModel,
        depth: t.depth,
        heads: t.heads,
        dFF: t.dFF,
        attention: kind,
        causal: false,
        sharedQK: kind === 'lsh',
        bucketSize: t.bucketSize,
        nHashes: t.nHashes,
        linformerK: t.linformerK,
        reversible: false,
        seed,
      });
      return { kind, seed, model };
    });
    try {
      const trained = trainLockstep(
        models.map(({ kind, seed, model }) => ({
          label: kind,
          vars: model.variables,
          loss: (step: number) => encoderLoss(model, batchAt(step)),
          evaluate: () => {
            model.reseed(seed);
            const e = encoderEvaluate(model, evalSet);
            return { accuracy: e.accuracy, bits: e.bits };
          },
        })),
        { steps: t.steps, lr: t.lr, warmupSteps: t.warmupSteps, clipNorm: 1, evalEvery: Math.max(1, Math.floor(t.steps / s.evalPoints)), log: (m) => ctx.log(`${task}: ${m}`) },
      );
      models.forEach(({ kind }, i) => {
        const tr = trained[i]!;
        const last = tr.history[tr.history.length - 1]!;
        const r: RunResult = { task, kind, stepsDone: tr.stepsDone, steps: t.steps, trainSeconds: tr.trainSeconds, msPerStep: (1000 * tr.trainSeconds) / Math.max(1, tr.stepsDone), cpuMsPerStep: (1000 * tr.cpuSeconds) / Math.max(1, tr.stepsDone), quality: task === 'duplication' ? last.accuracy! : last.bits!, history: tr.history };
        runs.push(r);
        ctx.log(`${task}/${kind}: ${tr.stepsDone} steps, ${tr.trainSeconds.toFixed(1)} s, ${task === 'duplication' ? `accuracy ${(100 * r.quality).toFixed(1)} %` : `${r.quality.toFixed(3)} bits/char`}`);
      });
    } finally {
      for (const { model } of models) model.dispose();
    }
  }
  const table = accuracyTable(runs);
  const entropy = unigramBits(trainIds, cv.size);
  const baseline = unigramBitsOn(brEval, trainIds, cv.size);
  table.push({ label: 'Brown unigram baseline on the evaluated masked characters (training-text frequencies, no context)', ours: sig(baseline, 4), paper: null, unit: 'bits/char' });
  table.push({ label: 'Brown character entropy of the training text', ours: sig(entropy, 4), paper: null, unit: 'bits/char' });
  const verdict = accuracyVerdict(runs, { dupLength: dup.length, brownLength: br.length, unigramBits: baseline });
  const curve = (task: TaskId) =>
    runs.filter((r) => r.task === task).flatMap((r) => r.history.map((h) => ({ kind: r.kind, seconds: sig(h.seconds, 4), value: task === 'duplication' ? sig(100 * h.accuracy!, 4) : sig(h.bits!, 4) })));
  const charts = [
    lineChart({ id: 'duplication-accuracy-vs-time', title: `Masked duplication accuracy vs training wall-clock (n=${dup.length})`, alt: 'Accuracy on the masked copy of w against seconds of training for each attention kind; equal steps, so a line that ends earlier is a faster kind.', rows: curve('duplication'), x: 'seconds', y: 'value', series: 'kind', xTitle: 'training seconds', yTitle: 'accuracy (%)' }),
    lineChart({ id: 'brown-bpc-vs-time', title: `Brown masked-character bits per character vs training wall-clock (n=${br.length})`, alt: 'Held-out bits per masked character against seconds of training for each attention kind.', rows: curve('brown'), x: 'seconds', y: 'value', series: 'kind', xTitle: 'training seconds', yTitle: 'bits per character' }),
  ];
  const taskConfig = (t: TaskSettings): Record<string, JsonValue> => ({ ...t, nbFeatures: defaultNbFeatures(t.dModel / t.heads) } as unknown as Record<string, JsonValue>);
  return {
    config: {
      kinds: ACCURACY_KINDS,
      duplication: { task: 'masked 0w0w: input 0 w 0 M…M, predict w at the masked positions', ...taskConfig(dup) },
      brown: { task: 'masked character modelling, bits per masked character on held-out documents', vocabSize: cv.size, ...taskConfig(br) },
      model: 'ReformerLM (pre-LN blocks, learned positions), non-causal, reversible off; full = standard (not shared-QK) attention, LSH shared-QK, Linformer headwise E/F',
      optimizer: 'AdamW, warm-up + cosine to 10 %, clip 1; every kind sees the same batches',
    },
    metrics: {
      runs: runs.map((r) => ({ task: r.task, kind: r.kind, stepsDone: r.stepsDone, trainSeconds: sig(r.trainSeconds, 4), msPerStep: sig(r.msPerStep, 4), cpuMsPerStep: sig(r.cpuMsPerStep, 4), quality: sig(r.quality, 5), history: r.history.map((h) => ({ step: h.step, seconds: sig(h.seconds, 4), accuracy: sig(h.accuracy!, 4), bits: sig(h.bits!, 4) })) })) as unknown as JsonValue,
      equalTime: equalTimeQuality(runs),
      unigramBits: sig(baseline, 5),
      trainEntropyBits: sig(entropy, 5),
      nativeKernels: ctx.engine.native.active,
    },
    table,
    verdict,
    charts,
  };
}
