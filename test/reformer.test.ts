/**
 * Reversible blocks (inverse, gradients equal to plain autodiff, memory flat in depth), chunked
 * feed-forward (equal to unchunked), and the Reformer / ReformerLM models.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, type Tensor } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { AdamW } from '../src/core/optim.js';
import { trainStep } from '../src/core/train.js';
import { duplicationBatch } from '../src/data/synthetic.js';
import { ReversibleBlock, Reformer, ReformerLM, chunkedFeedForward, feedForward, reversibleSequence } from '../src/reformer/index.js';

await tf.setBackend('cpu');
tf.enableProdMode();

function maxDiff(a: Tensor, b: Tensor): number {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = d.dataSync()[0]!;
  d.dispose();
  return v;
}
function randn(rng: Rng, shape: number[], std = 1): Tensor {
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, std), shape);
}

/** Three small reversible blocks with tanh / gelu-FF branches. */
function smallBlocks(rng: Rng, d: number, gChunks = 1): { blocks: ReversibleBlock[]; params: tf.Variable[] } {
  const params: tf.Variable[] = [];
  const blocks: ReversibleBlock[] = [];
  for (let i = 0; i < 3; i++) {
    const wf = tf.variable(randn(rng, [d, d], 0.5));
    const w1 = tf.variable(randn(rng, [d, 2 * d], 0.5)), b1 = tf.variable(randn(rng, [2 * d], 0.1));
    const w2 = tf.variable(randn(rng, [2 * d, d], 0.5)), b2 = tf.variable(randn(rng, [d], 0.1));
    params.push(wf, w1, b1, w2, b2);
    blocks.push(
      new ReversibleBlock(
        (x, p) => tf.tanh(tf.reshape(tf.matMul(tf.reshape(x, [-1, d]), p[0] as tf.Tensor2D), x.shape)),
        (x, p) => chunkedFeedForward(x, (part) => feedForward(part, { w1: p[0]!, b1: p[1]!, w2: p[2]!, b2: p[3]! }), gChunks),
        [wf],
        [w1, b1, w2, b2],
        gChunks,
      ),
    );
  }
  return { blocks, params };
}

test('reversible block: the inverse reconstructs the inputs (≤ 1e-5)', () => {
  const rng = new Rng(1);
  const { blocks, params } = smallBlocks(rng, 6);
  const x1 = randn(rng, [2, 5, 6]), x2 = randn(rng, [2, 5, 6]);
  let [y1, y2] = [x1, x2];
  for (const b of blocks) [y1, y2] = b.forward(y1, y2);
  for (let i = blocks.length - 1; i >= 0; i--) [y1, y2] = blocks[i]!.inverse(y1, y2);
  assert.ok(maxDiff(y1, x1) <= 1e-5 && maxDiff(y2, x2) <= 1e-5, `${maxDiff(y1, x1)} ${maxDiff(y2, x2)}`);
  tf.dispose([x1, x2, ...params]);
});

test('reversible sequence: gradients match plain autodiff of the same blocks (≤ 1e-4), chunked G included', () => {
  for (const gChunks of [1, 2]) {
    const rng = new Rng(2);
    const { blocks, params } = smallBlocks(rng, 6, gChunks);
    const x1 = randn(rng, [2, 5, 6]), x2 = randn(rng, [2, 5, 6]);
    const r1 = randn(rng, [2, 5, 6]), r2 = randn(rng, [2, 5, 6]);
    const loss = (y1: Tensor, y2: Tensor): tf.Scalar => tf.add(tf.sum(tf.mul(y1, r1)), tf.sum(tf.mul(tf.square(y2), r2)));
    const plain = tf.grads((a: Tensor, b: Tensor, ...p: Tensor[]) => {
      void p;
      let [y1, y2] = [a, b];
      for (const blk of blocks) [y1, y2] = blk.forward(y1, y2);
      return loss(y1, y2);
    })([x1, x2, ...params]);
    const rev = tf.grads((a: Tensor, b: Tensor, ...p: Tensor[]) => {
      void p;
      const [y1, y2] = reversibleSequence(blocks, a, b);
      return loss(y1, y2);
    })([x1, x2, ...params]);
    plain.forEach((g, i) => assert.ok(maxDiff(g, rev[i]!) <= 1e-4, `gChunks ${gChunks}, input ${i}: ${maxDiff(g, rev[i]!)}`));
    // and through variableGrads, as a trainer sees it
    const { grads } = tf.variableGrads(() => {
      const [y1, y2] = reversibleSequence(blocks, x1, x2);
      return loss(y1, y2);
    }, params);
    params.forEach((p, i) => assert.ok(maxDiff(grads[p.name]!, plain[i + 2]!) <= 1e-4));
    tf.dispose([x1, x2, r1, r2, ...plain, ...rev, ...Object.values(grads), ...params]);
  }
});

