/**
 * Fault suite (f): 300 GPT training steps (trainStep with AdamW and clipping, as trainGPT runs them)
 * keep tf.memory().numTensors exactly flat after the first step (which creates the Adam moments), and
 * a whole trainGPT run with evaluation and checkpoints returns every tensor it made.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initEngine } from '../../src/core/engine.js';
import { tf } from '../../src/core/tf.js';
import { Rng } from '../../src/core/rng.js';
import { AdamW } from '../../src/core/optim.js';
import { trainStep } from '../../src/core/train.js';
import { GPT } from '../../src/gpt/model.js';
import { trainGPT } from '../../src/gpt/trainer.js';

before(async () => {
  process.env.PAPERLAB_QUIET = '1';
  await initEngine({ backend: 'cpu', seed: 0 });
});

test('300 training steps keep tf.memory().numTensors flat', () => {
  const m = new GPT({ vocabSize: 13, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0.1 }, new Rng(1));
  m.dropoutRng = new Rng(2);
  m.training = true;
  const opt = new AdamW({ lr: 1e-3, weightDecay: 0.1 });
  const rng = new Rng(3);
  const counts: number[] = [];
  for (let s = 0; s < 300; s++) {
    const x = tf.tensor2d(Int32Array.from({ length: 16 }, () => rng.int(13)), [2, 8], 'int32');
    const y = tf.tensor2d(Int32Array.from({ length: 16 }, () => rng.int(13)), [2, 8], 'int32');
    trainStep(() => m.loss(x, y), m.variables, opt, { lr: 1e-3, clipNorm: 1, step: s });
    tf.dispose([x, y]);
    counts.push(tf.memory().numTensors);
  }
  assert.ok(counts.every((c) => c === counts[0]), `numTensors drifted: step 1 ${counts[0]}, step 300 ${counts[299]}, max ${Math.max(...counts)}`);
  opt.dispose();
  m.dispose();
});

test('a GPT and the layers of contrastive/radioactive return every tensor on dispose (the initial value of each tf.variable used to stay alive)', async () => {
  const m0 = new GPT({ vocabSize: 13, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }, new Rng(1));
  m0.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')).dispose(); // warms the one-off caches (masks)
  m0.dispose();
  const n0 = tf.memory().numTensors;
  const m = new GPT({ vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 }, new Rng(1));
  // Attention now comes from the registry (causalAttention builds its mask per call), so a model holds no mask.
  assert.equal(tf.memory().numTensors - n0, Object.keys(m.variables).length + Object.keys(m.buffers).length, 'one tensor per variable and buffer');
  m.dispose();
  assert.equal(tf.memory().numTensors, n0);
  const { Dense } = await import('../../src/contrastive/nn.js');
  const d = new Dense(4, 3, new Rng(0));
  assert.equal(tf.memory().numTensors, n0 + 2);
  tf.dispose([d.w, d.b!]);
  assert.equal(tf.memory().numTensors, n0);
});

// Found by this test and fixed: AdamW kept each moment's tf.zerosLike initial value alive, setState the
// tensors it loaded, and assignGroup the temporary of every weight it loaded on resume.
test('a trainGPT run (evaluation, checkpoints, resume) returns every tensor it made', async () => {
  const data = { trainText: 'abcabcabd abcd '.repeat(20), valText: 'abcd abca '.repeat(5) };
  const common = { data, seed: 0, quiet: true, overrides: { batchSize: 2, evalEvery: 3, evalIters: 1, checkpointEvery: 2, model: { nLayer: 1, nHead: 1, nEmbd: 8, blockSize: 8 } } };
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'paperlab-mem-')), 'ck');
  const n0 = tf.memory().numTensors;
  const a = await trainGPT({ ...common, steps: 8, out, stopAt: 4 });
  a.model.dispose();
  const b = await trainGPT({ ...common, steps: 8, out, resume: true });
  b.model.dispose();
  assert.equal(tf.memory().numTensors, n0);
});
