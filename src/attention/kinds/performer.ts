/**
 * 'performer': FAVOR+ (Choromanski et al. 2020), positive orthogonal random features, O(n·m).
 * Parameters: `features` [nbFeatures, dHead], not trainable (a buffer), redrawn by layers every
 * `redrawInterval` training calls. Key-stabilised in both forms (see src/attention/performer.ts).
 * Decoding is recurrent, O(1) per token.
 */
import { tf, type Tensor2D } from '../../core/tf.js';
import { check, checkInt, checkNumber } from '../../core/errors.js';
import { defaultNbFeatures, drawOrthogonalFeatures, performerAttention, performerLogFeatures } from '../performer.js';
import { recurrentDecoder } from './linear.js';
import type { AttentionKindSpec } from './types.js';

export interface PerformerKindOptions {
  /** Random features m. Default round(dHead·ln dHead). */
  nbFeatures: number;
  /** Redraw the features every this many training calls (0 = never; layers only). Default 1000. */
  redrawInterval: number;
  /** Chunk length of the causal form. Default 64. */
  chunkSize: number;
  /** Added to the normaliser. Default 1e-6. */
  eps: number;
}

export const performerKind: AttentionKindSpec<PerformerKindOptions> = {
  name: 'performer',
  summary: 'Performer FAVOR+ random features, O(n·m); recurrent O(1)-per-token decoding',
  capabilities: { causal: true, sharedQK: 'no', decoding: 'recurrent' },
  defaults: { nbFeatures: 0, redrawInterval: 1000, chunkSize: 64, eps: 1e-6 },
  resolve(o, ctx) {
    const d = performerKind.defaults;
    const r = { nbFeatures: o.nbFeatures ?? defaultNbFeatures(ctx.dHead), redrawInterval: o.redrawInterval ?? d.redrawInterval, chunkSize: o.chunkSize ?? d.chunkSize, eps: o.eps ?? d.eps };
    checkInt(r.nbFeatures, 'nbFeatures', { min: 1 });
    checkInt(r.redrawInterval, 'redrawInterval', { min: 0 });
    checkInt(r.chunkSize, 'chunkSize', { min: 1 });
    checkNumber(r.eps, 'eps', { min: 0 });
    return r;
  },
  params: (o, ctx) => [{ name: 'features', shape: [o.nbFeatures, ctx.dHead], trainable: false, init: (rng) => drawOrthogonalFeatures(o.nbFeatures, ctx.dHead, rng) }],
  forward(q, k, v, o, ctx, args) {
    const features = args.params[0] as Tensor2D | undefined;
    check(features !== undefined, 'params', 'has no random features (Performer\'s first parameter)', 'pass the parameters in params() order');
    return performerAttention(q, k, v, { causal: ctx.causal, mask: args.mask, features, chunkSize: o.chunkSize, eps: o.eps, checkFinite: args.checkFinite ?? true });
  },
  decoder(o) {
    return recurrentDecoder((q, k, params) => {
      const [b, h, T, d] = q.shape;
      const f = params[0] as Tensor2D;
      return { phiQ: tf.exp(performerLogFeatures(tf.reshape(q, [b * h, T, d]), f, true)), keys: { logK: performerLogFeatures(tf.reshape(k, [b * h, T, d]), f, false) } };
    }, o.eps);
  },
};
