/**
 * `paperlab sweep`: seed parsing, the summary and paired comparisons computed from known per-seed
 * numbers, resuming (only missing seeds run), failed seeds, and the real command with child processes
 * killed mid-sweep and rerun.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSeeds, runSweep, validateSweep, type SeedJob, type SeedRunner, type SweepFile } from '../src/experiments/sweep.js';
import type { Experiment, ExperimentResult } from '../src/experiments/types.js';
import { PaperlabError } from '../src/core/errors.js';
import { buildReport } from '../src/report/build.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '..', 'src', 'cli', 'main.js');

function fakeResult(job: SeedJob, rows: Array<[string, number | string | null]>): ExperimentResult {
  return {
    name: job.name, paper: 'P', claim: 'C', question: 'Q', seed: job.seed, quick: job.quick, backend: 'cpu', native: false,
    durationSec: 0.01, config: {}, metrics: {}, verdict: `seed ${job.seed}`,
    table: rows.map(([label, ours]) => ({ label, ours, paper: null, unit: '%' })),
    command: 'x', commit: null, version: '0', startedAt: new Date(0).toISOString(),
  };
}

/** Arm A = 50 + s + 1, arm B = 50 + s (s the seed), plus a string row and a null row that are not summarised. */
class FakeRunner implements SeedRunner {
  readonly kind = 'fake';
  readonly workers = 2;
  calls: number[] = [];
  constructor(private readonly failOn = new Set<number>()) {}
  async run(job: SeedJob): Promise<ExperimentResult> {
    this.calls.push(job.seed);
    if (this.failOn.has(job.seed)) throw new Error(`boom on ${job.seed}`);
    return fakeResult(job, [['arm <b>A</b>', 51 + job.seed], ['arm B', 50 + job.seed], ['order', 'A > B'], ['missing', null]]);
  }
  async close(): Promise<void> {}
}

const fakeExp: Experiment = {
  name: 'fake-exp', paper: 'P', claim: 'C', question: 'Q', section: 'supcon', estimate: { quick: '', full: '' },
  run: async () => { throw new Error('not called: the runner runs seeds'); },
  sweep: { comparisons: [{ a: 'arm <b>A</b>', b: 'arm B', aName: 'A', bName: 'B' }] },
};

test('parseSeeds reads ranges and lists and names the option when it cannot', () => {
  assert.deepEqual(parseSeeds('0-3,7'), [0, 1, 2, 3, 7]);
  assert.deepEqual(parseSeeds('5'), [5]);
  assert.deepEqual(parseSeeds('2,1,2'), [2, 1]);
  for (const bad of ['', '5-2', 'a', '1,,2', '0-99999']) {
    assert.throws(() => parseSeeds(bad), (e: unknown) => e instanceof PaperlabError && e.argument === '--seeds', bad);
  }
});

