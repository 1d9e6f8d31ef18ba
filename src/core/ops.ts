/**
 * paperlab's shared ops. LayerNorm and GELU appear in every transformer block: when the native
 * kernels are active (cpu backend, addon built) they run as fused kernels with custom gradients
 * (one pass forward, one pass backward, gradients to x, gamma and beta); otherwise as the plain tf
 * composition below, which is also the reference the tests compare against.
 */
import { tf, type Tensor } from './tf.js';
import { check, checkOneOf } from './errors.js';
import { ADAM, ATTENTION, ATTENTION_GRAD, fusedKernelReady, GELU, GELU_GRAD, LAYER_NORM, LAYER_NORM_GRAD } from './kernels/index.js';

type Save = (tensors: Tensor[]) => void;

function run(name: string, inputs: Record<string, Tensor>, attrs: Record<string, number> = {}): Tensor[] {
  const out = tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor];
}

function layerNormPlain(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const { mean, variance } = tf.moments(x, axis, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
  });
}

function layerNormFused(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  // gamma and beta are explicit inputs of customGrad: a variable captured inside would get no gradient
  const f = tf.customGrad(((xi: Tensor, g: Tensor, b: Tensor, save: Save) => {
    const [y, mean, rstd] = run(LAYER_NORM, { x: xi, gamma: g, beta: b }, { eps });
    save([xi, g, mean!, rstd!]);
    return {
      value: y!,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xs, gs, m, r] = saved;
        return run(LAYER_NORM_GRAD, { dy, x: xs!, gamma: gs!, mean: m!, rstd: r! });
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, gamma, beta);
}

/** LayerNorm over the last axis: (x − mean)/√(var + eps) · gamma + beta. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const C = x.shape[x.rank - 1];
  if (
    x.rank >= 1 && C !== undefined && C > 0 && x.size > 0 &&
    x.dtype === 'float32' && gamma.dtype === 'float32' && beta.dtype === 'float32' &&
    gamma.size === C && beta.size === C && gamma.rank <= x.rank && beta.rank <= x.rank &&
    gamma.shape[gamma.rank - 1] === C && beta.shape[beta.rank - 1] === C &&
    fusedKernelReady(LAYER_NORM)
  ) {
    return layerNormFused(x, gamma, beta, eps);
  }
  return layerNormPlain(x, gamma, beta, eps);
}

function geluTanhPlain(x: Tensor): Tensor {
  return tf.tidy(() => {
    const c = Math.sqrt(2 / Math.PI);
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), c);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

function geluErf(x: Tensor): Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}

const geluFused = tf.customGrad(((x: Tensor, save: Save) => {
  const [y] = run(GELU, { x });
  save([x]);
  return {
    value: y!,
    gradFunc: (dy: Tensor, saved: Tensor[]) => run(GELU_GRAD, { dy, x: saved[0]! })[0]!,
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

export const GELU_FORMS = ['tanh', 'erf'] as const;
/**
 * 'tanh': Hendrycks & Gimpel's tanh approximation, 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), as in
 *   OpenAI's GPT-2 and BERT code and HF's `gelu_new` (the native fused kernel computes this one);
 * 'erf': the exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), PyTorch's nn.GELU() default, which
 *   nanoGPT's model.py uses. The two differ by at most ≈ 5e-4 (near |x| ≈ 2).
 */
export type GELUForm = (typeof GELU_FORMS)[number];

/** GELU in the given form (default 'tanh'; see GELUForm). */
export function gelu(x: Tensor, form: GELUForm = 'tanh'): Tensor {
  checkOneOf(form, GELU_FORMS, 'form');
  check(x.dtype === 'float32', 'x', `gelu needs a float32 tensor, got ${x.dtype}`, 'cast it with tf.cast(x, "float32")');
  if (form === 'erf') return geluErf(x);
  if (x.size > 0 && fusedKernelReady(GELU)) return geluFused(x);
  return geluTanhPlain(x);
}

/**
 * Dense layer on the last axis via a 2-D matmul (tfjs's matMul gradient does not reduce broadcast
 * batch dims); with a bias it is one fused matmul + bias kernel.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  return tf.tidy(() => {
    const shape = x.shape;
    const din = shape[shape.length - 1]!;
    const dout = w.shape[1]!;
    const x2 = tf.reshape(x, [-1, din]) as tf.Tensor2D;
    const y2 = b ? tf.fused.matMul({ a: x2, b: w as tf.Tensor2D, bias: b }) : tf.matMul(x2, w as tf.Tensor2D);
    return tf.reshape(y2, [...shape.slice(0, -1), dout]);
  });
}

export interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 − beta1^t) */
  stepSize: number;
  /** 1 − beta2^t */
  bc2: number;
  /** Decoupled weight decay this step: lr·weightDecay, or 0. */
  decay: number;
}

/**
 * One AdamW update of a parameter, as src/core/optim.ts writes it:
 *   m' = β1·m + (1−β1)·g,  v' = β2·v + (1−β2)·g²,  p' = p − m'/(√(v'/bc2) + ε)·stepSize − p·decay.
 * One fused native kernel when active (instead of a dozen tfjs ops), else the tf composition.
 * Returns new tensors; assign them to the variables.
 */
export function adamUpdate(p: Tensor, m: Tensor, v: Tensor, g: Tensor, h: AdamHyper): { p: Tensor; m: Tensor; v: Tensor } {
  const same = [m, v, g].every((t) => t.dtype === 'float32' && t.size === p.size);
  if (p.dtype === 'float32' && same && p.size > 0 && fusedKernelReady(ADAM)) {
    const [pn, mn, vn] = run(ADAM, { p, m, v, g }, { ...h });
    return { p: pn!, m: mn!, v: vn! };
  }
  return tf.tidy(() => {
    const m1 = tf.add(tf.mul(m, h.beta1), tf.mul(g, 1 - h.beta1));
    const v1 = tf.add(tf.mul(v, h.beta2), tf.mul(tf.square(g), 1 - h.beta2));
    const denom = tf.add(tf.sqrt(tf.div(v1, h.bc2)), h.eps);
    let next = tf.sub(p, tf.mul(tf.div(m1, denom), h.stepSize));
    if (h.decay > 0) next = tf.sub(next, tf.mul(p, h.decay));
    return { p: next, m: m1, v: v1 };
  });
}

const causalMasks = new Map<number, Tensor>();
/** Additive causal mask [T, T]: 0 on and below the diagonal, −1e9 above (exp underflows to exactly 0). */
function causalMask(T: number): Tensor {
  let m = causalMasks.get(T);
  if (!m) {
    const a = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) a[i * T + j] = -1e9;
    m = tf.keep(tf.tensor2d(a, [T, T]));
    causalMasks.set(T, m);
  }
  return m;
}

