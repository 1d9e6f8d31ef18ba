/**
 * OpenAI-ES (Salimans et al. 2017) as used by Najarro & Risi 2020:
 *
 *   1. draw pop/2 noise vectors ε_i ~ N(0, I); candidates h + σε_i and h − σε_i (antithetic pairs)
 *   2. fitness F_k of every candidate (any objective; for policies see evolvePolicy)
 *   3. F_k ← F_k − penalty · mean(c_k²)       (coefficient penalty on the candidate c_k)
 *   4. r = centred ranks of F in [−0.5, 0.5] (ties share a rank); divided by their std when `standardiseRanks`
 *      (the reference code does this; it multiplies the step by ≈ 3.5)
 *   5. h ← h + lr / (pop · σ) · Σ_k r_k ε_k    (ε_k = ±ε_i)
 *   6. lr ← max(lrFloor, lr · lrDecay), σ ← max(sigmaFloor, σ · sigmaDecay)
 *
 * All randomness comes from one Rng whose state is saved with every checkpoint, so a resumed run
 * continues exactly where an uninterrupted one would be.
 */
import { PaperlabError, check, checkInt, checkNumber } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type JsonValue } from '../core/checkpoint.js';
import { Progress } from '../core/progress.js';
import { antitheticPair, type Perturbation } from './perturb.js';

export { antitheticPair, perturbedCandidates, type Perturbation } from './perturb.js';

export interface EsConfig {
  /** Candidates per generation (even: antithetic pairs). Paper: 200. */
  populationSize: number;
  /** Paper: 0.2. */
  lr: number;
  /** Noise scale. Paper: 0.1. */
  sigma: number;
  lrDecay: number;
  lrFloor: number;
  sigmaDecay: number;
  sigmaFloor: number;
  /** Fitness penalty per unit mean squared parameter. Paper: 0.01. */
  penalty: number;
  /** Divide the centred ranks by their standard deviation (reference code: yes). */
  standardiseRanks: boolean;
}

export const ES_DEFAULTS: Readonly<EsConfig> = Object.freeze({
  populationSize: 200,
  lr: 0.2,
  sigma: 0.1,
  lrDecay: 0.995,
  lrFloor: 0.001,
  sigmaDecay: 0.999,
  sigmaFloor: 0.01,
  penalty: 0.01,
  standardiseRanks: true,
});

export function resolveEsConfig(c: Partial<EsConfig> = {}): EsConfig {
  const cfg = { ...ES_DEFAULTS, ...c };
  checkInt(cfg.populationSize, 'populationSize', { min: 2 });
  check(cfg.populationSize % 2 === 0, 'populationSize', `must be even (antithetic pairs), got ${cfg.populationSize}`, `use ${cfg.populationSize + 1}`);
  checkNumber(cfg.lr, 'lr', { min: 0 });
  checkNumber(cfg.sigma, 'sigma', { min: 0, exclusiveMin: true });
  checkNumber(cfg.lrDecay, 'lrDecay', { min: 0, max: 1 });
  checkNumber(cfg.sigmaDecay, 'sigmaDecay', { min: 0, max: 1 });
  checkNumber(cfg.lrFloor, 'lrFloor', { min: 0 });
  checkNumber(cfg.sigmaFloor, 'sigmaFloor', { min: 0 });
  checkNumber(cfg.penalty, 'penalty', { min: 0 });
  return cfg;
}

/**
 * Centred ranks: the lowest value gets −0.5, the highest +0.5, evenly spaced in between. Tied values
 * share their average rank, so a flat fitness landscape gives all zeros (no step) rather than a step
 * in an arbitrary direction; NaN ranks lowest.
 */
export function centredRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const key = (i: number): number => (Number.isNaN(x[i]!) ? -Infinity : x[i]!);
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
  const out = new Float64Array(n);
  if (n === 1) return out;
  for (let r = 0; r < n; ) {
    let end = r + 1;
    while (end < n && key(idx[end]!) === key(idx[r]!)) end++;
    const rank = (r + end - 1) / 2;
    for (let k = r; k < end; k++) out[idx[k]!] = rank / (n - 1) - 0.5;
    r = end;
  }
  return out;
}

export interface GenerationStats {
  /** 1-based number of this generation. */
  generation: number;
  /** Raw fitness (before the penalty) over the population. */
  meanFitness: number;
  maxFitness: number;
  minFitness: number;
  /** lr and σ this generation used. */
  lr: number;
  sigma: number;
  /** Norm of the parameter step. */
  stepNorm: number;
}

export interface EsState {
  generation: number;
  params: Float32Array;
  lr: number;
  sigma: number;
  rng: RngState;
}

