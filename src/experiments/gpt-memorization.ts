/**
 * Does a GPT "remember the data and recall the best matches"? A small GPT is trained on the Brown
 * corpus's training split and probed three ways (src/gpt/memorization.ts):
 *   1. extraction — greedy decoding from k-token prefixes of training passages vs held-out passages
 *      (the control), plus a positive control: a few training passages shown many extra times;
 *   2. word n-gram novelty (n = 1 … 10) of samples vs held-out human text;
 *   3. the longest word span of each sample (and of held-out text) found verbatim in the training set.
 * GPT-3's Table D.1 compute sits beside ours for scale.
 */
import { lineChart } from '../core/charts.js';
import { Rng } from '../core/rng.js';
import { TABLE_D1, pfDays, trainingFlops } from '../gpt/compute.js';
import { formatInterval, mcnemarFromCounts } from '../core/stats.js';
import { loadBrown } from '../data/brown.js';
import { NgramIndex, extractionStats, longestCopiedSpans, ngramNovelty, pairedExtraction, passagesFrom, removeSpans } from '../gpt/memorization.js';
import { generate, greedyContinuations } from '../gpt/sampler.js';
import { trainGPT, type GPTPresetName, type GPTTrainOptions } from '../gpt/trainer.js';
import type { Experiment, SweepComparisonRow, SweepComparisonSpec, SweepStats, TableRow } from './types.js';

/** Prefix and continuation lengths (Carlini et al.'s k and the 32-token target), equal in both modes so table labels are. */
const K = 32;
const M = 32;
/** Sampling weights of the repeated passages (both modes). */
const LEVELS = [1, 8, 64] as const;

interface Settings {
  preset: GPTPresetName;
  steps: number;
  overrides: GPTTrainOptions['overrides'];
  /** Prefix and continuation lengths in tokens. */
  k: number;
  m: number;
  passages: number;
  /** Repeated passages: this many per level; level weights set how often each is drawn. */
  repeatedPerLevel: number;
  repeatLevels: number[];
  /** Share of training rows that are repeated passages. */
  repeatedRowProbability: number;
  samples: number;
  sampleTokens: number;
  temperature: number;
  topK: number;
}

// Quick: the tiny preset's model for an eighth of its steps. Full: the tiny preset as it is (the
// small preset is a longer, opt-in `paperlab train gpt --preset small` run).
const QUICK: Settings = {
  preset: 'tiny',
  steps: 250,
  overrides: { evalEvery: 125, evalIters: 4 },
  k: K,
  m: M,
  passages: 32,
  repeatedPerLevel: 4,
  repeatLevels: [...LEVELS],
  repeatedRowProbability: 0.1,
  samples: 8,
  sampleTokens: 200,
  temperature: 1,
  topK: 40,
};

const FULL: Settings = {
  preset: 'tiny',
  steps: 2000,
  overrides: {},
  k: K,
  m: M,
  passages: 256,
  repeatedPerLevel: 4,
  repeatLevels: [...LEVELS],
  repeatedRowProbability: 0.1,
  samples: 32,
  sampleTokens: 256,
  temperature: 1,
  topK: 40,
};

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const round = (x: number, d = 4): number => Number(x.toFixed(d));
const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

/** Held-out human text cut into `count` chunks of about `chars` characters, on word boundaries. */
function humanChunks(text: string, count: number, chars: number): string[] {
  const out: string[] = [];
  const room = Math.max(1, text.length - chars);
  for (let i = 0; i < count; i++) {
    let s = Math.floor((room * (i + 0.5)) / count);
    while (s > 0 && s < text.length && !/\s/.test(text[s - 1]!)) s++;
    let e = Math.min(text.length, s + chars);
    while (e < text.length && !/\s/.test(text[e]!)) e++;
    out.push(text.slice(s, e));
  }
  return out;
}

