/** The benchmark registry behind `paperlab bench`. */
import type { Benchmark } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const benchmarks: Benchmark<any>[] = [];
