#!/usr/bin/env node
// Builds the addon once under AddressSanitizer into native/build-asan/paperlab_native.node (a
// debugging build: -O1 -g, never loaded unless PAPERLAB_NATIVE_ADDON points at it).
// Run the native tests under it with `npm run test:asan` (see docs/native.md): node itself is not
// instrumented, so libasan must be preloaded and leak detection (node's own allocations) turned off.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'build-asan', 'paperlab_native.node');
const cxx = process.env.CXX || 'g++';
const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout.trim();
};
const blas = sh('pkg-config', ['--cflags', '--libs', 'openblas']).split(/\s+/).filter(Boolean);
const napi = path.resolve(createRequire(import.meta.url).resolve('node-addon-api/package.json'), '..');
const nodeInc = ['/usr/include/node', path.join(path.dirname(process.execPath), '..', 'include', 'node')];
const sources = readdirSync(path.join(here, 'src')).filter((f) => f.endsWith('.cc')).map((f) => path.join(here, 'src', f));
mkdirSync(path.dirname(out), { recursive: true });
const args = [
  '-shared', '-fPIC', '-std=c++17', '-O1', '-g', '-fsanitize=address', '-fno-omit-frame-pointer', '-fexceptions',
  '-march=native', '-fno-math-errno', '-fno-trapping-math', '-fopenmp-simd',
  '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_CPP_EXCEPTIONS_ALL',
  `-I${napi}`, ...nodeInc.map((d) => `-I${d}`), ...sources, ...blas, '-pthread', '-o', out,
];
process.stderr.write(`paperlab native (asan): ${cxx} … -fsanitize=address → ${path.relative(process.cwd(), out)}\n`);
const r = spawnSync(cxx, args, { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
process.stderr.write(`paperlab native (asan): built. libasan: ${sh(cxx, ['-print-file-name=libasan.so'])}\n`);
