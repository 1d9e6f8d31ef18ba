/**
 * Checkpoints: named float32/int32 arrays in groups (weights, optimizer, …), the step, the RNG state
 * and free-form metadata, in one directory:
 *
 *   manifest.json   — format, step, rng, meta, one entry per array (group, name, shape, dtype, offset)
 *   tensors.bin     — the arrays back to back, little-endian
 *
 * Writes go to a temporary sibling directory that is renamed into place, so a crash mid-write never
 * destroys the previous checkpoint. A SHA-256 of tensors.bin and the byte layout in the manifest
 * catch truncated or altered files on load.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import { tf, type Tensor } from './tf.js';
import { PaperlabError, describeShape } from './errors.js';
import type { RngState } from './rng.js';

export type Dtype = 'float32' | 'int32';
export interface StoredArray {
  shape: number[];
  dtype: Dtype;
  data: Float32Array | Int32Array;
}
export type ArrayGroup = Record<string, StoredArray>;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface CheckpointData {
  step: number;
  rng?: RngState;
  meta?: JsonValue;
  groups: Record<string, ArrayGroup>;
}

interface ManifestEntry {
  group: string;
  name: string;
  shape: number[];
  dtype: Dtype;
  byteOffset: number;
  byteLength: number;
}
interface Manifest {
  format: 'paperlab-checkpoint';
  version: 1;
  step: number;
  rng?: RngState;
  meta?: JsonValue;
  sha256: string;
  byteLength: number;
  arrays: ManifestEntry[];
}

const MANIFEST = 'manifest.json';
const DATA = 'tensors.bin';

/** Reads tensors (or variables) into stored arrays. */
export async function tensorsToGroup(tensors: Record<string, Tensor>): Promise<ArrayGroup> {
  const out: ArrayGroup = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new PaperlabError(`tensor '${name}'`, `dtype ${t.dtype} cannot be checkpointed`, 'cast it to float32 or int32 first');
    }
    const data = (await t.data()) as Float32Array | Int32Array;
    out[name] = { shape: t.shape.slice(), dtype: t.dtype, data: data.slice() };
  }
  return out;
}

/** Assigns stored arrays to variables by name, checking that every variable is present with its shape. */
export function assignGroup(group: ArrayGroup, variables: Record<string, tf.Variable>, what = 'checkpoint'): void {
  for (const [name, v] of Object.entries(variables)) {
    const a = group[name];
    if (!a) throw new PaperlabError(what, `has no array for variable '${name}'`, 'load a checkpoint written by the same model configuration');
    if (a.shape.length !== v.shape.length || a.shape.some((d, i) => d !== v.shape[i])) {
      throw new PaperlabError(what, `array '${name}' has shape ${describeShape(a.shape)} but the model expects ${describeShape(v.shape)}`, 'load a checkpoint written by the same model configuration');
    }
    v.assign(tf.tensor(a.data, a.shape, a.dtype));
  }
}

function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

async function writeFileSynced(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await fs.open(file, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a checkpoint atomically to `dir` (replacing any checkpoint already there). */
export async function saveCheckpoint(dir: string, data: CheckpointData): Promise<void> {
  if (!Number.isInteger(data.step) || data.step < 0) throw new PaperlabError('step', `must be a non-negative integer, got ${data.step}`, 'pass the number of completed steps');
  const entries: ManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [group, arrays] of Object.entries(data.groups)) {
    for (const [name, a] of Object.entries(arrays)) {
      const n = a.shape.reduce((x, y) => x * y, 1);
      if (a.data.length !== n) throw new PaperlabError(`${group}/${name}`, `has ${a.data.length} values but shape ${describeShape(a.shape)} needs ${n}`, 'pass data matching the shape');
      const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
      entries.push({ group, name, shape: a.shape, dtype: a.dtype, byteOffset: offset, byteLength: bytes.byteLength });
      chunks.push(bytes);
      offset += bytes.byteLength;
    }
  }
  const blob = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) {
    blob.set(c, o);
    o += c.byteLength;
  }
  const manifest: Manifest = {
    format: 'paperlab-checkpoint',
    version: 1,
    step: data.step,
    ...(data.rng ? { rng: data.rng } : {}),
    ...(data.meta !== undefined ? { meta: data.meta } : {}),
    sha256: sha256(blob),
    byteLength: blob.byteLength,
    arrays: entries,
  };
  const target = path.resolve(dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(tmp);
  try {
    await writeFileSynced(path.join(tmp, DATA), blob);
    await writeFileSynced(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 1));
    // Keep the old checkpoint until the new one is in place: rename old aside, new in, then delete old.
    let old: string | undefined;
    if (existsSync(target)) {
      old = `${target}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
      await fs.rename(target, old);
    }
    await fs.rename(tmp, target);
    if (old) await fs.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Loads and verifies a checkpoint; any truncation or alteration gives a PaperlabError naming the file. */
export async function loadCheckpoint(dir: string): Promise<CheckpointData> {
  const mf = path.join(dir, MANIFEST);
  const df = path.join(dir, DATA);
  if (!existsSync(dir)) throw new PaperlabError('checkpoint', `directory ${dir} does not exist`, 'pass the --out directory of a training run');
  if (!existsSync(mf) || !existsSync(df)) throw new PaperlabError('checkpoint', `${dir} lacks ${MANIFEST} or ${DATA}`, 'pass a directory written by paperlab (saveCheckpoint)');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(mf, 'utf8')) as Manifest;
  } catch (e) {
    throw new PaperlabError('checkpoint', `${mf} is not valid JSON (${(e as Error).message})`, 'the checkpoint is corrupt; restore it from a backup or retrain');
  }
  if (manifest.format !== 'paperlab-checkpoint' || manifest.version !== 1 || !Array.isArray(manifest.arrays)) {
    throw new PaperlabError('checkpoint', `${mf} is not a paperlab checkpoint manifest (version 1)`, 'pass a directory written by paperlab');
  }
  const buf = new Uint8Array(await fs.readFile(df));
  if (buf.byteLength !== manifest.byteLength) {
    throw new PaperlabError('checkpoint', `${df} has ${buf.byteLength} bytes but the manifest says ${manifest.byteLength} (truncated?)`, 'the checkpoint is corrupt; restore it from a backup or retrain');
  }
  if (sha256(buf) !== manifest.sha256) {
    throw new PaperlabError('checkpoint', `${df} does not match its SHA-256 checksum (altered or corrupt)`, 'the checkpoint is corrupt; restore it from a backup or retrain');
  }
  const groups: Record<string, ArrayGroup> = {};
  for (const e of manifest.arrays) {
    const n = e.shape.reduce((x, y) => x * y, 1);
    if (e.byteOffset < 0 || e.byteOffset + e.byteLength > buf.byteLength || e.byteLength !== n * 4 || e.byteOffset % 4 !== 0) {
      throw new PaperlabError('checkpoint', `entry ${e.group}/${e.name} has an inconsistent byte range`, 'the checkpoint is corrupt; restore it from a backup or retrain');
    }
    const copy = buf.slice(e.byteOffset, e.byteOffset + e.byteLength).buffer;
    const data = e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    (groups[e.group] ??= {})[e.name] = { shape: e.shape, dtype: e.dtype, data };
  }
  return { step: manifest.step, rng: manifest.rng, meta: manifest.meta, groups };
}

/** True when `dir` holds a checkpoint manifest (used to decide whether to resume). */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(path.join(dir, MANIFEST));
}
