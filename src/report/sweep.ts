/** A sweep's means with 95 % interval bars, as Vega-Lite charts (one per unit, so axes share a scale). */
import type { ChartSpec } from '../core/charts.js';
import type { SweepFile } from '../experiments/sweep.js';
import { slug } from './html.js';

const MAX_ROWS = 24;

/** One chart per unit among the summary rows that have an interval; rows of a unit beyond 24 are left to the table. */
export function sweepCharts(s: Pick<SweepFile, 'name' | 'summary' | 'seeds'>): ChartSpec[] {
  const byUnit = new Map<string, SweepFile['summary']>();
  for (const r of s.summary) {
    if (!r.ci95) continue;
    byUnit.set(r.unit, [...(byUnit.get(r.unit) ?? []), r]);
  }
  const charts: ChartSpec[] = [];
  for (const [unit, rows] of byUnit) {
    const shown = rows.slice(0, MAX_ROWS);
    const values = shown.map((r) => ({ measure: r.label, mean: r.mean, lo: r.ci95![0], hi: r.ci95![1], n: r.n }));
    const title = `Mean over ${s.seeds.length} seeds with 95 % interval${unit ? ` (${unit})` : ''}`;
    charts.push({
      id: `sweep-${slug(unit || 'value')}`,
      title,
      alt: `${s.name}: for each measure in ${unit || 'its own unit'}, a dot at the mean over seeds and a bar spanning the 95 % Student-t interval of the mean. ${values
        .map((v) => `${v.measure}: ${Number(v.mean.toPrecision(4))} [${Number(v.lo.toPrecision(3))}, ${Number(v.hi.toPrecision(3))}]`)
        .join('; ')}.`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title,
        width: 360,
        height: { step: 18 },
        data: { values },
        encoding: { y: { field: 'measure', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } } },
        layer: [
          { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: unit || 'value' }, x2: { field: 'hi' } } },
          { mark: { type: 'point', filled: true, size: 40 }, encoding: { x: { field: 'mean', type: 'quantitative' } } },
        ],
      },
    });
  }
  return charts;
}
