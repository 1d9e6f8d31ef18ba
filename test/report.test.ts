/**
 * The report page, driven in real Chromium (Debian's /usr/bin/chromium via playwright-core): every
 * section with a result shows its table, chart and verdict; the demos run; empty and corrupt results
 * folders give a page and a terminal message that say what is wrong, never a crash. Screenshots go to
 * test-output/report/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildReport, type ExperimentMeta } from '../src/report/build.js';
import { SECTIONS } from '../src/report/sections.js';
import { writeResult } from '../src/experiments/result.js';
import { gpt3Compute } from '../src/experiments/gpt3-compute.js';
import type { ExperimentResult } from '../src/experiments/types.js';
import { lineChart } from '../src/core/charts.js';
import { PaperlabError } from '../src/core/errors.js';
import { UsageError } from '../src/cli/args.js';
import { report } from '../src/cli/report.js';
import { packageRoot } from '../src/core/native.js';
import { Rng } from '../src/core/rng.js';
import { initialParameters } from '../src/hebbian/network.js';
import { makeAgentFile } from '../src/hebbian/rollout.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.join(packageRoot, 'test-output', 'report');
const tmp = (label: string): string => mkdtempSync(path.join(tmpdir(), `paperlab-report-${label}-`));
const CHROMIUM = '/usr/bin/chromium';

function base(name: string, paper: string): Omit<ExperimentResult, 'config' | 'metrics' | 'table' | 'verdict' | 'charts'> {
  return { name, paper, claim: `claim of ${name}`, question: `question of ${name}`, seed: 7, quick: true, backend: 'cpu', native: false, durationSec: 12.5, command: `paperlab run ${name} --quick --seed 7`, commit: 'abc123def456', version: '0.1.0', startedAt: '2024-01-02T03:04:05.000Z' };
}

/** A registry of four experiments over three sections (one never run), independent of the real one. */
const registry: ExperimentMeta[] = [
  gpt3Compute,
  { name: 'supcon-fixture', section: 'supcon', paper: 'SupCon fixture', claim: 'c', question: 'q', estimate: { quick: '1 min', full: '1 h' } },
  { name: 'hebbian-fixture', section: 'hebbian', paper: 'Hebbian fixture', claim: 'c', question: 'q' },
  { name: 'reformer-fixture', section: 'reformer', paper: 'Reformer fixture', claim: 'c', question: 'q' },
];

async function goodResults(): Promise<{ dir: string; results: ExperimentResult[] }> {
  const dir = tmp('results');
  const out = await gpt3Compute.run({} as never);
  const gpt: ExperimentResult = {
    ...base('gpt3-compute', gpt3Compute.paper),
    ...out,
    charts: [lineChart({ id: 'pf-days', title: 'PF-days, ours and the paper’s', alt: 'Our PF-days match Table D.1 on every row.', rows: out.table.slice(0, 17).map((r, i) => ({ row: i, pfDays: r.ours as number })), x: 'row', y: 'pfDays', logY: true })],
  };
  const curve = (id: string, k: number) => lineChart({ id, title: `curve ${id}`, alt: `A rising curve (${id}).`, rows: [1, 2, 4, 8].map((n) => ({ n, y: k * n, kind: n % 2 ? 'a' : 'b' })), x: 'n', y: 'y', series: 'kind', logX: true });
  const heb: ExperimentResult = { ...base('hebbian-fixture', 'Hebbian fixture'), config: {}, metrics: { r: 1 }, table: [{ label: 'return', ours: 321, paper: 500, unit: 'steps' }, { label: 'no paper value', ours: 1.5, paper: null, unit: '' }], verdict: 'The Hebbian fixture balanced for 321 steps.', charts: [curve('returns', 2)] };
  const ref: ExperimentResult = { ...base('reformer-fixture', 'Reformer fixture'), config: {}, metrics: {}, table: [{ label: 'accuracy <b>html</b>', ours: 0.987, paper: 99.9, unit: '%' }], verdict: 'LSH attention copied the sequence <script>not run</script>.', charts: [curve('acc', 1), curve('time', 3)] };
  const results = [gpt, heb, ref];
  for (const r of results) await writeResult(path.join(dir, r.name), r);
  const policy = { kind: 'hebbian' as const, sizes: [4, 6, 2], rule: 'ABCD_lr' as const };
  const agent = makeAgentFile({ name: 'cartpole' }, policy, initialParameters(policy, new Rng(3)), { generations: 0 });
  writeFileSync(path.join(dir, 'hebbian-fixture', 'agent-cartpole.json'), JSON.stringify(agent));
  return { dir, results };
}

