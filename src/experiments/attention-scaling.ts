/**
 * Attention speed and memory against sequence length, on this machine: forward and forward+backward
 * time and peak tensor memory of full, LSH (1 and 4 rounds), Linformer (k = 64, 128), linear and
 * Performer attention at n = 256 … 16 384, the speed-up and memory saving against full attention
 * beside Linformer's Table 3 and Long Range Arena's speed table, and the length at which each kind
 * becomes faster than full attention.
 *
 * Budgets: each length is run for every kind before the next length, so a time budget cuts the
 * longest lengths, never a whole kind. A (kind, n) is not run when its time or peak memory,
 * predicted from the kind's shorter lengths, would exceed the per-point time cap or the memory
 * budget; it is then recorded as null with the reason ("skipped (time cap)", "out of memory").
 * A real allocation failure is caught and recorded as "out of memory" too.
 */
import { lineChart, type ChartSpec } from '../core/charts.js';
import { poolLimit, setPoolLimit } from '../core/kernels/pool.js';
import { tf, type Tensor, type Tensor4D } from '../core/tf.js';
import { Rng } from '../core/rng.js';
import type { JsonValue } from '../core/checkpoint.js';
import { attention, type AttentionKind, type AttentionOptions } from '../attention/attention.js';
import { drawHash, disposeHash } from '../attention/hash.js';
import { resolveLSH } from '../attention/lsh.js';
import { linformerProjection } from '../attention/linformer.js';
import { defaultNbFeatures, drawOrthogonalFeatures } from '../attention/performer.js';
import {
  DOUBTS,
  Deadline,
  LINFORMER_TABLE3,
  LRA,
  crossoverLength,
  isOutOfMemory,
  predictPowerLaw,
  ratio,
  sig,
  times,
  type Crossover,
  type Point,
} from './attention-common.js';
import type { Experiment, ExperimentOutput, RunContext, TableRow } from './types.js';

export interface ScalingKind {
  /** Series name in tables and charts. */
  id: string;
  kind: AttentionKind;
  nHashes?: number;
  bucketSize?: number;
  k?: number;
  /** Its Long Range Arena row, if any. */
  lra?: 'reformer' | 'linformer' | 'linear' | 'performer';
  /** Lowest growth exponent assumed when predicting time and memory (2 for full attention). */
  growth: number;
}

export const SCALING_KINDS: ScalingKind[] = [
  { id: 'full', kind: 'full', growth: 1.5 },
  { id: 'lsh-1', kind: 'lsh', nHashes: 1, bucketSize: 64, growth: 1 },
  { id: 'lsh-4', kind: 'lsh', nHashes: 4, bucketSize: 64, lra: 'reformer', growth: 1 },
  { id: 'linformer-64', kind: 'linformer', k: 64, growth: 1 },
  { id: 'linformer-128', kind: 'linformer', k: 128, lra: 'linformer', growth: 1 },
  { id: 'linear', kind: 'linear', lra: 'linear', growth: 1 },
  { id: 'performer', kind: 'performer', lra: 'performer', growth: 1 },
];

export interface ScalingSettings {
  lengths: number[];
  batch: number;
  heads: number;
  dHead: number;
  warmup: number;
  repeats: number;
  /** Seconds for all measurements together. */
  budgetSec: number;
  /** Longest predicted cost of one (kind, n) measurement, seconds. */
  pointCapSec: number;
  /** Peak tensor bytes one forward+backward pass may allocate. */
  memoryBudgetBytes: number;
  /**
   * Which time the ratios, crossovers and charts use: 'cpu' (process CPU time — stable on a shared,
   * overloaded machine) or 'wall' (wall-clock — what an idle machine's user sees). Both are recorded.
   */
  clock: 'cpu' | 'wall';
}

const GiB = 2 ** 30;
export const SCALING_QUICK: ScalingSettings = { lengths: [256, 512, 1024, 2048, 4096], batch: 1, heads: 4, dHead: 64, warmup: 1, repeats: 3, budgetSec: 210, pointCapSec: 40, memoryBudgetBytes: 1 * GiB, clock: 'cpu' };
export const SCALING_FULL: ScalingSettings = { lengths: [256, 512, 1024, 2048, 4096, 8192, 16384], batch: 1, heads: 4, dHead: 64, warmup: 1, repeats: 5, budgetSec: 4 * 3600, pointCapSec: 900, memoryBudgetBytes: 6 * GiB, clock: 'cpu' };

