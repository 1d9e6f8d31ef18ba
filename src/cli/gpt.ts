/** `paperlab train gpt` and `paperlab sample`: a small GPT on the Brown corpus or your own text, and text from it. */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { initEngine } from '../core/engine.js';
import { Rng } from '../core/rng.js';
import { PaperlabError } from '../core/errors.js';
import { GPT_PRESETS, GPT_PRESET_NAMES, loadGPT, trainGPT, type GPTPresetName } from '../gpt/trainer.js';
import { generate } from '../gpt/sampler.js';
import { decodeTrainingText, splitTrainVal } from '../gpt/text.js';
import { UsageError, intOption, numOption, parse, strOption } from './args.js';
import { backendFrom } from './core-commands.js';
import type { Command } from './command.js';

function optionalInt(v: string | boolean | undefined, name: string, min: number): number | undefined {
  return v === undefined ? undefined : intOption(v, name, 0, min);
}

/** Reads --text: a file, or standard input for '-'. */
async function readTextOption(source: string): Promise<{ bytes: Uint8Array; label: string }> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return { bytes: Buffer.concat(chunks), label: 'standard input' };
  }
  try {
    return { bytes: readFileSync(source), label: source };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PaperlabError('--text', `cannot read ${source} (${code ?? (e as Error).message})`, code === 'EISDIR' ? 'pass a text file, not a directory' : 'check the path, or pass - to read standard input');
  }
}

export const trainGpt: Command = {
  name: 'train',
  summary: 'train a model: `train gpt` (a small GPT on the Brown corpus or --text FILE, with checkpoints)',
  usage:
    'Usage: paperlab train gpt [--text FILE|-] [--preset tiny|small] [--steps N] [--out DIR] [--seed N] [--resume]\n' +
    '                          [--n-layer N] [--n-head N] [--n-embd N] [--block-size N] [--batch-size N] [--accumulate K]\n' +
    '                          [--lr X] [--eval-every N] [--tokenizer char|bpe] [--vocab-size N] [--log FILE] [--backend B]\n' +
    '                          [--checkpoint-every N]\n' +
    '  --text trains on your own UTF-8 text (- reads standard input): the first 90 % trains, the last 10 % validates\n' +
    '  tiny: 4 layers × 128, context 64, characters; small: 6 layers × 192, context 128, byte-level BPE (1 024)\n' +
    '  --n-layer/--n-head/--n-embd/--block-size override the preset\'s model; --accumulate K: K micro-batches per step\n' +
    '  --log FILE appends one JSON line per step (step, loss, lr, tokens/s)\n' +
    '  --out defaults to checkpoints/gpt-<preset> (checkpoints/gpt-<file name> with --text); --resume continues it exactly',
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        preset: { type: 'string' },
        steps: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        resume: { type: 'boolean' },
        'batch-size': { type: 'string' },
        lr: { type: 'string' },
        'eval-every': { type: 'string' },
        tokenizer: { type: 'string' },
        'vocab-size': { type: 'string' },
        backend: { type: 'string' },
        text: { type: 'string' },
        'n-layer': { type: 'string' },
        'n-head': { type: 'string' },
        'n-embd': { type: 'string' },
        'block-size': { type: 'string' },
        accumulate: { type: 'string' },
        log: { type: 'string' },
        'checkpoint-every': { type: 'string' },
      },
      this.usage,
    );
    if (positionals[0] !== 'gpt' || positionals.length !== 1) {
      throw new UsageError(positionals.length ? `unknown model '${positionals.join(' ')}'; only 'gpt' can be trained here` : 'name the model to train: gpt', this.usage);
    }
    const preset = values.preset === undefined ? undefined : strOption(values.preset, 'tiny');
    if (preset !== undefined && !(GPT_PRESET_NAMES as readonly string[]).includes(preset)) {
      throw new UsageError(`--preset must be one of ${GPT_PRESET_NAMES.join(', ')}, got '${preset}'`, this.usage);
    }
    const tokenizer = values.tokenizer === undefined ? undefined : strOption(values.tokenizer, 'char');
    if (tokenizer !== undefined && tokenizer !== 'char' && tokenizer !== 'bpe') throw new UsageError(`--tokenizer must be char or bpe, got '${tokenizer}'`, this.usage);
    const seed = optionalInt(values.seed, 'seed', Number.MIN_SAFE_INTEGER);
    const textSource = values.text === undefined ? undefined : strOption(values.text, '');
    if (textSource === '') throw new UsageError('--text needs a file name, or - for standard input', this.usage);
    const textStem = textSource === undefined ? undefined : textSource === '-' ? 'stdin' : path.basename(textSource).replace(/\.[^.]*$/, '') || 'text';
    const out = strOption(values.out, path.join('checkpoints', `gpt-${textStem ?? preset ?? 'tiny'}`));
    const lr = values.lr === undefined ? undefined : numOption(values.lr, 'lr', 0);
    const model = {
      nLayer: optionalInt(values['n-layer'], 'n-layer', 1),
      nHead: optionalInt(values['n-head'], 'n-head', 1),
      nEmbd: optionalInt(values['n-embd'], 'n-embd', 1),
      blockSize: optionalInt(values['block-size'], 'block-size', 1),
    };
    if (model.nEmbd !== undefined || model.nHead !== undefined) {
      const base = GPT_PRESETS[(preset ?? 'tiny') as GPTPresetName].model;
      const e = model.nEmbd ?? base.nEmbd;
      const h = model.nHead ?? base.nHead;
      if (e % h !== 0) throw new UsageError(`--n-embd ${e} is not divisible by --n-head ${h}; choose --n-embd as a multiple of --n-head`, this.usage);
    }
    let data: { trainText: string; valText: string; name: string } | undefined;
    if (textSource !== undefined) {
      const { bytes, label } = await readTextOption(textSource);
      const text = decodeTrainingText(bytes, '--text', label);
      const blockSize = model.blockSize ?? GPT_PRESETS[(preset ?? 'tiny') as GPTPresetName].model.blockSize!;
      data = { ...splitTrainVal(text, { minChars: blockSize + 1, name: '--text' }), name: `text ${textSource === '-' ? '(stdin)' : path.basename(textSource)}` };
    }
    const tokenizerKind = tokenizer as 'char' | 'bpe' | undefined;
    const vocabSize = optionalInt(values['vocab-size'], 'vocab-size', 257);
    await initEngine({ backend: backendFrom(values.backend), seed: seed ?? 0, verbose: true });
    const run = await trainGPT({
      data,
      logFile: values.log === undefined ? undefined : strOption(values.log, ''),
      preset: preset as GPTPresetName | undefined,
      steps: optionalInt(values.steps, 'steps', 1),
      seed,
      out,
      resume: Boolean(values.resume),
      overrides: {
        batchSize: optionalInt(values['batch-size'], 'batch-size', 1),
        accumulate: optionalInt(values.accumulate, 'accumulate', 1),
        lr,
        evalEvery: optionalInt(values['eval-every'], 'eval-every', 1),
        tokenizer: tokenizerKind,
        // A char preset asked for BPE gets the small preset's 1 024 tokens unless told otherwise.
        vocabSize: vocabSize ?? (tokenizerKind === 'bpe' && GPT_PRESETS[(preset ?? 'tiny') as GPTPresetName].vocabSize < 257 ? 1024 : undefined),
        model,
        checkpointEvery: optionalInt(values['checkpoint-every'], 'checkpoint-every', 1),
      },
    });
    const last = run.evals[run.evals.length - 1];
    process.stdout.write(
      [
        `gpt-${run.preset}: ${run.step} steps, ${run.tokensSeen.toLocaleString('en')} tokens, ${run.model.paramCount.toLocaleString('en')} parameters`,
        `validation loss ${run.valLoss.toFixed(4)} nats/token = ${run.valBpc.toFixed(3)} bits/char (unigram baseline ${run.unigramBpc.toFixed(3)} bits/char)` +
          (last ? `; training loss ${last.trainLoss.toFixed(4)}` : ''),
        `${run.tokensPerSec.toFixed(0)} tokens/s over ${run.seconds.toFixed(0)} s (evaluation and checkpoints included)`,
        `checkpoint: ${path.resolve(out)}  →  paperlab sample --checkpoint ${out} --prompt "The "`,
      ].join('\n') + '\n',
    );
    run.model.dispose();
  },
};

