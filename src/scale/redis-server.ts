/**
 * A throwaway local redis-server on loopback and a free port, for tests and benchmarks: no
 * persistence, stopped (and waited for) by `stop()`. Needs Debian's redis-server on PATH.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { PaperlabError } from '../core/errors.js';

export interface LocalRedis {
  port: number;
  url: string;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and starts a fresh, empty one on the same port (a restart that lost everything). */
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new PaperlabError('redis-server', `did not start on port ${port}: ${out.slice(-300)}`, 'check that redis-server runs (apt-get install redis-server)')), 10_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (/Ready to accept connections/i.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('error', (e) => {
      clearTimeout(t);
      reject(new PaperlabError('redis-server', `could not be started (${e.message})`, 'install it: apt-get install redis-server'));
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new PaperlabError('redis-server', `exited with code ${code}: ${out.slice(-300)}`, 'check the port is free'));
    });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export async function startRedis(): Promise<LocalRedis> {
  const port = await freePort();
  let child = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => kill(child),
    async restart() {
      await kill(child);
      child = await launch(port);
    },
  };
}
