/**
 * Multi-seed sweeps: run one experiment for many seeds, each seed in its own process, and summarise
 * the seeds with intervals and paired comparisons (src/core/stats.ts).
 *
 * Layout of a sweep in <out>/<name>/:
 *   seeds/<seed>/result.json   one run's result.json, exactly as `paperlab run` writes it
 *   seeds/<seed>/log.txt       that run's stderr
 *   sweep.json                 { name, seeds, runs, summary, comparisons, verdict, … }
 *
 * Resuming: a seed whose result.json already exists and is valid is not run again, so a killed sweep
 * rerun with the same command completes only the missing seeds. Seeds run through a `SeedRunner`:
 * local child processes by default; the queue-backed runner (BullMQ on Redis) implements the same
 * interface, so the sweep's output is the same for either.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PaperlabError } from '../core/errors.js';
import { compareSentence, direction, formatInterval, meanInterval, pairedBootstrap, pairedT } from '../core/stats.js';
import { validateResult, writeJsonAtomic } from './result.js';
import { gitCommit, version } from './runner.js';
import type { Experiment, ExperimentResult, SweepComparisonRow, SweepStats, SweepSummaryRow } from './types.js';

/** One seed of one experiment, to be run somewhere and returned as its result.json. */
export interface SeedJob {
  name: string;
  seed: number;
  quick: boolean;
  /** Where that seed's result.json (and log.txt) belong. */
  dir: string;
  backend?: string;
}

/** Runs seed jobs. `run` resolves with the seed's result (it may also have written it to job.dir). */
export interface SeedRunner {
  /** What runs the seeds, for logs and sweep.json: e.g. 'local processes' or 'redis://…'. */
  readonly kind: string;
  /** How many seeds may run at once. */
  readonly workers: number;
  run(job: SeedJob): Promise<ExperimentResult>;
  close(): Promise<void>;
}

export interface SweepFile extends SweepStats {
  paper: string;
  claim: string;
  question: string;
  runs: ExperimentResult[];
  verdict: string;
  /** Seeds that failed, with the reason (the sweep is incomplete while this is non-empty). */
  failed: { seed: number; error: string }[];
  runner: string;
  workers: number;
  command: string;
  commit: string | null;
  version: string;
  startedAt: string;
  durationSec: number;
}

/** Parses "0-9", "0,3,7", "0-4,10-12" into distinct seeds in the given order. */
export function parseSeeds(spec: string): number[] {
  const seeds: number[] = [];
  const bad = (why: string): never => {
    throw new PaperlabError('--seeds', `'${spec}' ${why}`, "write a range and/or list of whole numbers, e.g. --seeds 0-9 or --seeds 0,2,5");
  };
  if (spec.trim() === '') bad('is empty');
  for (const part of spec.split(',')) {
    const m = /^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$/.exec(part);
    if (!m) bad(`has an unreadable part '${part}'`);
    const lo = Number(m![1]);
    const hi = m![2] === undefined ? lo : Number(m![2]);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) bad('has a seed that is not a safe integer');
    if (hi < lo) bad(`has a descending range ${lo}-${hi}`);
    if (hi - lo >= 10_000) bad('asks for more than 10 000 seeds in one range');
    for (let s = lo; s <= hi; s++) if (!seeds.includes(s)) seeds.push(s);
  }
  return seeds;
}

/** The cli entry point next to this file's compiled copy (dist/src/cli/main.js). */
function cliPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
}

/** Reads a seed's existing result.json; null when it is missing. Throws when it exists but is unusable. */
export function readSeedResult(job: SeedJob): ExperimentResult | null {
  const file = path.join(job.dir, 'result.json');
  if (!existsSync(file)) return null;
  let r: unknown;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PaperlabError(file, `is not valid JSON (${(e as Error).message})`, 'delete it and rerun the sweep to redo that seed');
  }
  const problems = validateResult(r);
  if (problems.length) throw new PaperlabError(file, `is not a valid result.json: ${problems.join('; ')}`, 'delete it and rerun the sweep to redo that seed');
  const res = r as ExperimentResult;
  if (res.name !== job.name || res.seed !== job.seed || res.quick !== job.quick) {
    throw new PaperlabError(
      file,
      `holds ${res.name} seed ${res.seed}${res.quick ? ' (quick)' : ''}, not ${job.name} seed ${job.seed}${job.quick ? ' (quick)' : ''}`,
      `use another --out for a ${job.quick ? 'quick' : 'full'} sweep, or delete ${path.dirname(job.dir)}`,
    );
  }
  return res;
}

