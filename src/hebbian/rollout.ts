/**
 * Episodes and the fitness function evolution optimises — the notes' open question ("I am not
 * completely certain how the fitness is evaluated"), answered explicitly:
 *
 *   fitness(params) = mean over bodies b and episode seeds s of  R(env_b, policy(params), s)
 *
 * where R is the undiscounted sum of rewards of ONE episode run to its end (failure or time limit).
 * An episode seed s fixes everything random in that episode: `new Rng(s)` gives the environment's
 * reset seed (first draw) and, through `fork('weights')`, the plastic network's random starting
 * weights. So fitness is a pure function of (params, seeds): the same on any thread, in any order.
 * The evolution strategy decides which seeds a candidate gets (see es.ts) and subtracts the
 * coefficient penalty; the paper uses one body (or two, for the damage test) and one episode.
 *
 * Browser-safe: no Node imports. A demo can load an agent file and step an `Episode` once per frame.
 */
import { PaperlabError, check, checkInt } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { makeEnv, type Env, type EnvSpec } from './envs.js';
import { makePolicy, parameterCount, type Policy, type PolicySpec } from './network.js';

/** Turns network outputs into an environment action: argmax (discrete) or the outputs themselves. */
export function toAction(env: Env, output: Float32Array): number | Float32Array {
  if (env.actionType === 'discrete') {
    let best = 0;
    for (let k = 1; k < env.actionSize; k++) if (output[k]! > output[best]!) best = k;
    return best;
  }
  const a = output.slice(0, env.actionSize);
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k]!)) a[k] = 0;
  return a;
}

export interface StepInfo {
  /** Steps taken so far in this episode (1 after the first step). */
  t: number;
  /** Observation the action was chosen from. */
  observation: Float32Array;
  action: number | Float32Array;
  reward: number;
  totalReward: number;
  done: boolean;
  /** Mean |Δw| over all synapses caused by this step's Hebbian update (0 for static networks). */
  weightChange: number;
  /** The observation after the step. */
  next: Float32Array;
}

/** One episode run step by step: `step()` until `done`. */
export class Episode {
  observation: Float32Array;
  totalReward = 0;
  t = 0;
  done = false;

  constructor(
    readonly env: Env,
    readonly policy: Policy,
    readonly seed: number,
  ) {
    const rng = new Rng(seed);
    const envSeed = rng.nextU32();
    policy.reset(rng.fork('weights'));
    this.observation = env.reset(envSeed);
    if (policy.sizes[0] !== env.observationSize) {
      throw new PaperlabError('policy.sizes', `start with ${policy.sizes[0]} inputs but ${env.name} observes ${env.observationSize}`, `use sizes[0] = ${env.observationSize}`);
    }
    const nOut = policy.sizes[policy.sizes.length - 1]!;
    if (nOut !== env.actionSize) {
      throw new PaperlabError('policy.sizes', `end with ${nOut} outputs but ${env.name} needs ${env.actionSize}`, `use a last size of ${env.actionSize}`);
    }
  }

  step(): StepInfo {
    check(!this.done, 'step', 'the episode is over', 'start a new Episode');
    const obs = this.observation;
    const action = toAction(this.env, this.policy.act(obs));
    const r = this.env.step(action);
    this.t++;
    this.totalReward += r.reward;
    this.done = r.done;
    this.observation = r.observation;
    return { t: this.t, observation: obs, action, reward: r.reward, totalReward: this.totalReward, done: r.done, weightChange: this.policy.lastWeightChange, next: r.observation };
  }
}

export interface EpisodeResult {
  totalReward: number;
  steps: number;
  /** Mean |Δw| per step (only when `recordWeightChange`). */
  weightChanges?: Float32Array;
}

/** Runs one whole episode (the unit fitness is made of). */
export function runEpisode(env: Env, policy: Policy, seed: number, opts: { recordWeightChange?: boolean } = {}): EpisodeResult {
  const ep = new Episode(env, policy, seed);
  const changes = opts.recordWeightChange ? new Float32Array(env.maxSteps) : undefined;
  while (!ep.done) {
    const s = ep.step();
    if (changes) changes[s.t - 1] = s.weightChange;
  }
  return { totalReward: ep.totalReward, steps: ep.t, ...(changes ? { weightChanges: changes.slice(0, ep.t) } : {}) };
}

