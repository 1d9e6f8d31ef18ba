/**
 * Tokenizers: byte-level BPE is lossless on the whole Brown corpus and on arbitrary Unicode, learns
 * the merges a hand count predicts, streams multi-byte characters correctly and round-trips through
 * JSON; the character tokenizer round-trips and names unknown characters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBrownDocuments } from '../src/data/brown.js';
import { PaperlabError } from '../src/core/errors.js';
import { BpeTokenizer, CharTokenizer, preTokenize, tokenizerFromJSON } from '../src/gpt/tokenizer.js';

test('BPE encode/decode is lossless on the whole Brown corpus', () => {
  const docs = loadBrownDocuments();
  const text = docs.map((d) => d.text).join('\n\n');
  // Learn merges on a fifth of the corpus, then round-trip all of it (unseen words included).
  const tok = BpeTokenizer.train(docs.slice(0, 100).map((d) => d.text).join('\n\n'), { vocabSize: 512 });
  assert.equal(tok.vocabSize, 512);
  const ids = tok.encode(text);
  assert.ok(ids.length < text.length * 0.6, `compresses: ${ids.length} tokens for ${text.length} characters`);
  assert.equal(tok.decode(ids), text);
  assert.equal(preTokenize(text).join(''), text);
});

test('BPE is lossless on arbitrary Unicode and streams split characters', () => {
  const tok = BpeTokenizer.train('naïve café — 東京 🙂 naïve café, déjà vu!\n\tnaïve', { vocabSize: 300, minFrequency: 1 });
  const samples = ['', ' ', 'naïve café', '🙂🙂 東京\r\n  x', "it's 12 o'clock\u00a0— ok?", 'Ωmega  \t\n\n', 'ünïcödé 𝔘𝔫𝔦'];
  for (const s of samples) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s));
  // Byte by byte, the stream decoder emits each character once it is complete.
  const bytesOnly = new BpeTokenizer([]);
  const ids = bytesOnly.encode('é🙂');
  assert.deepEqual(Array.from(ids), [0xc3, 0xa9, 0xf0, 0x9f, 0x99, 0x82]);
  const d = bytesOnly.decoder();
  assert.deepEqual(Array.from(ids, (i) => d.push(i)), ['', 'é', '', '', '', '🙂']);
  assert.equal(d.flush(), '');
});

test('BPE learns the most frequent pairs first (hand count)', () => {
  // Pre-tokens: "ab"×1, " ab"×3, " abc"×2 → pairs (a,b) 6, (' ',a) 5, (b,c) 2.
  const tok = BpeTokenizer.train('ab ab ab ab abc abc', { vocabSize: 259 });
  const a = 97, b = 98, sp = 32;
  assert.deepEqual(tok.merges[0], [a, b]);
  // After merging: (' ', ab) 5 is next; then (' ab', c) 2.
  assert.deepEqual(tok.merges[1], [sp, 256]);
  assert.deepEqual(tok.merges[2], [257, 99]);
  assert.deepEqual(Array.from(tok.encode(' abc ab')), [258, 257]);
  // JSON round trip gives the same tokenizer.
  const back = tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.deepEqual(Array.from(back.encode('ab abc ab')), Array.from(tok.encode('ab abc ab')));
  assert.throws(() => new BpeTokenizer([[97, 300]]), PaperlabError);
  assert.throws(() => tok.decode([9999]), (e: unknown) => e instanceof PaperlabError && e.argument === 'ids');
});

test('character tokenizer: sorted vocabulary, round trip, unknown characters named', () => {
  const tok = CharTokenizer.fromText('hello world', '!');
  assert.deepEqual(tok.chars, [' ', '!', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
  const ids = tok.encode('hello world!');
  assert.equal(tok.decode(ids), 'hello world!');
  assert.deepEqual(Array.from(tok.encode('lo')), [5, 6]);
  assert.throws(() => tok.encode('hey'), (e: unknown) => e instanceof PaperlabError && e.argument === 'text' && /'y'/.test(e.message));
  const back = tokenizerFromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.equal(back.decode(back.encode('world')), 'world');
  assert.throws(() => tokenizerFromJSON({ kind: 'wordpiece' }), (e: unknown) => e instanceof PaperlabError && e.argument === 'tokenizer');
});
