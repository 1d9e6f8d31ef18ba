/**
 * Training a GPT on a text corpus (the Brown corpus by default): tokenizer, random-window batches,
 * AdamW with β = (0.9, 0.95) and decoupled weight decay, linear warm-up + cosine decay to 10 %,
 * global-norm clipping, periodic validation loss, checkpoints that hold the model, the optimizer,
 * the RNG and the tokenizer, and an exact resume.
 *
 * ```ts
 * const run = await trainGPT({ preset: 'tiny', steps: 200, out: 'checkpoints/gpt-tiny' });
 * console.log(run.valBpc, 'bits/char vs unigram', run.unigramBpc);
 * ```
 */
import path from 'node:path';
import { tf } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkNumber, checkOneOf } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { AdamW } from '../core/optim.js';
import { trainStep, runTraining } from '../core/train.js';
import { warmupCosine } from '../core/schedule.js';
import { assignGroup, checkCheckpointTarget, hasCheckpoint, loadCheckpoint, saveCheckpoint, tensorsToGroup, type ArrayGroup, type JsonValue } from '../core/checkpoint.js';
import { loadBrown } from '../data/brown.js';
import { GPT, resolveGPTConfig, type GPTConfig } from './model.js';
import { tokenizerFromJSON, trainTokenizer, type Tokenizer, type TokenizerKind } from './tokenizer.js';

export const GPT_PRESET_NAMES = ['tiny', 'small'] as const;
export type GPTPresetName = (typeof GPT_PRESET_NAMES)[number];

/** Everything a training run is configured by (a preset fills all of it). */
export interface GPTTrainConfig {
  model: Omit<GPTConfig, 'vocabSize'>;
  tokenizer: TokenizerKind;
  /** BPE vocabulary size (ignored for 'char'). */
  vocabSize: number;
  batchSize: number;
  /**
   * Micro-batches of `batchSize` rows per optimizer step (nanoGPT's gradient_accumulation_steps):
   * the effective batch is accumulate × batchSize rows. Default 1.
   */
  accumulate?: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  /** Final learning rate as a fraction of lr. */
  minLrRatio: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  clipNorm: number;
  evalEvery: number;
  /** Batches per split in each evaluation. */
  evalIters: number;
  checkpointEvery: number;
}

/**
 * tiny: nanoGPT's CPU configuration (4 layers, 4 heads, 128 wide, context 64, batch 12), on
 *   characters — about 0.8 M parameters and 1.5 M training tokens.
 * small: 6 layers, 6 heads, 192 wide, context 128, batch 16, byte-level BPE with 1 024 tokens —
 *   about 2.9 M parameters and 4.1 M training tokens (≈ 2 passes over the 2.1 M-token training split).
 */
export const GPT_PRESETS: Record<GPTPresetName, GPTTrainConfig> = {
  tiny: {
    model: { blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: true, attention: 'full' },
    tokenizer: 'char',
    vocabSize: 0,
    batchSize: 12,
    steps: 2000,
    lr: 2e-3,
    warmupSteps: 100,
    minLrRatio: 0.1,
    weightDecay: 0.1,
    beta1: 0.9,
    beta2: 0.95,
    clipNorm: 1,
    evalEvery: 250,
    evalIters: 10,
    checkpointEvery: 250,
  },
  small: {
    model: { blockSize: 128, nLayer: 6, nHead: 6, nEmbd: 192, dropout: 0.1, bias: true, attention: 'full' },
    tokenizer: 'bpe',
    vocabSize: 1024,
    batchSize: 16,
    steps: 2000,
    lr: 1e-3,
    warmupSteps: 100,
    minLrRatio: 0.1,
    weightDecay: 0.1,
    beta1: 0.9,
    beta2: 0.95,
    clipNorm: 1,
    evalEvery: 250,
    evalIters: 10,
    checkpointEvery: 250,
  },
};

/** A tokenized text: the token stream plus what is needed to convert losses to bits per character. */
export class TokenText {
  constructor(
    readonly tokens: Int32Array,
    /** Characters (code points) of the text the tokens encode. */
    readonly chars: number,
  ) {}

