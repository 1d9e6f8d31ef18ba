/**
 * Tokenizers for the GPT: characters, and GPT-2-style byte-level BPE trained on a corpus.
 *
 * Byte-level BPE (Sennrich et al. 2016; Radford et al. 2019): text is split into pre-tokens by
 * GPT-2's pattern (contractions, letter runs, digit runs, other-symbol runs, each with an optional
 * leading space, and whitespace), each pre-token becomes its UTF-8 bytes (ids 0–255), and merges
 * learned from pair counts on the training text are applied lowest-rank first. Any valid Unicode
 * text round-trips exactly: decode(encode(text)) === text.
 *
 * Both serialise to JSON (`toJSON` / `tokenizerFromJSON`) and travel inside GPT checkpoints.
 */
import { PaperlabError, check, checkInt } from '../core/errors.js';
import type { JsonValue } from '../core/checkpoint.js';

export type TokenizerJSON =
  | { kind: 'char'; chars: string[] }
  | { kind: 'bpe'; merges: Array<[number, number]> };

/** Turns a stream of token ids into text as it arrives (BPE tokens may end mid-character). */
export interface StreamDecoder {
  /** Text completed by these ids (possibly ''). */
  push(ids: readonly number[] | number): string;
  /** Whatever is left at the end. */
  flush(): string;
}

export interface Tokenizer {
  readonly kind: 'char' | 'bpe';
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  decoder(): StreamDecoder;
  toJSON(): TokenizerJSON;
}

function checkIds(ids: ArrayLike<number>, vocabSize: number): void {
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) {
      throw new PaperlabError('ids', `token ${String(t)} at index ${i} is outside the vocabulary [0, ${vocabSize})`, 'decode ids produced by this tokenizer');
    }
  }
}

const hex = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** One token per Unicode character; the vocabulary is the characters seen, sorted by code point. */
export class CharTokenizer implements Tokenizer {
  readonly kind = 'char' as const;
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    check(chars.length >= 1, 'chars', 'is empty', 'build the tokenizer from non-empty text (CharTokenizer.fromText)');
    const seen = new Set<string>();
    for (const c of chars) {
      check([...c].length === 1, 'chars', `entry '${c}' is not a single character`, 'pass one character per entry');
      check(!seen.has(c), 'chars', `'${c}' appears twice`, 'pass each character once');
      seen.add(c);
    }
    this.chars = chars.slice();
    this.index = new Map(this.chars.map((c, i) => [c, i]));
  }

  /** The characters of `text` (one or more strings), sorted by code point. */
  static fromText(...texts: string[]): CharTokenizer {
    const set = new Set<string>();
    for (const t of texts) for (const c of t) set.add(c);
    check(set.size > 0, 'text', 'is empty', 'pass the training text');
    return new CharTokenizer([...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): Int32Array {
    const out = new Int32Array(text.length);
    let n = 0;
    for (const c of text) {
      const id = this.index.get(c);
      if (id === undefined) {
        throw new PaperlabError(
          'text',
          `contains '${c}' (${hex(c)}), which is not in the ${this.chars.length}-character vocabulary`,
          'use only characters the model was trained on, or train with the byte-level BPE tokenizer (it covers any text)',
        );
      }
      out[n++] = id;
    }
    return out.slice(0, n);
  }

  decode(ids: ArrayLike<number>): string {
    checkIds(ids, this.vocabSize);
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]!];
    return s;
  }

  decoder(): StreamDecoder {
    return { push: (ids) => this.decode(typeof ids === 'number' ? [ids] : ids), flush: () => '' };
  }

  toJSON(): TokenizerJSON {
    return { kind: 'char', chars: this.chars.slice() };
  }
}

/** GPT-2's pre-tokenisation pattern. Every character matches one alternative, so nothing is lost. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Splits text into GPT-2 pre-tokens (their concatenation is the text). */
export function preTokenize(text: string): string[] {
  return text.match(new RegExp(GPT2_PATTERN.source, 'gu')) ?? [];
}