export type CellStatus = 'ok' | 'out of memory' | 'skipped (time cap)' | 'not applicable';

export interface Cell {
  kind: string;
  n: number;
  status: CellStatus;
  note: string;
  /** Fastest wall-clock forward / forward+backward of the repeats. */
  forwardMs: number | null;
  trainMs: number | null;
  /** Least process CPU time of the repeats (the clock the ratios use by default: see ScalingSettings.clock). */
  forwardCpuMs: number | null;
  trainCpuMs: number | null;
  /** Median forward+backward of the repeats. */
  trainMedianMs?: number | null;
  trainPeakBytes: number | null;
  forwardPeakBytes: number | null;
}

export interface KindMeasurement {
  /** Fastest wall-clock of the repeats (contention on a shared machine only ever adds time). */
  forwardMs: number;
  trainMs: number;
  /** Least process CPU time (all threads, user + system) of the repeats: the work done, which waiting for a busy CPU does not inflate. */
  forwardCpuMs: number;
  trainCpuMs: number;
  /** Median of the repeats, for comparison with the minimum. */
  forwardMedianMs: number;
  trainMedianMs: number;
  /** Peak tensor bytes of one forward+backward pass / one forward pass, inputs excluded (tf.profile). */
  trainPeakBytes: number;
  forwardPeakBytes: number;
}

const median = (xs: number[]): number => {
  const a = xs.slice().sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};

/**
 * Forward and forward+backward time (minimum and median over `repeats` after `warmup` untimed
 * passes) and the peak memory of each, for one kind at one length. Inputs and settings as
 * `measureAttention` (src/attention/measure.ts) draws them; the minimum is what this experiment
 * reports, because the machine it runs on is shared.
 */
export async function measureKind(spec: ScalingKind, n: number, s: Pick<ScalingSettings, 'batch' | 'heads' | 'dHead'>, o: { seed: number; warmup: number; repeats: number }): Promise<KindMeasurement> {
  const rng = new Rng(o.seed);
  const shape: [number, number, number, number] = [s.batch, s.heads, n, s.dHead];
  const size = shape.reduce((a, b) => a * b, 1);
  const owned: Tensor[] = [];
  const q = tf.tensor4d(rng.normalArray(size), shape);
  const k = tf.tensor4d(rng.normalArray(size), shape);
  const v = tf.tensor4d(rng.normalArray(size), shape);
  owned.push(q, k, v);
  let opts: AttentionOptions;
  let cleanup = (): void => {};
  if (spec.kind === 'lsh') {
    const r = resolveLSH(n, { bucketSize: spec.bucketSize, nHashes: spec.nHashes });
    const hash = drawHash({ dim: s.dHead, nBuckets: r.nBuckets, nHashes: r.nHashes }, rng);
    cleanup = () => disposeHash(hash);
    opts = { kind: 'lsh', bucketSize: r.bucketSize, hashParams: hash };
  } else if (spec.kind === 'linformer') {
    const E = linformerProjection(spec.k!, n, rng);
    const F = linformerProjection(spec.k!, n, rng);
    owned.push(E, F);
    opts = { kind: 'linformer', E, F, sharing: 'headwise' };
  } else if (spec.kind === 'performer') {
    const features = drawOrthogonalFeatures(defaultNbFeatures(s.dHead), s.dHead, rng);
    owned.push(features);
    opts = { kind: 'performer', features };
  } else opts = { kind: spec.kind } as AttentionOptions;
  const run = { ...opts, causal: false, checkFinite: false } as AttentionOptions;
  const forward = (): void => {
    const out = attention(q as Tensor4D, k as Tensor4D, v as Tensor4D, run);
    out.dataSync();
    out.dispose();
  };
  // LSH is shared-QK: k is not an input of its computation
  const inputs = spec.kind === 'lsh' ? [q, v] : [q, k, v];
  const loss = (...xs: Tensor[]): tf.Scalar =>
    tf.sum(spec.kind === 'lsh' ? attention(xs[0] as Tensor4D, xs[0] as Tensor4D, xs[1] as Tensor4D, run) : attention(xs[0] as Tensor4D, xs[1] as Tensor4D, xs[2] as Tensor4D, run));
  const both = (): void => {
    const grads = tf.grads(loss)(inputs);
    grads.forEach((g) => g.dataSync());
    tf.dispose(grads);
  };
  try {
    for (let i = 0; i < o.warmup; i++) both();
    const fwd: number[] = [];
    const fb: number[] = [];
    const fwdCpu: number[] = [];
    const fbCpu: number[] = [];
    const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
    for (let i = 0; i < o.repeats; i++) {
      let t = performance.now();
      let u = process.cpuUsage();
      forward();
      fwdCpu.push(cpuMs(process.cpuUsage(u)));
      fwd.push(performance.now() - t);
      t = performance.now();
      u = process.cpuUsage();
      both();
      fbCpu.push(cpuMs(process.cpuUsage(u)));
      fb.push(performance.now() - t);
    }
    const before = tf.memory().numBytes;
    const trainInfo = await tf.profile(both);
    const fwdInfo = await tf.profile(forward);
    return {
      forwardMs: Math.min(...fwd),
      trainMs: Math.min(...fb),
      forwardCpuMs: Math.min(...fwdCpu),
      trainCpuMs: Math.min(...fbCpu),
      forwardMedianMs: median(fwd),
      trainMedianMs: median(fb),
      trainPeakBytes: Math.max(0, trainInfo.peakBytes - before),
      forwardPeakBytes: Math.max(0, fwdInfo.peakBytes - before),
    };
  } finally {
    cleanup();
    tf.dispose(owned);
  }
}