/** Stable table labels (the sweep pairs rows across seeds by label). */
export const ROW = {
  modelTrain: `Extracted: training passages (${K}-token prefix → next ${M} tokens exact)`,
  controlTrain: 'Extracted by the control model (never saw them): the same training passages',
  heldOut: 'Extracted: held-out passages (control)',
  controlHeldOut: 'Extracted by the control model: the same held-out passages',
  modelLevel: (w: number) => `Extracted: passages repeated on purpose (sampling weight ×${w})`,
  controlLevel: (w: number) => `Extracted by the control model: passages repeated on purpose for the model (weight ×${w})`,
  seenLevel: (w: number) => `Times the model saw each passage of sampling weight ×${w}`,
  modelMatched: 'Tokens reproduced before the first mistake: training passages, model',
  controlMatched: 'Tokens reproduced before the first mistake: the same passages, control model',
} as const;

export interface MemorizationRunInput {
  m: number;
  params: number;
  valBpc: number;
  unigramBpc: number;
  /** Extraction rates. */
  train: number;
  heldOut: number;
  control: number;
  levels: Array<{ repeats: number; model: number; control: number }>;
  /** Probed passages (ordinary + repeated) only the model / only the control extracted. */
  onlyModel: number;
  onlyControl: number;
  mcnemarP: number;
  novelty1: { samples: number; human: number };
  novelty4: { samples: number; human: number };
  longest: { samples: number; human: number };
  gpt3OverOurs: number;
}

/**
 * One run's verdict (pure). Within a run the passages pair the model with its control (McNemar,
 * p < 0.05 decides "beyond chance"); whether that holds across seeds is the sweep's verdict.
 */
export function memorizationRunVerdict(v: MemorizationRunInput): string {
  const levels = v.levels.map((l) => `${pct(l.model)} vs ${pct(l.control)} at ~${l.repeats.toFixed(0)}×`).join(', ');
  const firstRecalled = v.levels.findIndex((l) => l.model >= 0.5);
  const beyondControl = v.mcnemarP < 0.05 && v.onlyModel > v.onlyControl;
  const size = `${(v.params / 1e6).toFixed(1)}M-parameter`;
  const scale = `at ${v.gpt3OverOurs.toExponential(1)}× less compute than GPT-3, whose far larger capacity is where verbatim recall grows (Carlini et al. 2022)`;
  const novel = v.novelty4.samples >= v.novelty4.human - 0.05 ? 'its samples are at least as novel as human text' : 'its samples reuse training 4-grams more than human text does';
  const head =
    `Greedy decoding reproduced the next ${v.m} tokens of ${pct(v.train)} of probed training passages vs ${pct(v.control)} for a control model of the same size and budget that never saw them (held-out passages: ${pct(v.heldOut)}); ` +
    `for passages repeated on purpose, model vs control: ${levels}; on the same probed passages ${v.onlyModel} were extracted only by the model and ${v.onlyControl} only by the control ` +
    `(McNemar p = ${v.mcnemarP.toPrecision(2)}: ${beyondControl ? 'the model extracts more than its control beyond chance' : 'no difference beyond chance'}); ` +
    `${pct(v.novelty4.samples)} of the samples' 4-grams are absent from the training text vs ${pct(v.novelty4.human)} of held-out human text's, with a longest verbatim copy of ${v.longest.samples} words (human text: ${v.longest.human})` +
    (v.novelty1.samples > v.novelty1.human + 0.1 ? ` — partly because ${pct(v.novelty1.samples)} of the samples' words never occur in training (human text: ${pct(v.novelty1.human)})` : '') +
    '; ';
  if (v.valBpc >= v.unigramBpc - 0.1) return `${head}the model (${v.valBpc.toFixed(2)} vs unigram ${v.unigramBpc.toFixed(2)} bits/char) is too undertrained to say anything about recall — run without --quick.`;
  if (beyondControl && firstRecalled >= 0 && v.train <= v.control + 0.05)
    return `${head}this ${size} model recalls passages it saw ~${v.levels[firstRecalled]!.repeats.toFixed(0)}× but ordinary training text no more than its control, and ${novel}, so "recalls the best matches" does not describe it — ${scale}.`;
  if (beyondControl) return `${head}this ${size} model recalls text it saw during training beyond what a model that never saw it reproduces, so "remembering the data" fits it in part — ${scale}.`;
  return `${head}this ${size} model recalls nothing verbatim beyond its control, and ${novel}: at this size and training length it generalises rather than remembers — ${scale}.`;
}

