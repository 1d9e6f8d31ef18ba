/** Argument parsing shared by every `paperlab` command: strict, typed, with errors that say what to type. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: printed with the usage line, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: OptionSpec, usage: string, allowPositionals = true): Parsed {
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(msg, usage);
  }
}

export function intOption(v: string | boolean | undefined, name: string, dflt: number, min = Number.MIN_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} expects a whole number${min > Number.MIN_SAFE_INTEGER ? ` ≥ ${min}` : ''}, got '${String(v)}'`);
  return n;
}

export function numOption(v: string | boolean | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got '${String(v)}'`);
  return n;
}

export function strOption(v: string | boolean | undefined, dflt: string): string {
  return typeof v === 'string' ? v : dflt;
}
