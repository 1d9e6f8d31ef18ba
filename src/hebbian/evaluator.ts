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

export interface Evaluator {
  /** Worker threads used (0: the calling thread). */
  readonly workers: number;
  evaluate(spec: FitnessSpec, candidates: readonly Float32Array[], seeds: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array>;
  close(): Promise<void>;
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

  async close(): Promise<void> {}
}
