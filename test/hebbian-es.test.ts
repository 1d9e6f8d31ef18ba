/** OpenAI-ES, fitness evaluation, worker-count invariance, checkpoints and agent files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { OpenAIES, centredRanks, evolve } from '../src/hebbian/es.js';
import { evolvePolicy, evaluateReturns, generationSeeds } from '../src/hebbian/evolve.js';
import { InlineEvaluator } from '../src/hebbian/evaluator.js';
import { WorkerPoolEvaluator } from '../src/hebbian/pool.js';
import { Episode, createEpisode, evaluateFitness, makeAgentFile, runEpisode, type FitnessSpec } from '../src/hebbian/rollout.js';
import { makeEnv } from '../src/hebbian/envs.js';
import { initialParameters, makePolicy, parameterCount } from '../src/hebbian/network.js';

const close = (a: number, b: number, tol: number, msg = ''): void => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

test('centred ranks: −0.5 … 0.5, ties share their mean rank, NaN lowest', () => {
  assert.deepEqual(Array.from(centredRanks([3, 1, 2])), [0.5, -0.5, 0]);
  assert.deepEqual(Array.from(centredRanks([5, 5, 1])), [0.25, 0.25, -0.5]);
  assert.deepEqual(Array.from(centredRanks([7, 7, 7, 7])), [0, 0, 0, 0]);
  Array.from(centredRanks([Number.NaN, -1e9, 0, 1])).forEach((r, k) => close(r, [-0.5, -1 / 6, 1 / 6, 0.5][k]!, 1e-12, `rank ${k}`));
});

test('one ES step by hand: a single antithetic pair moves h by lr·ε/σ towards the better side', () => {
  const h = [0.2, -0.1, 0.4];
  const es = new OpenAIES(h, { populationSize: 2, lr: 0.05, sigma: 0.1, penalty: 0 }, new Rng(1));
  const { candidates } = es.ask();
  const eps = Array.from(candidates[0]!, (c, k) => (c - h[k]!) / 0.1);
  Array.from(candidates[1]!).forEach((c, k) => close(c, h[k]! - 0.1 * eps[k]!, 1e-6, 'antithetic'));
  // f(+) > f(−): ranks [0.5, −0.5], standardised [1, −1]; step = lr/(2σ)·(1·ε − (−1)·ε) = lr·ε/σ.
  const stats = es.tell([2, 1]);
  Array.from(es.params).forEach((p, k) => close(p, h[k]! + (0.05 * eps[k]!) / 0.1, 1e-5, `h[${k}]`));
  assert.equal(stats.meanFitness, 1.5);
  close(es.lr, 0.05 * 0.995, 1e-12, 'lr decay');
  close(es.sigma, 0.1 * 0.999, 1e-12, 'σ decay');
  // Without standardisation the step halves (ranks ±0.5).
  const raw = new OpenAIES(h, { populationSize: 2, lr: 0.05, sigma: 0.1, penalty: 0, standardiseRanks: false }, new Rng(1));
  raw.ask();
  raw.tell([2, 1]);
  Array.from(raw.params).forEach((p, k) => close(p, h[k]! + (0.5 * 0.05 * eps[k]!) / 0.1, 1e-5, `raw h[${k}]`));
});

test('coefficient penalty breaks a fitness tie in favour of smaller parameters; lr and σ stop at their floors', () => {
  const es = new OpenAIES([1, 1], { populationSize: 2, lr: 0.1, sigma: 0.5, penalty: 0.01, lrDecay: 0.5, lrFloor: 0.02, sigmaDecay: 0.5, sigmaFloor: 0.3 }, new Rng(2));
  const { candidates } = es.ask();
  const norm = (c: Float32Array): number => c.reduce((s, x) => s + x * x, 0);
  const before = norm(es.params);
  es.tell([0, 0]);
  assert.ok(norm(es.params) < before, 'moved towards the smaller candidate');
  assert.ok(norm(candidates[0]!) !== norm(candidates[1]!));
  for (let g = 0; g < 5; g++) {
    es.ask();
    es.tell([1, 0]);
  }
  assert.equal(es.lr, 0.02);
  assert.equal(es.sigma, 0.3);
  assert.throws(() => new OpenAIES([0], { populationSize: 5 }), (e: unknown) => e instanceof PaperlabError && e.argument === 'populationSize');
  assert.throws(() => es.tell([1, 2]), (e: unknown) => e instanceof PaperlabError && e.argument === 'tell');
  // A flat landscape (no penalty) leaves h where it is.
  const flat = new OpenAIES([0.3, -0.2], { populationSize: 4, penalty: 0 }, new Rng(3));
  flat.ask();
  flat.tell([1, 1, 1, 1]);
  assert.deepEqual(Array.from(flat.params), [Math.fround(0.3), Math.fround(-0.2)]);
});

test('ES reaches the optimum of a quadratic', async () => {
  const target = Float32Array.from({ length: 20 }, (_, k) => Math.sin(k + 1));
  const f = (x: Float32Array): number => -x.reduce((s, v, k) => s + (v - target[k]!) ** 2, 0);
  const start = new Float32Array(20);
  const r = await evolve({
    initial: start,
    generations: 300,
    seed: 3,
    quiet: true,
    // Rank-based steps do not shrink near the optimum by themselves: lr must decay faster than σ.
    config: { populationSize: 40, lr: 0.05, sigma: 0.1, penalty: 0, lrDecay: 0.98, sigmaDecay: 0.999 },
    objective: (cands) => cands.map(f),
  });
  r.params.forEach((v, k) => close(v, target[k]!, 0.01, `x[${k}]`));
  assert.equal(r.history.length, 300);
});

const cartSpec: FitnessSpec = {
  policy: { kind: 'hebbian', sizes: [4, 6, 2], rule: 'ABCD_lr', normalise: true },
  envs: [{ name: 'cartpole', body: 'standard', maxSteps: 200 }, { name: 'cartpole', body: 'long-pole', maxSteps: 200 }],
  episodes: 2,
};

test('fitness = mean return over every body and episode seed', () => {
  const params = initialParameters(cartSpec.policy, new Rng(4));
  const seeds = [11, 12];
  let sum = 0;
  for (const e of cartSpec.envs) for (const s of seeds) sum += runEpisode(makeEnv(e), makePolicy(cartSpec.policy, params), s).totalReward;
  assert.equal(evaluateFitness(cartSpec, params, seeds), sum / 4);
  // An episode seed fixes both the start state and the random initial weights.
  const a = runEpisode(makeEnv(cartSpec.envs[0]!), makePolicy(cartSpec.policy, params), 11, { recordWeightChange: true });
  const b = runEpisode(makeEnv(cartSpec.envs[0]!), makePolicy(cartSpec.policy, params), 11, { recordWeightChange: true });
  assert.deepEqual(a, b);
  assert.equal(a.weightChanges!.length, a.steps);
  // Shared seeding gives every candidate the same seeds; per-candidate seeding does not.
  const shared = generationSeeds(new Rng(1), 3, 2, 'shared');
  assert.deepEqual(shared[0], shared[2]);
  const own = generationSeeds(new Rng(1), 3, 2, 'per-candidate');
  assert.notDeepEqual(own[0], own[1]);
});

test('evolution gives identical results on 0, 1 and 2 worker threads', async () => {
  const run = async (evaluator: InlineEvaluator | WorkerPoolEvaluator) => {
    try {
      return await evolvePolicy({ spec: cartSpec, generations: 3, es: { populationSize: 10 }, seed: 5, evaluator, quiet: true, seeding: 'per-candidate' });
    } finally {
      await evaluator.close();
    }
  };
  const inline = await run(new InlineEvaluator());
  const one = await run(new WorkerPoolEvaluator({ workers: 1 }));
  const two = await run(new WorkerPoolEvaluator({ workers: 2, slicesPerWorker: 3 }));
  assert.deepEqual(one.params, inline.params);
  assert.deepEqual(two.params, inline.params);
  assert.deepEqual(two.history, inline.history);
  assert.ok(inline.history.some((h) => h.maxFitness > h.minFitness), 'candidates differ');
});

test('a run resumed from its per-generation checkpoint ends exactly where an uninterrupted one does', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperlab-es-'));
  try {
    const opts = { spec: cartSpec, es: { populationSize: 8 }, seed: 6, workers: 0, quiet: true };
    const straight = await evolvePolicy({ ...opts, generations: 4 });
    const ck = path.join(dir, 'ck');
    const first = await evolvePolicy({ ...opts, generations: 2, checkpointDir: ck });
    assert.equal(first.resumedFrom, 0);
    const resumed = await evolvePolicy({ ...opts, generations: 4, checkpointDir: ck });
    assert.equal(resumed.resumedFrom, 2);
    assert.deepEqual(resumed.params, straight.params);
    assert.deepEqual(resumed.history.map((h) => h.meanFitness), straight.history.map((h) => h.meanFitness));
    await assert.rejects(evolvePolicy({ ...opts, seed: 7, generations: 5, checkpointDir: ck }), (e: unknown) => e instanceof PaperlabError && e.argument === 'checkpointDir');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evolving Hebbian coefficients improves CartPole balancing from random weights', async () => {
  const spec: FitnessSpec = { policy: { kind: 'hebbian', sizes: [4, 8, 2], rule: 'ABCD_lr', normalise: true }, envs: [{ name: 'cartpole', maxSteps: 200 }], episodes: 1 };
  const start = initialParameters(spec.policy, new Rng(8));
  const before = evaluateReturns(spec, start, spec.envs[0]!, 20, 99).mean;
  const r = await evolvePolicy({ spec, generations: 15, es: { populationSize: 24 }, initial: start, seed: 8, workers: 0, quiet: true });
  const after = evaluateReturns(spec, r.params, spec.envs[0]!, 20, 99).mean;
  assert.ok(after > before + 20 && after > 60, `mean return ${before.toFixed(1)} → ${after.toFixed(1)}`);
});

test('agent files: stepping an episode by hand gives the same return as runEpisode', () => {
  const spec = cartSpec.policy;
  const params = initialParameters(spec, new Rng(9));
  const file = JSON.parse(JSON.stringify(makeAgentFile({ name: 'cartpole', maxSteps: 200 }, spec, params, { note: 'test' })));
  const ep = createEpisode(file, 17);
  let last = 0;
  while (!ep.done) last = ep.step().totalReward;
  const want = runEpisode(makeEnv({ name: 'cartpole', maxSteps: 200 }), makePolicy(spec, Float32Array.from(params)), 17).totalReward;
  assert.equal(last, want);
  // A damaged body can be swapped in for a demo.
  const damaged = createEpisode(file, 17, 'long-pole');
  assert.equal((damaged.env as unknown as { body: { length: number } }).body.length, 1);
  assert.throws(() => createEpisode({ format: 'nope' }, 1), (e: unknown) => e instanceof PaperlabError && e.argument === 'agent');
  assert.throws(() => new Episode(makeEnv({ name: 'pendulum' }), makePolicy(spec, params), 1), (e: unknown) => e instanceof PaperlabError && e.argument === 'policy.sizes');
  assert.equal(parameterCount(spec), (4 * 6 + 6 * 2) * 5);
});