/** What one candidate is evaluated on. Serialisable: it travels to the worker threads as is. */
export interface FitnessSpec {
  policy: PolicySpec;
  /** One environment per body; fitness averages over all of them. */
  envs: EnvSpec[];
  /** Episodes per body and candidate (the paper: 1). The ES draws this many seeds per candidate. */
  episodes: number;
}

export function checkFitnessSpec(spec: FitnessSpec): void {
  check(spec && typeof spec === 'object', 'spec', 'expected a FitnessSpec', 'pass { policy, envs, episodes }');
  check(Array.isArray(spec.envs) && spec.envs.length > 0, 'spec.envs', 'needs at least one environment', "pass e.g. [{ name: 'pendulum' }]");
  checkInt(spec.episodes, 'spec.episodes', { min: 1 });
  parameterCount(spec.policy);
  for (const e of spec.envs) {
    const env = makeEnv(e);
    const nOut = spec.policy.sizes[spec.policy.sizes.length - 1];
    check(spec.policy.sizes[0] === env.observationSize, 'spec.policy.sizes[0]', `is ${spec.policy.sizes[0]} but ${env.name} observes ${env.observationSize} values`, `use ${env.observationSize}`);
    check(nOut === env.actionSize, 'spec.policy.sizes', `end with ${nOut} outputs but ${env.name} needs ${env.actionSize}`, `use a last size of ${env.actionSize}`);
  }
}

/** Builds the environments of a spec once, so a batch of candidates can reuse them. */
export function makeEnvs(spec: FitnessSpec): Env[] {
  return spec.envs.map((e) => makeEnv(e));
}

/**
 * The fitness of one parameter vector: the mean return over every body in `spec.envs` and every
 * seed in `seeds` (so bodies × seeds episodes). Pure: identical wherever it runs.
 */
export function evaluateFitness(spec: FitnessSpec, params: ArrayLike<number>, seeds: ArrayLike<number>, envs: Env[] = makeEnvs(spec)): number {
  check(seeds.length > 0, 'seeds', 'is empty', 'pass at least one episode seed');
  const policy = makePolicy(spec.policy, params);
  let sum = 0;
  for (const env of envs) for (let e = 0; e < seeds.length; e++) sum += runEpisode(env, policy, seeds[e]!).totalReward;
  return sum / (envs.length * seeds.length);
}

// ---------------------------------------------------------------------------------------------
// Agent files: what a browser demo loads.

export interface AgentFile {
  format: 'paperlab-hebbian-agent';
  version: 1;
  env: EnvSpec;
  policy: PolicySpec;
  params: number[];
  /** Free-form provenance (experiment, seed, generations, fitness). */
  info?: Record<string, string | number | boolean>;
}

export function makeAgentFile(env: EnvSpec, policy: PolicySpec, params: ArrayLike<number>, info?: AgentFile['info']): AgentFile {
  return { format: 'paperlab-hebbian-agent', version: 1, env, policy, params: Array.from(params), ...(info ? { info } : {}) };
}

/** Validates a parsed agent file and builds its environment and policy. */
export function loadAgent(json: unknown): { env: Env; policy: Policy; file: AgentFile } {
  const f = json as AgentFile;
  check(f && typeof f === 'object' && f.format === 'paperlab-hebbian-agent' && f.version === 1, 'agent', 'is not a paperlab Hebbian agent file (version 1)', 'pass the JSON written by makeAgentFile / the hebbian-adaptation experiment');
  check(Array.isArray(f.params), 'agent.params', 'is missing', 'pass a complete agent file');
  const env = makeEnv(f.env);
  const policy = makePolicy(f.policy, f.params);
  return { env, policy, file: f };
}

/**
 * Starts one episode of a saved agent, to be advanced with `episode.step()` (e.g. once per
 * animation frame). `body` overrides the file's body, e.g. to show a damaged cart-pole.
 */
export function createEpisode(agent: unknown, seed: number, body?: EnvSpec['body']): Episode {
  const { env, policy, file } = loadAgent(agent);
  const e = body === undefined ? env : makeEnv({ ...file.env, body });
  return new Episode(e, policy, seed);
}
