/**
 * Evaluators turn a batch of candidate parameter vectors into fitness values. Candidate k is
 * evaluated as `evaluateFitness(spec, candidates[k], seeds[k])` — a pure function — so any evaluator
 * (this in-thread one, or the worker pool in pool.ts) returns the same numbers for any number of
 * workers and any chunking.
 *
 * Browser-safe: no Node imports.
 */
import { check } from '../core/errors.js';
import { checkFitnessSpec, evaluateFitness, makeEnvs, type FitnessSpec } from './rollout.js';
import { perturbedCandidates, type Perturbation } from './perturb.js';

export interface Evaluator {
  /** Worker threads used (0: the calling thread). */
  readonly workers: number;
  evaluate(spec: FitnessSpec, candidates: readonly Float32Array[], seeds: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array>;
  /**
   * Optional: the same fitness for candidates given in seed form (es.ts's Perturbation: candidate
   * 2i, 2i+1 = centre ± σ·ε_i). Evaluators that ship work elsewhere (src/scale) send only the seeds and
   * the centre; the result must equal `evaluate(spec, perturbedCandidates(pert), seeds)` bit for bit.
   */
  evaluatePerturbed?(spec: FitnessSpec, perturbation: Perturbation, seeds: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array>;
  close(): Promise<void>;
}

/** The candidates of a perturbation as separate vectors (views into one buffer). */
export function candidatesOf(pert: Perturbation): Float32Array[] {
  const all = perturbedCandidates(pert);
  const p = pert.centre.length;
  return Array.from({ length: 2 * pert.noise.length }, (_, k) => all.subarray(k * p, (k + 1) * p));
}

export function checkBatch(candidates: readonly Float32Array[], seeds: ReadonlyArray<ArrayLike<number>>): void {
  check(candidates.length === seeds.length, 'seeds', `has ${seeds.length} entries for ${candidates.length} candidates`, 'pass one seed list per candidate');
}

/** Evaluates a contiguous slice: `params` holds `count` vectors back to back, `seeds` `count × episodes` seeds. */
export function evaluateSlice(spec: FitnessSpec, params: Float32Array, seeds: Float64Array, count: number): Float64Array {
  const p = params.length / count;
  const e = seeds.length / count;
  const envs = makeEnvs(spec);
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = evaluateFitness(spec, params.subarray(k * p, (k + 1) * p), seeds.subarray(k * e, (k + 1) * e), envs);
  return out;
}

/** Evaluates candidates one after another on the calling thread. */
export class InlineEvaluator implements Evaluator {
  readonly workers = 0;

  async evaluate(spec: FitnessSpec, candidates: readonly Float32Array[], seeds: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array> {
    checkFitnessSpec(spec);
    checkBatch(candidates, seeds);
    const envs = makeEnvs(spec);
    const out = new Float64Array(candidates.length);
    for (let k = 0; k < candidates.length; k++) out[k] = evaluateFitness(spec, candidates[k]!, seeds[k]!, envs);
    return out;
  }

  /** Rebuilds the candidates from their seeds, as a remote worker does, and evaluates them here. */
  evaluatePerturbed(spec: FitnessSpec, perturbation: Perturbation, seeds: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array> {
    return this.evaluate(spec, candidatesOf(perturbation), seeds);
  }

  async close(): Promise<void> {}
}
