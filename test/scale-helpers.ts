/** Shared by the scale-*.test.ts files: `paperlab worker` processes in their own process groups. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

export interface TestWorker {
  child: ChildProcess;
  log: () => string;
  /** SIGKILL to the whole group: the worker, its sandboxed processors and their children (a machine dying). */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT to the group (a frozen machine whose lock expires). */
  freeze(): void;
  thaw(): void;
}

export const workers = new Set<TestWorker>();

export async function spawnWorker(url: string, lockMs = 1500): Promise<TestWorker> {
  const child = spawn(process.execPath, [cli, 'worker', '--redis', url, '--concurrency', '1', '--lock-ms', String(lockMs)], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (/taking jobs/.test(out)) {
        clearInterval(t);
        resolve();
      }
    }, 50);
    child.once('exit', (c) => {
      clearInterval(t);
      reject(new Error(`worker exited with ${c}: ${out}`));
    });
  });
  const w: TestWorker = {
    child,
    log: () => out,
    kill: () =>
      new Promise((resolve) => {
        workers.delete(w);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          resolve();
        }
      }),
    freeze: () => process.kill(-child.pid!, 'SIGSTOP'),
    thaw: () => process.kill(-child.pid!, 'SIGCONT'),
  };
  workers.add(w);
  return w;
}

export async function killAllWorkers(): Promise<void> {
  await Promise.all([...workers].map((w) => w.kill()));
}
