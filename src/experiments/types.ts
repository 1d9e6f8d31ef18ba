/**
 * What an experiment is and what it writes. result.json is the contract between experiments, the
 * report and anyone comparing runs: keep its field names.
 */
import type { Rng } from '../core/rng.js';
import type { EngineInfo } from '../core/engine.js';
import type { ChartSpec } from '../core/charts.js';
import type { JsonValue } from '../core/checkpoint.js';

export interface TableRow {
  label: string;
  /** Our measured value (null where it could not be measured, e.g. out of memory). */
  ours: number | string | null;
  /** The published value it stands beside (null where the paper has none). */
  paper: number | string | null;
  unit: string;
}

export interface ExperimentOutput {
  config: Record<string, JsonValue>;
  metrics: Record<string, JsonValue>;
  table: TableRow[];
  /** One sentence derived from this run's numbers. */
  verdict: string;
  charts?: ChartSpec[];
}

export interface RunContext {
  seed: number;
  quick: boolean;
  /** The experiment's own output directory (<out>/<name>), already created. */
  outDir: string;
  /** Seeded from --seed; fork it for independent streams. */
  rng: Rng;
  engine: EngineInfo;
  log: (msg: string) => void;
}

export interface Experiment {
  name: string;
  /** Paper title and year. */
  paper: string;
  /** The paper's claim this experiment re-checks. */
  claim: string;
  /** The reading notes' open question or doubt it answers. */
  question: string;
  /** Which section of the notes it belongs to (report order). */
  section: 'gpt3' | 'supcon' | 'radioactive' | 'hebbian' | 'reformer' | 'byol' | 'linformer';
  /** Rough duration of the quick and full runs on 2 cores, for `paperlab list`. */
  estimate: { quick: string; full: string };
  run(ctx: RunContext): Promise<ExperimentOutput>;
}

export interface ExperimentResult extends ExperimentOutput {
  name: string;
  paper: string;
  claim: string;
  question: string;
  seed: number;
  quick: boolean;
  backend: string;
  durationSec: number;
  /** The command line that reproduces the run. */
  command: string;
  commit: string | null;
  version: string;
  startedAt: string;
  native: boolean;
}
