/**
 * `paperlab sweep --redis`: seeds as queue jobs give the same sweep as local processes, and a Redis
 * restart that loses every job mid-sweep is survived (the lost seeds are enqueued again).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findExperiment } from '../src/experiments/index.js';
import { LocalProcessRunner, runSweep, type SweepFile } from '../src/experiments/sweep.js';
import { RedisSeedRunner, seedJobId } from '../src/scale/seed-runner.js';
import { startRedis, type LocalRedis } from '../src/scale/redis-server.js';
import { PaperlabError } from '../src/core/errors.js';
import { killAllWorkers, spawnWorker } from './scale-helpers.js';

let redis: LocalRedis;
const root = mkdtempSync(path.join(tmpdir(), 'paperlab-scale-sweep-'));
const exp = findExperiment('gpt3-compute')!;
const seeds = [0, 1];
/** The parts of a run that are its numbers (not when or how long it ran). */
const numbers = (s: SweepFile): unknown => ({ summary: s.summary, verdict: s.verdict, runs: s.runs.map((r) => ({ seed: r.seed, quick: r.quick, table: r.table, verdict: r.verdict })) });

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await killAllWorkers();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('sweep on queue workers equals the local sweep; a Redis restart mid-sweep is survived', async () => {
  const local = await runSweep(exp, { seeds, quick: true, out: path.join(root, 'local'), runner: new LocalProcessRunner({ workers: 2 }), log: () => undefined });
  await spawnWorker(redis.url);
  const logs: string[] = [];
  const runner = await RedisSeedRunner.connect({ url: redis.url, pollMs: 200, log: (m) => logs.push(m) });
  let restarted = false;
  // Restart (empty) Redis as soon as the first seed is written: the other seeds' jobs are lost with it.
  const out = path.join(root, 'queue');
  const done = runSweep(exp, {
    seeds,
    quick: true,
    out,
    runner,
    log: (m) => {
      if (/^seed \d+ done/.test(m) && !restarted) {
        restarted = true;
        void redis.restart();
      }
    },
  });
  const queued = await done;
  assert.ok(restarted, 'Redis was restarted during the sweep');
  assert.ok(logs.some((l) => /job seed\.gpt3-compute\.1\.quick is not in Redis .* enqueueing it again/.test(l)), `the lost seed was enqueued again: ${logs.join(' | ')}`);
  assert.deepEqual(numbers(queued.sweep), numbers(local.sweep));
  assert.match(queued.sweep.runner, /^redis redis:\/\/127\.0\.0\.1:\d+ queue paperlab$/);
  // Same layout as the local path: each seed's result.json and log.txt.
  for (const s of seeds) {
    const r = JSON.parse(readFileSync(path.join(out, exp.name, 'seeds', String(s), 'result.json'), 'utf8'));
    assert.equal(r.seed, s);
    assert.match(readFileSync(path.join(out, exp.name, 'seeds', String(s), 'log.txt'), 'utf8'), /^\[ran on /);
  }
  assert.equal(seedJobId({ name: 'x', seed: 3, quick: true }), 'seed.x.3.quick');
});

test('a seed job with an unknown experiment fails with the reason, once, and the sweep says which seed', async () => {
  const runner = await RedisSeedRunner.connect({ url: redis.url, pollMs: 200, log: () => undefined });
  const fake = { ...exp, name: 'no-such-experiment' };
  await assert.rejects(runSweep(fake, { seeds: [7], quick: true, out: path.join(root, 'bad'), runner, log: () => undefined }), (e: unknown) => {
    assert.ok(e instanceof PaperlabError);
    const s = JSON.parse(readFileSync(path.join(root, 'bad', 'no-such-experiment', 'sweep.json'), 'utf8')) as SweepFile;
    assert.equal(s.failed.length, 1);
    assert.match(s.failed[0]!.error, /failed after 1 attempt\(s\).*unknown experiment/i);
    return true;
  });
});
