/**
 * Autoregressive sampling from a GPT, with a KV cache so each new token costs one forward step over
 * one position. The context rule is nanoGPT's: the model sees the last `blockSize` tokens. While
 * the sequence fits, keys and values are cached; once it is longer, each step re-encodes the last
 * `blockSize` tokens (there is no cache that gives shifted positions for free), so the cached and
 * uncached paths produce the same logits and, with the same seed, the same tokens.
 */
import { tf } from '../core/tf.js';
import { PaperlabError, check, checkInt, checkNumber } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { GPT, KVCache } from './model.js';

export interface SampleOptions {
  /** Tokens to generate per row. Default 100. */
  maxTokens?: number;
  /** Softmax temperature; 0 = greedy (argmax, ties to the lowest id). Default 1. */
  temperature?: number;
  /** Sample only among the k most likely tokens (ties with the k-th kept). Default: all. */
  topK?: number;
  /**
   * Nucleus sampling (Holtzman et al. 2019): after temperature and top-k, keep the smallest set of
   * most likely tokens whose probability sums to at least p (equal probabilities: lower id first).
   * In (0, 1]; default 1 (off).
   */
  topP?: number;
  /** Randomness for sampling (required unless temperature is 0). */
  rng?: Rng;
  /** Use the KV cache (default true; full attention only); false recomputes the whole context every step. */
  cache?: boolean;
  /** Called after every step with the new token of each row; may return a promise (streaming). */
  onToken?: (tokens: number[], step: number) => void | Promise<void>;
}

/** Picks one token from a row of logits (temperature, then top-k, then top-p). */
export function pickToken(logits: ArrayLike<number>, temperature: number, topK: number | undefined, rng: Rng | undefined, topP?: number): number {
  const V = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  if (!rng) throw new PaperlabError('rng', 'is required when temperature > 0', 'pass an Rng (e.g. new Rng(seed)) or use temperature 0 for greedy decoding');
  let threshold = -Infinity;
  if (topK !== undefined && topK < V) {
    const sorted = Float64Array.from(logits).sort();
    threshold = sorted[V - topK]!;
  }
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i]! >= threshold && logits[i]! > max) max = logits[i]!;
  const p = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) {
    if (logits[i]! >= threshold) {
      p[i] = Math.exp((logits[i]! - max) / temperature);
      sum += p[i]!;
    }
  }
  if (topP !== undefined) checkNumber(topP, 'topP', { min: 0, exclusiveMin: true, max: 1 });
  if (topP !== undefined && topP < 1) {
    const order = Array.from({ length: V }, (_, i) => i).filter((i) => p[i]! > 0);
    order.sort((a, b) => p[b]! - p[a]! || a - b);
    let cum = 0;
    let keep = 0;
    while (keep < order.length && (keep === 0 || cum < topP * sum)) cum += p[order[keep++]!]!;
    for (let j = keep; j < order.length; j++) p[order[j]!] = 0;
    sum = cum;
  }
  let u = rng.next() * sum;
  let last = 0;
  for (let i = 0; i < V; i++) {
    if (p[i]! === 0) continue;
    last = i;
    u -= p[i]!;
    if (u < 0) return i;
  }
  return last;
}

function validate(model: GPT, prompts: ReadonlyArray<ArrayLike<number>>, o: SampleOptions): void {
  check(prompts.length >= 1, 'prompts', 'is empty', 'pass at least one prompt (an array of token ids)');
  const len = prompts[0]!.length;
  prompts.forEach((p, i) => {
    check(p.length >= 1, `prompts[${i}]`, 'has no tokens', 'start from at least one token (e.g. encode a newline)');
    check(p.length === len, `prompts[${i}]`, `has ${p.length} tokens but prompts[0] has ${len}`, 'give every row of a batch the same prompt length');
    for (let j = 0; j < p.length; j++) {
      const t = p[j]!;
      check(Number.isInteger(t) && t >= 0 && t < model.config.vocabSize, `prompts[${i}]`, `token ${t} at ${j} is outside [0, ${model.config.vocabSize})`, 'encode the prompt with the model’s tokenizer');
    }
  });
  checkInt(o.maxTokens ?? 100, 'maxTokens', { min: 0 });
  checkNumber(o.temperature ?? 1, 'temperature', { min: 0 });
  if (o.topK !== undefined) checkInt(o.topK, 'topK', { min: 1 });
  if (o.topP !== undefined) checkNumber(o.topP, 'topP', { min: 0, exclusiveMin: true, max: 1 });
  if ((o.temperature ?? 1) > 0 && !o.rng) {
    throw new PaperlabError('rng', 'is required when temperature > 0', 'pass an Rng (e.g. new Rng(seed)) or use temperature 0 for greedy decoding');
  }
}

