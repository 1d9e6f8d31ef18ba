/**
 * Hebbian plasticity rules (Najarro & Risi 2020): every synapse w_ij from pre-synaptic unit i to
 * post-synaptic unit j has its own coefficients and changes after every forward pass by
 *
 *   ABCD_lr:  Δw_ij = η_ij · (A_ij o_i o_j + B_ij o_i + C_ij o_j + D_ij)
 *
 * The other rules keep a subset of the terms. Rules without `_lr` have no per-synapse η: they use one
 * fixed rate `fixedEta` for every synapse (1 by default, as in the reference code, where the
 * coefficients absorb the scale).
 *
 * Coefficient layout, per synapse, in this order (the letters of the rule's name, then η):
 *   A: [A]  AD: [A, D]  AD_lr: [A, D, η]  ABC: [A, B, C]  ABC_lr: [A, B, C, η]
 *   ABCD: [A, B, C, D]  ABCD_lr: [A, B, C, D, η]
 *
 * Browser-safe: no Node imports.
 */
import { PaperlabError, checkOneOf } from '../core/errors.js';

export const HEBBIAN_RULES = ['A', 'AD', 'AD_lr', 'ABC', 'ABC_lr', 'ABCD', 'ABCD_lr'] as const;
export type HebbianRule = (typeof HEBBIAN_RULES)[number];

const PER_SYNAPSE: Record<HebbianRule, number> = { A: 1, AD: 2, AD_lr: 3, ABC: 3, ABC_lr: 4, ABCD: 4, ABCD_lr: 5 };
const CODE: Record<HebbianRule, number> = { A: 0, AD: 1, AD_lr: 2, ABC: 3, ABC_lr: 4, ABCD: 5, ABCD_lr: 6 };

/** Throws a PaperlabError naming `argument` unless `rule` is one of HEBBIAN_RULES. */
export function checkRule(rule: string, argument = 'rule'): asserts rule is HebbianRule {
  checkOneOf(rule, HEBBIAN_RULES, argument);
}

/** Number of evolved coefficients per synapse (1 for A … 5 for ABCD_lr). */
export function coefficientsPerSynapse(rule: HebbianRule): number {
  checkRule(rule);
  return PER_SYNAPSE[rule];
}

/** Names of one synapse's coefficients in storage order, e.g. ['A', 'D', 'eta'] for AD_lr. */
export function coefficientNames(rule: HebbianRule): string[] {
  checkRule(rule);
  const letters = rule.replace('_lr', '').split('');
  return rule.endsWith('_lr') ? [...letters, 'eta'] : letters;
}

/**
 * Δw for one synapse: `c` holds that synapse's coefficients (layout above), `pre` = o_i, `post` = o_j.
 * The scalar reference for the vectorised layer update below.
 */
export function hebbianDelta(rule: HebbianRule, c: ArrayLike<number>, pre: number, post: number, fixedEta = 1): number {
  checkRule(rule);
  const k = PER_SYNAPSE[rule];
  if (c.length < k) throw new PaperlabError('coefficients', `rule ${rule} needs ${k} coefficients, got ${c.length}`, `pass [${coefficientNames(rule).join(', ')}]`);
  switch (rule) {
    case 'A':
      return fixedEta * c[0]! * pre * post;
    case 'AD':
      return fixedEta * (c[0]! * pre * post + c[1]!);
    case 'AD_lr':
      return c[2]! * (c[0]! * pre * post + c[1]!);
    case 'ABC':
      return fixedEta * (c[0]! * pre * post + c[1]! * pre + c[2]! * post);
    case 'ABC_lr':
      return c[3]! * (c[0]! * pre * post + c[1]! * pre + c[2]! * post);
    case 'ABCD':
      return fixedEta * (c[0]! * pre * post + c[1]! * pre + c[2]! * post + c[3]!);
    case 'ABCD_lr':
      return c[4]! * (c[0]! * pre * post + c[1]! * pre + c[2]! * post + c[3]!);
  }
}

/**
 * Applies the rule to one layer in place. `w` is [nOut, nIn] row-major (w[j·nIn + i] connects input i
 * to output j); the coefficients of synapse (j, i) start at `coeffs[cOffset + (j·nIn + i)·K]`.
 * Returns Σ|Δw| over the layer (before any normalisation).
 */
export function hebbianUpdateLayer(
  rule: HebbianRule,
  w: Float32Array,
  coeffs: Float32Array,
  cOffset: number,
  pre: Float32Array,
  post: Float32Array,
  fixedEta = 1,
): number {
  const nIn = pre.length;
  const nOut = post.length;
  if (w.length !== nIn * nOut) throw new PaperlabError('weights', `layer has ${w.length} weights but pre × post = ${nIn} × ${nOut}`, 'pass the activations that belong to this layer');
  if (PER_SYNAPSE[rule] === undefined) checkRule(rule);
  const K = PER_SYNAPSE[rule];
  const code = CODE[rule];
  if (cOffset + nIn * nOut * K > coeffs.length) {
    throw new PaperlabError('coefficients', `need ${cOffset + nIn * nOut * K} values, got ${coeffs.length}`, 'pass parameterCount(spec) coefficients');
  }
  let total = 0;
  for (let j = 0; j < nOut; j++) {
    const oj = post[j]!;
    const row = j * nIn;
    for (let i = 0; i < nIn; i++) {
      const oi = pre[i]!;
      const c = cOffset + (row + i) * K;
      let d: number;
      switch (code) {
        case 0:
          d = fixedEta * coeffs[c]! * oi * oj;
          break;
        case 1:
          d = fixedEta * (coeffs[c]! * oi * oj + coeffs[c + 1]!);
          break;
        case 2:
          d = coeffs[c + 2]! * (coeffs[c]! * oi * oj + coeffs[c + 1]!);
          break;
        case 3:
          d = fixedEta * (coeffs[c]! * oi * oj + coeffs[c + 1]! * oi + coeffs[c + 2]! * oj);
          break;
        case 4:
          d = coeffs[c + 3]! * (coeffs[c]! * oi * oj + coeffs[c + 1]! * oi + coeffs[c + 2]! * oj);
          break;
        case 5:
          d = fixedEta * (coeffs[c]! * oi * oj + coeffs[c + 1]! * oi + coeffs[c + 2]! * oj + coeffs[c + 3]!);
          break;
        default:
          d = coeffs[c + 4]! * (coeffs[c]! * oi * oj + coeffs[c + 1]! * oi + coeffs[c + 2]! * oj + coeffs[c + 3]!);
      }
      w[row + i] = w[row + i]! + d;
      total += d < 0 ? -d : d;
    }
  }
  return total;
}

/** Divides a layer by its largest |w| (the per-layer normalisation some tasks use); no-op if all zero. */
export function normaliseLayer(w: Float32Array): void {
  let m = 0;
  for (let k = 0; k < w.length; k++) {
    const a = Math.abs(w[k]!);
    if (a > m) m = a;
  }
  if (m === 0 || !Number.isFinite(m)) return;
  const inv = 1 / m;
  for (let k = 0; k < w.length; k++) w[k] = w[k]! * inv;
}
