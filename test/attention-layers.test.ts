/**
 * The multi-head attention layers: they compute what the functional core computes from their
 * weights, save and load through model.save / tf.loadLayersModel, have finite-difference-correct
 * gradients for their weights, and refuse bad options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, type Tensor } from '../src/core/tf.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { linear } from '../src/core/ops.js';
import {
  LSHSelfAttention,
  LinearAttention,
  LinformerSelfAttention,
  MultiHeadAttention,
  PerformerAttention,
  attention,
  gradientMismatches,
  linformerProjection,
  mergeHeads,
  splitHeads,
} from '../src/attention/index.js';

await tf.setBackend('cpu');
tf.enableProdMode();

const SEQ = 6;
const D = 8;

type AnyLayer = MultiHeadAttention | LSHSelfAttention | LinformerSelfAttention | LinearAttention | PerformerAttention;

function makeLayers(): Array<{ name: string; make: () => AnyLayer }> {
  return [
    { name: 'MultiHeadAttention', make: () => new MultiHeadAttention({ heads: 2, causal: true, seed: 1 }) },
    { name: 'LSHSelfAttention', make: () => new LSHSelfAttention({ heads: 2, causal: true, bucketSize: 2, nHashes: 2, seed: 2 }) },
    { name: 'LSHSelfAttention/coset', make: () => new LSHSelfAttention({ heads: 2, bucketSize: 2, nHashes: 2, hash: 'coset', allowDuplicateAttention: false, seed: 3 }) },
    { name: 'LinformerSelfAttention', make: () => new LinformerSelfAttention({ heads: 2, k: 3, maxLen: SEQ, sharing: 'none', seed: 4 }) },
    { name: 'LinearAttention', make: () => new LinearAttention({ heads: 2, causal: true, chunkSize: 4, seed: 5 }) },
    { name: 'PerformerAttention', make: () => new PerformerAttention({ heads: 2, nbFeatures: 16, causal: true, seed: 6 }) },
  ];
}

function reseed(layer: AnyLayer): void {
  layer.reseed();
}

function input(seed: number, batch = 2): tf.Tensor3D {
  return tf.tensor3d(new Rng(seed).normalArray(batch * SEQ * D), [batch, SEQ, D]);
}

test('each layer computes project → attention → merge → project with its own weights', () => {
  const x = input(1);
  const mask = tf.tensor2d([[1, 1, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1]]);
  const m = new MultiHeadAttention({ heads: 2, seed: 7 });
  const y = m.apply([x, mask]) as Tensor;
  const w = Object.fromEntries(m.weights.map((v) => [v.originalName.split('/').pop()!, v.read()]));
  const q = splitHeads(linear(x, w.wq!), 2), k = splitHeads(linear(x, w.wk!), 2), v = splitHeads(linear(x, w.wv!), 2);
  const ref = linear(mergeHeads(attention(q, k, v, { kind: 'full', mask })), w.wo!);
  assert.ok(tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]! < 1e-6);
  // LSH is shared-QK: one projection for queries and keys
  const l = new LSHSelfAttention({ heads: 2, bucketSize: 8, nHashes: 1, seed: 8 });
  const yl = l.apply(x) as Tensor;
  assert.deepEqual(l.weights.map((v) => v.originalName.split('/').pop()), ['wq', 'wv', 'wo']);
  // bucketSize 8 ≥ SEQ: one chunk, so it equals full shared-QK attention
  const wl = Object.fromEntries(l.weights.map((v) => [v.originalName.split('/').pop()!, v.read()]));
  const ql = splitHeads(linear(x, wl.wq!), 2), vl = splitHeads(linear(x, wl.wv!), 2);
  const refl = linear(mergeHeads(attention(ql, ql, vl, { kind: 'full', sharedQK: true })), wl.wo!);
  assert.ok(tf.max(tf.abs(tf.sub(yl, refl))).dataSync()[0]! < 1e-5);
  // and full attention can be asked for at evaluation time
  const yf = l.apply(x, { fullAttention: true }) as Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(yf, refl))).dataSync()[0]! < 1e-5);
});

test('layers save and load through model.save / tf.loadLayersModel with identical outputs', async () => {
  const x = input(2);
  for (const { name, make } of makeLayers()) {
    const layer = make();
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [SEQ, D] }), layer] });
    reseed(layer);
    const before = model.predict(x) as Tensor;
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const l2 = loaded.layers[loaded.layers.length - 1] as AnyLayer;
    assert.equal(l2.getClassName(), layer.getClassName(), name);
    reseed(l2);
    const after = loaded.predict(x) as Tensor;
    const diff = tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]!;
    assert.ok(diff === 0, `${name}: outputs differ by ${diff} after loading`);
    assert.deepEqual(l2.getConfig(), layer.getConfig(), name);
    tf.dispose([before, after]);
  }
});

test('every layer: weight gradients match finite differences', () => {
  const rng = new Rng(3);
  const x = input(3, 1);
  for (const { name, make } of makeLayers()) {
    const layer = make();
    layer.apply(x); // builds
    const r = tf.tensor3d(rng.normalArray(SEQ * D), [1, SEQ, D]);
    for (const w of layer.trainableWeights) {
      const v = w.read() as tf.Variable;
      const f = (val: Tensor): tf.Scalar => {
        const old = tf.clone(v);
        v.assign(val);
        reseed(layer);
        const out = tf.tidy(() => tf.sum(tf.mul(layer.apply(x) as Tensor, r)));
        v.assign(old);
        old.dispose();
        return out as tf.Scalar;
      };
      // analytic gradient with respect to the variable itself, through the layer
      reseed(layer);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as Tensor, r)) as tf.Scalar, [v]);
      const g = grads[v.name]!.dataSync();
      const base = v.dataSync().slice();
      for (let s = 0; s < 3; s++) {
        const idx = rng.int(base.length);
        const at = (delta: number): number => {
          const data = Float32Array.from(base);
          data[idx]! += delta;
          const t = tf.tensor(data, v.shape);
          const y = f(t);
          const val = y.dataSync()[0]!;
          tf.dispose([t, y]);
          return val;
        };
        const fd = (at(1e-2) - at(-1e-2)) / 2e-2;
        assert.ok(Math.abs(fd - g[idx]!) <= 3e-3 + 3e-2 * Math.abs(fd), `${name} ${w.originalName}[${idx}]: finite difference ${fd} vs gradient ${g[idx]}`);
      }
      tf.dispose(Object.values(grads));
    }
    // and with respect to the input (LSH is only piecewise smooth in x — a nudge can move a
    // position to another bucket — so its input gradient is checked with fixed buckets in
    // attention.test.ts; its weights above move q too little to cross a bucket boundary)
    if (layer instanceof LSHSelfAttention) {
      r.dispose();
      continue;
    }
    const fx = (xx: Tensor): tf.Scalar => {
      reseed(layer);
      return tf.sum(tf.mul(layer.apply(xx) as Tensor, r));
    };
    assert.deepEqual(gradientMismatches(fx, [x], rng, { samples: 3 }), [], name);
    r.dispose();
  }
});

test('Performer redraws its features every redrawInterval training calls, never in inference', () => {
  const x = input(4, 1);
  const p = new PerformerAttention({ heads: 2, nbFeatures: 8, redrawInterval: 2, seed: 9 });
  p.apply(x);
  const feats = (): Float32Array => p.nonTrainableWeights[0]!.read().dataSync() as Float32Array;
  const f0 = feats();
  p.apply(x, { training: true });
  p.apply(x, { training: true });
  assert.deepEqual(feats(), f0, 'no redraw within the first interval');
  p.apply(x);
  assert.deepEqual(feats(), f0, 'inference never redraws');
  p.apply(x, { training: true });
  assert.notDeepEqual(feats(), f0, 'redrawn after 2 training calls');
});

test('Linformer layerwise sharing uses one projection across layers and refuses to serialise it', () => {
  const x = input(5, 1);
  const shared = tf.variable(linformerProjection(3, SEQ, new Rng(1)));
  const a = new LinformerSelfAttention({ heads: 2, k: 3, maxLen: SEQ, sharing: 'layerwise', projection: shared, seed: 1 });
  const b = new LinformerSelfAttention({ heads: 2, k: 3, maxLen: SEQ, sharing: 'layerwise', projection: shared, seed: 2 });
  a.apply(x);
  b.apply(x);
  assert.equal(a.projection, b.projection);
  assert.equal(a.trainableWeights.length, 4, 'no own projection');
  assert.throws(() => a.getConfig(), (e: unknown) => e instanceof PaperlabError && e.argument === 'sharing');
  // shorter inputs slice the projection
  const short = tf.slice(x, [0, 0, 0], [1, 4, D]);
  assert.deepEqual((a.apply(short) as Tensor).shape, [1, 4, D]);
});

test('layers refuse bad options with named errors', () => {
  const bad = (fn: () => unknown, argument: string): void => {
    assert.throws(fn, (e: unknown) => e instanceof PaperlabError && e.argument === argument);
  };
  bad(() => new LSHSelfAttention({ heads: 2, nBuckets: 3 }), 'nBuckets');
  bad(() => new LinformerSelfAttention({ heads: 2, k: 4, maxLen: 8, causal: true }), 'causal');
  bad(() => new LinformerSelfAttention({ heads: 2, k: 9, maxLen: 8 }), 'k');
  bad(() => new LinformerSelfAttention({ heads: 2, k: 4, maxLen: 8, sharing: 'layerwise' }), 'projection');
  bad(() => new MultiHeadAttention({ heads: 0 }), 'heads');
  bad(() => new MultiHeadAttention({ heads: 3 }).apply(input(6)), 'heads');
  const nan = tf.fill([1, SEQ, D], Number.NaN) as tf.Tensor3D;
  bad(() => new MultiHeadAttention({ heads: 2 }).apply(nan), 'q');
});
