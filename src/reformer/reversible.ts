/**
 * Reversible residual blocks (RevNet, Gomez et al. 2017; Reformer §3):
 *
 *   Y1 = X1 + F(X2)        X2 = Y2 − G(Y1)
 *   Y2 = X2 + G(Y1)        X1 = Y1 − F(X2)
 *
 * Because the inputs can be recomputed from the outputs, the backward pass needs no stored
 * activations: `reversibleSequence` runs a whole stack of blocks as ONE custom-gradient op that
 * keeps only the final output, and its gradient walks the stack backwards, reconstructing each
 * block's inputs and recomputing F and G locally to get their gradients. Memory therefore does not
 * grow with depth (beyond the parameters and their gradients).
 *
 * tf.customGrad only differentiates with respect to its explicit inputs, so every block's
 * parameters are passed in as inputs and their gradients returned.
 *
 * F and G must compute the same function when re-run (anything random — LSH rotations, dropout —
 * must be fixed per pass; the Reformer model caches its LSH buckets for this).
 */
import { tf, type Tensor } from '../core/tf.js';
import { check, describeShape } from '../core/errors.js';

/** A residual branch: the stream x [..., d] and the branch's parameters → [..., d]. */
export type ResidualFn = (x: Tensor, params: Tensor[]) => Tensor;

export class ReversibleBlock {
  constructor(
    /** The first branch (the Reformer's attention). */
    readonly f: ResidualFn,
    /** The second branch (the Reformer's feed-forward). */
    readonly g: ResidualFn,
    readonly fParams: Tensor[] = [],
    readonly gParams: Tensor[] = [],
    /**
     * G is position-wise (a feed-forward): recompute and differentiate it in this many slices of
     * axis 1 in the backward pass, so only one slice's activations live at a time. Default 1.
     */
    readonly gChunks = 1,
  ) {}

  /** y1 = x1 + F(x2), y2 = x2 + G(y1), by plain autodiff (stores activations). */
  forward(x1: Tensor, x2: Tensor): [Tensor, Tensor] {
    const y1 = tf.add(x1, this.f(x2, this.fParams));
    const y2 = tf.add(x2, this.g(y1, this.gParams));
    return [y1, y2];
  }

  /** The inputs from the outputs: x2 = y2 − G(y1), x1 = y1 − F(x2). */
  inverse(y1: Tensor, y2: Tensor): [Tensor, Tensor] {
    return tf.tidy(() => {
      const x2 = tf.sub(y2, this.g(y1, this.gParams));
      const x1 = tf.sub(y1, this.f(x2, this.fParams));
      return [x1, x2] as [Tensor, Tensor];
    });
  }

  /** The block with the memory-saving gradient (a sequence of one). */
  apply(x1: Tensor, x2: Tensor): [Tensor, Tensor] {
    return reversibleSequence([this], x1, x2);
  }
}

/**
 * Runs `blocks` in order on the two streams with a gradient that recomputes activations from the
 * outputs. Returns [y1, y2]; gradients flow to x1, x2 and every block's parameters.
 */
