/**
 * Attention kinds behind one interface — full, LSH (Reformer), Linformer, linear, Performer — as
 * functions on [batch, heads, seq, dHead] tensors and as tfjs layers. See docs/attention.md.
 */
export { ATTENTION_KINDS, type AttentionKind, type AttentionOptions, type CommonAttentionOptions, attention } from './attention.js';
export { type FullAttentionOptions, fullAttention } from './full.js';
export { type LSHAttentionOptions, type LSHAttentionResult, type LSHResolved, lshAttention, lshAttentionWithBuckets, resolveLSH } from './lsh.js';
export {
  HASH_KINDS,
  type HashKind,
  type AngularHash,
  type CosetHash,
  type LSHHash,
  type DrawHashOptions,
  drawHash,
  disposeHash,
  hashVectors,
  angularHash,
  cosetHash,
  lshBuckets,
  randomParityCheck,
  cosetCollisionProbability,
} from './hash.js';
export { LINFORMER_SHARING, type LinformerSharing, type LinformerAttentionOptions, linformerAttention, linformerProjection } from './linformer.js';
export {
  type KernelAttentionOptions,
  type LinearAttentionOptions,
  type LinearAttentionState,
  type LinearStepOptions,
  eluFeatureMap,
  kernelAttention,
  linearAttention,
  linearAttentionStep,
} from './linear.js';
export { type PerformerAttentionOptions, defaultNbFeatures, drawOrthogonalFeatures, performerFeatureMap, performerAttention } from './performer.js';
export {
  type AttentionLayerArgs,
  type LSHSelfAttentionArgs,
  type LinformerSelfAttentionArgs,
  type LinearAttentionArgs,
  type PerformerAttentionArgs,
  MultiHeadAttention,
  LSHSelfAttention,
  LinformerSelfAttention,
  LinearAttention,
  PerformerAttention,
  splitHeads,
  mergeHeads,
} from './layers.js';
export { MASKED, SELF_PENALTY, stopGradient, unitLength } from './common.js';
export { type MeasureOptions, type Measurement, measureAttention } from './measure.js';
export { type RefOptions, type GradientMismatch, refAttention, refPerHead, gradientMismatches } from './reference.js';
export {
  type AttendArgs,
  type AttentionCapabilities,
  type AttentionContext,
  type AttentionKindSpec,
  type BucketStore,
  type DecodeState,
  type Decoder,
  type ParamSpec,
  Attention,
  attentionKind,
  attentionKinds,
  createAttention,
  disposeDecodeState,
  registerAttentionKind,
  unregisterAttentionKind,
} from './registry.js';
export { type KernelDecodeState, type StabilisedKernelOptions, kernelExtend, performerLogFeatures, stabilisedKernelAttention } from './performer.js';
