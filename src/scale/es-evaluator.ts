/**
 * The ES Evaluator backed by the queue. A generation is one parent job (queue `<queue>-gather`) whose
 * children are contiguous candidate slices (queue `<queue>`); a worker gathers the children's fitness
 * into one array when the last slice is done. With evaluatePerturbed only the centre, σ, each pair's
 * RNG state and the episode seeds travel — not the perturbed vectors. Fitness is a pure function of
 * (spec, candidate, seeds), so the result equals the local evaluators' bit for bit for any number of
 * workers, and a slice that ran twice gives the same numbers.
 */
import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue, type FlowJob, type Job } from 'bullmq';
import { PaperlabError, checkInt } from '../core/errors.js';
import { checkBatch, type Evaluator } from '../hebbian/evaluator.js';
import type { Perturbation } from '../hebbian/perturb.js';
import { checkFitnessSpec, type FitnessSpec } from '../hebbian/rollout.js';
import { JobWaiter, type ClientOptions } from './client.js';
import { DEFAULT_QUEUE, connectionFor, gatherQueue, probeRedis } from './connection.js';
import { GENERATION_JOB, SLICE_JOB, b64ToF64, f32ToB64, f64ToB64, type GenerationPayload, type SlicePayload } from './jobs.js';

export interface QueueEvaluatorOptions extends ClientOptions {
  queue?: string;
  /** Slices per generation (default 16): a few per worker, so a slow slice does not idle the others. */
  slices?: number;
}

export class QueueEvaluator implements Evaluator {
  /** Slices per generation (the most workers a generation can keep busy). */
  readonly workers: number;
  private readonly nonce = randomBytes(6).toString('hex');
  private counter = 0;
  private readonly flows: FlowProducer;
  private readonly heavy: Queue;

  private constructor(
    private readonly waiter: JobWaiter,
    private readonly queue: string,
    o: QueueEvaluatorOptions,
  ) {
    this.workers = o.slices ?? 16;
    checkInt(this.workers, 'slices', { min: 1 });
    this.flows = new FlowProducer({ connection: { ...connectionFor(o.url), maxRetriesPerRequest: 2 } });
    this.flows.on('error', () => undefined);
    this.heavy = new Queue(queue, { connection: { ...connectionFor(o.url), maxRetriesPerRequest: 2 } });
    this.heavy.on('error', () => undefined);
  }

  static async connect(o: QueueEvaluatorOptions): Promise<QueueEvaluator> {
    await probeRedis(o.url);
    const queue = o.queue ?? DEFAULT_QUEUE;
    // One waiter per generation: poll often, the events usually answer first anyway.
    const waiter = new JobWaiter(gatherQueue(queue), { pollMs: 200, ...o });
    await waiter.ready();
    return new QueueEvaluator(waiter, queue, o);
  }

  async evaluate(spec: FitnessSpec, candidates: readonly Float32Array[], seeds: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array> {
    checkFitnessSpec(spec);
    checkBatch(candidates, seeds);
    return this.generation(spec, candidates.length, 1, (first, count) => {
      const p = candidates[0]!.length;
      const params = new Float32Array(count * p);
      for (let k = 0; k < count; k++) params.set(candidates[first + k]!, k * p);
      return { kind: 'params', params: f32ToB64(params) };
    }, seeds);
  }

  async evaluatePerturbed(spec: FitnessSpec, pert: Perturbation, seeds: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array> {
    checkFitnessSpec(spec);
    const n = 2 * pert.noise.length;
    if (seeds.length !== n) throw new PaperlabError('seeds', `has ${seeds.length} entries for ${n} candidates`, 'pass one seed list per candidate');
    const centre = f32ToB64(pert.centre);
    return this.generation(spec, n, 2, (first, count) => ({ kind: 'perturbed', centre, sigma: pert.sigma, noise: pert.noise.slice(first / 2, (first + count) / 2) }), seeds);
  }

  /** Cuts n candidates into slices (sizes a multiple of `align`), runs them as one flow, returns the gathered fitness. */
  private async generation(
    spec: FitnessSpec,
    n: number,
    align: number,
    body: (first: number, count: number) => Omit<SlicePayload, 'spec' | 'first' | 'count' | 'seeds'>,
    seeds: ReadonlyArray<ArrayLike<number>>,
  ): Promise<Float64Array> {
    if (n === 0) return new Float64Array(0);
    const e = spec.episodes;
    for (const s of seeds) if (s.length !== e) throw new PaperlabError('seeds', `has a list of ${s.length} seeds, the spec ${e} episodes`, 'pass spec.episodes seeds per candidate');
    const size = Math.ceil(n / Math.min(this.workers, n) / align) * align;
    const id = `gen.${this.nonce}.${++this.counter}`;
    const children: FlowJob[] = [];
    for (let first = 0, i = 0; first < n; first += size, i++) {
      const count = Math.min(size, n - first);
      const s = new Float64Array(count * e);
      for (let k = 0; k < count; k++) for (let j = 0; j < e; j++) s[k * e + j] = seeds[first + k]![j]!;
      const data = { spec, first, count, seeds: f64ToB64(s), ...body(first, count) } as SlicePayload;
      children.push({ name: SLICE_JOB, queueName: this.queue, data, opts: { jobId: `${id}.s${i}`, attempts: 3, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: true, removeOnFail: { age: 86_400 }, failParentOnFailure: true } });
    }
    const payload: GenerationPayload = { n };
    const job = await this.waiter.run(
      id,
      () => this.flows.add({ name: GENERATION_JOB, queueName: gatherQueue(this.queue), data: payload, opts: { jobId: id, removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } }, children }),
      (j) => this.failureOf(j),
    );
    const fitness = b64ToF64(job.returnvalue, 'generation result');
    await job.remove().catch(() => undefined);
    if (fitness.length !== n) throw new PaperlabError('generation', `returned ${fitness.length} values for ${n} candidates`, 'check the worker version matches the client');
    return fitness;
  }

  /** A generation fails when one of its slices does: name that slice's own reason. */
  private async failureOf(j: Job): Promise<string> {
    const why = j.failedReason ?? 'unknown reason';
    const m = /bull:[^:]+:(\S+?)\s/.exec(why + ' ');
    if (!m) return why;
    const child = await this.heavy.getJob(m[1]!).catch(() => undefined);
    return child?.failedReason ? `slice ${m[1]}: ${child.failedReason}` : why;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.flows.close(), this.heavy.close(), this.waiter.close()]);
  }
}
