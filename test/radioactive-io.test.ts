/**
 * File formats for `paperlab radioactive`: the PNG codec and the .npy reader/writer, against files
 * written by independent Python code (numpy.save; a hand-written PNG encoder using every row filter,
 * palettes, 1/2/16-bit depths), plus image-set folders and arrays round-tripping through disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodePng, encodePng, crc32 } from '../src/radioactive/png.js';
import { readNpy, writeNpy } from '../src/radioactive/npy.js';
import { loadImageSet, saveImageSet } from '../src/radioactive/io.js';
import { PaperlabError } from '../src/core/errors.js';

// Generated once with Python 3 (zlib, struct, numpy 1.x); `data` is the expected 8-bit decoding.
const REF = {"grey8": {"png": "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAAAAABjWKqcAAAAHElEQVR4nGNgUPXKn8IYrQoETNEgwLztgIODAwBDtgZlsDMNLQAAAABJRU5ErkJggg==", "w": 5, "h": 4, "c": 1, "data": [0, 37, 74, 111, 148, 91, 128, 165, 202, 239, 182, 219, 0, 37, 74, 17, 54, 91, 128, 165]}, "rgb8": {"png": "iVBORw0KGgoAAAANSUhEUgAAAAMAAAADCAIAAADZSiLoAAAAHElEQVR4nGNhCFhgBAbMIjYpyiCwmFGj4gREDABhqwa/3YEuSwAAAABJRU5ErkJggg==", "w": 3, "h": 3, "c": 3, "data": [0, 80, 160, 50, 130, 210, 100, 180, 4, 20, 100, 180, 70, 150, 230, 120, 200, 24, 40, 120, 200, 90, 170, 250, 140, 220, 44]}, "grey16": {"png": "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACEAAAAAAHTY67AAAAEklEQVR4nGMSMvn/gen9mcYJABa1BQa2TbRTAAAAAElFTkSuQmCC", "w": 2, "h": 2, "c": 1, "data": [18, 255, 1, 128]}, "palette2": {"png": "iVBORw0KGgoAAAANSUhEUgAAAAQAAAACAgMAAAACxpXwAAAADFBMVEX/AAAA/wAAAP8KFB4iiCkEAAAAAnRSTlP/gAgPs2oAAAAMSURBVHicY5BmeAIAATkBAEVkkZsAAAAASUVORK5CYII=", "w": 4, "h": 2, "c": 4, "data": [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255, 10, 20, 30, 255, 10, 20, 30, 255, 0, 0, 255, 255, 0, 255, 0, 128, 255, 0, 0, 255]}, "greyalpha": {"png": "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAQAAABeK7cBAAAADUlEQVR4nGPkOvHBAgAEogH8axiJPwAAAABJRU5ErkJggg==", "w": 2, "h": 1, "c": 2, "data": [10, 200, 250, 0]}, "grey1": {"png": "iVBORw0KGgoAAAANSUhEUgAAAAoAAAABAQAAAADPjgLTAAAAC0lEQVR4nGPY3AAAAekBNAkKFdQAAAAASUVORK5CYII=", "w": 10, "h": 1, "c": 1, "data": [255, 0, 255, 255, 0, 0, 255, 255, 255, 0]}, "npy_f8": "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAOA/AAAAAAAA8D8AAAAAAAD4PwAAAAAAAABAAAAAAAAABEA=", "npy_i8": "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDUsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoDAAAAAAAAAAEAAAAAAAAABAAAAAAAAAABAAAAAAAAAAUAAAAAAAAA", "npy_u1": "k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAvr/"} as const;

const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));

test('PNG decoder reads independently encoded files: all filters, RGB, 16-bit, palette + tRNS, grey+alpha, 1-bit', () => {
  for (const key of ['grey8', 'rgb8', 'grey16', 'palette2', 'greyalpha', 'grey1'] as const) {
    const r = REF[key];
    const img = decodePng(bytes(r.png), key);
    assert.equal(img.width, r.w, key);
    assert.equal(img.height, r.h, key);
    assert.equal(img.channels, r.c, key);
    assert.deepEqual(Array.from(img.data), r.data, key);
  }
});

test('PNG encoder round-trips and writes valid CRCs', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926); // the standard check value
  for (const channels of [1, 2, 3, 4] as const) {
    const w = 7;
    const h = 5;
    const data = Uint8Array.from({ length: w * h * channels }, (_, i) => (i * 53 + 11) % 256);
    const back = decodePng(encodePng({ width: w, height: h, channels, data }));
    assert.equal(back.channels, channels);
    assert.deepEqual(Array.from(back.data), Array.from(data));
  }
  const good = encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) });
  const bad = good.slice();
  bad[bad.length - 20]! ^= 0xff; // inside IDAT
  assert.throws(() => decodePng(bad, 'bad.png'), (e: unknown) => e instanceof PaperlabError && /bad\.png/.test((e as Error).message));
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3]), 'x.png'), /not a PNG/);
});

test('.npy reader reads numpy.save output; writer is byte-identical to numpy.save', () => {
  const f8 = readNpy(bytes(REF.npy_f8));
  assert.deepEqual(f8.shape, [2, 3]);
  assert.deepEqual(Array.from(f8.data), [0, 0.5, 1, 1.5, 2, 2.5]);
  const i8 = readNpy(bytes(REF.npy_i8));
  assert.deepEqual(Array.from(i8.data), [3, 1, 4, 1, 5]);
  const u1 = readNpy(bytes(REF.npy_u1));
  assert.ok(u1.data instanceof Uint8Array);
  assert.deepEqual(Array.from(u1.data), [1, 2, 250, 255]);
  // np.save(np.arange(6, dtype='<f4').reshape(2, 3)), np.arange(4, dtype='u1'), np.array([7, -1], '<i4')
  const numpy = [
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=',
    'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDQsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAQID',
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoHAAAA/////w==',
  ];
  assert.equal(Buffer.from(writeNpy(new Float32Array([0, 1, 2, 3, 4, 5]), [2, 3])).toString('base64'), numpy[0]);
  assert.equal(Buffer.from(writeNpy(new Uint8Array([0, 1, 2, 3]), [4])).toString('base64'), numpy[1]);
  assert.equal(Buffer.from(writeNpy(new Int32Array([7, -1]), [2])).toString('base64'), numpy[2]);
  assert.throws(() => readNpy(new Uint8Array(20), 'x.npy'), (e: unknown) => e instanceof PaperlabError && /x\.npy/.test((e as Error).message));
  assert.throws(() => writeNpy(new Float32Array(5), [2, 3]), PaperlabError);
});

test('image sets: class folders of PNGs and .npy arrays round-trip through disk', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paperlab-radio-io-'));
  try {
    // Folder with class sub-folders 0 and 2 (numeric names are the labels).
    for (const [cls, vals] of [
      ['0', [0, 128]],
      ['2', [255]],
    ] as const) {
      mkdirSync(path.join(dir, 'imgs', cls), { recursive: true });
      vals.forEach((v, i) => writeFileSync(path.join(dir, 'imgs', cls, `im${i}.png`), encodePng({ width: 3, height: 2, channels: 1, data: new Uint8Array(6).fill(v) })));
    }
    const set = await loadImageSet(path.join(dir, 'imgs'));
    assert.deepEqual(set.shape, [3, 2, 3, 1]);
    assert.deepEqual(Array.from(set.labels!), [0, 0, 2]);
    assert.ok(Math.abs(set.images[6]! - 128 / 255) < 1e-7);
    const changed = set.images.map((v) => Math.min(1, v + 3 / 255));
    await saveImageSet(path.join(dir, 'out'), changed, set);
    const back = await loadImageSet(path.join(dir, 'out'));
    assert.deepEqual(back.files, set.files);
    for (let i = 0; i < changed.length; i++) assert.ok(Math.abs(back.images[i]! - changed[i]!) < 1e-6);

    // .npy: uint8 [N, H, W] with labels; saving keeps dtype and shape.
    writeFileSync(path.join(dir, 'x.npy'), writeNpy(Uint8Array.from([0, 10, 20, 30, 40, 50, 60, 255]), [2, 2, 2]));
    writeFileSync(path.join(dir, 'y.npy'), writeNpy(Int32Array.from([1, 0]), [2]));
    const arr = await loadImageSet(path.join(dir, 'x.npy'), { labels: path.join(dir, 'y.npy') });
    assert.deepEqual(arr.shape, [2, 2, 2, 1]);
    assert.deepEqual(Array.from(arr.labels!), [1, 0]);
    await saveImageSet(path.join(dir, 'x2.npy'), arr.images, arr);
    const re = readNpy(new Uint8Array((await import('node:fs')).readFileSync(path.join(dir, 'x2.npy'))));
    assert.deepEqual(re.shape, [2, 2, 2]);
    assert.deepEqual(Array.from(re.data), [0, 10, 20, 30, 40, 50, 60, 255]);

    // Bad inputs name the argument and the fix.
    writeFileSync(path.join(dir, 'big.npy'), writeNpy(Float32Array.from([0, 2]), [1, 1, 2]));
    await assert.rejects(loadImageSet(path.join(dir, 'big.npy')), (e: unknown) => e instanceof PaperlabError && e.argument === 'images' && /divide/.test(e.fix));
    await assert.rejects(loadImageSet(path.join(dir, 'x.npy'), { labels: path.join(dir, 'x.npy') }), (e: unknown) => e instanceof PaperlabError && e.argument === 'labels');
    await assert.rejects(loadImageSet(path.join(dir, 'missing')), (e: unknown) => e instanceof PaperlabError && e.argument === 'images');
    await assert.rejects(saveImageSet(path.join(dir, 'o.png'), arr.images, arr), (e: unknown) => e instanceof PaperlabError && e.argument === 'out');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