  static encode(tokenizer: Tokenizer, text: string): TokenText {
    let chars = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff) chars++; // count code points, not UTF-16 units
    }
    return new TokenText(tokenizer.encode(text), chars);
  }

  get tokensPerChar(): number {
    return this.tokens.length / Math.max(1, this.chars);
  }

  /** B random windows of T+1 tokens: inputs x = w[0..T), targets y = w[1..T]. */
  batch(rng: Rng, B: number, T: number): { x: Int32Array; y: Int32Array } {
    const n = this.tokens.length;
    check(n > T + 1, 'text', `has ${n} tokens, too few for windows of ${T + 1}`, 'use more text or a smaller blockSize');
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const o = rng.int(n - T - 1 + 1);
      x.set(this.tokens.subarray(o, o + T), b * T);
      y.set(this.tokens.subarray(o + 1, o + T + 1), b * T);
    }
    return { x, y };
  }
}

/** Converts a loss in nats per token into bits per character. */
export function bitsPerChar(natsPerToken: number, tokensPerChar: number): number {
  return (natsPerToken / Math.LN2) * tokensPerChar;
}

/**
 * The unigram baseline: cross-entropy of `evalTokens` under the token frequencies of `train`
 * (add-one smoothing over the vocabulary), in nats per token.
 */
export function unigramCrossEntropy(train: ArrayLike<number>, evalTokens: ArrayLike<number>, vocabSize: number): number {
  checkInt(vocabSize, 'vocabSize', { min: 1 });
  const counts = new Float64Array(vocabSize).fill(1);
  for (let i = 0; i < train.length; i++) counts[train[i]!]! += 1;
  const total = train.length + vocabSize;
  let nll = 0;
  for (let i = 0; i < evalTokens.length; i++) nll -= Math.log(counts[evalTokens[i]!]! / total);
  return nll / Math.max(1, evalTokens.length);
}

export interface GPTTrainOptions {
  preset?: GPTPresetName;
  /** Overrides of the preset (model fields merge). */
  overrides?: Partial<Omit<GPTTrainConfig, 'model'>> & { model?: Partial<Omit<GPTConfig, 'vocabSize'>> };
  /** Total steps (overrides the preset's). */
  steps?: number;
  seed?: number;
  /** Checkpoint directory; none is written when absent. */
  out?: string;
  /** Continue from the checkpoint in `out` (error when there is none). */
  resume?: boolean;
  /**
   * Stop after this many steps (checkpointing there) although the schedule runs to `steps`, as if
   * interrupted; a later `resume` finishes the run.
   */
  stopAt?: number;
  /** Text to train on; default: the Brown corpus split by `seed` (10 % of documents held out). */
  data?: { trainText: string; valText: string; name?: string };
  /**
   * Training windows that are sampled with extra probability: each batch row is, with probability
   * `rowProbability`, the window starting at one of these token offsets (a passage seen many times).
   */
  repeated?: { offsets: number[]; rowProbability: number };
  /** Like `repeated`, chosen once the training text is tokenized (gets its length and blockSize). */
  repeatedFrom?: (trainTokens: number, blockSize: number) => { offsets: number[]; rowProbability: number };
  quiet?: boolean;
  log?: (msg: string) => void;
  /** JSON-lines training log, one line per step: step, loss, lr, tokens/s (see runTraining). */
  logFile?: string;
}

export interface GPTEval {
  step: number;
  trainLoss: number;
  valLoss: number;
  valBpc: number;
}

export interface GPTTrainResult {
  model: GPT;
  tokenizer: Tokenizer;
  config: GPTTrainConfig;
  preset: GPTPresetName;
  seed: number;
  train: TokenText;
  val: TokenText;
  trainText: string;
  valText: string;
  /** Steps completed (including those before a resume). */
  step: number;
  losses: number[];
  evals: GPTEval[];
  valLoss: number;
  valBpc: number;
  unigramBpc: number;
  /** Training tokens per second over this invocation's steps. */
  tokensPerSec: number;
  seconds: number;
  /** Tokens processed in training so far (steps × batch × context). */
  tokensSeen: number;
}