const encoder = new TextEncoder();
const PAIR = 1 << 20; // pair key = a·2^20 + b (exact in a double for vocabularies < 2^20)

export interface BpeTrainOptions {
  /** Final vocabulary size: 256 byte tokens + merges. Default 1024. */
  vocabSize?: number;
  /** Stop early when the best pair occurs fewer times than this. Default 2. */
  minFrequency?: number;
}

/** Byte-level BPE: ids 0–255 are bytes, id 256+i is merge i. */
export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const;
  readonly merges: ReadonlyArray<readonly [number, number]>;
  /** The bytes each id stands for. */
  private readonly bytes: Uint8Array[];
  private readonly rank: Map<number, number>;
  private readonly cache = new Map<string, number[]>();

  constructor(merges: ReadonlyArray<readonly [number, number]>) {
    this.merges = merges.map(([a, b]) => [a, b] as const);
    this.bytes = [];
    for (let i = 0; i < 256; i++) this.bytes.push(new Uint8Array([i]));
    this.rank = new Map();
    this.merges.forEach(([a, b], i) => {
      const id = 256 + i;
      for (const [what, x] of [['first', a], ['second', b]] as const) {
        check(Number.isInteger(x) && x >= 0 && x < id, 'merges', `merge ${i} has ${what} id ${x}, which is not an earlier token (< ${id})`, 'load merges written by BpeTokenizer.train');
      }
      const key = a * PAIR + b;
      check(!this.rank.has(key), 'merges', `pair (${a}, ${b}) is merged twice (merges ${this.rank.get(key)} and ${i})`, 'load merges written by BpeTokenizer.train');
      this.rank.set(key, i);
      const ba = this.bytes[a]!;
      const bb = this.bytes[b]!;
      const m = new Uint8Array(ba.length + bb.length);
      m.set(ba);
      m.set(bb, ba.length);
      this.bytes.push(m);
    });
  }

  get vocabSize(): number {
    return 256 + this.merges.length;
  }

  /**
   * Learns merges from `text`: repeatedly merges the most frequent adjacent pair (ties: the
   * smallest ids) inside pre-tokens, until the vocabulary has `vocabSize` entries.
   */
  static train(text: string, opts: BpeTrainOptions = {}): BpeTokenizer {
    const target = opts.vocabSize ?? 1024;
    checkInt(target, 'vocabSize', { min: 256, max: PAIR - 1 });
    const minFreq = opts.minFrequency ?? 2;
    checkInt(minFreq, 'minFrequency', { min: 1 });
    const counts = new Map<string, number>();
    for (const w of preTokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const symbols: number[][] = [];
    const freq: number[] = [];
    for (const [w, f] of counts) {
      symbols.push(Array.from(encoder.encode(w)));
      freq.push(f);
    }
    const pairCount = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const addPairs = (w: number, sign: 1 | -1): void => {
      const s = symbols[w]!;
      const f = freq[w]! * sign;
      for (let i = 0; i + 1 < s.length; i++) {
        const key = s[i]! * PAIR + s[i + 1]!;
        const c = (pairCount.get(key) ?? 0) + f;
        if (c === 0) pairCount.delete(key);
        else pairCount.set(key, c);
        if (sign > 0) {
          let set = pairWords.get(key);
          if (!set) pairWords.set(key, (set = new Set()));
          set.add(w);
        }
      }
    };
    for (let w = 0; w < symbols.length; w++) addPairs(w, 1);
    const merges: Array<[number, number]> = [];
    while (256 + merges.length < target) {
      let best = -1;
      let bestCount = 0;
      for (const [key, c] of pairCount) {
        if (c > bestCount || (c === bestCount && key < best)) {
          best = key;
          bestCount = c;
        }
      }
      if (best < 0 || bestCount < minFreq) break;
      const a = Math.floor(best / PAIR);
      const b = best % PAIR;
      const id = 256 + merges.length;
      merges.push([a, b]);
      for (const w of [...(pairWords.get(best) ?? [])]) {
        const s = symbols[w]!;
        let has = false;
        for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) has = true;
        if (!has) continue;
        addPairs(w, -1);
        symbols[w] = mergePair(s, a, b, id);
        addPairs(w, 1);
      }
      pairCount.delete(best);
      pairWords.delete(best);
    }
    return new BpeTokenizer(merges);
  }

  /** Token ids of one pre-token (cached). */
  private encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let s = Array.from(encoder.encode(word));
    while (s.length > 1) {
      let bestRank = Infinity;
      let bestI = -1;
      for (let i = 0; i + 1 < s.length; i++) {
        const r = this.rank.get(s[i]! * PAIR + s[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          bestI = i;
        }
      }
      if (bestI < 0) break;
      const [a, b] = this.merges[bestRank]!;
      s = mergePair(s, a, b, 256 + bestRank);
    }
    if (this.cache.size < 200_000) this.cache.set(word, s);
    return s;
  }

  encode(text: string): Int32Array {
    const words = preTokenize(text);
    let out = new Int32Array(Math.max(16, text.length));
    let n = 0;
    for (const w of words) {
      const ids = this.encodeWord(w);
      if (n + ids.length > out.length) {
        const grown = new Int32Array(Math.max(out.length * 2, n + ids.length));
        grown.set(out.subarray(0, n));
        out = grown;
      }
      for (const id of ids) out[n++] = id;
    }
    return out.slice(0, n);
  }

  /** The UTF-8 bytes of a token sequence. */
  toBytes(ids: ArrayLike<number>): Uint8Array {
    checkIds(ids, this.vocabSize);
    let len = 0;
    for (let i = 0; i < ids.length; i++) len += this.bytes[ids[i]!]!.length;
    const out = new Uint8Array(len);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.bytes[ids[i]!]!;
      out.set(b, o);
      o += b.length;
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    return new TextDecoder('utf-8').decode(this.toBytes(ids));
  }

  decoder(): StreamDecoder {
    const td = new TextDecoder('utf-8');
    return {
      push: (ids) => td.decode(this.toBytes(typeof ids === 'number' ? [ids] : ids), { stream: true }),
      flush: () => td.decode(),
    };
  }

  toJSON(): TokenizerJSON {
    return { kind: 'bpe', merges: this.merges.map(([a, b]) => [a, b]) };
  }
}

