#!/usr/bin/env node
// Builds the optional N-API addon (native/binding.gyp) during `npm ci`. Never fails the install:
// without OpenBLAS or a compiler paperlab runs on tfjs's own kernels, and `paperlab info` says how
// to get the fast path.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const say = (m) => process.stderr.write(`paperlab native: ${m}\n`);

if (process.env.PAPERLAB_SKIP_NATIVE_BUILD === '1') {
  say('build skipped (PAPERLAB_SKIP_NATIVE_BUILD=1)');
  process.exit(0);
}
if (!existsSync(path.join(here, 'binding.gyp'))) {
  say('no binding.gyp; nothing to build');
  process.exit(0);
}
const pc = spawnSync('pkg-config', ['--exists', 'openblas']);
if (pc.status !== 0) {
  say('OpenBLAS not found (pkg-config openblas). Falling back to tfjs kernels. Fix: apt-get install -y libopenblas-dev, then `node native/build.mjs`');
  process.exit(0);
}
// npm puts its bundled node-gyp on PATH for lifecycle scripts; outside npm, use npm's copy.
const candidates = [['node-gyp', []]];
const npmExec = process.env.npm_execpath;
if (npmExec) candidates.push([process.execPath, [path.join(path.dirname(npmExec), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')]]);
candidates.push(['npx', ['--no-install', 'node-gyp']]);
const args = ['rebuild', '--release'];
if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
for (const [cmd, pre] of candidates) {
  const r = spawnSync(cmd, [...pre, ...args], { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error && r.error.code === 'ENOENT') continue;
  if (r.status === 0) {
    say('built native/build/Release/paperlab_native.node');
    process.exit(0);
  }
  say(`build failed (exit ${r.status}). Falling back to tfjs kernels. Fix the compiler errors above, then \`node native/build.mjs\``);
  process.exit(0);
}
say('node-gyp not found. Falling back to tfjs kernels. Fix: npm install -g node-gyp, then `node native/build.mjs`');
