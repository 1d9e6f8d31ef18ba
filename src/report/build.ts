/**
 * buildReport: turns whatever result.json files exist into a static site (index.html, report.css,
 * charts/*.svg, demos/*.js) that opens from disk. Missing, unreadable or partly corrupt results never
 * stop the build: the page and the returned warnings say what is wrong and how to fix it.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PaperlabError } from '../core/errors.js';
import { renderSvg, type ChartSpec } from '../core/charts.js';
import type { Experiment } from '../experiments/types.js';
import { bundleDemos, DEMOS } from './demos.js';
import { renderPage, slug, type ChartView, type DemoView, type ExperimentView, type PageModel, type SectionView } from './html.js';
import { loadResults, REPORT_MARKER, type LoadedResult, type Problem } from './load.js';
import { guessSection, SECTIONS, type DemoId, type SectionId } from './sections.js';
import { REPORT_CSS } from './style.js';
import { sweepCharts } from './sweep.js';

/** What the report needs to know about an experiment (an Experiment without its `run`). */
export type ExperimentMeta = Pick<Experiment, 'name' | 'paper' | 'claim' | 'question' | 'section'> & { estimate?: Experiment['estimate'] };

export interface BuildReportOptions {
  /** Folder with <name>/result.json (default 'results'). */
  resultsDir?: string;
  /** Where the site goes (default <resultsDir>/report). */
  outDir?: string;
  /** The experiments to list (default: paperlab's registry). */
  experiments?: readonly ExperimentMeta[];
  /** Bundle the in-browser demos (default true; needs esbuild, a dev dependency). */
  demos?: boolean;
}

export interface BuildReportResult {
  /** Absolute path of the built index.html. */
  indexPath: string;
  /** Everything missing, unreadable or degraded, one sentence each with its fix. */
  warnings: string[];
  /** Names of experiments shown with a result. */
  withResults: string[];
  /** Registered experiments without a result. */
  notRun: string[];
  /** Everything that could not be read: the folder itself, result files, folders without one. */
  unreadable: Problem[];
}

const rel = (p: string): string => {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
};

