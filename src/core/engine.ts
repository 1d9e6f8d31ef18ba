/**
 * Engine set-up: picks the tfjs backend, installs the native kernels when they are available,
 * seeds the global RNG, and reports what it chose.
 */
import os from 'node:os';
import { tf } from './tf.js';
import { PaperlabError, checkOneOf } from './errors.js';
import { setGlobalSeed } from './rng.js';
import { loadAddon, type NativeStatus } from './native.js';
import { registerNativeKernels } from './kernels/index.js';

export const BACKENDS = ['auto', 'cpu', 'wasm', 'tensorflow'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface EngineOptions {
  /** 'auto' uses @tensorflow/tfjs-node if installed, else cpu (+ native kernels). Default 'auto'. */
  backend?: BackendChoice;
  /** Seed of the global RNG. Default 0. */
  seed?: number;
  /** Register native kernels over the cpu backend when the addon is built. Default true. */
  native?: boolean;
  /** Print the choice to stderr. Default false. */
  verbose?: boolean;
  /**
   * Threads of the native kernels' pool. Default: the PAPERLAB_THREADS environment variable, else one
   * per core. `paperlab sweep` runs one thread per seed process so parallel seeds do not oversubscribe.
   */
  threads?: number;
}

export interface EngineInfo {
  backend: string;
  requested: BackendChoice;
  tfjsVersion: string;
  nodeVersion: string;
  threads: number;
  native: NativeStatus;
  seed: number;
}

let current: EngineInfo | undefined;

async function tryImport(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}

/** The thread count asked for by the option or PAPERLAB_THREADS, or undefined for the addon's default. */
function requestedThreads(opt: number | undefined): number | undefined {
  const env = process.env.PAPERLAB_THREADS;
  const v = opt ?? (env === undefined || env === '' ? undefined : Number(env));
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 1 || v > 64) {
    const what = opt === undefined ? `PAPERLAB_THREADS=${env}` : `threads: ${String(opt)}`;
    throw new PaperlabError('threads', `${what} is not a whole number from 1 to 64`, 'pass e.g. threads: 1 (or unset PAPERLAB_THREADS for one thread per core)');
  }
  return v;
}

function nativeStatusFor(backend: string, want: boolean, threadsWanted: number | undefined): NativeStatus {
  if (backend !== 'cpu') return { active: false, kernels: [], message: `native kernels not used (backend is ${backend})` };
  if (!want) return { active: false, kernels: [], message: 'native kernels not requested (native: false)' };
  const { addon, reason } = loadAddon();
  if (!addon) return { active: false, kernels: [], message: reason };
  const kernels = registerNativeKernels(addon);
  const info = addon as { blasInfo?: () => string; numThreads?: () => number; setThreads?: (n: number) => number };
  if (threadsWanted !== undefined && typeof info.setThreads === 'function') info.setThreads(threadsWanted);
  const blas = typeof info.blasInfo === 'function' ? info.blasInfo() : undefined;
  const threads = typeof info.numThreads === 'function' ? info.numThreads() : undefined;
  if (kernels.length === 0) return { active: false, kernels, blas, threads, message: 'native addon loaded but registers no kernels yet' };
  return { active: true, kernels, blas, threads, message: `native kernels active: ${kernels.length} kernels over ${blas ?? 'BLAS'}` };
}

/**
 * Sets up TensorFlow.js for paperlab. Safe to call more than once (the last call wins).
 *
 * ```ts
 * const info = await initEngine({ seed: 1 });
 * console.log(info.backend, info.native.message);
 * ```
 */
export async function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const requested = opts.backend ?? 'auto';
  checkOneOf(requested, BACKENDS, 'backend');
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new PaperlabError('seed', `expected an integer, got ${String(seed)}`, 'pass a whole number such as --seed 0');
  const threadsWanted = requestedThreads(opts.threads);
  // Production mode silences tfjs's "install tfjs-node" banner and skips per-op debug checks;
  // paperlab checks NaN/Inf itself where it matters (losses, inputs).
  tf.enableProdMode();

  let backend: string;
  if (requested === 'tensorflow' || requested === 'auto') {
    const hasNode = await tryImport('@tensorflow/tfjs-node');
    if (hasNode) backend = 'tensorflow';
    else if (requested === 'tensorflow') {
      throw new PaperlabError('backend', "'tensorflow' needs @tensorflow/tfjs-node, which is not installed", "run `npm install @tensorflow/tfjs-node` (needs network access to download libtensorflow) or use --backend cpu");
    } else backend = 'cpu';
  } else if (requested === 'wasm') {
    const hasWasm = await tryImport('@tensorflow/tfjs-backend-wasm');
    if (!hasWasm) throw new PaperlabError('backend', "'wasm' needs @tensorflow/tfjs-backend-wasm, which is not installed", 'run `npm install @tensorflow/tfjs-backend-wasm` or use --backend cpu');
    backend = 'wasm';
  } else backend = 'cpu';

  const ok = await tf.setBackend(backend);
  if (!ok) throw new PaperlabError('backend', `tfjs could not initialise the '${backend}' backend`, 'use --backend cpu');
  await tf.ready();

  setGlobalSeed(seed);
  const native = nativeStatusFor(backend, opts.native ?? true, threadsWanted);
  current = {
    backend,
    requested,
    tfjsVersion: tf.version.tfjs,
    nodeVersion: process.version,
    threads: native.threads ?? os.availableParallelism(),
    native,
    seed,
  };
  if (opts.verbose) process.stderr.write(`paperlab: backend ${backend}; ${native.message}\n`);
  return current;
}

/** What the last initEngine call chose, or undefined before the first call. */
export function engineInfo(): EngineInfo | undefined {
  return current;
}
