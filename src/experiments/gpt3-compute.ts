/**
 * GPT-3 Table D.1 recomputed from first principles: every row's PF-days from its parameter and
 * token counts (C = 6·N·D, 3·N·D for T5), the GPT-3 175B / BERT-Base ratio the notes call "~1000×",
 * and the "$4.6M / 355 GPU-years" cost estimate.
 */
import { TABLE_D1, tableD1PfDays, trainingCost, trainingFlops } from '../gpt/compute.js';
import type { Experiment, TableRow } from './types.js';

export const gpt3Compute: Experiment = {
  name: 'gpt3-compute',
  section: 'gpt3',
  paper: 'Language Models are Few-Shot Learners (Brown et al., 2020), Table D.1',
  claim: 'Training compute follows C ≈ 6·N·D; GPT-3 175B took 3 640 PF-days, about $4.6M of V100 time at 28 TFLOP/s.',
  question: 'The notes say GPT-3 used "~1000× BERT-base" compute and "costed $5M": do the numbers hold?',
  estimate: { quick: '< 1 s', full: '< 1 s' },
  async run() {
    const table: TableRow[] = [];
    let worst = 0;
    for (const row of TABLE_D1) {
      const ours = tableD1PfDays(row);
      worst = Math.max(worst, Math.abs(ours - row.pfDays) / row.pfDays);
      table.push({ label: `${row.model} (${row.paramsM}M params, ${row.tokensB}B tokens)`, ours: Number(ours.toPrecision(4)), paper: row.pfDays, unit: 'PF-days' });
    }
    const gpt3 = TABLE_D1.find((r) => r.model === 'GPT-3 175B')!;
    const bert = TABLE_D1.find((r) => r.model === 'BERT-Base')!;
    const ratio = tableD1PfDays(gpt3) / tableD1PfDays(bert);
    const paperRatio = gpt3.pfDays / bert.pfDays;
    table.push({ label: 'GPT-3 175B / BERT-Base compute', ours: Number(ratio.toFixed(0)), paper: Number(paperRatio.toFixed(0)), unit: '×' });
    table.push({ label: 'GPT-3 175B / BERT-Base, as the notes say', ours: Number(ratio.toFixed(0)), paper: '~1000', unit: '×' });
    const cost = trainingCost(trainingFlops(gpt3.paramsM * 1e6, gpt3.tokensB * 1e9));
    table.push({ label: 'GPT-3 175B on V100s at 28 TFLOP/s', ours: Number(cost.gpuYears.toFixed(0)), paper: 355, unit: 'GPU-years' });
    table.push({ label: 'GPT-3 175B cost at $1.50 per GPU-hour', ours: Number((cost.usd / 1e6).toFixed(2)), paper: 4.6, unit: 'million USD' });
    const verdict =
      `C = 6·N·D reproduces all ${TABLE_D1.length} rows of Table D.1 within ${(worst * 100).toFixed(2)} %; ` +
      `GPT-3 175B used ${ratio.toFixed(0)}× the compute of BERT-Base — ${ratio > 1500 ? 'nearly twice' : 'close to'} the notes' "~1000×" — ` +
      `and ${cost.gpuYears.toFixed(0)} V100-years ≈ $${(cost.usd / 1e6).toFixed(1)}M, ${cost.usd < 5e6 ? 'a little under' : 'about'} the notes' "$5M".`;
    return {
      config: { flopsPerParamToken: 6, t5FlopsPerParamToken: 3, pfDayFlops: 8.64e19, gpuTflops: cost.assumptions.gpuTflops, utilization: cost.assumptions.utilization, usdPerGpuHour: cost.assumptions.usdPerGpuHour },
      metrics: { maxRelativeError: worst, gpt3OverBertBase: ratio, gpt3Flops: cost.flops, gpt3GpuYears: cost.gpuYears, gpt3Usd: cost.usd },
      table,
      verdict,
    };
  },
};
