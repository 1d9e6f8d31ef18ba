/** Writing and validating result.json. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PaperlabError } from '../core/errors.js';
import { renderSvg } from '../core/charts.js';
import type { ExperimentResult } from './types.js';

const STRING_FIELDS = ['name', 'paper', 'claim', 'question', 'backend', 'verdict', 'command', 'version', 'startedAt'] as const;

/** Returns a list of problems with a parsed result.json (empty when valid). */
export function validateResult(r: unknown): string[] {
  const problems: string[] = [];
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return ['result is not a JSON object'];
  const o = r as Record<string, unknown>;
  for (const f of STRING_FIELDS) if (typeof o[f] !== 'string' || (o[f] as string).length === 0) problems.push(`${f} must be a non-empty string`);
  if (!Number.isInteger(o.seed)) problems.push('seed must be an integer');
  if (typeof o.quick !== 'boolean') problems.push('quick must be a boolean');
  if (typeof o.durationSec !== 'number' || !(o.durationSec >= 0)) problems.push('durationSec must be a non-negative number');
  for (const f of ['config', 'metrics'] as const) {
    if (typeof o[f] !== 'object' || o[f] === null || Array.isArray(o[f])) problems.push(`${f} must be an object`);
  }
  if (!Array.isArray(o.table) || o.table.length === 0) problems.push('table must be a non-empty array');
  else {
    o.table.forEach((row: unknown, i: number) => {
      const t = row as Record<string, unknown>;
      if (typeof t !== 'object' || t === null) return problems.push(`table[${i}] must be an object`);
      if (typeof t.label !== 'string') problems.push(`table[${i}].label must be a string`);
      for (const k of ['ours', 'paper'] as const) {
        const v = t[k];
        if (!(v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) problems.push(`table[${i}].${k} must be a finite number, a string or null`);
      }
      if (typeof t.unit !== 'string') problems.push(`table[${i}].unit must be a string`);
    });
  }
  return problems;
}

/** Writes result.json (atomically) and one SVG per chart into `dir`. */
export async function writeResult(dir: string, result: ExperimentResult): Promise<string> {
  const problems = validateResult(result);
  if (problems.length) throw new PaperlabError(`result of ${result.name}`, problems.join('; '), 'fix the experiment so its output matches the result.json schema');
  await fs.mkdir(dir, { recursive: true });
  for (const c of result.charts ?? []) await fs.writeFile(path.join(dir, `${c.id}.svg`), await renderSvg(c.spec));
  const file = path.join(dir, 'result.json');
  await writeJsonAtomic(file, result);
  return file;
}

/** Writes JSON to a temporary file and renames it into place, so a reader never sees half a file. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await fs.rename(tmp, file);
}
