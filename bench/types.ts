import type { OptionSpec } from '../src/cli/args.js';

export interface Benchmark<R = unknown> {
  name: string;
  summary: string;
  options?: OptionSpec;
  run(values: Record<string, string | boolean | undefined>): Promise<R>;
  /** Human-readable rendering (default: the JSON). */
  format?(result: R): string;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