let ctx: BrowserContext;
const pageErrors: string[] = [];

async function open(indexPath: string, width = 1200): Promise<Page> {
  const page = await ctx.newPage();
  await page.setViewportSize({ width, height: 900 });
  page.on('pageerror', (e) => pageErrors.push(`${indexPath}: ${e.message}`));
  await page.goto(pathToFileURL(indexPath).href);
  return page;
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(shots, { recursive: true });
  ctx = await chromium.launchPersistentContext(tmp('profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await ctx?.close();
});

test('the notes quoted in each section are verbatim sentences of the notes page', (t) => {
  const seed = '/work/shared/seed/000_41bcbe830a1a4b01.txt';
  if (!existsSync(seed)) return t.skip('the notes page is not on this machine');
  const text = readFileSync(seed, 'utf8').replace(/\s+/g, ' ');
  assert.deepEqual(SECTIONS.map((s) => s.id), ['gpt3', 'supcon', 'radioactive', 'hebbian', 'reformer', 'byol', 'linformer']);
  for (const s of SECTIONS) {
    assert.ok(text.includes(s.notesHeading), `heading '${s.notesHeading}'`);
    for (const q of s.quotes) assert.ok(text.includes(q.text.replace(/\s+/g, ' ')), `quote not in the notes: ${q.text}`);
  }
  // ...and in the notes' order.
  const at = SECTIONS.map((s) => text.indexOf(s.notesHeading));
  assert.deepEqual([...at].sort((a, b) => a - b), at);
});

test('every section with a result shows its table, chart and verdict; the demos run', async () => {
  const { dir, results } = await goodResults();
  const out = path.join(dir, 'report');
  const r = await buildReport({ resultsDir: dir, experiments: registry });
  assert.equal(r.indexPath, path.join(out, 'index.html'));
  assert.deepEqual(r.withResults.sort(), ['gpt3-compute', 'hebbian-fixture', 'reformer-fixture']);
  assert.deepEqual(r.notRun, ['supcon-fixture']);
  assert.deepEqual(r.unreadable, []);
  assert.deepEqual(r.warnings.filter((w) => !/^demo /.test(w)), []);

  const page = await open(r.indexPath);
  // Sections in the notes' order, each with a heading.
  assert.deepEqual(await page.$$eval('section.paper', (els) => els.map((e) => e.getAttribute('data-section'))), SECTIONS.map((s) => s.id));
  assert.equal(await page.locator('h1').count(), 1);
  for (const s of SECTIONS) assert.equal(await page.locator(`#${s.id} > h2`).count(), 1);
  // Every experiment with a result: table rows = result rows, every chart drawn with a text alternative, the verdict.
  for (const res of results) {
    const art = page.locator(`article[data-experiment="${res.name}"]`);
    assert.equal(await art.getAttribute('data-status'), 'ok', res.name);
    assert.equal(await art.locator('table.results tbody tr').count(), res.table.length, `${res.name} table`);
    assert.equal(await art.locator('table.results thead').innerText().then((t) => /Ours[\s\S]*Paper/.test(t)), true);
    assert.equal((await art.locator('[data-verdict]').innerText()).replace(/^Verdict:\s*/, ''), res.verdict);
    const imgs = art.locator('figure.chart img');
    assert.equal(await imgs.count(), res.charts!.length, `${res.name} charts`);
    for (let i = 0; i < res.charts!.length; i++) {
      const img = imgs.nth(i);
      await img.scrollIntoViewIfNeeded();
      await page.waitForFunction((el) => (el as HTMLImageElement).complete, await img.elementHandle());
      assert.ok(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth > 100), `${res.name} chart ${i} rendered`);
      assert.equal(await img.getAttribute('alt'), res.charts![i]!.alt);
    }
    const run = await art.locator('dl.run').innerText();
    for (const needle of [res.command, 'abc123def456', 'cpu', '12.5 s', 'quick']) assert.ok(run.includes(needle), `${res.name} run details lack ${needle}`);
  }
  // Result text is escaped, not interpreted.
  assert.ok((await page.locator('article[data-experiment="reformer-fixture"] [data-verdict]').innerText()).includes('<script>not run</script>'));
  // The never-run experiment says so, with the command to run it.
  const missing = page.locator('article[data-experiment="supcon-fixture"]');
  assert.equal(await missing.getAttribute('data-status'), 'not-run');
  assert.match(await missing.innerText(), /Not run yet[\s\S]*paperlab run supcon-fixture --quick/);
  // The notes' quotes stand in their sections.
  assert.match(await page.locator('#gpt3 blockquote').first().innerText(), /~1000x BERT-base/);

  // Keyboard: the first Tab reaches the skip link.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to the sections');

  // Demo 1, the compute calculator: pick BERT-Base by keyboard, then type a model and press Enter.
  const calc = page.locator('#demo-gpt-compute');
  await calc.locator('dl[data-result="ok"]').waitFor();
  assert.match(await calc.locator('output').innerText(), /3,637\.5[\s\S]*Table D\.1 says\s*3640 PF-days/);
  await calc.locator('select').focus();
  await calc.locator('select').selectOption({ label: 'BERT-Base (109M params, 250B tokens)' });
  assert.match(await calc.locator('output').innerText(), /PF-days\s*1\.892[\s\S]*Table D\.1 says\s*1\.89 PF-days/);
  await calc.getByLabel('Parameters N').fill('1.3e9');
  await calc.getByLabel('Training tokens D').fill('26B');
  await calc.getByLabel('Training tokens D').press('Enter');
  assert.match(await calc.locator('output').innerText(), /2\.03e20 FLOPs/); // 6 · 1.3e9 · 26e9
  await calc.getByLabel('Parameters N').fill('lots');
  await calc.getByLabel('Parameters N').press('Enter');
  assert.match(await calc.locator('[role=alert]').innerText(), /'lots' is not a count/);
  assert.equal(await calc.getByLabel('Parameters N').getAttribute('aria-invalid'), 'true');

  // Demo 2, LSH bucketing on tfjs's browser build: neighbours collide more often than random pairs.
  const lsh = page.locator('#demo-lsh-buckets');
  await lsh.locator('table[data-result="ok"]').waitFor({ timeout: 30_000 });
  const cells = await lsh.locator('tbody tr').evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => parseFloat(td.textContent ?? ''))));
  assert.equal(cells.length, 2);
  for (const [neighbours, pairs] of cells) assert.ok(neighbours! > pairs!, `neighbours ${neighbours} % vs all pairs ${pairs} %`);
  assert.equal(await lsh.locator('.buckets').first().locator('span').count(), 64);

  // Demo 3, the Hebbian CartPole agent found in the results folder, stepping live.
  const heb = page.locator('#demo-hebbian-cartpole');
  await heb.getByLabel('Speed').selectOption('5');
  await heb.getByRole('button', { name: 'Run episode' }).click();
  await page.waitForFunction(() => {
    const dd = document.querySelector('#demo-hebbian-cartpole dd[data-key="Step"]');
    return dd && parseInt(dd.textContent ?? '0', 10) >= 5;
  });
  assert.match(await heb.innerText(), /Hebbian rule ABCD_lr, layers 4–6–2/);
  await heb.locator('dl[data-result="done"]').waitFor({ timeout: 30_000 });
  assert.match(await heb.locator('[aria-live]').last().innerText(), /(fell after|Balanced for all) \d+ steps/);

  await page.screenshot({ path: path.join(shots, 'report-desktop.png'), fullPage: true });
  // A phone: nothing wider than the screen.
  const phone = await open(r.indexPath, 375);
  await phone.locator('#demo-gpt-compute dl[data-result="ok"]').waitFor();
  assert.ok(await phone.evaluate(() => document.scrollingElement!.scrollWidth <= window.innerWidth + 1), 'page scrolls sideways on a phone');
  await phone.screenshot({ path: path.join(shots, 'report-phone.png'), fullPage: true });
  assert.ok(existsSync(path.join(shots, 'report-desktop.png')) && existsSync(path.join(shots, 'report-phone.png')));
  assert.deepEqual(pageErrors, []);
  await page.close();
  await phone.close();
});