function mib(bytes: number): number {
  return sig(bytes / 2 ** 20, 4);
}

/** The table rows and verdict from measured cells (pure: exported for tests). */
export function assembleScaling(cells: Cell[], lengths: number[], kinds: ScalingKind[] = SCALING_KINDS, clock: 'cpu' | 'wall' = 'cpu'): { table: TableRow[]; crossovers: Record<string, Crossover>; verdict: string } {
  const tr = (c: Cell | undefined): number | null | undefined => (clock === 'cpu' ? c?.trainCpuMs : c?.trainMs);
  const fw = (c: Cell | undefined): number | null | undefined => (clock === 'cpu' ? c?.forwardCpuMs : c?.forwardMs);
  const clockName = clock === 'cpu' ? 'CPU time' : 'wall-clock';
  const at = (kind: string, n: number): Cell | undefined => cells.find((c) => c.kind === kind && c.n === n);
  const why = (c: Cell | undefined): string => (c ? (c.status === 'ok' ? '' : c.status) : 'not run');
  const table: TableRow[] = [];
  // Linformer Table 3: inference speed-up and memory saving at k = 128
  for (const row of LINFORMER_TABLE3) {
    if (!lengths.includes(row.n)) continue;
    const f = at('full', row.n);
    const l = at('linformer-128', row.n);
    const miss = [f && f.status !== 'ok' ? `full: ${why(f)}` : '', l && l.status !== 'ok' ? `Linformer: ${why(l)}` : '', !f || !l ? 'not run' : ''].filter(Boolean).join('; ');
    const sp = ratio(fw(f), fw(l));
    const mem = ratio(f?.forwardPeakBytes, l?.forwardPeakBytes);
    table.push({ label: `Linformer k=128 inference speed-up over full (${clockName}), n=${row.n}${miss ? ` (${miss})` : ''}`, ours: sp === null ? null : sig(sp), paper: row.speedup, unit: '×' });
    table.push({ label: `Linformer k=128 inference memory saving over full, n=${row.n}${miss ? ` (${miss})` : ''}`, ours: mem === null ? null : sig(mem), paper: row.memorySaving, unit: '×' });
  }
  // LRA training speed relative to the Transformer at 1K and 4K
  for (const [n, key] of [[1024, 'steps1k'], [4096, 'steps4k']] as const) {
    if (!lengths.includes(n)) continue;
    for (const spec of kinds.filter((k) => k.lra)) {
      const f = at('full', n);
      const c = at(spec.id, n);
      const r = ratio(tr(f), tr(c));
      const miss = [f && f.status !== 'ok' ? `full: ${why(f)}` : '', c && c.status !== 'ok' ? `${spec.id}: ${why(c)}` : '', !f || !c ? 'not run' : ''].filter(Boolean).join('; ');
      const paper = LRA[spec.lra!][key] / LRA.transformer[key];
      table.push({ label: `${spec.id} training speed relative to full (${clockName}), n=${n} (LRA: ${spec.lra} vs Transformer steps/s)${miss ? ` (${miss})` : ''}`, ours: r === null ? null : sig(r), paper: sig(paper), unit: '×' });
    }
  }
  // crossover lengths (forward+backward)
  const crossovers: Record<string, Crossover> = {};
  const fullTimes = lengths.map((n) => tr(at('full', n)) ?? null);
  const paperCross: Record<string, string> = {
    'lsh-1': '> 4096 (LRA); ~2048 (users)',
    'lsh-4': '> 4096 (LRA); ~2048 (users)',
    'linformer-64': '≤ 512 (Table 3)',
    'linformer-128': '≤ 512 (Table 3)',
    linear: '≤ 1024 (LRA)',
    performer: '≤ 1024 (LRA)',
  };
  for (const spec of kinds.filter((k) => k.id !== 'full')) {
    const cx = crossoverLength(lengths, fullTimes, lengths.map((n) => tr(at(spec.id, n)) ?? null));
    crossovers[spec.id] = cx;
    table.push({ label: `crossover: ${spec.id} faster than full from n = … (forward+backward ${clockName}; ${cx.how})`, ours: cx.n, paper: paperCross[spec.id] ?? null, unit: 'tokens' });
  }
  // the raw measurements, with the reason wherever a length could not be run
  for (const n of lengths) {
    for (const spec of kinds) {
      const c = at(spec.id, n);
      const t = tr(c);
      table.push({ label: `forward+backward ${clockName}, ${spec.id}, n=${n}${c && c.status !== 'ok' ? ` — ${c.status}: ${c.note}` : !c ? ' — not run' : ''}`, ours: t === null || t === undefined ? null : sig(t), paper: null, unit: 'ms' });
    }
  }
  return { table, crossovers, verdict: scalingVerdict(cells, lengths, crossovers, clock) };
}

