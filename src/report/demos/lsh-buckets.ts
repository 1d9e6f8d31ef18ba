/**
 * In-browser demo: how LSH attention buckets a sequence, with Reformer's angular hash beside the
 * notes' coset (syndrome) hash — the hash functions of src/attention/hash.ts, run on TensorFlow.js's
 * browser build. The sequence is a random walk on the sphere, so neighbouring positions are similar
 * and a good hash puts them in the same bucket far more often than random pairs (≈ 1/nBuckets).
 */
import { tf } from '../../core/tf.js';
import { Rng } from '../../core/rng.js';
import { disposeHash, drawHash, hashVectors, type HashKind } from '../../attention/hash.js';
import { field, h, mount, onReady } from './dom.js';

const ID = 'lsh-buckets';

/** n unit vectors in `dim` dimensions; each is the previous one plus noise of size `step`, renormalised. */
export function randomWalk(n: number, dim: number, step: number, rng: Rng): number[][] {
  const unit = (v: number[]): number[] => {
    const norm = Math.hypot(...v) || 1;
    return v.map((x) => x / norm);
  };
  const out: number[][] = [unit(Array.from({ length: dim }, () => rng.normal()))];
  for (let i = 1; i < n; i++) out.push(unit(out[i - 1]!.map((x) => x + step * rng.normal() / Math.sqrt(dim))));
  return out;
}

export interface BucketStats {
  buckets: number[];
  used: number;
  largest: number;
  /** Share of positions t whose bucket equals that of t+1. */
  neighbours: number;
  /** Share of all pairs (i < j) in the same bucket. */
  allPairs: number;
}

export function bucketStats(buckets: number[]): BucketStats {
  const counts = new Map<number, number>();
  for (const b of buckets) counts.set(b, (counts.get(b) ?? 0) + 1);
  let same = 0;
  for (let i = 0; i + 1 < buckets.length; i++) if (buckets[i] === buckets[i + 1]) same++;
  const n = buckets.length;
  let pairs = 0;
  for (const c of counts.values()) pairs += (c * (c - 1)) / 2;
  return { buckets, used: counts.size, largest: Math.max(...counts.values()), neighbours: n > 1 ? same / (n - 1) : 0, allPairs: n > 1 ? pairs / ((n * (n - 1)) / 2) : 0 };
}

function hashOnce(points: number[][], kind: HashKind, nBuckets: number, hashBits: number, seed: number): number[] {
  const hash = drawHash({ hash: kind, dim: points[0]!.length, nBuckets, nHashes: 1, ...(kind === 'coset' ? { hashBits } : {}) }, new Rng(seed).fork(kind));
  try {
    const b = tf.tidy(() => hashVectors(tf.tensor2d(points), hash));
    const rows = b.arraySync() as number[][];
    b.dispose();
    return rows[0]!;
  } finally {
    disposeHash(hash);
  }
}

function colour(b: number, n: number): string {
  return `hsl(${Math.round((360 * b) / n)} 70% 72%)`;
}

