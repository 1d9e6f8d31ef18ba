/**
 * Memorization probes for a language model, after the methods the notes cite:
 *
 * - Extraction (Carlini et al. 2022): a passage is extractable with k tokens of context when greedy
 *   decoding from its k-token prefix reproduces its next m tokens exactly. Measured on training text
 *   and, as the control, on held-out text the model never saw.
 * - n-gram novelty (McCoy et al. 2021): the share of a text's word n-grams (n = 1 … 10) that never
 *   occur in the training text, for model samples against held-out human text.
 * - Longest copied span: the longest run of consecutive words of a sample that occurs verbatim in
 *   the training text.
 *
 * Words are runs of letters/digits (with an optional 's-style suffix) or single other characters;
 * whitespace separates. n-grams never cross the boundary between two texts (samples).
 */
import { check, checkInt } from '../core/errors.js';
import type { GPT } from './model.js';
import { greedyContinuations } from './sampler.js';

/** Splits text into word tokens: letter/digit runs (with 's, 't … suffixes) and single symbols. */
export function wordTokens(text: string): string[] {
  return text.match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?|[^\s\p{L}\p{N}]/gu) ?? [];
}

export interface ExtractionStats {
  /** Number of passages probed. */
  count: number;
  /** Share whose continuation matched all m target tokens. */
  rate: number;
  /** Mean number of leading target tokens reproduced before the first mistake. */
  meanMatchedPrefix: number;
  /** Per passage: whether it was extracted. */
  extracted: boolean[];
}

/** Scores greedy continuations against the true next tokens (pure; no model involved). */
export function extractionStats(targets: ReadonlyArray<ArrayLike<number>>, continuations: ReadonlyArray<ArrayLike<number>>): ExtractionStats {
  check(targets.length === continuations.length, 'continuations', `has ${continuations.length} rows but targets has ${targets.length}`, 'pass one continuation per target');
  const extracted: boolean[] = [];
  let matchedSum = 0;
  targets.forEach((t, i) => {
    const c = continuations[i]!;
    check(c.length >= t.length, `continuations[${i}]`, `has ${c.length} tokens but the target has ${t.length}`, 'generate at least as many tokens as the target holds');
    let j = 0;
    while (j < t.length && c[j] === t[j]) j++;
    matchedSum += j;
    extracted.push(j === t.length);
  });
  const n = targets.length;
  return { count: n, rate: n ? extracted.filter(Boolean).length / n : 0, meanMatchedPrefix: n ? matchedSum / n : 0, extracted };
}

/**
 * Evenly spaced passages of `k + m` tokens from a token stream (deterministic), split into the
 * k-token prefixes and m-token targets.
 */
export function passagesFrom(tokens: ArrayLike<number>, count: number, k: number, m: number, offset = 0): { prefixes: number[][]; targets: number[][]; starts: number[] } {
  checkInt(count, 'count', { min: 1 });
  checkInt(k, 'k', { min: 1 });
  checkInt(m, 'm', { min: 1 });
  const span = k + m;
  const room = tokens.length - span - offset;
  check(room >= 0, 'tokens', `has ${tokens.length} tokens, fewer than the ${span + offset} one passage needs`, 'use a longer text or a shorter prefix/continuation');
  const prefixes: number[][] = [];
  const targets: number[][] = [];
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = offset + Math.floor((room * (i + 0.5)) / count);
    const p = Array.from({ length: span }, (_, j) => tokens[s + j]!);
    prefixes.push(p.slice(0, k));
    targets.push(p.slice(k));
    starts.push(s);
  }
  return { prefixes, targets, starts };
}

/** Extraction rate of a model: greedy decoding of m tokens from each k-token prefix. */
export async function extractionRate(model: GPT, prefixes: ReadonlyArray<ArrayLike<number>>, targets: ReadonlyArray<ArrayLike<number>>, batchSize = 32): Promise<ExtractionStats> {
  check(prefixes.length === targets.length, 'targets', `has ${targets.length} rows but prefixes has ${prefixes.length}`, 'pass one target per prefix');
  const m = targets[0]?.length ?? 0;
  check(targets.every((t) => t.length === m), 'targets', 'rows differ in length', 'give every target the same number of tokens');
  const cont = await greedyContinuations(model, prefixes, m, batchSize);
  return extractionStats(targets, cont);
}

