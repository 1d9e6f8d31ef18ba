/** `paperlab report`: builds the static report page from whatever result.json files exist. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildReport } from '../report/build.js';
import { parse, strOption } from './args.js';
import type { Command } from './command.js';

function shown(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
}

export const report: Command = {
  name: 'report',
  summary: 'build the report page: the notes beside our numbers, charts and demos',
  usage:
    'Usage: paperlab report [--results DIR] [--out DIR] [--no-demos]\n' +
    '  --results  folder with <name>/result.json (default results)\n' +
    '  --out      where the site goes (default <results>/report); open its index.html in a browser',
  async run(argv) {
    const { values } = parse(argv, { results: { type: 'string' }, out: { type: 'string' }, 'no-demos': { type: 'boolean' } }, this.usage, false);
    const resultsDir = strOption(values.results, 'results');
    const outDir = typeof values.out === 'string' ? values.out : undefined;
    const r = await buildReport({ resultsDir, outDir, demos: !values['no-demos'] });
    for (const w of r.warnings) process.stderr.write(`paperlab report: warning: ${w}\n`);
    const total = r.withResults.length + r.notRun.length;
    const parts = [`${r.withResults.length} of ${total} experiment${total === 1 ? '' : 's'} with a result`];
    if (r.notRun.length) parts.push(`not run yet: ${r.notRun.join(', ')}`);
    if (r.unreadable.length) parts.push(`${r.unreadable.length} problem${r.unreadable.length === 1 ? '' : 's'} with the results (listed at the top of the page)`);
    process.stdout.write(`report: ${parts.join('; ')}\n  → ${shown(r.indexPath)}\n  open ${pathToFileURL(r.indexPath).href}\n`);
  },
};
