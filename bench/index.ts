/** The benchmark registry behind `paperlab bench`. */
import type { Benchmark } from './types.js';
import { kernelsBench } from './kernels.js';
import { gptStepBench } from './gpt-step.js';
import { attentionBench } from './attention.js';
import { esBench } from './es.js';
import { gptTrain } from './gpt-train.js';
import { generateBench } from './generate.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const benchmarks: Benchmark<any>[] = [kernelsBench, gptStepBench, attentionBench, gptTrain, esBench, generateBench];