/**
 * The training text as word ids, ready to look up many query texts' n-grams in one pass per n.
 * Exact: 32-bit hashes narrow the search and every hit is verified word by word.
 */
export class NgramIndex {
  private readonly vocab = new Map<string, number>();
  /** Reference text as word ids; −1 separates documents (no n-gram crosses it). */
  readonly ids: Int32Array;

  constructor(reference: string | readonly string[]) {
    const docs = typeof reference === 'string' ? [reference] : reference;
    const all: number[] = [];
    docs.forEach((d, i) => {
      if (i > 0) all.push(-1);
      for (const w of wordTokens(d)) all.push(this.idOf(w, true));
    });
    this.ids = Int32Array.from(all);
  }

  private idOf(w: string, add: boolean): number {
    let id = this.vocab.get(w);
    if (id === undefined) {
      if (!add) return -2; // a word the reference never contains: matches nothing
      id = this.vocab.size;
      this.vocab.set(w, id);
    }
    return id;
  }

  /** Word ids of a query text (words absent from the reference get −2). */
  encode(text: string): Int32Array {
    return Int32Array.from(wordTokens(text), (w) => this.idOf(w, false));
  }

  /**
   * For each query and each n = 1 … nMax, which of its n-grams occur in the reference:
   * found[q][n−1][i] is true when words i … i+n−1 of query q occur there.
   * With nMax = 'all', continues until no n-gram of any query is found.
   */
  lookup(queries: readonly Int32Array[], nMax: number | 'all'): boolean[][][] {
    const limit = nMax === 'all' ? Math.max(0, ...queries.map((q) => q.length)) : nMax;
    if (nMax !== 'all') checkInt(nMax, 'nMax', { min: 1 });
    const ref = this.ids;
    const R = ref.length;
    const found: boolean[][][] = queries.map(() => []);
    // Running hashes of the n-gram starting at each position (n grows by one per round).
    const refHash = new Uint32Array(R);
    const refValid = new Uint8Array(R).fill(1);
    const qHash = queries.map((q) => new Uint32Array(q.length));
    const qValid = queries.map((q) => new Uint8Array(q.length).fill(1));
    for (let n = 1; n <= limit; n++) {
      // Extend the hashes by word n−1 of each n-gram.
      for (let i = 0; i + n - 1 < R; i++) {
        const w = ref[i + n - 1]!;
        if (w < 0) refValid[i] = 0;
        refHash[i] = mix(refHash[i]!, w);
      }
      const want = new Map<number, Array<[number, number]>>();
      queries.forEach((q, qi) => {
        const h = qHash[qi]!;
        const ok = qValid[qi]!;
        const row: boolean[] = [];
        for (let i = 0; i + n - 1 < q.length; i++) {
          const w = q[i + n - 1]!;
          if (w < 0) ok[i] = 0;
          h[i] = mix(h[i]!, w);
          row.push(false);
          if (ok[i]) {
            let list = want.get(h[i]!);
            if (!list) want.set(h[i]!, (list = []));
            list.push([qi, i]);
          }
        }
        found[qi]!.push(row);
      });
      if (want.size === 0) {
        if (nMax === 'all') {
          for (const f of found) f.pop();
          break;
        }
        continue;
      }
      let any = false;
      for (let i = 0; i + n - 1 < R; i++) {
        if (!refValid[i]) continue;
        const list = want.get(refHash[i]!);
        if (!list) continue;
        for (const [qi, qs] of list) {
          const row = found[qi]![n - 1]!;
          if (row[qs]) continue;
          const q = queries[qi]!;
          let same = true;
          for (let j = 0; j < n && same; j++) same = q[qs + j] === ref[i + j];
          if (same) {
            row[qs] = true;
            any = true;
          }
        }
      }
      if (nMax === 'all' && !any) {
        for (const f of found) f.pop();
        break;
      }
    }
    return found;
  }
}

