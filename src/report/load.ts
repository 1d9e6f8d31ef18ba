/**
 * Reading a results folder without ever throwing: every result.json that parses and matches the
 * schema becomes a LoadedResult, everything else becomes a Problem that says what is wrong and how
 * to fix it. The report shows both.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { validateResult } from '../experiments/result.js';
import type { ExperimentResult } from '../experiments/types.js';
import type { ChartSpec } from '../core/charts.js';
import { validateSweep, type SweepFile } from '../experiments/sweep.js';

/** The file a built report leaves in its folder, so a later scan can tell it from a result. */
export const REPORT_MARKER = 'paperlab-report.json';

export interface LoadedResult {
  /** Folder name under the results folder (normally the experiment name). */
  dir: string;
  /** Absolute path of the result.json. */
  file: string;
  result: ExperimentResult;
  /** Charts that are well-formed; malformed ones are reported in `chartProblems`. */
  charts: ChartSpec[];
  chartProblems: string[];
  /** The folder's sweep.json (`paperlab sweep`), when it has a readable one. */
  sweep?: SweepFile;
  sweepFile?: string;
}

export interface Problem {
  /** The path the problem is about, as given (relative to the cwd where possible). */
  path: string;
  problem: string;
  fix: string;
  /** Experiment name the problem belongs to, when known (from the folder name). */
  name?: string;
}

export interface LoadedResults {
  resultsDir: string;
  results: LoadedResult[];
  problems: Problem[];
  /** True when the folder itself could not be read (missing, not a folder, no permission). */
  folderMissing: boolean;
}

const rel = (p: string): string => {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
};

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'ENOENT') return 'does not exist';
  return err?.message ?? String(e);
}

