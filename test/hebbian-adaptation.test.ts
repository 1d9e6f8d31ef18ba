/**
 * hebbian-adaptation's pieces that decide its answer: the frozen-plasticity control (plasticSteps)
 * against a hand-run network, and the run and sweep verdicts, whose every phrase must follow from
 * the numbers (intervals) they are given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PaperlabError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { direction } from '../src/core/stats.js';
import { PlasticNetwork, StaticNetwork } from '../src/hebbian/network.js';
import { FREEZE_STEPS, HEBBIAN_COMPARISONS, hebbianRunVerdict, hebbianSweepVerdict, relation } from '../src/experiments/hebbian-adaptation.js';
import type { SweepComparisonRow } from '../src/experiments/types.js';

const spec = { sizes: [3, 4, 2], rule: 'ABCD_lr' as const, inputBias: true };
const coeffs = new Rng(3).normalArray((3 + 1) * 4 * 5 + 4 * 2 * 5);
const obs = (t: number): number[] => [Math.cos(t), Math.sin(t), 0.3 * t];

test('plasticity off after k steps: weights stay as the first k updates left them', () => {
  const plastic = new PlasticNetwork(spec, coeffs);
  const frozen = new PlasticNetwork({ ...spec, plasticSteps: 3 }, coeffs);
  plastic.reset(new Rng(9));
  frozen.reset(new Rng(9));
  for (let t = 0; t < 3; t++) assert.deepEqual(frozen.act(obs(t)), plastic.act(obs(t)));
  const after3 = frozen.weights.map((w) => w.slice());
  assert.deepEqual(frozen.weights, plastic.weights);
  for (let t = 3; t < 10; t++) {
    frozen.act(obs(t));
    plastic.act(obs(t));
    assert.equal(frozen.lastWeightChange, 0);
  }
  assert.deepEqual(frozen.weights, after3);
  assert.notDeepEqual(plastic.weights, after3);
  // A frozen network acts as a static network with those weights.
  const st = new StaticNetwork(spec.sizes, Float32Array.from(after3.flatMap((w) => Array.from(w))), true);
  assert.deepEqual(frozen.act(obs(11)), st.act(obs(11)));
  // reset starts the count again.
  frozen.reset(new Rng(9));
  frozen.act(obs(0));
  assert.ok(frozen.lastWeightChange > 0);
});

test('plasticSteps 0 never updates; a bad value names the argument', () => {
  const net = new PlasticNetwork({ ...spec, plasticSteps: 0 }, coeffs);
  net.reset(new Rng(1));
  const w0 = net.weights.map((w) => w.slice());
  for (let t = 0; t < 5; t++) net.act(obs(t));
  assert.deepEqual(net.weights, w0);
  assert.throws(() => new PlasticNetwork({ ...spec, plasticSteps: -1 }, coeffs), (e: unknown) => e instanceof PaperlabError && e.argument === 'plasticSteps');
  assert.throws(() => new PlasticNetwork({ ...spec, plasticSteps: 1.5 }, coeffs), (e: unknown) => e instanceof PaperlabError && e.argument === 'plasticSteps');
});

/** Comparison rows for every declared comparison, with a chosen interval per (a, b) pair. */
function rows(ci: (a: string, b: string) => [number, number]): SweepComparisonRow[] {
  return HEBBIAN_COMPARISONS.map((c) => {
    const iv = ci(c.a, c.b);
    return { a: c.a, b: c.b, unit: 'return', n: 5, meanDiff: (iv[0] + iv[1]) / 2, ci95: iv, p: null, test: 'bootstrap', direction: direction(iv), sentence: '' };
  });
}
const seeds = [0, 1, 2, 3, 4];

test('sweep verdict: the paper\'s pattern holds only when both intervals exclude 0 the right way', () => {
  const holds = hebbianSweepVerdict({
    seeds,
    comparisons: rows((a, b) => {
      if (a.startsWith('Static, standard')) return [100, 200]; // damage costs static return
      if (a.includes('lost')) return [-90, -30];
      if (a.includes('seen bodies')) return [-50, -10]; // Hebbian lower when seen
      if (a.includes('unseen damages') && b.includes('Static')) return [20, 60]; // Hebbian higher when unseen
      if (b.includes('plasticity off')) return [-5, 5];
      return [10, 30];
    }),
  });
  assert.match(holds, /^Over 5 independent evolution runs/);
  assert.match(holds, /on 4 of 4 damaged bodies/);
  assert.match(holds, /lower than the static one's on the seen bodies \(-30 \[-50, -10\]\)/);
  assert.match(holds, /higher than it on the unseen damages \(40 \[20, 60\]\)/);
  assert.match(holds, /loses less return than the static one/);
  for (const k of FREEZE_STEPS) assert.match(holds, new RegExp(`within noise of freezing after ${k} steps`));
  assert.match(holds, /pattern .* holds at this scale/);

  const part = hebbianSweepVerdict({
    seeds,
    comparisons: rows((a, b) => {
      if (a.startsWith('Static, standard')) return b.includes('40 %') ? [50, 90] : [-20, 40];
      if (a.includes('seen bodies') && !a.includes('lost')) return [-50, -10];
      if (b.includes('plasticity off after 10')) return [300, 500];
      return [-10, 10];
    }),
  });
  assert.match(part, /on 1 of 4 damaged bodies \(motor at 40 % by 70 \[50, 90\]\)/);
  assert.match(part, /within noise of it on the unseen damages/);
  assert.match(part, /about as much return as the static one \(within noise\)/);
  assert.match(part, /better than freezing after 10 steps \(400 \[300, 500\]\)/);
  assert.match(part, /holds only in part/);

  const none = hebbianSweepVerdict({ seeds, comparisons: rows(() => [-1, 1]) });
  assert.match(none, /no damage lowers the static policy's return beyond noise/);
  assert.match(none, /does not hold/);
  assert.equal(relation(undefined), 'not separable (no interval: too few runs) from');
});

test('run verdict: each phrase follows from its numbers', () => {
  const base = {
    runs: 1,
    seen: { static: -250, hebbian: -300 },
    unseen: { static: -600, hebbian: -500 },
    staticStandard: -220,
    staticWorstDamage: -780,
    frozenUnseen: [{ k: 10, unseen: -1200 }],
    settleMax: 20,
    settleAll: true,
  };
  const v = hebbianRunVerdict(base);
  assert.match(v, /^From one evolution run per network/);
  assert.match(v, /seen bodies the Hebbian network's mean return is lower than the static one's \(-300 vs -250\)/);
  assert.match(v, /unseen damages higher than it \(-500 vs -600\)/);
  assert.match(v, /from -220 to -780/);
  assert.match(v, /-1200 frozen after 10 steps/);
  assert.match(v, /settles within 20 steps \(paper: < 100\)/);
  const w = hebbianRunVerdict({ ...base, seen: { static: -300, hebbian: -250 }, settleMax: null, settleAll: false });
  assert.match(w, /mean return is higher than the static one's/);
  assert.match(w, /keeps changing through the whole episode/);
});
