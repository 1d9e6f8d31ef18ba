/** The experiment registry: one entry per reproduced claim, in the order of the reading notes. */
import type { Experiment } from './types.js';
import { gpt3Compute } from './gpt3-compute.js';

export const experiments: Experiment[] = [gpt3Compute];

export function findExperiment(name: string): Experiment | undefined {
  return experiments.find((e) => e.name === name);
}

export type { Experiment, ExperimentResult, ExperimentOutput, RunContext, TableRow } from './types.js';
