/**
 * Fault suite (e): hostile input files. PNGs that declare giant sizes or hide a deflate bomb, .npy
 * headers that declare absurd shapes, truncated files, and a giant result.json for `paperlab
 * report`: each is refused with a PaperlabError (or a report problem) naming the file, without
 * allocating what the header claims (checked with the process's peak RSS staying far below it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { mkdirSync, mkdtempSync, writeFileSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PaperlabError } from '../../src/core/errors.js';
import { crc32, decodePng, encodePng } from '../../src/radioactive/png.js';
import { readNpy, writeNpy } from '../../src/radioactive/npy.js';
import { loadResults, MAX_RESULT_BYTES } from '../../src/report/load.js';

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(body).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}
function png(width: number, height: number, idat: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // depth
  ihdr[9] = 0; // grey
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}
const refused = (what: string, re: RegExp) => (e: unknown): boolean => e instanceof PaperlabError && e.argument === what && re.test(e.message);
const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;

test('PNG: giant declared sizes and deflate bombs are refused before allocating', () => {
  // 16 × 16 image whose IDAT inflates to 128 MiB (≈ 130 KB compressed): before the fix all of it was inflated.
  const bomb = deflateSync(new Uint8Array(128 * 2 ** 20), { level: 9 });
  global.gc?.();
  const rss0 = rssMiB();
  // 60 000 × 60 000 grey = 3.6 GB of pixels declared by a 100-byte file.
  assert.throws(() => decodePng(png(60000, 60000, deflateSync(Buffer.alloc(10))), 'giant.png'), refused('giant.png', /declares 60000 × 60000 pixels/));
  assert.throws(() => decodePng(png(16, 16, bomb), 'bomb.png'), refused('bomb.png', /more image data than its 16 × 16 size needs/));
  assert.ok(rssMiB() - rss0 < 48, `peak memory grew by ${(rssMiB() - rss0).toFixed(0)} MiB`);
  // Truncated, wrong signature, zero size, an honest image still decodes.
  const ok = encodePng({ width: 3, height: 2, channels: 1, data: Uint8Array.from([0, 50, 100, 150, 200, 250]) });
  assert.deepEqual(Array.from(decodePng(ok, 'ok.png').data), [0, 50, 100, 150, 200, 250]);
  for (const n of [0, 7, 20, ok.length - 13]) assert.throws(() => decodePng(ok.subarray(0, n), 'cut.png'), refused('cut.png', /./), `truncated to ${n}`);
  assert.throws(() => decodePng(Buffer.from('GIF89a....'), 'x.gif'), refused('x.gif', /is not a PNG file/));
  assert.throws(() => decodePng(png(0, 5, deflateSync(Buffer.alloc(10))), 'zero.png'), refused('zero.png', /./));
});

test('.npy: absurd declared shapes, wrong headers and truncation are refused before allocating', () => {
  const header = (dict: string): Uint8Array => {
    const h = `${dict}`.padEnd(118, ' ') + '\n';
    const b = Buffer.alloc(10 + h.length);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(b);
    b.writeUInt16LE(h.length, 8);
    b.write(h, 10, 'latin1');
    return b;
  };
  const rss0 = rssMiB();
  assert.throws(() => readNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }"), 'giant.npy'), refused('giant.npy', /is truncated: the header promises/));
  assert.throws(() => readNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }"), 'neg.npy'), refused('neg.npy', /invalid shape/));
  assert.throws(() => readNpy(header("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }"), 'cplx.npy'), refused('cplx.npy', /dtype/));
  assert.throws(() => readNpy(header("__import__('os').system('echo pwned')"), 'evil.npy'), refused('evil.npy', /unreadable .npy header/));
  assert.ok(rssMiB() - rss0 < 64);
  const good = writeNpy(Float32Array.from([1, 2, 3, 4]), [2, 2]);
  assert.deepEqual(Array.from(readNpy(good, 'good.npy').data), [1, 2, 3, 4]);
  for (const n of [0, 9, 60, good.length - 1]) assert.throws(() => readNpy(good.subarray(0, n), 'cut.npy'), refused('cut.npy', /./), `truncated to ${n}`);
});

test('paperlab report: a giant result.json is listed as a problem, not read into memory', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paperlab-hostile-'));
  mkdirSync(path.join(dir, 'huge'));
  const fd = openSync(path.join(dir, 'huge', 'result.json'), 'w');
  ftruncateSync(fd, MAX_RESULT_BYTES * 64); // 2 GiB, sparse: before the fix readFile tried to load it
  closeSync(fd);
  const rss0 = rssMiB();
  const r = await loadResults(dir);
  assert.ok(rssMiB() - rss0 < 64);
  assert.equal(r.results.length, 0);
  assert.match(r.problems.map((p) => `${p.path} ${p.problem}`).join('\n'), /huge\/result\.json is 2048 MiB, more than the 32 MiB/);
  writeFileSync(path.join(dir, 'huge', 'result.json'), '');
});