/** The ask/tell optimiser (maximises fitness). */
export class OpenAIES {
  readonly config: EsConfig;
  params: Float32Array;
  lr: number;
  sigma: number;
  generation = 0;
  private readonly rng: Rng;
  private noise: Float32Array[] = [];
  private candidates: Float32Array[] = [];

  constructor(initial: ArrayLike<number>, config: Partial<EsConfig> = {}, rng: Rng = new Rng(0)) {
    this.config = resolveEsConfig(config);
    check(initial.length > 0, 'initial', 'is empty', 'pass at least one parameter');
    this.params = Float32Array.from(initial);
    this.lr = this.config.lr;
    this.sigma = this.config.sigma;
    this.rng = rng;
  }

  /**
   * Samples this generation's candidates [h+σε_0, h−σε_0, h+σε_1, …] and a generation stream `rng`
   * (forked from the optimiser's stream) for the objective's own randomness, e.g. episode seeds.
   * `perturbation` describes the same candidates by the centre, σ and the RNG state each ε_i was
   * drawn from, so a remote evaluator can rebuild them (perturbedCandidates) instead of receiving them.
   */
  ask(): { candidates: Float32Array[]; rng: Rng; perturbation: Perturbation } {
    const { populationSize } = this.config;
    const p = this.params.length;
    const centre = this.params.slice();
    const states: RngState[] = [];
    this.noise = [];
    this.candidates = [];
    for (let i = 0; i < populationSize / 2; i++) {
      states.push(this.rng.getState());
      const eps = this.rng.normalArray(p);
      this.noise.push(eps);
      this.candidates.push(...antitheticPair(centre, this.sigma, eps));
    }
    const perturbation: Perturbation = { centre, sigma: this.sigma, noise: states };
    return { candidates: this.candidates, rng: this.rng.fork(`generation ${this.generation + 1}`), perturbation };
  }

  /** Updates the parameters from the fitness of the candidates of the last `ask`. */
  tell(fitness: ArrayLike<number>): GenerationStats {
    const { populationSize, penalty, standardiseRanks } = this.config;
    check(this.candidates.length === populationSize, 'tell', 'called without a matching ask', 'call ask() first, then tell() once with its fitness values');
    check(fitness.length === populationSize, 'fitness', `has ${fitness.length} values for ${populationSize} candidates`, 'pass one fitness value per candidate');
    const shaped = new Float64Array(populationSize);
    let sum = 0;
    let max = -Infinity;
    let min = Infinity;
    let finite = 0;
    for (let k = 0; k < populationSize; k++) {
      const f = fitness[k]!;
      if (Number.isFinite(f)) {
        sum += f;
        finite++;
        max = Math.max(max, f);
        min = Math.min(min, f);
      }
      let sq = 0;
      const c = this.candidates[k]!;
      for (let j = 0; j < c.length; j++) sq += c[j]! * c[j]!;
      shaped[k] = f - (penalty * sq) / c.length;
    }
    if (finite === 0) throw new PaperlabError('fitness', `every candidate of generation ${this.generation + 1} is NaN or infinite`, 'lower sigma or lr, or check the objective');
    const r = centredRanks(shaped);
    if (standardiseRanks) {
      let v = 0;
      for (let k = 0; k < populationSize; k++) v += r[k]! * r[k]!;
      const std = Math.sqrt(v / populationSize);
      if (std > 0) for (let k = 0; k < populationSize; k++) r[k] = r[k]! / std;
    }
    const p = this.params.length;
    const grad = new Float64Array(p);
    for (let i = 0; i < this.noise.length; i++) {
      const w = r[2 * i]! - r[2 * i + 1]!;
      if (w === 0) continue;
      const eps = this.noise[i]!;
      for (let k = 0; k < p; k++) grad[k] = grad[k]! + w * eps[k]!;
    }
    const scale = this.lr / (populationSize * this.sigma);
    let stepSq = 0;
    for (let k = 0; k < p; k++) {
      const before = this.params[k]!;
      this.params[k] = before + scale * grad[k]!;
      const d = this.params[k]! - before;
      stepSq += d * d;
    }
    const stats: GenerationStats = {
      generation: this.generation + 1,
      meanFitness: sum / finite,
      maxFitness: max,
      minFitness: min,
      lr: this.lr,
      sigma: this.sigma,
      stepNorm: Math.sqrt(stepSq),
    };
    this.lr = Math.max(this.config.lrFloor, this.lr * this.config.lrDecay);
    this.sigma = Math.max(this.config.sigmaFloor, this.sigma * this.config.sigmaDecay);
    this.generation++;
    this.noise = [];
    this.candidates = [];
    return stats;
  }

