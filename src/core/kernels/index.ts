/**
 * Registers the native kernels over tfjs's cpu backend. Filled in by the native-kernels work;
 * until then no kernel is replaced and tfjs's own kernels run.
 */
export function registerNativeKernels(_addon: unknown): string[] {
  return [];
}

/** Restores tfjs's original kernels (used by tests that compare both paths in one process). */
export function unregisterNativeKernels(): void {}
