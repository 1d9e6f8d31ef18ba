/**
 * 'linformer': Linformer (Wang et al. 2020), keys and values projected along the sequence to k
 * rows, O(n·k). Non-causal only. Parameters, in order: E (keys), then F (values) unless shared —
 * [heads, k, maxLen] for sharing 'none', else [k, maxLen]; 'kv' and 'layerwise' have E only (for
 * 'layerwise' the model passes one E to every layer). Initialised N(0, 1/k) as in the paper.
 */
import { tf } from '../../core/tf.js';
import { check, checkInt, checkOneOf } from '../../core/errors.js';
import { LINFORMER_SHARING, type LinformerSharing, linformerAttention, refuseCausalLinformer } from '../linformer.js';
import type { AttentionKindSpec, ParamSpec } from './types.js';

export interface LinformerKindOptions {
  /** Projected length. Default min(64, maxLen). */
  k: number;
  /** Longest sequence (the projections' width). Default: the context's maxLen (required). */
  maxLen: number;
  /** Default 'headwise'. */
  sharing: LinformerSharing;
}

export const linformerKind: AttentionKindSpec<LinformerKindOptions> = {
  name: 'linformer',
  summary: 'Linformer: keys/values projected along the sequence to k rows, O(n·k); non-causal',
  capabilities: { causal: false, sharedQK: 'no', decoding: 'none' },
  defaults: { k: 64, maxLen: 0, sharing: 'headwise' },
  resolve(o, ctx) {
    if (ctx.causal) refuseCausalLinformer();
    const maxLen = o.maxLen ?? ctx.maxLen;
    check(maxLen !== undefined && maxLen > 0, 'maxLen', 'is required for Linformer attention (the projections span the sequence)', 'pass maxLen');
    checkInt(maxLen, 'maxLen', { min: 1 });
    const k = o.k ?? Math.min(linformerKind.defaults.k, maxLen);
    checkInt(k, 'k', { min: 1 });
    check(k <= maxLen, 'k', `projected length k = ${k} exceeds maxLen n = ${maxLen} (k > n: nothing to compress)`, `use k < ${maxLen}, or full attention`);
    const sharing = o.sharing ?? linformerKind.defaults.sharing;
    checkOneOf(sharing, LINFORMER_SHARING, 'sharing');
    return { k, maxLen, sharing };
  },
  params(o, ctx) {
    const shape = o.sharing === 'none' ? [ctx.heads, o.k, o.maxLen] : [o.k, o.maxLen];
    const n = shape.reduce((a, b) => a * b, 1);
    const spec = (name: string): ParamSpec => ({ name, shape, trainable: true, init: (rng) => tf.tensor(rng.normalArray(n, 0, 1 / Math.sqrt(o.k)), shape) });
    return o.sharing === 'none' || o.sharing === 'headwise' ? [spec('E'), spec('F')] : [spec('E')];
  },
  forward(q, k, v, o, ctx, args) {
    if (ctx.causal) refuseCausalLinformer();
    const [E, F] = args.params;
    check(E !== undefined, 'params', "has no E projection (Linformer's first parameter)", 'pass the parameters in params() order');
    return linformerAttention(q, k, v, { E, F, sharing: o.sharing, mask: args.mask, checkFinite: args.checkFinite ?? true });
  },
};