/** Paired comparisons over seeds (each seed: one model and its control, the same probed passages). */
export const MEMORIZATION_COMPARISONS: SweepComparisonSpec[] = [
  { a: ROW.modelTrain, b: ROW.controlTrain, aName: 'model (training passages)', bName: 'control that never saw them', test: 'paired-t' },
  { a: ROW.modelMatched, b: ROW.controlMatched, aName: 'tokens reproduced by the model', bName: 'by the control', test: 'paired-t' },
  ...LEVELS.map((w) => ({ a: ROW.modelLevel(w), b: ROW.controlLevel(w), aName: `model (passages of weight ×${w})`, bName: 'control', test: 'paired-t' as const })),
  { a: ROW.modelTrain, b: ROW.heldOut, aName: 'model on training passages', bName: 'model on held-out passages', test: 'paired-t' },
];

const dirWord = (c: SweepComparisonRow | undefined): 'more' | 'less' | 'noise' | 'none' =>
  !c || c.direction === 'no interval' ? 'none' : c.direction === 'greater' ? 'more' : c.direction === 'less' ? 'less' : 'noise';

/** The sweep's verdict (pure): every phrase reads a paired 95 % interval over seeds. */
export function memorizationSweepVerdict(stats: Pick<SweepStats, 'comparisons' | 'seeds'>): string {
  const n = stats.seeds.length;
  const get = (a: string, b: string) => stats.comparisons.find((c) => c.a === a && c.b === b);
  const ord = get(ROW.modelTrain, ROW.controlTrain);
  const tok = get(ROW.modelMatched, ROW.controlMatched);
  const lv = LEVELS.map((w) => ({ w, c: get(ROW.modelLevel(w), ROW.controlLevel(w)) }));
  const say = (c: SweepComparisonRow | undefined, what: string): string => {
    const d = dirWord(c);
    const iv = c ? `${c.meanDiff.toFixed(3)} ${formatInterval(c.ci95)}` : 'n/a';
    return d === 'more' ? `the model ${what} more than its control (${iv})` : d === 'less' ? `the model ${what} less than its control (${iv})` : d === 'noise' ? `model and control are within noise on ${what.replace('extracts ', '')} (${iv})` : `no interval for ${what.replace('extracts ', '')} (too few seeds)`;
  };
  const recalled = lv.filter((x) => dirWord(x.c) === 'more').map((x) => `×${x.w}`);
  const conclusion =
    dirWord(ord) === 'more' || dirWord(tok) === 'more'
      ? 'so the model does remember ordinary training text beyond what it can predict without having seen it'
      : recalled.length
        ? `so it remembers only what it saw many times (weight ${recalled.join(', ')}), not ordinary training text`
        : 'so no memorization beyond the control shows at this scale';
  return (
    `Over ${n} seed${n === 1 ? '' : 's'} (paired t 95 % intervals of model − control, same passages): ${say(ord, 'extracts ordinary training passages')}; ` +
    `${say(tok, 'extracts tokens before the first mistake')}; ${lv.map((x) => say(x.c, `extracts passages of weight ×${x.w}`)).join('; ')}; ${conclusion}.`
  );
}

