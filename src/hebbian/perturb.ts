/**
 * ES candidates in seed form (browser-safe, no Node imports): what OpenAIES.ask() samples, described
 * by the centre, σ and the RNG state each noise vector was drawn from, and the one function that turns
 * them into float32 candidates — used by ask() itself and by every evaluator that rebuilds them.
 */
import { checkInt } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';

/**
 * A generation's candidates in seed form: candidate 2i = centre + σ·ε_i and 2i+1 = centre − σ·ε_i,
 * where ε_i = Rng.fromState(noise[i]).normalArray(centre.length). A few numbers per pair instead of
 * a whole vector per candidate — what travels to queue workers (src/scale).
 */
export interface Perturbation {
  centre: Float32Array;
  sigma: number;
  noise: RngState[];
}

/** centre ± σ·ε, rounded to float32 exactly as ask() does (one function, so both agree bit for bit). */
export function antitheticPair(centre: Float32Array, sigma: number, eps: Float32Array): [Float32Array, Float32Array] {
  const p = centre.length;
  const plus = new Float32Array(p);
  const minus = new Float32Array(p);
  for (let k = 0; k < p; k++) {
    plus[k] = centre[k]! + sigma * eps[k]!;
    minus[k] = centre[k]! - sigma * eps[k]!;
  }
  return [plus, minus];
}

/** Rebuilds candidates 2·firstPair … 2·(firstPair + pairs) − 1 of a perturbation, back to back in one array. */
export function perturbedCandidates(pert: Perturbation, firstPair = 0, pairs = pert.noise.length - firstPair): Float32Array {
  const p = pert.centre.length;
  checkInt(firstPair, 'firstPair', { min: 0, max: pert.noise.length });
  checkInt(pairs, 'pairs', { min: 0, max: pert.noise.length - firstPair });
  const out = new Float32Array(2 * pairs * p);
  for (let i = 0; i < pairs; i++) {
    const eps = Rng.fromState(pert.noise[firstPair + i]!).normalArray(p);
    const [plus, minus] = antitheticPair(pert.centre, pert.sigma, eps);
    out.set(plus, 2 * i * p);
    out.set(minus, (2 * i + 1) * p);
  }
  return out;
}
