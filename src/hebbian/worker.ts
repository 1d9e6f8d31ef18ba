/**
 * Worker-thread entry for the evaluator pool (pool.ts): evaluates one contiguous slice of candidates.
 * Loaded by piscina from the compiled file next to this one (dist/src/hebbian/worker.js).
 */
import { evaluateSlice } from './evaluator.js';
import type { FitnessSpec } from './rollout.js';

export interface BatchTask {
  spec: FitnessSpec;
  /** `count` parameter vectors back to back. */
  params: Float32Array;
  /** `count × episodes` episode seeds. */
  seeds: Float64Array;
  count: number;
}

export default function evaluateBatch(task: BatchTask): Float64Array {
  return evaluateSlice(task.spec, task.params, task.seeds, task.count);
}