function mix(h: number, w: number): number {
  let x = Math.imul(h ^ (w + 0x9e3779b9), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export interface NoveltyResult {
  /** n = 1 … nMax. */
  n: number[];
  /** Share of the texts' n-gram occurrences absent from the reference, per n. */
  novelty: number[];
  /** Number of n-gram occurrences counted, per n. */
  counts: number[];
}

/** n-gram novelty of `texts` against the reference behind `index` (McCoy et al. 2021). */
export function ngramNovelty(index: NgramIndex, texts: readonly string[], nMax = 10): NoveltyResult {
  checkInt(nMax, 'nMax', { min: 1 });
  const found = index.lookup(texts.map((t) => index.encode(t)), nMax);
  const n: number[] = [];
  const novelty: number[] = [];
  const counts: number[] = [];
  for (let k = 1; k <= nMax; k++) {
    let total = 0;
    let novel = 0;
    for (const f of found) {
      const row = f[k - 1] ?? [];
      total += row.length;
      novel += row.filter((x) => !x).length;
    }
    n.push(k);
    counts.push(total);
    novelty.push(total ? novel / total : Number.NaN);
  }
  return { n, novelty, counts };
}

export interface CopiedSpan {
  /** Length in words of the longest span found verbatim in the reference (0: not even one word). */
  words: number;
  /** That span as words joined by spaces ('' when none). */
  text: string;
}

/** The longest run of consecutive words of each text that occurs verbatim in the reference. */
export function longestCopiedSpans(index: NgramIndex, texts: readonly string[]): CopiedSpan[] {
  const words = texts.map((t) => wordTokens(t));
  const found = index.lookup(texts.map((t) => index.encode(t)), 'all');
  return found.map((f, qi) => {
    for (let n = f.length; n >= 1; n--) {
      const i = f[n - 1]!.indexOf(true);
      if (i >= 0) return { words: n, text: words[qi]!.slice(i, i + n).join(' ') };
    }
    return { words: 0, text: '' };
  });
}

/**
 * The training stream with the token ranges [start, end) removed (overlapping or touching ranges
 * merge; out-of-range parts are an error). What a control model that never saw the probed passages
 * is trained on (Carlini et al. 2022 compare against a model not trained on the probed data).
 */
export function removeSpans(tokens: ArrayLike<number>, spans: ReadonlyArray<readonly [number, number]>): Int32Array {
  const n = tokens.length;
  spans.forEach(([s, e], i) => check(Number.isInteger(s) && Number.isInteger(e) && 0 <= s && s <= e && e <= n, `spans[${i}]`, `[${s}, ${e}) is not a range inside the ${n} tokens`, 'pass integer [start, end) pairs with 0 ≤ start ≤ end ≤ tokens.length'));
  const sorted = spans.map(([s, e]) => [s, e] as [number, number]).sort((a, b) => a[0] - b[0]);
  const keep = new Uint8Array(n).fill(1);
  for (const [s, e] of sorted) keep.fill(0, s, e);
  const out = new Int32Array(keep.reduce((a, k) => a + k, 0));
  let j = 0;
  for (let i = 0; i < n; i++) if (keep[i]) out[j++] = tokens[i]!;
  return out;
}

/**
 * Scores a model and a control on the same passages, paired per passage: how many only the model
 * extracted (b), only the control (c), and McNemar's exact p over those discordant passages.
 */
export function pairedExtraction(model: ExtractionStats, control: ExtractionStats): { b: number; c: number; both: number; neither: number } {
  check(model.count === control.count, 'control', `scored ${control.count} passages but the model ${model.count}`, 'score both models on the same passages');
  let b = 0;
  let c = 0;
  let both = 0;
  for (let i = 0; i < model.count; i++) {
    const x = model.extracted[i]!;
    const y = control.extracted[i]!;
    if (x && y) both++;
    else if (x) b++;
    else if (y) c++;
  }
  return { b, c, both, neither: model.count - b - c - both };
}
