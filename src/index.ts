/**
 * paperlab's public API. Import what you need:
 *
 * ```ts
 * import { initEngine, loadMnist, Rng } from 'paperlab';
 * ```
 */
// The root re-exports every subpath: paperlab/core, paperlab/attention, paperlab/gpt,
// paperlab/contrastive, paperlab/byol, paperlab/radioactive, paperlab/hebbian (package.json "exports").
export * from './core/index.js';
export * from './attention/index.js';
export * from './reformer/index.js';
export * from './gpt/index.js';
export * from './contrastive/index.js';
export * from './byol/index.js';
export * from './radioactive/index.js';
export * from './hebbian/index.js';
export { experiments, findExperiment } from './experiments/index.js';
export type { Experiment, ExperimentResult, ExperimentOutput, RunContext, TableRow } from './experiments/types.js';
export { runExperiment } from './experiments/runner.js';
export { runSweep, parseSeeds, summarise, compareArms, sweepVerdict, validateSweep, readSeedResult, LocalProcessRunner, type SeedJob, type SeedRunner, type SweepFile, type SweepOptions } from './experiments/sweep.js';
export type { SweepSpec, SweepComparisonSpec, SweepStats, SweepSummaryRow, SweepComparisonRow } from './experiments/types.js';
export { validateResult } from './experiments/result.js';
export { buildReport, type BuildReportOptions, type BuildReportResult } from './report/index.js';
