/**
 * The statistics of radioactive-data detection, all in log space.
 *
 * Under H0 (the suspect never saw the marked data) the carrier u_k is a uniformly random unit vector
 * independent of the suspect's class weight w_k, so c = cos(w_k, u_k) is the cosine between a fixed
 * direction and a random one in d dimensions, with density ∝ (1 − c²)^((d−3)/2). Its tail is
 *
 *   P(C ≥ c) = ½ · I_{1−c²}((d−1)/2, ½)           for c ≥ 0 (1 minus the mirror for c < 0),
 *
 * with I the regularised incomplete beta function. The K per-class p-values are combined with
 * Fisher's method, S = −2 Σ ln p_k ~ χ²(2K). A strong mark gives p_k far below 1e−308, so every
 * function here returns natural logarithms and never forms the p-value itself.
 *
 * Everything is implemented here from the definitions (Lanczos log-gamma, Lentz continued fractions
 * for the incomplete beta and gamma functions); no statistics library is used.
 */
import { PaperlabError } from '../core/errors.js';
import { log1mExp, logChi2Survival, logIncompleteBeta } from '../core/special.js';

// The special functions moved to src/core/special.ts (the sweep statistics use them too); re-exported here
// so existing imports keep working.
export {
  logGamma,
  logBeta,
  log1mExp,
  logSumExp,
  logIncompleteBeta,
  incompleteBeta,
  logGammaQ,
  logChi2Survival,
  logStudentTSurvival,
  toLog10,
} from '../core/special.js';

function checkDim(d: number): void {
  if (!(Number.isInteger(d) && d >= 2)) throw new PaperlabError('d', `the feature dimension must be an integer ≥ 2, got ${d}`, 'pass the length of the carrier vectors');
}

/**
 * ln P(C ≥ c) for the cosine C between a fixed unit vector and a uniformly random one in d
 * dimensions: ln(½ I_{1−c²}((d−1)/2, ½)) for c ≥ 0, and ln(1 − ½ I_{1−c²}(…)) for c < 0.
 */
export function logCosinePvalue(c: number, d: number): number {
  checkDim(d);
  if (!Number.isFinite(c) || Math.abs(c) > 1 + 1e-6) throw new PaperlabError('cosine', `must lie in [−1, 1], got ${c}`, 'pass a cosine similarity');
  const cc = Math.max(-1, Math.min(1, c));
  const a = (d - 1) / 2;
  const ac = Math.abs(cc);
  // 1 − c² = (1 − |c|)(1 + |c|), exact even when |c| is close to 1.
  const lnI = logIncompleteBeta((1 - ac) * (1 + ac), a, 0.5, ac * ac);
  const lnHalfI = lnI - Math.LN2;
  return cc >= 0 ? lnHalfI : log1mExp(lnHalfI);
}

/** P(C ≥ c) for a random cosine in d dimensions (may underflow to 0; use logCosinePvalue). */
export function cosinePvalue(c: number, d: number): number {
  return Math.exp(logCosinePvalue(c, d));
}

/**
 * Fisher's combination of independent p-values given as natural logs: S = −2 Σ ln p_i is χ²(2K)
 * under H0; returns ln P(χ²_{2K} ≥ S). Exact in log space, so ln p_i of −10⁶ is fine.
 */
export function fisherCombineLog(logPs: readonly number[]): number {
  if (logPs.length === 0) throw new PaperlabError('p-values', 'is empty', 'pass at least one p-value');
  let s = 0;
  for (const lp of logPs) {
    if (Number.isNaN(lp) || lp > 1e-12) throw new PaperlabError('p-values', `contains ln p = ${lp}, which is not the log of a probability`, 'pass natural logs (≤ 0)');
    s += -2 * Math.min(0, lp);
  }
  return logChi2Survival(s, 2 * logPs.length);
}
