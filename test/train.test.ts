import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/core/tf.js';
import { AdamW, clipByGlobalNorm } from '../src/core/optim.js';
import { trainStep, runTraining } from '../src/core/train.js';
import { warmupCosine } from '../src/core/schedule.js';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('warm-up + cosine schedule matches its closed form', () => {
  const s = warmupCosine({ lr: 1, warmupSteps: 4, totalSteps: 14, minRatio: 0.1 });
  close(s(0), 0.25);
  close(s(3), 1);
  close(s(4), 1); // start of the decay
  close(s(9), 0.1 + 0.45 * (1 + Math.cos(Math.PI * 0.5))); // halfway: 0.55
  close(s(14), 0.1);
  close(s(100), 0.1);
});

test('AdamW: two steps equal the hand-computed update, decay decoupled and only on matrices', () => {
  const w = tf.variable(tf.tensor2d([[1, -2]]), true, 'w_adamw');
  const b = tf.variable(tf.tensor1d([0.5]), true, 'b_adamw');
  const opt = new AdamW({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5 });
  const g1 = { w: tf.tensor2d([[0.2, -0.4]]), b: tf.tensor1d([1]) };
  const g2 = { w: tf.tensor2d([[0.1, 0.3]]), b: tf.tensor1d([-1]) };
  opt.apply(g1, { w, b });
  opt.apply(g2, { w, b });
  // Reference in plain JS.
  const ref = (p0: number, gs: number[], decay: boolean) => {
    let p = p0, m = 0, v = 0;
    gs.forEach((g, i) => {
      const t = i + 1;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      const upd = (0.1 / (1 - 0.9 ** t)) * (m / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8));
      p = p - upd - (decay ? 0.1 * 0.5 * p : 0);
    });
    return p;
  };
  const wv = w.dataSync();
  close(wv[0]!, ref(1, [0.2, 0.1], true), 1e-5);
  close(wv[1]!, ref(-2, [-0.4, 0.3], true), 1e-5);
  close(b.dataSync()[0]!, ref(0.5, [1, -1], false), 1e-5);
  tf.dispose([w, b, g1.w, g1.b, g2.w, g2.b]);
  opt.dispose();
});

test('clipByGlobalNorm scales to the max norm and reports the norm before', () => {
  const g = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
  const { grads, norm } = clipByGlobalNorm(g, 1);
  close(norm, 5);
  close(grads.a!.dataSync()[0]!, 0.6, 1e-5);
  close(grads.b!.dataSync()[1]!, 0.8, 1e-5);
  const same = clipByGlobalNorm(g, 10);
  assert.equal(same.grads, g);
});

test('trainStep follows the gradient of a quadratic', () => {
  const x = tf.variable(tf.scalar(3), true, 'x_quad');
  const opt = new AdamW({ lr: 0.1 });
  const r = trainStep(() => tf.square(x) as tf.Scalar, { x }, opt);
  close(r.loss, 9);
  close(r.gradNorm, 6, 1e-5);
  close(x.dataSync()[0]!, 2.9, 1e-5); // Adam's first step moves by lr·sign(g)
  x.dispose();
  opt.dispose();
});

test('a NaN loss stops training with an error naming the step', async () => {
  await assert.rejects(
    runTraining({ steps: 5, quiet: true, step: (s) => (s === 3 ? Number.NaN : 1) }),
    /loss: is NaN at step 3\. Fix: lower the learning rate/,
  );
  const x = tf.variable(tf.scalar(1), true, 'x_nan');
  assert.throws(() => trainStep(() => tf.log(tf.sub(x, 2)) as tf.Scalar, { x }, new AdamW(), { step: 7 }), /loss: is NaN at step 7/);
  x.dispose();
});

test('runTraining evaluates and checkpoints on schedule', async () => {
  const evals: number[] = [];
  const ckpts: number[] = [];
  const h = await runTraining({
    steps: 10, quiet: true, step: (s) => 10 - s, evalEvery: 4, evaluate: (s) => { evals.push(s); return { val: s }; },
    checkpointEvery: 5, checkpoint: async (s) => { ckpts.push(s); },
  });
  assert.deepEqual(evals, [4, 8, 10]);
  assert.deepEqual(ckpts, [5, 10]);
  assert.deepEqual(h.losses, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
});
