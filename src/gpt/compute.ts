/**
 * Training compute and cost, as in GPT-3 Appendix D: C = 6·N·D FLOPs for a dense decoder (forward
 * 2·N·D plus backward 4·N·D), 3·N·D for T5's encoder–decoder (about half the parameters are active per
 * token), and 1 PF-day = 10^15 FLOP/s × 86 400 s = 8.64 × 10^19 FLOPs.
 */
import { PaperlabError, checkNumber } from '../core/errors.js';

export const PF_DAY_FLOPS = 1e15 * 86400;

export interface ComputeOptions {
  /** FLOPs per parameter per token: 6 for decoders/encoders (default), 3 for T5. */
  flopsPerParamToken?: number;
  /** Add attention's 12·L·H·Q·T per token (ignored by the paper, < 10 % there). */
  attention?: { layers: number; dModel: number; context: number };
}

/** Training FLOPs for `params` parameters seen on `tokens` tokens. */
export function trainingFlops(params: number, tokens: number, o: ComputeOptions = {}): number {
  checkNumber(params, 'params', { min: 0, exclusiveMin: true });
  checkNumber(tokens, 'tokens', { min: 0, exclusiveMin: true });
  const k = o.flopsPerParamToken ?? 6;
  let flops = k * params * tokens;
  if (o.attention) flops += 12 * o.attention.layers * o.attention.dModel * o.attention.context * tokens; // 12·L·H·Q·T per token, H·Q = d_model
  return flops;
}

export const pfDays = (flops: number): number => flops / PF_DAY_FLOPS;

export interface CostOptions {
  /** Sustained GPU throughput in TFLOP/s (V100 at 28 in the $4.6M estimate). Default 28. */
  gpuTflops?: number;
  /** Fraction of that throughput achieved. Default 1 (the 28 TFLOP/s figure is already sustained). */
  utilization?: number;
  /** Price of one GPU-hour in USD. Default 1.50 (the cheapest 2020 cloud V100 price). */
  usdPerGpuHour?: number;
}

export interface CostEstimate {
  flops: number;
  pfDays: number;
  gpuHours: number;
  gpuYears: number;
  usd: number;
  assumptions: Required<CostOptions>;
}

export function trainingCost(flops: number, o: CostOptions = {}): CostEstimate {
  const a: Required<CostOptions> = { gpuTflops: o.gpuTflops ?? 28, utilization: o.utilization ?? 1, usdPerGpuHour: o.usdPerGpuHour ?? 1.5 };
  checkNumber(a.gpuTflops, 'gpuTflops', { min: 0, exclusiveMin: true });
  checkNumber(a.utilization, 'utilization', { min: 0, max: 1, exclusiveMin: true });
  checkNumber(a.usdPerGpuHour, 'usdPerGpuHour', { min: 0 });
  const seconds = flops / (a.gpuTflops * 1e12 * a.utilization);
  const gpuHours = seconds / 3600;
  return { flops, pfDays: pfDays(flops), gpuHours, gpuYears: gpuHours / (24 * 365), usd: gpuHours * a.usdPerGpuHour, assumptions: a };
}

/** Parses counts like 175e9, 175B, 1.3b, 125M, 2k, 1_000 (for the CLI). */
export function parseCount(text: string, argument: string): number {
  const m = /^\s*([0-9][0-9_]*(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*([kKmMbBtT]?)\s*$/.exec(text);
  if (!m) throw new PaperlabError(argument, `'${text}' is not a count`, 'write a number such as 175e9, 175B, 125M or 300000000000');
  const mult: Record<string, number> = { '': 1, k: 1e3, m: 1e6, b: 1e9, t: 1e12 };
  return Number(m[1]!.replace(/_/g, '')) * mult[m[2]!.toLowerCase()]!;
}

export interface TableD1Row {
  model: string;
  family: 'T5' | 'BERT' | 'RoBERTa' | 'GPT-3';
  /** Published total training compute, PF-days. */
  pfDays: number;
  /** Parameters, millions. */
  paramsM: number;
  /** Training tokens, billions. */
  tokensB: number;
}

/** GPT-3 paper, Table D.1 (Brown et al. 2020), as published. */
export const TABLE_D1: readonly TableD1Row[] = [
  { model: 'T5-Small', family: 'T5', pfDays: 2.08, paramsM: 60, tokensB: 1000 },
  { model: 'T5-Base', family: 'T5', pfDays: 7.64, paramsM: 220, tokensB: 1000 },
  { model: 'T5-Large', family: 'T5', pfDays: 26.7, paramsM: 770, tokensB: 1000 },
  { model: 'T5-3B', family: 'T5', pfDays: 104, paramsM: 3000, tokensB: 1000 },
  { model: 'T5-11B', family: 'T5', pfDays: 382, paramsM: 11000, tokensB: 1000 },
  { model: 'BERT-Base', family: 'BERT', pfDays: 1.89, paramsM: 109, tokensB: 250 },
  { model: 'BERT-Large', family: 'BERT', pfDays: 6.16, paramsM: 355, tokensB: 250 },
  { model: 'RoBERTa-Base', family: 'RoBERTa', pfDays: 17.4, paramsM: 125, tokensB: 2000 },
  { model: 'RoBERTa-Large', family: 'RoBERTa', pfDays: 49.3, paramsM: 355, tokensB: 2000 },
  { model: 'GPT-3 Small', family: 'GPT-3', pfDays: 2.6, paramsM: 125, tokensB: 300 },
  { model: 'GPT-3 Medium', family: 'GPT-3', pfDays: 7.42, paramsM: 356, tokensB: 300 },
  { model: 'GPT-3 Large', family: 'GPT-3', pfDays: 15.8, paramsM: 760, tokensB: 300 },
  { model: 'GPT-3 XL', family: 'GPT-3', pfDays: 27.5, paramsM: 1320, tokensB: 300 },
  { model: 'GPT-3 2.7B', family: 'GPT-3', pfDays: 55.2, paramsM: 2650, tokensB: 300 },
  { model: 'GPT-3 6.7B', family: 'GPT-3', pfDays: 139, paramsM: 6660, tokensB: 300 },
  { model: 'GPT-3 13B', family: 'GPT-3', pfDays: 268, paramsM: 12850, tokensB: 300 },
  { model: 'GPT-3 175B', family: 'GPT-3', pfDays: 3640, paramsM: 174600, tokensB: 300 },
];

/** Recomputes one Table D.1 row's PF-days from its parameters and tokens. */
export function tableD1PfDays(row: TableD1Row): number {
  return pfDays(trainingFlops(row.paramsM * 1e6, row.tokensB * 1e9, { flopsPerParamToken: row.family === 'T5' ? 3 : 6 }));
}
