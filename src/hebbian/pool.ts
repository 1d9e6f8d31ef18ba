/**
 * A worker-thread evaluator on piscina. The population is cut into contiguous slices (a few per
 * worker, so a slow slice does not leave a thread idle); each slice is evaluated by worker.js with the
 * same pure fitness function as InlineEvaluator, and results are put back in candidate order — so the
 * fitness values, and therefore the whole evolution, do not depend on the number of workers.
 *
 * Node-only (worker_threads); everything the browser needs lives in the other files.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { checkInt } from '../core/errors.js';
import { InlineEvaluator, checkBatch, type Evaluator } from './evaluator.js';
import { checkFitnessSpec, type FitnessSpec } from './rollout.js';
import type { BatchTask } from './worker.js';

export interface PoolOptions {
  /** Worker threads (≥ 1). */
  workers: number;
  /** Slices per worker and batch (default 4). */
  slicesPerWorker?: number;
}

export class WorkerPoolEvaluator implements Evaluator {
  readonly workers: number;
  private readonly slicesPerWorker: number;
  private readonly pool: Piscina<BatchTask, Float64Array>;

  constructor(opts: PoolOptions) {
    checkInt(opts.workers, 'workers', { min: 1, max: 256 });
    this.workers = opts.workers;
    this.slicesPerWorker = opts.slicesPerWorker ?? 4;
    checkInt(this.slicesPerWorker, 'slicesPerWorker', { min: 1 });
    this.pool = new Piscina<BatchTask, Float64Array>({
      filename: fileURLToPath(new URL('./worker.js', import.meta.url)),
      minThreads: this.workers,
      maxThreads: this.workers,
      idleTimeout: 60_000,
    });
  }

  async evaluate(spec: FitnessSpec, candidates: readonly Float32Array[], seeds: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array> {
    checkFitnessSpec(spec);
    checkBatch(candidates, seeds);
    const n = candidates.length;
    const out = new Float64Array(n);
    if (n === 0) return out;
    const p = candidates[0]!.length;
    const e = seeds[0]!.length;
    const slices = Math.min(n, this.workers * this.slicesPerWorker);
    const size = Math.ceil(n / slices);
    const jobs: Promise<void>[] = [];
    for (let start = 0; start < n; start += size) {
      const count = Math.min(size, n - start);
      const params = new Float32Array(count * p);
      const s = new Float64Array(count * e);
      for (let k = 0; k < count; k++) {
        params.set(candidates[start + k]!, k * p);
        s.set(seeds[start + k]!, k * e);
      }
      jobs.push(
        this.pool.run({ spec, params, seeds: s, count }, { transferList: [params.buffer, s.buffer] }).then((r) => {
          out.set(r, start);
        }),
      );
    }
    await Promise.all(jobs);
    return out;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** 0 workers: evaluate on the calling thread; otherwise a piscina pool of that many threads. */
export function createEvaluator(workers: number): Evaluator {
  checkInt(workers, 'workers', { min: 0, max: 256 });
  return workers === 0 ? new InlineEvaluator() : new WorkerPoolEvaluator({ workers });
}