test('an empty or missing results folder gives a page saying nothing has run, and warnings', async () => {
  const empty = tmp('empty');
  const r = await buildReport({ resultsDir: empty, experiments: registry, demos: false });
  assert.ok(r.warnings.some((w) => /no readable result\.json/.test(w) && /paperlab run --all --quick/.test(w)));
  assert.deepEqual(r.withResults, []);
  assert.equal(r.notRun.length, registry.length);
  const page = await open(r.indexPath);
  assert.match(await page.locator('#problems').innerText(), /No readable results were found/);
  assert.equal(await page.locator('article[data-status="not-run"]').count(), registry.length);
  assert.equal(await page.locator('section.paper').count(), SECTIONS.length);
  await page.close();

  const gone = path.join(empty, 'does-not-exist');
  const r2 = await buildReport({ resultsDir: gone, outDir: path.join(empty, 'site'), experiments: registry, demos: false });
  assert.ok(r2.warnings.some((w) => /results folder does not exist/.test(w)), r2.warnings.join('\n'));
  assert.match(readFileSync(r2.indexPath, 'utf8'), /results folder does not exist/);
});

test('a partly corrupt results folder: readable results shown, every bad file named with its fix', async () => {
  const { dir } = await goodResults();
  const put = (name: string, text: string): void => {
    mkdirSync(path.join(dir, name), { recursive: true });
    writeFileSync(path.join(dir, name, 'result.json'), text);
  };
  put('supcon-fixture', '{"name": "supcon-fixture", "table": [');
  put('byol-broken', JSON.stringify({ name: 'byol-broken', seed: 'zero' }));
  put('empty-file', '');
  mkdirSync(path.join(dir, 'interrupted'));
  writeFileSync(path.join(dir, 'interrupted', 'result.json.tmp-123'), '{');
  // A readable result whose charts are broken: one spec Vega cannot compile, one entry without alt text.
  const ref = JSON.parse(readFileSync(path.join(dir, 'reformer-fixture', 'result.json'), 'utf8')) as ExperimentResult;
  (ref.charts as unknown[]) = [{ ...ref.charts![0]!, spec: { mark: 'no-such-mark' } }, { id: 'noalt', title: 't', spec: {} }];
  writeFileSync(path.join(dir, 'reformer-fixture', 'result.json'), JSON.stringify(ref));

  const r = await buildReport({ resultsDir: dir, experiments: registry, demos: false });
  const w = r.warnings.join('\n');
  assert.match(w, /supcon-fixture\/result\.json is not valid JSON .*Fix: re-run it with `paperlab run supcon-fixture --out /);
  assert.match(w, /byol-broken\/result\.json does not match the result\.json schema: .*seed must be an integer/);
  assert.match(w, /empty-file\/result\.json is empty/);
  assert.match(w, /interrupted has only a half-written result\.json/);
  assert.match(w, /chart 'acc' could not be rendered from its Vega-Lite spec.*using the SVG written with the result/);
  assert.match(w, /charts\[1\] \('noalt'\): alt \(the text alternative\) must be a non-empty string/);
  assert.equal(r.unreadable.length, 4);
  assert.deepEqual(r.withResults.sort(), ['gpt3-compute', 'hebbian-fixture', 'reformer-fixture']);

  const page = await open(r.indexPath);
  const problems = await page.locator('#problems').innerText();
  for (const p of ['supcon-fixture', 'byol-broken', 'empty-file', 'interrupted']) assert.ok(problems.includes(p), `${p} not listed`);
  assert.equal(await page.locator('article[data-experiment="supcon-fixture"]').getAttribute('data-status'), 'unreadable');
  // byol-broken is not registered but its folder name places it; it is listed among the problems only.
  assert.equal(await page.locator('article[data-status="ok"]').count(), 3);
  // The broken spec fell back to the SVG the experiment wrote; the chart is still drawn.
  const img = page.locator('article[data-experiment="reformer-fixture"] figure.chart img').first();
  await img.scrollIntoViewIfNeeded();
  await page.waitForFunction((el) => (el as HTMLImageElement).complete, await img.elementHandle());
  assert.ok(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth > 100));
  await page.locator('#problems').screenshot({ path: path.join(shots, 'report-problems.png') });
  await page.close();
});

test('the command prints the index path and each problem, never a stack trace; bad --out is refused', async () => {
  const { dir } = await goodResults();
  put(dir);
  function put(d: string): void {
    mkdirSync(path.join(d, 'garbage'));
    writeFileSync(path.join(d, 'garbage', 'result.json'), 'not json');
  }
  const harness = path.join(tmp('cli'), 'run.mjs');
  writeFileSync(
    harness,
    `import { report } from ${JSON.stringify(pathToFileURL(path.join(here, '../src/cli/report.js')).href)};
try { process.exitCode = (await report.run(process.argv.slice(2))) ?? 0; }
catch (e) { process.stderr.write('paperlab report: ' + e.message + '\\n'); process.exitCode = e.name === 'UsageError' ? 2 : e.name === 'PaperlabError' ? 1 : 99; }`,
  );
  const cli = (...args: string[]) => spawnSync(process.execPath, [harness, ...args], { encoding: 'utf8', cwd: dir });
  const ok = cli('--results', dir, '--no-demos');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^report: \d+ of \d+ experiments with a result;.* 1 problem with the results \(listed at the top of the page\)/);
  assert.match(ok.stdout, /→ report\/index\.html\n {2}open file:\/\//);
  assert.match(ok.stderr, /warning: garbage\/result\.json is not valid JSON/);
  assert.doesNotMatch(ok.stderr + ok.stdout, /\n\s+at /);

  const none = cli('--results', path.join(dir, 'nope'), '--out', path.join(dir, 'site'), '--no-demos');
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stderr, /nope results folder does not exist\. Fix: run experiments first/);

  // Misuse and an unusable --out: clear errors the CLI turns into exit codes 2 and 1.
  await assert.rejects(report.run(['--bogus']), (e: unknown) => e instanceof UsageError && /Unknown option '--bogus'/.test(e.message));
  const foreign = tmp('foreign');
  writeFileSync(path.join(foreign, 'index.html'), '<p>mine</p>');
  await assert.rejects(buildReport({ resultsDir: dir, outDir: foreign, demos: false }), (e: unknown) => e instanceof PaperlabError && /already has an index\.html that paperlab report did not write\. Fix: pass an empty or new folder/.test(e.message));
  assert.equal(readFileSync(path.join(foreign, 'index.html'), 'utf8'), '<p>mine</p>');
  await assert.rejects(report.run(['--results', dir, '--out', path.join(foreign, 'index.html')]), (e: unknown) => e instanceof PaperlabError && /--out: .* is a file, not a folder\. Fix: pass a folder path/.test(e.message));
  await assert.rejects(buildReport({ resultsDir: dir, outDir: dir }), (e: unknown) => e instanceof PaperlabError && /is the results folder itself/.test(e.message));
  // A second build into the same folder is fine (it is our own report).
  const again = await buildReport({ resultsDir: dir, demos: false });
  assert.equal(String(again.withResults.length), /^report: (\d+)/.exec(ok.stdout)![1]);
  assert.ok(existsSync(again.indexPath));
});
