/**
 * 'full': softmax attention (Vaswani et al. 2017), O(n²). `sharedQK: true` is the Reformer's
 * shared-QK variant (keys = unit-length queries). Causal self-attention without a mask runs as the
 * fused native kernel (`causalAttention`, src/core/ops.ts) when the addon is active. Decoding keeps
 * a KV cache. No parameters.
 */
import { tf, type Tensor, type Tensor4D } from '../../core/tf.js';
import { check, checkNumber } from '../../core/errors.js';
import { causalAttention } from '../../core/ops.js';
import { MASKED, checkQkv } from '../common.js';
import { fullAttention } from '../full.js';
import type { AttentionKindSpec, DecodeState } from './types.js';

export interface FullKindOptions {
  /** Reformer shared-QK attention (k is ignored). Default false. */
  sharedQK: boolean;
  /** Logit scale. Default (undefined) 1/√dHead. */
  scale: number | undefined;
}

/** Offset-causal attention of T new queries against L + T cached keys: [BH, T, D] × [BH, S, D]. */
function attendCached(q: Tensor, k: Tensor, v: Tensor, past: number): Tensor {
  return tf.tidy(() => {
    const [, T, d] = q.shape as [number, number, number];
    const S = k.shape[1]!;
    const i = tf.reshape(tf.range(past, past + T, 1, 'int32'), [T, 1]);
    const j = tf.reshape(tf.range(0, S, 1, 'int32'), [1, S]);
    const bias = tf.mul(tf.cast(tf.greater(j, i), 'float32'), MASKED);
    const logits = tf.add(tf.matMul(tf.mul(q, 1 / Math.sqrt(d)) as tf.Tensor3D, k as tf.Tensor3D, false, true), bias);
    return tf.matMul(tf.softmax(logits, -1) as tf.Tensor3D, v as tf.Tensor3D);
  });
}

export const fullKind: AttentionKindSpec<FullKindOptions> = {
  name: 'full',
  summary: 'softmax attention, O(n²); fused native kernel for causal self-attention; KV cache for decoding',
  capabilities: { causal: true, sharedQK: 'optional', decoding: 'kv' },
  defaults: { sharedQK: false, scale: undefined },
  resolve(o) {
    const r: FullKindOptions = { sharedQK: o.sharedQK ?? false, scale: o.scale };
    check(typeof r.sharedQK === 'boolean', 'sharedQK', `expected true or false, got ${String(r.sharedQK)}`, 'pass sharedQK: true for the Reformer variant');
    if (r.scale !== undefined) checkNumber(r.scale, 'scale', { min: 0, exclusiveMin: true });
    return r;
  },
  params: () => [],
  forward(q, k, v, o, ctx, args) {
    const finite = args.checkFinite ?? true;
    if (ctx.causal && !o.sharedQK && !args.mask && o.scale === undefined && !args.dropout && q.shape[2] === k.shape[2]) {
      checkQkv(q, k, v, finite);
      const [b, h, n, d] = q.shape;
      const dv = v.shape[3];
      return tf.tidy(() => {
        const y = causalAttention(tf.reshape(q, [b * h, n, d]), tf.reshape(k, [b * h, n, d]), tf.reshape(v, [b * h, n, dv]));
        return tf.reshape(y, [b, h, n, dv]) as Tensor4D;
      });
    }
    return fullAttention(q, k, v, { causal: ctx.causal, mask: args.mask, sharedQK: o.sharedQK, scale: o.scale, checkFinite: finite, dropout: args.dropout });
  },
  decoder(o) {
    check(!o.sharedQK, 'sharedQK', 'has no KV-cache decoder (keys depend on the queries)', 'decode without a cache');
    return {
      extend(q, k, v, state) {
        const [b, h, T, d] = q.shape;
        const dv = v.shape[3];
        const past = state?.length ?? 0;
        const out = tf.tidy(() => {
          let kk: Tensor = tf.reshape(k, [b * h, T, d]);
          let vv: Tensor = tf.reshape(v, [b * h, T, dv]);
          if (state) {
            kk = tf.concat([state.tensors[0]!, kk], 1);
            vv = tf.concat([state.tensors[1]!, vv], 1);
          }
          const y = attendCached(tf.reshape(q, [b * h, T, d]), kk, vv, past);
          return { y: tf.reshape(y, [b, h, T, dv]) as Tensor4D, kk, vv };
        });
        if (state) tf.dispose(state.tensors);
        const next: DecodeState = { length: past + T, tensors: [out.kk, out.vv] };
        return { output: out.y, state: next };
      },
    };
  },
};
