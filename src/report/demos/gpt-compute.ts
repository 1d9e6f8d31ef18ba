/**
 * In-browser demo: the GPT-3 compute and cost calculator (src/gpt/compute.ts), C = 6·N·D, with the
 * rows of Table D.1 as presets so a reader can check the notes' "~1000× BERT-base" and "$5M".
 */
import { TABLE_D1, parseCount, tableD1PfDays, trainingCost, trainingFlops } from '../../gpt/compute.js';
import { field, h, mount, onReady } from './dom.js';

const ID = 'gpt-compute';

function fmt(x: number, digits = 3): string {
  if (x !== 0 && (Math.abs(x) >= 1e6 || Math.abs(x) < 1e-2)) return x.toExponential(digits - 1).replace('e+', 'e');
  return Number(x.toPrecision(digits + 1)).toLocaleString('en-US');
}

function start(): void {
  const root = mount(ID);
  if (!root) return;
  const bert = TABLE_D1.find((r) => r.model === 'BERT-Base')!;
  const bertPfDays = tableD1PfDays(bert);

  const preset = h('select', { id: `${ID}-preset` }, h('option', { value: '' }, 'Custom'), ...TABLE_D1.map((r, i) => h('option', { value: String(i) }, `${r.model} (${r.paramsM}M params, ${r.tokensB}B tokens)`)));
  const params = h('input', { id: `${ID}-params`, type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', value: '175B' });
  const tokens = h('input', { id: `${ID}-tokens`, type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', value: '300B' });
  const t5 = h('input', { id: `${ID}-t5`, type: 'checkbox' });
  const tflops = h('input', { id: `${ID}-tflops`, type: 'number', min: '0.001', step: 'any', value: '28' });
  const util = h('input', { id: `${ID}-util`, type: 'number', min: '0.01', max: '1', step: 'any', value: '1' });
  const price = h('input', { id: `${ID}-price`, type: 'number', min: '0', step: 'any', value: '1.5' });
  const button = h('button', { type: 'submit' }, 'Calculate');
  const out = h('output', { id: `${ID}-out`, for: `${ID}-params ${ID}-tokens`, 'aria-live': 'polite' });

  const form = h(
    'form',
    { 'aria-label': 'Training compute and cost calculator', novalidate: true },
    field('Model from Table D.1', preset, 'fills in parameters and tokens'),
    field('Parameters N', params, 'e.g. 175B, 125M, 1.3e9'),
    field('Training tokens D', tokens, 'e.g. 300B'),
    h('div', {}, h('label', { for: t5.id }, t5, 'Encoder–decoder (T5): 3·N·D')),
    field('GPU throughput (TFLOP/s)', tflops, 'V100: 28'),
    field('Utilisation (0–1]', util),
    field('Price per GPU-hour (USD)', price),
    h('div', {}, button),
  );
  root.append(form, out);

  const selected = (): (typeof TABLE_D1)[number] | undefined => (preset.value === '' ? undefined : TABLE_D1[Number(preset.value)]);

  function calculate(): void {
    for (const el of [params, tokens, tflops, util, price]) el.removeAttribute('aria-invalid');
    out.textContent = '';
    try {
      const n = parseCount(params.value, 'Parameters');
      const d = parseCount(tokens.value, 'Training tokens');
      const num = (el: HTMLInputElement, name: string): number => {
        const v = Number(el.value);
        if (el.value.trim() === '' || !Number.isFinite(v)) {
          el.setAttribute('aria-invalid', 'true');
          throw new Error(`${name}: '${el.value}' is not a number. Fix: type a number such as ${el.defaultValue}`);
        }
        return v;
      };
      const flops = trainingFlops(n, d, { flopsPerParamToken: t5.checked ? 3 : 6 });
      const cost = trainingCost(flops, { gpuTflops: num(tflops, 'GPU throughput'), utilization: num(util, 'Utilisation'), usdPerGpuHour: num(price, 'Price per GPU-hour') });
      const row = selected();
      const items: Array<[string, string]> = [
        ['Training compute', `${fmt(flops)} FLOPs (${t5.checked ? '3' : '6'}·N·D)`],
        ['PF-days', fmt(cost.pfDays, 4)],
        ['Compared with BERT-Base', `${fmt(cost.pfDays / bertPfDays)}× its ${fmt(bertPfDays)} PF-days`],
        ['GPU time', `${fmt(cost.gpuHours)} GPU-hours = ${fmt(cost.gpuYears)} GPU-years`],
        ['Cost', `$${fmt(cost.usd / 1e6)}M at $${cost.assumptions.usdPerGpuHour}/GPU-hour`],
      ];
      if (row) items.push(['Table D.1 says', `${row.pfDays} PF-days (ours ÷ paper = ${(cost.pfDays / row.pfDays).toFixed(3)})`]);
      out.append(h('dl', { class: 'run', 'data-result': 'ok' }, ...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-key': k }, v)])));
    } catch (e) {
      const msg = (e as Error).message;
      if (/^Parameters/.test(msg)) params.setAttribute('aria-invalid', 'true');
      if (/^Training tokens/.test(msg)) tokens.setAttribute('aria-invalid', 'true');
      if (/gpuTflops/.test(msg)) tflops.setAttribute('aria-invalid', 'true');
      if (/utilization/.test(msg)) util.setAttribute('aria-invalid', 'true');
      if (/usdPerGpuHour/.test(msg)) price.setAttribute('aria-invalid', 'true');
      out.append(h('p', { class: 'error', role: 'alert' }, msg));
    }
  }

  preset.addEventListener('change', () => {
    const row = selected();
    if (row) {
      params.value = `${row.paramsM}M`;
      tokens.value = `${row.tokensB}B`;
      t5.checked = row.family === 'T5';
    }
    calculate();
  });
  for (const el of [params, tokens]) el.addEventListener('input', () => (preset.value = ''));
  for (const el of [params, tokens, t5, tflops, util, price]) el.addEventListener('change', calculate);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    calculate();
  });
  preset.value = String(TABLE_D1.findIndex((r) => r.model === 'GPT-3 175B'));
  preset.dispatchEvent(new Event('change'));
}

onReady(start);
