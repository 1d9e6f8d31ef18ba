/**
 * Least-squares alignment of two feature spaces: M = argmin ‖F_m·M − F_t‖² over held-out images,
 * where F_m [N, d_m] are the marking network's features and F_t [N, d_t] the suspect's. With
 * `center` (default) both sides are centred first, i.e. an intercept is fitted and dropped: features
 * after a ReLU have large means that would otherwise leak into M.
 *
 * Solved in float64 through the normal equations with a tiny ridge (relative to the mean diagonal)
 * and a Cholesky factorisation; dead feature units (all-zero columns) get zero rows in M.
 */
import { PaperlabError, check, checkFiniteArray } from '../core/errors.js';

export interface Alignment {
  /** [d_m · d_t] row-major: F_t ≈ F_m·M. */
  m: Float64Array;
  dm: number;
  dt: number;
  /** Fraction of the suspect features' variance explained by the fit (1 = perfect). */
  r2: number;
}

export interface AlignOptions {
  center?: boolean;
  /** Ridge added to the normal equations, relative to their mean diagonal. Default 1e-8. */
  ridge?: number;
}

/** Cholesky solve of A X = B for symmetric positive-definite A [n, n] and B [n, k] (both overwritten). */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number, k: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j]!;
    for (let p = 0; p < j; p++) s -= a[j * n + p]! ** 2;
    if (!(s > 0)) throw new PaperlabError('features', 'the normal equations are not positive definite', 'pass more held-out images than feature dimensions, or raise the ridge');
    const l = Math.sqrt(s);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let p = 0; p < j; p++) t -= a[i * n + p]! * a[j * n + p]!;
      a[i * n + j] = t / l;
    }
  }
  // forward: L Y = B ; backward: Lᵀ X = Y
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < n; i++) {
      let t = b[i * k + c]!;
      for (let p = 0; p < i; p++) t -= a[i * n + p]! * b[p * k + c]!;
      b[i * k + c] = t / a[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let t = b[i * k + c]!;
      for (let p = i + 1; p < n; p++) t -= a[p * n + i]! * b[p * k + c]!;
      b[i * k + c] = t / a[i * n + i]!;
    }
  }
  return b;
}

/** Fits F_t ≈ F_m·M from N paired rows (row-major arrays [N·d_m] and [N·d_t]). */
export function alignFeatures(fm: ArrayLike<number>, ft: ArrayLike<number>, n: number, dm: number, dt: number, o: AlignOptions = {}): Alignment {
  check(fm.length === n * dm, 'marker features', `have ${fm.length} values, not N·d_m = ${n}·${dm}`, 'pass [N, d_m] row-major features');
  check(ft.length === n * dt, 'suspect features', `have ${ft.length} values, not N·d_t = ${n}·${dt}`, 'pass [N, d_t] row-major features');
  check(n > dm, 'held-out images', `${n} images cannot determine a ${dm}-dimensional alignment`, `pass more than ${dm} held-out images (several times ${dm} is better)`);
  checkFiniteArray(fm, 'marker features');
  checkFiniteArray(ft, 'suspect features');
  const center = o.center ?? true;
  const ridge = o.ridge ?? 1e-8;
  const mu = new Float64Array(dm);
  const nu = new Float64Array(dt);
  if (center) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dm; j++) mu[j]! += fm[i * dm + j]!;
      for (let j = 0; j < dt; j++) nu[j]! += ft[i * dt + j]!;
    }
    for (let j = 0; j < dm; j++) mu[j]! /= n;
    for (let j = 0; j < dt; j++) nu[j]! /= n;
  }
  const a = new Float64Array(dm * dm);
  const b = new Float64Array(dm * dt);
  const xi = new Float64Array(dm);
  const yi = new Float64Array(dt);
  let sst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dm; j++) xi[j] = fm[i * dm + j]! - mu[j]!;
    for (let j = 0; j < dt; j++) {
      yi[j] = ft[i * dt + j]! - nu[j]!;
      sst += yi[j]! ** 2;
    }
    for (let p = 0; p < dm; p++) {
      const xp = xi[p]!;
      if (xp === 0) continue;
      for (let q = p; q < dm; q++) a[p * dm + q]! += xp * xi[q]!;
      for (let q = 0; q < dt; q++) b[p * dt + q]! += xp * yi[q]!;
    }
  }
  let trace = 0;
  for (let p = 0; p < dm; p++) {
    trace += a[p * dm + p]!;
    for (let q = p + 1; q < dm; q++) a[q * dm + p] = a[p * dm + q]!;
  }
  const lambda = ridge * Math.max(trace / dm, 1e-30) + 1e-30;
  for (let p = 0; p < dm; p++) a[p * dm + p]! += lambda;
  const m = choleskySolve(a, b, dm, dt);
  // Residual variance for R².
  let sse = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dm; j++) xi[j] = fm[i * dm + j]! - mu[j]!;
    for (let q = 0; q < dt; q++) {
      let pred = 0;
      for (let p = 0; p < dm; p++) pred += xi[p]! * m[p * dt + q]!;
      sse += (ft[i * dt + q]! - nu[q]! - pred) ** 2;
    }
  }
  return { m, dm, dt, r2: sst > 0 ? 1 - sse / sst : 1 };
}

/** Maps suspect class weights W_t [d_t, K] into marker space: M·W_t → [d_m, K] (row-major). */
export function mapWeights(al: Alignment, w: ArrayLike<number>, k: number): Float64Array {
  check(w.length === al.dt * k, 'classifier weights', `have ${w.length} values, not d_t·K = ${al.dt}·${k}`, 'pass the suspect head [d_t, K]');
  const out = new Float64Array(al.dm * k);
  for (let p = 0; p < al.dm; p++) {
    for (let q = 0; q < al.dt; q++) {
      const mpq = al.m[p * al.dt + q]!;
      if (mpq === 0) continue;
      for (let c = 0; c < k; c++) out[p * k + c]! += mpq * w[q * k + c]!;
    }
  }
  return out;
}
