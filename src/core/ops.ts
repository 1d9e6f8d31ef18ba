/**
 * paperlab's shared ops. LayerNorm and GELU appear in every transformer block; the native-kernels
 * work replaces these bodies with fused kernels (with custom gradients) when the addon is active.
 */
import { tf, type Tensor } from './tf.js';

/** LayerNorm over the last axis: (x − mean)/√(var + eps) · gamma + beta. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const { mean, variance } = tf.moments(x, axis, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
  });
}

/** GELU, tanh approximation (GPT-2/nanoGPT): 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(x: Tensor): Tensor {
  return tf.tidy(() => {
    const c = Math.sqrt(2 / Math.PI);
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), c);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  });
}

/** Dense layer on the last axis via a 2-D matmul (tfjs's matMul gradient does not reduce broadcast batch dims). */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  return tf.tidy(() => {
    const shape = x.shape;
    const din = shape[shape.length - 1]!;
    const dout = w.shape[1]!;
    const y2 = b ? tf.add(tf.matMul(tf.reshape(x, [-1, din]), w), b) : tf.matMul(tf.reshape(x, [-1, din]), w);
    return tf.reshape(y2, [...shape.slice(0, -1), dout]);
  });
}
