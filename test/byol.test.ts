/**
 * BYOL / SimSiam mechanics against closed forms: the τ schedule, the EMA update, 2 − 2cos on hand
 * cases, the symmetrised loss rebuilt from the parts, no gradient into the target, target
 * initialisation, the collapse monitor on constant and random embeddings, bad options, and a
 * short seeded training run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { AdamW } from '../src/core/optim.js';
import { trainStep } from '../src/core/train.js';
import { BYOL, CollapseMonitor, SimSiam, byolTau, emaUpdate, regressionLoss, trainByol, type ByolConfig } from '../src/byol/index.js';

await tf.setBackend('cpu');
tf.enableProdMode();

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const tiny: ByolConfig = { encoder: { kind: 'mlp', hidden: [16], dim: 8, imageSize: 6 }, projector: { hidden: 12, out: 5 }, predictor: { hidden: 7 } };
const images = (rng: Rng, n: number) => tf.tensor4d(rng.uniformArray(n * 36), [n, 6, 6, 1]);
const values = (vars: Record<string, tf.Variable>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Array.from(v.dataSync())]));

test('τ schedule: τ_base at k = 0, 1 at k = K, the closed form in between; constant option', () => {
  close(byolTau(0, 100, 0.996), 0.996, 1e-12, 'k=0');
  close(byolTau(100, 100, 0.996), 1, 1e-12, 'k=K');
  close(byolTau(50, 100, 0.996), 1 - 0.004 / 2, 1e-12, 'k=K/2');
  close(byolTau(25, 100, 0.9), 1 - (0.1 * (Math.SQRT1_2 + 1)) / 2, 1e-12, 'k=K/4');
  close(byolTau(37, 100, 0.9, 'constant'), 0.9, 0, 'constant');
  assert.equal(byolTau(10, 20, 1), 1);
  assert.throws(() => byolTau(0, 10, 1.5), (e: unknown) => e instanceof PaperlabError && e.argument === 'tauBase');
});

test('EMA update ξ ← τξ + (1 − τ)θ; τ = 1 keeps the target, τ = 0 copies the online weights', () => {
  const xi = { w: tf.variable(tf.tensor1d([1, 2, 3])) };
  const theta = { w: tf.variable(tf.tensor1d([5, -2, 0])) };
  emaUpdate(xi, theta, 0.75);
  assert.deepEqual(Array.from(xi.w.dataSync()), [0.75 + 1.25, 1.5 - 0.5, 2.25]);
  emaUpdate(xi, theta, 1);
  assert.deepEqual(Array.from(xi.w.dataSync()), [2, 1, 2.25]);
  emaUpdate(xi, theta, 0);
  assert.deepEqual(Array.from(xi.w.dataSync()), [5, -2, 0]);
});

test('regression loss is 2 − 2·cos on hand cases', () => {
  const q = tf.tensor2d([[1, 0], [1, 0], [1, 0], [1, 1], [3, 4]]);
  const z = tf.tensor2d([[0, 1], [2, 0], [-1, 0], [1, 0], [4, 3]]);
  const got = Array.from(regressionLoss(q, z).dataSync());
  const want = [2, 0, 4, 2 - Math.SQRT2, 2 - 2 * (24 / 25)];
  got.forEach((g, i) => close(g, want[i]!, 1e-6, `row ${i}`));
  assert.throws(() => regressionLoss(tf.zeros([2, 3]), tf.zeros([2, 4])), PaperlabError);
});

test('the model loss is the symmetrised 2 − 2cos of online predictions against target projections', () => {
  const rng = new Rng(1);
  const m = new BYOL({ ...tiny, headBatchNorm: false }, rng);
  const x1 = images(rng, 4);
  const x2 = images(rng, 4);
  const loss = m.loss(x1, x2, false).dataSync()[0]!;
  const q = (x: tf.Tensor4D) => m.online.predictor!.apply(m.online.projector.apply(m.online.encoder.apply(x)));
  const zt = (x: tf.Tensor4D) => m.target!.projector.apply(m.target!.encoder.apply(x));
  const cos = (a: tf.Tensor, b: tf.Tensor) => {
    const A = a.arraySync() as number[][];
    const B = b.arraySync() as number[][];
    return A.map((r, i) => r.reduce((s, v, j) => s + v * B[i]![j]!, 0) / (Math.hypot(...r) * Math.hypot(...B[i]!)));
  };
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const want = mean(cos(q(x1), zt(x2)).map((c) => 2 - 2 * c)) + mean(cos(q(x2), zt(x1)).map((c) => 2 - 2 * c));
  close(loss, want, 1e-5, 'loss');
  m.dispose();
});

test('target starts as a copy of the online network (or independent), and no gradient reaches it', () => {
  const rng = new Rng(2);
  const m = new BYOL(tiny, rng);
  assert.deepEqual(values(m.targetVariables()), values(Object.fromEntries(Object.keys(m.targetVariables()).map((k) => [k, m.variables()[k]!]))));
  const ind = new BYOL({ ...tiny, targetInit: 'independent' }, new Rng(2));
  assert.notDeepEqual(values(ind.targetVariables())['encoder/dense0/w'], values(ind.variables())['encoder/dense0/w']);
  ind.dispose();

  const x1 = images(rng, 6);
  const x2 = images(rng, 6);
  const online = m.variables();
  const target = m.targetVariables();
  const targetKeys = Object.keys(target);
  const { grads } = tf.variableGrads(() => m.loss(x1, x2), [...Object.values(online), ...Object.values(target)]);
  for (const k of targetKeys) {
    const g = grads[target[k]!.name];
    assert.ok(!g || g.dataSync().every((v) => v === 0), `target ${k} got a gradient`);
  }
  assert.ok(Object.keys(online).some((k) => grads[online[k]!.name]!.dataSync().some((v) => v !== 0)), 'online gets a gradient');

  // A training step leaves the target alone; the EMA step then moves it by the closed form.
  const before = values(target);
  const opt = new AdamW({ lr: 0.01 });
  trainStep(() => m.loss(x1, x2), online, opt);
  assert.deepEqual(values(target), before);
  const onlineNow = values(online);
  m.updateTarget(0.9);
  const after = values(target);
  for (const k of targetKeys) after[k]!.forEach((v, i) => close(v, 0.9 * before[k]![i]! + 0.1 * onlineNow[k]![i]!, 1e-5, k));
  m.dispose();
});

test('SimSiam: stop-gradient changes the gradient; without it the loss differentiates both branches', () => {
  const rng = new Rng(3);
  const a = new SimSiam(tiny, new Rng(3));
  const b = new SimSiam({ ...tiny, stopGradient: false }, new Rng(3));
  assert.equal(a.target, undefined);
  const x1 = images(rng, 6);
  const x2 = images(rng, 6);
  close(a.loss(x1, x2).dataSync()[0]!, b.loss(x1, x2).dataSync()[0]!, 1e-6, 'same forward value');
  const ga = tf.variableGrads(() => a.loss(x1, x2), Object.values(a.variables())).grads;
  const gb = tf.variableGrads(() => b.loss(x1, x2), Object.values(b.variables())).grads;
  const wa = ga[a.variables()['projector/fc2/w']!.name]!.dataSync();
  const wb = gb[b.variables()['projector/fc2/w']!.name]!.dataSync();
  assert.ok(wa.some((v, i) => Math.abs(v - wb[i]!) > 1e-6), 'gradients should differ');
  a.dispose();
  b.dispose();
});

test('collapse monitor: 0 on constant embeddings, ≈ 1 (std ≈ 1/√d) on random ones', () => {
  const rng = new Rng(4);
  const n = 2000;
  const d = 32;
  const data = { trainX: images(rng, 40), trainY: tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 2), 'int32'), testX: images(rng, n), testY: tf.tensor1d(new Int32Array(n)) };
  const constant = { project: (x: tf.Tensor4D) => tf.tile(tf.tensor2d([[1, 2, 3]]), [x.shape[0], 1]) as tf.Tensor2D, encode: (x: tf.Tensor4D) => tf.ones([x.shape[0], 4]) as tf.Tensor2D };
  const mon = new CollapseMonitor(data, { k: 5 });
  const c = mon.measure(constant, 0);
  assert.equal(c.projectionStd, 0);
  assert.equal(c.representationStd, 0);
  const noise = new Rng(5);
  const random = {
    project: (x: tf.Tensor4D) => tf.tensor2d(noise.normalArray(x.shape[0] * d), [x.shape[0], d]),
    encode: (x: tf.Tensor4D) => tf.tensor2d(noise.normalArray(x.shape[0] * d), [x.shape[0], d]),
  };
  const r = mon.measure(random, 1);
  close(r.projectionStdRaw, 1 / Math.sqrt(d), 0.02, 'raw std');
  close(r.projectionStd, 1, 0.03, 'scaled std');
  assert.equal(mon.history.length, 2);
});

test('bad options give PaperlabErrors naming the option', () => {
  const rng = new Rng(6);
  const expect = (c: ByolConfig, arg: string) => assert.throws(() => new BYOL(c, rng), (e: unknown) => e instanceof PaperlabError && e.argument === arg);
  expect({ ...tiny, stopGradient: false }, 'stopGradient');
  expect({ ...tiny, tauBase: 1.2 }, 'tauBase');
  expect({ ...tiny, mode: 'moco' as 'byol' }, 'mode');
  expect({ ...tiny, tauSchedule: 'linear' as 'cosine' }, 'tauSchedule');
  const m = new BYOL(tiny, rng);
  assert.throws(() => m.loss(images(rng, 3), images(rng, 4)), (e: unknown) => e instanceof PaperlabError && e.argument === 'view2');
  assert.throws(() => m.loss(tf.zeros([3, 28, 28, 1]) as tf.Tensor4D, tf.zeros([3, 28, 28, 1]) as tf.Tensor4D), (e: unknown) => e instanceof PaperlabError && e.argument === 'view1');
  m.dispose();
});

test('a short seeded run: finite losses, τ follows the schedule, the monitor logs, same seed → same numbers', async () => {
  const run = async () => {
    const rng = new Rng(7);
    const m = new BYOL({ ...tiny, tauBase: 0.9 }, rng.fork('model'));
    const x = images(new Rng(8), 32);
    const y = tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), 'int32');
    const mon = new CollapseMonitor({ trainX: x, trainY: y, testX: x, testY: y }, { k: 3 });
    const h = await trainByol(m, x, { steps: 4, batchSize: 8, rng: rng.fork('train'), monitor: mon, monitorEvery: 2, quiet: true });
    m.dispose();
    return h;
  };
  const a = await run();
  const b = await run();
  assert.equal(a.losses.length, 4);
  assert.ok(a.losses.every(Number.isFinite));
  a.taus.forEach((t, i) => close(t, byolTau(i + 1, 4, 0.9), 1e-12, `tau ${i}`));
  assert.deepEqual(a.monitor.map((s) => s.step), [0, 2, 4]);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.monitor, b.monitor);
});

test('training and monitoring release every tensor they create (EMA assigns, kNN top-k)', async () => {
  const rng = new Rng(9);
  const x = images(rng, 24);
  const y = tf.tensor1d(Array.from({ length: 24 }, (_, i) => i % 3), 'int32');
  for (const mode of ['byol', 'simsiam'] as const) {
    const m = new BYOL({ ...tiny, mode }, rng.fork(mode));
    const mon = new CollapseMonitor({ trainX: x, trainY: y, testX: x, testY: y }, { k: 3 });
    const before = tf.memory().numTensors;
    await trainByol(m, x, { steps: 4, batchSize: 8, rng: rng.fork('t'), monitor: mon, monitorEvery: 2, quiet: true });
    assert.equal(tf.memory().numTensors, before, mode);
    m.dispose();
  }
});
