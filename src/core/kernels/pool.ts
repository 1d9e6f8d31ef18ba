/**
 * A recycling pool for the output buffers of the native kernels.
 *
 * Every op's output is a fresh Float32Array; V8 frees the old ones only at GC time, and the stream
 * of large ArrayBuffers makes it collect again and again ("external memory pressure"): a quarter
 * of a GPT training step went to the garbage collector. tfjs disposes tensors deterministically,
 * so a buffer can be handed to the next op of the same size as soon as its last tensor is gone —
 * provided nobody else can still see it. The pool therefore tracks, per ArrayBuffer it allocated:
 *
 *   - live: how many cpu-backend data entries hold it (views such as tfjs's zero-copy slices
 *     share the ArrayBuffer and count too);
 *   - exposed: whether its values ever left the backend (readSync/read, i.e. dataSync(), data(),
 *     arraySync(), bufferSync() …). An exposed buffer is never recycled, since user code may keep
 *     the typed array after disposing the tensor.
 *
 * Only buffers that are not live and never exposed go back to the free lists, up to a bound:
 * an eighth of the machine's memory, clamped to 1–4 GiB (PAPERLAB_POOL_MB sets it). The bound
 * matters for big tensors: glibc serves every allocation above 32 MiB with a fresh mmap, and fresh
 * pages are slow to fault in on a VM (here ~2–4 ms per MiB), so a 256 MiB attention score
 * tensor that misses the pool costs ~1 s. Measured: full attention forward+backward at n = 4096
 * (peak ~1 GiB) took 1.6 s with a 1 GiB bound and 0.4 s with 2 GiB or more.
 * PAPERLAB_POOL=0 turns the pool off.
 */
import os from 'node:os';
import type { CpuBackend } from './util.js';

interface Slot {
  arr: Float32Array;
  live: number;
  exposed: boolean;
  /** Install generation: slots of an earlier installation are no longer tracked (they are plain arrays). */
  gen: number;
}

type DataEntry = { values?: unknown };
interface DataStorageLike {
  set(dataId: object, entry: DataEntry): void;
  delete(dataId: object): boolean;
  has(dataId: object): boolean;
  get(dataId: object): DataEntry | undefined;
}
interface PatchableBackend {
  data: DataStorageLike;
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
}

/** Smallest pooled buffer (smaller ones are cheap to allocate and collect). */
const MIN_BYTES = 4096;

const slots = new WeakMap<ArrayBuffer, Slot>();
const free = new Map<number, Float32Array[]>();
let freeBytes = 0;
const GiB = 1024 * 1024 * 1024;
let maxFreeBytes = Math.min(4 * GiB, Math.max(1 * GiB, Math.floor(os.totalmem() / 8)));
let installed: { backend: PatchableBackend; restore: () => void } | null = null;
let generation = 0;

export const poolStats = { hits: 0, misses: 0, recycled: 0, dropped: 0, evicted: 0 };

function bufferOf(values: unknown): ArrayBuffer | null {
  if (values && ArrayBuffer.isView(values)) return (values as ArrayBufferView).buffer as ArrayBuffer;
  return null;
}

/**
 * Makes room for `bytes` by dropping free buffers of other sizes, least recently released size
 * first: when a workload moves on to new shapes, the old shapes' buffers must not keep the pool
 * full (otherwise every new large buffer would miss it for good).
 */
function evictFor(bytes: number, keep: number): void {
  for (const [len, list] of free) {
    if (freeBytes + bytes <= maxFreeBytes) return;
    if (len === keep) continue;
    while (list.length && freeBytes + bytes > maxFreeBytes) {
      const arr = list.pop()!;
      freeBytes -= arr.byteLength;
      slots.delete(arr.buffer as ArrayBuffer);
      poolStats.evicted++;
    }
    if (!list.length) free.delete(len);
  }
}

function release(slot: Slot): void {
  const bytes = slot.arr.byteLength;
  const len = slot.arr.length;
  if (freeBytes + bytes > maxFreeBytes) evictFor(bytes, len);
  if (freeBytes + bytes > maxFreeBytes) {
    slots.delete(slot.arr.buffer as ArrayBuffer);
    poolStats.dropped++;
    return;
  }
  // re-inserting the size moves it to the end of the map's order: the map runs from the least to
  // the most recently released size, which is the order evictFor drops them in
  let list = free.get(len);
  if (list) free.delete(len);
  else list = [];
  free.set(len, list);
  list.push(slot.arr);
  freeBytes += bytes;
  poolStats.recycled++;
}

/** A Float32Array of n elements with unspecified contents (the caller overwrites every element). */
export function allocPooled(n: number): Float32Array {
  if (n * 4 < MIN_BYTES) return new Float32Array(n);
  if (installed) {
    const list = free.get(n);
    const arr = list?.pop();
    if (arr) {
      freeBytes -= arr.byteLength;
      poolStats.hits++;
      return arr;
    }
    poolStats.misses++;
  }
  const buf = Buffer.allocUnsafeSlow(n * 4);
  const arr = new Float32Array(buf.buffer, buf.byteOffset, n);
  if (installed) slots.set(arr.buffer as ArrayBuffer, { arr, live: 0, exposed: false, gen: generation });
  return arr;
}