function scalingVerdict(cells: Cell[], lengths: number[], cx: Record<string, Crossover>, clock: 'cpu' | 'wall'): string {
  const ok = (kind: string, n: number): Cell | undefined => cells.find((c) => c.kind === kind && c.n === n && c.status === 'ok');
  const common = (kind: string): number[] => lengths.filter((n) => ok('full', n) && ok(kind, n));
  const sp = (kind: string, n: number, pass: 'trainMs' | 'forwardMs'): number => {
    const field = clock === 'wall' ? pass : pass === 'trainMs' ? 'trainCpuMs' : 'forwardCpuMs';
    return ok('full', n)![field]! / ok(kind, n)![field]!;
  };
  const parts: string[] = [`Times are ${clock === 'cpu' ? 'process CPU time (the machine is shared)' : 'wall-clock'}.`];
  // doubt 1: Linformer's speed gain
  const lin = common('linformer-128');
  if (lin.length) {
    const nMax = lin[lin.length - 1]!;
    const paper = LINFORMER_TABLE3.find((r) => r.n === nMax);
    const s = sp('linformer-128', nMax, 'forwardMs');
    const big = paper ? s >= paper.speedup * 0.8 : s >= 2;
    parts.push(
      `Speed ("${DOUBTS.speed}"): Linformer k=128 infers ${times(s)} faster than full attention at n=${nMax}` +
        (paper ? ` (Table 3: ${times(paper.speedup)})` : '') +
        ` and trains ${times(sp('linformer-128', nMax, 'trainMs'))} faster; it is faster than full attention ${cx['linformer-128']!.text}` +
        ` — ${big ? 'the gain is real and grows with n' : 'a gain smaller than claimed at the lengths we could run'}` +
        (lin.length < lengths.length ? `; beyond n=${nMax} full attention ${cells.find((c) => c.kind === 'full' && c.n > nMax)?.status ?? 'was not run'}` : '') +
        '.',
    );
  } else parts.push(`Speed ("${DOUBTS.speed}"): no length where both full and Linformer attention ran within the budget, so no speed-up can be stated.`);
  // doubt 3: kernelized attention against Linformer, on speed
  const kern = ['linear', 'performer'].map((k) => {
    const c = common(k);
    if (!c.length) return `${k}: not measured beside full attention`;
    const nMax = c[c.length - 1]!;
    return `${k} ${times(sp(k, nMax, 'trainMs'))} at n=${nMax} (crossover ${cx[k]!.n === null ? 'none in range' : `n ≈ ${cx[k]!.n}`})`;
  });
  const linTrain = lin.length ? `Linformer k=128 ${times(sp('linformer-128', lin[lin.length - 1]!, 'trainMs'))}` : 'Linformer not measured';
  parts.push(`Kernelized ("${DOUBTS.kernelized}"), on speed alone: training-pass speed-ups over full attention — ${kern.join(', ')}; ${linTrain}.`);
  // LSH
  const lsh = common('lsh-4');
  if (lsh.length) {
    const nMax = lsh[lsh.length - 1]!;
    parts.push(`LSH-4 trains ${times(sp('lsh-4', nMax, 'trainMs'))} as fast as full attention at n=${nMax} and is faster than it ${cx['lsh-4']!.text} (users report a break-even near 2048; LRA found it slower at 1K and 4K).`);
  }
  const oom = cells.filter((c) => c.kind === 'full' && c.status === 'out of memory').map((c) => c.n);
  if (oom.length) parts.push(`Full attention is out of memory from n=${oom[0]} on.`);
  parts.push('The quality side of the trade-off is measured by attention-accuracy and reformer-duplication.');
  return parts.join(' ');
}

