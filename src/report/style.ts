/** The report's stylesheet: one column, readable from a 320 px phone to a laptop, light and dark. */
export const REPORT_CSS = `
:root {
  --fg: #1b1d21; --muted: #5a606b; --bg: #ffffff; --panel: #f5f6f8; --line: #d9dce1;
  --accent: #0b57d0; --ok: #17683a; --warn-bg: #fff4e5; --warn-line: #c77700; --quote: #6b4f00;
  --focus: #e37400;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e8eb; --muted: #a3a9b3; --bg: #15171a; --panel: #1f2227; --line: #3a3f47;
    --accent: #8ab4f8; --ok: #7ddc9c; --warn-bg: #3a2a10; --warn-line: #f2a33a; --quote: #f0cf7a; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main, header.page, footer.page { max-width: 62rem; margin: 0 auto; padding: 0 1rem; }
header.page { padding-top: 1.5rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.4rem; margin: 2.5rem 0 .5rem; padding-top: .5rem; border-top: 3px solid var(--line); }
h3 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
h4 { font-size: 1rem; margin: 1.25rem 0 .4rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
.muted { color: var(--muted); }
code, pre, kbd { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .92em; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem;
  overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }
nav.toc ol { padding-left: 1.25rem; margin: .25rem 0; }
nav.toc li { margin: .15rem 0; }
.status { font-size: .85em; padding: .05rem .45rem; border-radius: 999px; border: 1px solid var(--line);
  white-space: nowrap; }
.status.ok { color: var(--ok); border-color: var(--ok); }
.status.none { color: var(--muted); }
.status.bad { color: var(--warn-line); border-color: var(--warn-line); }
blockquote { margin: .75rem 0; padding: .4rem .9rem; border-left: 4px solid var(--quote); background: var(--panel); }
blockquote p { margin: .2rem 0; }
blockquote .kind { font-size: .8em; text-transform: uppercase; letter-spacing: .05em; color: var(--quote); font-weight: 600; }
.problems { background: var(--warn-bg); border: 1px solid var(--warn-line); border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
.problems h2 { border: 0; margin-top: .5rem; }
.problems li { margin: .4rem 0; overflow-wrap: anywhere; }
article.experiment { border: 1px solid var(--line); border-radius: 8px; padding: .25rem 1rem 1rem; margin: 1.25rem 0; }
article.experiment.missing { border-style: dashed; }
.verdict { font-size: 1.05rem; background: var(--panel); border-left: 4px solid var(--accent); padding: .6rem .9rem; margin: 1rem 0; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
thead th { background: var(--panel); position: sticky; top: 0; }
figure.chart { margin: 1rem 0; }
figure.chart img { display: block; max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px; }
figure.chart figcaption { font-size: .95rem; margin-top: .35rem; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.run dt { font-weight: 600; }
dl.run dd { margin: 0; overflow-wrap: anywhere; }
details { margin: .5rem 0; }
summary { cursor: pointer; }
.demo { border: 1px solid var(--accent); border-radius: 8px; padding: .25rem 1rem 1rem; margin: 1.25rem 0; }
.demo form { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: .6rem 1rem; align-items: end; }
.demo label { display: block; font-weight: 600; font-size: .95rem; }
.demo input, .demo select, .demo button { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); color: var(--fg); width: 100%; min-height: 2.4rem; }
.demo input[type=checkbox] { width: auto; min-height: 0; margin-right: .4rem; }
.demo input[aria-invalid=true] { border-color: var(--warn-line); }
.demo button { background: var(--accent); color: var(--bg); border-color: var(--accent); cursor: pointer; font-weight: 600; }
.demo button:disabled { opacity: .6; cursor: default; }
.demo output { display: block; margin-top: .75rem; }
.demo .error { color: var(--warn-line); font-weight: 600; }
.demo canvas { display: block; max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; margin-top: .5rem; }
.buckets { display: flex; flex-wrap: wrap; gap: 2px; margin: .25rem 0 .75rem; }
.buckets span { display: inline-block; min-width: 1.6rem; text-align: center; font: 12px/1.6rem ui-monospace, monospace; border-radius: 3px; color: #000; }
@media (max-width: 36rem) {
  body { font-size: 15px; }
  h1 { font-size: 1.4rem; }
  dl.run { grid-template-columns: 1fr; }
  dl.run dd { margin-bottom: .4rem; }
  th, td { padding: .3rem .35rem; }
}
@media print { .demo, .skip, nav.toc { display: none; } }
`;