test('chunked feed-forward equals the unchunked one for any chunk count', () => {
  const rng = new Rng(3);
  const p = { w1: randn(rng, [4, 16]), b1: randn(rng, [16]), w2: randn(rng, [16, 4]), b2: randn(rng, [4]) };
  const x = randn(rng, [2, 7, 4]);
  const ref = feedForward(x, p);
  for (const chunks of [1, 2, 3, 7, 20]) {
    const out = chunkedFeedForward(x, (part) => feedForward(part, p), chunks);
    assert.ok(maxDiff(out, ref) <= 1e-6, `chunks ${chunks}`);
  }
  assert.throws(() => chunkedFeedForward(x, (part) => part, 0), (e: unknown) => e instanceof PaperlabError && e.argument === 'chunks');
});

test('Reformer with LSH: reversible and plain autodiff give the same output and gradients', () => {
  const cfg = { dModel: 8, depth: 2, heads: 2, attention: 'lsh' as const, causal: true, bucketSize: 4, nHashes: 2, ffChunks: 2, seed: 11 };
  const rev = new Reformer({ ...cfg, reversible: true });
  const plain = new Reformer({ ...cfg, reversible: false });
  const rng = new Rng(4);
  const x = randn(rng, [2, 10, 8]);
  const r = randn(rng, [2, 10, 8]);
  const run = (m: Reformer) => {
    m.reseed();
    const names = Object.keys(m.variables);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x), r)) as tf.Scalar, names.map((n) => m.variables[n]!));
    return { value: value.dataSync()[0]!, grads: names.map((n) => grads[m.variables[n]!.name]!) };
  };
  const a = run(rev), b = run(plain);
  assert.ok(Math.abs(a.value - b.value) <= 1e-5 * Math.max(1, Math.abs(b.value)), `${a.value} vs ${b.value}`);
  a.grads.forEach((g, i) => assert.ok(maxDiff(g, b.grads[i]!) <= 1e-4, `param ${Object.keys(rev.variables)[i]}: ${maxDiff(g, b.grads[i]!)}`));
  rev.dispose();
  plain.dispose();
});

test('reversible memory does not grow with depth the way plain autodiff does', async () => {
  const rng = new Rng(5);
  const x = randn(rng, [2, 32, 16]);
  const peakGrowth = async (reversible: boolean): Promise<{ growth: number; paramBytes: number }> => {
    const peak = async (depth: number): Promise<{ peak: number; params: number }> => {
      const m = new Reformer({ dModel: 16, depth, heads: 2, attention: 'full', causal: true, dFF: 64, reversible, seed: 1 });
      const vars = Object.values(m.variables);
      const before = tf.memory().numBytes;
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(m.forward(x)) as tf.Scalar, vars);
        tf.dispose([value, ...Object.values(grads)]);
      });
      const params = vars.reduce((s, v) => s + v.size * 4, 0);
      m.dispose();
      return { peak: info.peakBytes - before, params };
    };
    const one = await peak(1), four = await peak(4);
    return { growth: four.peak - one.peak, paramBytes: four.params - one.params };
  };
  const rev = await peakGrowth(true);
  const plain = await peakGrowth(false);
  // 3 more layers add only their parameters' gradients (and transient per-block work) when
  // reversible; plain autodiff also keeps every layer's activations
  assert.ok(rev.growth <= 1.5 * rev.paramBytes, `reversible grew by ${rev.growth} bytes for ${rev.paramBytes} bytes of parameters`);
  assert.ok(plain.growth > 2 * rev.growth, `plain grew ${plain.growth}, reversible ${rev.growth}`);
  x.dispose();
});

