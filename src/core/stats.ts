/**
 * Statistics for verdicts over seeds: intervals of a mean over independent runs, paired comparisons
 * of two arms that share a seed (paired t, paired bootstrap), and McNemar's test for two classifiers
 * scored on the same test items. Everything is computed from definitions (src/core/special.ts); no
 * statistics library. Browser-safe: no Node imports.
 *
 * The rule the verdicts follow: "A > B" only when the 95 % interval of the paired difference excludes
 * 0, else "within noise". Intervals are over independent runs (seeds), never over rollouts or test
 * items of one run — those are not independent replications of the experiment.
 */
import { PaperlabError, checkNumber } from './errors.js';
import { Rng } from './rng.js';
import { logGamma, logStudentTSurvival } from './special.js';

function finiteValues(xs: ArrayLike<number>, argument: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    if (!Number.isFinite(v)) throw new PaperlabError(argument, `entry ${i} is ${v}`, 'pass finite numbers only (drop runs that failed before summarising)');
    out.push(v);
  }
  return out;
}

function checkLevel(level: number): void {
  checkNumber(level, 'level', { min: 0, exclusiveMin: true });
  if (!(level < 1)) throw new PaperlabError('level', `must lie strictly between 0 and 1, got ${level}`, 'pass e.g. 0.95 for a 95 % interval');
}

export function mean(xs: ArrayLike<number>): number {
  const v = finiteValues(xs, 'values');
  if (v.length === 0) throw new PaperlabError('values', 'is empty', 'pass at least one value');
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
export function sampleStd(xs: ArrayLike<number>): number {
  const v = finiteValues(xs, 'values');
  if (v.length < 2) return 0;
  const m = mean(v);
  let s = 0;
  for (const x of v) s += (x - m) * (x - m);
  return Math.sqrt(s / (v.length - 1));
}

/** P(T ≤ t) for Student's t with ν degrees of freedom. */
export function studentTCdf(t: number, nu: number): number {
  return -Math.expm1(logStudentTSurvival(t, nu));
}

/**
 * The p-quantile of Student's t with ν degrees of freedom (bisection on the exact CDF; |error| < 1e-12).
 * studentTQuantile(0.975, 4) = 2.7764…, the familiar table value.
 */
export function studentTQuantile(p: number, nu: number): number {
  checkNumber(nu, 'nu', { min: 0, exclusiveMin: true });
  if (!(p > 0 && p < 1)) throw new PaperlabError('p', `must lie strictly between 0 and 1, got ${p}`, 'pass a probability such as 0.975');
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, nu);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, nu) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, nu) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface MeanInterval {
  mean: number;
  /** Sample standard deviation. */
  sd: number;
  n: number;
  /** t interval of the mean, or null when n < 2 (no spread to measure). */
  ci: [number, number] | null;
}

/** The mean of independent runs with its Student-t interval: mean ± t_{(1+level)/2, n−1} · sd/√n. */
export function meanInterval(xs: ArrayLike<number>, level = 0.95): MeanInterval {
  checkLevel(level);
  const v = finiteValues(xs, 'values');
  if (v.length === 0) throw new PaperlabError('values', 'is empty', 'pass at least one value');
  const m = mean(v);
  const sd = sampleStd(v);
  if (v.length < 2) return { mean: m, sd, n: v.length, ci: null };
  const half = studentTQuantile((1 + level) / 2, v.length - 1) * (sd / Math.sqrt(v.length));
  return { mean: m, sd, n: v.length, ci: [m - half, m + half] };
}

export interface PairedComparison {
  /** Mean of a − b over the pairs. */
  meanDiff: number;
  n: number;
  /** Interval of the mean difference (null when n < 2). */
  ci: [number, number] | null;
  /** Two-sided p-value of "mean difference = 0" (null when n < 2 or it is not defined). */
  p: number | null;
  test: 'paired-t' | 'bootstrap';
}

function pairedDiffs(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  if (a.length !== b.length) throw new PaperlabError('b', `has ${b.length} values for ${a.length} in a`, 'pass one value per shared seed in each arm, in the same order');
  const va = finiteValues(a, 'a');
  const vb = finiteValues(b, 'b');
  if (va.length === 0) throw new PaperlabError('a', 'is empty', 'pass at least one pair');
  return va.map((x, i) => x - vb[i]!);
}