function causalAttentionPlain(q: Tensor, k: Tensor, v: Tensor, scale: number): Tensor {
  return tf.tidy(() => {
    const T = q.shape[1]!;
    const att = tf.softmax(tf.add(tf.matMul(tf.mul(q, scale) as tf.Tensor3D, k as tf.Tensor3D, false, true), causalMask(T)), -1);
    return tf.matMul(att as tf.Tensor3D, v as tf.Tensor3D);
  });
}

const causalAttentionFused = (scale: number) =>
  tf.customGrad(((q: Tensor, k: Tensor, v: Tensor, save: Save) => {
    const [y, p] = run(ATTENTION, { q, k, v }, { scale });
    save([q, k, v, p!]);
    return {
      value: y!,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [qs, ks, vs, ps] = saved;
        return run(ATTENTION_GRAD, { dy, q: qs!, k: ks!, v: vs!, p: ps! }, { scale });
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * Causal softmax self-attention of N = batch·heads independent sequences: q, k, v [N, T, D] →
 * softmax(q·kᵀ/√D + causal mask)·v, [N, T, D]. With the native kernels it is one fused kernel
 * forward and one backward (only the attention probabilities are kept for the gradient); otherwise
 * the tf composition (scaled matMul, additive −1e9 mask, softmax, matMul). No dropout, no KV cache.
 */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const D = q.shape[2]!;
  const scale = 1 / Math.sqrt(D);
  const ok =
    q.rank === 3 && [k, v].every((t) => t.rank === 3 && t.shape.every((d, i) => d === q.shape[i])) &&
    [q, k, v].every((t) => t.dtype === 'float32') && q.size > 0;
  if (ok && fusedKernelReady(ATTENTION)) return causalAttentionFused(scale)(q, k, v);
  return causalAttentionPlain(q, k, v, scale);
}
