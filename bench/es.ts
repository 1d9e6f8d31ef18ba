/**
 * `paperlab bench es [--json]`: how fast candidates are evaluated — episodes (and environment
 * steps) per second on the calling thread and on piscina pools of 1 and 2 worker threads — for the
 * networks the hebbian-adaptation experiment evolves, plus CPU ms per episode on the calling thread.
 * Each setting evaluates the same batch (one
 * episode per candidate, fixed seeds), so the fitness values must agree across settings; the
 * benchmark checks that too.
 */
import { UsageError, intOption, strOption } from '../src/cli/args.js';
import { Rng } from '../src/core/rng.js';
import { InlineEvaluator, type Evaluator } from '../src/hebbian/evaluator.js';
import { WorkerPoolEvaluator } from '../src/hebbian/pool.js';
import { initialParameters } from '../src/hebbian/network.js';
import { runEpisode, type FitnessSpec } from '../src/hebbian/rollout.js';
import { makeEnv, type EnvName } from '../src/hebbian/envs.js';
import { makePolicy } from '../src/hebbian/network.js';
import { median, type Benchmark } from './types.js';
import { formatEsQueue, runEsQueueBench, type EsQueueResult } from './es-queue.js';

export interface EsBenchRow {
  /** 0 = the calling thread. */
  workers: number;
  episodesPerSecond: number;
  stepsPerSecond: number;
  /** Median seconds for the batch. */
  seconds: number;
}

export interface EsBenchResult {
  env: EnvName;
  policy: 'hebbian' | 'static';
  sizes: number[];
  episodes: number;
  stepsPerEpisode: number;
  repeats: number;
  rows: EsBenchRow[];
  /** 2-worker over 1-worker episodes per second. */
  speedup2over1: number;
  /** Fitness values identical across all settings. */
  identical: boolean;
  /** CPU milliseconds per episode on the calling thread (less sensitive to other load than wall time). */
  cpuMsPerEpisode: number;
}

export const esBench: Benchmark<EsBenchResult | EsQueueResult> = {
  name: 'es',
  summary: 'Hebbian/static policy episodes per second on 0, 1 and 2 worker threads (piscina); with --redis URL --workers 1,2,4: the BullMQ queue against the pool',
  options: {
    env: { type: 'string' },
    policy: { type: 'string' },
    episodes: { type: 'string' },
    repeats: { type: 'string' },
    // With --redis: queue vs local pool (bench/es-queue.ts).
    redis: { type: 'string' },
    workers: { type: 'string' },
    population: { type: 'string' },
  },
  async run(values) {
    if (typeof values.redis === 'string') return runEsQueueBench(values);
    const env = strOption(values.env, 'pendulum') as EnvName;
    if (env !== 'pendulum' && env !== 'cartpole') throw new UsageError(`--env expects pendulum or cartpole, got '${env}'`);
    const kind = strOption(values.policy, 'hebbian');
    if (kind !== 'hebbian' && kind !== 'static') throw new UsageError(`--policy expects hebbian or static, got '${kind}'`);
    const episodes = intOption(values.episodes, 'episodes', 512, 2);
    const repeats = intOption(values.repeats, 'repeats', 3, 1);
    // The experiment's network shapes (hebbian-adaptation): 16 and 8 tanh hidden units, an input bias.
    const sizes = env === 'pendulum' ? [3, 16, 8, 1] : [4, 16, 8, 2];
    const spec: FitnessSpec = {
      policy: kind === 'hebbian' ? { kind: 'hebbian', sizes, rule: 'ABCD_lr', inputBias: true } : { kind: 'static', sizes, inputBias: true },
      envs: [{ name: env, maxSteps: 200 }],
      episodes: 1,
    };
    const rng = new Rng(0);
    const base = initialParameters(spec.policy, rng);
    const candidates = Array.from({ length: episodes }, () => {
      const c = base.slice();
      for (let k = 0; k < c.length; k++) c[k] = c[k]! + 0.1 * rng.normal();
      return c;
    });
    const seeds = Array.from({ length: episodes }, () => [rng.nextU32()]);
    let steps = 0;
    for (let k = 0; k < Math.min(episodes, 16); k++) steps += runEpisode(makeEnv(spec.envs[0]!), makePolicy(spec.policy, candidates[k]!), seeds[k]![0]!).steps;
    const stepsPerEpisode = steps / Math.min(episodes, 16);

    const rows: EsBenchRow[] = [];
    let reference: Float64Array | undefined;
    let identical = true;
    let cpuMsPerEpisode = Number.NaN;
    for (const workers of [0, 1, 2]) {
      const evaluator: Evaluator = workers === 0 ? new InlineEvaluator() : new WorkerPoolEvaluator({ workers });
      try {
        await evaluator.evaluate(spec, candidates.slice(0, Math.max(2, workers * 4)), seeds.slice(0, Math.max(2, workers * 4))); // warm-up: threads up, code compiled
        const times: number[] = [];
        const cpus: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const t0 = performance.now();
          const c0 = process.cpuUsage();
          const f = await evaluator.evaluate(spec, candidates, seeds);
          times.push((performance.now() - t0) / 1000);
          const c = process.cpuUsage(c0);
          cpus.push((c.user + c.system) / 1000 / episodes);
          if (!reference) reference = f;
          else identical &&= f.every((v, k) => v === reference![k]);
        }
        const s = median(times);
        if (workers === 0) cpuMsPerEpisode = median(cpus);
        rows.push({ workers, episodesPerSecond: episodes / s, stepsPerSecond: (episodes * stepsPerEpisode) / s, seconds: s });
        if (!values.json) process.stderr.write(`  ${workers === 0 ? 'main thread' : `${workers} worker${workers > 1 ? 's' : ''}`}: ${(episodes / s).toFixed(0)} episodes/s\n`);
      } finally {
        await evaluator.close();
      }
    }
    const one = rows.find((r) => r.workers === 1)!.episodesPerSecond;
    const two = rows.find((r) => r.workers === 2)!.episodesPerSecond;
    return { env, policy: kind, sizes, episodes, stepsPerEpisode, repeats, rows, speedup2over1: two / one, identical, cpuMsPerEpisode };
  },
  format(r) {
    if ('kind' in r) return formatEsQueue(r);
    const lines = [
      `${r.policy} ${JSON.stringify(r.sizes)} on ${r.env}, ${r.episodes} episodes of ~${r.stepsPerEpisode.toFixed(0)} steps, median of ${r.repeats}`,
      'workers  episodes/s     steps/s',
      ...r.rows.map((x) => `${String(x.workers === 0 ? 'main' : x.workers).padStart(7)}  ${x.episodesPerSecond.toFixed(0).padStart(10)}  ${x.stepsPerSecond.toExponential(2).padStart(10)}`),
      `2 workers / 1 worker: ${r.speedup2over1.toFixed(2)}×; fitness identical across settings: ${r.identical ? 'yes' : 'NO'}`,
      `main thread: ${r.cpuMsPerEpisode.toFixed(3)} CPU ms per episode (wall-clock figures need otherwise idle cores)`,
    ];
    return lines.join('\n');
  },
};
