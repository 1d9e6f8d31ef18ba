/**
 * Training a GPT on your own text: bytes → checked UTF-8 text → a train/validation split (the
 * first 90 % trains, the last 10 % validates, as nanoGPT's prepare.py scripts do), with errors
 * that say what is wrong with the file instead of a silent garbage run.
 */
import { PaperlabError } from '../core/errors.js';

/** Byte offset of the first invalid UTF-8 sequence, or -1 when `b` is valid UTF-8 (RFC 3629). */
export function invalidUtf8Offset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * Decodes training text from raw bytes, refusing input a language model should not be trained on
 * by accident: empty (or whitespace-only) input, binary data (NUL bytes) and invalid UTF-8. A UTF-8
 * byte-order mark is dropped. `name` is the argument the errors name (e.g. '--text').
 */
export function decodeTrainingText(bytes: Uint8Array, name = 'text', source = 'the input'): string {
  if (bytes.length === 0) throw new PaperlabError(name, `${source} is empty`, 'pass a UTF-8 text file with some content (a few hundred KB trains a small model well)');
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new PaperlabError(name, `${source} looks binary (a NUL byte at offset ${nul})`, 'pass a plain-text file (UTF-8), not a binary or UTF-16 file');
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) {
    throw new PaperlabError(name, `${source} is not valid UTF-8 (byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at offset ${bad})`, 'convert it to UTF-8 first, e.g. `iconv -f latin1 -t utf-8 in.txt > out.txt`');
  }
  let text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim().length === 0) throw new PaperlabError(name, `${source} holds only whitespace`, 'pass a text file with some content');
  return text;
}

/**
 * Splits a text into training and validation parts at `1 − valFraction` of its length (on a code
 * point boundary). Both parts must hold more than `minChars` characters.
 */
export function splitTrainVal(text: string, opts: { valFraction?: number; minChars?: number; name?: string } = {}): { trainText: string; valText: string } {
  const f = opts.valFraction ?? 0.1;
  const name = opts.name ?? 'text';
  if (!(f > 0 && f < 1)) throw new PaperlabError('valFraction', `must be in (0, 1), got ${f}`, 'use e.g. 0.1');
  let cut = Math.floor(text.length * (1 - f));
  // Never split a surrogate pair.
  if (cut > 0 && cut < text.length && text.charCodeAt(cut) >= 0xdc00 && text.charCodeAt(cut) <= 0xdfff) cut--;
  const trainText = text.slice(0, cut);
  const valText = text.slice(cut);
  const min = opts.minChars ?? 0;
  if (valText.length <= min || trainText.length <= min) {
    throw new PaperlabError(
      name,
      `the text holds ${text.length} characters; its last ${Math.round(f * 100)} % (the validation part) must exceed ${min} characters, the context of one validation window`,
      `pass at least ${Math.ceil((min + 1) / f) + 1} characters of text, or a smaller --block-size`,
    );
  }
  return { trainText, valText };
}
