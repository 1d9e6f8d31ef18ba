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

test('removeSpans: drops the ranges, merges overlaps, refuses ranges outside the stream', async () => {
  const { removeSpans } = await import('../src/gpt/memorization.js');
  const t = Int32Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(Array.from(removeSpans(t, [[2, 4], [3, 6], [8, 9]])), [0, 1, 6, 7, 9]);
  assert.deepEqual(Array.from(removeSpans(t, [])), Array.from(t));
  assert.deepEqual(Array.from(removeSpans(t, [[0, 10]])), []);
  assert.throws(() => removeSpans(t, [[5, 11]]), (e: unknown) => e instanceof PaperlabError && e.argument === 'spans[0]');
  assert.throws(() => removeSpans(t, [[1, 2], [4, 3]]), (e: unknown) => e instanceof PaperlabError && e.argument === 'spans[1]');
});

test('pairedExtraction counts the discordant passages', async () => {
  const { pairedExtraction } = await import('../src/gpt/memorization.js');
  const m = extractionStats([[1], [2], [3], [4], [5]], [[1], [2], [0], [4], [0]]); // T T F T F
  const c = extractionStats([[1], [2], [3], [4], [5]], [[1], [0], [3], [0], [0]]); // T F T F F
  assert.deepEqual(pairedExtraction(m, c), { b: 2, c: 1, both: 1, neither: 1 });
  assert.throws(() => pairedExtraction(m, extractionStats([[1]], [[1]])), (e: unknown) => e instanceof PaperlabError && e.argument === 'control');
});

test('memorization verdicts: each phrase follows from its numbers', async () => {
  const { MEMORIZATION_COMPARISONS, ROW, memorizationRunVerdict, memorizationSweepVerdict } = await import('../src/experiments/gpt-memorization.js');
  const { direction } = await import('../src/core/stats.js');
  const rows = (ci: (a: string, b: string) => [number, number]) =>
    MEMORIZATION_COMPARISONS.map((c) => {
      const iv = ci(c.a, c.b);
      return { a: c.a, b: c.b, unit: 'share', n: 5, meanDiff: (iv[0] + iv[1]) / 2, ci95: iv, p: null, test: 'paired-t' as const, direction: direction(iv), sentence: '' };
    });
  const seeds = [0, 1, 2, 3, 4];
  const onlyRepeated = memorizationSweepVerdict({ seeds, comparisons: rows((a) => (a === ROW.modelLevel(64) ? [0.5, 0.9] : [-0.01, 0.02])) });
  assert.match(onlyRepeated, /^Over 5 seeds/);
  assert.match(onlyRepeated, /within noise on ordinary training passages/);
  assert.match(onlyRepeated, /the model extracts passages of weight ×64 more than its control \(0\.700 \[0\.5, 0\.9\]\)/);
  assert.match(onlyRepeated, /remembers only what it saw many times \(weight ×64\), not ordinary training text/);
  const ordinary = memorizationSweepVerdict({ seeds, comparisons: rows(() => [0.02, 0.1]) });
  assert.match(ordinary, /the model extracts ordinary training passages more than its control/);
  assert.match(ordinary, /does remember ordinary training text/);
  const nothing = memorizationSweepVerdict({ seeds, comparisons: rows(() => [-0.1, 0.1]) });
  assert.match(nothing, /no memorization beyond the control/);

  const base = {
    m: 32, params: 8e5, valBpc: 2.2, unigramBpc: 4.5, train: 0, heldOut: 0, control: 0,
    levels: [{ repeats: 2, model: 0, control: 0 }, { repeats: 100, model: 1, control: 0 }],
    onlyModel: 4, onlyControl: 0, mcnemarP: 0.125, novelty1: { samples: 0.05, human: 0.03 }, novelty4: { samples: 0.6, human: 0.5 },
    longest: { samples: 9, human: 8 }, gpt3OverOurs: 1e9,
  };
  const v = memorizationRunVerdict(base);
  assert.match(v, /McNemar p = 0\.13: no difference beyond chance/);
  assert.match(v, /recalls nothing verbatim beyond its control/);
  const w = memorizationRunVerdict({ ...base, onlyModel: 8, mcnemarP: 0.0078 });
  assert.match(w, /the model extracts more than its control beyond chance/);
  assert.match(w, /recalls passages it saw ~100× but ordinary training text no more than its control/);
  assert.match(memorizationRunVerdict({ ...base, valBpc: 4.45 }), /too undertrained/);
});
