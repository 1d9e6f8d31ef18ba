/**
 * GPT: a nanoGPT-style decoder language model, its tokenizers, trainer, sampler and memorization
 * probes (the compute calculator lives in compute.ts and is exported separately). See docs/gpt.md.
 */
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
