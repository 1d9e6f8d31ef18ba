/**
 * `paperlab bench generate`: generation speed of a small GPT (2 layers × 64, 4 heads, vocab 96) at
 * context 1024 for each attention kind: the prompt fills the context up to `--context − --tokens`,
 * then `--tokens` tokens are sampled greedily. Cached decoding (KV cache for full, recurrent state
 * for linear and Performer) against recomputing the context every step (`cache: false`, the only
 * way for LSH). Reports prefill ms (the first step) and decode tokens/s (the others).
 */
import { Rng } from '../src/core/rng.js';
import { GPT, type GPTAttentionKind } from '../src/gpt/model.js';
import { generate } from '../src/gpt/sampler.js';
import { UsageError, intOption } from '../src/cli/args.js';
import type { Benchmark } from './types.js';

export interface GenerateRow {
  kind: string;
  cached: boolean;
  context: number;
  tokens: number;
  /** First step: the prompt (cached) or one full window (recomputed). */
  firstStepMs: number;
  /** Tokens per second over the steps after the first. */
  tokensPerSecond: number;
}

export interface GenerateBenchResult {
  shape: { nLayer: number; nEmbd: number; nHead: number; vocabSize: number };
  rows: GenerateRow[];
}

const KINDS: GPTAttentionKind[] = ['full', 'linear', 'performer', 'lsh'];

export const generateBench: Benchmark<GenerateBenchResult> = {
  name: 'generate',
  summary: 'generation tokens/s per attention kind at context 1024, cached decoding vs recomputation; --kinds --context --tokens',
  options: { kinds: { type: 'string' }, context: { type: 'string' }, tokens: { type: 'string' } },
  async run(values) {
    const context = intOption(values.context, 'context', 1024, 2);
    const tokens = intOption(values.tokens, 'tokens', 16, 2);
    if (tokens >= context) throw new UsageError(`--tokens ${tokens} must be below --context ${context}`);
    const kinds = (typeof values.kinds === 'string' ? values.kinds.split(',').map((s) => s.trim()) : KINDS) as GPTAttentionKind[];
    for (const k of kinds) if (!KINDS.includes(k)) throw new UsageError(`--kinds: unknown kind '${k}' (use ${KINDS.join(', ')})`);
    const shape = { nLayer: 2, nEmbd: 64, nHead: 4, vocabSize: 96 };
    const rows: GenerateRow[] = [];
    for (const kind of kinds) {
      const model = new GPT({ ...shape, blockSize: context, attention: kind, attentionOptions: { bucketSize: 64, nHashes: 2 } }, new Rng(0));
      const rng = new Rng(1);
      const prompt = Array.from({ length: context - tokens }, () => rng.int(shape.vocabSize));
      for (const cached of model.supportsKVCache ? [true, false] : [false]) {
        const stamps: number[] = [];
        const t0 = performance.now();
        await generate(model, [prompt], { maxTokens: tokens, temperature: 0, cache: cached, onToken: () => void stamps.push(performance.now()) });
        const rest = (stamps[stamps.length - 1]! - stamps[0]!) / 1000;
        rows.push({ kind, cached, context, tokens, firstStepMs: Math.round(stamps[0]! - t0), tokensPerSecond: Math.round(((tokens - 1) / rest) * 10) / 10 });
        if (!values.json) process.stderr.write(`  ${kind} ${cached ? 'cached' : 'recomputed'}: ${rows[rows.length - 1]!.tokensPerSecond} tokens/s\n`);
      }
      model.dispose();
    }
    return { shape, rows };
  },
  format(r) {
    const lines = [`generate: GPT ${r.shape.nLayer} layers × ${r.shape.nEmbd}, ${r.shape.nHead} heads, vocab ${r.shape.vocabSize}; greedy`, `${'kind'.padEnd(10)} ${'decoding'.padEnd(11)} ${'context'.padStart(7)} ${'first step ms'.padStart(13)} ${'tokens/s'.padStart(9)}`];
    for (const x of r.rows) lines.push(`${x.kind.padEnd(10)} ${(x.cached ? 'cached' : 'recomputed').padEnd(11)} ${String(x.context).padStart(7)} ${String(x.firstStepMs).padStart(13)} ${x.tokensPerSecond.toFixed(1).padStart(9)}`);
    return lines.join('\n');
  },
};
