import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initEngine } from '../src/core/engine.js';
import { experiments } from '../src/experiments/index.js';
import { gpt3Compute } from '../src/experiments/gpt3-compute.js';
import { runExperiment } from '../src/experiments/runner.js';
import { validateResult } from '../src/experiments/result.js';
import { TABLE_D1, tableD1PfDays, trainingCost, trainingFlops, parseCount, PF_DAY_FLOPS } from '../src/gpt/compute.js';

test('every row of GPT-3 Table D.1 is recomputed within 1 % of the paper', () => {
  assert.equal(TABLE_D1.length, 17);
  for (const row of TABLE_D1) {
    const ours = tableD1PfDays(row);
    assert.ok(Math.abs(ours - row.pfDays) / row.pfDays < 0.01, `${row.model}: ${ours} vs ${row.pfDays}`);
  }
  // Hand check of one row: BERT-Base 6 × 109e6 × 250e9 / 8.64e19.
  assert.equal(PF_DAY_FLOPS, 8.64e19);
  assert.ok(Math.abs(tableD1PfDays(TABLE_D1.find((r) => r.model === 'BERT-Base')!) - (6 * 109e6 * 250e9) / 8.64e19) < 1e-12);
});

test('cost: 175B × 300B tokens at 28 TFLOP/s is about 355 GPU-years and $4.6M', () => {
  const c = trainingCost(trainingFlops(174.6e9, 300e9));
  assert.ok(Math.abs(c.gpuYears - 355) / 355 < 0.01, `${c.gpuYears}`);
  assert.ok(c.usd > 4.5e6 && c.usd < 4.8e6, `${c.usd}`);
  assert.equal(parseCount('175B', 'x'), 175e9);
  assert.equal(parseCount('1.3b', 'x'), 1.3e9);
  assert.equal(parseCount('300e9', 'x'), 300e9);
  assert.throws(() => parseCount('lots', '--params'), /--params: 'lots' is not a count/);
});

test('gpt3-compute writes a schema-valid result.json with a verdict derived from its numbers', async () => {
  await initEngine({ seed: 0 });
  const out = mkdtempSync(path.join(tmpdir(), 'paperlab-res-'));
  const { file } = await runExperiment(gpt3Compute, { out, seed: 5 });
  const r = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(validateResult(r), []);
  assert.equal(r.name, 'gpt3-compute');
  assert.equal(r.seed, 5);
  assert.equal(r.backend, 'cpu');
  for (const k of ['name', 'paper', 'claim', 'question', 'seed', 'quick', 'backend', 'durationSec', 'config', 'metrics', 'table', 'verdict']) assert.ok(k in r, k);
  assert.ok(r.verdict.includes(`${Math.round(r.metrics.gpt3OverBertBase)}×`));
  const row = r.table.find((t: { label: string }) => t.label.startsWith('GPT-3 175B ('));
  assert.equal(row.paper, 3640);
});

test('validateResult catches malformed results', () => {
  assert.deepEqual(validateResult(null), ['result is not a JSON object']);
  const bad = validateResult({ name: 'x', table: [{ label: 'a', ours: Number.NaN, paper: null, unit: '' }] });
  assert.ok(bad.some((p) => p.includes('table[0].ours')));
  assert.ok(bad.some((p) => p.includes('verdict')));
  assert.ok(bad.some((p) => p.includes('seed')));
});

test('experiment names are unique and each names its paper, claim and question', () => {
  const names = experiments.map((e) => e.name);
  assert.equal(new Set(names).size, names.length);
  for (const e of experiments) {
    assert.match(e.name, /^[a-z0-9-]+$/);
    assert.ok(e.paper && e.claim && e.question);
  }
});
