#!/usr/bin/env node
/**
 * The `paperlab` command. Exit codes: 0 success, 1 a run failed (the message says why and how to
 * fix it), 2 the command was called wrongly.
 */
import { PaperlabError } from '../core/errors.js';
import { UsageError } from './args.js';
import { commands } from './commands.js';

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'paperlab — seven 2020 ML papers as TypeScript layers, losses and tools, and experiments that re-check their claims',
    '',
    'Usage: paperlab <command> [options]   (paperlab <command> --help for its options)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Examples:',
    '  paperlab list',
    '  paperlab run gpt3-compute --seed 1',
    '  paperlab run --all --quick --out results',
    '  paperlab compute --params 175e9 --tokens 300e9',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    const { readFileSync } = await import('node:fs');
    const { packageRoot } = await import('../core/native.js');
    process.stdout.write(JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')).version + '\n');
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  try {
    if (!cmd) throw new UsageError(`unknown command '${name}'`, `run 'paperlab --help' to see the commands: ${commands.map((c) => c.name).join(', ')}`);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${cmd.usage}\n`);
      return 0;
    }
    return (await cmd.run(rest)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`paperlab ${name}: ${e.message}\n${e.usage ?? cmd?.usage ?? ''}\n`);
      return 2;
    }
    if (e instanceof PaperlabError) {
      process.stderr.write(`paperlab ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`paperlab: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