export function reversibleSequence(blocks: ReversibleBlock[], x1: Tensor, x2: Tensor): [Tensor, Tensor] {
  check(blocks.length > 0, 'blocks', 'is empty', 'pass at least one ReversibleBlock');
  check(x1.shape.length === x2.shape.length && x1.shape.every((s, i) => s === x2.shape[i]), 'x2', `shape ${describeShape(x2.shape)} differs from x1 ${describeShape(x1.shape)}`, 'pass two streams of the same shape');
  const params: Tensor[] = blocks.flatMap((b) => [...b.fParams, ...b.gParams]);
  const op = tf.customGrad(((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    let a = args[0] as Tensor;
    let b = args[1] as Tensor;
    for (const block of blocks) {
      // one block at a time, freeing its activations before the next
      const [na, nb] = tf.tidy(() => block.forward(a, b));
      if (a !== args[0]) a.dispose();
      if (b !== args[1]) b.dispose();
      a = na;
      b = nb;
    }
    // stacked on a new leading axis: splitting it again is a contiguous copy (the last axis is slow)
    const value = tf.stack([a, b]);
    a.dispose();
    b.dispose();
    save([value]);
    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => withOwnTape(() => {
      let [y1, y2] = tf.unstack(saved[0]!) as [Tensor, Tensor];
      let [dy1, dy2] = tf.unstack(dy) as [Tensor, Tensor];
      const paramGrads: Tensor[][] = [];
      for (let i = blocks.length - 1; i >= 0; i--) {
        const block = blocks[i]!;
        const nf = block.fParams.length;
        const res = tf.tidy(() => {
          // G at y1 (recomputed), its gradients, and x2 = y2 − G(y1)
          const gOut = vjpChunked(block.g, y1, block.gParams, dy2, block.gChunks);
          const x2 = tf.sub(y2, gOut.value);
          const dy1Total = tf.add(dy1, gOut.grads[0]!);
          // F at x2 (recomputed), its gradients, and x1 = y1 − F(x2)
          const fRun = tf.valueAndGrads((...xs: Tensor[]) => block.f(xs[0]!, xs.slice(1)));
          const fOut = fRun([x2, ...block.fParams], dy1Total);
          const x1 = tf.sub(y1, fOut.value);
          const dx2 = tf.add(dy2, fOut.grads[0]!);
          return { x1, x2, dx1: dy1Total, dx2, fGrads: fOut.grads.slice(1, 1 + nf), gGrads: gOut.grads.slice(1) };
        });
        tf.dispose([y1, y2, dy1, dy2]);
        y1 = res.x1;
        y2 = res.x2;
        dy1 = res.dx1;
        dy2 = res.dx2;
        paramGrads[i] = [...res.fGrads, ...res.gGrads];
      }
      tf.dispose([y1, y2]);
      return [dy1, dy2, ...paramGrads.flat()];
    });
    return { value, gradFunc };
  }) as Parameters<typeof tf.customGrad>[0]);
  const y = op(x1, x2, ...params);
  const [y1, y2] = tf.unstack(y) as [Tensor, Tensor];
  y.dispose();
  return [y1, y2];
}

/** value and gradients of g(x, params) with output gradient dy, computed in slices of axis 1. */
function vjpChunked(g: ResidualFn, x: Tensor, params: Tensor[], dy: Tensor, chunks: number): { value: Tensor; grads: Tensor[] } {
  const run = tf.valueAndGrads((...xs: Tensor[]) => g(xs[0]!, xs.slice(1)));
  const n = x.rank >= 2 ? x.shape[1]! : 1;
  const c = Math.min(chunks, n);
  if (c <= 1) return run([x, ...params], dy);
  const size = Math.ceil(n / c);
  const sizes: number[] = [];
  for (let s = 0; s < n; s += size) sizes.push(Math.min(size, n - s));
  const xs = tf.split(x, sizes, 1);
  const dys = tf.split(dy, sizes, 1);
  const values: Tensor[] = [];
  const dxs: Tensor[] = [];
  let paramGrads: Tensor[] | undefined;
  xs.forEach((xc, i) => {
    const out = run([xc, ...params], dys[i]!);
    values.push(out.value);
    dxs.push(out.grads[0]!);
    const pg = out.grads.slice(1);
    if (!paramGrads) paramGrads = pg;
    else {
      const sum = paramGrads.map((a, j) => tf.add(a, pg[j]!));
      tf.dispose([...paramGrads, ...pg]);
      paramGrads = sum;
    }
  });
  const value = tf.concat(values, 1);
  const dx = tf.concat(dxs, 1);
  tf.dispose([...xs, ...dys, ...values, ...dxs]);
  return { value, grads: [dx, ...(paramGrads ?? [])] };
}

/**
 * Runs `fn` (which computes gradients of its own) inside a gradient function. tfjs 4.22 runs a
 * backward pass at gradient depth 0, so a nested gradient computation starts a fresh tape and, when
 * done, disposes it and sets the engine's active tape to null — which the outer backward pass
 * still walks afterwards. Keeping the outer tape aside and restoring it makes the nested
 * computation self-contained: its saved activations are freed as soon as it finishes.
 */
function withOwnTape<T>(fn: () => T): T {
  const state = tf.engine().state;
  const outer = state.activeTape;
  try {
    return fn();
  } finally {
    state.activeTape = outer;
  }
}
