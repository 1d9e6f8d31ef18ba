/**
 * The single import point for TensorFlow.js, so every module shares one engine instance and a
 * user's choice of backend (set through initEngine) applies everywhere.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor3D = tf.Tensor3D;
export type Tensor4D = tf.Tensor4D;
export type Variable = tf.Variable;
export type Rank = tf.Rank;
