/**
 * Job payloads of the queue and their checks. Everything is plain JSON; float arrays travel as
 * base64 of their bytes, so values (NaN and −0 included) arrive bit for bit.
 */
import { PaperlabError } from '../core/errors.js';
import type { RngState } from '../core/rng.js';
import type { FitnessSpec } from '../hebbian/rollout.js';
import type { ExperimentResult } from '../experiments/types.js';

export const SEED_JOB = 'seed';
export const SLICE_JOB = 'es-slice';
export const GENERATION_JOB = 'es-generation';

export interface SeedPayload {
  name: string;
  seed: number;
  quick: boolean;
  backend?: string;
}

export interface SeedReturn {
  result: ExperimentResult;
  /** The run's stderr. */
  log: string;
  host: string;
}

/** A contiguous run of candidates [first, first + count) of one generation. */
export type SlicePayload = {
  spec: FitnessSpec;
  first: number;
  count: number;
  /** count × episodes episode seeds, float64 base64. */
  seeds: string;
} & (
  | { kind: 'params'; /** count vectors back to back, float32 base64. */ params: string }
  | { kind: 'perturbed'; /** float32 base64. */ centre: string; sigma: number; /** RNG state of each pair of the slice (first is even). */ noise: RngState[] }
);

export interface SliceReturn {
  first: number;
  /** float64 base64. */
  fitness: string;
}

export interface GenerationPayload {
  n: number;
}

export function f32ToB64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}
export function f64ToB64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}
function fromB64(s: unknown, bytes: number, field: string): ArrayBuffer {
  if (typeof s !== 'string') throw new PaperlabError(field, `is ${typeof s}, not a base64 string`, 'send the payload the client builds (src/scale)');
  const b = Buffer.from(s, 'base64');
  if (b.length % bytes !== 0) throw new PaperlabError(field, `holds ${b.length} bytes, not a whole number of ${bytes}-byte values`, 'send the payload the client builds (src/scale)');
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}
export const b64ToF32 = (s: unknown, field: string): Float32Array => new Float32Array(fromB64(s, 4, field));
export const b64ToF64 = (s: unknown, field: string): Float64Array => new Float64Array(fromB64(s, 8, field));

const bad = (field: string, problem: string): never => {
  throw new PaperlabError(`job data.${field}`, problem, 'enqueue jobs through paperlab (RedisSeedRunner / QueueEvaluator), which build valid payloads');
};

export function checkSeedPayload(d: unknown): SeedPayload {
  if (!d || typeof d !== 'object') bad('', 'is not an object');
  const o = d as Record<string, unknown>;
  if (typeof o.name !== 'string' || !/^[a-z0-9-]+$/.test(o.name)) bad('name', `is ${JSON.stringify(o.name)}, not an experiment name`);
  if (typeof o.seed !== 'number' || !Number.isSafeInteger(o.seed)) bad('seed', `is ${JSON.stringify(o.seed)}, not a whole number`);
  if (typeof o.quick !== 'boolean') bad('quick', `is ${JSON.stringify(o.quick)}, not true/false`);
  if (o.backend !== undefined && (typeof o.backend !== 'string' || !/^[a-z0-9-]+$/.test(o.backend))) bad('backend', `is ${JSON.stringify(o.backend)}`);
  return { name: o.name as string, seed: o.seed as number, quick: o.quick as boolean, backend: o.backend as string | undefined };
}

/** Checks a slice payload's shape (the fitness spec itself is checked by checkFitnessSpec). */
export function checkSlicePayload(d: unknown): SlicePayload {
  if (!d || typeof d !== 'object') bad('', 'is not an object');
  const o = d as Record<string, unknown>;
  if (!o.spec || typeof o.spec !== 'object') bad('spec', 'is missing');
  for (const f of ['first', 'count'] as const) if (typeof o[f] !== 'number' || !Number.isSafeInteger(o[f]) || (o[f] as number) < 0) bad(f, `is ${JSON.stringify(o[f])}, not a whole number ≥ 0`);
  if (o.kind === 'perturbed') {
    if (typeof o.sigma !== 'number' || !Number.isFinite(o.sigma)) bad('sigma', `is ${JSON.stringify(o.sigma)}, not a finite number`);
    if ((o.first as number) % 2 !== 0 || (o.count as number) % 2 !== 0) bad('first', 'a perturbed slice must start and end on an antithetic pair');
    if (!Array.isArray(o.noise) || o.noise.length !== (o.count as number) / 2) bad('noise', `must hold one RNG state per pair (${(o.count as number) / 2})`);
  } else if (o.kind !== 'params') bad('kind', `is ${JSON.stringify(o.kind)}, not 'params' or 'perturbed'`);
  return d as SlicePayload;
}
