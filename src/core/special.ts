/**
 * Special functions for statistics, implemented from their definitions (Lanczos log-gamma, Lentz
 * continued fractions for the incomplete beta and gamma functions), all usable in log space so tiny
 * p-values never underflow. Shared by the radioactive-data detector and the sweep statistics.
 * Browser-safe: no Node imports.
 */
import { PaperlabError, checkNumber } from './errors.js';

const LN10 = Math.LN10;
const EPS = 1e-16;
const TINY = 1e-300;
const MAX_ITER = 100_000;

// Lanczos approximation, g = 7, n = 9 (Godfrey's coefficients): ~15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos); reflection for 0 < x < ½ keeps it accurate near 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new PaperlabError('x', `logGamma needs x > 0, got ${x}`, 'pass a positive number');
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** ln(1 − e^v) for v ≤ 0, accurate at both ends. */
export function log1mExp(v: number): number {
  if (v > 0) throw new PaperlabError('v', `log1mExp needs v ≤ 0, got ${v}`, 'pass the logarithm of a probability');
  return v > -Math.LN2 ? Math.log(-Math.expm1(v)) : Math.log1p(-Math.exp(v));
}

/** ln Σ e^{v_i}, stable for very negative inputs. */
export function logSumExp(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  if (m === -Infinity) return -Infinity;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (const v of values) s += Math.exp(v - m);
  return m + Math.log(s);
}

/** Modified Lentz evaluation of the incomplete-beta continued fraction (converges for x < (a+1)/(a+b+2)). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  throw new PaperlabError('incomplete beta', `continued fraction did not converge for x=${x}, a=${a}, b=${b}`, 'report this input; it is outside the tested range');
}

/**
 * ln I_x(a, b), the log of the regularised incomplete beta function. `y` = 1 − x may be passed
 * explicitly when it is known more precisely than 1 − x (e.g. c² when x = 1 − c²).
 */
export function logIncompleteBeta(x: number, a: number, b: number, y = 1 - x): number {
  checkNumber(a, 'a', { min: 0, exclusiveMin: true });
  checkNumber(b, 'b', { min: 0, exclusiveMin: true });
  if (!(x >= 0 && x <= 1) || !(y >= 0 && y <= 1)) throw new PaperlabError('x', `must lie in [0, 1], got x=${x}, 1−x=${y}`, 'pass a probability');
  if (x === 0) return -Infinity;
  if (y === 0) return 0;
  // ln of the prefactor x^a (1−x)^b / B(a, b)
  const front = a * Math.log(x) + b * Math.log(y) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return front - Math.log(a) + Math.log(betaContinuedFraction(x, a, b));
  // Symmetry: I_x(a, b) = 1 − I_{1−x}(b, a).
  const other = front - Math.log(b) + Math.log(betaContinuedFraction(y, b, a));
  return log1mExp(Math.min(0, other));
}

/** I_x(a, b), the regularised incomplete beta function (underflows to 0 where its log is below −745). */
export function incompleteBeta(x: number, a: number, b: number): number {
  return Math.exp(logIncompleteBeta(x, a, b));
}

/**
 * ln Q(a, x) = ln(Γ(a, x)/Γ(a)), the log of the regularised upper incomplete gamma function
 * (series for x < a + 1, Lentz continued fraction otherwise).
 */
export function logGammaQ(a: number, x: number): number {
  checkNumber(a, 'a', { min: 0, exclusiveMin: true });
  if (Number.isNaN(x) || x < 0) throw new PaperlabError('x', `must be ≥ 0, got ${x}`, 'pass a non-negative number');
  if (x === 0) return 0;
  if (x === Infinity) return -Infinity;
  const front = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // P(a, x) = e^{−x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n))
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let n = 1; n <= MAX_ITER; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * EPS) return log1mExp(Math.min(0, front + Math.log(sum)));
    }
    throw new PaperlabError('incomplete gamma', `series did not converge for a=${a}, x=${x}`, 'report this input');
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return front + Math.log(h);
  }
  throw new PaperlabError('incomplete gamma', `continued fraction did not converge for a=${a}, x=${x}`, 'report this input');
}

/** ln P(χ²_k ≥ s), the log survival function of the chi-square law with k degrees of freedom. */
export function logChi2Survival(s: number, k: number): number {
  checkNumber(k, 'k', { min: 0, exclusiveMin: true });
  return logGammaQ(k / 2, Math.max(0, s) / 2);
}

/**
 * ln P(T ≥ t) for Student's t with ν degrees of freedom: ½ I_{ν/(ν+t²)}(ν/2, ½) for t ≥ 0.
 */
export function logStudentTSurvival(t: number, nu: number): number {
  checkNumber(nu, 'nu', { min: 0, exclusiveMin: true });
  if (Number.isNaN(t)) throw new PaperlabError('t', 'is NaN', 'pass a finite statistic');
  if (t === Infinity) return -Infinity;
  if (t === -Infinity) return 0;
  const t2 = t * t;
  const lnHalfI = logIncompleteBeta(nu / (nu + t2), nu / 2, 0.5, t2 / (nu + t2)) - Math.LN2;
  return t >= 0 ? lnHalfI : log1mExp(lnHalfI);
}

/** Natural log → log10. */
export function toLog10(lnP: number): number {
  return lnP / LN10;
}
