#!/usr/bin/env node
// Builds the optional N-API addon (native/binding.gyp) during `npm ci`. Never fails the install:
// without OpenBLAS or a compiler paperlab runs on tfjs's own kernels, and `paperlab info` says how
// to get the fast path.
//
// Environment: PAPERLAB_SKIP_NATIVE_BUILD=1 skips the build; PAPERLAB_NATIVE_MARCH overrides the
// -march flag (default `native`: the addon is built on the machine that runs it).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const say = (m) => process.stderr.write(`paperlab native: ${m}\n`);
const addon = path.join(here, 'build', 'Release', 'paperlab_native.node');

if (process.env.PAPERLAB_SKIP_NATIVE_BUILD === '1') {
  say('build skipped (PAPERLAB_SKIP_NATIVE_BUILD=1)');
  process.exit(0);
}
if (!existsSync(path.join(here, 'binding.gyp'))) {
  say('no binding.gyp; nothing to build');
  process.exit(0);
}
const pc = spawnSync('pkg-config', ['--exists', 'openblas']);
if (pc.error || pc.status !== 0) {
  say('OpenBLAS not found (pkg-config openblas). Falling back to tfjs kernels. Fix: apt-get install -y libopenblas-dev pkg-config, then `node native/build.mjs`');
  process.exit(0);
}
const cxx = process.env.CXX || 'c++';
const cc = spawnSync(cxx, ['--version']);
if (cc.error || cc.status !== 0) {
  say(`no C++ compiler (${cxx}). Falling back to tfjs kernels. Fix: apt-get install -y g++ make python3, then \`node native/build.mjs\``);
  process.exit(0);
}

// node-gyp: npm names its bundled copy in lifecycle scripts; outside npm, look next to npm or on PATH.
const candidates = [];
const gypJs = (p) => p && existsSync(p) && candidates.push([process.execPath, [p]]);
gypJs(process.env.npm_config_node_gyp);
if (process.env.npm_execpath) gypJs(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
for (const prefix of [path.join(path.dirname(process.execPath), '..', 'lib'), '/usr/lib', '/usr/local/lib', '/usr/share/nodejs']) {
  gypJs(path.join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
}
candidates.push(['node-gyp', []]);

const args = ['rebuild', '--release', '--jobs', String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length))];
if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');

function loads() {
  const r = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); process.stdout.write(a.blasInfo() + ', ' + a.numThreads() + ' threads')`], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true, text: r.stdout } : { ok: false, text: (r.stderr || '').split('\n').find((l) => l.trim()) ?? `exit ${r.status}` };
}

for (const [cmd, pre] of candidates) {
  let r = spawnSync(cmd, [...pre, ...args], { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error && r.error.code === 'ENOENT') continue;
  if (r.status !== 0 && !process.env.PAPERLAB_NATIVE_MARCH) {
    say('build with -march=native failed; retrying with -march=x86-64-v3');
    r = spawnSync(cmd, [...pre, ...args], { cwd: here, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PAPERLAB_NATIVE_MARCH: 'x86-64-v3' } });
  }
  if (r.status === 0) {
    const l = loads();
    if (l.ok) {
      say(`built native/build/Release/paperlab_native.node (${l.text})`);
    } else {
      rmSync(addon, { force: true });
      say(`built the addon but it does not load (${l.text}); removed it. Falling back to tfjs kernels. Fix: apt-get install -y libopenblas0, then \`node native/build.mjs\``);
    }
    process.exit(0);
  }
  say(`build failed (exit ${r.status}). Falling back to tfjs kernels. Fix the compiler errors above, then \`node native/build.mjs\``);
  process.exit(0);
}
say('node-gyp not found. Falling back to tfjs kernels. Fix: npm install -g node-gyp, then `node native/build.mjs`');
