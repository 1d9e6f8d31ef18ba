/**
 * The client half of the queue: enqueue a job under a deterministic id and wait for its result,
 * surviving what at-least-once delivery and Redis restarts throw at it.
 *
 * Waiting is event-driven (QueueEvents) with a slow poll behind it. The poll notices a job that
 * vanished — Redis restarted without persistence — and enqueues it again under the same id; adding an
 * id that exists is a no-op in BullMQ, so re-enqueueing is always safe. A job that ran twice returns
 * the same numbers (fitness and seeds are pure), so whichever copy completes is fine.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { PaperlabError } from '../core/errors.js';
import { connectionFor, redactUrl } from './connection.js';

export interface ClientOptions {
  url: string;
  /** Give up when Redis stays unreachable this long (default 120 000 ms). */
  outageMs?: number;
  /** Poll interval behind the events (default 1000 ms). */
  pollMs?: number;
  log?: (msg: string) => void;
}

/** Waits for jobs of one queue: wake-ups from its events stream, state from polling. */
export class JobWaiter {
  readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly wake = new Map<string, () => void>();
  private readonly outageMs: number;
  private readonly pollMs: number;
  private readonly log: (msg: string) => void;
  private closed = false;

  constructor(
    name: string,
    private readonly o: ClientOptions,
  ) {
    // Commands fail after a couple of reconnection attempts instead of hanging, so an outage is seen and timed.
    this.queue = new Queue(name, { connection: { ...connectionFor(o.url), maxRetriesPerRequest: 2 } });
    this.events = new QueueEvents(name, { connection: connectionFor(o.url) });
    this.queue.on('error', () => undefined);
    this.events.on('error', () => undefined);
    const ping = ({ jobId }: { jobId: string }): void => this.wake.get(jobId)?.();
    this.events.on('completed', ping);
    this.events.on('failed', ping);
    this.outageMs = o.outageMs ?? 120_000;
    this.pollMs = o.pollMs ?? 1000;
    this.log = o.log ?? ((m) => process.stderr.write(`[queue] ${m}\n`));
  }

  async ready(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
  }

  /**
   * Enqueues with `add` (idempotent: same id) and resolves with the job once completed; rejects with
   * its failure reason when it failed for good. `describeFailure` may add detail (e.g. a child's reason).
   */
  async run(id: string, add: () => Promise<unknown>, describeFailure?: (job: Job) => Promise<string>): Promise<Job> {
    let outageSince: number | null = null;
    let added = false;
    try {
      for (;;) {
        if (this.closed) throw new PaperlabError(`job ${id}`, 'the queue client was closed while waiting', 'keep the runner open until its jobs finish');
        const woken = new Promise<void>((resolve) => {
          this.wake.set(id, resolve);
          setTimeout(resolve, this.pollMs).unref();
        });
        try {
          if (!added) {
            await add();
            added = true;
          }
          const state = await this.queue.getJobState(id);
          outageSince = null;
          if (state === 'completed') {
            const job = await this.queue.getJob(id);
            if (job) return job;
          } else if (state === 'failed') {
            const job = (await this.queue.getJob(id))!;
            const why = describeFailure ? await describeFailure(job) : job.failedReason;
            throw new PaperlabError(`job ${id}`, `failed after ${job.attemptsMade} attempt(s): ${why}`, 'read the reason above; a malformed payload or a failing experiment fails the same way on every worker');
          } else if (state === 'unknown') {
            this.log(`job ${id} is not in Redis (restarted without persistence?): enqueueing it again`);
            added = false;
            continue;
          }
        } catch (e) {
          if (e instanceof PaperlabError) throw e;
          outageSince ??= Date.now();
          if (Date.now() - outageSince > this.outageMs) {
            throw new PaperlabError('--redis', `Redis at ${redactUrl(this.o.url)} unreachable for ${(this.outageMs / 1000).toFixed(0)} s (${(e as Error).message})`, 'restart Redis and rerun the same command: finished work is kept');
          }
        }
        await woken;
      }
    } finally {
      this.wake.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.wake.values()) w();
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }
}