export const attentionScaling: Experiment = {
  name: 'attention-scaling',
  section: 'linformer',
  paper: 'Linformer (Wang et al., 2020) Table 3; Reformer (Kitaev et al., 2020); Performer (Choromanski et al., 2020); linear attention (Katharopoulos et al., 2020); Long Range Arena (Tay et al., 2021) speed table',
  claim: 'Efficient attention is much faster and leaner than full attention at long sequences: Linformer k=128 is 1.7× faster at n=1024 and 8.6× at 16 384, with 3×–56× less memory; in LRA, Linformer/linear/Performer train 5–6× faster than a Transformer at 4K tokens while the Reformer is slower.',
  question: 'The notes: "some gain in speed but doesn’t look too significant" and "the kernelized transformer appears to be a better work" — how large is the gain on one machine, and from which length on does each kind beat full attention?',
  estimate: { quick: '~30 s idle (a 210 s budget)', full: '~3–5 min (native kernels, idle 2 cores; full attention at 8192 dominates)' },
  run: (ctx) => runScaling(ctx, ctx.quick ? SCALING_QUICK : SCALING_FULL),
};

/**
 * The experiment with explicit settings (tests run it at tiny sizes). The native kernels' buffer
 * pool may keep up to the memory budget while it runs: otherwise, past the pool's default bound,
 * every large score tensor is a fresh mmap, and on a VM faulting fresh pages in costs seconds per
 * GiB — a cost of the allocator, not of the attention kind, that made full attention look ~10×
 * slower at the longest lengths.
 */
export async function runScaling(ctx: RunContext, s: ScalingSettings): Promise<ExperimentOutput> {
  const prev = poolLimit();
  setPoolLimit(Math.max(prev, s.memoryBudgetBytes));
  try {
    return await measureScaling(ctx, s);
  } finally {
    setPoolLimit(prev);
  }
}

