/**
 * The Reformer: reversible residual blocks (memory independent of depth), chunked feed-forward and
 * the Reformer / ReformerLM models over any attention kind of src/attention. See docs/attention.md.
 */
export { type ResidualFn, ReversibleBlock, reversibleSequence } from './reversible.js';
export { type FeedForwardParams, feedForward, chunkedFeedForward } from './feedforward.js';
export { type ReformerConfig, type ReformerLMConfig, type ForwardOptions, type LossOptions, type TokenBatch, type LSHBucketCache, Reformer, ReformerLM } from './model.js';