async function loadRegistry(warnings: string[]): Promise<readonly ExperimentMeta[]> {
  try {
    const mod = (await import('../experiments/index.js')) as { experiments: readonly Experiment[] };
    return mod.experiments;
  } catch (e) {
    warnings.push(`the experiment registry could not be loaded (${(e as Error).message}); results are shown by their names only. Fix: rebuild paperlab (npm run build) and check src/experiments/index.ts`);
    return [];
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** Refuses output folders that hold something other than an earlier report. */
async function prepareOutDir(outDir: string, resultsDir: string): Promise<void> {
  if (outDir === resultsDir) throw new PaperlabError('--out', 'is the results folder itself', 'pick another folder, e.g. the default <results>/report');
  let st: import('node:fs').Stats | null = null;
  try {
    st = await fs.stat(outDir);
  } catch {
    st = null;
  }
  if (st && !st.isDirectory()) throw new PaperlabError('--out', `${rel(outDir)} is a file, not a folder`, 'pass a folder path (it is created when missing)');
  if (st && (await exists(path.join(outDir, 'index.html'))) && !(await exists(path.join(outDir, REPORT_MARKER))))
    throw new PaperlabError('--out', `${rel(outDir)} already has an index.html that paperlab report did not write`, 'pass an empty or new folder so nothing of yours is overwritten');
  try {
    await fs.mkdir(outDir, { recursive: true });
    // Charts and demos of an earlier build would otherwise linger.
    await fs.rm(path.join(outDir, 'charts'), { recursive: true, force: true });
    await fs.rm(path.join(outDir, 'demos'), { recursive: true, force: true });
    await fs.mkdir(path.join(outDir, 'charts'));
  } catch (e) {
    throw new PaperlabError('--out', `${rel(outDir)} cannot be written (${(e as Error).message})`, 'pass a folder you can write to');
  }
}

function inlineRows(spec: ChartSpec['spec']): Array<Record<string, unknown>> | undefined {
  const data = (spec as { data?: { values?: unknown } }).data;
  return Array.isArray(data?.values) ? (data.values as Array<Record<string, unknown>>).filter((r) => typeof r === 'object' && r !== null) : undefined;
}

async function renderCharts(lr: LoadedResult, outDir: string, warnings: string[], charts: readonly ChartSpec[] = lr.charts): Promise<ChartView[]> {
  const views: ChartView[] = [];
  for (const c of charts) {
    const file = `charts/${slug(lr.dir)}--${slug(c.id)}.svg`;
    const view: ChartView = { id: c.id, title: c.title, alt: c.alt, data: inlineRows(c.spec) };
    let svg: string | null = null;
    let why = '';
    try {
      svg = await renderSvg(c.spec);
    } catch (e) {
      why = (e as Error).message.split('\n')[0]!;
      // Fall back to the SVG the experiment wrote next to its result.json.
      svg = await fs.readFile(path.join(path.dirname(lr.file), `${c.id}.svg`), 'utf8').catch(() => null);
      warnings.push(`${rel(lr.file)}: chart '${c.id}' could not be rendered from its Vega-Lite spec (${why})${svg ? '; using the SVG written with the result' : ''}. Fix: re-run \`paperlab run ${lr.result.name}\``);
    }
    if (svg && svg.includes('<svg')) {
      await fs.writeFile(path.join(outDir, file), svg);
      view.src = file;
    } else view.error = why || 'no SVG produced';
    views.push(view);
  }
  return views;
}

/**
 * Finds an evolved CartPole agent file (format 'paperlab-hebbian-agent', written by makeAgentFile)
 * among the result folders, Hebbian experiments first, for the live demo.
 */
async function findCartPoleAgent(results: LoadedResult[], isHebbian: (name: string) => boolean): Promise<{ agent: unknown; source: string } | undefined> {
  const ordered = [...results].sort((a, b) => Number(isHebbian(b.result.name)) - Number(isHebbian(a.result.name)));
  for (const lr of ordered) {
    const dir = path.dirname(lr.file);
    const files: string[] = [];
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isFile() && e.name.endsWith('.json') && e.name !== 'result.json') files.push(path.join(dir, e.name));
      else if (e.isDirectory()) {
        const inner = await fs.readdir(path.join(dir, e.name)).catch(() => [] as string[]);
        for (const f of inner) if (f.endsWith('.json')) files.push(path.join(dir, e.name, f));
      }
    }
    for (const f of files.sort()) {
      try {
        if ((await fs.stat(f)).size > 5e6) continue;
        const j = JSON.parse(await fs.readFile(f, 'utf8')) as { format?: unknown; env?: { name?: unknown } };
        if (j?.format === 'paperlab-hebbian-agent' && j.env?.name === 'cartpole') return { agent: j, source: `${lr.result.name} (${path.relative(path.dirname(dir), f)})` };
      } catch {
        // not JSON we can use: other experiments' files are none of our business
      }
    }
  }
  return undefined;
}

