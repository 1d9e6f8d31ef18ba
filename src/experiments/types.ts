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

/** A paired comparison of two table rows across the seeds of a sweep (both arms share each seed). */
export interface SweepComparisonSpec {
  /** Table row label of arm A (exactly as in `table`). */
  a: string;
  /** Table row label of arm B. */
  b: string;
  /** Short names for the verdict (default: the labels). */
  aName?: string;
  bName?: string;
  /** 'paired-t' (default) for roughly normal quantities such as accuracies; 'bootstrap' for returns and losses. */
  test?: 'paired-t' | 'bootstrap';
}

/** How `paperlab sweep` reads an experiment's seeds: which arms to compare, and its own verdict. */
export interface SweepSpec {
  comparisons?: SweepComparisonSpec[];
  /** A verdict built from the sweep's statistics; default: one phrase per comparison. */
  verdict?: (stats: SweepStats) => string;
}

export interface SweepSummaryRow {
  label: string;
  mean: number;
  /** Student-t 95 % interval of the mean over seeds; null when fewer than two seeds gave a number. */
  ci95: [number, number] | null;
  n: number;
  unit: string;
  sd: number;
  /** The published value the row stands beside. */
  paper: number | string | null;
}

export interface SweepComparisonRow {
  a: string;
  b: string;
  unit: string;
  n: number;
  /** Mean of A − B over the shared seeds. */
  meanDiff: number;
  ci95: [number, number] | null;
  p: number | null;
  test: 'paired-t' | 'bootstrap';
  /** 'greater' / 'less' only when the interval excludes 0. */
  direction: 'greater' | 'less' | 'within noise' | 'no interval';
  sentence: string;
}

export interface SweepStats {
  name: string;
  seeds: number[];
  quick: boolean;
  summary: SweepSummaryRow[];
  comparisons: SweepComparisonRow[];
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
  /** How a multi-seed sweep compares its arms (optional; without it the sweep summarises every row). */
  sweep?: SweepSpec;
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