function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (!text) resolve();
    else process.stdout.write(text, () => resolve());
  });
}

export const sample: Command = {
  name: 'sample',
  summary: 'stream text from a trained GPT checkpoint',
  usage:
    'Usage: paperlab sample --checkpoint DIR [--prompt "..."] [--temperature 0.8] [--top-k 40] [--top-p 1] [--max-tokens 200] [--seed N] [--no-cache] [--backend B]\n' +
    '  temperature 0 decodes greedily; --top-p P keeps the most likely tokens up to probability P (after --top-k);\n' +
    '  the prompt defaults to a newline',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        checkpoint: { type: 'string' },
        prompt: { type: 'string' },
        temperature: { type: 'string' },
        'top-k': { type: 'string' },
        'top-p': { type: 'string' },
        'max-tokens': { type: 'string' },
        seed: { type: 'string' },
        'no-cache': { type: 'boolean' },
        backend: { type: 'string' },
      },
      this.usage,
      false,
    );
    if (typeof values.checkpoint !== 'string') throw new UsageError('--checkpoint DIR is required (the --out of `paperlab train gpt`)', this.usage);
    const temperature = numOption(values.temperature, 'temperature', 0.8);
    if (temperature < 0) throw new UsageError(`--temperature must be ≥ 0, got ${temperature}`, this.usage);
    const topK = optionalInt(values['top-k'], 'top-k', 1) ?? 40;
    const topP = numOption(values['top-p'], 'top-p', 1);
    if (!(topP > 0 && topP <= 1)) throw new UsageError(`--top-p must be in (0, 1], got ${topP}`, this.usage);
    const maxTokens = intOption(values['max-tokens'], 'max-tokens', 200, 0);
    const seed = intOption(values.seed, 'seed', 0);
    const prompt = strOption(values.prompt, '\n');
    if (prompt.length === 0) throw new UsageError('--prompt must not be empty (omit it to start from a newline)', this.usage);
    await initEngine({ backend: backendFrom(values.backend), seed });
    const { model, tokenizer } = await loadGPT(values.checkpoint);
    try {
      let ids: Int32Array;
      try {
        ids = tokenizer.encode(prompt);
      } catch (e) {
        if (e instanceof PaperlabError) throw new PaperlabError('--prompt', e.problem, e.fix);
        throw e;
      }
      const decoder = tokenizer.decoder();
      await writeOut(prompt);
      await generate(model, [ids], {
        maxTokens,
        temperature,
        topK: Math.min(topK, model.config.vocabSize),
        topP,
        rng: new Rng(seed).fork('gpt-sample'),
        cache: !values['no-cache'],
        onToken: (t) => writeOut(decoder.push(t[0]!)),
      });
      await writeOut(decoder.flush() + '\n');
    } finally {
      model.dispose();
    }
  },
};

/** The commands this file adds, in help order. */
export const gptCommands: Command[] = [trainGpt, sample];