function start(): void {
  const root = mount(ID);
  if (!root) return;
  const length = h('input', { id: `${ID}-n`, type: 'number', min: '4', max: '512', step: '1', value: '64' });
  const dim = h('input', { id: `${ID}-dim`, type: 'number', min: '2', max: '256', step: '1', value: '32' });
  const nBuckets = h('select', { id: `${ID}-buckets` }, ...[2, 4, 8, 16, 32].map((b) => h('option', { value: String(b), selected: b === 8 }, String(b))));
  const bits = h('input', { id: `${ID}-bits`, type: 'number', min: '1', max: '30', step: '1', value: '6' });
  const step = h('input', { id: `${ID}-step`, type: 'range', min: '0', max: '3', step: '0.05', value: '0.5' });
  const stepShown = h('span', { id: `${ID}-step-value` }, '0.5');
  const seed = h('input', { id: `${ID}-seed`, type: 'number', step: '1', value: '1' });
  const button = h('button', { type: 'submit' }, 'Hash the sequence');
  const out = h('output', { id: `${ID}-out`, 'aria-live': 'polite' });
  const form = h(
    'form',
    { 'aria-label': 'LSH bucketing settings', novalidate: true },
    field('Sequence length n', length),
    field('Vector dimension d', dim),
    field('Buckets', nBuckets),
    field('Coset hash: sign bits', bits, 'parity checks read log2(buckets) of them'),
    h('div', {}, h('label', { for: step.id }, 'Step between neighbours: ', stepShown), step),
    field('Seed', seed),
    h('div', {}, button),
  );
  root.append(form, out);
  step.addEventListener('input', () => (stepShown.textContent = step.value));

  let ready: Promise<unknown> | null = null;
  async function run(): Promise<void> {
    out.textContent = '';
    button.disabled = true;
    try {
      ready ??= tf.setBackend('cpu').then(() => tf.ready());
      await ready;
      const ints: Array<[HTMLInputElement, string, number, number]> = [
        [length, 'Sequence length', 4, 512],
        [dim, 'Vector dimension', 2, 256],
        [bits, 'Sign bits', 1, 30],
        [seed, 'Seed', -1e9, 1e9],
      ];
      const v: number[] = [];
      for (const [el, name, lo, hi] of ints) {
        el.removeAttribute('aria-invalid');
        const x = Number(el.value);
        if (el.value.trim() === '' || !Number.isInteger(x) || x < lo || x > hi) {
          el.setAttribute('aria-invalid', 'true');
          throw new Error(`${name}: '${el.value}' is not a whole number from ${lo} to ${hi}. Fix: type one in that range`);
        }
        v.push(x);
      }
      const [n, d, hashBits, s] = v as [number, number, number, number];
      const nb = Number(nBuckets.value);
      const r = Math.log2(nb);
      if (hashBits < r) {
        bits.setAttribute('aria-invalid', 'true');
        throw new Error(`Sign bits: ${nb} buckets need at least log2(${nb}) = ${r} sign bits. Fix: raise it to ${r} or more`);
      }
      const points = randomWalk(n, d, Number(step.value), new Rng(s));
      const results: Array<[string, BucketStats]> = [
        ['Angular (Reformer)', bucketStats(hashOnce(points, 'angular', nb, hashBits, s))],
        ['Coset (the notes)', bucketStats(hashOnce(points, 'coset', nb, hashBits, s))],
      ];
      for (const [name, st] of results) {
        const row = h(
          'div',
          { class: 'buckets', role: 'img', 'aria-label': `${name} buckets of positions 0 to ${n - 1}: ${st.buckets.join(', ')}` },
          ...st.buckets.map((b, i) => h('span', { style: `background:${colour(b, nb)}`, title: `position ${i}: bucket ${b}` }, String(b))),
        );
        out.append(h('h4', {}, `${name}: bucket of each position`), row);
      }
      const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
      const table = h(
        'table',
        { 'data-result': 'ok' },
        h('caption', {}, `Neighbours should share a bucket far more often than random pairs (${pct(1 / nb)} for a uniform hash)`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Hash'), h('th', { scope: 'col', class: 'num' }, 'Neighbours in the same bucket'), h('th', { scope: 'col', class: 'num' }, 'All pairs in the same bucket'), h('th', { scope: 'col', class: 'num' }, 'Buckets used'), h('th', { scope: 'col', class: 'num' }, 'Largest bucket'))),
        h('tbody', {}, ...results.map(([name, st]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', { class: 'num' }, pct(st.neighbours)), h('td', { class: 'num' }, pct(st.allPairs)), h('td', { class: 'num' }, `${st.used} of ${nb}`), h('td', { class: 'num' }, String(st.largest))))),
      );
      out.append(h('div', { class: 'table-wrap' }, table));
    } catch (e) {
      out.append(h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    } finally {
      button.disabled = false;
    }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void run();
  });
  void run();
}

onReady(start);
