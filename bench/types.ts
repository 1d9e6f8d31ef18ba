import type { OptionSpec } from '../src/cli/args.js';
import { tf } from '../src/core/tf.js';
import type { Rng } from '../src/core/rng.js';

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

/**
 * A random next-token batch as the GPT benchmarks feed it: B windows of T + 1 uniform ids over V;
 * x is each window's first T, y its last T. The caller disposes both tensors.
 */
export function randomLmBatch(rng: Rng, B: number, T: number, V: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const ids = Int32Array.from({ length: B * (T + 1) }, () => rng.int(V));
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    x.set(ids.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    y.set(ids.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  return { x: tf.tensor2d(x, [B, T], 'int32'), y: tf.tensor2d(y, [B, T], 'int32') };
}
