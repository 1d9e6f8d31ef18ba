/**
 * Checkpoints: named float32/int32 arrays in groups (weights, optimizer, …), the step, the RNG state
 * and free-form metadata, in one directory:
 *
 *   manifest.json   — format, step, rng, meta, one entry per array (group, name, shape, dtype, offset)
 *   tensors.bin     — the arrays back to back, little-endian
 *
 * Writes go to a temporary sibling directory `DIR.tmp-*` that replaces DIR by two renames (DIR →
 * `DIR.old-*`, tmp → DIR), so a crash mid-write never destroys the previous checkpoint. A kill
 * between the two renames leaves no DIR but two complete siblings: loading (and hasCheckpoint)
 * recovers the newest complete one into place. A SHA-256 of tensors.bin and the byte layout in the
 * manifest catch truncated or altered files on load. A directory holding anything else than a
 * checkpoint is never replaced (the rename would delete the user's files).
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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
  // Check everything before assigning anything: a half-loaded model is a silent wrong answer.
  for (const [name, v] of Object.entries(variables)) {
    const a = group[name];
    if (!a) throw new PaperlabError(what, `has no array for variable '${name}'`, 'load a checkpoint written by the same model configuration');
    if (a.shape.length !== v.shape.length || a.shape.some((d, i) => d !== v.shape[i])) {
      throw new PaperlabError(what, `array '${name}' has shape ${describeShape(a.shape)} but the model expects ${describeShape(v.shape)}`, 'load a checkpoint written by the same model configuration');
    }
    if (a.dtype !== v.dtype) throw new PaperlabError(what, `array '${name}' is ${a.dtype} but the model's variable is ${v.dtype}`, 'load a checkpoint written by the same model configuration');
  }
  const extra = Object.keys(group).filter((k) => !(k in variables));
  if (extra.length > 0) {
    throw new PaperlabError(what, `holds ${extra.length} array(s) the model does not have (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`, 'load a checkpoint written by the same model configuration (a larger model\'s weights do not fit a smaller one)');
  }
  for (const [name, v] of Object.entries(variables)) {
    const a = group[name]!;
    const t = tf.tensor(a.data, a.shape, a.dtype);
    v.assign(t);
    t.dispose(); // assign copies the values; the temporary would outlive the load otherwise
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

const isCheckpointEntry = (name: string): boolean => name === MANIFEST || name === DATA;

/** Siblings `DIR.tmp-*` / `DIR.old-*` that interrupted saves of `dir` left behind. */
function leftovers(target: string): string[] {
  const parent = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(`${base}.tmp-`) || n.startsWith(`${base}.old-`)).map((n) => path.join(parent, n));
}

/** The step of a complete, verified checkpoint directory, or undefined. */
function completeStep(dir: string): number | undefined {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
    const buf = readFileSync(path.join(dir, DATA));
    if (m.format !== 'paperlab-checkpoint' || buf.byteLength !== m.byteLength || sha256(buf) !== m.sha256) return undefined;
    return Number.isInteger(m.step) ? m.step : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When a save was killed between its two renames, `dir` is missing but a complete `DIR.tmp-*` (new)
 * and `DIR.old-*` (previous) exist: moves the newest complete one into place. Returns true if it did.
 */
function recoverInterrupted(dir: string): boolean {
  const target = path.resolve(dir);
  if (existsSync(path.join(target, MANIFEST))) return false;
  if (existsSync(target)) {
    // An empty directory can stand in the way only if the user made it; anything else stays untouched.
    try {
      if (readdirSync(target).length > 0) return false;
    } catch {
      return false;
    }
  }
  let best: { dir: string; step: number } | undefined;
  for (const d of leftovers(target)) {
    const step = completeStep(d);
    if (step !== undefined && (!best || step > best.step)) best = { dir: d, step };
  }
  if (!best) return false;
  if (existsSync(target)) rmSync(target, { recursive: true });
  renameSync(best.dir, target);
  return true;
}

function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}: ${err.message}` : String(e);
}

/**
 * Checks, before any work is done, that a checkpoint can be written to `dir`: its parent is (or can be
 * made) a writable directory, and `dir` is absent, empty or a paperlab checkpoint (never a folder of
 * other files, which saving would replace). Throws a PaperlabError naming `argument` otherwise.
 */
export function checkCheckpointTarget(dir: string, argument = 'checkpoint'): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  if (existsSync(target)) {
    const st = statSync(target);
    if (!st.isDirectory()) throw new PaperlabError(argument, `${target} is a file, not a checkpoint directory`, 'pass a new or empty directory, or one written by paperlab');
    const foreign = readdirSync(target).filter((n) => !isCheckpointEntry(n));
    if (foreign.length > 0) {
      throw new PaperlabError(
        argument,
        `${target} is not empty and is not a paperlab checkpoint (holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); saving would replace it and its files`,
        'pass a new or empty directory for the checkpoint',
      );
    }
  }
  for (let d = parent; ; d = path.dirname(d)) {
    if (existsSync(d)) {
      if (!statSync(d).isDirectory()) throw new PaperlabError(argument, `cannot write a checkpoint to ${target}: ${d} is a file, not a directory`, 'choose another directory');
      break;
    }
    if (d === path.dirname(d)) break;
  }
  try {
    mkdirSync(parent, { recursive: true });
    // A checkpoint is written as a sibling of dir and renamed: the parent itself must be writable.
    const probe = path.join(parent, `.${path.basename(target)}.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw new PaperlabError(argument, `cannot write a checkpoint to ${target}: ${parent} is not writable (${fsReason(e)})`, 'choose a writable directory, or fix its permissions');
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
  recoverInterrupted(target);
  checkCheckpointTarget(target);
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
  // What killed saves left behind (partial tmp dirs, old copies) is garbage once this one is in place.
  for (const d of leftovers(target)) await fs.rm(d, { recursive: true, force: true });
}

