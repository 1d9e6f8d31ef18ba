/**
 * A small PNG codec on top of node:zlib, so image folders need no extra dependency.
 *
 * Decodes non-interlaced PNGs of every colour type (grey, RGB, palette, grey+alpha, RGBA) at bit
 * depths 1–16 into 8-bit samples; encodes 8-bit grey, RGB and RGBA. Marked images must be stored
 * losslessly, which PNG is.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { PaperlabError } from '../core/errors.js';

export interface PngImage {
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** Row-major, interleaved 8-bit samples: height·width·channels. */
  data: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

let crcTable: Uint32Array | undefined;
/** CRC-32 (ISO 3309 / PNG), as stored after every chunk. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes a PNG file's bytes; `what` names the file in error messages. */
/** Largest image decodePng reads: 2^26 pixels (an 8192 × 8192 image). */
export const MAX_PIXELS = 2 ** 26;

export function decodePng(buf: Uint8Array, what = 'png'): PngImage {
  if (buf.length < 8 || SIGNATURE.some((b, i) => buf[i] !== b)) throw new PaperlabError(what, 'is not a PNG file', 'convert the image to PNG');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let ctype = -1;
  let interlace = 0;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= buf.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!, buf[pos + 6]!, buf[pos + 7]!);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (body.length !== len || pos + 12 + len > buf.length) throw new PaperlabError(what, `is truncated inside chunk ${type}`, 'the file is damaged; export it again');
    const stored = dv.getUint32(pos + 8 + len);
    if (crc32(buf.subarray(pos + 4, pos + 8 + len)) !== stored) throw new PaperlabError(what, `fails the CRC check of chunk ${type}`, 'the file is damaged; export it again');
    if (type === 'IHDR') {
      width = dv.getUint32(pos + 8);
      height = dv.getUint32(pos + 12);
      depth = body[8]!;
      ctype = body[9]!;
      interlace = body[12]!;
    } else if (type === 'PLTE') palette = body.slice();
    else if (type === 'tRNS') trns = body.slice();
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (!width || !height || ctype < 0) throw new PaperlabError(what, 'has no IHDR chunk', 'the file is damaged; export it again');
  if (interlace !== 0) throw new PaperlabError(what, 'is interlaced (Adam7)', 'save it without interlacing');
  const samplesPer: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const spp = samplesPer[ctype];
  if (spp === undefined || ![1, 2, 4, 8, 16].includes(depth)) throw new PaperlabError(what, `has colour type ${ctype} / bit depth ${depth}`, 'save it as an 8-bit grey, RGB or RGBA PNG');
  if (ctype === 3 && !palette) throw new PaperlabError(what, 'is a palette image without a PLTE chunk', 'the file is damaged; export it again');
  const bitsPerPixel = spp * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  // The header's size is checked before anything is allocated, and inflating stops at the bytes that
  // size needs: a tiny file declaring 60 000 × 60 000 pixels, or a deflate bomb, cannot take the memory.
  if (width * height > MAX_PIXELS) {
    throw new PaperlabError(what, `declares ${width} × ${height} pixels, more than paperlab reads (${MAX_PIXELS})`, 'downscale the image first');
  }
  const needed = height * (stride + 1);
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(Buffer.concat(idat), { maxOutputLength: needed }));
  } catch (e) {
    const big = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new PaperlabError(what, big ? `holds more image data than its ${width} × ${height} size needs` : `has corrupt image data (${(e as Error).message})`, 'the file is damaged; export it again');
  }
  if (raw.length < height * (stride + 1)) throw new PaperlabError(what, 'has less image data than its size needs', 'the file is damaged; export it again');
  const rows = new Uint8Array(height * stride);
  const prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : prev;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[i - bpp]! : 0;
      const b = up[i]!;
      const c = i >= bpp ? up[i - bpp]! : 0;
      const v = line[i]!;
      let r: number;
      if (filter === 0) r = v;
      else if (filter === 1) r = v + a;
      else if (filter === 2) r = v + b;
      else if (filter === 3) r = v + ((a + b) >> 1);
      else if (filter === 4) r = v + paeth(a, b, c);
      else throw new PaperlabError(what, `uses unknown row filter ${filter}`, 'the file is damaged; export it again');
      out[i] = r & 0xff;
    }
  }
  // Unpack samples to 8 bits.
  const sample = (y: number, idx: number): number => {
    const row = rows.subarray(y * stride, (y + 1) * stride);
    if (depth === 8) return row[idx]!;
    if (depth === 16) return row[idx * 2]!; // high byte
    const perByte = 8 / depth;
    const byte = row[Math.floor(idx / perByte)]!;
    const shift = 8 - depth * ((idx % perByte) + 1);
    return (byte >> shift) & ((1 << depth) - 1);
  };
  const scale = depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  if (ctype === 3) {
    const hasAlpha = !!trns && trns.length > 0;
    const channels = hasAlpha ? 4 : 3;
    const data = new Uint8Array(width * height * channels);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = sample(y, x);
        if (3 * p + 2 >= palette!.length) throw new PaperlabError(what, `uses palette index ${p} beyond the palette`, 'the file is damaged; export it again');
        const o = (y * width + x) * channels;
        data[o] = palette![3 * p]!;
        data[o + 1] = palette![3 * p + 1]!;
        data[o + 2] = palette![3 * p + 2]!;
        if (hasAlpha) data[o + 3] = p < trns!.length ? trns![p]! : 255;
      }
    }
    return { width, height, channels, data };
  }
  const channels = (ctype === 0 ? 1 : ctype === 4 ? 2 : ctype === 2 ? 3 : 4) as PngImage['channels'];
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * channels; i++) data[y * width * channels + i] = Math.round(sample(y, i) * scale);
  }
  return { width, height, channels, data };
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** Encodes 8-bit grey (1), grey+alpha (2), RGB (3) or RGBA (4) samples as a PNG. */
export function encodePng(img: PngImage): Uint8Array {
  const { width, height, channels, data } = img;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) throw new PaperlabError('image', `has invalid size ${width}×${height}`, 'pass positive integer sizes');
  if (![1, 2, 3, 4].includes(channels)) throw new PaperlabError('image', `has ${channels} channels`, 'pass 1, 2, 3 or 4 channels');
  if (data.length !== width * height * channels) throw new PaperlabError('image', `has ${data.length} samples, not ${width}·${height}·${channels}`, 'pass width·height·channels samples');
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    // Filter 2 (Up) compresses smooth images well and is trivial to apply.
    raw[y * (stride + 1)] = y === 0 ? 0 : 2;
    for (let i = 0; i < stride; i++) {
      const v = data[y * stride + i]!;
      raw[y * (stride + 1) + 1 + i] = y === 0 ? v : (v - data[(y - 1) * stride + i]!) & 0xff;
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : channels === 2 ? 4 : channels === 3 ? 2 : 6;
  const parts = [Uint8Array.from(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
