/**
 * `paperlab worker`: one process that takes seed and ES-slice jobs from the queue (sandboxed, up to
 * `concurrency` at once) and gathers each ES generation's slices into one fitness array (light, in
 * process). Start one per machine against the same Redis; stop with SIGTERM/SIGINT (finishes its jobs).
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, type Job } from 'bullmq';
import { PaperlabError, checkInt } from '../core/errors.js';
import { DEFAULT_QUEUE, connectionFor, gatherQueue, probeRedis, redactUrl } from './connection.js';
import { b64ToF64, f64ToB64, type GenerationPayload, type SliceReturn } from './jobs.js';

export interface WorkerOptions {
  url: string;
  /** Heavy jobs at once, each in its own sandboxed process (default 1). */
  concurrency?: number;
  queue?: string;
  /** How long a job's lock lasts without renewal: a dead worker's job is retried after about this long (default 30 000 ms). */
  lockMs?: number;
  log?: (msg: string) => void;
}

export interface QueueWorker {
  close(): Promise<void>;
}

/** Fitness of a generation from its slices' return values; every candidate exactly once. */
export function gather(n: number, values: Record<string, SliceReturn>): Float64Array {
  const out = new Float64Array(n);
  const seen = new Uint8Array(n);
  for (const v of Object.values(values)) {
    const f = b64ToF64(v.fitness, 'slice fitness');
    for (let k = 0; k < f.length; k++) {
      const i = v.first + k;
      if (i >= n) throw new PaperlabError('generation', `slice at ${v.first} reaches past its ${n} candidates`, 'the generation payload is inconsistent; rerun');
      out[i] = f[k]!;
      seen[i] = 1;
    }
  }
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new PaperlabError('generation', `candidate ${missing} of ${n} has no fitness`, 'the generation lost a slice; rerun');
  return out;
}

export async function startWorker(o: WorkerOptions): Promise<QueueWorker> {
  const concurrency = o.concurrency ?? 1;
  checkInt(concurrency, '--concurrency', { min: 1, max: 1024 });
  const lockDuration = o.lockMs ?? 30_000;
  checkInt(lockDuration, '--lock-ms', { min: 200 });
  const queue = o.queue ?? DEFAULT_QUEUE;
  const log = o.log ?? ((m: string) => process.stderr.write(`[worker ${process.pid}] ${m}\n`));
  const { maxmemoryPolicy } = await probeRedis(o.url);
  if (maxmemoryPolicy && maxmemoryPolicy !== 'noeviction') log(`warning: Redis maxmemory-policy is '${maxmemoryPolicy}'; set 'noeviction' or jobs may be evicted`);
  // Native kernels get their share of the cores, so parallel seeds do not oversubscribe the machine.
  process.env.PAPERLAB_THREADS ??= String(Math.max(1, Math.floor(os.availableParallelism() / concurrency)));
  const connection = connectionFor(o.url);
  const common = { connection, lockDuration, stalledInterval: Math.max(100, Math.floor(lockDuration / 2)), maxStalledCount: 5 };
  const heavy = new Worker(queue, fileURLToPath(new URL('./processor.js', import.meta.url)), { ...common, concurrency });
  const light = new Worker(
    gatherQueue(queue),
    async (job: Job<GenerationPayload>) => {
      const n = job.data?.n;
      if (!Number.isSafeInteger(n) || n < 0) throw new PaperlabError('job data.n', `is ${JSON.stringify(n)}`, 'enqueue generations through QueueEvaluator');
      return f64ToB64(gather(n, await job.getChildrenValues<SliceReturn>()));
    },
    { ...common, concurrency: 16 },
  );
  for (const w of [heavy, light]) {
    w.on('failed', (job, err) => log(`job ${job?.id} (${job?.name}) failed: ${err.message}`));
    w.on('error', (err) => log(`redis: ${err.message}`));
  }
  await Promise.all([heavy.waitUntilReady(), light.waitUntilReady()]);
  log(`taking jobs from ${redactUrl(o.url)} queue '${queue}', ${concurrency} at a time`);
  return {
    async close() {
      await Promise.all([heavy.close(), light.close()]);
    },
  };
}