function corrupt(file: string, problem: string): PaperlabError {
  return new PaperlabError('checkpoint', `${file} ${problem}`, 'the checkpoint is corrupt; restore it from a backup or retrain');
}

const isDim = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0;

/** Loads and verifies a checkpoint; any truncation or alteration gives a PaperlabError naming the file. */
export async function loadCheckpoint(dir: string): Promise<CheckpointData> {
  const mf = path.join(dir, MANIFEST);
  const df = path.join(dir, DATA);
  recoverInterrupted(dir);
  if (!existsSync(dir)) throw new PaperlabError('checkpoint', `directory ${dir} does not exist`, 'pass the --out directory of a training run');
  if (!existsSync(mf) || !existsSync(df)) throw new PaperlabError('checkpoint', `${dir} lacks ${MANIFEST} or ${DATA}`, 'pass a directory written by paperlab (saveCheckpoint)');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(mf, 'utf8')) as Manifest;
  } catch (e) {
    throw new PaperlabError('checkpoint', `${mf} is not valid JSON (${(e as Error).message})`, 'the checkpoint is corrupt; restore it from a backup or retrain');
  }
  if (!manifest || typeof manifest !== 'object' || manifest.format !== 'paperlab-checkpoint' || manifest.version !== 1 || !Array.isArray(manifest.arrays)) {
    throw new PaperlabError('checkpoint', `${mf} is not a paperlab checkpoint manifest (version 1)`, 'pass a directory written by paperlab');
  }
  if (!isDim(manifest.step)) throw corrupt(mf, `has step ${JSON.stringify(manifest.step)}, not a non-negative integer`);
  if (!isDim(manifest.byteLength) || typeof manifest.sha256 !== 'string') throw corrupt(mf, 'lacks a valid byteLength or sha256');
  const size = (await fs.stat(df)).size;
  if (size !== manifest.byteLength) {
    throw new PaperlabError('checkpoint', `${df} has ${size} bytes but the manifest says ${manifest.byteLength} (truncated?)`, 'the checkpoint is corrupt; restore it from a backup or retrain');
  }
  const buf = new Uint8Array(await fs.readFile(df));
  if (sha256(buf) !== manifest.sha256) {
    throw new PaperlabError('checkpoint', `${df} does not match its SHA-256 checksum (altered or corrupt)`, 'the checkpoint is corrupt; restore it from a backup or retrain');
  }
  const groups: Record<string, ArrayGroup> = {};
  for (const e of manifest.arrays as unknown[]) {
    const x = e as Partial<ManifestEntry> | null;
    const label = x && typeof x === 'object' ? `${String(x.group)}/${String(x.name)}` : JSON.stringify(e);
    if (!x || typeof x !== 'object' || typeof x.group !== 'string' || typeof x.name !== 'string') throw corrupt(mf, `has a malformed array entry ${label}`);
    if (!Array.isArray(x.shape) || !x.shape.every(isDim)) throw corrupt(mf, `entry ${label} has shape ${JSON.stringify(x.shape)}, not a list of non-negative integers`);
    if (x.dtype !== 'float32' && x.dtype !== 'int32') throw corrupt(mf, `entry ${label} has dtype ${JSON.stringify(x.dtype)} (float32 or int32 expected)`);
    const n = x.shape.reduce((a, b) => a * b, 1);
    if (!isDim(x.byteOffset) || !isDim(x.byteLength) || x.byteOffset + x.byteLength > buf.byteLength || x.byteLength !== n * 4 || x.byteOffset % 4 !== 0) {
      throw corrupt(mf, `entry ${label} has an inconsistent byte range (shape ${describeShape(x.shape)}, bytes ${String(x.byteOffset)}+${String(x.byteLength)} of ${buf.byteLength})`);
    }
    if (groups[x.group]?.[x.name]) throw corrupt(mf, `lists ${label} twice`);
    const copy = buf.slice(x.byteOffset, x.byteOffset + x.byteLength).buffer;
    const data = x.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    (groups[x.group] ??= {})[x.name] = { shape: x.shape, dtype: x.dtype, data };
  }
  return { step: manifest.step, rng: manifest.rng, meta: manifest.meta, groups };
}

/** True when `dir` holds a checkpoint manifest (used to decide whether to resume); recovers an interrupted save first. */
export function hasCheckpoint(dir: string): boolean {
  recoverInterrupted(dir);
  return existsSync(path.join(dir, MANIFEST));
}
