import { RE2JS } from 're2js';

/** Constructs RE2 leaves out (they need backtracking), named in the 400 instead of RE2's own message. */
const UNSUPPORTED: readonly { escapes: boolean; test: RegExp; name: string }[] = [
  { escapes: true, test: /\\[1-9]/, name: 'backreferences (\\1 … \\9)' },
  { escapes: false, test: /\(\?<[=!]/, name: 'lookbehind ((?<= …) or (?<! …))' },
  { escapes: false, test: /\(\?[=!]/, name: 'lookahead ((?= …) or (?! …))' },
  { escapes: true, test: /\\k</, name: 'named backreferences (\\k<name>)' },
  { escapes: false, test: /(?:[*+?]|\{\d+(?:,\d*)?\})\+/, name: 'possessive quantifiers (a++)' },
  { escapes: false, test: /\(\?>/, name: 'atomic groups ((?> …))' },
];

/** Why RE2 refuses a pattern (length already checked, see `regexPatternProblem` in ./targeting), or null. */
export function re2PatternProblem(pattern: string): string | null {
  try {
    RE2JS.compile(pattern);
    return null;
  } catch (error) {
    // RE2's messages name the token (`(?=`, `\1`), not the feature: name it where we can. An
    // escaped backslash cannot start a construct and an escaped character (`\(`, `\+`) is a
    // literal: look for escapes with `\\` dropped, for the rest with every escape replaced.
    const escapes = pattern.replace(/\\\\/g, '');
    const literals = escapes.replace(/\\./g, '_');
    const unsupported = UNSUPPORTED.find((u) => u.test.test(u.escapes ? escapes : literals));
    if (unsupported) return `regex uses ${unsupported.name}, which the RE2 engine does not support (it matches in linear time)`;
    const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
    return `regex is not a valid RE2 pattern: ${reason}`;
  }
}