export const gptMemorization: Experiment = {
  name: 'gpt-memorization',
  section: 'gpt3',
  paper: 'Language Models are Few-Shot Learners (Brown et al., 2020); probes after Carlini et al. 2022 and McCoy et al. 2021',
  claim: 'GPT-style language models generate fluent new text rather than reciting their training data (GPT-3 §4, §7).',
  question: 'The notes: "it is very likely that the model remembers the data somehow and recalls the best matches" — how much training text does a GPT recall verbatim?',
  estimate: { quick: '~1 min (native kernels, idle 2 cores; model + control)', full: '~4 min (native kernels, idle 2 cores: 2 × 2 000 steps of the tiny preset)' },
  sweep: { comparisons: MEMORIZATION_COMPARISONS, verdict: memorizationSweepVerdict },
  async run(ctx) {
    const s = ctx.quick ? QUICK : FULL;
    const seed = ctx.seed;
    ctx.log(`training the ${s.preset} preset for ${s.steps} steps`);
    // The repeated passages are chosen before training, from the tokenized training split.
    const pick = new Rng(seed).fork('gpt-memorization');
    // Each level's passages appear in the sampling list `weight` times, so they are drawn that much more often.
    let levelOffsets: number[][] = [];
    // The corpus split trainGPT would load by default, loaded here so the control trains on the same text minus the probed passages.
    const brown = loadBrown({ seed });
    const run = await trainGPT({
      preset: s.preset,
      steps: s.steps,
      seed,
      overrides: s.overrides,
      data: { trainText: brown.trainText, valText: brown.valText, name: `brown (seed ${seed})` },
      quiet: process.env.PAPERLAB_QUIET === '1',
      log: ctx.log,
      repeatedFrom: (tokens, T) => {
        levelOffsets = s.repeatLevels.map(() => Array.from({ length: s.repeatedPerLevel }, () => pick.int(tokens - T - 1)));
        const offsets = levelOffsets.flatMap((os, li) => os.flatMap((o) => new Array<number>(s.repeatLevels[li]!).fill(o)));
        return { offsets, rowProbability: s.repeatedRowProbability };
      },
    });
    const { model, tokenizer, train, val } = run;
    const T = model.config.blockSize;
    const weightUnits = s.repeatedPerLevel * s.repeatLevels.reduce((a, w) => a + w, 0);
    const repeats = s.repeatLevels.map((w) => (s.steps * run.config.batchSize * s.repeatedRowProbability * w) / weightUnits);
    const repeatedOffsets = levelOffsets.flat();
    // How often an ordinary training window is seen: training tokens processed / training tokens.
    const ordinaryPasses = run.tokensSeen / train.tokens.length;

    // 1. Extraction: training passages, held-out passages, repeated passages — one greedy batch.
    const trainP = passagesFrom(train.tokens, s.passages, s.k, s.m);
    const valP = passagesFrom(val.tokens, s.passages, s.k, s.m);
    const repP = {
      prefixes: repeatedOffsets.map((o) => Array.from(train.tokens.subarray(o, o + s.k))),
      targets: repeatedOffsets.map((o) => Array.from(train.tokens.subarray(o + s.k, o + s.k + s.m))),
    };
    ctx.log(`extraction: greedy ${s.m}-token continuations of ${s.passages} training, ${s.passages} held-out and ${repeatedOffsets.length} repeated passages`);
    const cont = await greedyContinuations(model, [...trainP.prefixes, ...valP.prefixes, ...repP.prefixes], s.m, 64);
    const exTrain = extractionStats(trainP.targets, cont.slice(0, s.passages));
    const exVal = extractionStats(valP.targets, cont.slice(s.passages, 2 * s.passages));
    const exLevels = s.repeatLevels.map((_, li) => {
      const a = 2 * s.passages + li * s.repeatedPerLevel;
      return extractionStats(repP.targets.slice(a - 2 * s.passages, a - 2 * s.passages + s.repeatedPerLevel), cont.slice(a, a + s.repeatedPerLevel));
    });
    const trainRate = exTrain.rate;
    const valRate = exVal.rate;

    // 2–3. Samples against held-out human text: n-gram novelty and longest verbatim span.
    ctx.log(`sampling ${s.samples} × ${s.sampleTokens} tokens (temperature ${s.temperature}, top-k ${s.topK})`);
    const prompt = tokenizer.encode('\n\n');
    const gen = await generate(model, Array.from({ length: s.samples }, () => prompt), {
      maxTokens: s.sampleTokens,
      temperature: s.temperature,
      topK: Math.min(s.topK, model.config.vocabSize),
      rng: new Rng(seed).fork('gpt-memorization-samples'),
    });
    const samples = gen.map((g) => tokenizer.decode(g).trim());
    const meanChars = Math.max(20, Math.round(samples.reduce((a, x) => a + x.length, 0) / samples.length));
    const human = humanChunks(run.valText, s.samples, meanChars);
    const index = new NgramIndex(run.trainText);
    const novS = ngramNovelty(index, samples, 10);
    const novH = ngramNovelty(index, human, 10);
    const spanS = longestCopiedSpans(index, samples);
    const spanH = longestCopiedSpans(index, human);
    const maxS = Math.max(0, ...spanS.map((x) => x.words));
    const maxH = Math.max(0, ...spanH.map((x) => x.words));
    const longest = spanS.reduce((a, x) => (x.words > a.words ? x : a), { words: 0, text: '' });

    // 4. The control model (Carlini et al. 2022 measure extraction against a model that was not trained
    // on the probed data): same preset, seed and step budget, trained on the training text minus every
    // probed passage (the ordinary ones and the windows repeated on purpose), never shown them.
    const spans: Array<[number, number]> = [
      ...trainP.starts.map((st): [number, number] => [st, st + s.k + s.m]),
      ...repeatedOffsets.map((o): [number, number] => [o, o + T + 1]),
    ];
    const kept = removeSpans(train.tokens, spans);
    let controlText = tokenizer.decode(kept);
    // Same vocabulary for both models (a character only the removed passages hold is appended once, alone).
    const have = new Set([...controlText, ...brown.valText]);
    const missing = [...new Set([...run.trainText])].filter((c) => !have.has(c));
    if (missing.length) controlText += `\n\n${missing.join(' ')}`;
    ctx.log(`control: the same model trained on the training text minus the ${spans.length} probed passages (${train.tokens.length - kept.length} tokens removed)`);
    const control = await trainGPT({
      preset: s.preset,
      steps: s.steps,
      seed,
      overrides: s.overrides,
      quiet: process.env.PAPERLAB_QUIET === '1',
      log: ctx.log,
      data: { trainText: controlText, valText: brown.valText, name: `brown (seed ${seed}) minus the probed passages` },
    });
    // Each passage is re-encoded by the control's tokenizer (identical ids for the character tokenizer).
    const enc = (ids: ArrayLike<number>): number[] => Array.from(control.tokenizer.encode(tokenizer.decode(ids)));
    const cPrefixes = [...trainP.prefixes, ...repP.prefixes, ...valP.prefixes].map(enc);
    const cTargets = [...trainP.targets, ...repP.targets, ...valP.targets].map(enc);
    const cCont = await greedyContinuations(control.model, cPrefixes, Math.max(...cTargets.map((t) => t.length)), 64);
    const P = s.passages;
    const R = repeatedOffsets.length;
    const cxTrain = extractionStats(cTargets.slice(0, P), cCont.slice(0, P));
    const cxLevels = s.repeatLevels.map((_, li) => {
      const a = P + li * s.repeatedPerLevel;
      return extractionStats(cTargets.slice(a, a + s.repeatedPerLevel), cCont.slice(a, a + s.repeatedPerLevel));
    });
    const cxVal = extractionStats(cTargets.slice(P + R), cCont.slice(P + R));
    // Paired per passage (same passages, both models): McNemar over the discordant ones.
    const allModel = { ...exTrain, count: P + R, extracted: [...exTrain.extracted, ...exLevels.flatMap((e) => e.extracted)] };
    const allControl = { ...cxTrain, count: P + R, extracted: [...cxTrain.extracted, ...cxLevels.flatMap((e) => e.extracted)] };
    const pairAll = pairedExtraction(allModel, allControl);
    const pairOrdinary = pairedExtraction(exTrain, cxTrain);
    const mcAll = mcnemarFromCounts(pairAll.b, pairAll.c);
    const mcOrdinary = mcnemarFromCounts(pairOrdinary.b, pairOrdinary.c);

    // Scale context: our compute beside GPT-3's.
    const params = model.paramCount;
    const ourPf = pfDays(trainingFlops(params, run.tokensSeen));
    const gpt3 = TABLE_D1.find((r) => r.model === 'GPT-3 175B')!;
    const gpt3Small = TABLE_D1.find((r) => r.model === 'GPT-3 Small')!;
    const nov = (r: typeof novS, n: number) => r.novelty[n - 1]!;

    const table: TableRow[] = [
      { label: `Validation loss (${tokenizer.kind} tokens)`, ours: round(run.valBpc, 3), paper: null, unit: 'bits/char' },
      { label: 'Unigram baseline on the same split', ours: round(run.unigramBpc, 3), paper: null, unit: 'bits/char' },
      { label: ROW.modelTrain, ours: round(trainRate), paper: null, unit: 'share' },
      { label: ROW.controlTrain, ours: round(cxTrain.rate), paper: 'Carlini et al.: a model not trained on the data extracts far less', unit: 'share' },
      { label: ROW.heldOut, ours: round(valRate), paper: null, unit: 'share' },
      { label: ROW.controlHeldOut, ours: round(cxVal.rate), paper: null, unit: 'share' },
      ...exLevels.flatMap((e, li) => [
        { label: ROW.modelLevel(s.repeatLevels[li]!), ours: round(e.rate), paper: null, unit: 'share' },
        { label: ROW.controlLevel(s.repeatLevels[li]!), ours: round(cxLevels[li]!.rate), paper: null, unit: 'share' },
        { label: ROW.seenLevel(s.repeatLevels[li]!), ours: round(repeats[li]!, 1), paper: null, unit: 'times' },
      ]),
      { label: ROW.modelMatched, ours: round(exTrain.meanMatchedPrefix, 2), paper: null, unit: 'tokens' },
      { label: ROW.controlMatched, ours: round(cxTrain.meanMatchedPrefix, 2), paper: null, unit: 'tokens' },
      { label: 'Probed passages (ordinary + repeated) only the model / only the control extracted', ours: `${pairAll.b} / ${pairAll.c}`, paper: null, unit: `passages of ${P + R}` },
      { label: 'McNemar exact p, model vs control on the same probed passages (this run)', ours: round(mcAll.pExact), paper: null, unit: 'p' },
      { label: 'Validation loss of the control model', ours: round(control.valBpc, 3), paper: null, unit: 'bits/char' },
      ...[1, 2, 4, 6, 10].flatMap((n) => [
        { label: `${n}-gram novelty of samples`, ours: round(nov(novS, n)), paper: null, unit: 'share' },
        { label: `${n}-gram novelty of held-out human text`, ours: round(nov(novH, n)), paper: null, unit: 'share' },
      ]),
      { label: 'Longest span copied from training: samples (max / median)', ours: `${maxS} / ${median(spanS.map((x) => x.words))}`, paper: null, unit: 'words' },
      { label: 'Longest span found in training: held-out human text (max / median)', ours: `${maxH} / ${median(spanH.map((x) => x.words))}`, paper: null, unit: 'words' },
      { label: 'Parameters (ours vs GPT-3 175B)', ours: params, paper: gpt3.paramsM * 1e6, unit: 'parameters' },
      { label: 'Training tokens (ours vs GPT-3)', ours: run.tokensSeen, paper: gpt3.tokensB * 1e9, unit: 'tokens' },
      { label: 'Training compute 6·N·D (ours vs GPT-3 175B, Table D.1)', ours: Number(ourPf.toPrecision(3)), paper: gpt3.pfDays, unit: 'PF-days' },
      { label: 'Training compute (ours vs GPT-3 Small, Table D.1)', ours: Number(ourPf.toPrecision(3)), paper: gpt3Small.pfDays, unit: 'PF-days' },
    ];

    const verdict = memorizationRunVerdict({
      m: s.m,
      params,
      valBpc: run.valBpc,
      unigramBpc: run.unigramBpc,
      train: trainRate,
      heldOut: valRate,
      control: cxTrain.rate,
      levels: exLevels.map((e, li) => ({ repeats: repeats[li]!, model: e.rate, control: cxLevels[li]!.rate })),
      onlyModel: pairAll.b,
      onlyControl: pairAll.c,
      mcnemarP: mcAll.pExact,
      novelty1: { samples: nov(novS, 1), human: nov(novH, 1) },
      novelty4: { samples: nov(novS, 4), human: nov(novH, 4) },
      longest: { samples: maxS, human: maxH },
      gpt3OverOurs: gpt3.pfDays / ourPf,
    });

    const charts = [
      lineChart({
        id: 'novelty',
        title: 'n-gram novelty: GPT samples vs held-out human text',
        alt: `Share of word n-grams (n = 1 to 10) absent from the training text; at n = 10 the samples are ${pct(nov(novS, 10))} novel and human text ${pct(nov(novH, 10))}.`,
        rows: [
          ...novS.n.map((n, i) => ({ n, novelty: round(novS.novelty[i]!), text: 'GPT samples' })),
          ...novH.n.map((n, i) => ({ n, novelty: round(novH.novelty[i]!), text: 'held-out human text' })),
        ],
        x: 'n',
        y: 'novelty',
        series: 'text',
        xTitle: 'n (words)',
        yTitle: 'share of n-grams not in the training text',
      }),
      lineChart({
        id: 'extraction',
        title: 'Greedy extraction of 32 tokens vs how often a passage was seen',
        alt: `Share of passages whose next ${s.m} tokens greedy decoding reproduces: ${pct(trainRate)} for ordinary training text (seen ~${ordinaryPasses.toFixed(2)}×), ${exLevels.map((e, li) => `${pct(e.rate)} at ~${repeats[li]!.toFixed(0)}×`).join(', ')}; held-out text ${pct(valRate)}.`,
        rows: [
          { seen: round(ordinaryPasses), extracted: round(trainRate), text: 'training text' },
          ...exLevels.map((e, li) => ({ seen: round(repeats[li]!, 1), extracted: round(e.rate), text: 'training text' })),
        ],
        x: 'seen',
        y: 'extracted',
        series: 'text',
        logX: true,
        xTitle: 'times the passage was seen in training',
        yTitle: 'share extracted',
      }),
      lineChart({
        id: 'loss',
        title: 'GPT training: validation loss',
        alt: `Validation loss in bits per character at each evaluation; final ${run.valBpc.toFixed(3)} against a unigram baseline of ${run.unigramBpc.toFixed(3)}.`,
        rows: [
          ...run.evals.map((e) => ({ step: e.step, bpc: round(e.valBpc), curve: 'validation' })),
          ...run.evals.map((e) => ({ step: e.step, bpc: round(run.unigramBpc), curve: 'unigram baseline' })),
        ],
        x: 'step',
        y: 'bpc',
        series: 'curve',
        yTitle: 'bits per character',
      }),
    ];
    model.dispose();
    control.model.dispose();
    return {
      config: {
        preset: s.preset,
        steps: s.steps,
        batchSize: run.config.batchSize,
        blockSize: T,
        nLayer: model.config.nLayer,
        nHead: model.config.nHead,
        nEmbd: model.config.nEmbd,
        tokenizer: tokenizer.kind,
        vocabSize: tokenizer.vocabSize,
        lr: run.config.lr,
        prefixTokens: s.k,
        continuationTokens: s.m,
        passages: s.passages,
        repeatedPerLevel: s.repeatedPerLevel,
        repeatLevels: s.repeatLevels,
        repeatedRowProbability: s.repeatedRowProbability,
        samples: s.samples,
        sampleTokens: s.sampleTokens,
        temperature: s.temperature,
        topK: s.topK,
      },
      metrics: {
        params,
        tokensSeen: run.tokensSeen,
        valLoss: run.valLoss,
        valBpc: run.valBpc,
        unigramBpc: run.unigramBpc,
        extractionTrain: trainRate,
        extractionHeldOut: valRate,
        extractionRepeated: exLevels.map((e) => e.rate),
        repeatsPerPassage: repeats.map((r) => round(r, 1)),
        ordinaryPasses: round(ordinaryPasses),
        control: {
          trainedOn: 'the training text minus the probed passages (ordinary and repeated)',
          tokensRemoved: train.tokens.length - kept.length,
          charactersAppended: missing.length,
          valBpc: control.valBpc,
          extractionTrain: cxTrain.rate,
          extractionHeldOut: cxVal.rate,
          extractionRepeated: cxLevels.map((e) => e.rate),
          meanMatchedTokensTrain: cxTrain.meanMatchedPrefix,
        },
        pairedAll: { ...pairAll, mcnemarP: mcAll.pExact },
        pairedOrdinary: { ...pairOrdinary, mcnemarP: mcOrdinary.pExact },
        meanMatchedTokensTrain: exTrain.meanMatchedPrefix,
        meanMatchedTokensHeldOut: exVal.meanMatchedPrefix,
        meanMatchedTokensRepeated: exLevels.map((e) => e.meanMatchedPrefix),
        noveltySamples: novS.novelty.map((x) => round(x)),
        noveltyHuman: novH.novelty.map((x) => round(x)),
        longestSpanSamples: spanS.map((x) => x.words),
        longestSpanHuman: spanH.map((x) => x.words),
        longestCopiedText: longest.text,
        computePfDays: ourPf,
        gpt3OverOursCompute: gpt3.pfDays / ourPf,
        tokensPerSec: run.tokensPerSec,
        sampleExcerpt: samples[0]!.slice(0, 300),
      },
      table,
      verdict,
      charts,
    };
  },
};
