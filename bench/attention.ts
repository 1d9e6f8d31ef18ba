/**
 * `paperlab bench attention [--json]`: forward and forward+backward milliseconds and the peak tensor
 * bytes of one pass, per attention kind and sequence length (measureAttention, which the
 * attention-scaling experiment reuses).
 */
import { ATTENTION_KINDS, type AttentionKind } from '../src/attention/attention.js';
import { type Measurement, measureAttention } from '../src/attention/measure.js';
import { engineInfo } from '../src/core/engine.js';
import { UsageError, intOption } from '../src/cli/args.js';
import type { Benchmark } from './types.js';

export interface AttentionBenchResult {
  backend: string;
  native: boolean;
  settings: { batch: number; heads: number; dHead: number; causal: boolean; repeats: number; maxMs: number };
  rows: Measurement[];
  /** Lengths not run because a shorter one of the same kind already took longer than maxMs. */
  skipped: Array<{ kind: AttentionKind; seqLen: number; reason: string }>;
}

function listOption(v: string | boolean | undefined, name: string, dflt: string): string[] {
  const s = typeof v === 'string' ? v : dflt;
  const items = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${name} expects a comma-separated list, got '${s}'`);
  return items;
}

export const attentionBench: Benchmark<AttentionBenchResult> = {
  name: 'attention',
  summary: 'forward+backward ms and peak tensor bytes per attention kind and sequence length',
  options: {
    kinds: { type: 'string' },
    seq: { type: 'string' },
    batch: { type: 'string' },
    heads: { type: 'string' },
    'd-head': { type: 'string' },
    causal: { type: 'boolean' },
    repeats: { type: 'string' },
    'bucket-size': { type: 'string' },
    'n-hashes': { type: 'string' },
    k: { type: 'string' },
    features: { type: 'string' },
    'max-ms': { type: 'string' },
  },
  async run(values) {
    const kinds = listOption(values.kinds, 'kinds', ATTENTION_KINDS.join(','));
    for (const k of kinds) {
      if (!(ATTENTION_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kinds: unknown kind '${k}' (use ${ATTENTION_KINDS.join(', ')})`);
    }
    const seqs = listOption(values.seq, 'seq', '256,512,1024,2048').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--seq expects whole numbers, got '${s}'`);
      return n;
    });
    const batch = intOption(values.batch, 'batch', 1, 1);
    const heads = intOption(values.heads, 'heads', 4, 1);
    const dHead = intOption(values['d-head'], 'd-head', 64, 1);
    const repeats = intOption(values.repeats, 'repeats', 3, 1);
    const maxMs = intOption(values['max-ms'], 'max-ms', 60_000, 1);
    const causal = values.causal === true;
    const bucketSize = intOption(values['bucket-size'], 'bucket-size', 64, 1);
    const nHashes = intOption(values['n-hashes'], 'n-hashes', 4, 1);
    const k = values.k === undefined ? undefined : intOption(values.k, 'k', 64, 1);
    const nbFeatures = values.features === undefined ? undefined : intOption(values.features, 'features', 256, 1);
    const rows: Measurement[] = [];
    const skipped: AttentionBenchResult['skipped'] = [];
    for (const kind of kinds as AttentionKind[]) {
      let tooSlow: number | undefined;
      for (const seqLen of seqs.slice().sort((a, b) => a - b)) {
        if (tooSlow !== undefined) {
          skipped.push({ kind, seqLen, reason: `length ${tooSlow} already took more than ${maxMs} ms` });
          continue;
        }
        if (kind === 'linformer' && k !== undefined && k > seqLen) {
          skipped.push({ kind, seqLen, reason: `k = ${k} > n` });
          continue;
        }
        const m = await measureAttention({ kind, seqLen, batch, heads, dHead, causal, repeats, bucketSize, nHashes, k, nbFeatures });
        rows.push(m);
        if (!values.json) process.stderr.write(`  ${kind} n=${seqLen}: ${m.forwardBackwardMs.toFixed(0)} ms\n`);
        if (m.forwardBackwardMs > maxMs) tooSlow = seqLen;
      }
    }
    const info = engineInfo();
    return {
      backend: info?.backend ?? 'unknown',
      native: info?.native.active ?? false,
      settings: { batch, heads, dHead, causal, repeats, maxMs },
      rows,
      skipped,
    };
  },
  format(r) {
    const mb = (b: number): string => (b / 2 ** 20).toFixed(1);
    const lines = [
      `attention: batch ${r.settings.batch}, ${r.settings.heads} heads × dHead ${r.settings.dHead}, ${r.settings.causal ? 'causal' : 'non-causal'} (Linformer always non-causal), median of ${r.settings.repeats}; backend ${r.backend}${r.native ? ' + native kernels' : ''}`,
      `${'kind'.padEnd(10)} ${'seq'.padStart(6)} ${'fwd ms'.padStart(9)} ${'fwd+bwd ms'.padStart(11)} ${'(cpu ms)'.padStart(9)} ${'peak MiB'.padStart(9)}  settings`,
    ];
    for (const m of r.rows) {
      const s = Object.entries(m.settings).map(([k, v]) => `${k}=${v}`).join(' ');
      lines.push(`${m.kind.padEnd(10)} ${String(m.seqLen).padStart(6)} ${m.forwardMs.toFixed(1).padStart(9)} ${m.forwardBackwardMs.toFixed(1).padStart(11)} ${m.forwardBackwardCpuMs.toFixed(0).padStart(9)} ${mb(m.peakBytes).padStart(9)}  ${s}`);
    }
    for (const s of r.skipped) lines.push(`${s.kind.padEnd(10)} ${String(s.seqLen).padStart(6)}  skipped: ${s.reason}`);
    return lines.join('\n');
  },
};
