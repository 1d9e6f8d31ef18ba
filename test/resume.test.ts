/**
 * Checkpoint and exact resume of the contrastive, cross-entropy, probe and BYOL trainers: a run
 * stopped after k steps (`stopAfter`, as if killed) and resumed from its checkpoint ends with the
 * same weights, batch-norm statistics, losses and evaluations, bit for bit, as a run that never
 * stopped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { Dense, Encoder, ProjectionHead, prefixed, pretrainContrastive, probeEncoder, trainCrossEntropy, type Module } from '../src/contrastive/index.js';
import { BYOL, CollapseMonitor, trainByol, type ByolConfig } from '../src/byol/index.js';
import { trainGPT } from '../src/gpt/trainer.js';

await tf.setBackend('cpu');

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'paperlab-resume-'));
const images = (rng: Rng, n: number) => tf.tensor4d(rng.uniformArray(n * 36), [n, 6, 6, 1]);
const labelsOf = (n: number, k: number) => tf.tensor1d(Array.from({ length: n }, (_, i) => i % k), 'int32');
/** Every variable and buffer of the modules, as plain arrays (exact comparison with deepEqual). */
function snapshot(mods: Record<string, Module>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [p, m] of Object.entries(mods)) {
    for (const [k, v] of Object.entries({ ...prefixed(p, m.variables()), ...prefixed(`${p}#buf`, m.buffers()) })) out[k] = Array.from(v.dataSync());
  }
  return out;
}
const encCfg = { kind: 'mlp' as const, hidden: [12], dim: 8, imageSize: 6, batchNorm: true };

