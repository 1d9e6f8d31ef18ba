/**
 * `paperlab bench es --redis URL --workers 1,2,4`: ES candidates per second through the BullMQ queue
 * against the local piscina pool with the same number of workers, in the same run, plus the queue's
 * per-job overhead (a generation of near-empty episodes, queue minus pool, per job). The bench starts
 * and stops its own `paperlab worker` processes on this machine against the given Redis; the queue
 * must have no other workers, or the figures mix machines. Fitness must be identical; it checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, intOption } from '../src/cli/args.js';
import { Rng } from '../src/core/rng.js';
import { WorkerPoolEvaluator } from '../src/hebbian/pool.js';
import { initialParameters } from '../src/hebbian/network.js';
import type { Perturbation } from '../src/hebbian/perturb.js';
import type { FitnessSpec } from '../src/hebbian/rollout.js';
import { candidatesOf, type Evaluator } from '../src/hebbian/evaluator.js';
import { QueueEvaluator } from '../src/scale/es-evaluator.js';
import { redactUrl } from '../src/scale/connection.js';
import { median } from './types.js';

export interface EsQueueRow {
  workers: number;
  slices: number;
  poolCandidatesPerSecond: number;
  queueCandidatesPerSecond: number;
  /** queue / pool candidates per second. */
  ratio: number;
  /** (queue − pool) seconds of a near-empty generation per job (slices + the gathering parent), ms. */
  overheadMsPerJob: number;
}

export interface EsQueueResult {
  kind: 'es-queue';
  redis: string;
  population: number;
  parameters: number;
  repeats: number;
  rows: EsQueueRow[];
  identical: boolean;
}

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [cli, 'worker', '--redis', url, '--concurrency', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      out += b.toString();
      if (/taking jobs/.test(out)) resolve(child);
    });
    child.once('exit', (c) => reject(new UsageError(`paperlab worker exited with ${c}: ${out.trim()}`)));
  });
}

async function stopWorkers(ws: ChildProcess[]): Promise<void> {
  await Promise.all(ws.map((w) => new Promise<void>((resolve) => {
    if (w.exitCode !== null) return resolve();
    w.once('exit', () => resolve());
    w.kill('SIGTERM');
    setTimeout(() => w.kill('SIGKILL'), 10_000).unref();
  })));
}

export async function runEsQueueBench(values: Record<string, string | boolean | undefined>): Promise<EsQueueResult> {
  const url = values.redis as string;
  const list = String(values.workers ?? '1,2,4').split(',').map((s) => intOption(s.trim(), 'workers', 1, 1));
  const population = intOption(values.population, 'population', 256, 2);
  if (population % 2) throw new UsageError('--population must be even (antithetic pairs)');
  const repeats = intOption(values.repeats, 'repeats', 3, 1);
  const log = (m: string): void => void (values.json ? undefined : process.stderr.write(`  ${m}\n`));
  // The hebbian-adaptation pendulum network: 3-16-8-1 ABCD_lr with an input bias.
  const spec: FitnessSpec = { policy: { kind: 'hebbian', sizes: [3, 16, 8, 1], rule: 'ABCD_lr', inputBias: true }, envs: [{ name: 'pendulum', maxSteps: 200 }], episodes: 1 };
  const tiny: FitnessSpec = { ...spec, envs: [{ name: 'pendulum', maxSteps: 1 }] };
  const rng = new Rng(0);
  const centre = initialParameters(spec.policy, rng);
  const noise = Array.from({ length: population / 2 }, () => {
    const s = rng.getState();
    rng.normalArray(centre.length);
    return s;
  });
  const pert: Perturbation = { centre, sigma: 0.1, noise };
  const cands = candidatesOf(pert);
  const seeds = cands.map(() => [rng.nextU32()]);
  const rows: EsQueueRow[] = [];
  let identical = true;
  let reference: Float64Array | undefined;
  const time = async (f: () => Promise<Float64Array>): Promise<number> => {
    const ts: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      const out = await f();
      ts.push((performance.now() - t0) / 1000);
      if (out.length === population) {
        if (!reference) reference = out;
        else identical &&= out.every((v, k) => Object.is(v, reference![k]));
      }
    }
    return median(ts);
  };
  for (const n of list) {
    const slices = 4 * n;
    const pool: Evaluator = new WorkerPoolEvaluator({ workers: n });
    const workers = await Promise.all(Array.from({ length: n }, () => startWorker(url)));
    const queue = await QueueEvaluator.connect({ url, slices, log: () => undefined });
    try {
      // Warm-up: threads and sandboxed processes up, code compiled.
      await pool.evaluate(spec, cands, seeds);
      await queue.evaluatePerturbed(spec, pert, seeds);
      const tPool = await time(() => pool.evaluate(spec, cands, seeds));
      const tQueue = await time(() => queue.evaluatePerturbed(spec, pert, seeds));
      const small = { ...pert, noise: noise.slice(0, slices) };
      const smallSeeds = seeds.slice(0, 2 * slices);
      const tPoolTiny = await time(() => pool.evaluate(tiny, candidatesOf(small), smallSeeds));
      const tQueueTiny = await time(() => queue.evaluatePerturbed(tiny, small, smallSeeds));
      const row: EsQueueRow = {
        workers: n,
        slices,
        poolCandidatesPerSecond: population / tPool,
        queueCandidatesPerSecond: population / tQueue,
        ratio: tPool / tQueue,
        overheadMsPerJob: ((tQueueTiny - tPoolTiny) * 1000) / (slices + 1),
      };
      rows.push(row);
      log(`${n} worker(s): pool ${row.poolCandidatesPerSecond.toFixed(0)} / queue ${row.queueCandidatesPerSecond.toFixed(0)} candidates/s, ${row.overheadMsPerJob.toFixed(1)} ms overhead per job`);
    } finally {
      await queue.close();
      await pool.close();
      await stopWorkers(workers);
    }
  }
  return { kind: 'es-queue', redis: redactUrl(url), population, parameters: centre.length, repeats, rows, identical };
}

export function formatEsQueue(r: EsQueueResult): string {
  return [
    `ES through BullMQ on ${r.redis} vs the local piscina pool: ${r.population} candidates of ${r.parameters} parameters (hebbian 3-16-8-1, pendulum, 200 steps), median of ${r.repeats}`,
    'workers  slices  pool cand/s  queue cand/s  queue/pool  overhead ms/job',
    ...r.rows.map((x) => `${String(x.workers).padStart(7)}  ${String(x.slices).padStart(6)}  ${x.poolCandidatesPerSecond.toFixed(0).padStart(11)}  ${x.queueCandidatesPerSecond.toFixed(0).padStart(12)}  ${x.ratio.toFixed(2).padStart(10)}  ${x.overheadMsPerJob.toFixed(1).padStart(15)}`),
    `fitness identical across pool and queue: ${r.identical ? 'yes' : 'NO'}`,
  ].join('\n');
}
