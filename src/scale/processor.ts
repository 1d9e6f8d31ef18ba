/**
 * The sandboxed job processor: BullMQ runs this file in child processes of `paperlab worker`, so a
 * heavy job never blocks the worker's event loop (lock renewal, stalled checks).
 *
 *  - 'seed':     runs `paperlab run <name> --seed S --result-dir TMP` in a fresh process — exactly
 *                what the local sweep does — and returns its result.json and log;
 *  - 'es-slice': rebuilds candidates [first, first+count) from the centre, σ and the pairs' RNG
 *                states (or takes them as sent), and returns their fitness (pure: the same anywhere).
 *
 * A payload that fails its checks throws UnrecoverableError: the job fails at once with the reason in
 * its record (no retries) and the worker goes on with the next job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError, type SandboxedJob } from 'bullmq';
import { evaluateSlice } from '../hebbian/evaluator.js';
import { perturbedCandidates } from '../hebbian/perturb.js';
import { checkFitnessSpec } from '../hebbian/rollout.js';
import { Rng } from '../core/rng.js';
import type { ExperimentResult } from '../experiments/types.js';
import { b64ToF32, b64ToF64, checkSeedPayload, checkSlicePayload, f64ToB64, SEED_JOB, SLICE_JOB, type SeedReturn, type SliceReturn } from './jobs.js';

const running = new Set<ChildProcess>();
// The worker died (e.g. SIGKILL): take the experiment processes down with this one, leave nothing behind.
process.on('disconnect', () => {
  for (const c of running) c.kill('SIGKILL');
  process.exit(1);
});

const cli = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

function unrecoverable(e: unknown): never {
  throw new UnrecoverableError(`malformed payload: ${(e as Error).message}`);
}

async function runSeed(data: unknown): Promise<SeedReturn> {
  let d;
  try {
    d = checkSeedPayload(data);
  } catch (e) {
    unrecoverable(e);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paperlab-seed-'));
  const args = [cli(), 'run', d.name, '--seed', String(d.seed), '--result-dir', dir];
  if (d.quick) args.push('--quick');
  if (d.backend) args.push('--backend', d.backend);
  // Loaded here, not at the top: it pulls in the chart renderer, which ES-slice processes never need.
  const { validateResult } = await import('../experiments/result.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, PAPERLAB_QUIET: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    const err: Buffer[] = [];
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(e));
    child.on('close', (code, signal) => {
      running.delete(child);
      const log = Buffer.concat(err).toString('utf8');
      try {
        if (code !== 0) throw new Error(`paperlab run ${d.name} --seed ${d.seed} exited with ${signal ?? `code ${code}`}: ${log.trim().split('\n').slice(-3).join(' | ') || '(no output)'}`);
        const result = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8')) as ExperimentResult;
        const problems = validateResult(result);
        if (problems.length) throw new Error(`invalid result.json: ${problems.join('; ')}`);
        resolve({ result, log, host: os.hostname() });
      } catch (e) {
        // An unknown experiment fails the same way on every machine: no point retrying it.
        reject(/unknown experiment/i.test(log) ? new UnrecoverableError((e as Error).message) : e);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

function runSlice(data: unknown): SliceReturn {
  let params: Float32Array;
  let seeds: Float64Array;
  let d;
  try {
    d = checkSlicePayload(data);
    checkFitnessSpec(d.spec);
    seeds = b64ToF64(d.seeds, 'job data.seeds');
    if (d.kind === 'perturbed') {
      const centre = b64ToF32(d.centre, 'job data.centre');
      if (centre.length === 0) throw new Error('job data.centre is empty');
      d.noise.forEach((s) => Rng.fromState(s)); // checks every state
      params = perturbedCandidates({ centre, sigma: d.sigma, noise: d.noise });
    } else {
      params = b64ToF32(d.params, 'job data.params');
    }
    if (d.count === 0 || params.length % d.count !== 0 || seeds.length !== d.count * d.spec.episodes) {
      throw new Error(`job data: ${d.count} candidates with ${params.length} parameters and ${seeds.length} seeds do not fit together (episodes ${d.spec.episodes})`);
    }
  } catch (e) {
    unrecoverable(e);
  }
  return { first: d.first, fitness: f64ToB64(evaluateSlice(d.spec, params, seeds, d.count)) };
}

export default async function process_(job: SandboxedJob): Promise<SeedReturn | SliceReturn> {
  if (job.name === SEED_JOB) return runSeed(job.data);
  if (job.name === SLICE_JOB) return runSlice(job.data);
  throw new UnrecoverableError(`unknown job name '${job.name}' (this worker runs '${SEED_JOB}' and '${SLICE_JOB}' jobs)`);
}
