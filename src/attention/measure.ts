/**
 * Time and memory of one attention kind at one sequence length: forward and forward+backward
 * milliseconds (median of `repeats` after `warmup` runs) and the peak tensor bytes the
 * forward+backward pass allocates on top of its inputs (tf.profile's peakBytes minus the bytes held
 * before). Used by `paperlab bench attention` and the attention-scaling experiment.
 */
import { tf, type Tensor, type Tensor4D } from '../core/tf.js';
import { checkInt } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { type AttentionKind, type AttentionOptions, attention, ATTENTION_KINDS } from './attention.js';
import { checkOneOf } from '../core/errors.js';
import { linformerProjection } from './linformer.js';
import { drawHash, disposeHash } from './hash.js';
import { resolveLSH } from './lsh.js';
import { defaultNbFeatures, drawOrthogonalFeatures } from './performer.js';

export interface MeasureOptions {
  kind: AttentionKind;
  seqLen: number;
  /** Default 1. */
  batch?: number;
  /** Default 4. */
  heads?: number;
  /** Default 64. */
  dHead?: number;
  /** Default false (Linformer is always non-causal). */
  causal?: boolean;
  /** Timed runs (median). Default 3. */
  repeats?: number;
  /** Untimed runs first (JIT, allocator). Default 2. */
  warmup?: number;
  seed?: number;
  /** LSH chunk length. Default 64. */
  bucketSize?: number;
  /** LSH rounds. Default 4. */
  nHashes?: number;
  /** Linformer projected length. Default min(64, seqLen). */
  k?: number;
  /** Performer features. Default round(dHead·ln dHead). */
  nbFeatures?: number;
  /** Linear/Performer causal chunk. Default 64. */
  chunkSize?: number;
}

export interface Measurement {
  kind: AttentionKind;
  seqLen: number;
  batch: number;
  heads: number;
  dHead: number;
  causal: boolean;
  forwardMs: number;
  forwardBackwardMs: number;
  /**
   * CPU time of forward+backward (this process, all threads; median). Steadier than wall time on
   * a shared machine; above the wall time when kernels run multithreaded.
   */
  forwardBackwardCpuMs: number;
  /** Peak bytes of tensors allocated by one forward+backward pass, inputs excluded. */
  peakBytes: number;
  /** The kind-specific settings used. */
  settings: Record<string, number | string>;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function measureAttention(o: MeasureOptions): Promise<Measurement> {
  checkOneOf(o.kind, ATTENTION_KINDS, 'kind');
  checkInt(o.seqLen, 'seqLen', { min: 1 });
  const batch = o.batch ?? 1;
  const heads = o.heads ?? 4;
  const dHead = o.dHead ?? 64;
  const repeats = o.repeats ?? 3;
  const warmup = o.warmup ?? 2;
  checkInt(batch, 'batch', { min: 1 });
  checkInt(heads, 'heads', { min: 1 });
  checkInt(dHead, 'dHead', { min: 1 });
  checkInt(repeats, 'repeats', { min: 1 });
  checkInt(warmup, 'warmup', { min: 0 });
  const causal = o.kind === 'linformer' ? false : (o.causal ?? false);
  const rng = new Rng(o.seed ?? 0);
  const n = o.seqLen;
  const shape: [number, number, number, number] = [batch, heads, n, dHead];
  const size = batch * heads * n * dHead;
  const q = tf.tensor4d(rng.normalArray(size), shape);
  const k = tf.tensor4d(rng.normalArray(size), shape);
  const v = tf.tensor4d(rng.normalArray(size), shape);
  const owned: Tensor[] = [q, k, v];
  const settings: Record<string, number | string> = {};
  let opts: AttentionOptions;
  let cleanup = (): void => {};
  switch (o.kind) {
    case 'full':
      opts = { kind: 'full', causal };
      break;
    case 'lsh': {
      const r = resolveLSH(n, { bucketSize: o.bucketSize ?? 64, nHashes: o.nHashes ?? 4 });
      const hash = drawHash({ dim: dHead, nBuckets: r.nBuckets, nHashes: r.nHashes }, rng);
      cleanup = () => disposeHash(hash);
      opts = { kind: 'lsh', causal, bucketSize: r.bucketSize, hashParams: hash };
      Object.assign(settings, { bucketSize: r.bucketSize, nHashes: r.nHashes, nBuckets: r.nBuckets });
      break;
    }
    case 'linformer': {
      const kk = o.k ?? Math.min(64, n);
      const E = linformerProjection(kk, n, rng);
      const F = linformerProjection(kk, n, rng);
      owned.push(E, F);
      opts = { kind: 'linformer', E, F, sharing: 'headwise' };
      settings.k = kk;
      break;
    }
    case 'linear':
      opts = { kind: 'linear', causal, chunkSize: o.chunkSize ?? 64 };
      settings.chunkSize = o.chunkSize ?? 64;
      break;
    case 'performer': {
      const m = o.nbFeatures ?? defaultNbFeatures(dHead);
      const features = drawOrthogonalFeatures(m, dHead, rng);
      owned.push(features);
      opts = { kind: 'performer', causal, features, chunkSize: o.chunkSize ?? 64 };
      Object.assign(settings, { nbFeatures: m, chunkSize: o.chunkSize ?? 64 });
      break;
    }
  }
  const run = { ...opts, checkFinite: false } as AttentionOptions;
  const forward = async (): Promise<void> => {
    const out = attention(q, k, v, run);
    await out.data();
    out.dispose();
  };
  const lossOf = (qq: Tensor, kk: Tensor, vv: Tensor): tf.Scalar => tf.sum(attention(qq as Tensor4D, kk as Tensor4D, vv as Tensor4D, run));
  // LSH is shared-QK: k is not an input of the computation
  const inputs = o.kind === 'lsh' ? [q, v] : [q, k, v];
  const lossOfInputs = (...xs: Tensor[]): tf.Scalar => (o.kind === 'lsh' ? lossOf(xs[0]!, xs[0]!, xs[1]!) : lossOf(xs[0]!, xs[1]!, xs[2]!));
  const both = async (): Promise<void> => {
    const grads = tf.grads(lossOfInputs)(inputs);
    await Promise.all(grads.map((g) => g.data()));
    tf.dispose(grads);
  };
  try {
    for (let i = 0; i < warmup; i++) await both();
    const fwd: number[] = [];
    const fb: number[] = [];
    const fbCpu: number[] = [];
    for (let i = 0; i < repeats; i++) {
      let t = performance.now();
      await forward();
      fwd.push(performance.now() - t);
      t = performance.now();
      const c0 = process.cpuUsage();
      await both();
      fb.push(performance.now() - t);
      const c = process.cpuUsage(c0);
      fbCpu.push((c.user + c.system) / 1000);
    }
    const before = tf.memory().numBytes;
    const info = await tf.profile(() => {
      const grads = tf.grads(lossOfInputs)(inputs);
      grads.forEach((g) => g.dataSync());
      tf.dispose(grads);
    });
    return {
      kind: o.kind,
      seqLen: n,
      batch,
      heads,
      dHead,
      causal,
      forwardMs: median(fwd),
      forwardBackwardMs: median(fb),
      forwardBackwardCpuMs: median(fbCpu),
      peakBytes: Math.max(0, info.peakBytes - before),
      settings,
    };
  } finally {
    cleanup();
    tf.dispose(owned);
  }
}