/** Returns a temporary from allocPooled that never became a tensor's data. */
export function freeTemp(arr: Float32Array): void {
  const slot = slots.get(arr.buffer as ArrayBuffer);
  if (installed && slot && slot.gen === generation && slot.live === 0 && !slot.exposed && slot.arr === arr) release(slot);
}

function slotOf(values: unknown): Slot | null {
  const b = bufferOf(values);
  if (!b) return null;
  const slot = slots.get(b);
  if (!slot) return null;
  if (slot.gen !== generation) {
    slots.delete(b);
    return null;
  }
  return slot;
}

function track(values: unknown, delta: 1 | -1): void {
  const slot = slotOf(values);
  if (!slot) return;
  slot.live += delta;
  if (slot.live <= 0) {
    slot.live = 0;
    if (!slot.exposed) release(slot);
    else slots.delete(slot.arr.buffer as ArrayBuffer);
  }
}

function expose(values: unknown): void {
  const slot = slotOf(values);
  if (slot) slot.exposed = true;
}

/** Hooks the pool into the cpu backend's data storage. Returns false if the backend looks different. */
export function installPool(backendIn: CpuBackend): boolean {
  if (installed || process.env.PAPERLAB_POOL === '0') return installed !== null;
  const backend = backendIn as unknown as PatchableBackend;
  const ds = backend?.data;
  if (!ds || typeof ds.set !== 'function' || typeof ds.delete !== 'function' || typeof ds.has !== 'function' || typeof backend.readSync !== 'function') {
    return false;
  }
  if (process.env.PAPERLAB_POOL_MB) {
    const mb = Number(process.env.PAPERLAB_POOL_MB);
    if (Number.isFinite(mb) && mb >= 0) maxFreeBytes = mb * (1 << 20);
  }
  const own = { set: Object.prototype.hasOwnProperty.call(ds, 'set'), delete: Object.prototype.hasOwnProperty.call(ds, 'delete') };
  const ownRead = { readSync: Object.prototype.hasOwnProperty.call(backend, 'readSync'), read: Object.prototype.hasOwnProperty.call(backend, 'read') };
  const origSet = ds.set;
  const origDelete = ds.delete;
  const origReadSync = backend.readSync;
  const origRead = backend.read;
  ds.set = function (dataId: object, entry: DataEntry): void {
    const old = ds.has(dataId) ? ds.get(dataId) : undefined;
    origSet.call(ds, dataId, entry);
    track(entry?.values, 1);
    if (old) track(old.values, -1);
  };
  ds.delete = function (dataId: object): boolean {
    const old = ds.has(dataId) ? ds.get(dataId) : undefined;
    const r = origDelete.call(ds, dataId);
    if (old) track(old.values, -1);
    return r;
  };
  backend.readSync = function (dataId: object): unknown {
    if (ds.has(dataId)) expose(ds.get(dataId)?.values);
    return origReadSync.call(backend, dataId);
  };
  backend.read = function (dataId: object): Promise<unknown> {
    if (ds.has(dataId)) expose(ds.get(dataId)?.values);
    return origRead.call(backend, dataId);
  };
  installed = {
    backend,
    restore: () => {
      const d = ds as unknown as Record<string, unknown>;
      const bk = backend as unknown as Record<string, unknown>;
      if (own.set) ds.set = origSet;
      else delete d.set;
      if (own.delete) ds.delete = origDelete;
      else delete d.delete;
      if (ownRead.readSync) backend.readSync = origReadSync;
      else delete bk.readSync;
      if (ownRead.read) backend.read = origRead;
      else delete bk.read;
    },
  };
  return true;
}

/**
 * Unhooks the pool and forgets the free lists. Buffers still held by tensors stay valid; since
 * nothing tracks them any more they are freed by GC like any other array.
 */
export function uninstallPool(): void {
  if (!installed) return;
  installed.restore();
  installed = null;
  generation++;
  free.clear();
  freeBytes = 0;
}

export function poolInstalled(): boolean {
  return installed !== null;
}

/**
 * Sets how many bytes of free buffers the pool may keep (its bound); returns the previous bound.
 * Lowering it takes effect as buffers come back. For workloads whose working set is known to be
 * larger than the default (e.g. attention-scaling, bounded by its memory budget).
 */
export function setPoolLimit(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`setPoolLimit: bytes must be a finite number ≥ 0, got ${bytes}`);
  const prev = maxFreeBytes;
  maxFreeBytes = bytes;
  return prev;
}

/** The pool's current bound in bytes. */
export function poolLimit(): number {
  return maxFreeBytes;
}

/** Bytes sitting in the free lists. */
export function pooledBytes(): number {
  return freeBytes;
}
