import { RE2JS } from 're2js';

/** True when the compiled pattern finds a match anywhere in the input (unanchored, no flags). */
export type RegexTest = (input: string) => boolean;

/** Compiles a targeting pattern; throws on a pattern the engine does not accept. */
export type RegexCompiler = (pattern: string) => RegexTest;

/**
 * The engine of `regex` targeting conditions everywhere (API and SDK): RE2 semantics through
 * re2js, pure JavaScript, matching in time linear in the input. JavaScript's own RegExp
 * backtracks: `^(\w|\d)+$` against 30 digits and a `!` takes seconds, and a server runs every
 * assignment on one thread. RE2 has no backreferences and no lookaround, which is what makes it
 * linear; the API refuses those patterns when they are saved (see @strata/contracts).
 *
 * The SDK loads this module lazily (re2js is ~40 kB gzipped), only for snapshots that use `regex`.
 */
export const compileRe2: RegexCompiler = (pattern) => {
  const re = RE2JS.compile(pattern);
  return (input) => re.test(input);
};