function mergePair(s: number[], a: number, b: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
      out.push(id);
      i++;
    } else out.push(s[i]!);
  }
  return out;
}

/** Rebuilds a tokenizer from `toJSON()` output (e.g. a checkpoint's meta). */
export function tokenizerFromJSON(json: JsonValue | TokenizerJSON | undefined): Tokenizer {
  const o = json as Record<string, unknown> | null | undefined;
  if (o && o.kind === 'char' && Array.isArray(o.chars) && o.chars.every((c) => typeof c === 'string')) return new CharTokenizer(o.chars as string[]);
  if (o && o.kind === 'bpe' && Array.isArray(o.merges) && o.merges.every((m) => Array.isArray(m) && m.length === 2)) {
    return new BpeTokenizer(o.merges as Array<[number, number]>);
  }
  throw new PaperlabError('tokenizer', 'is not a saved char or bpe tokenizer', 'load a checkpoint written by `paperlab train gpt` (its meta holds the tokenizer)');
}

export type TokenizerKind = 'char' | 'bpe';

/** Builds the tokenizer a training run asks for. */
export function trainTokenizer(kind: TokenizerKind, text: string, opts: { vocabSize?: number; extraText?: string } = {}): Tokenizer {
  if (kind === 'char') return CharTokenizer.fromText(text, opts.extraText ?? '');
  if (kind === 'bpe') return BpeTokenizer.train(text, { vocabSize: opts.vocabSize });
  throw new PaperlabError('tokenizer', `unknown kind '${String(kind)}'`, "use 'char' or 'bpe'");
}
