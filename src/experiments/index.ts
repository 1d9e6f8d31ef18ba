/** The experiment registry: one entry per reproduced claim, in the order of the reading notes. */
import type { Experiment } from './types.js';
import { gpt3Compute } from './gpt3-compute.js';
import { gptMemorization } from './gpt-memorization.js';
import { contrastiveFashion, contrastiveMnist } from './contrastive-mnist.js';
import { radioactiveMnist, radioactiveFashion } from './radioactive-mnist.js';
import { hebbianAdaptation } from './hebbian-adaptation.js';
import { reformerDuplication } from './reformer-duplication.js';
import { byolCollapse, byolFashion } from './byol-collapse.js';
import { attentionScaling } from './attention-scaling.js';
import { attentionAccuracy } from './attention-accuracy.js';

export const experiments: Experiment[] = [
  gpt3Compute,
  gptMemorization,
  contrastiveMnist,
  contrastiveFashion,
  radioactiveMnist,
  radioactiveFashion,
  hebbianAdaptation,
  reformerDuplication,
  byolCollapse,
  byolFashion,
  attentionScaling,
  attentionAccuracy,
];

export function findExperiment(name: string): Experiment | undefined {
  return experiments.find((e) => e.name === name);
}

export type { Experiment, ExperimentResult, ExperimentOutput, RunContext, TableRow } from './types.js';
