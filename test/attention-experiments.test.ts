import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../src/core/tf.js';
import { initEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { runExperiment } from '../src/experiments/runner.js';
import { validateResult } from '../src/experiments/result.js';
import type { Experiment } from '../src/experiments/types.js';
import {
  LRA,
  REFORMER_TABLE2,
  batchPerStep,
  buildCharVocab,
  crossoverLength,
  encodeChars,
  labelSeed,
  maskedCharBatch,
  maskedDuplicationBatch,
  predictPowerLaw,
  trainLockstep,
  valueAtTime,
} from '../src/experiments/attention-common.js';
import { assembleScaling, attentionScaling, runScaling, type Cell } from '../src/experiments/attention-scaling.js';
import { EVAL_COLS, FULL_ROW, duplicationTable, duplicationVerdict, lsh, paperAccuracy, reformerDuplication, runDuplication, type RowResult } from '../src/experiments/reformer-duplication.js';
import { accuracyTable, accuracyVerdict, attentionAccuracy, equalTimeQuality, runAccuracy, taskLearned, unigramBits, unigramBitsOn, type RunResult } from '../src/experiments/attention-accuracy.js';

const close = (a: number, b: number, tol = 1e-9): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('crossoverLength: below range, interpolated (log-log), must hold at longer lengths', () => {
  const ns = [256, 512, 1024, 2048];
  const below = crossoverLength(ns.slice(0, 2), [10, 40], [5, 10]);
  assert.equal(below.how, 'below range');
  assert.equal(below.n, 256);
  // ratios 2 → 0.75: log ratio is linear in log n, zero at 256·2^(ln2 / (ln2 − ln0.75))
  const c = crossoverLength(ns.slice(0, 3), [10, 40, 160], [20, 30, 45]);
  assert.equal(c.how, 'interpolated');
  assert.equal(c.n, Math.round(256 * Math.pow(2, Math.log(2) / (Math.log(2) - Math.log(0.75)))));
  // faster at 512 but slower again at 1024: the crossover is the last switch, between 1024 and 2048
  const late = crossoverLength(ns, [10, 40, 160, 640], [20, 30, 200, 300]);
  assert.equal(late.how, 'interpolated');
  assert.ok(late.n! > 1024 && late.n! < 2048, String(late.n));
  assert.equal(late.n, Math.round(1024 * Math.pow(2, Math.log(1.25) / (Math.log(1.25) - Math.log(300 / 640)))));
});

test('crossoverLength: full unavailable, extrapolated power laws, none, and argument checks', () => {
  const gone = crossoverLength([256, 512, 1024], [10, 40, null], [20, 60, 100]);
  assert.equal(gone.how, 'full unavailable');
  assert.equal(gone.n, 1024);
  // full ∝ n², kind ∝ n, kind 4× slower at 512: 4·x² = 16·x at x = n/512 = 4
  const ex = crossoverLength([256, 512], [1, 4], [8, 16]);
  assert.equal(ex.how, 'extrapolated');
  assert.equal(ex.n, 2048);
  const none = crossoverLength([256, 512], [1, 2], [2, 4]);
  assert.equal(none.how, 'none');
  assert.equal(none.n, null);
  assert.equal(crossoverLength([256], [1], [2]).n, null);
  assert.throws(() => crossoverLength([256, 512], [1], [1, 2]), PaperlabError);
  assert.throws(() => crossoverLength([512, 256], [1, 2], [1, 2]), /ascending/);
});

test('predictPowerLaw: local exponent, with a floor, and one point', () => {
  assert.ok(close(predictPowerLaw([{ n: 256, v: 1 }, { n: 512, v: 4 }], 1024, 1)!, 16));
  assert.ok(close(predictPowerLaw([{ n: 256, v: 1 }], 512, 2)!, 4));
  assert.ok(close(predictPowerLaw([{ n: 256, v: 1 }, { n: 512, v: 1.1 }], 1024, 1)!, 2.2));
  assert.ok(close(predictPowerLaw([{ n: 256, v: 1 }, { n: 512, v: null }], 1024, 1)!, 4));
  assert.equal(predictPowerLaw([], 1024, 1), null);
});

test('assembleScaling: Table 3 ratios, out-of-memory labels, crossovers and a verdict from the numbers', () => {
  const lengths = [512, 1024];
  const mk = (kind: string, n: number, trainMs: number | null, fwd: number | null, peak: number | null, status: Cell['status'] = 'ok'): Cell => ({
    kind,
    n,
    status,
    note: status === 'ok' ? '' : 'predicted peak 9 GiB > the 6 GiB budget',
    forwardMs: fwd,
    trainMs,
    // CPU time: the wall-clock halved for full attention only, so the two clocks give different ratios
    forwardCpuMs: fwd === null ? null : kind === 'full' ? fwd / 2 : fwd,
    trainCpuMs: trainMs === null ? null : kind === 'full' ? trainMs / 2 : trainMs,
    trainPeakBytes: peak,
    forwardPeakBytes: peak === null ? null : peak / 2,
  });
  const cells: Cell[] = [
    mk('full', 512, 100, 30, 4000),
    mk('full', 1024, null, null, null, 'out of memory'),
    mk('linformer-128', 512, 50, 10, 1000),
    mk('linformer-128', 1024, 80, 20, 2000),
    mk('linear', 512, 200, 60, 1000),
    mk('linear', 1024, 300, 90, 2000),
  ];
  const kinds = [
    { id: 'full', kind: 'full' as const, growth: 2 },
    { id: 'linformer-128', kind: 'linformer' as const, k: 128, lra: 'linformer' as const, growth: 1 },
    { id: 'linear', kind: 'linear' as const, lra: 'linear' as const, growth: 1 },
  ];
  const { table, crossovers, verdict } = assembleScaling(cells, lengths, kinds, 'wall');
  const sp512 = table.find((r) => r.label.startsWith('Linformer k=128 inference speed-up over full (wall-clock), n=512'))!;
  assert.equal(sp512.ours, 3);
  assert.equal(sp512.paper, 1.5);
  const mem512 = table.find((r) => r.label.startsWith('Linformer k=128 inference memory saving over full, n=512'))!;
  assert.equal(mem512.ours, 4);
  const sp1024 = table.find((r) => r.label.startsWith('Linformer k=128 inference speed-up over full (wall-clock), n=1024'))!;
  assert.equal(sp1024.ours, null);
  assert.match(sp1024.label, /full: out of memory/);
  const lra = table.find((r) => r.label.startsWith('linear training speed relative to full (wall-clock), n=1024'))!;
  assert.equal(lra.ours, null);
  assert.ok(close(lra.paper as number, Number((LRA.linear.steps1k / LRA.transformer.steps1k).toPrecision(3))));
  assert.equal(crossovers['linformer-128']!.how, 'below range');
  assert.equal(crossovers.linear!.how, 'full unavailable');
  assert.equal(crossovers.linear!.n, 1024);
  const raw = table.find((r) => r.label.startsWith('forward+backward wall-clock, full, n=1024'))!;
  assert.equal(raw.ours, null);
  assert.match(raw.label, /out of memory: predicted peak/);
  assert.match(verdict, /Linformer k=128 infers 3\.0× faster than full attention at n=512 \(Table 3: 1\.5×\)/);
  assert.match(verdict, /out of memory from n=1024/);
  assert.match(verdict, /^Times are wall-clock/);
  // the CPU clock: full attention's times halve, so Linformer's speed-up at 512 is 1.5×
  const cpu = assembleScaling(cells, lengths, kinds, 'cpu');
  assert.equal(cpu.table.find((r) => r.label.startsWith('Linformer k=128 inference speed-up over full (CPU time), n=512'))!.ours, 1.5);
  assert.match(cpu.verdict, /^Times are process CPU time/);
});

test('reformer-duplication: paper values, table and verdict from given accuracies', () => {
  assert.equal(paperAccuracy(FULL_ROW, EVAL_COLS[0]!), 100);
  assert.equal(paperAccuracy(lsh('angular', 4), EVAL_COLS.find((c) => c.id === 'LSH-8')!), REFORMER_TABLE2.lsh4.lsh8);
  assert.equal(paperAccuracy(lsh('angular', 1), EVAL_COLS[0]!), 0.8);
  assert.equal(paperAccuracy(lsh('coset', 2), EVAL_COLS.find((c) => c.id === 'LSH-2')!), null);
  assert.equal(paperAccuracy(lsh('angular', 2), EVAL_COLS.find((c) => c.id === 'coset LSH-2')!), null);
  const acc = (v: number): Record<string, number | null> => Object.fromEntries(EVAL_COLS.map((c) => [c.id, v]));
  const results: RowResult[] = [
    { row: FULL_ROW, stepsDone: 10, steps: 10, trainSeconds: 1, msPerStep: 100, cpuMsPerStep: 50, accuracy: acc(1) },
    { row: lsh('angular', 4), stepsDone: 10, steps: 10, trainSeconds: 4, msPerStep: 400, cpuMsPerStep: 150, accuracy: { ...acc(0.9), 'coset LSH-8': null } },
    { row: lsh('coset', 4), stepsDone: 10, steps: 10, trainSeconds: 4, msPerStep: 380, cpuMsPerStep: 140, accuracy: acc(0.95) },
  ];
  const table = duplicationTable(results);
  assert.equal(table.length, 3 * EVAL_COLS.length + 6);
  const row = table.find((r) => r.label === 'trained LSH-4 → evaluated LSH-8')!;
  assert.equal(row.ours, 90);
  assert.equal(row.paper, 100);
  const skipped = table.find((r) => r.label.startsWith('trained LSH-4 → evaluated coset LSH-8'))!;
  assert.equal(skipped.ours, null);
  assert.match(skipped.label, /not evaluated/);
  const v = duplicationVerdict(results, { length: 64, native: true });
  assert.match(v, /full attention reaches 100\.0 % and LSH-4 training evaluated with LSH-4 90\.0 %/);
  assert.match(v, /a 10\.0-point loss/);
  assert.match(v, /coset LSH-4 95\.0 % vs LSH-4 90\.0 %/);
  assert.match(v, /takes 3\.0× the CPU time of a full-attention step/);
  assert.doesNotMatch(v, /Native kernels were inactive/);
  assert.match(duplicationVerdict(results, { length: 64, native: false }), /Native kernels were inactive/);
});

test('attention-accuracy: gaps beside LRA/Linformer, equal-time quality, and the three doubts', () => {
  const run = (task: 'duplication' | 'brown', kind: RunResult['kind'], quality: number, ms: number): RunResult => ({
    task,
    kind,
    stepsDone: 4,
    steps: 4,
    trainSeconds: (4 * ms) / 1000,
    msPerStep: 3 * ms,
    cpuMsPerStep: ms,
    quality,
    history: [
      { step: 2, seconds: (2 * ms) / 1000, accuracy: quality / 2, bits: quality * 2 },
      { step: 4, seconds: (4 * ms) / 1000, accuracy: quality, bits: quality },
    ],
  });
  const runs: RunResult[] = [
    run('duplication', 'full', 0.9, 100),
    run('duplication', 'lsh', 0.8, 300),
    run('duplication', 'linformer', 0.3, 50),
    run('duplication', 'linear', 0.5, 60),
    run('duplication', 'performer', 0.6, 200),
    run('brown', 'full', 2.0, 100),
    run('brown', 'lsh', 2.2, 300),
    run('brown', 'linformer', 2.5, 50),
    run('brown', 'linear', 2.3, 60),
    run('brown', 'performer', 2.4, 200),
  ];
  const table = accuracyTable(runs);
  const gap = table.find((r) => r.label.startsWith('accuracy lost against full attention, linformer'))!;
  assert.equal(gap.ours, 60);
  assert.match(String(gap.paper), /3\.03 \(LRA\); 0\.50 \(Linformer/);
  const acc = table.find((r) => r.label.startsWith('masked duplication accuracy, full'))!;
  assert.equal(acc.paper, LRA.transformer.accuracy);
  const bpc = table.find((r) => r.label.startsWith('bits per character added against full attention, linear'))!;
  assert.ok(close(bpc.ours as number, 0.3, 1e-6));
  const speed = table.find((r) => r.label.startsWith('training speed relative to full (CPU time), brown, linformer'))!;
  assert.equal(speed.ours, 2);
  // equal time = the fastest run's 0.2 s: linformer at its end, full only at step 2 (0.2 s)
  const eq = equalTimeQuality(runs);
  assert.equal(eq['duplication/linformer'], 0.3);
  assert.equal(eq['duplication/full'], 0.45);
  assert.equal(eq['duplication/lsh'], null);
  const v = accuracyVerdict(runs, { dupLength: 64, brownLength: 128, unigramBits: 4.4 });
  assert.match(v, /Linformer costs −60\.0 points on masked duplication and \+0\.500 bpc on Brown/);
  assert.match(v, /larger than claimed/);
  assert.match(v, /both kernelized kinds match or beat Linformer/);
  assert.match(v, /linformer gains 2\.0×/);
  const close2 = accuracyVerdict(
    runs.map((r) => (r.kind === 'linformer' ? { ...r, quality: r.task === 'duplication' ? 0.897 : 2.01 } : r)),
    { dupLength: 64, brownLength: 128, unigramBits: 4.4 },
  );
  assert.match(close2, /within what was claimed/);
  assert.match(close2, /neither kernelized kind beats Linformer/);
  // a budget too small for full attention to learn either task: no quality claim
  const early = runs.map((r) => (r.kind === 'full' ? { ...r, quality: r.task === 'duplication' ? 0.3 : 4.35 } : r));
  assert.equal(taskLearned(early, 'duplication', 4.4), false);
  assert.equal(taskLearned(early, 'brown', 4.4), false);
  assert.equal(taskLearned(runs, 'brown', 4.4), true);
  assert.match(accuracyVerdict(early, { dupLength: 64, brownLength: 128, unigramBits: 4.4 }), /inconclusive at this budget — full attention reached only 30\.0 %/);
  // only duplication learned: Brown is left out of the comparison
  const half = runs.map((r) => (r.kind === 'full' && r.task === 'brown' ? { ...r, quality: 4.35 } : r));
  assert.match(accuracyVerdict(half, { dupLength: 64, brownLength: 128, unigramBits: 4.4 }), /Linformer costs −60\.0 points on masked duplication and n\/a on Brown.*unigram stage/);
  assert.ok(close(unigramBits(new Int32Array([0, 0, 1, 1]), 3), 1));
  assert.ok(close(unigramBits(new Int32Array([2, 2, 2]), 3), 0));
  // baseline on the scored positions: training text 0 0 0 (size 2, add-one) → p0 = 4/5, p1 = 1/5;
  // scored targets 0 and 1 (the unweighted position does not count)
  const scored = { tokens: new Int32Array(3), targets: new Int32Array([0, 1, 1]), weights: new Float32Array([1, 1, 0]), batch: 1, length: 3 };
  assert.ok(close(unigramBitsOn([scored], new Int32Array([0, 0, 0]), 2), (-Math.log2(0.8) - Math.log2(0.2)) / 2));
  assert.ok(close(unigramBitsOn([scored], new Int32Array([0, 1]), 2), 1));
});

test('labelSeed depends only on the run seed and the label, not on earlier draws', () => {
  assert.equal(labelSeed(3, 'model-full'), labelSeed(3, 'model-full'));
  assert.notEqual(labelSeed(3, 'model-full'), labelSeed(3, 'model-LSH-1'));
  assert.notEqual(labelSeed(3, 'model-full'), labelSeed(4, 'model-full'));
  assert.equal(labelSeed(3, 'x'), new Rng(3).fork('x').nextU32());
});

test('valueAtTime reads the last evaluation at or before a time', () => {
  const h = [{ seconds: 1, a: 0.1 }, { seconds: 2, a: 0.5 }, { seconds: 3, a: 0.9 }];
  assert.equal(valueAtTime(h, 'a', 0.5), null);
  assert.equal(valueAtTime(h, 'a', 2), 0.5);
  assert.equal(valueAtTime(h, 'a', 2.9), 0.5);
  assert.equal(valueAtTime(h, 'a', 10), 0.9);
});

test('masked duplication: 0 w 0 M…M with w as the targets at the masked positions', () => {
  const b = maskedDuplicationBatch({ batch: 3, length: 10, vocab: 7 }, new Rng(1));
  const half = 5;
  for (let r = 0; r < 3; r++) {
    const row = Array.from(b.tokens.slice(r * 10, r * 10 + 10));
    assert.equal(row[0], 0);
    assert.equal(row[half], 0);
    for (let i = 1; i < half; i++) {
      assert.ok(row[i]! >= 1 && row[i]! < 7);
      assert.equal(row[half + i], 7, 'second copy masked');
      assert.equal(b.targets[r * 10 + half + i], row[i]);
      assert.equal(b.weights[r * 10 + half + i], 1);
      assert.equal(b.weights[r * 10 + i], 0);
    }
  }
  assert.equal(b.weights.reduce((a, x) => a + x, 0), 3 * (half - 1));
  // same seed, same batch
  assert.deepEqual(maskedDuplicationBatch({ batch: 3, length: 10, vocab: 7 }, new Rng(1)).tokens, b.tokens);
});

test('character vocabulary and masked character batches', () => {
  const text = 'abracadabra!' + 'a'.repeat(40) + 'z';
  const v = buildCharVocab(text, 2);
  assert.deepEqual(v.chars, ['a', 'b', 'r']);
  assert.equal(v.unk, 3);
  assert.equal(v.mask, 4);
  assert.equal(v.size, 5);
  const ids = encodeChars(text, v);
  assert.deepEqual(Array.from(ids.slice(0, 5)), [0, 1, 2, 0, 3]);
  const b = maskedCharBatch(ids, { batch: 4, length: 8, rate: 0.5, mask: v.mask }, new Rng(3));
  let masked = 0;
  for (let p = 0; p < 32; p++) {
    if (b.weights[p] === 1) {
      masked++;
      assert.equal(b.tokens[p], v.mask);
      assert.ok(b.targets[p]! >= 0 && b.targets[p]! < v.mask);
    } else assert.notEqual(b.tokens[p], v.mask);
  }
  assert.ok(masked > 4 && masked < 28, String(masked));
  // rate 0 still masks exactly one position per row
  const one = maskedCharBatch(ids, { batch: 4, length: 8, rate: 0, mask: v.mask }, new Rng(3));
  for (let r = 0; r < 4; r++) assert.equal(one.weights.slice(r * 8, r * 8 + 8).reduce((a, x) => a + x, 0), 1);
  assert.throws(() => maskedCharBatch(ids.slice(0, 5), { batch: 1, length: 8, rate: 0.1, mask: 4 }, new Rng(0)), PaperlabError);
});

test('trainLockstep: every run takes the same steps on the same batches; a spent budget stops all', async () => {
  await initEngine({ seed: 0 });
  const made: number[] = [];
  let counter = 0;
  const batchAt = batchPerStep(() => {
    made.push(counter);
    return counter++;
  });
  const mk = (target: number) => {
    const w = tf.variable(tf.scalar(0));
    const seen: number[] = [];
    return {
      w,
      seen,
      run: {
        label: `t${target}`,
        vars: { w },
        loss: (step: number) => {
          seen.push(batchAt(step));
          return tf.square(tf.sub(w, target)) as tf.Scalar;
        },
        evaluate: () => ({ w: w.dataSync()[0]! }),
      },
    };
  };
  const a = mk(1);
  const b = mk(-1);
  const res = trainLockstep([a.run, b.run], { steps: 30, lr: 0.1, warmupSteps: 0, clipNorm: 0, evalEvery: 10 });
  assert.deepEqual(res.map((r) => r.stepsDone), [30, 30]);
  assert.deepEqual(a.seen, b.seen, 'same batch per step for every run');
  assert.equal(made.length, 30);
  assert.ok(res[0]!.history.at(-1)!.w! > 0.5 && res[1]!.history.at(-1)!.w! < -0.5);
  assert.deepEqual(res[0]!.history.map((h) => h.step), [10, 20, 30]);
  assert.ok(res.every((r) => r.cpuSeconds >= 0 && r.trainSeconds > 0));
  // no time cap: a second call from the same start trains the same steps to the same weights
  const w0 = [a.w.dataSync()[0]!, b.w.dataSync()[0]!];
  a.w.assign(tf.scalar(0));
  b.w.assign(tf.scalar(0));
  const again = trainLockstep([a.run, b.run], { steps: 30, lr: 0.1, warmupSteps: 0, clipNorm: 0, evalEvery: 0 });
  assert.deepEqual(again.map((r) => r.stepsDone), [30, 30]);
  assert.deepEqual([a.w.dataSync()[0]!, b.w.dataSync()[0]!], w0);
  assert.throws(() => trainLockstep([a.run], { steps: 0, lr: 0.1, warmupSteps: 0, clipNorm: 0, evalEvery: 0 }), /steps/);
  tf.dispose([a.w, b.w]);
});

async function runTiny(exp: Experiment, run: Experiment['run']): Promise<Record<string, unknown>> {
  const out = mkdtempSync(path.join(tmpdir(), 'paperlab-attn-'));
  const { file } = await runExperiment({ ...exp, run }, { out, seed: 3, quick: true, log: () => {} });
  const r = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(validateResult(r), []);
  for (const c of (r.charts as Array<{ id: string }>) ?? []) assert.ok(existsSync(path.join(path.dirname(file), `${c.id}.svg`)), c.id);
  return r;
}

test('tiny runs of the three experiments write schema-valid results with charts', async () => {
  await initEngine({ seed: 0 });
  const scaling = await runTiny(attentionScaling, (ctx) =>
    runScaling(ctx, { lengths: [16, 32], batch: 1, heads: 1, dHead: 8, warmup: 0, repeats: 1, budgetSec: 60, pointCapSec: 30, memoryBudgetBytes: 2 ** 30, clock: 'cpu' }),
  );
  const cells = (scaling.metrics as { measurements: Cell[] }).measurements;
  assert.equal(cells.length, 2 * 7);
  assert.equal(cells.find((c) => c.kind === 'linformer-64' && c.n === 16)!.status, 'not applicable');
  assert.equal(cells.find((c) => c.kind === 'full' && c.n === 32)!.status, 'ok');
  assert.ok(typeof scaling.verdict === 'string' && (scaling.verdict as string).includes('Speed'));

  const dupSettings = { length: 16, vocab: 8, dModel: 16, heads: 2, dFF: 32, bucketSize: 4, batch: 4, steps: 2, lr: 1e-3, warmupSteps: 1, evalSequences: 4, rows: [FULL_ROW, lsh('angular', 1), lsh('coset', 1)] };
  const dup = await runTiny(reformerDuplication, (ctx) => runDuplication(ctx, dupSettings));
  // same seed, same numbers: every accuracy (and the final losses behind them) repeats exactly
  const dup2 = await runTiny(reformerDuplication, (ctx) => runDuplication(ctx, dupSettings));
  const accs = (r: Record<string, unknown>): unknown => (r.metrics as { rows: Array<{ accuracy: unknown }> }).rows.map((x) => x.accuracy);
  assert.deepEqual(accs(dup2), accs(dup));
  assert.equal((dup.table as unknown[]).length, 3 * EVAL_COLS.length + 6);
  assert.equal((dup.metrics as { rows: Array<{ stepsDone: number }> }).rows.every((r) => r.stepsDone === 2), true);

  const task = { dModel: 16, heads: 2, depth: 1, dFF: 32, batch: 2, steps: 2, lr: 1e-3, warmupSteps: 1, evalBatches: 1, bucketSize: 4, nHashes: 1, linformerK: 4 };
  const acc = await runTiny(attentionAccuracy, (ctx) =>
    runAccuracy(ctx, { duplication: { ...task, length: 8, vocab: 6 }, brown: { ...task, length: 16, maskRate: 0.15 }, evalPoints: 1 }),
  );
  const runs = (acc.metrics as { runs: Array<{ task: string; kind: string; stepsDone: number }> }).runs;
  assert.equal(runs.length, 10);
  assert.ok(runs.every((r) => r.stepsDone === 2));
  assert.match(acc.verdict as string, /Trade-off/);
});
