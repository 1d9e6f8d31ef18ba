/**
 * Fault suite (b): corrupt and hostile checkpoints. Every corruption — truncated or extended
 * tensors.bin, flipped bytes, broken or wrong-typed manifest JSON, edited shapes, another model
 * configuration — gives a PaperlabError naming the file or directory, and leaves every byte on disk
 * as it was (a failed resume overwrites nothing). Plus the crash states a kill -9 can leave behind
 * (between the two renames of a save, a half-written temporary directory), a --out that holds
 * other files, and an --out whose parent is not writable.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../../src/core/engine.js';
import { PaperlabError } from '../../src/core/errors.js';
import { tf } from '../../src/core/tf.js';
import { assignGroup, checkCheckpointTarget, hasCheckpoint, loadCheckpoint, saveCheckpoint } from '../../src/core/checkpoint.js';
import { loadGPT, trainGPT, type GPTTrainOptions } from '../../src/gpt/trainer.js';

before(async () => {
  process.env.PAPERLAB_QUIET = '1';
  await initEngine({ backend: 'cpu', seed: 0 });
});

const TEXT = 'the cat sat on the mat. the dog sat on the log.\n'.repeat(6);
const VAL = 'the cat met the dog.\n'.repeat(4);
const data = { trainText: TEXT, valText: VAL, name: 'toy' };
const common: GPTTrainOptions = {
  steps: 4, seed: 1, data, quiet: true,
  overrides: { batchSize: 2, warmupSteps: 1, evalEvery: 4, evalIters: 1, checkpointEvery: 2, model: { nLayer: 2, nHead: 1, nEmbd: 8, blockSize: 8 } },
};
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'paperlab-faults-'));

/** Every file under root (names and SHA-256), to prove a failed load changed nothing. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

let pristine: string; // a finished 2-step checkpoint of a 2-layer model, copied for each case
before(async () => {
  pristine = path.join(tmp(), 'ck');
  const r = await trainGPT({ ...common, out: pristine, stopAt: 2 });
  r.model.dispose();
});

/** Copies the pristine checkpoint, corrupts it, and checks that resume and loadGPT both fail cleanly. */
async function expectRefused(name: string, corrupt: (dir: string) => void, message: RegExp): Promise<void> {
  const root = tmp();
  const dir = path.join(root, 'ck');
  cpSync(pristine, dir, { recursive: true });
  corrupt(dir);
  const before = snapshot(root);
  const isClear = (e: unknown): boolean => {
    assert.ok(e instanceof PaperlabError, `${name}: expected a PaperlabError, got ${String(e)}`);
    assert.match(e.message, message, name);
    assert.ok(e.message.includes(dir), `${name}: the error should name ${dir}: ${e.message}`);
    return true;
  };
  await assert.rejects(trainGPT({ ...common, out: dir, resume: true }), isClear);
  await assert.rejects(loadGPT(dir), isClear);
  assert.deepEqual(snapshot(root), before, `${name}: nothing on disk may change`);
}

const editManifest = (dir: string, f: (m: Record<string, unknown>) => void): void => {
  const file = path.join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  f(m);
  writeFileSync(file, JSON.stringify(m));
};
type Entry = { group: string; name: string; shape: number[]; dtype: string; byteOffset: number; byteLength: number };
const entries = (m: Record<string, unknown>): Entry[] => m.arrays as Entry[];
/** Sets a model field in both places a GPT checkpoint records it (the train config and the resolved model config). */
const setModel = (m: Record<string, unknown>, key: string, value: number): void => {
  const meta = m.meta as { modelConfig: Record<string, unknown>; config: { model: Record<string, unknown> } };
  meta.modelConfig[key] = value;
  meta.config.model[key] = value;
};

test('truncated, extended and empty tensors.bin', async () => {
  const bin = (dir: string): string => path.join(dir, 'tensors.bin');
  await expectRefused('truncated by half', (d) => writeFileSync(bin(d), readFileSync(bin(d)).subarray(0, 1000)), /tensors\.bin has 1000 bytes but the manifest says \d+ \(truncated\?\)/);
  await expectRefused('empty', (d) => writeFileSync(bin(d), ''), /has 0 bytes/);
  await expectRefused('one byte appended', (d) => writeFileSync(bin(d), Buffer.concat([readFileSync(bin(d)), Buffer.from([0])])), /bytes but the manifest says/);
  await expectRefused('missing', (d) => rmSync(bin(d)), /lacks manifest\.json or tensors\.bin/);
});

