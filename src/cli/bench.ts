/** `paperlab bench <name>`: speed and memory are measured here, never in tests. */
import { initEngine } from '../core/engine.js';
import { benchmarks } from '../../bench/index.js';
import { UsageError, parse } from './args.js';
import { backendFrom } from './core-commands.js';
import type { Command } from './command.js';

export const bench: Command = {
  name: 'bench',
  summary: 'benchmarks: ' + benchmarks.map((b) => b.name).join(', '),
  usage: `Usage: paperlab bench <name> [--json] [--backend B]\n${benchmarks.map((b) => `  ${b.name.padEnd(12)} ${b.summary}`).join('\n')}`,
  async run(argv) {
    const [name, ...rest] = argv;
    const b = benchmarks.find((x) => x.name === name);
    if (!b) throw new UsageError(name ? `unknown benchmark '${name}'` : 'name a benchmark', this.usage);
    const { values } = parse(rest, { json: { type: 'boolean' }, backend: { type: 'string' }, ...(b.options ?? {}) }, this.usage, false);
    await initEngine({ backend: backendFrom(values.backend), verbose: !values.json });
    const result = await b.run(values);
    if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else process.stdout.write(b.format ? b.format(result) + '\n' : JSON.stringify(result, null, 2) + '\n');
  },
};
