/**
 * Fault suite (a), heavy (runs under `npm run test:faults`, skipped in `npm test`): `paperlab train
 * gpt` is killed with SIGKILL again and again — during checkpoint writes (the moment a DIR.tmp-*
 * appears, plus a random few ms), at random moments between checkpoints, before the first
 * checkpoint — and resumed each time; the final checkpoint must equal an uninterrupted run's bit for
 * bit (the same tensors.bin SHA-256 and the same manifest, losses and evaluations included). Also:
 * a missing checkpoint folder on --resume fails before training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/rng.js';

const HEAVY = process.env.PAPERLAB_FAULTS === '1';
const skip = HEAVY ? false : 'heavy: run `npm run test:faults`';
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const STEPS = 10;
const args = (out: string, resume: boolean): string[] => [
  cli, 'train', 'gpt', '--steps', String(STEPS), '--batch-size', '2', '--eval-every', '5', '--checkpoint-every', '1', '--seed', '3', '--out', out,
  ...(resume ? ['--resume'] : []),
];
const env = { ...process.env, PAPERLAB_QUIET: '1' };

const manifest = (dir: string): unknown => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

type Kill = 'during-write' | 'random' | 'early';

/** Runs the CLI once; kills it as `kill` says. Returns the exit code (null when killed). */
function runOnce(out: string, resume: boolean, kill: Kill | null, rng: Rng): Promise<{ code: number | null; stderr: string; killedDuringWrite: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args(out, resume), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let killedDuringWrite = false;
    let timer: NodeJS.Timeout | undefined;
    const root = path.dirname(out);
    const base = path.basename(out);
    const seen = new Set<string>();
    const tmps = (): string[] => readdirSync(root).filter((n) => n.startsWith(`${base}.tmp-`));
    const before = new Set(tmps()); // leftovers of earlier kills do not count
    if (kill === 'during-write') {
      // Kill inside the n-th checkpoint write of this invocation (n = 1…3), a few ms after it began.
      const nth = 1 + rng.int(3);
      const poll = (): void => {
        for (const n of tmps()) if (!before.has(n)) seen.add(n);
        if (seen.size >= nth) {
          timer = setTimeout(() => {
            killedDuringWrite = readdirSync(root).some((n) => (n.startsWith(`${base}.tmp-`) && !before.has(n)) || n.startsWith(`${base}.old-`));
            child.kill('SIGKILL');
          }, rng.int(25));
        } else timer = setTimeout(poll, 1);
      };
      poll();
    } else if (kill === 'random') {
      // A random moment once this invocation has started stepping (its first new checkpoint exists).
      const wait = (): void => {
        for (const n of tmps()) if (!before.has(n)) seen.add(n);
        if (seen.size >= 1) timer = setTimeout(() => child.kill('SIGKILL'), rng.int(1500));
        else timer = setTimeout(wait, 5);
      };
      wait();
    } else if (kill === 'early') {
      timer = setTimeout(() => child.kill('SIGKILL'), 200 + rng.int(1500));
    }
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stderr, killedDuringWrite });
    });
  });
}

test('kill -9 at random moments (also mid-checkpoint), resume each time: the final checkpoint equals an uninterrupted run bit for bit', { skip, timeout: 480_000 }, async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'paperlab-kill-'));
  const ref = path.join(root, 'ref');
  const r = spawnSync(process.execPath, args(ref, false), { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);

  const out = path.join(root, 'killed');
  const rng = new Rng(2026);
  const plan: Kill[] = ['early', 'during-write', 'random', 'during-write', 'during-write', 'random', 'during-write', 'during-write'];
  const log: string[] = [];
  let duringWrite = 0;
  // What a user does: rerun with --resume; when there is nothing to resume yet, rerun without it.
  let resume = false;
  for (const kill of [...plan, null, null]) {
    let res = await runOnce(out, resume, kill, rng);
    if (res.code === 1 && /holds no checkpoint/.test(res.stderr)) {
      log.push(`  (nothing to resume yet: ${res.stderr.trim().split('\n').pop()})`);
      res = await runOnce(out, false, kill, rng);
    }
    if (res.killedDuringWrite) duringWrite++;
    const step = existsSync(path.join(out, 'manifest.json')) ? (manifest(out) as { step: number }).step : '-';
    log.push(`${kill ?? 'none'} (resume ${resume}): exit ${res.code}, checkpoint step ${step}, leftovers ${readdirSync(root).filter((n) => n.startsWith('killed.')).join(' ') || 'none'}`);
    if (res.code === 0) break;
    assert.equal(res.code, null, `only the kills may stop a run:\n${log.join('\n')}\n${res.stderr}`);
    resume = true;
  }
  process.stderr.write(`kill/resume sequence:\n  ${log.join('\n  ')}\n`);
  assert.ok(log[log.length - 1]!.includes('exit 0'), `the run never finished:\n${log.join('\n')}`);
  assert.ok(duringWrite >= 2, `only ${duringWrite} kills landed inside a checkpoint write`);
  const resumedFrom = log.filter((l) => /resume true\): exit (null|0), checkpoint step [1-9]/.test(l)).length;
  assert.ok(resumedFrom >= 3, `too few runs resumed from a real checkpoint:\n${log.join('\n')}`);
  assert.deepEqual(manifest(out), manifest(ref), 'same step, RNG state, losses, evaluations and tensors.bin SHA-256');
  assert.ok(readFileSync(path.join(out, 'tensors.bin')).equals(readFileSync(path.join(ref, 'tensors.bin'))), 'weights and optimizer state identical');
  assert.deepEqual(readdirSync(root).sort(), ['killed', 'ref'], 'no temporary directories left behind');
});

test('--resume with a missing checkpoint folder fails before training', { skip }, () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'paperlab-kill-'));
  const r = spawnSync(process.execPath, args(path.join(root, 'nothing-here'), true), { env, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /resume: .*nothing-here holds no checkpoint\. Fix: start a new run without --resume/);
  assert.doesNotMatch(r.stderr, /parameters/, 'no model was built');
  assert.deepEqual(readdirSync(root), []);
});
