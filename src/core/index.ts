/**
 * `paperlab/core`: the engine (tfjs + native kernels), errors, seeded RNG, checkpoints, AdamW,
 * schedules, the training loop with checkpoint/resume, progress, charts, and the data loaders.
 *
 * ```ts
 * import { initEngine, Rng, trainStep, AdamW } from 'paperlab/core';
 * ```
 */
export { tf } from './tf.js';
export * from './errors.js';
export * from './rng.js';
export * from './engine.js';
export * from './checkpoint.js';
export * from './optim.js';
export * from './schedule.js';
export * from './train.js';
export { openResume, resumableRun, type CheckpointOptions, type TrainerState, type Resumer } from './resume.js';
export * from './progress.js';
export * from './charts.js';
export * from './stats.js';
export { type NativeStatus } from './native.js';
// Fused ops (one native kernel each when the addon is active, else the tf composition) and the
// switches over the native kernels, for users who build their own models or profile them.
export { layerNorm, gelu, GELU_FORMS, type GELUForm, linear, causalAttention, adamUpdate, type AdamHyper } from './ops.js';
export { registerNativeKernels, unregisterNativeKernels, nativeKernelStats, resetNativeKernelStats, setPoolLimit, poolLimit } from './kernels/index.js';
export { startKernelProfile, type KernelTime } from './kernels/profile.js';
export * from '../data/mnist.js';
export * from '../data/fashion.js';
export * from '../data/brown.js';
export * from '../data/synthetic.js';
export * from '../data/augment.js';
