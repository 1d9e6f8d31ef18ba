/** Runs experiments and writes <out>/<name>/result.json. */
import { execFileSync } from 'node:child_process';
import { readFileSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Rng } from '../core/rng.js';
import { engineInfo, initEngine, type EngineInfo } from '../core/engine.js';
import { packageRoot } from '../core/native.js';
import { tf } from '../core/tf.js';
import { writeResult } from './result.js';
import type { Experiment, ExperimentResult } from './types.js';

export interface RunOptions {
  seed?: number;
  quick?: boolean;
  out?: string;
  /** Write result.json straight into this directory instead of <out>/<name> (used by `paperlab sweep`). */
  dir?: string;
  /** The command line recorded in result.json. */
  command?: string;
  log?: (msg: string) => void;
}

export function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

export function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function runExperiment(exp: Experiment, o: RunOptions = {}): Promise<{ file: string; result: ExperimentResult }> {
  const seed = o.seed ?? 0;
  const quick = o.quick ?? false;
  const out = path.resolve(o.out ?? 'results');
  const dir = o.dir ? path.resolve(o.dir) : path.join(out, exp.name);
  await fs.mkdir(dir, { recursive: true });
  // Re-seed for every experiment so each result depends only on its own seed, not on run order.
  const engine: EngineInfo = engineInfo() ?? (await initEngine({ seed }));
  await initEngine({ backend: engine.requested, seed });
  const log = o.log ?? ((m: string) => process.stderr.write(`[${exp.name}] ${m}\n`));
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const before = tf.memory().numTensors;
  const output = await exp.run({ seed, quick, outDir: dir, rng: new Rng(seed), engine: engineInfo()!, log });
  const durationSec = (performance.now() - t0) / 1000;
  const leaked = tf.memory().numTensors - before;
  if (leaked > 1000) log(`note: ${leaked} tensors were not disposed`);
  const result: ExperimentResult = {
    name: exp.name,
    paper: exp.paper,
    claim: exp.claim,
    question: exp.question,
    seed,
    quick,
    backend: engineInfo()!.backend,
    native: engineInfo()!.native.active,
    durationSec: Number(durationSec.toFixed(2)),
    ...output,
    command: o.command ?? `paperlab run ${exp.name}${quick ? ' --quick' : ''} --seed ${seed}`,
    commit: gitCommit(),
    version: version(),
    startedAt,
  };
  const file = await writeResult(dir, result);
  return { file, result };
}