test('pretrainContrastive: stop after 3 of 7 steps, resume → identical weights, BN statistics, losses, evals', async () => {
  const x = images(new Rng(1), 24);
  const y = labelsOf(24, 3);
  const dir = tmp();
  const build = () => {
    const r = new Rng(2);
    return { enc: new Encoder(encCfg, r.fork('e')), head: new ProjectionHead(8, r.fork('h'), { out: 4, batchNorm: true }), rng: r.fork('t') };
  };
  let evalCalls = 0;
  const opts = (rng: Rng, enc: Encoder) => ({
    method: 'supcon' as const, steps: 7, batchSize: 8, rng, quiet: true, evalEvery: 2,
    evaluate: () => (evalCalls++, { norm: tf.tidy(() => tf.sum(tf.square(enc.apply(x, false))).dataSync()[0]!) }),
  });
  try {
    const a = build();
    const full = await pretrainContrastive(a.enc, a.head, x, y, opts(a.rng, a.enc));
    const want = snapshot({ enc: a.enc, head: a.head });
    const b = build();
    const part = await pretrainContrastive(b.enc, b.head, x, y, { ...opts(b.rng, b.enc), checkpointDir: dir, checkpointEvery: 2, stopAfter: 3 });
    assert.equal(part.losses.length, 3);
    assert.deepEqual(part.evals.map((e) => e.step), [2], 'no evaluation at the stop (the uninterrupted run has none at step 3)');
    assert.notDeepEqual(snapshot({ enc: b.enc, head: b.head }), want, 'the stopped run must not have reached the end');
    b.enc.dispose();
    b.head.dispose();
    const c = build(); // a fresh process would build the same modules from the same seed
    evalCalls = 0;
    const rest = await pretrainContrastive(c.enc, c.head, x, y, { ...opts(c.rng, c.enc), checkpointDir: dir, resume: true });
    assert.equal(evalCalls, 3, 'the resumed run evaluates at steps 4, 6 and 7 only');
    assert.deepEqual(snapshot({ enc: c.enc, head: c.head }), want);
    assert.deepEqual(rest.losses, full.losses);
    assert.deepEqual(rest.evals, full.evals);
    assert.ok(Object.keys(want).some((k) => k.includes('#buf')), 'batch-norm statistics are part of the comparison');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('trainCrossEntropy and probeEncoder: stop and resume give the same numbers as one run', async () => {
  const x = images(new Rng(3), 24);
  const y = labelsOf(24, 4);
  const dirs = [tmp(), tmp()];
  const build = () => {
    const r = new Rng(4);
    return { enc: new Encoder(encCfg, r.fork('e')), clf: new Dense(8, 4, r.fork('c')), rng: r.fork('t') };
  };
  const opts = (rng: Rng) => ({ steps: 6, batchSize: 6, rng, quiet: true });
  try {
    const a = build();
    const full = await trainCrossEntropy(a.enc, a.clf, x, y, opts(a.rng));
    const b = build();
    await trainCrossEntropy(b.enc, b.clf, x, y, { ...opts(b.rng), checkpointDir: dirs[0], stopAfter: 4 });
    const c = build();
    const rest = await trainCrossEntropy(c.enc, c.clf, x, y, { ...opts(c.rng), checkpointDir: dirs[0], resume: true });
    assert.deepEqual(snapshot({ enc: c.enc, clf: c.clf }), snapshot({ enc: a.enc, clf: a.clf }));
    assert.deepEqual(rest.losses, full.losses);

    // The probe on the trained encoder: 12 steps at once vs 5 + 7.
    const data = { trainX: x, trainY: y, testX: images(new Rng(5), 12), testY: labelsOf(12, 4) };
    const probe = { steps: 12, batchSize: 8, lr: 0.05 };
    const once = await probeEncoder(a.enc, data, { ...probe, rng: new Rng(6) });
    const first = await probeEncoder(a.enc, data, { ...probe, rng: new Rng(6), checkpointDir: dirs[1], stopAfter: 5 });
    assert.notEqual(first.finalLoss, once.finalLoss);
    const second = await probeEncoder(a.enc, data, { ...probe, rng: new Rng(6), checkpointDir: dirs[1], resume: true });
    assert.deepEqual(second, once);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test('trainByol: stop and resume reproduce online and target weights, τ history and the collapse monitor', async () => {
  const tiny: ByolConfig = { encoder: { kind: 'mlp', hidden: [16], dim: 8, imageSize: 6 }, projector: { hidden: 12, out: 5 }, predictor: { hidden: 7 }, tauBase: 0.9 };
  const x = images(new Rng(8), 24);
  const y = labelsOf(24, 3);
  const dir = tmp();
  const run = async (extra: object) => {
    const rng = new Rng(7);
    const m = new BYOL(tiny, rng.fork('model'));
    const mon = new CollapseMonitor({ trainX: x, trainY: y, testX: x, testY: y }, { k: 3 });
    const h = await trainByol(m, x, { steps: 6, batchSize: 8, rng: rng.fork('train'), monitor: mon, monitorEvery: 2, quiet: true, ...extra });
    const weights = {
      ...snapshot({ online: m.online.encoder, proj: m.online.projector, pred: m.online.predictor!, tEnc: m.target!.encoder, tProj: m.target!.projector }),
    };
    m.dispose();
    return { h, weights };
  };
  try {
    const full = await run({});
    const part = await run({ checkpointDir: dir, stopAfter: 3, checkpointEvery: 1 });
    assert.equal(part.h.taus.length, 3);
    const rest = await run({ checkpointDir: dir, resume: true });
    assert.deepEqual(rest.weights, full.weights);
    assert.deepEqual(rest.h.losses, full.h.losses);
    assert.deepEqual(rest.h.taus, full.h.taus);
    assert.deepEqual(rest.h.monitor, full.h.monitor);
    assert.deepEqual(rest.h.monitor.map((s) => s.step), [0, 2, 4, 6]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoints are never overwritten by a fresh run, and a resume with other settings is refused', async () => {
  const x = images(new Rng(9), 16);
  const y = labelsOf(16, 2);
  const dir = tmp();
  const fresh = () => {
    const r = new Rng(10);
    return { enc: new Encoder(encCfg, r.fork('e')), clf: new Dense(8, 2, r.fork('c')), rng: r.fork('t') };
  };
  const named = (arg: string) => (e: unknown) => e instanceof PaperlabError && e.argument === arg;
  try {
    let m = fresh();
    await assert.rejects(trainCrossEntropy(m.enc, m.clf, x, y, { steps: 3, batchSize: 4, rng: m.rng, quiet: true, checkpointDir: dir, resume: true }), named('resume'));
    await assert.rejects(trainCrossEntropy(m.enc, m.clf, x, y, { steps: 3, batchSize: 4, rng: m.rng, quiet: true, stopAfter: 2 }), named('stopAfter'));
    m = fresh();
    await trainCrossEntropy(m.enc, m.clf, x, y, { steps: 3, batchSize: 4, rng: m.rng, quiet: true, checkpointDir: dir, stopAfter: 1 });
    m = fresh();
    await assert.rejects(trainCrossEntropy(m.enc, m.clf, x, y, { steps: 3, batchSize: 4, rng: m.rng, quiet: true, checkpointDir: dir }), named('checkpointDir'));
    await assert.rejects(trainCrossEntropy(m.enc, m.clf, x, y, { steps: 3, batchSize: 8, rng: m.rng, quiet: true, checkpointDir: dir, resume: true }), /settings/);
    await assert.rejects(
      pretrainContrastive(m.enc, new ProjectionHead(8, new Rng(1)), x, y, { method: 'simclr', steps: 3, batchSize: 4, rng: m.rng, quiet: true, checkpointDir: dir, resume: true }),
      /not paperlab-pretrain-contrastive/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GPT stopped between evaluations (stopAt 3, evalEvery 2) resumes with the uninterrupted run\'s evaluations', async () => {
  const dir = tmp();
  try {
    const text = 'a stitch in time saves nine; a penny saved is a penny earned.\n'.repeat(10);
    const common = { preset: 'tiny' as const, steps: 5, seed: 3, quiet: true, data: { trainText: text, valText: text.slice(0, 120) }, overrides: { batchSize: 2, evalEvery: 2, evalIters: 1, model: { nLayer: 1, nHead: 2, nEmbd: 8, blockSize: 8 } } };
    const straight = await trainGPT(common);
    const first = await trainGPT({ ...common, out: path.join(dir, 'g'), stopAt: 3 });
    assert.deepEqual(first.evals.map((e) => e.step), [2]);
    const resumed = await trainGPT({ out: path.join(dir, 'g'), resume: true, data: common.data, quiet: true });
    assert.deepEqual(resumed.evals, straight.evals);
    assert.deepEqual(resumed.losses, straight.losses);
    for (const m of [straight, first, resumed]) m.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
