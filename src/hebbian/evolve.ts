/**
 * Evolving a policy (static weights or Hebbian coefficients) with OpenAI-ES on a worker pool, and
 * evaluating the result over many rollouts.
 *
 * How a candidate's fitness is computed (the notes' open question), all of it explicit here:
 *  - each generation draws episode seeds from its own RNG stream: with `seeding: 'shared'` (default)
 *    `spec.episodes` seeds that every candidate of the generation plays (common random numbers:
 *    candidates are ranked on the same starts and the same random initial weights); with
 *    'per-candidate' every candidate gets its own seeds;
 *  - fitness = mean return over those episodes on every body in `spec.envs` (rollout.ts);
 *  - the ES then subtracts penalty · mean(c²) and ranks (es.ts).
 */
import { check, checkOneOf } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { JsonValue } from '../core/checkpoint.js';
import { evolve, type EsConfig, type EvolveResult, type GenerationStats, type OpenAIES } from './es.js';
import type { Evaluator } from './evaluator.js';
import { initialParameters } from './network.js';
import { createEvaluator } from './pool.js';
import { checkFitnessSpec, evaluateFitness, makeEnvs, type FitnessSpec } from './rollout.js';
import type { EnvSpec } from './envs.js';

export type Seeding = 'shared' | 'per-candidate';

export interface EvolvePolicyOptions {
  spec: FitnessSpec;
  generations: number;
  es?: Partial<EsConfig>;
  /** Seeds the initial parameters, the ES noise and every episode (default 0). */
  seed?: number;
  seeding?: Seeding;
  /** Where candidates are evaluated; default: a pool of `workers` threads (0 = this thread). */
  evaluator?: Evaluator;
  /** Used when no evaluator is given (default 2). */
  workers?: number;
  /** Starting parameters (default: initialParameters(spec.policy), seeded). */
  initial?: Float32Array;
  checkpointDir?: string;
  onGeneration?: (stats: GenerationStats, es: OpenAIES) => void | Promise<void>;
  label?: string;
  quiet?: boolean;
}

/** The episode seeds of one generation: one list per candidate. */
export function generationSeeds(rng: Rng, candidates: number, episodes: number, seeding: Seeding): number[][] {
  if (seeding === 'shared') {
    const s = Array.from({ length: episodes }, () => rng.nextU32());
    return Array.from({ length: candidates }, () => s);
  }
  return Array.from({ length: candidates }, () => Array.from({ length: episodes }, () => rng.nextU32()));
}

export async function evolvePolicy(o: EvolvePolicyOptions): Promise<EvolveResult> {
  checkFitnessSpec(o.spec);
  const seeding = o.seeding ?? 'shared';
  checkOneOf(seeding, ['shared', 'per-candidate'] as const, 'seeding');
  const root = new Rng(o.seed ?? 0);
  const initRng = root.fork('init');
  const esRng = root.fork('es');
  const initial = o.initial ?? initialParameters(o.spec.policy, initRng);
  const evaluator = o.evaluator ?? createEvaluator(o.workers ?? 2);
  try {
    return await evolve({
      initial,
      generations: o.generations,
      config: o.es,
      rng: esRng,
      checkpointDir: o.checkpointDir,
      checkpointKey: JSON.parse(JSON.stringify({ spec: o.spec, seed: o.seed ?? 0, seeding, es: o.es ?? {} })) as JsonValue,
      onGeneration: o.onGeneration,
      label: o.label,
      quiet: o.quiet,
      // An evaluator that can rebuild candidates from their seeds gets the seeds (a queue ships less).
      objective: (candidates, rng, _g, pert) => {
        const seeds = generationSeeds(rng, candidates.length, o.spec.episodes, seeding);
        return evaluator.evaluatePerturbed ? evaluator.evaluatePerturbed(o.spec, pert, seeds) : evaluator.evaluate(o.spec, candidates, seeds);
      },
    });
  } finally {
    if (!o.evaluator) await evaluator.close();
  }
}

export interface ReturnStats {
  mean: number;
  std: number;
  min: number;
  max: number;
  returns: number[];
}

export function summarise(returns: number[]): ReturnStats {
  const n = returns.length;
  const mean = returns.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, std, min: Math.min(...returns), max: Math.max(...returns), returns };
}

/**
 * Returns of `rollouts` independent episodes of one parameter vector on one body (seeds from
 * `new Rng(seed)`), e.g. the paper's "mean ± std over 100 rollouts".
 */
export function evaluateReturns(spec: FitnessSpec, params: ArrayLike<number>, env: EnvSpec, rollouts: number, seed = 0): ReturnStats {
  check(Number.isInteger(rollouts) && rollouts >= 1, 'rollouts', `must be a positive integer, got ${rollouts}`, 'pass e.g. 100');
  const one: FitnessSpec = { ...spec, envs: [env], episodes: 1 };
  const envs = makeEnvs(one);
  const rng = new Rng(seed);
  const returns: number[] = [];
  for (let k = 0; k < rollouts; k++) returns.push(evaluateFitness(one, params, [rng.nextU32()], envs));
  return summarise(returns);
}
