/**
 * Sweep seeds on queue workers: the SeedRunner of src/experiments/sweep.ts backed by BullMQ. One job
 * per seed, id `seed.<name>.<seed>.<quick|full>[.<backend>]`, so enqueueing a seed twice (a resumed
 * sweep, a re-enqueue after a Redis restart) never runs it twice at once. The worker returns the run's
 * result.json; runSweep writes it into the same layout as the local path.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PaperlabError, checkInt } from '../core/errors.js';
import type { ExperimentResult } from '../experiments/types.js';
import type { SeedJob, SeedRunner } from '../experiments/sweep.js';
import { JobWaiter, type ClientOptions } from './client.js';
import { DEFAULT_QUEUE, probeRedis, redactUrl } from './connection.js';
import { SEED_JOB, type SeedPayload, type SeedReturn } from './jobs.js';

export interface RedisSeedRunnerOptions extends ClientOptions {
  queue?: string;
  /** Seeds enqueued at once (default 1000: all of a normal sweep; the workers set the real parallelism). */
  inFlight?: number;
  /** Attempts per seed before it counts as failed (default 3). */
  attempts?: number;
}

export const seedJobId = (j: Pick<SeedJob, 'name' | 'seed' | 'quick' | 'backend'>): string => `seed.${j.name}.${j.seed}.${j.quick ? 'quick' : 'full'}${j.backend ? `.${j.backend}` : ''}`;

export class RedisSeedRunner implements SeedRunner {
  readonly kind: string;
  readonly workers: number;
  private readonly attempts: number;

  private constructor(
    private readonly waiter: JobWaiter,
    o: RedisSeedRunnerOptions,
  ) {
    this.kind = `redis ${redactUrl(o.url)} queue ${o.queue ?? DEFAULT_QUEUE}`;
    this.workers = o.inFlight ?? 1000;
    this.attempts = o.attempts ?? 3;
    checkInt(this.workers, 'inFlight', { min: 1 });
    checkInt(this.attempts, 'attempts', { min: 1 });
  }

  /** Checks Redis is reachable (clear error otherwise) and opens the queue. */
  static async connect(o: RedisSeedRunnerOptions): Promise<RedisSeedRunner> {
    await probeRedis(o.url);
    const waiter = new JobWaiter(o.queue ?? DEFAULT_QUEUE, o);
    await waiter.ready();
    const r = new RedisSeedRunner(waiter, o);
    if ((await waiter.queue.getWorkersCount().catch(() => 1)) === 0) (o.log ?? console.error)(`no worker is connected yet: start \`paperlab worker --redis ${redactUrl(o.url)}\` on the machines that should run the seeds`);
    return r;
  }

  async run(job: SeedJob): Promise<ExperimentResult> {
    const id = seedJobId(job);
    const q = this.waiter.queue;
    // A seed that failed in an earlier sweep gets a fresh start: rerunning the sweep means "retry".
    const old = await q.getJob(id);
    if (old && (await old.getState()) === 'failed') await old.remove();
    const payload: SeedPayload = { name: job.name, seed: job.seed, quick: job.quick, ...(job.backend ? { backend: job.backend } : {}) };
    const done = await this.waiter.run(id, () =>
      q.add(SEED_JOB, payload, { jobId: id, attempts: this.attempts, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } }),
    );
    const ret = done.returnvalue as SeedReturn;
    if (!ret || !ret.result) throw new PaperlabError(`seed ${job.seed}`, `job ${id} completed without a result`, 'check the worker version matches the client');
    await fs.mkdir(job.dir, { recursive: true });
    await fs.writeFile(path.join(job.dir, 'log.txt'), `[ran on ${ret.host}]\n${ret.log}`);
    await done.remove().catch(() => undefined); // the sweep has it now
    return ret.result;
  }

  async close(): Promise<void> {
    await this.waiter.close();
  }
}