async function measureScaling(ctx: RunContext, s: ScalingSettings): Promise<ExperimentOutput> {
  const deadline = new Deadline(s.budgetSec);
  const cells: Cell[] = [];
  const points = new Map<string, { time: Point[]; mem: Point[] }>(SCALING_KINDS.map((k) => [k.id, { time: [], mem: [] }]));
  const gaveUp = new Map<string, { status: CellStatus; note: string }>();
  let seed = ctx.rng.fork('inputs').nextU32();
  for (const n of s.lengths) {
    for (const spec of SCALING_KINDS) {
      const base = { kind: spec.id, n, forwardMs: null, trainMs: null, forwardCpuMs: null, trainCpuMs: null, trainPeakBytes: null, forwardPeakBytes: null };
      const stop = gaveUp.get(spec.id);
      if (stop) {
        // a kind given up for time may still be out of memory at this length: say so when it is
        const predBytes = stop.status === 'skipped (time cap)' ? predictPowerLaw(points.get(spec.id)!.mem, n, spec.kind === 'full' ? 2 : 1) : null;
        if (predBytes !== null && predBytes > s.memoryBudgetBytes) {
          const note = `predicted peak ${(predBytes / GiB).toFixed(2)} GiB > the ${(s.memoryBudgetBytes / GiB).toFixed(0)} GiB budget`;
          gaveUp.set(spec.id, { status: 'out of memory', note: `a shorter length was already out of memory (${note})` });
          cells.push({ ...base, status: 'out of memory', note });
          ctx.log(`${spec.id} n=${n}: out of memory (${note})`);
        } else cells.push({ ...base, ...stop });
        continue;
      }
      if (spec.kind === 'linformer' && spec.k! > n) {
        cells.push({ ...base, status: 'not applicable', note: `Linformer's k = ${spec.k} > n` });
        continue;
      }
      const pts = points.get(spec.id)!;
      const predMs = predictPowerLaw(pts.time, n, spec.growth);
      const predBytes = predictPowerLaw(pts.mem, n, spec.kind === 'full' ? 2 : 1);
      // expensive lengths are timed once without warm-up (one forward, one forward+backward, one profiled pass)
      const fullCost = predMs === null ? 0 : (predMs * (s.warmup + s.repeats + 2)) / 1000;
      const cheap = fullCost <= s.pointCapSec / 2;
      const [warmup, repeats] = cheap ? [s.warmup, s.repeats] : [0, 1];
      const costSec = predMs === null ? 0 : cheap ? fullCost : (3 * predMs) / 1000;
      if (predBytes !== null && predBytes > s.memoryBudgetBytes) {
        const note = `predicted peak ${(predBytes / GiB).toFixed(2)} GiB > the ${(s.memoryBudgetBytes / GiB).toFixed(0)} GiB budget`;
        gaveUp.set(spec.id, { status: 'out of memory', note: `a shorter length was already out of memory (${note})` });
        cells.push({ ...base, status: 'out of memory', note });
        ctx.log(`${spec.id} n=${n}: out of memory (${note})`);
        continue;
      }
      if (costSec > s.pointCapSec || costSec > deadline.left()) {
        const note = costSec > s.pointCapSec ? `predicted ${costSec.toFixed(0)} s > the ${s.pointCapSec} s per-length cap` : `predicted ${costSec.toFixed(0)} s > the ${deadline.left().toFixed(0)} s left of the ${s.budgetSec} s budget`;
        if (costSec > s.pointCapSec) gaveUp.set(spec.id, { status: 'skipped (time cap)', note: 'a shorter length already exceeded the per-length cap' });
        cells.push({ ...base, status: 'skipped (time cap)', note });
        ctx.log(`${spec.id} n=${n}: skipped (${note})`);
        continue;
      }
      seed = (seed + 1) >>> 0;
      try {
        const m = await measureKind(spec, n, s, { seed, warmup, repeats });
        cells.push({ ...base, status: 'ok', note: cheap ? '' : 'timed once (expensive length)', forwardMs: sig(m.forwardMs, 4), trainMs: sig(m.trainMs, 4), forwardCpuMs: sig(m.forwardCpuMs, 4), trainCpuMs: sig(m.trainCpuMs, 4), trainMedianMs: sig(m.trainMedianMs, 4), trainPeakBytes: m.trainPeakBytes, forwardPeakBytes: m.forwardPeakBytes });
        pts.time.push({ n, v: m.trainMs });
        pts.mem.push({ n, v: m.trainPeakBytes });
        ctx.log(`${spec.id} n=${n}: forward ${m.forwardMs.toFixed(1)} ms, forward+backward ${m.trainMs.toFixed(1)} ms (median ${m.trainMedianMs.toFixed(1)}, CPU ${m.trainCpuMs.toFixed(1)}), peak ${(m.trainPeakBytes / 2 ** 20).toFixed(1)} MiB (${deadline.elapsed().toFixed(0)} s)`);
      } catch (e) {
        if (!isOutOfMemory(e)) throw e;
        const note = `allocation failed: ${(e as Error).message.split('\n')[0]}`;
        gaveUp.set(spec.id, { status: 'out of memory', note: 'a shorter length already failed to allocate' });
        cells.push({ ...base, status: 'out of memory', note });
        ctx.log(`${spec.id} n=${n}: out of memory (${note})`);
      }
    }
  }
  const { table, crossovers, verdict } = assembleScaling(cells, s.lengths, SCALING_KINDS, s.clock);
  const rows = cells.map((c) => ({ kind: c.kind, n: c.n, trainMs: c.trainMs, forwardMs: c.forwardMs, trainCpuMs: c.trainCpuMs, peakMiB: c.trainPeakBytes === null ? null : mib(c.trainPeakBytes), fwdPeakMiB: c.forwardPeakBytes === null ? null : mib(c.forwardPeakBytes) }));
  const speedRows = cells
    .filter((c) => c.kind !== 'full')
    .map((c) => {
      const f = cells.find((x) => x.kind === 'full' && x.n === c.n);
      const r = s.clock === 'cpu' ? ratio(f?.trainCpuMs, c.trainCpuMs) : ratio(f?.trainMs, c.trainMs);
      return { kind: c.kind, n: c.n, speedup: r === null ? null : sig(r) };
    });
  const engine = `${ctx.engine.backend}${ctx.engine.native.active ? ' + native kernels' : ' (tfjs kernels, native not active)'}`;
  const charts: ChartSpec[] = [
    lineChart({ id: 'time-vs-n', title: `Attention forward+backward ${s.clock === 'cpu' ? 'CPU time' : 'time'} vs length (${engine})`, alt: `${s.clock === 'cpu' ? 'Process CPU milliseconds' : 'Wall-clock milliseconds'} of one forward+backward pass of each attention kind against sequence length, both axes logarithmic; missing points are out of memory or over the time cap.`, rows, x: 'n', y: s.clock === 'cpu' ? 'trainCpuMs' : 'trainMs', series: 'kind', xTitle: 'sequence length n', yTitle: `forward+backward ms (${s.clock === 'cpu' ? 'CPU' : 'wall'})`, logX: true, logY: true }),
    lineChart({ id: 'wall-time-vs-n', title: 'Attention forward+backward wall-clock vs length (shared machine: noisy)', alt: 'Fastest wall-clock milliseconds of one forward+backward pass against sequence length, both axes logarithmic.', rows, x: 'n', y: 'trainMs', series: 'kind', xTitle: 'sequence length n', yTitle: 'forward+backward ms (wall)', logX: true, logY: true }),
    lineChart({ id: 'memory-vs-n', title: 'Peak tensor memory of one forward+backward pass vs length', alt: 'Peak MiB allocated by one forward+backward pass of each attention kind against sequence length, both axes logarithmic.', rows, x: 'n', y: 'peakMiB', series: 'kind', xTitle: 'sequence length n', yTitle: 'peak MiB', logX: true, logY: true }),
    lineChart({ id: 'speedup-vs-n', title: 'Training-pass speed-up over full attention (above 1 = faster)', alt: 'Full attention time divided by each kind’s time against sequence length; the crossover is where a line passes 1.', rows: speedRows, x: 'n', y: 'speedup', series: 'kind', xTitle: 'sequence length n', yTitle: 'speed-up over full (×)', logX: true, logY: true }),
  ];
  const config: Record<string, JsonValue> = {
    lengths: s.lengths,
    batch: s.batch,
    heads: s.heads,
    dHead: s.dHead,
    causal: false,
    warmup: s.warmup,
    repeats: s.repeats,
    budgetSec: s.budgetSec,
    pointCapSec: s.pointCapSec,
    memoryBudgetGiB: s.memoryBudgetBytes / GiB,
    bufferPoolGiB: sig(poolLimit() / GiB, 3), // runScaling raised it for this run
    clock: s.clock,
    kinds: SCALING_KINDS.map((k) => ({ id: k.id, kind: k.kind, ...(k.nHashes ? { nHashes: k.nHashes, bucketSize: k.bucketSize! } : {}), ...(k.k ? { k: k.k, sharing: 'headwise' } : {}), ...(k.kind === 'performer' ? { nbFeatures: defaultNbFeatures(s.dHead) } : {}) })),
    memoryMeasure: 'tf.profile peakBytes minus bytes held before (inputs excluded); training = one forward+backward, inference = one forward',
    timeMeasure: 'least process CPU time (trainCpuMs) and fastest wall-clock (trainMs) of the repeats; medians of wall-clock kept in metrics.measurements',
    engine,
  };
  return {
    config,
    metrics: {
      measurements: cells as unknown as JsonValue,
      crossovers: Object.fromEntries(Object.entries(crossovers).map(([k, c]) => [k, { n: c.n, how: c.how, text: c.text }])),
      measuredSeconds: sig(deadline.elapsed(), 4),
      nativeKernels: ctx.engine.native.active,
    },
    table,
    verdict,
    charts,
  };
}
