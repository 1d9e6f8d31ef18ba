/**
 * Synthetic tasks generated from a seed.
 *
 * Duplication ("0w0w", Reformer §5): a sequence 0 w 0 w where w is a random string of symbols
 * 1..vocab-1. A causal language model can only predict the second copy by attending back to the
 * first, which is what makes the task a test of long-range attention. Accuracy is measured on the
 * second w (positions length/2+1 … length-1).
 */
import { checkInt, check } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export interface DuplicationBatch {
  /** [batch·length] token ids. */
  tokens: Int32Array;
  batch: number;
  length: number;
  /** [length] 1 where a prediction of token t (from tokens < t) is scored: the second copy of w. */
  scoreMask: Float32Array;
}

export interface DuplicationOptions {
  batch: number;
  /** Total sequence length, even: 0 w 0 w with |w| = length/2 − 1. */
  length: number;
  /** Symbols 1..vocab−1 are used for w; 0 is the separator. */
  vocab: number;
}

export function duplicationBatch(opts: DuplicationOptions, rng: Rng): DuplicationBatch {
  checkInt(opts.batch, 'batch', { min: 1 });
  checkInt(opts.length, 'length', { min: 4 });
  check(opts.length % 2 === 0, 'length', `must be even for 0w0w, got ${opts.length}`, `use ${opts.length + 1}`);
  checkInt(opts.vocab, 'vocab', { min: 2 });
  const { batch, length, vocab } = opts;
  const half = length / 2;
  const tokens = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    const row = b * length;
    tokens[row] = 0;
    tokens[row + half] = 0;
    for (let i = 1; i < half; i++) {
      const s = 1 + rng.int(vocab - 1);
      tokens[row + i] = s;
      tokens[row + half + i] = s;
    }
  }
  const scoreMask = new Float32Array(length);
  for (let t = half + 1; t < length; t++) scoreMask[t] = 1;
  return { tokens, batch, length, scoreMask };
}
