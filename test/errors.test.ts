import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PaperlabError, checkShape, checkFiniteArray } from '../src/core/errors.js';

test('PaperlabError names the argument, the problem and the fix', () => {
  const e = new PaperlabError('bucketSize', 'must be even, got 3', 'use 2 or 4');
  assert.equal(e.message, 'bucketSize: must be even, got 3. Fix: use 2 or 4');
  assert.equal(e.argument, 'bucketSize');
});

test('checkShape matches fixed, free and named dimensions', () => {
  const dims = checkShape([2, 5, 8], ['B', 'T', 8], 'q');
  assert.deepEqual(dims, { B: 2, T: 5 });
  checkShape([2, 5, 3], ['B', 'T', null], 'k', dims);
  assert.throws(() => checkShape([2, 6, 3], ['B', 'T', null], 'v', dims), /v: dimension 1 \(T\) is 6 but T = 5/);
  assert.throws(() => checkShape([2, 5], ['B', 'T', 8], 'x'), /x: expected rank 3/);
  assert.throws(() => checkShape([2, 5, 4], ['B', 'T', 8], 'x'), /dimension 2 must be 8/);
});

test('checkFiniteArray reports the first NaN/Inf and its index', () => {
  checkFiniteArray([1, 2, 3], 'x');
  assert.throws(() => checkFiniteArray([1, Number.NaN], 'inputs'), /inputs: contains NaN at flat index 1/);
  assert.throws(() => checkFiniteArray(new Float32Array([Infinity]), 'w'), /contains Inf/);
});
