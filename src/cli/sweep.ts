/** `paperlab sweep`: one experiment over many seeds, in parallel processes, resumable, with intervals. */
import { experiments, findExperiment } from '../experiments/index.js';
import { LocalProcessRunner, parseSeeds, runSweep, type SeedRunner } from '../experiments/sweep.js';
import { RedisSeedRunner } from '../scale/seed-runner.js';
import { formatInterval } from '../core/stats.js';
import { PaperlabError } from '../core/errors.js';
import { UsageError, intOption, parse, strOption } from './args.js';
import { backendFrom } from './core-commands.js';
import type { Command } from './command.js';

export const sweep: Command = {
  name: 'sweep',
  summary: 'run an experiment over many seeds in parallel (resumable) → <out>/<name>/sweep.json with intervals',
  usage:
    'Usage: paperlab sweep <experiment> --seeds 0-9 [--quick] [--workers N] [--out DIR] [--backend B] [--redis URL] [--json]\n' +
    '  --seeds   a range and/or list, e.g. 0-9 or 0,2,5 (required)\n' +
    '  --workers seeds run at once, each in its own process (default: one per core)\n' +
    '  --redis   enqueue one job per seed on Redis (BullMQ) for `paperlab worker` processes instead\n' +
    '  Rerunning the same command skips seeds already written under <out>/<name>/seeds/.',
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { seeds: { type: 'string' }, quick: { type: 'boolean' }, workers: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, backend: { type: 'string' }, redis: { type: 'string' } },
      this.usage,
    );
    if (positionals.length !== 1) throw new UsageError('name exactly one experiment', this.usage);
    const exp = findExperiment(positionals[0]!);
    if (!exp) throw new UsageError(`unknown experiment '${positionals[0]}'; known: ${experiments.map((x) => x.name).join(', ')}`, this.usage);
    if (typeof values.seeds !== 'string') throw new UsageError('--seeds is required, e.g. --seeds 0-4', this.usage);
    let seeds: number[];
    try {
      seeds = parseSeeds(values.seeds);
    } catch (e) {
      throw new UsageError((e as PaperlabError).message, this.usage);
    }
    const workers = values.workers === undefined ? undefined : intOption(values.workers, 'workers', 1, 1);
    const backend = values.backend === undefined ? undefined : backendFrom(values.backend);
    const quick = Boolean(values.quick);
    const out = strOption(values.out, 'results');
    const command = ['paperlab sweep', exp.name, '--seeds', values.seeds, quick ? '--quick' : '', workers ? `--workers ${workers}` : '', values.out ? `--out ${out}` : '', typeof values.redis === 'string' ? '--redis URL' : '']
      .filter(Boolean)
      .join(' ');
    const runner: SeedRunner =
      typeof values.redis === 'string' ? await RedisSeedRunner.connect({ url: values.redis, log: (m) => process.stderr.write(`[sweep ${exp.name}] ${m}\n`) }) : new LocalProcessRunner({ workers });
    // Ctrl-C or a kill stops the seed processes too; the seeds already written are kept for the rerun.
    const stop = (sig: NodeJS.Signals): void => {
      void runner.close().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const { file, sweep: s } = await runSweep(exp, { seeds, quick, out, backend, runner, command });
    if (values.json) {
      process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      return;
    }
    const w = Math.min(60, Math.max(...s.summary.map((r) => r.label.length)));
    for (const r of s.summary) {
      const label = r.label.length > w ? r.label.slice(0, w - 1) + '…' : r.label.padEnd(w);
      process.stdout.write(`  ${label}  ${Number(r.mean.toPrecision(4))} ${formatInterval(r.ci95)} ${r.unit} (n ${r.n})\n`);
    }
    process.stdout.write(`${exp.name}: ${s.verdict}\n  → ${file} (${s.durationSec.toFixed(1)} s)\n`);
  },
};