  getState(): EsState {
    return { generation: this.generation, params: this.params.slice(), lr: this.lr, sigma: this.sigma, rng: this.rng.getState() };
  }

  setState(s: EsState): void {
    check(s.params.length === this.params.length, 'state.params', `has ${s.params.length} values, the optimiser ${this.params.length}`, 'restore a state of the same problem');
    this.generation = s.generation;
    this.params = Float32Array.from(s.params);
    this.lr = s.lr;
    this.sigma = s.sigma;
    this.rng.setState(s.rng);
    this.noise = [];
    this.candidates = [];
  }
}

/** `perturbation`: the same candidates in seed form (see Perturbation), for evaluators that rebuild them. */
export type Objective = (candidates: Float32Array[], rng: Rng, generation: number, perturbation: Perturbation) => ArrayLike<number> | Promise<ArrayLike<number>>;

export interface EvolveOptions {
  /** Fitness of every candidate (higher is better); `rng` is the generation's own stream. */
  objective: Objective;
  initial: ArrayLike<number>;
  generations: number;
  config?: Partial<EsConfig>;
  /** Seeds the optimiser's stream (default 0); ignored when `rng` is given. */
  seed?: number;
  rng?: Rng;
  /** Save a checkpoint here after every generation and resume from it when present. */
  checkpointDir?: string;
  /** Describes the problem; a checkpoint written for a different key is refused on resume. */
  checkpointKey?: JsonValue;
  onGeneration?: (stats: GenerationStats, es: OpenAIES) => void | Promise<void>;
  label?: string;
  quiet?: boolean;
}

export interface EvolveResult {
  params: Float32Array;
  history: GenerationStats[];
  /** Generation the run resumed after (0 for a fresh start). */
  resumedFrom: number;
  seconds: number;
}

const historyToJson = (h: GenerationStats[]): JsonValue => h.map((s) => ({ ...s }));

/** Runs `generations` generations of OpenAI-ES, with per-generation checkpoints and resume. */
export async function evolve(o: EvolveOptions): Promise<EvolveResult> {
  checkInt(o.generations, 'generations', { min: 0 });
  const es = new OpenAIES(o.initial, o.config, o.rng ?? new Rng(o.seed ?? 0));
  const key = JSON.stringify(o.checkpointKey ?? null);
  let history: GenerationStats[] = [];
  let resumedFrom = 0;
  if (o.checkpointDir && hasCheckpoint(o.checkpointDir)) {
    const ck = await loadCheckpoint(o.checkpointDir);
    const meta = ck.meta as { kind?: string; key?: string; lr?: number; sigma?: number; history?: GenerationStats[] } | undefined;
    if (!meta || meta.kind !== 'paperlab-es') throw new PaperlabError('checkpointDir', `${o.checkpointDir} holds a checkpoint that is not an ES run`, 'pass an empty directory or one written by evolve()');
    if (meta.key !== key) throw new PaperlabError('checkpointDir', `${o.checkpointDir} was written for a different problem (${meta.key})`, 'pass a fresh directory, or the same spec and settings as the run that wrote it');
    const params = ck.groups.es?.params?.data;
    if (!(params instanceof Float32Array) || !ck.rng) throw new PaperlabError('checkpointDir', `${o.checkpointDir} lacks the ES parameters or RNG state`, 'pass a directory written by evolve()');
    es.setState({ generation: ck.step, params, lr: meta.lr!, sigma: meta.sigma!, rng: ck.rng });
    history = (meta.history ?? []).slice(0, ck.step);
    resumedFrom = ck.step;
  }
  const progress = new Progress(o.generations, { label: o.label ?? 'es', quiet: o.quiet });
  const t0 = Date.now();
  while (es.generation < o.generations) {
    const { candidates, rng, perturbation } = es.ask();
    const fitness = await o.objective(candidates, rng, es.generation + 1, perturbation);
    const stats = es.tell(fitness);
    history.push(stats);
    if (o.checkpointDir) {
      await saveCheckpoint(o.checkpointDir, {
        step: es.generation,
        rng: es.getState().rng,
        meta: { kind: 'paperlab-es', key, lr: es.lr, sigma: es.sigma, config: { ...es.config }, history: historyToJson(history) },
        groups: { es: { params: { shape: [es.params.length], dtype: 'float32', data: es.params } } },
      });
    }
    if (o.onGeneration) await o.onGeneration(stats, es);
    progress.tick(es.generation, { mean: stats.meanFitness, max: stats.maxFitness });
  }
  return { params: es.params.slice(), history, resumedFrom, seconds: (Date.now() - t0) / 1000 };
}