test('flipped bytes in tensors.bin and manifest.json', async () => {
  for (const at of [0, 4097, -1]) {
    await expectRefused(`tensors.bin byte ${at} flipped`, (d) => {
      const b = readFileSync(path.join(d, 'tensors.bin'));
      b[at < 0 ? b.length + at : at] ^= 0x40;
      writeFileSync(path.join(d, 'tensors.bin'), b);
    }, /does not match its SHA-256 checksum/);
  }
  await expectRefused('manifest.json truncated', (d) => writeFileSync(path.join(d, 'manifest.json'), readFileSync(path.join(d, 'manifest.json')).subarray(0, 200)), /manifest\.json is not valid JSON/);
  await expectRefused('manifest.json binary garbage', (d) => writeFileSync(path.join(d, 'manifest.json'), Buffer.from([0xff, 0xfe, 0, 1, 2])), /not valid JSON/);
});

test('valid JSON of the wrong shape or types in the manifest', async () => {
  const cases: Array<[string, (m: Record<string, unknown>) => void, RegExp]> = [
    ['manifest is an array', (m) => { for (const k of Object.keys(m)) delete m[k]; }, /not a paperlab checkpoint manifest/],
    ['arrays is an object', (m) => { m.arrays = { a: 1 }; }, /not a paperlab checkpoint manifest/],
    ['negative step', (m) => { m.step = -3; }, /has step -3/],
    ['fractional step', (m) => { m.step = 1.5; }, /has step 1\.5/],
    ['byteLength a string', (m) => { m.byteLength = '12'; }, /byteLength or sha256/],
    ['entry is null', (m) => { entries(m)[0] = null as unknown as Entry; }, /malformed array entry/],
    ['shape is a string', (m) => { entries(m)[0]!.shape = 'abc' as unknown as number[]; }, /has shape "abc"/],
    ['negative dimension', (m) => { entries(m)[0]!.shape = [-2, -4]; }, /not a list of non-negative integers/],
    ['dtype float64', (m) => { entries(m)[0]!.dtype = 'float64'; }, /dtype "float64"/],
    ['byte range past the end', (m) => { entries(m)[1]!.byteOffset = 1e12; }, /inconsistent byte range/],
    ['shape larger than its bytes', (m) => { entries(m)[0]!.shape = [1e6, 1e6]; }, /inconsistent byte range/],
    ['entry listed twice', (m) => { entries(m).push({ ...entries(m)[0]! }); }, /lists .* twice/],
  ];
  for (const [name, f, re] of cases) await expectRefused(name, (d) => editManifest(d, f), re);
});