/** Builds the report site; returns the path of its index.html and what is missing or unreadable. */
export async function buildReport(o: BuildReportOptions = {}): Promise<BuildReportResult> {
  const resultsDir = path.resolve(o.resultsDir ?? 'results');
  const outDir = path.resolve(o.outDir ?? path.join(resultsDir, 'report'));
  await prepareOutDir(outDir, resultsDir);
  const warnings: string[] = [];
  const registry = o.experiments ?? (await loadRegistry(warnings));
  const loaded = await loadResults(resultsDir, { skip: [outDir] });
  for (const p of loaded.problems) warnings.push(`${p.path} ${p.problem}. Fix: ${p.fix}`);

  // One view per registered experiment, then unregistered results placed by their name.
  const byName = new Map<string, LoadedResult>();
  for (const lr of loaded.results) {
    const prev = byName.get(lr.result.name);
    if (prev) {
      const keep = lr.dir === lr.result.name ? lr : prev;
      const drop = keep === lr ? prev : lr;
      warnings.push(`${rel(drop.file)} and ${rel(keep.file)} are both results of '${lr.result.name}'; showing ${rel(keep.file)}. Fix: delete the stale one`);
      byName.set(lr.result.name, keep);
    } else byName.set(lr.result.name, lr);
  }
  const problemByName = new Map(loaded.problems.filter((p) => p.name).map((p) => [p.name!, p]));
  const views = new Map<SectionId | 'other', ExperimentView[]>();
  const push = (k: SectionId | 'other', v: ExperimentView): void => void views.set(k, [...(views.get(k) ?? []), v]);
  const used = new Set<string>();

  async function view(meta: ExperimentMeta | null, lr: LoadedResult | undefined, name: string): Promise<ExperimentView> {
    const r = lr?.result;
    for (const cp of lr?.chartProblems ?? []) warnings.push(`${rel(lr!.file)}: ${cp}. Fix: re-run \`paperlab run ${name}\``);
    return {
      name,
      paper: meta?.paper ?? r?.paper ?? '',
      claim: meta?.claim ?? r?.claim ?? '',
      question: meta?.question ?? r?.question ?? '',
      estimateQuick: meta?.estimate?.quick,
      result: r,
      resultPath: lr ? rel(lr.file) : undefined,
      charts: lr ? await renderCharts(lr, outDir, warnings) : [],
      chartProblems: lr?.chartProblems ?? [],
      sweep: lr?.sweep,
      sweepPath: lr?.sweepFile ? rel(lr.sweepFile) : undefined,
      sweepCharts: lr?.sweep ? await renderCharts(lr, outDir, warnings, sweepCharts(lr.sweep)) : [],
      problem: lr ? undefined : problemByName.get(name),
      unregistered: meta === null,
    };
  }

  for (const meta of registry) {
    used.add(meta.name);
    push(meta.section, await view(meta, byName.get(meta.name), meta.name));
  }
  for (const [name, lr] of byName) {
    if (used.has(name)) continue;
    used.add(name);
    push(guessSection(name) ?? 'other', await view(null, lr, name));
  }

  const wantDemos = [...new Set(SECTIONS.flatMap((s) => s.demos))] as DemoId[];
  const bundled = o.demos === false ? wantDemos.map((id) => ({ id, unavailable: 'demos were switched off for this build' as string, script: undefined as string | undefined })) : await bundleDemos(outDir, wantDemos);
  const notes: string[] = [];
  for (const b of bundled) if (b.unavailable && o.demos !== false) notes.push(`demo '${b.id}' not included: ${b.unavailable}`);
  const sectionOf = new Map(registry.map((m) => [m.name, m.section]));
  const agent = await findCartPoleAgent(loaded.results, (n) => (sectionOf.get(n) ?? guessSection(n)) === 'hebbian');
  if (!agent && bundled.some((b) => b.id === 'hebbian-cartpole' && b.script)) notes.push('the Hebbian CartPole demo has no trained agent: no result folder holds an agent file (makeAgentFile, format paperlab-hebbian-agent). Fix: run the Hebbian experiment, then rebuild the report');
  const demoData: Partial<Record<DemoId, unknown>> = { 'hebbian-cartpole': agent ?? {} };
  const demoView = (id: DemoId): DemoView => {
    const d = DEMOS.find((x) => x.id === id)!;
    const b = bundled.find((x) => x.id === id)!;
    return { id, title: d.title, description: d.description, script: b.script, unavailable: b.unavailable, data: demoData[id] };
  };

  const sections: SectionView[] = SECTIONS.map((s) => ({ section: s, experiments: views.get(s.id) ?? [], demos: s.demos.map(demoView) }));
  const all = [...sections.flatMap((s) => s.experiments), ...(views.get('other') ?? [])];
  const withResults = all.filter((e) => e.result).map((e) => e.name);
  const notRun = all.filter((e) => !e.result && !e.unregistered).map((e) => e.name);
  if (withResults.length === 0 && !loaded.folderMissing) {
    warnings.push(`no readable result.json in ${rel(resultsDir)}; every experiment is listed as not run yet. Fix: run \`paperlab run --all --quick --out ${rel(resultsDir)}\` first`);
  }
  warnings.push(...notes);

  const model: PageModel = {
    generatedAt: new Date().toISOString(),
    resultsDir: rel(resultsDir),
    sections,
    other: views.get('other') ?? [],
    problems: loaded.problems,
    notes,
    cssHref: 'report.css',
  };
  const indexPath = path.join(outDir, 'index.html');
  try {
    await fs.writeFile(path.join(outDir, 'report.css'), REPORT_CSS);
    await fs.writeFile(`${indexPath}.tmp`, renderPage(model));
    await fs.rename(`${indexPath}.tmp`, indexPath);
    await fs.writeFile(
      path.join(outDir, REPORT_MARKER),
      JSON.stringify({ generatedAt: model.generatedAt, resultsDir, withResults, notRun, unreadable: loaded.problems, warnings }, null, 2) + '\n',
    );
  } catch (e) {
    throw new PaperlabError('--out', `${rel(outDir)} cannot be written (${(e as Error).message})`, 'pass a folder you can write to');
  }
  return { indexPath, warnings, withResults, notRun, unreadable: loaded.problems };
}
