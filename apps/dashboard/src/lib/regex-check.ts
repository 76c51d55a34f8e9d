import type { re2PatternProblem as Re2Check } from '@strata/contracts/regex';

/**
 * The dashboard build's stand-in for contracts' `./regex-pattern` (see vite.config.mts): RE2
 * (re2js, ~150 kB minified) stays out of the entry chunk and loads when a rule first uses `regex`.
 * Until it has loaded the check answers null; the API checks every saved pattern with the real one.
 */
let loaded: typeof Re2Check | null = null;
let loading: Promise<typeof Re2Check> | null = null;

export function loadRe2Check(): Promise<typeof Re2Check> {
  loading ??= import('@strata/contracts/regex').then((m) => (loaded = m.re2PatternProblem));
  return loading;
}

export function re2PatternProblem(pattern: string): string | null {
  return loaded ? loaded(pattern) : null;
}
