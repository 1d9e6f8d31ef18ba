/**
 * Gradient accumulation equals one big batch, and the JSON-lines training log records what the
 * loop did (step, loss, lr, tokens/s).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { AdamW } from '../src/core/optim.js';
import { trainStep, runTraining } from '../src/core/train.js';
import { warmupCosine } from '../src/core/schedule.js';
import { trainGPT } from '../src/gpt/trainer.js';

/** Largest |a − b| / max(floor, |b|): relative, but absolute near 0 (float noise there). */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(floor, Math.abs(b[i]!)));
  return m;
}

test('trainStep with accumulate: 3 over thirds of a batch equals one step on the whole batch (clipping active)', () => {
  const rng = new Rng(3);
  const X = tf.tensor2d(rng.normalArray(12 * 4), [12, 4]);
  const Y = tf.tensor2d(rng.normalArray(12 * 2), [12, 2]);
  const init = rng.normalArray(4 * 2);
  const run = (k: number): { w: Float32Array; loss: number; norm: number } => {
    const w = tf.variable(tf.tensor2d(init, [4, 2]), true, `w_acc_${k}`);
    const opt = new AdamW({ lr: 0.05, weightDecay: 0.1 });
    let r = { loss: 0, gradNorm: 0 };
    for (let s = 0; s < 3; s++) {
      r = trainStep(
        (m) =>
          tf.tidy(() => {
            const rows = 12 / k;
            const x = tf.slice(X, m * rows, rows);
            const y = tf.slice(Y, m * rows, rows);
            return tf.mean(tf.square(tf.sub(tf.matMul(x, w), y)));
          }),
        { w },
        opt,
        { clipNorm: 0.5, step: s, accumulate: k },
      );
    }
    const out = { w: w.dataSync() as Float32Array, loss: r.loss, norm: r.gradNorm };
    w.dispose();
    opt.dispose();
    return out;
  };
  const whole = run(1);
  const acc = run(3);
  assert.ok(whole.norm > 0.5, `the test needs clipping to act (norm ${whole.norm})`);
  assert.ok(maxRelDiff(acc.w, whole.w) < 1e-5, `weights differ by ${maxRelDiff(acc.w, whole.w)}`);
  assert.ok(Math.abs(acc.loss - whole.loss) < 1e-5 * Math.max(1, whole.loss), `loss ${acc.loss} vs ${whole.loss}`);
  assert.ok(Math.abs(acc.norm - whole.norm) < 1e-5 * whole.norm, `grad norm ${acc.norm} vs ${whole.norm}`);
  // And it is not a no-op: one micro-batch alone gives a different update.
  const w1 = tf.variable(tf.tensor2d(init, [4, 2]), true, 'w_acc_single');
  const opt1 = new AdamW({ lr: 0.05, weightDecay: 0.1 });
  trainStep(() => tf.mean(tf.square(tf.sub(tf.matMul(tf.slice(X, 0, 4), w1), tf.slice(Y, 0, 4)))), { w: w1 }, opt1, { clipNorm: 0.5 });
  const oneStepWhole = (() => {
    const w = tf.variable(tf.tensor2d(init, [4, 2]), true, 'w_acc_whole1');
    const o = new AdamW({ lr: 0.05, weightDecay: 0.1 });
    trainStep(() => tf.mean(tf.square(tf.sub(tf.matMul(X, w), Y))), { w }, o, { clipNorm: 0.5 });
    const d = w.dataSync() as Float32Array;
    w.dispose();
    o.dispose();
    return d;
  })();
  assert.ok(maxRelDiff(w1.dataSync(), oneStepWhole) > 1e-4);
  w1.dispose();
  opt1.dispose();
  tf.dispose([X, Y]);
});

test('trainStep rejects accumulate < 1 and names the micro-batch of a NaN loss', () => {
  const x = tf.variable(tf.scalar(1), true, 'x_acc_nan');
  assert.throws(() => trainStep(() => tf.square(x), { x }, new AdamW(), { accumulate: 0 }), /accumulate/);
  assert.throws(() => trainStep((m) => (m === 1 ? tf.log(tf.sub(x, 2)) : tf.square(x)), { x }, new AdamW(), { accumulate: 2, step: 4 }), /loss: is NaN at step 4 \(micro-batch 1 of 2\)/);
  x.dispose();
});

test('GPT: accumulate 2 × batch 2 trains the same weights as batch 4', async () => {
  const text = 'the quick brown fox jumps over the lazy dog. '.repeat(12);
  const common = { steps: 3, seed: 5, quiet: true, data: { trainText: text, valText: text.slice(0, 200) } };
  const model = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, dropout: 0 };
  const big = await trainGPT({ ...common, overrides: { batchSize: 4, evalEvery: 100, evalIters: 1, model } });
  const acc = await trainGPT({ ...common, overrides: { batchSize: 2, accumulate: 2, evalEvery: 100, evalIters: 1, model } });
  assert.equal(acc.tokensSeen, big.tokensSeen);
  for (const [name, v] of Object.entries(big.model.variables)) {
    // Adam divides by √v, so parameters whose true gradient is ~0 (the key bias: softmax ignores a
    // per-row shift) move by float noise; a floor of 0.01 makes that an absolute 1e-6 bound.
    const d = maxRelDiff(acc.model.variables[name]!.dataSync(), v.dataSync(), 1e-2);
    assert.ok(d < 1e-4, `${name} differs by ${d}`);
  }
  acc.losses.forEach((l, i) => assert.ok(Math.abs(l - big.losses[i]!) < 1e-5, `loss ${i}: ${l} vs ${big.losses[i]}`));
  big.model.dispose();
  acc.model.dispose();
});

test('runTraining writes a JSON-lines log (step, loss, lr, tokens/s) and appends on resume', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paperlab-log-'));
  const file = path.join(dir, 'sub', 'train.jsonl');
  const schedule = warmupCosine({ lr: 0.1, warmupSteps: 2, totalSteps: 6 });
  try {
    const seen: number[] = [];
    await runTraining({ steps: 4, quiet: true, schedule, logFile: file, tokensPerStep: 32, accumulate: 2, step: (s, _lr, ctx) => (seen.push(ctx.accumulate), 10 - s), evalEvery: 2, evaluate: (s) => ({ val: s / 10 }) });
    assert.deepEqual(seen, [2, 2, 2, 2]);
    await runTraining({ steps: 6, startStep: 4, quiet: true, schedule, logFile: file, tokensPerStep: 32, step: (s) => ({ loss: 10 - s, gradNorm: s }) });
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(lines.map((l) => l.step), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(lines.map((l) => l.loss), [10, 9, 8, 7, 6, 5]);
    lines.forEach((l, i) => assert.equal(l.lr, schedule(i)));
    for (const l of lines) assert.ok(l['tokens/s']! > 0 && Number.isFinite(l['tokens/s']));
    assert.deepEqual(lines.map((l) => l.val), [undefined, 0.2, undefined, 0.4, undefined, undefined]);
    assert.equal(lines[4]!.gradNorm, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
