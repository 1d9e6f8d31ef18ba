import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, setGlobalSeed, getRng } from '../src/core/rng.js';

test('same seed gives the same stream; different seeds differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = Array.from({ length: 100 }, () => a.next());
  const xb = Array.from({ length: 100 }, () => b.next());
  const xc = Array.from({ length: 100 }, () => c.next());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  for (const x of xa) assert.ok(x >= 0 && x < 1);
});

test('state round trip continues the exact stream, including the cached normal', () => {
  const r = new Rng(7);
  r.normal(); // leaves a spare normal cached
  const state = r.getState();
  const expected = [r.normal(), r.next(), r.int(10), r.normal()];
  const restored = Rng.fromState(JSON.parse(JSON.stringify(state)));
  assert.deepEqual([restored.normal(), restored.next(), restored.int(10), restored.normal()], expected);
});

test('uniform and normal moments match their closed forms', () => {
  const r = new Rng(1);
  const n = 200_000;
  let s = 0, s2 = 0, ns = 0, ns2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    s += u;
    s2 += u * u;
    const z = r.normal();
    ns += z;
    ns2 += z * z;
  }
  // U(0,1): mean 1/2, variance 1/12; N(0,1): mean 0, variance 1. Tolerances ≈ 5 standard errors.
  assert.ok(Math.abs(s / n - 0.5) < 5 * Math.sqrt(1 / 12 / n));
  assert.ok(Math.abs(s2 / n - (s / n) ** 2 - 1 / 12) < 0.002);
  assert.ok(Math.abs(ns / n) < 5 / Math.sqrt(n));
  assert.ok(Math.abs(ns2 / n - 1) < 0.02);
});

test('int(n) is uniform (chi-square) and permutation is a permutation', () => {
  const r = new Rng(3);
  const k = 7, n = 70_000;
  const counts = new Array(k).fill(0);
  for (let i = 0; i < n; i++) counts[r.int(k)]++;
  const e = n / k;
  const chi2 = counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
  assert.ok(chi2 < 22.46, `chi2 ${chi2} above the 0.001 critical value for 6 dof`);
  const p = Array.from(r.permutation(1000)).sort((a, b) => a - b);
  assert.deepEqual(p, Array.from({ length: 1000 }, (_, i) => i));
});

test('fork: children are reproducible, label-dependent and advance the parent by one draw', () => {
  const a = new Rng(5), b = new Rng(5);
  const ca = a.fork('x'), cb = b.fork('x');
  assert.equal(ca.next(), cb.next());
  assert.equal(a.next(), b.next());
  const d = new Rng(5);
  assert.notEqual(d.fork('x').next(), new Rng(5).fork('y').next());
});

test('global seed resets the global stream', () => {
  setGlobalSeed(9);
  const x = getRng().next();
  setGlobalSeed(9);
  assert.equal(getRng().next(), x);
});

test('bad seeds and states are refused with a clear error', () => {
  assert.throws(() => new Rng(Number.NaN), /seed: expected a finite number/);
  assert.throws(() => new Rng(0).int(0), /n: must be ≥ 1/);
  assert.throws(() => Rng.fromState({ s: [1, 2, 3] as unknown as [number, number, number, number], spare: null }), /rng state/);
});
