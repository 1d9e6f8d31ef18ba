import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, truncateSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { AdamW } from '../src/core/optim.js';
import { trainStep, runTraining } from '../src/core/train.js';
import { warmupCosine } from '../src/core/schedule.js';
import { saveCheckpoint, loadCheckpoint, tensorsToGroup, assignGroup } from '../src/core/checkpoint.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'paperlab-ckpt-'));

test('round trip preserves arrays, dtypes, step, rng and meta exactly', async () => {
  const dir = path.join(tmp(), 'ck');
  const a = new Float32Array([1.5, -2.25, 3e-8, 1e30]);
  const b = new Int32Array([7, -1, 2147483647]);
  await saveCheckpoint(dir, {
    step: 12,
    rng: new Rng(3).getState(),
    meta: { preset: 'tiny', list: [1, 2] },
    groups: { weights: { a: { shape: [2, 2], dtype: 'float32', data: a } }, extra: { b: { shape: [3], dtype: 'int32', data: b } } },
  });
  const c = await loadCheckpoint(dir);
  assert.equal(c.step, 12);
  assert.deepEqual(c.rng, new Rng(3).getState());
  assert.deepEqual(c.meta, { preset: 'tiny', list: [1, 2] });
  assert.deepEqual(Array.from(c.groups.weights!.a!.data), Array.from(a));
  assert.ok(c.groups.extra!.b!.data instanceof Int32Array);
  assert.deepEqual(Array.from(c.groups.extra!.b!.data), Array.from(b));
  assert.deepEqual(c.groups.weights!.a!.shape, [2, 2]);
});

test('a truncated, altered or garbled checkpoint fails with a clear error', async () => {
  const dir = path.join(tmp(), 'ck');
  const data = { step: 1, groups: { w: { x: { shape: [64], dtype: 'float32' as const, data: new Float32Array(64).fill(0.5) } } } };
  await saveCheckpoint(dir, data);
  const bin = path.join(dir, 'tensors.bin');
  truncateSync(bin, 100);
  await assert.rejects(loadCheckpoint(dir), /checkpoint: .*has 100 bytes but the manifest says 256 \(truncated\?\)/);

  await saveCheckpoint(dir, data);
  const bytes = readFileSync(bin);
  bytes[10] ^= 0xff;
  writeFileSync(bin, bytes);
  await assert.rejects(loadCheckpoint(dir), /does not match its SHA-256 checksum/);

  await saveCheckpoint(dir, data);
  writeFileSync(path.join(dir, 'manifest.json'), '{"format": "paperlab-checkpoint", "vers');
  await assert.rejects(loadCheckpoint(dir), /is not valid JSON/);

  await assert.rejects(loadCheckpoint(path.join(dir, 'nope')), /does not exist/);
});

test('a failed save leaves the previous checkpoint intact', async () => {
  const root = tmp();
  const dir = path.join(root, 'ck');
  await saveCheckpoint(dir, { step: 5, groups: { w: { x: { shape: [2], dtype: 'float32', data: new Float32Array([1, 2]) } } } });
  // Shape/data mismatch is detected before anything touches disk.
  await assert.rejects(saveCheckpoint(dir, { step: 6, groups: { w: { x: { shape: [3], dtype: 'float32', data: new Float32Array([1, 2]) } } } }), /has 2 values but shape \[3\] needs 3/);
  const c = await loadCheckpoint(dir);
  assert.equal(c.step, 5);
  assert.deepEqual(readdirSync(root), ['ck'], 'no temporary directories left behind');
});

test('assignGroup refuses a checkpoint of another shape', async () => {
  const v = tf.variable(tf.zeros([2, 3]));
  assert.throws(() => assignGroup({ v: { shape: [3, 2], dtype: 'float32', data: new Float32Array(6) } }, { v }), /has shape \[3, 2\] but the model expects \[2, 3\]/);
  assert.throws(() => assignGroup({}, { v }), /has no array for variable 'v'/);
  v.dispose();
});

/** A tiny seeded regression problem trained with AdamW, warm-up + cosine and clipping. */
function makeRun(seed: number) {
  const rng = new Rng(seed);
  const init = new Rng(100);
  const vars = { w: tf.variable(tf.tensor2d(init.normalArray(8), [4, 2])), b: tf.variable(tf.zeros([2])) };
  const trueW = tf.tensor2d(new Rng(200).normalArray(8), [4, 2]);
  const opt = new AdamW({ lr: 0.05, weightDecay: 0.1 });
  const schedule = warmupCosine({ lr: 0.05, warmupSteps: 3, totalSteps: 12 });
  const step = (s: number, lr: number) => {
    const x = tf.tensor2d(rng.normalArray(16 * 4), [16, 4]); // batch drawn from the run's RNG
    const y = tf.matMul(x, trueW);
    const r = trainStep(() => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, vars.w), vars.b)) as tf.Scalar, vars, opt, { lr, clipNorm: 1, step: s });
    tf.dispose([x, y]);
    return r;
  };
  return { rng, vars, opt, schedule, step, dispose: () => { tf.dispose([vars.w, vars.b, trueW]); opt.dispose(); } };
}

test('resuming from a checkpoint gives exactly the numbers of an uninterrupted run', async () => {
  const straight = makeRun(1);
  const h1 = await runTraining({ steps: 12, schedule: straight.schedule, step: straight.step, quiet: true });
  const wStraight = Array.from(await straight.vars.w.data());

  const dir = path.join(tmp(), 'ck');
  const first = makeRun(1);
  await runTraining({
    steps: 6, schedule: first.schedule, step: first.step, quiet: true, checkpointEvery: 6,
    checkpoint: async (done) => saveCheckpoint(dir, { step: done, rng: first.rng.getState(), groups: { weights: await tensorsToGroup(first.vars), optimizer: await first.opt.getState() } }),
  });
  first.dispose();

  const second = makeRun(999); // different seed: everything must come from the checkpoint
  const ck = await loadCheckpoint(dir);
  assignGroup(ck.groups.weights!, second.vars);
  second.opt.setState(ck.groups.optimizer!);
  second.rng.setState(ck.rng!);
  const h2 = await runTraining({ steps: 12, startStep: ck.step, schedule: second.schedule, step: second.step, quiet: true });
  assert.deepEqual(Array.from(await second.vars.w.data()), wStraight);
  assert.deepEqual(h2.losses, h1.losses.slice(6));
  straight.dispose();
  second.dispose();
  assert.ok(existsSync(path.join(dir, 'manifest.json')));
});
