/**
 * The memorization probes on constructed cases with known answers: n-gram novelty and longest
 * copied spans by hand, against a brute-force search, extraction scoring, and a GPT trained to
 * memorise one string that extracts it exactly while a string it never saw is not extracted.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { NgramIndex, extractionRate, extractionStats, longestCopiedSpans, ngramNovelty, passagesFrom, wordTokens } from '../src/gpt/memorization.js';
import { trainGPT } from '../src/gpt/trainer.js';

before(async () => {
  process.env.PAPERLAB_QUIET = '1';
  await initEngine({ seed: 0 });
});

test('word tokens: words, contractions and single symbols', () => {
  assert.deepEqual(wordTokens("It's 1961, the  cat's mat!"), ["It's", '1961', ',', 'the', "cat's", 'mat', '!']);
});

test('n-gram novelty and longest copied span: hand cases', () => {
  const index = new NgramIndex(['the cat sat on the mat', 'a dog ran']);
  const r = ngramNovelty(index, ['the cat sat on a hat'], 4);
  // Unigrams: only "hat" is novel ("a" is in the second document) → 1/6; bigrams "on a", "a hat" → 2/5;
  // trigrams: "sat on a", "on a hat" → 2/4; 4-grams: only "the cat sat on" is found → 2/3.
  assert.deepEqual(r.counts, [6, 5, 4, 3]);
  assert.deepEqual(r.novelty, [1 / 6, 2 / 5, 2 / 4, 2 / 3]);
  const spans = longestCopiedSpans(index, ['the cat sat on a hat', 'mat a dog ran', 'zebra']);
  assert.deepEqual(spans[0], { words: 4, text: 'the cat sat on' });
  // "mat a dog" crosses a document boundary in the reference, so only "a dog ran" counts.
  assert.deepEqual(spans[1], { words: 3, text: 'a dog ran' });
  assert.deepEqual(spans[2], { words: 0, text: '' });
});

test('n-gram lookup agrees with brute force on random texts', () => {
  const r = new Rng(1);
  const words = ['a', 'b', 'c', 'd'];
  const text = (n: number): string => Array.from({ length: n }, () => words[r.int(4)]).join(' ');
  const ref = text(400);
  const queries = [text(30), text(30), text(5)];
  const index = new NgramIndex(ref);
  const refWords = ref.split(' ');
  const refSet = (n: number): Set<string> => new Set(refWords.slice(0, refWords.length - n + 1).map((_, i) => refWords.slice(i, i + n).join(' ')));
  const got = ngramNovelty(index, queries, 8);
  for (let n = 1; n <= 8; n++) {
    const set = refSet(n);
    let total = 0;
    let novel = 0;
    for (const q of queries) {
      const w = q.split(' ');
      for (let i = 0; i + n <= w.length; i++) {
        total++;
        if (!set.has(w.slice(i, i + n).join(' '))) novel++;
      }
    }
    assert.equal(got.counts[n - 1], total);
    assert.equal(got.novelty[n - 1], novel / total, `n = ${n}`);
  }
  const spans = longestCopiedSpans(index, queries);
  queries.forEach((q, qi) => {
    const w = q.split(' ');
    let best = 0;
    for (let n = 1; n <= w.length; n++) {
      const set = refSet(n);
      if (w.some((_, i) => i + n <= w.length && set.has(w.slice(i, i + n).join(' ')))) best = n;
    }
    assert.equal(spans[qi]!.words, best, `query ${qi}`);
  });
});

test('extraction scoring and passage selection', () => {
  const s = extractionStats([[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 2, 3], [4, 5, 0], [0, 8, 9]]);
  assert.equal(s.rate, 1 / 3);
  assert.deepEqual(s.extracted, [true, false, false]);
  assert.equal(s.meanMatchedPrefix, (3 + 2 + 0) / 3);
  const tokens = Array.from({ length: 100 }, (_, i) => i);
  const p = passagesFrom(tokens, 4, 3, 2);
  assert.equal(p.prefixes.length, 4);
  p.starts.forEach((st, i) => {
    assert.deepEqual(p.prefixes[i], [st, st + 1, st + 2]);
    assert.deepEqual(p.targets[i], [st + 3, st + 4]);
  });
  assert.throws(() => passagesFrom(tokens, 1, 90, 20), (e: unknown) => e instanceof PaperlabError && e.argument === 'tokens');
  assert.throws(() => extractionStats([[1, 2]], [[1]]), PaperlabError);
});

test('a GPT that memorised a string extracts it; a string it never saw is not extracted', async () => {
  // One random 16-character string repeated: after any 6 of its characters the next 8 are determined.
  const r = new Rng(5);
  const alphabet = 'abcdefghij';
  const word = Array.from({ length: 16 }, () => alphabet[r.int(10)]).join('');
  const other = Array.from({ length: 16 }, () => alphabet[r.int(10)]).join('');
  const run = await trainGPT({
    preset: 'tiny',
    steps: 100,
    seed: 0,
    quiet: true,
    data: { trainText: word.repeat(40), valText: other.repeat(4) },
    overrides: { batchSize: 4, lr: 2e-2, warmupSteps: 10, evalEvery: 100, evalIters: 1, weightDecay: 0, model: { nLayer: 1, nHead: 2, nEmbd: 32, blockSize: 16 } },
  });
  const seen = passagesFrom(run.train.tokens, 6, 6, 8);
  const unseen = passagesFrom(run.val.tokens, 6, 6, 8);
  const a = await extractionRate(run.model, seen.prefixes, seen.targets);
  const b = await extractionRate(run.model, unseen.prefixes, unseen.targets);
  assert.equal(a.rate, 1, `memorised string: ${a.rate} (final loss ${run.losses.at(-1)})`);
  assert.equal(b.rate, 0);
  run.model.dispose();
});
