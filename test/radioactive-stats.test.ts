/**
 * The statistics behind radioactive-data detection, against independent references: closed forms,
 * quadrature, simulation with paperlab's Rng, and values tabulated with mpmath 1.3 at 40 digits
 * (`mpmath.betainc(a, b, 0, x, regularized=True)`, `gammainc(k/2, s/2, inf, regularized=True)`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import {
  logGamma,
  logIncompleteBeta,
  incompleteBeta,
  logCosinePvalue,
  cosinePvalue,
  logChi2Survival,
  logGammaQ,
  fisherCombineLog,
  logStudentTSurvival,
  log1mExp,
  logSumExp,
  toLog10,
} from '../src/radioactive/stats.js';
import { PaperlabError } from '../src/core/errors.js';

function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (±${tol})`);
}
function relClose(actual: number, expected: number, rel: number, what = ''): void {
  close(actual, expected, rel * Math.max(1e-300, Math.abs(expected)), what);
}

test('logGamma matches factorials and Γ(½) = √π', () => {
  let f = 0;
  for (let n = 1; n <= 30; n++) {
    close(logGamma(n), f, 1e-13 * Math.max(1, f), `lnΓ(${n})`);
    f += Math.log(n);
  }
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14, 'lnΓ(½)');
  close(logGamma(1.5), Math.log(Math.sqrt(Math.PI) / 2), 1e-14, 'lnΓ(3/2)');
  // Stirling with three correction terms at a large argument.
  const x = 1e6;
  const stirling = (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
  relClose(logGamma(x), stirling, 1e-14, 'lnΓ(1e6)');
});

test('incomplete beta: closed forms I_x(a,1) = x^a, I_x(1,b) = 1−(1−x)^b, I_½(a,a) = ½, I_x(½,½) = (2/π)·asin√x', () => {
  for (const x of [1e-6, 0.01, 0.3, 0.5, 0.77, 0.999]) {
    for (const a of [0.3, 1, 2.5, 17, 300]) relClose(incompleteBeta(x, a, 1), x ** a, 1e-12, `I_${x}(${a},1)`);
    for (const b of [0.3, 1, 2.5, 17, 300]) relClose(incompleteBeta(x, 1, b), -Math.expm1(b * Math.log1p(-x)), 1e-12, `I_${x}(1,${b})`);
    relClose(incompleteBeta(x, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(x)), 1e-12, `I_${x}(½,½)`);
  }
  for (const a of [0.5, 3, 12.5, 400]) close(incompleteBeta(0.5, a, a), 0.5, 1e-11, `I_½(${a},${a})`);
  // Logs stay finite far below the double range: ln I_x(a, 1) = a·ln x.
  relClose(logIncompleteBeta(1e-5, 500, 1), 500 * Math.log(1e-5), 1e-12, 'ln I_1e-5(500,1)');
});

test('incomplete beta: integer a, b equal the binomial tail', () => {
  const choose = (n: number, k: number): number => {
    let r = 1;
    for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
    return r;
  };
  for (const [a, b] of [
    [2, 3],
    [5, 5],
    [7, 2],
    [10, 20],
  ] as const) {
    for (const x of [0.1, 0.35, 0.5, 0.8]) {
      const n = a + b - 1;
      let s = 0;
      for (let j = a; j <= n; j++) s += choose(n, j) * x ** j * (1 - x) ** (n - j);
      relClose(incompleteBeta(x, a, b), s, 1e-11, `I_${x}(${a},${b})`);
    }
  }
});

test('incomplete beta: Simpson quadrature of the beta density and tabulated mpmath values', () => {
  // ∫0^x t^(a−1)(1−t)^(b−1) dt / ∫0^1 …, both by composite Simpson (smooth enough for a, b ≥ 2).
  const simpson = (f: (t: number) => number, lo: number, hi: number, n = 20000): number => {
    const h = (hi - lo) / n;
    let s = f(lo) + f(hi);
    for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(lo + i * h);
    return (s * h) / 3;
  };
  for (const [a, b, x] of [
    [2.5, 3.3, 0.4],
    [2, 7.25, 0.12],
    [9.5, 2.5, 0.9],
  ] as const) {
    const f = (t: number): number => t ** (a - 1) * (1 - t) ** (b - 1);
    relClose(incompleteBeta(x, a, b), simpson(f, 0, x) / simpson(f, 0, 1), 1e-7, `I_${x}(${a},${b}) by quadrature`);
  }
  // mpmath at 40 digits: ln I_x(a, b).
  const table: Array<[number, number, number, number]> = [
    [0.3, 2.5, 0.5, -3.9671592496583295],
    [0.9, 31.5, 0.5, -4.577546488445886],
    [0.2, 0.7, 3.3, -0.41746910536570536],
    [0.999, 255.5, 0.5, -0.74483655506963605],
    [0.05, 10, 20, -14.025106065679077],
    [0.6, 100, 100, -0.0021624313082531525],
    [0.5, 0.5, 2.5, -0.078596141079091823],
  ];
  for (const [x, a, b, ln] of table) relClose(logIncompleteBeta(x, a, b), ln, 1e-11, `ln I_${x}(${a},${b})`);
  // Symmetry I_x(a,b) + I_{1−x}(b,a) = 1.
  for (const [x, a, b] of [
    [0.3, 4.5, 0.5],
    [0.93, 63.5, 0.5],
    [0.5, 2, 9],
  ] as const) close(incompleteBeta(x, a, b) + incompleteBeta(1 - x, b, a), 1, 1e-13, `symmetry at ${x}`);
});

test('cosine p-value: exact laws in 2 and 3 dimensions', () => {
  for (const c of [-0.95, -0.4, 0, 0.2, 0.7, 0.999]) {
    close(cosinePvalue(c, 2), Math.acos(c) / Math.PI, 1e-12, `d=2, c=${c}`);
    close(cosinePvalue(c, 3), (1 - c) / 2, 1e-12, `d=3, c=${c}`); // Archimedes: uniform on [−1, 1]
  }
  close(cosinePvalue(0, 100), 0.5, 1e-13, 'c = 0');
  assert.equal(logCosinePvalue(1, 50), -Infinity);
  close(cosinePvalue(-1, 50), 1, 1e-15, 'c = −1');
});

test('cosine p-value law matches simulated cosines of random unit vectors (tails and quantiles)', () => {
  const rng = new Rng(123);
  const n = 20000;
  for (const d of [5, 16, 64]) {
    // Cosine with a fixed axis e1 of a uniformly random unit vector (normalised Gaussian).
    const cos = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      let first = 0;
      for (let j = 0; j < d; j++) {
        const g = rng.normal();
        if (j === 0) first = g;
        s += g * g;
      }
      cos[i] = first / Math.sqrt(s);
    }
    const sorted = Float64Array.from(cos).sort();
    for (const alpha of [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) {
      // The empirical (1−alpha) quantile q has P(C ≥ q) ≈ alpha under the law.
      const q = sorted[Math.floor((1 - alpha) * n)]!;
      const p = cosinePvalue(q, d);
      const sigma = Math.sqrt((alpha * (1 - alpha)) / n);
      close(p, alpha, 5 * sigma + 1e-4, `d=${d}, upper ${alpha} quantile`);
    }
    for (const c of [-0.3, 0, 0.1, 0.3]) {
      let k = 0;
      for (const v of cos) if (v >= c) k++;
      const p = cosinePvalue(c, d);
      close(k / n, p, 5 * Math.sqrt((p * (1 - p)) / n) + 1e-4, `d=${d}, tail at ${c}`);
    }
  }
});

test('cosine p-value stays exact where p underflows a double', () => {
  // mpmath: log10 P(C ≥ c) for (c, d).
  relClose(toLog10(logCosinePvalue(0.5, 512)), -33.376833856558311, 1e-11, 'c=0.5, d=512');
  relClose(toLog10(logCosinePvalue(0.3, 2048)), -43.455075416267361, 1e-11, 'c=0.3, d=2048');
  relClose(toLog10(logCosinePvalue(0.9, 2048)), -740.20468353357365, 1e-11, 'c=0.9, d=2048');
  relClose(toLog10(logCosinePvalue(-0.2, 64)), -0.02461134791702149, 1e-10, 'c=−0.2, d=64');
  relClose(toLog10(logCosinePvalue(0.1, 128)), -0.88687983415893902, 1e-11, 'c=0.1, d=128');
  assert.equal(cosinePvalue(0.9, 2048), 0); // the p-value itself underflows; its log does not
  // Monotone in c.
  let prev = 0;
  for (let c = -0.99; c < 1; c += 0.01) {
    const lp = logCosinePvalue(c, 256);
    assert.ok(lp <= prev + 1e-12, `not monotone at ${c}`);
    prev = lp;
  }
});

test('chi-square survival: closed form for even degrees of freedom and mpmath values', () => {
  // Q(K, x) = e^{−x} Σ_{i<K} x^i / i! for integer K, summed in log space.
  const closedForm = (k: number, x: number): number => {
    const terms: number[] = [];
    let lf = 0;
    for (let i = 0; i < k; i++) {
      if (i > 0) lf += Math.log(i);
      terms.push(i * Math.log(x) - lf);
    }
    return -x + logSumExp(terms);
  };
  for (const [k, x] of [
    [1, 0.3],
    [3, 2],
    [10, 15],
    [10, 3],
    [50, 4000],
    [1000, 1e6],
  ] as const) relClose(logGammaQ(k, x), closedForm(k, x), 1e-11, `ln Q(${k}, ${x})`);
  relClose(logChi2Survival(1e4, 20), -4936.1452874965432, 1e-12, 'χ²_20 ≥ 1e4');
  relClose(logChi2Survival(1e5, 2000), -45096.241735199988, 1e-11, 'χ²_2000 ≥ 1e5');
  relClose(logChi2Survival(30, 20), -2.6613527866436883, 1e-11, 'χ²_20 ≥ 30');
  relClose(logChi2Survival(3, 20), -4.0975093711749004e-6, 1e-8, 'χ²_20 ≥ 3');
  // Odd degrees of freedom: χ²_1 ≥ s is 2·(1 − Φ(√s)) = erfc(√(s/2)); check at s = 1 (0.3173105078629141).
  relClose(Math.exp(logChi2Survival(1, 1)), 0.31731050786291415, 1e-12, 'χ²_1 ≥ 1');
});

test('Fisher combination in log space: identities and extreme inputs', () => {
  // One p-value: χ²_2 ≥ −2 ln p has probability exactly p.
  for (const lp of [-1e-9, -0.5, -30, -1e4, -1e7]) relClose(fisherCombineLog([lp]), lp, 1e-12, `K=1, ln p=${lp}`);
  // Two: Q(2, x) = e^{−x}(1 + x) with x = −ln(p1 p2).
  for (const [a, b] of [
    [-0.1, -2],
    [-700, -800],
    [-5000, -5000],
    [-1e6, -3],
  ] as const) {
    const x = -(a + b);
    relClose(fisherCombineLog([a, b]), -x + Math.log1p(x), 1e-12, `K=2 (${a}, ${b})`);
  }
  // Ten classes each with ln p = −1000 (p = e^−1000 underflows): finite, below each input's sum bound.
  const ten = fisherCombineLog(new Array(10).fill(-1000));
  assert.ok(Number.isFinite(ten) && ten < -9900 && ten > -10000, `got ${ten}`);
  // All p = 1: combined p = 1.
  close(fisherCombineLog(new Array(5).fill(0)), 0, 1e-15, 'all ones');
  // Uniform p-values give a uniform combined p (check the mean over many draws).
  const rng = new Rng(5);
  let sum = 0;
  const draws = 4000;
  for (let i = 0; i < draws; i++) sum += Math.exp(fisherCombineLog(Array.from({ length: 10 }, () => Math.log(rng.next() || 1e-300))));
  close(sum / draws, 0.5, 5 * Math.sqrt(1 / 12 / draws), 'mean combined p under H0');
  assert.throws(() => fisherCombineLog([]), PaperlabError);
  assert.throws(() => fisherCombineLog([0.5]), PaperlabError);
});

test('Student t survival: Cauchy and ν = 2 closed forms, mpmath values', () => {
  for (const t of [-3, -0.5, 0, 0.7, 4, 100]) {
    close(Math.exp(logStudentTSurvival(t, 1)), 0.5 - Math.atan(t) / Math.PI, 1e-13, `ν=1, t=${t}`);
    close(Math.exp(logStudentTSurvival(t, 2)), 0.5 - t / (2 * Math.sqrt(t * t + 2)), 1e-13, `ν=2, t=${t}`);
  }
  relClose(logStudentTSurvival(2, 5), -2.9765231671618121, 1e-11, 't=2, ν=5');
  relClose(logStudentTSurvival(10, 7), -11.445537746149079, 1e-11, 't=10, ν=7');
  relClose(logStudentTSurvival(-1.5, 3), -0.12249755576237247, 1e-10, 't=−1.5, ν=3');
  relClose(logStudentTSurvival(50, 4), -14.552144357403814, 1e-11, 't=50, ν=4');
});

test('log helpers and input checks', () => {
  close(log1mExp(-1e-20), Math.log(1e-20), 1e-9, 'log1mExp near 0');
  close(log1mExp(-50), -Math.exp(-50), 1e-30, 'log1mExp far');
  close(logSumExp([-1000, -1000]), -1000 + Math.LN2, 1e-12, 'logSumExp');
  assert.equal(logSumExp([-Infinity, -Infinity]), -Infinity);
  assert.throws(() => logCosinePvalue(1.5, 10), /cosine/);
  assert.throws(() => logCosinePvalue(0.2, 1), /feature dimension/);
  assert.throws(() => logIncompleteBeta(0.5, -1, 2), PaperlabError);
  assert.throws(() => logIncompleteBeta(1.2, 1, 2), PaperlabError);
});
