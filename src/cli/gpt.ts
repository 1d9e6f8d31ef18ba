/** `paperlab train gpt` and `paperlab sample`: a small GPT on the Brown corpus, and text from it. */
import path from 'node:path';
import { initEngine } from '../core/engine.js';
import { Rng } from '../core/rng.js';
import { PaperlabError } from '../core/errors.js';
import { GPT_PRESET_NAMES, loadGPT, trainGPT, type GPTPresetName } from '../gpt/trainer.js';
import { generate } from '../gpt/sampler.js';
import { UsageError, intOption, numOption, parse, strOption } from './args.js';
import { backendFrom } from './core-commands.js';
import type { Command } from './command.js';

function optionalInt(v: string | boolean | undefined, name: string, min: number): number | undefined {
  return v === undefined ? undefined : intOption(v, name, 0, min);
}

export const trainGpt: Command = {
  name: 'train',
  summary: 'train a model: `train gpt` (a small GPT on the Brown corpus, with checkpoints)',
  usage:
    'Usage: paperlab train gpt [--preset tiny|small] [--steps N] [--out DIR] [--seed N] [--resume]\n' +
    '                          [--batch-size N] [--lr X] [--eval-every N] [--tokenizer char|bpe] [--vocab-size N] [--backend B]\n' +
    '                          [--checkpoint-every N]\n' +
    '  tiny: 4 layers × 128, context 64, characters; small: 6 layers × 192, context 128, byte-level BPE (1 024)\n' +
    '  --out defaults to checkpoints/gpt-<preset>; --resume continues the checkpoint there exactly',
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
    const out = strOption(values.out, path.join('checkpoints', `gpt-${preset ?? 'tiny'}`));
    const lr = values.lr === undefined ? undefined : numOption(values.lr, 'lr', 0);
    await initEngine({ backend: backendFrom(values.backend), seed: seed ?? 0, verbose: true });
    const run = await trainGPT({
      preset: preset as GPTPresetName | undefined,
      steps: optionalInt(values.steps, 'steps', 1),
      seed,
      out,
      resume: Boolean(values.resume),
      overrides: {
        batchSize: optionalInt(values['batch-size'], 'batch-size', 1),
        lr,
        evalEvery: optionalInt(values['eval-every'], 'eval-every', 1),
        tokenizer: tokenizer as 'char' | 'bpe' | undefined,
        vocabSize: optionalInt(values['vocab-size'], 'vocab-size', 257),
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
    'Usage: paperlab sample --checkpoint DIR [--prompt "..."] [--temperature 0.8] [--top-k 40] [--max-tokens 200] [--seed N] [--no-cache] [--backend B]\n' +
    '  temperature 0 decodes greedily; the prompt defaults to a newline',
  async run(argv) {
    const { values } = parse(
      argv,
      {
        checkpoint: { type: 'string' },
        prompt: { type: 'string' },
        temperature: { type: 'string' },
        'top-k': { type: 'string' },
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