/** Last-position logits [B, V] of the window `seqs[b][start..]`, recomputed from scratch. */
function windowLogits(model: GPT, seqs: number[][], start: number): Float32Array {
  const B = seqs.length;
  const T = seqs[0]!.length - start;
  const ids = new Int32Array(B * T);
  seqs.forEach((s, b) => ids.set(s.slice(start), b * T));
  const out = tf.tidy(() => {
    const logits = model.forward(tf.tensor2d(ids, [B, T], 'int32'));
    const V = model.config.vocabSize;
    return tf.reshape(tf.slice(logits, [0, T - 1, 0], [B, 1, V]), [B, V]);
  });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

function cachedLogits(model: GPT, cache: KVCache, ids: Int32Array, B: number, T: number): Float32Array {
  const V = model.config.vocabSize;
  const out = tf.tidy(() => {
    const logits = model.forwardCached(tf.tensor2d(ids, [B, T], 'int32'), cache);
    return tf.reshape(tf.slice(logits, [0, T - 1, 0], [B, 1, V]), [B, V]);
  });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

/**
 * Continues each prompt by `maxTokens` tokens. Returns the new tokens of every row (prompts
 * excluded). All rows share one batch; greedy when temperature is 0.
 */
export async function generate(model: GPT, prompts: ReadonlyArray<ArrayLike<number>>, opts: SampleOptions = {}): Promise<number[][]> {
  validate(model, prompts, opts);
  const maxTokens = opts.maxTokens ?? 100;
  const temperature = opts.temperature ?? 1;
  const useCache = (opts.cache ?? true) && model.supportsKVCache;
  const block = model.config.blockSize;
  const B = prompts.length;
  const V = model.config.vocabSize;
  const seqs = prompts.map((p) => Array.from(p));
  const out: number[][] = prompts.map(() => []);
  const cache = useCache ? model.createCache(B) : undefined;
  const wasTraining = model.training;
  model.training = false;
  try {
    for (let step = 0; step < maxTokens; step++) {
      const len = seqs[0]!.length;
      let logits: Float32Array;
      if (!cache) logits = windowLogits(model, seqs, Math.max(0, len - block));
      else if (len <= block) {
        // Feed what the cache has not seen yet: the whole prompt first, then one token a step.
        const from = cache.length;
        const T = len - from;
        const ids = new Int32Array(B * T);
        seqs.forEach((s, b) => ids.set(s.slice(from), b * T));
        logits = cachedLogits(model, cache, ids, B, T);
      } else {
        // Past the block: positions shift every step, so re-encode the last `block` tokens.
        cache.dispose();
        const ids = new Int32Array(B * block);
        seqs.forEach((s, b) => ids.set(s.slice(len - block), b * block));
        logits = cachedLogits(model, cache, ids, B, block);
      }
      const next: number[] = [];
      for (let b = 0; b < B; b++) next.push(pickToken(logits.subarray(b * V, (b + 1) * V), temperature, opts.topK, opts.rng, opts.topP));
      next.forEach((t, b) => {
        seqs[b]!.push(t);
        out[b]!.push(t);
      });
      if (opts.onToken) await opts.onToken(next, step);
    }
  } finally {
    cache?.dispose();
    model.training = wasTraining;
  }
  return out;
}

/** Greedy continuations of `maxTokens` tokens for many prompts, `batchSize` rows at a time. */
export async function greedyContinuations(model: GPT, prompts: ReadonlyArray<ArrayLike<number>>, maxTokens: number, batchSize = 32): Promise<number[][]> {
  checkInt(batchSize, 'batchSize', { min: 1 });
  const out: number[][] = [];
  for (let i = 0; i < prompts.length; i += batchSize) {
    out.push(...(await generate(model, prompts.slice(i, i + batchSize), { maxTokens, temperature: 0 })));
  }
  return out;
}
