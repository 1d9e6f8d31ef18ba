/** `paperlab worker`: takes sweep-seed and ES jobs from a Redis queue (BullMQ) until stopped. */
import { startWorker } from '../scale/worker.js';
import { UsageError, intOption, parse, strOption } from './args.js';
import type { Command } from './command.js';

export const worker: Command = {
  name: 'worker',
  summary: 'take sweep seeds and ES evaluations from a Redis queue (BullMQ) — run one per machine',
  usage:
    'Usage: paperlab worker --redis redis://HOST:PORT [--concurrency N] [--queue NAME] [--lock-ms MS]\n' +
    '  --concurrency jobs at once, each in its own sandboxed process (default 1)\n' +
    '  --queue       queue name (default paperlab)\n' +
    '  --lock-ms     a dead worker\'s job is retried elsewhere after about this long (default 30000)\n' +
    '  Stop with Ctrl-C / SIGTERM: running jobs finish first.',
  async run(argv) {
    const { values } = parse(argv, { redis: { type: 'string' }, concurrency: { type: 'string' }, queue: { type: 'string' }, 'lock-ms': { type: 'string' } }, this.usage, false);
    if (typeof values.redis !== 'string') throw new UsageError('--redis is required, e.g. --redis redis://127.0.0.1:6379', this.usage);
    const w = await startWorker({
      url: values.redis,
      concurrency: intOption(values.concurrency, 'concurrency', 1, 1),
      queue: strOption(values.queue, 'paperlab'),
      lockMs: intOption(values['lock-ms'], 'lock-ms', 30_000, 200),
    });
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.stderr.write(`[worker ${process.pid}] stopping after the running jobs\n`);
        void w.close().finally(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