/** Checks the optional `charts` field entry by entry. */
export function checkCharts(raw: unknown): { charts: ChartSpec[]; problems: string[] } {
  if (raw === undefined) return { charts: [], problems: [] };
  if (!Array.isArray(raw)) return { charts: [], problems: ['charts must be an array'] };
  const charts: ChartSpec[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  raw.forEach((c: unknown, i: number) => {
    const o = c as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return void problems.push(`charts[${i}] must be an object`);
    const bad: string[] = [];
    if (typeof o.id !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(o.id)) bad.push('id must be a file-name-safe string');
    else if (seen.has(o.id)) bad.push(`id '${o.id}' is used twice`);
    if (typeof o.title !== 'string') bad.push('title must be a string');
    if (typeof o.alt !== 'string' || o.alt.trim() === '') bad.push('alt (the text alternative) must be a non-empty string');
    if (typeof o.spec !== 'object' || o.spec === null || Array.isArray(o.spec)) bad.push('spec must be a Vega-Lite object');
    if (bad.length) return void problems.push(`charts[${i}]${typeof o.id === 'string' ? ` ('${o.id}')` : ''}: ${bad.join('; ')}`);
    seen.add(o.id as string);
    charts.push(o as unknown as ChartSpec);
  });
  return { charts, problems };
}

/** Largest result.json the report reads. */
export const MAX_RESULT_BYTES = 32 * 2 ** 20;

async function loadOne(dir: string, file: string, out: LoadedResults): Promise<void> {
  const shown = rel(file);
  const root = rel(path.dirname(path.dirname(file)));
  const outArg = root === 'results' ? '' : ` --out ${root}`;
  const rerun = `re-run it with \`paperlab run ${dir}${outArg}\`, or delete the folder`;
  let text: string;
  try {
    // Refuse a giant file before reading it (a result.json is kilobytes; charts live in their own files).
    const { size } = await fs.stat(file);
    if (size > MAX_RESULT_BYTES) {
      out.problems.push({ path: shown, name: dir, problem: `is ${(size / 2 ** 20).toFixed(0)} MiB, more than the ${MAX_RESULT_BYTES / 2 ** 20} MiB a result.json may have`, fix: rerun });
      return;
    }
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    out.problems.push({ path: shown, name: dir, problem: `cannot be read: ${errText(e)}`, fix: 'check the file permissions, or ' + rerun });
    return;
  }
  if (text.trim() === '') {
    out.problems.push({ path: shown, name: dir, problem: 'is empty (the run was probably interrupted while writing)', fix: rerun });
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    out.problems.push({ path: shown, name: dir, problem: `is not valid JSON (${(e as Error).message})`, fix: rerun });
    return;
  }
  const problems = validateResult(parsed);
  if (problems.length) {
    out.problems.push({ path: shown, name: dir, problem: `does not match the result.json schema: ${problems.join('; ')}`, fix: rerun });
    return;
  }
  const result = parsed as ExperimentResult;
  const { charts, problems: chartProblems } = checkCharts((parsed as Record<string, unknown>).charts);
  out.results.push({ dir, file, result, charts, chartProblems });
}

/**
 * Loads every `<resultsDir>/<name>/result.json`. Folders holding a built report (`skip`, or any
 * folder with a paperlab-report.json) are ignored. Also accepts a single experiment's folder.
 */
export async function loadResults(resultsDir: string, o: { skip?: string[] } = {}): Promise<LoadedResults> {
  const abs = path.resolve(resultsDir);
  const out: LoadedResults = { resultsDir: abs, results: [], problems: [], folderMissing: false };
  const fix = `run experiments first (\`paperlab run --all --quick --out ${rel(abs)}\`) or pass --results with the folder they wrote to`;
  let entries: import('node:fs').Dirent[];
  try {
    const st = await fs.stat(abs);
    if (!st.isDirectory()) {
      out.folderMissing = true;
      out.problems.push({ path: rel(abs), problem: 'is a file, not a results folder', fix });
      return out;
    }
    entries = await fs.readdir(abs, { withFileTypes: true });
  } catch (e) {
    out.folderMissing = true;
    out.problems.push({ path: rel(abs), problem: `results folder ${errText(e)}`, fix });
    return out;
  }
  // A single experiment's folder passed as --results.
  if (entries.some((e) => e.isFile() && e.name === 'result.json')) {
    await loadOne(path.basename(abs), path.join(abs, 'result.json'), out);
    return out;
  }
  const skip = new Set((o.skip ?? []).map((p) => path.resolve(p)));
  const dirs = entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name).sort();
  for (const name of dirs) {
    const d = path.join(abs, name);
    if (skip.has(d) || name.startsWith('.')) continue;
    let inner: string[];
    try {
      const st = await fs.stat(d);
      if (!st.isDirectory()) continue;
      inner = await fs.readdir(d);
    } catch (e) {
      out.problems.push({ path: rel(d), name, problem: `cannot be read: ${errText(e)}`, fix: 'check the folder permissions' });
      continue;
    }
    if (inner.includes(REPORT_MARKER)) continue;
    const sweep = inner.includes('sweep.json') ? await loadSweep(name, path.join(d, 'sweep.json'), out) : undefined;
    if (sweep && !inner.includes('result.json')) {
      // A folder written only by `paperlab sweep`: show its first seed's run beside the sweep.
      const first = sweep.runs[0]!;
      await loadOne(name, path.join(d, 'seeds', String(first.seed), 'result.json'), out);
      const lr = out.results.at(-1);
      if (lr && lr.dir === name) Object.assign(lr, { sweep, sweepFile: path.join(d, 'sweep.json') });
      continue;
    }
    if (!inner.includes('result.json')) {
      const partial = inner.some((f) => f.startsWith('result.json.tmp'));
      out.problems.push({
        path: rel(d),
        name,
        problem: partial ? 'has only a half-written result.json (the run was interrupted)' : 'has no result.json (the run did not finish, or this is not an experiment folder)',
        fix: `re-run it with \`paperlab run ${name}${rel(abs) === 'results' ? '' : ` --out ${rel(abs)}`}\`, or remove the folder`,
      });
      continue;
    }
    await loadOne(name, path.join(d, 'result.json'), out);
    const lr = out.results.at(-1);
    if (sweep && lr && lr.dir === name) Object.assign(lr, { sweep, sweepFile: path.join(d, 'sweep.json') });
  }
  return out;
}

/** Reads <dir>/sweep.json; a problem (never a throw) when it is unreadable or has no finished seed. */
async function loadSweep(name: string, file: string, out: LoadedResults): Promise<SweepFile | undefined> {
  const shown = rel(file);
  const fix = `rerun the sweep (\`paperlab sweep ${name} --seeds …\`: finished seeds are kept), or delete ${shown}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    out.problems.push({ path: shown, name, problem: `cannot be read as JSON (${errText(e)})`, fix });
    return undefined;
  }
  const problems = validateSweep(parsed);
  if (problems.length) {
    out.problems.push({ path: shown, name, problem: `does not match the sweep.json schema: ${problems.slice(0, 5).join('; ')}`, fix });
    return undefined;
  }
  const sweep = parsed as SweepFile;
  if (sweep.runs.length === 0) {
    out.problems.push({ path: shown, name, problem: 'holds no finished seed', fix });
    return undefined;
  }
  return sweep;
}