/** Resolves a preset plus overrides and validates every field. */
export function resolveTrainConfig(preset: GPTPresetName, o: GPTTrainOptions['overrides'] = {}, steps?: number): GPTTrainConfig {
  checkOneOf(preset, GPT_PRESET_NAMES, 'preset');
  const base = GPT_PRESETS[preset];
  const defined = <T extends object>(x: T | undefined): Partial<T> => Object.fromEntries(Object.entries(x ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  const { model, ...rest } = o ?? {};
  const c: GPTTrainConfig = { ...base, ...defined(rest), model: { ...base.model, ...defined(model) } };
  if (steps !== undefined) c.steps = steps;
  // A shortened run keeps its warm-up to a tenth of the steps (unless the warm-up was set explicitly).
  if (rest.warmupSteps === undefined) c.warmupSteps = Math.min(c.warmupSteps, Math.max(1, Math.floor(c.steps / 10)));
  checkOneOf(c.tokenizer, ['char', 'bpe'] as const, 'tokenizer');
  if (c.tokenizer === 'bpe') checkInt(c.vocabSize, 'vocabSize', { min: 257 });
  checkInt(c.batchSize, 'batchSize', { min: 1 });
  checkInt(c.accumulate ?? 1, 'accumulate', { min: 1 });
  checkInt(c.steps, 'steps', { min: 1 });
  checkNumber(c.lr, 'lr', { min: 0, exclusiveMin: true });
  checkInt(c.warmupSteps, 'warmupSteps', { min: 0 });
  checkNumber(c.minLrRatio, 'minLrRatio', { min: 0, max: 1 });
  checkNumber(c.weightDecay, 'weightDecay', { min: 0 });
  checkNumber(c.beta1, 'beta1', { min: 0, max: 1 });
  checkNumber(c.beta2, 'beta2', { min: 0, max: 1 });
  checkNumber(c.clipNorm, 'clipNorm', { min: 0 });
  checkInt(c.evalEvery, 'evalEvery', { min: 1 });
  checkInt(c.evalIters, 'evalIters', { min: 1 });
  checkInt(c.checkpointEvery, 'checkpointEvery', { min: 1 });
  resolveGPTConfig({ ...c.model, vocabSize: 2 });
  return c;
}

/** Mean loss over fixed batches (the same every call for a given seed and split). */
export function estimateLoss(model: GPT, text: TokenText, batches: number, batchSize: number, seed: number, label: string): number {
  const rng = new Rng(seed).fork(`gpt-eval-${label}`);
  const T = model.config.blockSize;
  const wasTraining = model.training;
  model.training = false;
  let sum = 0;
  try {
    for (let i = 0; i < batches; i++) {
      const { x, y } = text.batch(rng, batchSize, T);
      const l = tf.tidy(() => model.loss(tf.tensor2d(x, [batchSize, T], 'int32'), tf.tensor2d(y, [batchSize, T], 'int32')));
      sum += l.dataSync()[0]!;
      l.dispose();
    }
  } finally {
    model.training = wasTraining;
  }
  return sum / batches;
}

/** What a GPT checkpoint's meta holds. */
export interface GPTCheckpointMeta {
  format: 'paperlab-gpt';
  version: 1;
  preset: GPTPresetName;
  seed: number;
  config: GPTTrainConfig;
  modelConfig: Required<GPTConfig>;
  tokenizer: JsonValue;
  data: { name: string; trainChars: number; valChars: number; trainTokens: number; valTokens: number };
  repeated: { offsets: number[]; rowProbability: number } | null;
  losses: number[];
  evals: GPTEval[];
  tokensSeen: number;
}

function readMeta(meta: JsonValue | undefined, dir: string): GPTCheckpointMeta {
  const m = meta as unknown as GPTCheckpointMeta | undefined;
  if (!m || m.format !== 'paperlab-gpt' || m.version !== 1) {
    throw new PaperlabError('checkpoint', `${dir} is not a GPT checkpoint`, 'pass the --out directory of `paperlab train gpt`');
  }
  return m;
}

/** Loads a trained GPT and its tokenizer from a checkpoint directory. */
export async function loadGPT(dir: string): Promise<{ model: GPT; tokenizer: Tokenizer; meta: GPTCheckpointMeta; step: number }> {
  const ck = await loadCheckpoint(dir);
  const meta = readMeta(ck.meta, dir);
  const tokenizer = tokenizerFromJSON(meta.tokenizer);
  const model = new GPT(meta.modelConfig, new Rng(meta.seed).fork('gpt-init'));
  const weights = ck.groups.weights;
  if (!weights) throw new PaperlabError('checkpoint', `${dir} holds no weights group`, 'pass the --out directory of `paperlab train gpt`');
  assignGroup(weights, model.variables, `checkpoint ${dir}`);
  restoreBuffers(ck.groups.buffers, model, dir);
  return { model, tokenizer, meta, step: ck.step };
}

/** Puts saved buffers (Performer features) back; a checkpoint without them keeps the drawn ones. */
function restoreBuffers(group: ArrayGroup | undefined, model: GPT, dir: string): void {
  for (const [name, t] of Object.entries(model.buffers)) {
    const a = group?.[name];
    if (!a) continue;
    check(a.shape.length === t.shape.length && a.shape.every((d, i) => d === t.shape[i]), 'checkpoint', `${dir}: buffer '${name}' has shape [${a.shape.join(', ')}], the model [${t.shape.join(', ')}]`, 'load a checkpoint written by the same model configuration');
    const fresh = tf.keep(tf.tensor(a.data, a.shape, a.dtype));
    t.dispose();
    model.buffers[name] = fresh;
  }
}

function jsonOf<T>(x: T): JsonValue {
  return JSON.parse(JSON.stringify(x)) as JsonValue;
}

/**
 * Trains (or resumes) a GPT. With `out`, checkpoints are written every `checkpointEvery` steps and
 * at the end; `resume` continues exactly where the checkpoint stopped (same batches, same updates).
 */
export async function trainGPT(opts: GPTTrainOptions = {}): Promise<GPTTrainResult> {
  const log = opts.log ?? ((m: string) => (opts.quiet ? undefined : process.stderr.write(`${m}\n`)));
  if (opts.steps !== undefined) checkInt(opts.steps, 'steps', { min: 1 });
  const out = opts.out ? path.resolve(opts.out) : undefined;
  if (opts.resume && !out) throw new PaperlabError('resume', 'needs a checkpoint directory', 'pass --out DIR of the run to resume');
  const resuming = Boolean(opts.resume && out && hasCheckpoint(out));
  if (opts.resume && !resuming) throw new PaperlabError('resume', `${out} holds no checkpoint`, 'start a new run without --resume, or pass the --out DIR of an earlier run');
  if (!opts.resume && out && hasCheckpoint(out)) {
    throw new PaperlabError('out', `${out} already holds a checkpoint`, 'pass --resume to continue it, or choose another --out directory');
  }
  if (out) checkCheckpointTarget(out, 'out'); // a read-only or foreign --out fails now, not at the first checkpoint

  const ck = resuming ? await loadCheckpoint(out!) : undefined;
  const prev = ck ? readMeta(ck.meta, out!) : undefined;
  if (prev && opts.preset && opts.preset !== prev.preset) {
    throw new PaperlabError('preset', `'${opts.preset}' differs from the checkpoint's '${prev.preset}'`, `resume with --preset ${prev.preset} (or omit it)`);
  }
  const preset = prev?.preset ?? opts.preset ?? 'tiny';
  const seed = prev?.seed ?? opts.seed ?? 0;
  checkInt(seed, 'seed');
  if (prev && opts.seed !== undefined && opts.seed !== prev.seed) {
    throw new PaperlabError('seed', `${opts.seed} differs from the checkpoint's ${prev.seed}`, `resume with --seed ${prev.seed} (or omit it)`);
  }
  const config = prev ? { ...prev.config, steps: opts.steps ?? prev.config.steps } : resolveTrainConfig(preset, opts.overrides, opts.steps);
  if (ck && config.steps < ck.step) {
    throw new PaperlabError('steps', `${config.steps} is fewer than the ${ck.step} steps the checkpoint has done`, `pass --steps ${ck.step + 1} or more`);
  }
  if (prev && Object.values({ ...opts.overrides, ...opts.overrides?.model }).some((v) => v !== undefined && typeof v !== 'object')) {
    log('note: on resume the checkpoint’s configuration is used; the overrides passed now are ignored');
  }
  if (prev && config.steps !== prev.config.steps) log(`note: total steps changed from ${prev.config.steps} to ${config.steps}; the cosine schedule stretches to the new total`);

  const data = opts.data ?? { ...loadBrown({ seed }), name: `brown (seed ${seed})` };
  const dataName = opts.data?.name ?? (opts.data ? 'custom text' : `brown (seed ${seed})`);
  const tokenizer = prev ? tokenizerFromJSON(prev.tokenizer) : trainTokenizer(config.tokenizer, data.trainText, { vocabSize: config.vocabSize, extraText: data.valText });
  const train = TokenText.encode(tokenizer, data.trainText);
  const val = TokenText.encode(tokenizer, data.valText);
  if (prev && (train.tokens.length !== prev.data.trainTokens || val.tokens.length !== prev.data.valTokens)) {
    throw new PaperlabError('data', 'differs from the text the checkpoint was trained on', 'resume with the same corpus and seed');
  }
  const modelConfig = resolveGPTConfig({ ...config.model, vocabSize: tokenizer.vocabSize });
  const T = modelConfig.blockSize;
  const repeated = prev ? prev.repeated : (opts.repeatedFrom?.(train.tokens.length, T) ?? opts.repeated ?? null);
  if (repeated) {
    checkNumber(repeated.rowProbability, 'repeated.rowProbability', { min: 0, max: 1 });
    check(repeated.offsets.length > 0, 'repeated.offsets', 'is empty', 'pass at least one training offset or leave out `repeated`');
  }
  if (repeated) for (const o of repeated.offsets) check(Number.isInteger(o) && o >= 0 && o + T + 1 <= train.tokens.length, 'repeated.offsets', `offset ${o} leaves no room for a ${T + 1}-token window`, 'pick offsets inside the training tokens');

  const rng = new Rng(seed).fork('gpt-train');
  const model = new GPT(modelConfig, new Rng(seed).fork('gpt-init'));
  model.dropoutRng = rng;
  const optimizer = new AdamW({ lr: config.lr, beta1: config.beta1, beta2: config.beta2, eps: 1e-8, weightDecay: config.weightDecay });
  let losses: number[] = [];
  let evals: GPTEval[] = [];
  let tokensSeenBefore = 0;
  const startStep = ck ? ck.step : 0;
  if (ck && prev) {
    assignGroup(ck.groups.weights ?? {}, model.variables, `checkpoint ${out}`);
    restoreBuffers(ck.groups.buffers, model, out!);
    if (ck.groups.optimizer) optimizer.setState(ck.groups.optimizer);
    if (!ck.rng) throw new PaperlabError('checkpoint', `${out} has no RNG state`, 'resume from a checkpoint written by `paperlab train gpt`');
    rng.setState(ck.rng);
    losses = prev.losses.slice();
    evals = prev.evals.slice();
    tokensSeenBefore = prev.tokensSeen;
    log(`resuming ${out} at step ${ck.step} of ${config.steps}`);
  }
  const B = config.batchSize;
  const K = config.accumulate ?? 1;
  const unigramBpc = bitsPerChar(unigramCrossEntropy(train.tokens, val.tokens, tokenizer.vocabSize), val.tokensPerChar);
  log(
    `gpt ${preset}: ${model.paramCount.toLocaleString('en')} parameters, ${tokenizer.kind} tokenizer (${tokenizer.vocabSize} tokens), ` +
      `${train.tokens.length.toLocaleString('en')} training / ${val.tokens.length.toLocaleString('en')} validation tokens; unigram baseline ${unigramBpc.toFixed(3)} bits/char`,
  );

  const save = async (done: number): Promise<void> => {
    if (!out) return;
    const meta: GPTCheckpointMeta = {
      format: 'paperlab-gpt',
      version: 1,
      preset,
      seed,
      config,
      modelConfig,
      tokenizer: jsonOf(tokenizer.toJSON()),
      data: { name: dataName, trainChars: train.chars, valChars: val.chars, trainTokens: train.tokens.length, valTokens: val.tokens.length },
      repeated,
      losses,
      evals,
      tokensSeen: tokensSeenBefore + (done - startStep) * K * B * T,
    };
    await saveCheckpoint(out, {
      step: done,
      rng: rng.getState(),
      meta: jsonOf(meta),
      groups: { weights: await tensorsToGroup(model.variables), buffers: await tensorsToGroup(model.buffers), optimizer: await optimizer.getState() },
    });
  };

  const evaluate = (done: number): Record<string, number> => {
    const valLoss = estimateLoss(model, val, config.evalIters, B, seed, 'val');
    const trainLoss = estimateLoss(model, train, config.evalIters, B, seed, 'train');
    const e: GPTEval = { step: done, trainLoss, valLoss, valBpc: bitsPerChar(valLoss, val.tokensPerChar) };
    evals.push(e);
    return { train_loss: trainLoss, val_loss: valLoss, val_bpc: e.valBpc };
  };

  const endStep = opts.stopAt ?? config.steps;
  checkInt(endStep, 'stopAt', { min: startStep, max: config.steps });
  model.training = true;
  let history;
  try {
    history = await runTraining({
      steps: endStep,
      // A run stopped early (stopAt) evaluates where the uninterrupted run does, not at the stop.
      totalSteps: config.steps,
      startStep,
      schedule: warmupCosine({ lr: config.lr, warmupSteps: config.warmupSteps, totalSteps: config.steps, minRatio: config.minLrRatio }),
      accumulate: K,
      tokensPerStep: K * B * T,
      logFile: opts.logFile,
      step: (s, lr) => {
        // K micro-batches drawn in a row take the same windows as one batch of K·B rows.
        const micro = Array.from({ length: K }, () => {
          const { x, y } = sampleBatch(train, rng, B, T, repeated);
          return { x: tf.tensor2d(x, [B, T], 'int32'), y: tf.tensor2d(y, [B, T], 'int32') };
        });
        try {
          const r = trainStep((m) => model.loss(micro[m]!.x, micro[m]!.y), model.variables, optimizer, { lr, clipNorm: config.clipNorm, step: s, accumulate: K });
          losses.push(r.loss);
          return r;
        } finally {
          tf.dispose(micro.flatMap((b) => [b.x, b.y]));
        }
      },
      evalEvery: config.evalEvery,
      evaluate,
      checkpointEvery: out ? config.checkpointEvery : undefined,
      checkpoint: out ? save : undefined,
      label: `gpt-${preset}`,
      quiet: opts.quiet,
      extra: (done, secs) => ({ 'tok/s': ((done - startStep) * K * B * T) / Math.max(secs, 1e-9) }),
    });
  } finally {
    model.training = false;
    optimizer.dispose();
  }
  const last = evals[evals.length - 1];
  const valLoss = last?.valLoss ?? estimateLoss(model, val, config.evalIters, B, seed, 'val');
  const ran = endStep - startStep;
  return {
    model,
    tokenizer,
    config,
    preset,
    seed,
    train,
    val,
    trainText: data.trainText,
    valText: data.valText,
    step: endStep,
    losses,
    evals,
    valLoss,
    valBpc: bitsPerChar(valLoss, val.tokensPerChar),
    unigramBpc,
    tokensPerSec: ran > 0 ? (ran * K * B * T) / Math.max(history.seconds, 1e-9) : 0,
    seconds: history.seconds,
    tokensSeen: tokensSeenBefore + ran * K * B * T,
  };
}

/** One training batch; rows come from `repeated` windows with the given probability. */
export function sampleBatch(text: TokenText, rng: Rng, B: number, T: number, repeated: { offsets: number[]; rowProbability: number } | null): { x: Int32Array; y: Int32Array } {
  if (!repeated || repeated.rowProbability <= 0) return text.batch(rng, B, T);
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  const n = text.tokens.length;
  for (let b = 0; b < B; b++) {
    const o = rng.next() < repeated.rowProbability ? repeated.offsets[rng.int(repeated.offsets.length)]! : rng.int(n - T);
    x.set(text.tokens.subarray(o, o + T), b * T);
    y.set(text.tokens.subarray(o + 1, o + T + 1), b * T);
  }
  return { x, y };
}
