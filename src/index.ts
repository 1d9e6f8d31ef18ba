/**
 * paperlab's public API. Import what you need:
 *
 * ```ts
 * import { initEngine, loadMnist, Rng } from 'paperlab';
 * ```
 */
export { tf } from './core/tf.js';
export * from './core/errors.js';
export * from './core/rng.js';
export * from './core/engine.js';
export * from './core/checkpoint.js';
export * from './core/optim.js';
export * from './core/schedule.js';
export * from './core/train.js';
export * from './core/progress.js';
export * from './core/charts.js';
export { type NativeStatus } from './core/native.js';
// Fused ops (one native kernel each when the addon is active, else the tf composition) and the
// switches over the native kernels, for users who build their own models or profile them.
export { layerNorm, gelu, GELU_FORMS, type GELUForm, linear, causalAttention, adamUpdate, type AdamHyper } from './core/ops.js';
export { registerNativeKernels, unregisterNativeKernels, nativeKernelStats, resetNativeKernelStats, setPoolLimit, poolLimit } from './core/kernels/index.js';
export { startKernelProfile, type KernelTime } from './core/kernels/profile.js';
export * from './data/mnist.js';
export * from './data/brown.js';
export * from './data/synthetic.js';
export * from './data/augment.js';
export * from './gpt/compute.js';
export * from './attention/index.js';
export * from './reformer/index.js';
export * from './gpt/index.js';
export * from './contrastive/index.js';
export * from './byol/index.js';
export * from './radioactive/index.js';
export * from './hebbian/index.js';
export { experiments, findExperiment } from './experiments/index.js';
export type { Experiment, ExperimentResult, ExperimentOutput, RunContext, TableRow } from './experiments/types.js';
export { runExperiment } from './experiments/runner.js';
export { validateResult } from './experiments/result.js';
export { buildReport, type BuildReportOptions, type BuildReportResult } from './report/index.js';