test('ReformerLM: learns 0w0w a little in a few steps; eval-time attention overrides; weights round-trip', async () => {
  const rng = new Rng(6);
  const lm = new ReformerLM({ vocab: 6, maxLen: 16, dModel: 16, depth: 1, heads: 2, bucketSize: 4, nHashes: 2, seed: 3 });
  const opt = new AdamW({ lr: 1e-2 });
  const data = duplicationBatch({ batch: 8, length: 16, vocab: 6 }, rng);
  const before = lm.evaluate(data, { weights: data.scoreMask });
  for (let s = 0; s < 15; s++) trainStep(() => lm.loss(data, { weights: data.scoreMask }), lm.variables, opt, { step: s });
  const after = lm.evaluate(data, { weights: data.scoreMask });
  assert.ok(after.loss < before.loss - 0.1, `loss ${before.loss} → ${after.loss}`);
  assert.ok(Math.abs(before.loss - Math.log(6)) < 0.5, `untrained loss ${before.loss} should be near ln 6`);
  // evaluation with other settings of the same weights
  for (const o of [{ attention: 'full' as const }, { nHashes: 4 }]) {
    const e = lm.evaluate(data, { weights: data.scoreMask, ...o });
    assert.ok(Number.isFinite(e.loss) && e.accuracy >= 0 && e.accuracy <= 1);
  }
  // bucketSize 16 ≥ length: one chunk, so LSH equals full shared-QK attention exactly
  const one = new ReformerLM({ vocab: 6, maxLen: 16, dModel: 16, depth: 1, heads: 2, bucketSize: 16, nHashes: 1, seed: 3 });
  const l1 = one.logits(data), lf = one.logits(data, { attention: 'full' });
  assert.ok(maxDiff(l1, lf) < 1e-4, `${maxDiff(l1, lf)}`);
  // weights round-trip
  const w = await lm.getWeights();
  const copy = new ReformerLM({ vocab: 6, maxLen: 16, dModel: 16, depth: 1, heads: 2, bucketSize: 4, nHashes: 2, seed: 99 });
  copy.setWeights(w);
  lm.reseed();
  copy.reseed(lm.reformer.config.seed);
  assert.ok(maxDiff(lm.logits(data), copy.logits(data)) === 0);
  lm.dispose();
  copy.dispose();
  one.dispose();
  opt.dispose();
});

test('Reformer: parameter gradients match finite differences for every attention kind', () => {
  const rng = new Rng(7);
  const x = randn(rng, [1, 6, 8]);
  const r = randn(rng, [1, 6, 8]);
  for (const attention of ['lsh', 'full', 'linformer', 'linear', 'performer'] as const) {
    const m = new Reformer({ dModel: 8, depth: 2, heads: 2, attention, causal: attention !== 'linformer', bucketSize: 2, nHashes: 2, maxLen: 6, linformerK: 3, nbFeatures: 8, chunkSize: 4, seed: 5 });
    // LSH is only piecewise smooth (a nudge can move a position to another bucket): hold the
    // first pass's buckets fixed so finite differences apply
    const bucketCache = new Map();
    const f = (): tf.Scalar => tf.sum(tf.mul(m.forward(x, { bucketCache }), r));
    for (const name of [`l0.attn.wq`, `l1.attn.wv`, `l0.ff.w1`, `l1.attn.ln.g`]) {
      const v = m.variables[name]!;
      const { grads } = tf.variableGrads(f, [v]);
      const g = grads[v.name]!.dataSync();
      const base = v.dataSync().slice();
      for (let s = 0; s < 2; s++) {
        const idx = rng.int(base.length);
        const at = (delta: number): number => {
          const data = Float32Array.from(base);
          data[idx]! += delta;
          v.assign(tf.tensor(data, v.shape));
          const y = f();
          const val = y.dataSync()[0]!;
          y.dispose();
          return val;
        };
        const fd = (at(1e-2) - at(-1e-2)) / 2e-2;
        v.assign(tf.tensor(base, v.shape));
        assert.ok(Math.abs(fd - g[idx]!) <= 3e-3 + 3e-2 * Math.abs(fd), `${attention} ${name}[${idx}]: finite difference ${fd} vs gradient ${g[idx]}`);
      }
      tf.dispose(Object.values(grads));
    }
    m.dispose();
  }
});

test('Reformer and ReformerLM refuse bad configurations with named errors', () => {
  const bad = (fn: () => unknown, argument: string): void => {
    assert.throws(fn, (e: unknown) => e instanceof PaperlabError && e.argument === argument);
  };
  bad(() => new Reformer({ dModel: 8, depth: 1, heads: 2, attention: 'lsh', sharedQK: false }), 'sharedQK');
  bad(() => new Reformer({ dModel: 8, depth: 1, heads: 2, attention: 'linformer', maxLen: 8, causal: true }), 'causal');
  bad(() => new Reformer({ dModel: 8, depth: 1, heads: 2, attention: 'lsh', nBuckets: 3 }), 'nBuckets');
  bad(() => new Reformer({ dModel: 8, depth: 1, heads: 3 }), 'heads');
  const m = new Reformer({ dModel: 8, depth: 1, heads: 2, attention: 'full', seed: 1 });
  bad(() => m.forward(tf.zeros([1, 4, 8]), { attention: 'lsh' }), 'attention');
  bad(() => m.forward(tf.zeros([1, 4, 6])), 'x');
  const lm = new ReformerLM({ vocab: 4, maxLen: 8, dModel: 8, depth: 1, heads: 2, seed: 1 });
  bad(() => lm.logits({ tokens: Int32Array.from([0, 1, 2, 9]), batch: 1, length: 4 }), 'tokens');
  bad(() => lm.logits({ tokens: new Int32Array(12), batch: 1, length: 12 }), 'tokens');
  m.dispose();
  lm.dispose();
});
