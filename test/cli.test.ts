import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, PAPERLAB_QUIET: '1' } });

test('misuse exits with code 2 and says what to do', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /Usage: paperlab <command>/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['run'], /name an experiment or pass --all/],
    [['run', 'no-such-experiment'], /unknown experiment 'no-such-experiment'; known: .*gpt3-compute/],
    [['run', 'gpt3-compute', '--seed', 'abc'], /--seed expects a whole number, got 'abc'/],
    [['run', '--all', 'gpt3-compute'], /either experiment names or --all/],
    [['compute', '--params', '1e9'], /--params and --tokens are required/],
    [['compute', '--params', 'lots', '--tokens', '1e9'], /--params: 'lots' is not a count/],
    [['info', '--bogus'], /Unknown option '--bogus'/],
    [['info', '--backend', 'gpu'], /--backend must be one of auto, cpu, wasm, tensorflow/],
    [['bench', 'nonsense'], /unknown benchmark 'nonsense'/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `paperlab ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    assert.match(r.stderr + r.stdout, re, `paperlab ${args.join(' ')}`);
  }
});

test('compute prints the GPT-3 estimate; --json is machine-readable', () => {
  const r = cli('compute', '--params', '174.6B', '--tokens', '300B', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(Math.abs(j.pfDays - 3637.5) < 0.1);
  assert.ok(Math.abs(j.gpuYears - 355.9) < 0.1);
  const t = cli('compute', '--params', '60M', '--tokens', '1000B', '--t5');
  assert.match(t.stdout, /2\.083 PF-days \(3·N·D\)/);
});

test('run writes <out>/<name>/result.json; list and info work', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'paperlab-cli-'));
  const r = cli('run', 'gpt3-compute', '--out', out, '--seed', '2');
  assert.equal(r.status, 0, r.stderr);
  const file = path.join(out, 'gpt3-compute', 'result.json');
  assert.ok(existsSync(file));
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).seed, 2);
  assert.match(cli('list').stdout, /gpt3-compute/);
  const info = JSON.parse(cli('info', '--json').stdout);
  assert.equal(info.backend, 'cpu');
  assert.equal(typeof info.native.message, 'string');
});