/**
 * Paired t-test of two arms measured on the same seeds: t = mean(d)/(sd(d)/√n) with n − 1 degrees of
 * freedom. When every difference is identical the interval is that value and p is 0 (d ≠ 0) or 1.
 */
export function pairedT(a: ArrayLike<number>, b: ArrayLike<number>, level = 0.95): PairedComparison {
  checkLevel(level);
  const d = pairedDiffs(a, b);
  const iv = meanInterval(d, level);
  if (d.length < 2) return { meanDiff: iv.mean, n: d.length, ci: null, p: null, test: 'paired-t' };
  if (iv.sd === 0) return { meanDiff: iv.mean, n: d.length, ci: [iv.mean, iv.mean], p: iv.mean === 0 ? 1 : 0, test: 'paired-t' };
  const t = iv.mean / (iv.sd / Math.sqrt(d.length));
  const p = Math.min(1, 2 * Math.exp(logStudentTSurvival(Math.abs(t), d.length - 1)));
  return { meanDiff: iv.mean, n: d.length, ci: iv.ci, p, test: 'paired-t' };
}

export interface BootstrapOptions {
  level?: number;
  /** Number of resamples. Default 10 000. */
  resamples?: number;
  /** Seed of the resampling (the interval is deterministic given it). Default 0. */
  seed?: number;
}

/** Means of `resamples` resamples (with replacement) of v, in the order drawn. Deterministic for a seed. */
function resampledMeans(v: readonly number[], resamples: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[rng.int(v.length)]!;
    means[r] = s / v.length;
  }
  return means;
}

function bootstrapSetup(xs: ArrayLike<number>, o: BootstrapOptions): { v: number[]; level: number; resamples: number; seed: number } {
  const level = o.level ?? 0.95;
  checkLevel(level);
  const resamples = o.resamples ?? 10_000;
  if (!Number.isInteger(resamples) || resamples < 100) throw new PaperlabError('resamples', `must be a whole number ≥ 100, got ${resamples}`, 'pass e.g. 10000');
  const v = finiteValues(xs, 'values');
  if (v.length === 0) throw new PaperlabError('values', 'is empty', 'pass at least one value');
  return { v, level, resamples, seed: o.seed ?? 0 };
}

function percentile(sorted: Float64Array, p: number): number {
  const pos = p * (sorted.length - 1);
  const i = Math.floor(pos);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i]! + (pos - i) * (sorted[j]! - sorted[i]!);
}

/**
 * Percentile bootstrap interval of the mean: resample the values with replacement, take the
 * (1 ± level)/2 quantiles of the resampled means. For skewed quantities (returns, losses) where the t
 * interval's normality is doubtful. Deterministic for a given seed.
 */
export function bootstrapInterval(xs: ArrayLike<number>, o: BootstrapOptions = {}): MeanInterval {
  const { v, level, resamples, seed } = bootstrapSetup(xs, o);
  const m = mean(v);
  const sd = sampleStd(v);
  if (v.length < 2) return { mean: m, sd, n: v.length, ci: null };
  const means = resampledMeans(v, resamples, seed).sort();
  return { mean: m, sd, n: v.length, ci: [percentile(means, (1 - level) / 2), percentile(means, (1 + level) / 2)] };
}

/**
 * Paired bootstrap of a − b over shared seeds; p is the two-sided bootstrap p-value
 * 2·min(P*(d̄* ≤ 0), P*(d̄* ≥ 0)) of the resampled mean differences.
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, o: BootstrapOptions = {}): PairedComparison {
  const { v: d, level, resamples, seed } = bootstrapSetup(pairedDiffs(a, b), o);
  const m = mean(d);
  if (d.length < 2) return { meanDiff: m, n: d.length, ci: null, p: null, test: 'bootstrap' };
  const means = resampledMeans(d, resamples, seed).sort();
  let le = 0;
  let ge = 0;
  for (const x of means) {
    if (x <= 0) le++;
    if (x >= 0) ge++;
  }
  return {
    meanDiff: m,
    n: d.length,
    ci: [percentile(means, (1 - level) / 2), percentile(means, (1 + level) / 2)],
    p: Math.min(1, (2 * Math.min(le, ge)) / resamples),
    test: 'bootstrap',
  };
}

/** ln C(n, k). */
function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

