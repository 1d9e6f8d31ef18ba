/**
 * Queue-backed ES (BullMQ on a throwaway loopback redis-server): bit-identical to the local
 * evaluator with 1 and 3 workers, through a worker SIGKILLed mid-generation and a frozen worker
 * whose job is delivered twice; a malformed slice fails on its own without poisoning the queue.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { PaperlabError } from '../src/core/errors.js';
import { evolvePolicy } from '../src/hebbian/evolve.js';
import { InlineEvaluator, type Evaluator } from '../src/hebbian/evaluator.js';
import type { FitnessSpec } from '../src/hebbian/rollout.js';
import type { EvolveResult } from '../src/hebbian/es.js';
import { QueueEvaluator } from '../src/scale/es-evaluator.js';
import { probeRedis } from '../src/scale/connection.js';
import { freePort, startRedis, type LocalRedis } from '../src/scale/redis-server.js';
import { SLICE_JOB } from '../src/scale/jobs.js';
import { killAllWorkers, spawnWorker, workers } from './scale-helpers.js';

const spec: FitnessSpec = {
  policy: { kind: 'hebbian', sizes: [4, 6, 2], rule: 'ABCD_lr', normalise: true },
  envs: [{ name: 'cartpole', body: 'standard', maxSteps: 200 }, { name: 'cartpole', body: 'long-pole', maxSteps: 200 }],
  episodes: 2,
};
const opts = { spec, generations: 8, es: { populationSize: 24 }, seed: 11, quiet: true, seeding: 'per-candidate' as const };

let redis: LocalRedis;
let reference: EvolveResult;

const same = (a: EvolveResult, b: EvolveResult, what: string): void => {
  assert.deepEqual(Buffer.from(b.params.buffer), Buffer.from(a.params.buffer), `${what}: final parameters differ`);
  assert.deepEqual(b.history, a.history, `${what}: history differs`);
};

before(async () => {
  redis = await startRedis();
  // Reference: candidates as full vectors on this thread (an evaluator without evaluatePerturbed).
  const inline = new InlineEvaluator();
  const plain: Evaluator = { workers: 0, evaluate: (s, c, e) => inline.evaluate(s, c, e), close: async () => undefined };
  reference = await evolvePolicy({ ...opts, evaluator: plain });
});

after(async () => {
  await killAllWorkers();
  await redis?.stop();
});

test('the local evaluator rebuilding candidates from seeds equals full vectors bit for bit', async () => {
  same(reference, await evolvePolicy({ ...opts, evaluator: new InlineEvaluator() }), 'inline evaluatePerturbed');
});

// The workers live across the tests below (starting one costs seconds): 1, then 3, then one killed, one frozen.
test('queue-backed ES equals local ES bit for bit with 1 and with 3 workers', async () => {
  const ev = await QueueEvaluator.connect({ url: redis.url, slices: 6, log: () => undefined });
  try {
    await spawnWorker(redis.url);
    same(reference, await evolvePolicy({ ...opts, evaluator: ev }), '1 worker');
    await Promise.all([spawnWorker(redis.url), spawnWorker(redis.url)]);
    same(reference, await evolvePolicy({ ...opts, evaluator: ev }), '3 workers');
    // The full-vector path through the queue gives the same numbers too.
    const inline = new InlineEvaluator();
    const cands = Array.from({ length: 5 }, (_, k) => Float32Array.from({ length: reference.params.length }, (_, j) => Math.sin(k + j)));
    const seeds = cands.map((_, k) => [k, k + 100]);
    assert.deepEqual(await ev.evaluate(spec, cands, seeds), await inline.evaluate(spec, cands, seeds));
  } finally {
    await ev.close();
  }
});

test('a worker SIGKILLed mid-generation: its slice is retried elsewhere, same numbers', async () => {
  const victim = [...workers][0]!;
  const ev = await QueueEvaluator.connect({ url: redis.url, slices: 6, log: () => undefined });
  try {
    let killed = false;
    const r = await evolvePolicy({
      ...opts,
      evaluator: ev,
      onGeneration: (s) => {
        // Generation 2 starts right after this returns; 8 generations keep the workers busy well past the kill
        // even on an idle machine (with 3 the run could finish within the 100 ms).
        if (s.generation === 1) setTimeout(() => void victim.kill().then(() => (killed = true)), 100);
      },
    });
    assert.ok(killed, 'the worker was killed before the run finished');
    assert.equal(victim.child.signalCode, 'SIGKILL');
    same(reference, r, 'after SIGKILL');
  } finally {
    await ev.close();
  }
});

test('duplicate delivery: a frozen worker loses its lock, another runs its slice, the first finishes late — same numbers', async () => {
  const frozen = [...workers][0]!;
  const ev = await QueueEvaluator.connect({ url: redis.url, slices: 6, log: () => undefined });
  try {
    const run = evolvePolicy({ ...opts, evaluator: ev });
    await new Promise((r) => setTimeout(r, 100));
    frozen.freeze(); // holds a slice and cannot renew its lock
    await new Promise((r) => setTimeout(r, 3000)); // the lock (1.5 s) expires; the other worker's stalled check takes the slice
    frozen.thaw(); // it finishes its copy too (and is told its lock is gone)
    same(reference, await run, 'duplicate delivery');
  } finally {
    await ev.close();
  }
});

test('a malformed slice fails with a clear reason in its record and does not poison the queue', async () => {
  const q = new Queue('paperlab', { connection: { url: redis.url } });
  const ev = await QueueEvaluator.connect({ url: redis.url, slices: 4, log: () => undefined });
  try {
    const job = await q.add(SLICE_JOB, { spec, kind: 'perturbed', first: 0, count: 2, seeds: 'AAAA', centre: '', sigma: 0.1, noise: [{ s: [1, 2, 3, 4], spare: null }] }, { jobId: 'bad-1', attempts: 3 });
    let state = '';
    for (let t = 0; t < 100 && state !== 'failed'; t++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await job.getState();
    }
    assert.equal(state, 'failed');
    const rec = (await q.getJob('bad-1'))!;
    assert.match(rec.failedReason, /malformed payload: job data\.seeds: holds 3 bytes/);
    assert.equal(rec.attemptsMade, 1, 'not retried');
    // The queue goes on: a whole generation afterwards gives the local numbers.
    same(reference, await evolvePolicy({ ...opts, evaluator: ev }), 'after a malformed job');
    // A generation whose slice is malformed fails with that slice's reason, not a hang.
    const bad = { ...spec, episodes: 2, envs: [{ name: 'nope' }] } as unknown as FitnessSpec;
    await assert.rejects(ev.evaluatePerturbed!(bad, { centre: reference.params, sigma: 0.1, noise: [{ s: [1, 2, 3, 4], spare: null }] }, [[1, 2], [3, 4]]), /./);
  } finally {
    await ev.close();
    await q.close();
  }
});

test('unreachable Redis: a clear PaperlabError naming --redis', async () => {
  const port = await freePort();
  await assert.rejects(QueueEvaluator.connect({ url: `redis://127.0.0.1:${port}` }), (e: unknown) => e instanceof PaperlabError && e.argument === '--redis' && /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/.test(e.message));
  await assert.rejects(probeRedis('http://x'), (e: unknown) => e instanceof PaperlabError && /not a redis:\/\/ URL/.test(e.message));
});