test('consistent bytes but another shape or configuration than the model', async () => {
  await expectRefused('wte reshaped (same bytes)', (d) => editManifest(d, (m) => {
    const e = entries(m).find((x) => x.name === 'wte')!;
    e.shape = [e.shape[1]!, e.shape[0]!];
  }), /array 'wte' has shape/);
  await expectRefused('meta says 3 layers, weights have 2', (d) => editManifest(d, (m) => setModel(m, 'nLayer', 3)), /has no array for variable 'h\.2\./);
  // Before the fix this loaded silently: a 1-layer model took the first layer of the 2-layer weights.
  await expectRefused('meta says 1 layer, weights have 2', (d) => editManifest(d, (m) => setModel(m, 'nLayer', 1)), /array\(s\) the model does not have \(h\.1\./);
  await expectRefused('meta says nEmbd 16', (d) => editManifest(d, (m) => setModel(m, 'nEmbd', 16)), /has shape .* but the model expects/);
  await expectRefused('not a GPT checkpoint', (d) => editManifest(d, (m) => { delete m.meta; }), /is not a GPT checkpoint/);
});

test('assignGroup checks every array (names, shapes, dtypes) before assigning any', () => {
  const a = tf.variable(tf.zeros([2]));
  const b = tf.variable(tf.zeros([2]));
  const ok = { shape: [2], dtype: 'float32' as const, data: new Float32Array([1, 2]) };
  assert.throws(() => assignGroup({ a: ok, b: { shape: [2], dtype: 'int32', data: new Int32Array([1, 2]) } }, { a, b }), /array 'b' is int32 but the model's variable is float32/);
  assert.deepEqual(Array.from(a.dataSync()), [0, 0], 'nothing assigned when any array is wrong');
  assert.throws(() => assignGroup({ a: ok, b: ok, c: ok }, { a, b }), /holds 1 array\(s\) the model does not have \(c\)/);
  assert.deepEqual(Array.from(a.dataSync()), [0, 0]);
  tf.dispose([a, b]);
});

const arr = (v: number): { shape: number[]; dtype: 'float32'; data: Float32Array } => ({ shape: [1], dtype: 'float32', data: new Float32Array([v]) });

test('a kill between the two renames of a save (no DIR, complete DIR.old-* and DIR.tmp-*) is recovered, newest first', async () => {
  const root = tmp();
  const dir = path.join(root, 'ck');
  await saveCheckpoint(dir, { step: 3, groups: { w: { x: arr(3) } } });
  const newer = path.join(root, 'staging');
  await saveCheckpoint(newer, { step: 4, groups: { w: { x: arr(4) } } });
  renameSync(dir, `${dir}.old-1-aaaa`); // what saveCheckpoint's first rename did before the kill
  renameSync(newer, `${dir}.tmp-1-bbbb`); // the complete new checkpoint it was about to move in
  mkdirSync(`${dir}.tmp-2-cccc`); // and a half-written one from an earlier kill
  writeFileSync(path.join(`${dir}.tmp-2-cccc`, 'tensors.bin'), 'xx');
  assert.ok(hasCheckpoint(dir), 'before the fix: "holds no checkpoint" although both copies exist');
  const c = await loadCheckpoint(dir);
  assert.equal(c.step, 4);
  assert.equal(c.groups.w!.x!.data[0], 4);
  await saveCheckpoint(dir, { step: 5, groups: { w: { x: arr(5) } } });
  assert.deepEqual(readdirSync(root).sort(), ['ck'], 'a successful save removes what killed saves left behind');

  // Only the old copy survived (kill after the first rename, tmp incomplete): the previous step comes back.
  renameSync(dir, `${dir}.old-3-dddd`);
  mkdirSync(`${dir}.tmp-3-eeee`);
  assert.equal((await loadCheckpoint(dir)).step, 5);
});

test('an --out holding other files is refused before training (saving used to rename it aside and delete it)', async () => {
  const root = tmp();
  const dir = path.join(root, 'mywork');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'notes.txt'), 'precious');
  await assert.rejects(saveCheckpoint(dir, { step: 1, groups: { w: { x: arr(1) } } }), (e: unknown) => e instanceof PaperlabError && /is not empty and is not a paperlab checkpoint \(holds notes\.txt\)/.test(e.message));
  await assert.rejects(trainGPT({ ...common, out: dir }), (e: unknown) => e instanceof PaperlabError && e.argument === 'out' && /notes\.txt/.test(e.message));
  assert.equal(readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'precious');
  assert.deepEqual(readdirSync(root), ['mywork']);
  // An empty directory and a file in the way.
  mkdirSync(path.join(root, 'empty'));
  await saveCheckpoint(path.join(root, 'empty'), { step: 1, groups: { w: { x: arr(1) } } });
  assert.equal((await loadCheckpoint(path.join(root, 'empty'))).step, 1);
  writeFileSync(path.join(root, 'file'), 'x');
  assert.throws(() => checkCheckpointTarget(path.join(root, 'file'), 'out'), /is a file, not a checkpoint directory/);
  assert.throws(() => checkCheckpointTarget(path.join(root, 'file', 'ck'), 'out'), (e: unknown) => e instanceof PaperlabError && /is a file, not a directory/.test(e.message));
});

test('a read-only --out parent is refused by `paperlab train gpt` before training starts', (t) => {
  const root = tmp();
  const ro = path.join(root, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  chmodSync(root, 0o755);
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
  // root ignores permission bits: run the CLI as `nobody` then, so the directory is really read-only to it.
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  // A checkout under a private folder (e.g. mktemp -d, mode 700) cannot be run by `nobody` at all.
  const reach = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(cli)}, require('fs').constants.R_OK)`], { ...asUser, cwd: '/' });
  if (reach.status !== 0) return t.skip(`the checkout is not readable by uid 65534 (nobody), which this check needs as root`);
  const r = spawnSync(process.execPath, [cli, 'train', 'gpt', '--steps', '2', '--out', path.join(ro, 'ck')], {
    encoding: 'utf8', timeout: 60_000, ...asUser, env: { ...process.env, HOME: root, PAPERLAB_QUIET: '1' },
  });
  assert.equal(r.status, 1, `exit status (stderr: ${r.stderr})`);
  assert.match(r.stderr, /out: cannot write a checkpoint to .*ro\/ck: .*ro is not writable \(EACCES/);
  assert.doesNotMatch(r.stderr, /parameters|step 1/, 'nothing was trained');
  assert.ok(!existsSync(path.join(ro, 'ck')));
});