/**
 * Runs each seed as `paperlab run <name> --seed S --result-dir DIR` in a child process. The native
 * kernels get cores/workers threads each so parallel seeds do not oversubscribe the machine (the
 * thread count changes timings only, never the numbers).
 */
export class LocalProcessRunner implements SeedRunner {
  readonly kind = 'local processes';
  readonly workers: number;
  private readonly threads: number;
  private readonly children = new Set<import('node:child_process').ChildProcess>();

  constructor(o: { workers?: number } = {}) {
    const cores = os.availableParallelism();
    this.workers = o.workers ?? cores;
    if (!Number.isInteger(this.workers) || this.workers < 1) throw new PaperlabError('workers', `must be a whole number ≥ 1, got ${this.workers}`, 'pass e.g. --workers 2');
    this.threads = Math.max(1, Math.floor(cores / this.workers));
  }

  run(job: SeedJob): Promise<ExperimentResult> {
    return new Promise((resolve, reject) => {
      const args = [cliPath(), 'run', job.name, '--seed', String(job.seed), '--result-dir', job.dir];
      if (job.quick) args.push('--quick');
      if (job.backend) args.push('--backend', job.backend);
      const env = { ...process.env, PAPERLAB_QUIET: '1', PAPERLAB_THREADS: process.env.PAPERLAB_THREADS ?? String(this.threads) };
      const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      this.children.add(child);
      const err: Buffer[] = [];
      child.stderr!.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => reject(new PaperlabError(`seed ${job.seed}`, `could not start a child process (${e.message})`, 'check that node can run dist/src/cli/main.js (npm run build)')));
      child.on('close', (code, signal) => {
        this.children.delete(child);
        const log = Buffer.concat(err).toString('utf8');
        void fs
          .mkdir(job.dir, { recursive: true })
          .then(() => fs.writeFile(path.join(job.dir, 'log.txt'), log))
          .catch(() => undefined)
          .then(() => {
            if (code !== 0) {
              const last = log.trim().split('\n').slice(-3).join(' | ') || '(no output)';
              reject(new PaperlabError(`seed ${job.seed}`, `paperlab run exited with ${signal ?? `code ${code}`}: ${last}`, `see ${path.join(job.dir, 'log.txt')}`));
              return;
            }
            try {
              const r = readSeedResult(job);
              if (!r) throw new PaperlabError(`seed ${job.seed}`, 'the run finished but wrote no result.json', `see ${path.join(job.dir, 'log.txt')}`);
              resolve(r);
            } catch (e) {
              reject(e);
            }
          });
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.children) c.kill('SIGTERM');
  }
}

const numeric = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Labels made unique within one table (a repeated label gets " #2", " #3"…), in table order. */
function rowKeys(r: ExperimentResult): string[] {
  const seen = new Map<string, number>();
  return r.table.map((row) => {
    const k = (seen.get(row.label) ?? 0) + 1;
    seen.set(row.label, k);
    return k === 1 ? row.label : `${row.label} #${k}`;
  });
}

/** Mean and interval of every numeric table row over the runs, in the first run's row order. */
export function summarise(runs: readonly ExperimentResult[]): SweepSummaryRow[] {
  const order: string[] = [];
  const values = new Map<string, { xs: number[]; unit: string; paper: number | string | null }>();
  for (const r of runs) {
    const keys = rowKeys(r);
    r.table.forEach((row, i) => {
      const k = keys[i]!;
      if (!values.has(k)) {
        values.set(k, { xs: [], unit: row.unit, paper: row.paper });
        order.push(k);
      }
      if (numeric(row.ours)) values.get(k)!.xs.push(row.ours);
    });
  }
  const out: SweepSummaryRow[] = [];
  for (const k of order) {
    const v = values.get(k)!;
    if (v.xs.length === 0) continue;
    const iv = meanInterval(v.xs);
    out.push({ label: k, mean: iv.mean, ci95: iv.ci, n: iv.n, unit: v.unit, sd: iv.sd, paper: v.paper });
  }
  return out;
}

/** Value of row `label` in one run (null when absent or not a number). */
function rowValue(r: ExperimentResult, label: string): number | null {
  const keys = rowKeys(r);
  const i = keys.indexOf(label);
  const v = i >= 0 ? r.table[i]!.ours : null;
  return numeric(v) ? v : null;
}

/** Paired comparisons over the seeds where both arms have a number. */
export function compareArms(exp: Pick<Experiment, 'sweep'>, runs: readonly ExperimentResult[]): SweepComparisonRow[] {
  const out: SweepComparisonRow[] = [];
  for (const c of exp.sweep?.comparisons ?? []) {
    const a: number[] = [];
    const b: number[] = [];
    let unit = '';
    for (const r of runs) {
      const x = rowValue(r, c.a);
      const y = rowValue(r, c.b);
      if (x === null || y === null) continue;
      a.push(x);
      b.push(y);
      unit = r.table[rowKeys(r).indexOf(c.a)]!.unit;
    }
    if (a.length === 0) continue;
    const cmp = (c.test ?? 'paired-t') === 'bootstrap' ? pairedBootstrap(a, b) : pairedT(a, b);
    out.push({
      a: c.a,
      b: c.b,
      unit,
      n: cmp.n,
      meanDiff: cmp.meanDiff,
      ci95: cmp.ci,
      p: cmp.p,
      test: cmp.test,
      direction: direction(cmp.ci),
      sentence: compareSentence(c.aName ?? c.a, c.bName ?? c.b, cmp, unit),
    });
  }
  return out;
}

/** The sweep's verdict: the experiment's own, else one phrase per comparison, else the first rows' intervals. */
export function sweepVerdict(exp: Pick<Experiment, 'sweep'>, stats: SweepStats): string {
  if (exp.sweep?.verdict) return exp.sweep.verdict(stats);
  const n = stats.seeds.length;
  if (stats.comparisons.length) return `Over ${n} seed${n === 1 ? '' : 's'}: ${stats.comparisons.map((c) => c.sentence).join('; ')}.`;
  const rows = stats.summary.slice(0, 3).map((r) => `${r.label} ${Number(r.mean.toPrecision(4))} ${formatInterval(r.ci95)}${r.unit ? ` ${r.unit}` : ''}`);
  return `Over ${n} seed${n === 1 ? '' : 's'} (mean, 95 % interval): ${rows.join('; ')}.`;
}

export interface SweepOptions {
  seeds: readonly number[];
  quick?: boolean;
  out?: string;
  /** Defaults to local child processes with one worker per core. */
  runner?: SeedRunner;
  backend?: string;
  command?: string;
  log?: (msg: string) => void;
}

function fmtSecs(s: number): string {
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * Runs (or resumes) a sweep and writes <out>/<name>/sweep.json. Seeds already on disk are reused;
 * the others run through the runner, `runner.workers` at a time. A failed seed does not stop the
 * others; it is listed in `failed` and the sweep throws after writing sweep.json.
 */
export async function runSweep(exp: Experiment, o: SweepOptions): Promise<{ file: string; sweep: SweepFile }> {
  if (o.seeds.length === 0) throw new PaperlabError('seeds', 'is empty', 'pass at least one seed, e.g. --seeds 0-4');
  for (const s of o.seeds) if (!Number.isSafeInteger(s)) throw new PaperlabError('seeds', `contains ${s}`, 'pass whole numbers');
  const quick = o.quick ?? false;
  const root = path.join(path.resolve(o.out ?? 'results'), exp.name);
  const log = o.log ?? ((m: string) => process.stderr.write(`[sweep ${exp.name}] ${m}\n`));
  const runner = o.runner ?? new LocalProcessRunner();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const jobs: SeedJob[] = o.seeds.map((seed) => ({ name: exp.name, seed, quick, dir: path.join(root, 'seeds', String(seed)), backend: o.backend }));
  const results = new Map<number, ExperimentResult>();
  for (const j of jobs) {
    const r = readSeedResult(j);
    if (r) results.set(j.seed, r);
  }
  const pending = jobs.filter((j) => !results.has(j.seed));
  const failed: { seed: number; error: string }[] = [];
  log(`${o.seeds.length} seeds${quick ? ' (quick)' : ''}: ${results.size} already done, ${pending.length} to run on ${runner.kind} (${runner.workers} at a time)`);
  let finished = 0;
  const queue = [...pending];
  const work = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const t = performance.now();
      try {
        const r = await runner.run(job);
        await writeSeedResult(job, r);
        results.set(job.seed, r);
        finished++;
        const elapsed = (performance.now() - t0) / 1000;
        const left = pending.length - finished - failed.length;
        const eta = left > 0 ? ` — ETA ${fmtSecs((elapsed / finished) * left)}` : '';
        log(`seed ${job.seed} done in ${fmtSecs((performance.now() - t) / 1000)}: ${results.size}/${o.seeds.length}${eta}`);
      } catch (e) {
        const msg = (e as Error).message;
        failed.push({ seed: job.seed, error: msg });
        log(`seed ${job.seed} FAILED: ${msg}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(runner.workers, Math.max(1, pending.length)) }, work));
  } finally {
    await runner.close();
  }
  const runs = o.seeds.filter((s) => results.has(s)).map((s) => results.get(s)!);
  const seeds = runs.map((r) => r.seed);
  const stats: SweepStats = { name: exp.name, seeds, quick, summary: summarise(runs), comparisons: compareArms(exp, runs) };
  const sweep: SweepFile = {
    ...stats,
    paper: exp.paper,
    claim: exp.claim,
    question: exp.question,
    runs,
    verdict: runs.length ? sweepVerdict(exp, stats) : 'No seed finished.',
    failed: failed.sort((a, b) => a.seed - b.seed),
    runner: runner.kind,
    workers: runner.workers,
    command: o.command ?? `paperlab sweep ${exp.name} --seeds ${o.seeds.join(',')}${quick ? ' --quick' : ''}`,
    commit: gitCommit(),
    version: version(),
    startedAt,
    durationSec: Number(((performance.now() - t0) / 1000).toFixed(2)),
  };
  const file = path.join(root, 'sweep.json');
  await writeJsonAtomic(file, sweep);
  if (failed.length) {
    throw new PaperlabError(
      `sweep ${exp.name}`,
      `${failed.length} of ${o.seeds.length} seeds failed (${failed.map((f) => f.seed).join(', ')}); sweep.json holds the other ${runs.length}`,
      'read the seeds\' log.txt under ' + path.join(root, 'seeds') + ', fix the cause, and rerun the same command: finished seeds are kept',
    );
  }
  return { file, sweep };
}

/** Stores a seed's result where a resumed sweep finds it (a runner that ran it elsewhere did not). */
async function writeSeedResult(job: SeedJob, r: ExperimentResult): Promise<void> {
  const problems = validateResult(r);
  if (problems.length) throw new PaperlabError(`seed ${job.seed}`, `returned an invalid result: ${problems.join('; ')}`, 'fix the experiment or the runner');
  if (r.name !== job.name || r.seed !== job.seed || r.quick !== job.quick) {
    throw new PaperlabError(`seed ${job.seed}`, `the runner returned ${r.name} seed ${r.seed}`, 'the runner must return the result of the job it was given');
  }
  if (!existsSync(path.join(job.dir, 'result.json'))) await writeJsonAtomic(path.join(job.dir, 'result.json'), r);
}

/** Problems with a parsed sweep.json (empty when it is usable by the report). */
export function validateSweep(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return ['sweep is not a JSON object'];
  const o = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof o.name !== 'string' || o.name === '') problems.push('name must be a non-empty string');
  if (typeof o.verdict !== 'string') problems.push('verdict must be a string');
  if (!Array.isArray(o.seeds) || !o.seeds.every((s) => Number.isInteger(s))) problems.push('seeds must be an array of integers');
  if (!Array.isArray(o.runs)) problems.push('runs must be an array');
  else o.runs.forEach((r, i) => validateResult(r).length && problems.push(`runs[${i}] is not a valid result.json`));
  const interval = (v: unknown): boolean => v === null || (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)));
  if (!Array.isArray(o.summary)) problems.push('summary must be an array');
  else
    o.summary.forEach((r: unknown, i) => {
      const s = r as Record<string, unknown>;
      if (typeof s !== 'object' || s === null || typeof s.label !== 'string' || typeof s.unit !== 'string' || typeof s.mean !== 'number' || !Number.isFinite(s.mean) || !Number.isInteger(s.n) || !interval(s.ci95)) {
        problems.push(`summary[${i}] needs label, unit, a finite mean, an integer n and ci95 [lo, hi] or null`);
      }
    });
  if (o.comparisons !== undefined) {
    if (!Array.isArray(o.comparisons)) problems.push('comparisons must be an array');
    else
      o.comparisons.forEach((r: unknown, i) => {
        const c = r as Record<string, unknown>;
        if (typeof c !== 'object' || c === null || typeof c.a !== 'string' || typeof c.b !== 'string' || typeof c.sentence !== 'string' || typeof c.meanDiff !== 'number' || !interval(c.ci95)) {
          problems.push(`comparisons[${i}] needs a, b, sentence, meanDiff and ci95 [lo, hi] or null`);
        }
      });
  }
  return problems;
}
