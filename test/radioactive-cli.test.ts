/**
 * `paperlab radioactive train|mark|detect` end to end on a few hundred MNIST digits stored as .npy
 * and as a PNG class folder: the files written, the JSON reports, and the errors for misuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadMnistArrays } from '../src/data/mnist.js';
import { Rng } from '../src/core/rng.js';
import { PaperlabError } from '../src/core/errors.js';
import { UsageError } from '../src/cli/args.js';
import { radioactive, readCarriers } from '../src/cli/radioactive.js';
import { writeNpy, readNpy } from '../src/radioactive/npy.js';
import { loadImageSet, saveImageSet } from '../src/radioactive/io.js';

process.env.PAPERLAB_QUIET = '1';

/** Runs the command in-process and returns what it printed on stdout. */
async function cli(args: string[]): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  // Only strings are ours: the test runner's own protocol messages (binary) pass through.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    if (typeof chunk !== 'string') return (write as (c: Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await radioactive.run(args);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

test('radioactive CLI: train, mark (.npy and PNG folder), detect white- and black-box', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperlab-radio-cli-'));
  try {
    const src = loadMnistArrays();
    const idx = new Rng(0).permutation(src.n).slice(0, 400);
    const x = new Uint8Array(400 * 784);
    const y = new Int32Array(400);
    idx.forEach((j, i) => {
      for (let p = 0; p < 784; p++) x[i * 784 + p] = Math.round(src.images[j * 784 + p]! * 255);
      y[i] = src.labels[j]!;
    });
    const f = (n: string): string => path.join(dir, n);
    writeFileSync(f('x.npy'), writeNpy(x.subarray(0, 300 * 784), [300, 28, 28]));
    writeFileSync(f('y.npy'), writeNpy(y.subarray(0, 300), [300]));
    writeFileSync(f('held.npy'), writeNpy(x.subarray(300 * 784), [100, 28, 28]));
    writeFileSync(f('heldy.npy'), writeNpy(y.subarray(300), [100]));
    const common = ['--json', '--backend', 'cpu'];

    const tr = JSON.parse(await cli(['train', '--images', f('x.npy'), '--labels', f('y.npy'), '--out', f('marker'), '--feature-dim', '12', '--hidden', '24', '--epochs', '6', '--batch-size', '50', '--lr', '0.01', ...common]));
    assert.equal(tr.arch, 'mlp');
    assert.ok(tr.trainAccuracy > 0.3, `train accuracy ${tr.trainAccuracy}`);
    assert.ok(existsSync(f('marker/manifest.json')));

    const mk = JSON.parse(await cli(['mark', '--images', f('x.npy'), '--labels', f('y.npy'), '--net', f('marker'), '--carriers', f('secret/c.npy'), '--out', f('marked.npy'), '--iterations', '3', '--seed', '5', ...common]));
    assert.equal(mk.carriersCreated, true);
    assert.equal(mk.images, 300);
    assert.ok(mk.psnr > 20 * Math.log10(255 / 10) - 1e-6, `PSNR ${mk.psnr}`);
    const carriers = await readCarriers(f('secret/c.npy'));
    assert.equal(carriers.numClasses, 10);
    assert.equal(carriers.dim, 12);
    const marked = readNpy(new Uint8Array((await import('node:fs')).readFileSync(f('marked.npy'))));
    assert.deepEqual(marked.shape, [300, 28, 28]);
    assert.ok(marked.data instanceof Uint8Array);
    let maxd = 0;
    for (let i = 0; i < marked.data.length; i++) maxd = Math.max(maxd, Math.abs(marked.data[i]! - x[i]!));
    assert.ok(maxd <= 10 && maxd > 0, `max |δ| = ${maxd}/255`);

    // A second marking reuses the existing carriers file.
    const again = JSON.parse(await cli(['mark', '--images', f('x.npy'), '--labels', f('y.npy'), '--net', f('marker'), '--carriers', f('secret/c.npy'), '--out', f('marked2.npy'), '--iterations', '1', ...common]));
    assert.equal(again.carriersCreated, false);

    // PNG class folder in, PNG class folder out.
    const set = await loadImageSet(f('x.npy'), { labels: f('y.npy') });
    const folder = { ...set, format: 'folder' as const, storage: 'uint8' as const, files: Array.from(set.labels!, (l, i) => path.join(String(l), `${i}.png`)) };
    await saveImageSet(f('pngs'), set.images.subarray(0, 40 * 784), { ...folder, shape: [40, 28, 28, 1], files: folder.files.slice(0, 40) });
    await cli(['mark', '--images', f('pngs'), '--net', f('marker'), '--carriers', f('secret/c.npy'), '--out', f('pngs-marked'), '--iterations', '2', ...common]);
    assert.deepEqual(readdirSync(f('pngs-marked')).sort(), readdirSync(f('pngs')).sort());

    await cli(['train', '--images', f('marked.npy'), '--labels', f('y.npy'), '--out', f('suspect'), '--arch', 'patch', '--feature-dim', '16', '--epochs', '1', '--batch-size', '50', ...common]);
    const wb = JSON.parse(await cli(['detect', '--net', f('marker'), '--suspect', f('suspect'), '--carriers', f('secret/c.npy'), '--images', f('held.npy'), ...common]));
    assert.equal(wb.mode, 'white-box');
    assert.equal(wb.cosines.length, 10);
    assert.ok(Number.isFinite(wb.combinedLog10p) && wb.combinedLog10p <= 0);
    assert.equal(typeof wb.flagged, 'boolean');

    const bb = JSON.parse(await cli(['detect', '--black-box', '--controls', '2', '--iterations', '2', '--net', f('marker'), '--suspect', f('suspect'), '--carriers', f('secret/c.npy'), '--images', f('held.npy'), '--labels', f('heldy.npy'), ...common]));
    assert.equal(bb.mode, 'black-box');
    assert.equal(bb.controlGaps.length, 2);
    assert.equal(bb.dof, 1);
    assert.ok(Number.isFinite(bb.log10p));

    // Misuse: usage errors and input errors that name the argument.
    await assert.rejects(cli(['mark', '--images', f('x.npy')]), UsageError);
    await assert.rejects(cli(['bogus']), UsageError);
    await assert.rejects(cli(['train', '--images', f('x.npy'), '--out', f('n2'), '--arch', 'resnet']), UsageError);
    await assert.rejects(cli(['train', '--images', f('x.npy'), '--out', f('n2'), '--backend', 'cpu']), (e: unknown) => e instanceof PaperlabError && e.argument === 'labels');
    writeFileSync(f('bad-c.npy'), writeNpy(new Float32Array(10 * 12).fill(1), [10, 12]));
    await assert.rejects(
      cli(['detect', '--net', f('marker'), '--suspect', f('suspect'), '--carriers', f('bad-c.npy'), '--images', f('held.npy'), '--backend', 'cpu']),
      (e: unknown) => e instanceof PaperlabError && /carriers/.test(e.argument),
    );
    await assert.rejects(
      cli(['detect', '--net', f('marker'), '--suspect', f('nope'), '--carriers', f('secret/c.npy'), '--images', f('held.npy'), '--backend', 'cpu']),
      (e: unknown) => e instanceof PaperlabError && e.argument === 'checkpoint',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
