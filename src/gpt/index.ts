/**
 * GPT (`paperlab/gpt`): a nanoGPT-style decoder language model, its tokenizers, trainer, sampler,
 * memorization probes and the GPT-3 compute calculator. See docs/gpt.md.
 */
export * from './compute.js';
export {
  GPT,
  GPT_DEFAULTS,
  GPT_ATTENTION_KINDS,
  KVCache,
  gptParamCount,
  resolveGPTConfig,
  type GPTConfig,
  type GPTAttentionKind,
  type GPTAttentionOptions,
} from './model.js';
export {
  BpeTokenizer,
  CharTokenizer,
  GPT2_PATTERN,
  preTokenize,
  tokenizerFromJSON,
  trainTokenizer,
  type BpeTrainOptions,
  type StreamDecoder,
  type Tokenizer,
  type TokenizerJSON,
  type TokenizerKind,
} from './tokenizer.js';
export { generate, greedyContinuations, pickToken, type SampleOptions } from './sampler.js';
export {
  GPT_PRESETS,
  GPT_PRESET_NAMES,
  TokenText,
  bitsPerChar,
  estimateLoss,
  loadGPT,
  resolveTrainConfig,
  sampleBatch,
  trainGPT,
  unigramCrossEntropy,
  type GPTCheckpointMeta,
  type GPTEval,
  type GPTPresetName,
  type GPTTrainConfig,
  type GPTTrainOptions,
  type GPTTrainResult,
} from './trainer.js';
export { decodeTrainingText, invalidUtf8Offset, splitTrainVal } from './text.js';
export {
  NgramIndex,
  extractionRate,
  extractionStats,
  longestCopiedSpans,
  ngramNovelty,
  passagesFrom,
  wordTokens,
  type CopiedSpan,
  type ExtractionStats,
  type NoveltyResult,
} from './memorization.js';
