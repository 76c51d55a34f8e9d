import { expect } from 'vitest';

/** Every number anywhere inside `value` is finite (no NaN, no ±Infinity). Returns offending paths. */
export function nonFinitePaths(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${path} = ${value}`];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinitePaths(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => nonFinitePaths(v, `${path}.${k}`));
  }
  return [];
}

export function expectAllFinite(value: unknown): void {
  expect(nonFinitePaths(value)).toEqual([]);
}

/** |actual − expected| ≤ rel·|expected| (absolute floor 1e-300 so exact zeros compare equal). */
export function expectRelClose(actual: number, expected: number, rel = 1e-6): void {
  const tol = Math.max(rel * Math.abs(expected), 1e-300);
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`expected ${actual} to be within ${rel} relative of ${expected}`);
  }
}
