/**
 * Sweep statistics against closed forms and printed tables: Student-t quantiles (any textbook table),
 * the t CDF for ν = 1 (Cauchy) and ν = 2 (closed form), hand-computed intervals, McNemar's exact
 * binomial tail, and the bootstrap's agreement with the t interval on large samples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapInterval,
  compareSentence,
  direction,
  mcnemar,
  mcnemarFromCounts,
  mean,
  meanInterval,
  pairedBootstrap,
  pairedT,
  sampleStd,
  studentTCdf,
  studentTQuantile,
} from '../src/core/stats.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';

function close(a: number, b: number, tol: number, what = ''): void {
  assert.ok(Math.abs(a - b) <= tol, `${what}: got ${a}, expected ${b} (±${tol})`);
}

test('t quantiles equal the printed table (two-sided 95 %: t_{0.975, ν})', () => {
  const table: Array<[number, number]> = [
    [1, 12.7062047364],
    [2, 4.30265272975],
    [3, 3.18244630528],
    [4, 2.7764451052],
    [9, 2.26215716274],
    [30, 2.04227245630],
    [1000, 1.96233908082],
  ];
  for (const [nu, q] of table) close(studentTQuantile(0.975, nu), q, 1e-8, `t(0.975, ${nu})`);
  close(studentTQuantile(0.025, 4), -2.7764451052, 1e-8, 'lower tail by symmetry');
  close(studentTQuantile(0.995, 5), 4.03214298356, 1e-8, 't(0.995, 5)');
});

test('t CDF: Cauchy at ν = 1 and the closed form at ν = 2', () => {
  for (const t of [-30, -2, -0.3, 0, 0.7, 1, 5, 100]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-13, `ν=1, t=${t}`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(t * t + 2)), 1e-13, `ν=2, t=${t}`);
  }
});

test('mean, sample sd and the t interval by hand', () => {
  const xs = [1, 2, 3, 4, 5];
  assert.equal(mean(xs), 3);
  close(sampleStd(xs), Math.sqrt(2.5), 1e-15, 'sd');
  const iv = meanInterval(xs);
  const half = 2.7764451052 * Math.sqrt(2.5) / Math.sqrt(5);
  close(iv.ci![0], 3 - half, 1e-8, 'lo');
  close(iv.ci![1], 3 + half, 1e-8, 'hi');
  assert.equal(iv.n, 5);
  assert.equal(meanInterval([7]).ci, null, 'one run has no interval');
  assert.deepEqual(meanInterval([2, 2, 2]).ci, [2, 2]);
  assert.throws(() => meanInterval([1, NaN]), (e: unknown) => e instanceof PaperlabError && /entry 1 is NaN/.test(e.message));
  assert.throws(() => meanInterval([]), PaperlabError);
  assert.throws(() => meanInterval([1, 2], 1.5), (e: unknown) => e instanceof PaperlabError && e.argument === 'level');
});

test('the t interval covers the true mean about 95 % of the time (simulation)', () => {
  const rng = new Rng(11);
  let covered = 0;
  const trials = 4000;
  for (let k = 0; k < trials; k++) {
    const xs = Array.from({ length: 5 }, () => rng.normal(10, 3));
    const ci = meanInterval(xs).ci!;
    if (ci[0] <= 10 && 10 <= ci[1]) covered++;
  }
  // Binomial sd at 95 % over 4000 trials is 0.34 %; allow 4 sd.
  close(covered / trials, 0.95, 0.014, 'coverage');
});

test('paired t: hand case at ν = 2 and the identical-differences edge', () => {
  // d = a − b = [1, 2, 3]: mean 2, sd 1, t = 2√3; two-sided p = 1 − t/√(t² + 2) (ν = 2 closed form).
  const r = pairedT([2, 4, 6], [1, 2, 3]);
  close(r.meanDiff, 2, 1e-15, 'mean diff');
  const t = 2 * Math.sqrt(3);
  close(r.p!, 1 - t / Math.sqrt(t * t + 2), 1e-12, 'p');
  const half = 4.30265272975 / Math.sqrt(3);
  close(r.ci![0], 2 - half, 1e-8, 'lo');
  assert.equal(direction(r.ci), 'within noise', 'lo = 2 − 2.48 < 0');
  const same = pairedT([3, 4, 5], [1, 2, 3]);
  assert.deepEqual(same.ci, [2, 2]);
  assert.equal(same.p, 0);
  assert.equal(pairedT([1], [0]).ci, null);
  assert.throws(() => pairedT([1, 2], [1]), (e: unknown) => e instanceof PaperlabError && e.argument === 'b');
});

test('bootstrap: deterministic per seed, matches the t interval on a large normal sample, paired p', () => {
  const rng = new Rng(3);
  const xs = Array.from({ length: 400 }, () => rng.normal(5, 2));
  const b1 = bootstrapInterval(xs, { seed: 1 });
  const b2 = bootstrapInterval(xs, { seed: 1 });
  assert.deepEqual(b1, b2);
  const t = meanInterval(xs);
  const wt = t.ci![1] - t.ci![0];
  const wb = b1.ci![1] - b1.ci![0];
  close(wb / wt, 1, 0.08, 'bootstrap width / t width');
  close((b1.ci![0] + b1.ci![1]) / 2, t.mean, 0.05 * wt, 'centre');
  // Every difference positive: no resample has a mean ≤ 0, so p = 0 and the interval is above 0.
  const pb = pairedBootstrap([3, 4, 5, 6], [1, 1, 1, 1]);
  assert.equal(pb.p, 0);
  assert.equal(direction(pb.ci), 'greater');
  // Differences symmetric around 0: p near 1.
  const sym = pairedBootstrap([1, -1, 2, -2, 3, -3], [0, 0, 0, 0, 0, 0]);
  assert.ok(sym.p! > 0.8, `p = ${sym.p}`);
  assert.equal(direction(sym.ci), 'within noise');
});

test("McNemar: exact binomial tail by hand, continuity-corrected statistic, and per-item input", () => {
  // b = 1, c = 9: p = 2·(C(10,0) + C(10,1))/2^10 = 22/1024.
  const r = mcnemarFromCounts(1, 9);
  close(r.pExact, 22 / 1024, 1e-15, 'p');
  close(r.chi2, 4.9, 1e-15, 'chi2');
  assert.equal(mcnemarFromCounts(5, 5).pExact, 1);
  assert.equal(mcnemarFromCounts(0, 0).pExact, 1);
  // b = 0, c = 20: 2/2^20.
  close(mcnemarFromCounts(0, 20).pExact, 2 / 2 ** 20, 1e-20, 'p(0, 20)');
  const m = mcnemar([1, 1, 0, 0, 1, 1], [1, 0, 1, 1, 1, 1]);
  assert.equal(m.b, 1);
  assert.equal(m.c, 2);
  close(m.pExact, 1, 1e-15, '2·P(X ≤ 1 | n = 3) = 2·4/8 capped at 1');
  assert.throws(() => mcnemar([1, 0], [1]), (e: unknown) => e instanceof PaperlabError && e.argument === 'bCorrect');
  assert.throws(() => mcnemarFromCounts(-1, 2), PaperlabError);
});

test('comparison sentences follow from the interval', () => {
  assert.match(compareSentence('A', 'B', { meanDiff: 2, n: 5, ci: [1, 3], p: 0.01, test: 'paired-t' }, '%'), /^A > B by 2 \[1, 3\] % \(paired t, n = 5\)$/);
  assert.match(compareSentence('A', 'B', { meanDiff: -2, n: 5, ci: [-3, -1], p: 0.01, test: 'paired-t' }), /^A < B by 2 \[1, 3\]/);
  assert.match(compareSentence('A', 'B', { meanDiff: 0.5, n: 5, ci: [-1, 2], p: 0.4, test: 'bootstrap' }), /A ≈ B: .* within noise \(paired bootstrap, n = 5\)/);
  assert.match(compareSentence('A', 'B', { meanDiff: 0.5, n: 1, ci: null, p: null, test: 'paired-t' }), /no interval/);
  assert.equal(direction([0, 1]), 'within noise', 'an interval touching 0 does not exclude it');
});
