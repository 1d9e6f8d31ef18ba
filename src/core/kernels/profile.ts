/**
 * Where the time goes: wraps every kernel registered for the cpu backend with a timer and counts
 * calls and milliseconds by kernel name (nested calls a kernel makes directly are inside its time).
 *
 * ```ts
 * const stop = startKernelProfile();
 * step();
 * console.table(stop());   // [{ kernel, calls, ms }], slowest first
 * ```
 */
import { tf } from '../tf.js';

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

let running: (() => KernelTime[]) | null = null;

/** Starts timing every cpu kernel; the returned function restores the kernels and returns the totals. */
export function startKernelProfile(backendName = 'cpu'): () => KernelTime[] {
  if (running) throw new Error('startKernelProfile: a profile is already running; call its stop function first');
  const totals = new Map<string, KernelTime>();
  const saved = tf.getKernelsForBackend(backendName).map((k) => ({ ...k }));
  for (const k of saved) {
    const name = k.kernelName;
    const inner = k.kernelFunc;
    const t: KernelTime = { kernel: name, calls: 0, ms: 0 };
    totals.set(name, t);
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
        const t0 = performance.now();
        try {
          return inner(args);
        } finally {
          t.ms += performance.now() - t0;
          t.calls++;
        }
      }) as tf.KernelFunc,
    });
  }
  const stop = (): KernelTime[] => {
    for (const k of saved) {
      if (tf.getKernel(k.kernelName, backendName)) tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
    running = null;
    return [...totals.values()].filter((t) => t.calls > 0).sort((a, b) => b.ms - a.ms);
  };
  running = stop;
  return stop;
}
