/**
 * Carriers: one random unit vector u_k per class in the marking network's feature space. Marking
 * pushes the features of class-k images along u_k; detection asks whether the suspect's class-k
 * weight points along u_k more than a random direction would.
 *
 * The carriers are independent and uniformly distributed on the unit sphere (normalised Gaussian
 * vectors), which is exactly what makes the cosine p-value law hold for a model that never saw them.
 */
import { PaperlabError, checkInt } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export interface Carriers {
  numClasses: number;
  /** Feature dimension d. */
  dim: number;
  /** [numClasses · dim] row-major, each row of unit length. */
  data: Float32Array;
}

/** `numClasses` independent uniformly random unit vectors in `dim` dimensions, from `seed`. */
export function makeCarriers(numClasses: number, dim: number, seed: number | Rng): Carriers {
  checkInt(numClasses, 'numClasses', { min: 1 });
  checkInt(dim, 'dim', { min: 2 });
  const rng = typeof seed === 'number' ? new Rng(seed).fork('carriers') : seed;
  const data = new Float32Array(numClasses * dim);
  for (let k = 0; k < numClasses; k++) {
    let norm = 0;
    const v = new Float64Array(dim);
    while (norm < 1e-12) {
      norm = 0;
      for (let j = 0; j < dim; j++) {
        v[j] = rng.normal();
        norm += v[j]! * v[j]!;
      }
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) data[k * dim + j] = v[j]! * inv;
  }
  return { numClasses, dim, data };
}

/** Row k of the carriers as a Float64Array. */
export function carrierRow(c: Carriers, k: number): Float64Array {
  return Float64Array.from(c.data.subarray(k * c.dim, (k + 1) * c.dim));
}

/** Checks that `c` is a well-formed carrier set (shape, finiteness, unit rows). */
export function checkCarriers(c: Carriers, argument = 'carriers'): void {
  if (!c || !(c.data instanceof Float32Array) || !Number.isInteger(c.numClasses) || !Number.isInteger(c.dim)) {
    throw new PaperlabError(argument, 'is not a carrier set', 'create one with makeCarriers(numClasses, dim, seed) or load the carriers.npy written by `paperlab radioactive mark`');
  }
  if (c.data.length !== c.numClasses * c.dim) {
    throw new PaperlabError(argument, `holds ${c.data.length} values, not numClasses·dim = ${c.numClasses}·${c.dim}`, 'pass the carriers made for this marking network');
  }
  for (let k = 0; k < c.numClasses; k++) {
    let n = 0;
    for (let j = 0; j < c.dim; j++) n += c.data[k * c.dim + j]! ** 2;
    if (!(Math.abs(Math.sqrt(n) - 1) < 1e-3)) {
      throw new PaperlabError(argument, `row ${k} has length ${Math.sqrt(n).toFixed(4)}, not 1`, 'carriers must be unit vectors: use makeCarriers or normalise the rows');
    }
  }
}
