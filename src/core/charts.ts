/**
 * Charts as Vega-Lite specs, rendered to SVG in Node by Vega itself (no hand-built plotting).
 * Experiments keep the spec in result.json so the report can re-render it, and write the SVG
 * next to result.json.
 */
// Vega and Vega-Lite are large (≈ 100 modules): they load on the first render, not with `import 'paperlab'`.
import type { TopLevelSpec } from 'vega-lite';

export interface ChartSpec {
  /** File stem, e.g. 'time-vs-n' → time-vs-n.svg. */
  id: string;
  title: string;
  /** Text alternative describing what the chart shows. */
  alt: string;
  spec: TopLevelSpec;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface LineChartOptions {
  id: string;
  title: string;
  alt: string;
  rows: Array<Record<string, string | number | null>>;
  x: string;
  y: string;
  series?: string;
  xTitle?: string;
  yTitle?: string;
  logX?: boolean;
  logY?: boolean;
}

/** A line chart spec with points, optionally one line per `series` value. */
export function lineChart(o: LineChartOptions): ChartSpec {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: o.title,
    width: 420,
    height: 260,
    data: { values: o.rows.filter((r) => r[o.y] !== null && r[o.y] !== undefined) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: o.x, type: 'quantitative', title: o.xTitle ?? o.x, scale: o.logX ? { type: 'log', base: 2 } : { zero: false } },
      y: { field: o.y, type: 'quantitative', title: o.yTitle ?? o.y, scale: o.logY ? { type: 'log' } : { zero: false } },
      ...(o.series ? { color: { field: o.series, type: 'nominal' as const } } : {}),
    },
  };
  return { id: o.id, title: o.title, alt: o.alt, spec };
}
