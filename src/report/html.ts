/** Renders the report page from a prepared model. Pure: no file system, every string escaped. */
import type { ExperimentResult, TableRow } from '../experiments/types.js';
import type { SweepFile } from '../experiments/sweep.js';
import type { Problem } from './load.js';
import type { NoteQuote, Section } from './sections.js';

export interface ChartView {
  id: string;
  title: string;
  alt: string;
  /** Path of the SVG relative to index.html; absent when it could not be rendered. */
  src?: string;
  error?: string;
  /** The chart's inline data rows, shown as a table for readers who cannot see the chart. */
  data?: Array<Record<string, unknown>>;
}

export interface ExperimentView {
  name: string;
  /** From the registry (or from the result when the experiment is not registered). */
  paper: string;
  claim: string;
  question: string;
  estimateQuick?: string;
  result?: ExperimentResult;
  charts: ChartView[];
  chartProblems: string[];
  /** Set when a result exists but could not be read. */
  problem?: Problem;
  /** True when the experiment is not in the registry (shown with a note). */
  unregistered?: boolean;
  /** Where the result came from, for the run details. */
  resultPath?: string;
  /** The multi-seed sweep, when one exists, with its interval charts. */
  sweep?: SweepFile;
  sweepPath?: string;
  sweepCharts?: ChartView[];
}

export interface DemoView {
  id: string;
  title: string;
  description: string;
  /** Script path relative to index.html; absent when the demo could not be bundled. */
  script?: string;
  unavailable?: string;
  /** JSON the demo reads from the page (embedded as application/json). */
  data?: unknown;
}

export interface SectionView {
  section: Section;
  experiments: ExperimentView[];
  demos: DemoView[];
}

export interface PageModel {
  generatedAt: string;
  resultsDir: string;
  sections: SectionView[];
  /** Results whose section is unknown. */
  other: ExperimentView[];
  /** Folder-level and unreadable-result problems. */
  problems: Problem[];
  /** Non-fatal notes (charts that failed, demos not bundled). */
  notes: string[];
  cssHref: string;
}

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Escapes text and sets `backticked` spans (commands in messages) as code. */
export function escCode(s: unknown): string {
  return esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

/** Formats a table value: numbers with at most 4 significant digits shown unless exact and short. */
export function fmtValue(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e7 || a < 1e-3) return v.toExponential(3).replace(/\.?0+e/, 'e').replace('e+', 'e');
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return String(Number(v.toPrecision(5)));
}

function fmtDuration(sec: number): string {
  if (sec < 1) return `${(sec * 1000).toFixed(0)} ms`;
  if (sec < 120) return `${sec.toFixed(1)} s`;
  const m = Math.floor(sec / 60);
  return m < 120 ? `${m} min ${Math.round(sec - m * 60)} s` : `${(sec / 3600).toFixed(1)} h`;
}

function ratio(r: TableRow): string {
  if (typeof r.ours !== 'number' || typeof r.paper !== 'number' || r.paper === 0) return '';
  const q = r.ours / r.paper;
  return `${q.toPrecision(3)}×`;
}

function renderQuote(q: NoteQuote): string {
  return `<blockquote><p class="kind">${esc(q.kind)}</p><p>${esc(q.text)}</p></blockquote>`;
}

function renderTable(e: ExperimentView, r: ExperimentResult): string {
  const id = `table-${slug(e.name)}`;
  const rows = r.table
    .map((t) => {
      const ours = fmtValue(t.ours);
      const paper = fmtValue(t.paper);
      const oursLabel = t.ours === null ? ' aria-label="not measured"' : '';
      const paperLabel = t.paper === null ? ' aria-label="no published value"' : '';
      return `<tr><th scope="row">${esc(t.label)}</th><td class="num"${oursLabel}>${esc(ours)}</td><td class="num"${paperLabel}>${esc(paper)}</td><td>${esc(t.unit)}</td><td class="num">${esc(ratio(t))}</td></tr>`;
    })
    .join('\n');
  return `<div class="table-wrap" role="region" aria-labelledby="${id}-cap" tabindex="0">
<table class="results" id="${id}">
<caption id="${id}-cap">Our numbers beside the paper's — ${esc(e.name)}</caption>
<thead><tr><th scope="col">Measure</th><th scope="col" class="num">Ours</th><th scope="col" class="num">Paper</th><th scope="col">Unit</th><th scope="col" class="num">Ours ÷ paper</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>`;
}

