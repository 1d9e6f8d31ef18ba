/**
 * Training a GPT on your own text from the command line (`paperlab train gpt --text FILE|-`), the
 * checks on that text (empty, binary, not UTF-8), model-size flags, the JSON-lines log, and
 * nucleus (top-p) sampling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { decodeTrainingText, invalidUtf8Offset, splitTrainVal } from '../src/gpt/text.js';
import { pickToken } from '../src/gpt/sampler.js';
import { loadGPT } from '../src/gpt/trainer.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const cli = (args: string[], input?: string | Buffer, cwd?: string) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, cwd, env: { ...process.env, PAPERLAB_QUIET: '1' } });

test('invalidUtf8Offset agrees with a strict TextDecoder on hand cases and random bytes', () => {
  const b = (...x: number[]) => Uint8Array.from(x);
  assert.equal(invalidUtf8Offset(new TextEncoder().encode('añ€😀z')), -1);
  assert.equal(invalidUtf8Offset(b(0x61, 0xc0, 0x80)), 1); // overlong NUL
  assert.equal(invalidUtf8Offset(b(0xe0, 0x80, 0xaf)), 0); // overlong 3-byte
  assert.equal(invalidUtf8Offset(b(0xed, 0xa0, 0x80)), 0); // UTF-16 surrogate
  assert.equal(invalidUtf8Offset(b(0x61, 0x62, 0xe2, 0x82)), 2); // truncated €
  assert.equal(invalidUtf8Offset(b(0xf4, 0x90, 0x80, 0x80)), 0); // above U+10FFFF
  assert.equal(invalidUtf8Offset(b(0x80)), 0); // lone continuation byte
  const strict = new TextDecoder('utf-8', { fatal: true });
  const rng = new Rng(1);
  for (let trial = 0; trial < 3000; trial++) {
    // Mostly valid text with a few random bytes, so both outcomes occur often.
    const parts = Array.from(new TextEncoder().encode(['héllo', '€', '😀', 'x'][rng.int(4)]!.repeat(1 + rng.int(3))));
    for (let k = rng.int(3); k > 0; k--) parts.splice(rng.int(parts.length + 1), 0, 0x80 + rng.int(0x80));
    const bytes = Uint8Array.from(parts);
    let ok = true;
    try {
      strict.decode(bytes);
    } catch {
      ok = false;
    }
    assert.equal(invalidUtf8Offset(bytes) === -1, ok, `bytes ${Array.from(bytes, (x) => x.toString(16)).join(' ')}`);
  }
});

test('decodeTrainingText refuses empty, whitespace-only, binary and non-UTF-8 input, naming the argument', () => {
  const named = (re: RegExp) => (e: unknown) => e instanceof PaperlabError && e.argument === '--text' && re.test(e.message);
  assert.throws(() => decodeTrainingText(new Uint8Array(0), '--text', 'a.txt'), named(/a\.txt is empty/));
  assert.throws(() => decodeTrainingText(new TextEncoder().encode(' \n\t '), '--text'), named(/only whitespace/));
  assert.throws(() => decodeTrainingText(Uint8Array.from([0x68, 0, 0x69, 0]), '--text'), named(/binary \(a NUL byte at offset 1\)/));
  assert.throws(() => decodeTrainingText(Uint8Array.from([0x63, 0x61, 0x66, 0xe9]), '--text'), named(/not valid UTF-8 \(byte 0xe9 at offset 3\)/));
  assert.equal(decodeTrainingText(Uint8Array.from([0xef, 0xbb, 0xbf, 0x68, 0x69])), 'hi', 'a byte-order mark is dropped');
  const { trainText, valText } = splitTrainVal('abcdefghij'.repeat(10));
  assert.equal(trainText.length, 90);
  assert.equal(trainText + valText, 'abcdefghij'.repeat(10));
  assert.throws(() => splitTrainVal('short text', { minChars: 65 }), /the text holds 10 characters/);
  // The cut never splits a surrogate pair.
  const emoji = '😀'.repeat(10);
  const s = splitTrainVal(emoji);
  assert.equal(s.trainText + s.valText, emoji);
  assert.ok(!/[\ud800-\udbff]$/.test(s.trainText));
});

test('top-p keeps the smallest most-likely set reaching p, after temperature and top-k', () => {
  // Probabilities 0.5, 0.3, 0.15, 0.05 (logits are their logs).
  const probs = [0.5, 0.3, 0.15, 0.05];
  const logits = probs.map(Math.log);
  const fixed = (u: number) => ({ next: () => u }) as unknown as Rng;
  // u · (kept mass) is walked through the kept tokens in id order.
  assert.equal(pickToken(logits, 1, undefined, fixed(0.99)), 3); // no top-p: 0.99 lands on the last token
  assert.equal(pickToken(logits, 1, undefined, fixed(0.99), 0.75), 1); // {0, 1} kept (0.8 ≥ 0.75): 0.99·0.8 = 0.792 → token 1
  assert.equal(pickToken(logits, 1, undefined, fixed(0.6), 0.75), 0); // 0.48 < 0.5 → token 0
  assert.equal(pickToken(logits, 1, undefined, fixed(0.99), 0.4), 0); // the top token alone reaches 0.4
  assert.equal(pickToken(logits, 1, undefined, fixed(0.99), 0.81), 2); // needs {0, 1, 2}
  // Temperature first: T = 0.5 squares the probabilities → 0.25, 0.09, 0.0225, 0.0025 (÷ 0.365); p = 0.7 keeps only token 0 (0.685 < 0.7 → also token 1).
  const sq = probs.map((p) => p * p);
  const z = sq.reduce((a, b) => a + b, 0);
  assert.ok(sq[0]! / z < 0.7 && (sq[0]! + sq[1]!) / z >= 0.7);
  assert.equal(pickToken(logits, 0.5, undefined, fixed(0.99), 0.7), 1);
  assert.equal(pickToken(logits, 0.5, undefined, fixed(0.99), 0.6), 0);
  // Top-k first: k = 3 renormalises to 0.5/0.95, 0.3/0.95, 0.15/0.95; p = 0.84 needs the third (0.8/0.95 = 0.842 ≥ 0.84 keeps two).
  assert.equal(pickToken(logits, 1, 3, fixed(0.99), 0.84), 1);
  // Frequencies over many draws match the renormalised kept set {0: 5/8, 1: 3/8}.
  const rng = new Rng(5);
  const counts = [0, 0, 0, 0];
  const n = 8000;
  for (let i = 0; i < n; i++) counts[pickToken(logits, 1, undefined, rng, 0.75)]!++;
  assert.equal(counts[2]! + counts[3]!, 0);
  const sd = Math.sqrt(n * (5 / 8) * (3 / 8));
  assert.ok(Math.abs(counts[0]! - (n * 5) / 8) < 4 * sd, `counts ${counts}`);
  assert.throws(() => pickToken(logits, 1, undefined, rng, 1.5), (e: unknown) => e instanceof PaperlabError && e.argument === 'topP');
});

test('paperlab train gpt --text FILE with model-size flags, --accumulate and --log, then sample --top-p; stdin and bad input', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperlab-text-'));
  try {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    const rng = new Rng(2);
    const text = Array.from({ length: 600 }, () => words[rng.int(5)]).join(' ') + '\n';
    writeFileSync(path.join(dir, 'mine.txt'), text);
    const flags = ['--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4', '--steps', '3', '--lr', '0.01', '--eval-every', '3'];
    const r = cli(['train', 'gpt', '--text', 'mine.txt', ...flags, '--accumulate', '2', '--log', 'log.jsonl', '--seed', '1'], undefined, dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /3 steps, 384 tokens/); // 3 steps × 2 micro-batches × 4 rows × 16 tokens
    assert.match(r.stdout, /checkpoint: .*gpt-mine/);
    const { model, meta } = await loadGPT(path.join(dir, 'checkpoints', 'gpt-mine'));
    assert.deepEqual([model.config.nLayer, model.config.nHead, model.config.nEmbd, model.config.blockSize], [1, 2, 16, 16]);
    assert.equal(meta.config.accumulate, 2);
    assert.equal(meta.data.name, 'text mine.txt');
    model.dispose();
    const lines = readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(lines.map((l) => l.step), [1, 2, 3]);
    for (const l of lines) for (const k of ['loss', 'lr', 'tokens/s']) assert.ok(Number.isFinite(l[k]), `${k} in ${JSON.stringify(l)}`);
    assert.ok(Number.isFinite(lines[2]!.val_loss));

    // Standard input gives the same run as the file.
    const s = cli(['train', 'gpt', '--text', '-', ...flags, '--accumulate', '2', '--seed', '1', '--out', 'from-stdin'], text, dir);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(s.stdout.split('\n')[1], r.stdout.split('\n')[1], 'same validation figures from stdin as from the file');

    const sample = (seed: string) => cli(['sample', '--checkpoint', 'checkpoints/gpt-mine', '--prompt', 'alpha ', '--max-tokens', '30', '--top-p', '0.9', '--top-k', '5', '--temperature', '0.9', '--seed', seed], undefined, dir);
    const a = sample('3');
    assert.equal(a.status, 0, a.stderr);
    assert.ok(a.stdout.startsWith('alpha '));
    assert.equal(sample('3').stdout, a.stdout, 'same seed, same text');

    writeFileSync(path.join(dir, 'empty.txt'), '');
    writeFileSync(path.join(dir, 'latin1.txt'), Buffer.from('caf\xe9 '.repeat(100), 'latin1'));
    const bad: Array<[string[], number, RegExp]> = [
      [['--text', 'empty.txt'], 1, /--text: empty\.txt is empty/],
      [['--text', 'latin1.txt'], 1, /not valid UTF-8 \(byte 0xe9 at offset 3\).*iconv/],
      [['--text', 'missing.txt'], 1, /cannot read missing\.txt \(ENOENT\)/],
      [['--text', 'mine.txt', '--n-embd', '30', '--n-head', '4'], 2, /--n-embd 30 is not divisible by --n-head 4/],
    ];
    for (const [args, code, re] of bad) {
      const b = cli(['train', 'gpt', ...args, '--out', 'never'], undefined, dir);
      assert.equal(b.status, code, `${args.join(' ')}: ${b.stderr}`);
      assert.match(b.stderr, re);
    }
    assert.equal(cli(['train', 'gpt', '--text', '-', '--out', 'never'], '', dir).status, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
