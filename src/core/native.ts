/**
 * Loader for the optional N-API addon (native/). The addon is built by `npm ci` when OpenBLAS and a
 * compiler are present; everything works without it, only slower. `PAPERLAB_NATIVE=0` forces the
 * fallback (tests run both paths).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { asAddon } from './kernels/addon.js';

export interface NativeStatus {
  /** true when the addon loaded and its kernels are registered over the cpu backend. */
  active: boolean;
  /** One line: what is active, or why not and how to fix it. */
  message: string;
  /** Kernel names registered natively. */
  kernels: string[];
  /** BLAS library description reported by the addon, if loaded. */
  blas?: string;
  threads?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root, from either src/core (ts-node) or dist/src/core (compiled). */
export const packageRoot = [path.resolve(here, '../..'), path.resolve(here, '../../..')].find((p) =>
  existsSync(path.join(p, 'package.json')),
) ?? path.resolve(here, '../../..');

/** The built addon; PAPERLAB_NATIVE_ADDON=FILE loads another build (e.g. native/build-asan's, see docs/native.md). */
export const addonPath = process.env.PAPERLAB_NATIVE_ADDON
  ? path.resolve(process.env.PAPERLAB_NATIVE_ADDON)
  : path.join(packageRoot, 'native', 'build', 'Release', 'paperlab_native.node');

/** The raw addon module, or null with a reason. Loaded at most once. */
let cached: { addon: unknown; reason: string } | undefined;
export function loadAddon(): { addon: unknown; reason: string } {
  if (cached) return cached;
  if (process.env.PAPERLAB_NATIVE === '0') {
    cached = { addon: null, reason: 'native kernels disabled by PAPERLAB_NATIVE=0 (unset it to use them)' };
  } else if (!existsSync(addonPath)) {
    cached = {
      addon: null,
      reason:
        'native kernels not built — install OpenBLAS and a compiler (apt-get install -y libopenblas-dev g++ make python3), then run `npm rebuild paperlab` or `node native/build.mjs`',
    };
  } else {
    try {
      const require = createRequire(import.meta.url);
      const mod = require(addonPath) as unknown;
      cached = asAddon(mod)
        ? { addon: mod, reason: '' }
        : { addon: null, reason: 'native addon is out of date (built by an older paperlab); rebuild it with `node native/build.mjs`' };
    } catch (e) {
      cached = { addon: null, reason: `native addon failed to load (${(e as Error).message.split('\n')[0]}); rebuild it with \`node native/build.mjs\`` };
    }
  }
  return cached;
}
