/**
 * The fallback path: with PAPERLAB_NATIVE=0 paperlab must run on tfjs's own kernels, say so in one
 * line, and pass the same kernel and op checks. Runs them in a child process (the addon, once
 * loaded, cannot be unloaded from this one).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// NODE_TEST_CONTEXT would make the nested `node --test` report to this runner instead of stdout
const { NODE_TEST_CONTEXT: _ctx, ...inherited } = process.env;
const env = { ...inherited, PAPERLAB_NATIVE: '0', PAPERLAB_QUIET: '1' };

describe('fallback with PAPERLAB_NATIVE=0', () => {
  it('the engine reports the fallback and its fix in one line', () => {
    const engineJs = path.join(here, '..', 'src', 'core', 'engine.js');
    const script = `const { initEngine } = await import(${JSON.stringify(engineJs)}); const e = await initEngine({ backend: 'cpu' }); process.stdout.write(JSON.stringify(e.native));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const native = JSON.parse(r.stdout) as { active: boolean; message: string; kernels: string[] };
    assert.equal(native.active, false);
    assert.deepEqual(native.kernels, []);
    assert.match(native.message, /PAPERLAB_NATIVE=0/);
    assert.ok(!native.message.includes('\n'));
  });
  it('kernel and op checks pass on tfjs kernels', () => {
    const files = ['native-kernels.test.js', 'native-ops.test.js'].map((f) => path.join(here, f));
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    const tail = (r.stdout + r.stderr).split('\n').filter((l) => /^# (pass|fail|skipped)|^not ok/.test(l.trim()));
    assert.equal(r.status, 0, `child run failed:\n${tail.join('\n')}`);
    assert.match(r.stdout, /# fail 0/);
  });
});
