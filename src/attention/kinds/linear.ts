/**
 * 'linear': kernel attention with φ = elu + 1 (Katharopoulos et al. 2020), O(n·D·M). No
 * parameters. Decoding is recurrent: the state (S = Σ φ(k)vᵀ, z = Σ φ(k)) makes each new token
 * O(1) in the context length.
 */
import { tf, type Tensor4D } from '../../core/tf.js';
import { checkInt, checkNumber } from '../../core/errors.js';
import { eluFeatureMap, linearAttention } from '../linear.js';
import { kernelExtend } from '../performer.js';
import type { AttentionKindSpec, DecodeState, Decoder } from './types.js';

export interface LinearKindOptions {
  /** Chunk length of the causal form. Default 64. */
  chunkSize: number;
  /** Added to the normaliser. Default 1e-6. */
  eps: number;
}

/** A recurrent decoder over a kernel extension (shared by 'linear' and 'performer'). */
export function recurrentDecoder(features: (q: Tensor4D, k: Tensor4D, params: tf.Tensor[]) => { phiQ: tf.Tensor; keys: { logK: tf.Tensor } | { phiK: tf.Tensor } }, eps: number): Decoder {
  return {
    extend(q, k, v, state, params) {
      const [b, h, T] = q.shape;
      const dv = v.shape[3];
      const prior = state ? { s: state.tensors[0]!, z: state.tensors[1]!, r: state.tensors[2]! } : null;
      const r = tf.tidy(() => {
        const f = features(q, k, params);
        const res = kernelExtend(f.phiQ, f.keys, tf.reshape(v, [b * h, T, dv]), prior, eps);
        return { y: tf.reshape(res.output, [b, h, T, dv]) as Tensor4D, s: res.state.s, z: res.state.z, r: res.state.r };
      });
      if (state) tf.dispose(state.tensors);
      const next: DecodeState = { length: (state?.length ?? 0) + T, tensors: [r.s, r.z, r.r] };
      return { output: r.y, state: next };
    },
  };
}

export const linearKind: AttentionKindSpec<LinearKindOptions> = {
  name: 'linear',
  summary: 'linear attention, φ = elu + 1, O(n); recurrent O(1)-per-token decoding',
  capabilities: { causal: true, sharedQK: 'no', decoding: 'recurrent' },
  defaults: { chunkSize: 64, eps: 1e-6 },
  resolve(o) {
    const r = { chunkSize: o.chunkSize ?? linearKind.defaults.chunkSize, eps: o.eps ?? linearKind.defaults.eps };
    checkInt(r.chunkSize, 'chunkSize', { min: 1 });
    checkNumber(r.eps, 'eps', { min: 0 });
    return r;
  },
  params: () => [],
  forward(q, k, v, o, ctx, args) {
    return linearAttention(q, k, v, { causal: ctx.causal, mask: args.mask, chunkSize: o.chunkSize, eps: o.eps, checkFinite: args.checkFinite ?? true });
  },
  decoder(o) {
    return recurrentDecoder((q, k) => {
      const [b, h, T, d] = q.shape;
      return { phiQ: eluFeatureMap(tf.reshape(q, [b * h, T, d])), keys: { phiK: eluFeatureMap(tf.reshape(k, [b * h, T, d])) } };
    }, o.eps);
  },
};