test('summary and paired comparison from known per-seed numbers; resume runs only missing seeds', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'pl-sweep-'));
  try {
    const r1 = new FakeRunner();
    const { file, sweep } = await runSweep(fakeExp, { seeds: [0, 1, 2, 3, 4], out, runner: r1, log: () => {} });
    assert.deepEqual([...r1.calls].sort(), [0, 1, 2, 3, 4]);
    assert.deepEqual(sweep.seeds, [0, 1, 2, 3, 4]);
    const a = sweep.summary.find((r) => r.label === 'arm <b>A</b>')!;
    // Values 51..55: mean 53, sd √2.5, interval 53 ± t(0.975, 4)·√2.5/√5.
    assert.equal(a.mean, 53);
    const half = 2.7764451052 * Math.sqrt(2.5 / 5);
    assert.ok(Math.abs(a.ci95![0] - (53 - half)) < 1e-8);
    assert.equal(a.n, 5);
    assert.equal(sweep.summary.some((r) => r.label === 'order' || r.label === 'missing'), false, 'non-numeric rows are not summarised');
    const c = sweep.comparisons[0]!;
    assert.equal(c.meanDiff, 1);
    assert.deepEqual(c.ci95, [1, 1]);
    assert.equal(c.direction, 'greater');
    assert.match(sweep.verdict, /^Over 5 seeds: A > B by 1 \[1, 1\] %/);
    assert.deepEqual(validateSweep(JSON.parse(readFileSync(file, 'utf8'))), []);
    for (const s of [0, 4]) assert.ok(existsSync(path.join(out, 'fake-exp', 'seeds', String(s), 'result.json')));

    rmSync(path.join(out, 'fake-exp', 'seeds', '2'), { recursive: true });
    const r2 = new FakeRunner();
    const again = await runSweep(fakeExp, { seeds: [0, 1, 2, 3, 4], out, runner: r2, log: () => {} });
    assert.deepEqual(r2.calls, [2], 'only the missing seed runs');
    assert.deepEqual(again.sweep.summary, sweep.summary);

    // The same folder asked for a quick sweep: refused, naming the file.
    await assert.rejects(runSweep(fakeExp, { seeds: [0], out, quick: true, runner: new FakeRunner(), log: () => {} }), (e: unknown) => e instanceof PaperlabError && /not fake-exp seed 0 \(quick\)/.test(e.message));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a failed seed does not stop the others, is listed in sweep.json, and a rerun completes it', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'pl-sweep-'));
  try {
    await assert.rejects(
      runSweep(fakeExp, { seeds: [0, 1, 2, 3], out, runner: new FakeRunner(new Set([2])), log: () => {} }),
      (e: unknown) => e instanceof PaperlabError && /1 of 4 seeds failed \(2\)/.test(e.message),
    );
    const partial = JSON.parse(readFileSync(path.join(out, 'fake-exp', 'sweep.json'), 'utf8')) as SweepFile;
    assert.deepEqual(partial.seeds, [0, 1, 3]);
    assert.equal(partial.failed[0]!.seed, 2);
    assert.match(partial.failed[0]!.error, /boom on 2/);
    const r = new FakeRunner();
    const { sweep } = await runSweep(fakeExp, { seeds: [0, 1, 2, 3], out, runner: r, log: () => {} });
    assert.deepEqual(r.calls, [2]);
    assert.deepEqual(sweep.failed, []);
    assert.equal(sweep.runs.length, 4);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the report shows a sweep (escaped) with its interval charts from a folder holding only the sweep', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'pl-sweep-'));
  try {
    await runSweep(fakeExp, { seeds: [0, 1, 2], out, runner: new FakeRunner(), log: () => {} });
    const rep = await buildReport({ resultsDir: out, experiments: [], demos: false });
    const html = readFileSync(rep.indexPath, 'utf8');
    assert.ok(rep.withResults.includes('fake-exp'));
    assert.match(html, /data-sweep="fake-exp"/);
    assert.match(html, /Over 3 seeds/);
    assert.ok(html.includes('arm &lt;b&gt;A&lt;/b&gt;') && !html.includes('arm <b>A</b>'), 'labels are escaped');
    const chart = /src="(charts\/fake-exp--sweep-[^"]*\.svg)"/.exec(html);
    assert.ok(chart, 'the page shows an interval chart');
    const svg = readFileSync(path.join(path.dirname(rep.indexPath), chart[1]!), 'utf8');
    assert.match(svg, /<svg/);
    assert.ok(svg.includes('arm B') && !svg.includes('<b>A</b>'), 'the chart names the arms, escaped');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the real command: seeds in child processes; killed mid-sweep, the rerun completes only the missing seeds', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'pl-sweep-'));
  const env = { ...process.env, PAPERLAB_QUIET: '1' };
  const seedFile = (s: number) => path.join(out, 'gpt3-compute', 'seeds', String(s), 'result.json');
  try {
    const child = spawn(process.execPath, [bin, 'sweep', 'gpt3-compute', '--seeds', '0-5', '--workers', '1', '--out', out], { env, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!existsSync(seedFile(0)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    assert.ok(existsSync(seedFile(0)), 'seed 0 finished before the kill');
    assert.ok(!existsSync(seedFile(5)), 'the sweep was stopped before its last seed');
    const kept = statSync(seedFile(0)).mtimeMs;
    const r = spawnSync(process.execPath, [bin, 'sweep', 'gpt3-compute', '--seeds', '0-5', '--workers', '2', '--out', out], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const m = /(\d+) already done, (\d+) to run/.exec(r.stderr);
    assert.ok(m && Number(m[1]) >= 1 && Number(m[1]) + Number(m[2]) === 6, r.stderr);
    assert.equal(statSync(seedFile(0)).mtimeMs, kept, 'a finished seed is not run again');
    const sweep = JSON.parse(readFileSync(path.join(out, 'gpt3-compute', 'sweep.json'), 'utf8')) as SweepFile;
    assert.deepEqual(sweep.seeds, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(validateSweep(sweep), []);
    assert.match(r.stdout, /gpt3-compute: Over 6 seeds/);
    // Misuse exits 2 with the usage.
    const bad = spawnSync(process.execPath, [bin, 'sweep', 'gpt3-compute'], { env, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--seeds is required/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('PAPERLAB_THREADS sets the native pool per process (a sweep gives each seed cores/workers) and bad values are named', () => {
  const ok = spawnSync(process.execPath, [bin, 'info', '--json'], { env: { ...process.env, PAPERLAB_THREADS: '1' }, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const info = JSON.parse(ok.stdout) as { native: { active: boolean; threads?: number } };
  if (info.native.active) assert.equal(info.native.threads, 1);
  const bad = spawnSync(process.execPath, [bin, 'info'], { env: { ...process.env, PAPERLAB_THREADS: 'lots' }, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /PAPERLAB_THREADS=lots is not a whole number from 1 to 64/);
});