function renderChartData(c: ChartView): string {
  const rows = c.data ?? [];
  if (!rows.length) return '';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 8);
  const shown = rows.slice(0, 200);
  const body = shown.map((r) => `<tr>${cols.map((k) => `<td>${esc(typeof r[k] === 'number' ? fmtValue(r[k] as number) : (r[k] ?? ''))}</td>`).join('')}</tr>`).join('');
  return `<details><summary>Chart data (${rows.length} point${rows.length === 1 ? '' : 's'}${rows.length > shown.length ? `, first ${shown.length} shown` : ''})</summary>
<div class="table-wrap" tabindex="0" role="region" aria-label="Data of ${esc(c.title)}"><table><thead><tr>${cols.map((k) => `<th scope="col">${esc(k)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table></div></details>`;
}

function renderChart(c: ChartView): string {
  const body = c.src
    ? `<img src="${esc(c.src)}" alt="${esc(c.alt)}" loading="lazy">`
    : `<p class="error" role="note">This chart could not be drawn (${esc(c.error ?? 'unknown reason')}). What it shows: ${esc(c.alt)}</p>`;
  return `<figure class="chart" data-chart="${esc(c.id)}">
${body}
<figcaption><strong>${esc(c.title)}.</strong> ${esc(c.alt)}</figcaption>
${renderChartData(c)}
</figure>`;
}

function fmtCi(ci: [number, number] | null): string {
  return ci ? `[${fmtValue(ci[0])}, ${fmtValue(ci[1])}]` : 'n < 2';
}

function renderSweep(e: ExperimentView): string {
  const s = e.sweep;
  if (!s) return '';
  const id = `sweep-${slug(e.name)}`;
  const rows = s.summary
    .map((r) => `<tr><th scope="row">${esc(r.label)}</th><td class="num">${esc(fmtValue(r.mean))}</td><td class="num">${esc(fmtCi(r.ci95))}</td><td class="num">${esc(r.n)}</td><td>${esc(r.unit)}</td><td class="num">${esc(fmtValue(r.paper))}</td></tr>`)
    .join('\n');
  const cmp = (s.comparisons ?? []).length
    ? `<div class="table-wrap" role="region" aria-labelledby="${id}-cmp" tabindex="0"><table class="results"><caption id="${id}-cmp">Paired comparisons over shared seeds — ${esc(e.name)}</caption>
<thead><tr><th scope="col">A</th><th scope="col">B</th><th scope="col" class="num">Mean A − B</th><th scope="col" class="num">95 % interval</th><th scope="col" class="num">p</th><th scope="col">Test, n</th><th scope="col">Reads as</th></tr></thead>
<tbody>${s.comparisons
        .map((c) => `<tr><td>${esc(c.a)}</td><td>${esc(c.b)}</td><td class="num">${esc(fmtValue(c.meanDiff))}</td><td class="num">${esc(fmtCi(c.ci95))}</td><td class="num">${esc(c.p === null ? '–' : fmtValue(c.p))}</td><td>${esc(`${c.test}, ${c.n}`)}</td><td>${esc(c.direction)}</td></tr>`)
        .join('\n')}</tbody></table></div>`
    : '';
  const failed = s.failed?.length ? `<p class="error">Seeds that failed: ${esc(s.failed.map((f) => `${f.seed} (${f.error})`).join('; '))}.</p>` : '';
  return `<section class="sweep" data-sweep="${esc(e.name)}" aria-labelledby="${id}-h">
<h4 id="${id}-h">Over ${esc(s.seeds.length)} seeds${s.quick ? ' (quick)' : ''}</h4>
<p class="verdict" data-sweep-verdict><strong>Sweep verdict:</strong> ${esc(s.verdict)}</p>
${cmp}
<div class="table-wrap" role="region" aria-labelledby="${id}-cap" tabindex="0">
<table class="results" id="${id}">
<caption id="${id}-cap">Mean over seeds with 95 % Student-t interval — ${esc(e.name)}</caption>
<thead><tr><th scope="col">Measure</th><th scope="col" class="num">Mean</th><th scope="col" class="num">95 % interval</th><th scope="col" class="num">n</th><th scope="col">Unit</th><th scope="col" class="num">Paper</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>
${(e.sweepCharts ?? []).map(renderChart).join('\n')}
${failed}
<p class="muted">Command: <code>${esc(s.command)}</code>${e.sweepPath ? ` — file <code>${esc(e.sweepPath)}</code>` : ''}</p>
</section>`;
}

function renderRun(r: ExperimentResult, resultPath?: string): string {
  const items: Array<[string, string]> = [
    ['Command', `<code>${esc(r.command)}</code>`],
    ['Seed', esc(r.seed)],
    ['Mode', r.quick ? 'quick (small-scale, under 5 minutes)' : 'full'],
    ['Backend', `${esc(r.backend)}${r.native ? ' with native kernels' : ''}`],
    ['Commit', r.commit ? `<code>${esc(r.commit)}</code>` : 'unknown (not run from a git checkout)'],
    ['Duration', esc(fmtDuration(r.durationSec))],
    ['Started', `<time datetime="${esc(r.startedAt)}">${esc(r.startedAt)}</time>`],
    ['paperlab', esc(r.version)],
  ];
  if (resultPath) items.push(['Result file', `<code>${esc(resultPath)}</code>`]);
  return `<dl class="run">${items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function renderExperiment(e: ExperimentView): string {
  const id = `exp-${slug(e.name)}`;
  const head = `<h3 id="${id}-h">${esc(e.name)} ${statusBadge(e)}</h3>
<p class="muted">${esc(e.paper)}</p>
<p><strong>Claim re-checked:</strong> ${esc(e.claim)}</p>
<p><strong>The notes' question:</strong> ${esc(e.question)}</p>${e.unregistered ? '\n<p class="muted">This experiment is not in the registry of this paperlab version; shown from its result file.</p>' : ''}`;
  if (e.result) {
    const r = e.result;
    const charts = e.charts.length ? `<h4>Charts</h4>\n${e.charts.map(renderChart).join('\n')}` : '';
    const chartNotes = e.chartProblems.length ? `<p class="error">Some charts in the result file are malformed and were skipped: ${esc(e.chartProblems.join('; '))}.</p>` : '';
    return `<article class="experiment" id="${id}" data-experiment="${esc(e.name)}" data-status="ok" aria-labelledby="${id}-h">
${head}
${renderSweep(e)}
<p class="verdict" data-verdict><strong>Verdict${e.sweep ? ` of seed ${esc(r.seed)}` : ''}:</strong> ${esc(r.verdict)}</p>
${renderTable(e, r)}
${charts}${chartNotes}
<h4>The run</h4>
${renderRun(r, e.resultPath)}
<details><summary>Configuration and metrics</summary><pre>${esc(JSON.stringify({ config: r.config, metrics: r.metrics }, null, 2))}</pre></details>
</article>`;
  }
  if (e.problem) {
    return `<article class="experiment missing" id="${id}" data-experiment="${esc(e.name)}" data-status="unreadable" aria-labelledby="${id}-h">
${head}
<p class="error"><strong>Result unreadable:</strong> <code>${esc(e.problem.path)}</code> ${escCode(e.problem.problem)}. Fix: ${escCode(e.problem.fix)}.</p>
</article>`;
  }
  return `<article class="experiment missing" id="${id}" data-experiment="${esc(e.name)}" data-status="not-run" aria-labelledby="${id}-h">
${head}
<p><strong>Not run yet.</strong> Run it with <code>paperlab run ${esc(e.name)} --quick</code>${e.estimateQuick ? ` (about ${esc(e.estimateQuick)})` : ''}, then rebuild this page with <code>paperlab report</code>.</p>
</article>`;
}

function statusOf(e: ExperimentView): 'ok' | 'unreadable' | 'not-run' {
  return e.result ? 'ok' : e.problem ? 'unreadable' : 'not-run';
}

function statusBadge(e: ExperimentView): string {
  const s = statusOf(e);
  return s === 'ok' ? '<span class="status ok">result</span>' : s === 'unreadable' ? '<span class="status bad">unreadable</span>' : '<span class="status none">not run yet</span>';
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function renderDemo(d: DemoView): string {
  const data = d.data === undefined ? '' : `<script type="application/json" data-demo-data="${esc(d.id)}">${scriptJson(d.data)}</script>\n`;
  const body = d.script
    ? `${data}<div class="demo-root" data-demo-root="${esc(d.id)}"><p class="muted">Loading the demo…</p></div>
<noscript><p>This demo needs JavaScript.</p></noscript>
<script src="${esc(d.script)}" defer></script>`
    : `<p class="muted">This demo is not available in this build: ${esc(d.unavailable ?? 'not bundled')}.</p>`;
  return `<section class="demo" id="demo-${esc(d.id)}" data-demo="${esc(d.id)}" aria-labelledby="demo-${esc(d.id)}-h">
<h3 id="demo-${esc(d.id)}-h">Try it: ${esc(d.title)}</h3>
<p>${esc(d.description)}</p>
${body}
</section>`;
}

function sectionStatus(s: SectionView): string {
  const n = s.experiments.length;
  const ok = s.experiments.filter((e) => e.result).length;
  const bad = s.experiments.filter((e) => e.problem && !e.result).length;
  if (n === 0) return '<span class="status none">no experiment yet</span>';
  return `<span class="status ${ok === n ? 'ok' : bad ? 'bad' : 'none'}">${ok} of ${n} run${bad ? `, ${bad} unreadable` : ''}</span>`;
}

function renderSection(s: SectionView): string {
  const sec = s.section;
  const exps = s.experiments.length
    ? s.experiments.map(renderExperiment).join('\n')
    : '<p class="muted" data-status="none">No experiment for this section is registered yet.</p>';
  return `<section class="paper" id="${esc(sec.id)}" data-section="${esc(sec.id)}" aria-labelledby="${esc(sec.id)}-h">
<h2 id="${esc(sec.id)}-h">${esc(sec.notesHeading)} ${sectionStatus(s)}</h2>
<p class="muted">${sec.papers.map(esc).join(' · ')}</p>
<h3>What the notes say</h3>
${sec.quotes.map(renderQuote).join('\n')}
${exps}
${s.demos.map(renderDemo).join('\n')}
</section>`;
}

function renderProblems(m: PageModel): string {
  const none = m.sections.every((s) => s.experiments.every((e) => !e.result)) && m.other.every((e) => !e.result);
  if (!m.problems.length && !none) return '';
  const items = m.problems.map((p) => `<li><code>${esc(p.path)}</code> ${escCode(p.problem)}. <em>Fix:</em> ${escCode(p.fix)}.</li>`).join('\n');
  const empty = none ? `<p><strong>No readable results were found in <code>${esc(m.resultsDir)}</code>.</strong> Every experiment below is listed as not run yet. Run <code>paperlab run --all --quick --out ${esc(m.resultsDir)}</code>, then <code>paperlab report --results ${esc(m.resultsDir)}</code>.</p>` : '';
  return `<section class="problems" id="problems" role="region" aria-labelledby="problems-h">
<h2 id="problems-h">What is missing or unreadable</h2>
${empty}
${items ? `<ul>\n${items}\n</ul>` : ''}
</section>`;
}

function renderToc(m: PageModel): string {
  const li = m.sections.map((s) => `<li><a href="#${esc(s.section.id)}">${esc(s.section.notesHeading)}</a> ${sectionStatus(s)}</li>`);
  if (m.other.length) li.push('<li><a href="#other">Other results</a></li>');
  return `<nav class="toc" aria-label="Sections"><h2 id="toc-h">Sections, in the order of the notes</h2><ol>${li.join('')}</ol></nav>`;
}

export function renderPage(m: PageModel): string {
  const all = [...m.sections.flatMap((s) => s.experiments), ...m.other];
  const ok = all.filter((e) => e.result).length;
  const other = m.other.length
    ? `<section class="paper" id="other" data-section="other" aria-labelledby="other-h"><h2 id="other-h">Other results</h2><p class="muted">Results whose experiment belongs to no known section.</p>${m.other.map(renderExperiment).join('\n')}</section>`
    : '';
  const notes = m.notes.length ? `<details><summary>Build notes (${m.notes.length})</summary><ul>${m.notes.map((n) => `<li>${escCode(n)}</li>`).join('')}</ul></details>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>paperlab — the living notes</title>
<link rel="stylesheet" href="${esc(m.cssHref)}">
</head>
<body>
<a class="skip" href="#main">Skip to the sections</a>
<header class="page">
<h1>paperlab — the living notes</h1>
<p>The reading group's notes on seven 2020 machine-learning papers, section by section in their order. Each claim or doubt, quoted as written, stands beside the numbers paperlab measured and the paper's own.</p>
<p class="muted" id="summary" data-results="${ok}" data-experiments="${all.length}">${ok} of ${all.length} experiment${all.length === 1 ? '' : 's'} with a result · results from <code>${esc(m.resultsDir)}</code> · built <time datetime="${esc(m.generatedAt)}">${esc(m.generatedAt)}</time></p>
${renderToc(m)}
</header>
<main id="main" tabindex="-1">
${renderProblems(m)}
${m.sections.map(renderSection).join('\n')}
${other}
</main>
<footer class="page"><p class="muted">Built by <code>paperlab report</code>. Numbers come from each run's result.json; the paper's values are the published ones.</p>${notes}</footer>
</body>
</html>
`;
}
