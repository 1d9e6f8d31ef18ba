/**
 * One error type for everything a user can get wrong. The message always names the argument,
 * says what was wrong with it and how to fix it, so a stack trace is never needed to act on it.
 */
export class PaperlabError extends Error {
  readonly argument: string;
  readonly problem: string;
  readonly fix: string;

  constructor(argument: string, problem: string, fix: string) {
    super(`${argument}: ${problem}. Fix: ${fix}`);
    this.name = 'PaperlabError';
    this.argument = argument;
    this.problem = problem;
    this.fix = fix;
  }
}

/** Throws a PaperlabError unless `cond` holds. */
export function check(cond: unknown, argument: string, problem: string, fix: string): asserts cond {
  if (!cond) throw new PaperlabError(argument, problem, fix);
}

export function checkInt(value: number, argument: string, opts: { min?: number; max?: number } = {}): void {
  check(Number.isInteger(value), argument, `expected an integer, got ${String(value)}`, `pass a whole number`);
  if (opts.min !== undefined) {
    check(value >= opts.min, argument, `must be ≥ ${opts.min}, got ${value}`, `pass a value of at least ${opts.min}`);
  }
  if (opts.max !== undefined) {
    check(value <= opts.max, argument, `must be ≤ ${opts.max}, got ${value}`, `pass a value of at most ${opts.max}`);
  }
}

export function checkNumber(value: number, argument: string, opts: { min?: number; max?: number; exclusiveMin?: boolean } = {}): void {
  check(Number.isFinite(value), argument, `expected a finite number, got ${String(value)}`, `pass a finite number`);
  if (opts.min !== undefined) {
    const ok = opts.exclusiveMin ? value > opts.min : value >= opts.min;
    check(ok, argument, `must be ${opts.exclusiveMin ? '>' : '≥'} ${opts.min}, got ${value}`, `pass a larger value`);
  }
  if (opts.max !== undefined) {
    check(value <= opts.max, argument, `must be ≤ ${opts.max}, got ${value}`, `pass a smaller value`);
  }
}

export function checkOneOf<T extends string>(value: string, allowed: readonly T[], argument: string): asserts value is T {
  check((allowed as readonly string[]).includes(value), argument, `unknown value '${value}'`, `use one of: ${allowed.join(', ')}`);
}

export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Checks a shape against a pattern; `null` entries match any size, a string names a size that
 * must agree across checks sharing the same `dims` record (e.g. 'B', 'T').
 */
export function checkShape(
  shape: readonly number[],
  pattern: ReadonlyArray<number | string | null>,
  argument: string,
  dims: Record<string, number> = {},
): Record<string, number> {
  const want = `[${pattern.map((p) => (p === null ? '*' : String(p))).join(', ')}]`;
  check(
    shape.length === pattern.length,
    argument,
    `expected rank ${pattern.length} ${want}, got shape ${describeShape(shape)}`,
    `reshape the input to ${want}`,
  );
  pattern.forEach((p, i) => {
    const got = shape[i]!;
    if (typeof p === 'number') {
      check(got === p, argument, `dimension ${i} must be ${p}, got shape ${describeShape(shape)}`, `reshape the input to ${want}`);
    } else if (typeof p === 'string') {
      const seen = dims[p];
      if (seen === undefined) dims[p] = got;
      else {
        check(
          seen === got,
          argument,
          `dimension ${i} (${p}) is ${got} but ${p} = ${seen} elsewhere; shape ${describeShape(shape)}`,
          `make the ${p} dimensions agree`,
        );
      }
    }
  });
  return dims;
}

/** Throws if any value is NaN or ±Inf; `argument` names where the data came from. */
export function checkFiniteArray(values: ArrayLike<number>, argument: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new PaperlabError(argument, `contains ${Number.isNaN(v) ? 'NaN' : 'Inf'} at flat index ${i}`, 'clean or clip the input before calling');
    }
  }
}