export interface McNemarResult {
  /** Items A got right and B wrong. */
  b: number;
  /** Items B got right and A wrong. */
  c: number;
  /** Exact two-sided p-value: 2·P(Bin(b + c, ½) ≤ min(b, c)), capped at 1. */
  pExact: number;
  /** Continuity-corrected statistic (|b − c| − 1)²/(b + c) (0 when b + c = 0). */
  chi2: number;
}

/**
 * McNemar's test for two classifiers scored on the same test items (the paired test for accuracies):
 * only the discordant items count. Pass per-item correctness (1/true = right) of A and B.
 */
export function mcnemar(aCorrect: ArrayLike<number | boolean>, bCorrect: ArrayLike<number | boolean>): McNemarResult {
  if (aCorrect.length !== bCorrect.length) {
    throw new PaperlabError('bCorrect', `has ${bCorrect.length} items for ${aCorrect.length} in aCorrect`, 'score both classifiers on the same test items, in the same order');
  }
  let b = 0;
  let c = 0;
  for (let i = 0; i < aCorrect.length; i++) {
    const x = Boolean(aCorrect[i]);
    const y = Boolean(bCorrect[i]);
    if (x && !y) b++;
    else if (!x && y) c++;
  }
  return mcnemarFromCounts(b, c);
}

/** McNemar's test from the two discordant counts. */
export function mcnemarFromCounts(b: number, c: number): McNemarResult {
  for (const [v, name] of [[b, 'b'], [c, 'c']] as const) {
    if (!Number.isInteger(v) || v < 0) throw new PaperlabError(name, `must be a whole number ≥ 0, got ${v}`, 'pass counts of discordant test items');
  }
  const n = b + c;
  if (n === 0) return { b, c, pExact: 1, chi2: 0 };
  const k = Math.min(b, c);
  // ln P(X ≤ k) for X ~ Bin(n, ½), summed in log space.
  const terms: number[] = [];
  for (let i = 0; i <= k; i++) terms.push(logChoose(n, i) - n * Math.LN2);
  let m = -Infinity;
  for (const t of terms) m = Math.max(m, t);
  let s = 0;
  for (const t of terms) s += Math.exp(t - m);
  const lnTail = m + Math.log(s);
  const pExact = Math.min(1, 2 * Math.exp(lnTail));
  const chi2 = (Math.max(0, Math.abs(b - c) - 1) ** 2) / n;
  return { b, c, pExact, chi2 };
}

/** How a comparison reads: 'greater' / 'less' only when the interval excludes 0. */
export type Direction = 'greater' | 'less' | 'within noise' | 'no interval';

export function direction(ci: [number, number] | null): Direction {
  if (!ci) return 'no interval';
  if (ci[0] > 0) return 'greater';
  if (ci[1] < 0) return 'less';
  return 'within noise';
}

function fmt(x: number): string {
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(2);
  return Number(x.toPrecision(3)).toString();
}

/** "[lo, hi]" with three significant digits. */
export function formatInterval(ci: [number, number] | null): string {
  return ci ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : '[no interval: n < 2]';
}

/**
 * One phrase for a paired comparison, read from its interval: "A > B by 1.2 [0.4, 2.0] % (paired t,
 * n = 5)", "A ≈ B: difference 0.1 [−0.5, 0.7] % is within noise (…)", or "A vs B: one seed, no interval".
 */
export function compareSentence(a: string, b: string, c: PairedComparison, unit = ''): string {
  const u = unit ? ` ${unit}` : '';
  const how = `${c.test === 'paired-t' ? 'paired t' : 'paired bootstrap'}, n = ${c.n}`;
  switch (direction(c.ci)) {
    case 'greater':
      return `${a} > ${b} by ${fmt(c.meanDiff)} ${formatInterval(c.ci)}${u} (${how})`;
    case 'less':
      return `${a} < ${b} by ${fmt(-c.meanDiff)} ${formatInterval(c.ci && [-c.ci[1], -c.ci[0]])}${u} (${how})`;
    case 'within noise':
      return `${a} ≈ ${b}: difference ${fmt(c.meanDiff)} ${formatInterval(c.ci)}${u} is within noise (${how})`;
    default:
      return `${a} vs ${b}: difference ${fmt(c.meanDiff)}${u} from ${c.n} seed${c.n === 1 ? '' : 's'}, no interval (run more seeds)`;
  }
}
