/**
 * NumPy .npy files (format versions 1–3, little-endian, C order), so data owners can hand arrays
 * to `paperlab radioactive` straight from Python: `np.save('x.npy', images)`.
 *
 * Reads bool, int8/16/32/64, uint8/16/32/64, float32/64; writes uint8, int32 and float32.
 */
import { PaperlabError } from '../core/errors.js';

export type NpyDtype = 'uint8' | 'int32' | 'float32';
export type NpyData = Uint8Array | Int32Array | Float32Array | Float64Array | Int8Array | Int16Array | Uint16Array | Uint32Array;

export interface NpyArray {
  shape: number[];
  /** The numpy dtype string as stored, e.g. '<f4' or '|u1'. */
  descr: string;
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function parseHeader(text: string, what: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new PaperlabError(what, `has an unreadable .npy header: ${text.trim()}`, 'write the file with numpy.save');
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((v) => !Number.isInteger(v) || v < 0)) throw new PaperlabError(what, `has an invalid shape (${shapeText})`, 'write the file with numpy.save');
  return { descr, fortran: fortran === 'True', shape };
}

/** Parses the bytes of a .npy file; `what` names it in error messages. */
export function readNpy(buf: Uint8Array, what = 'npy file'): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw new PaperlabError(what, 'is not a .npy file (bad magic bytes)', 'save the array with numpy.save (not pickle or np.savez)');
  const major = buf[6]!;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = dv.getUint32(8, true);
    offset = 12;
  } else throw new PaperlabError(what, `uses .npy format version ${major}`, 'save it with a numpy release that writes format 1, 2 or 3');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(offset, offset + headerLen));
  const { descr, fortran, shape } = parseHeader(header, what);
  if (fortran) throw new PaperlabError(what, 'is stored in Fortran order', 'save np.ascontiguousarray(x) instead');
  const start = offset + headerLen;
  const count = shape.reduce((a, b) => a * b, 1);
  const endian = descr[0]!;
  const kind = descr.slice(1);
  if (endian === '>' && kind !== 'u1' && kind !== 'i1' && kind !== 'b1') {
    throw new PaperlabError(what, `is big-endian (${descr})`, "convert it with x.astype(x.dtype.newbyteorder('<'))");
  }
  const sizes: Record<string, number> = { b1: 1, u1: 1, i1: 1, u2: 2, i2: 2, u4: 4, i4: 4, f4: 4, u8: 8, i8: 8, f8: 8 };
  const size = sizes[kind];
  if (size === undefined) throw new PaperlabError(what, `has dtype ${descr}, which paperlab does not read`, 'convert it to float32 or uint8 with x.astype(np.float32)');
  const bytes = count * size;
  if (buf.length < start + bytes) throw new PaperlabError(what, `is truncated: the header promises ${bytes} data bytes, the file has ${buf.length - start}`, 'rewrite the file with numpy.save');
  const copy = buf.slice(start, start + bytes);
  const ab = copy.buffer;
  let data: NpyData;
  switch (kind) {
    case 'b1':
    case 'u1':
      data = new Uint8Array(ab);
      break;
    case 'i1':
      data = new Int8Array(ab);
      break;
    case 'u2':
      data = new Uint16Array(ab);
      break;
    case 'i2':
      data = new Int16Array(ab);
      break;
    case 'u4':
      data = new Uint32Array(ab);
      break;
    case 'i4':
      data = new Int32Array(ab);
      break;
    case 'f4':
      data = new Float32Array(ab);
      break;
    case 'f8':
      data = new Float64Array(ab);
      break;
    default: {
      // 64-bit integers: read as float64 numbers (exact below 2^53).
      const out = new Float64Array(count);
      const v = new DataView(ab);
      for (let i = 0; i < count; i++) out[i] = Number(kind === 'i8' ? v.getBigInt64(i * 8, true) : v.getBigUint64(i * 8, true));
      data = out;
    }
  }
  return { shape, descr, data };
}

const DESCR: Record<NpyDtype, string> = { uint8: '|u1', int32: '<i4', float32: '<f4' };

/** Serialises an array as .npy (format 1.0). */
export function writeNpy(data: Uint8Array | Int32Array | Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new PaperlabError('data', `has ${data.length} values but shape [${shape.join(', ')}] needs ${count}`, 'pass data matching the shape');
  const dtype: NpyDtype = data instanceof Uint8Array ? 'uint8' : data instanceof Int32Array ? 'int32' : 'float32';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
