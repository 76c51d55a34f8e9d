"""Targeting rules, with the TypeScript semantics of libs/bucketing (README "Targeting").

- A missing attribute (absent or None) makes every condition false, `neq` and `not_in` included;
  only `exists` looks at presence (`value` omitted or true: present; false: missing).
- `eq`/`neq`/`in`/`not_in` compare strictly: no coercion, "1" is not 1, and True is not 1
  (Python's `True == 1` is not used).
- `gt`/`gte`/`lt`/`lte` compare number with number or string with string, strings by UTF-16 code
  units as JavaScript does; any other pairing is false.
- `regex` (RE2 syntax, as re2js runs it in the TypeScript SDK; `matches` is taken as a synonym)
  searches string attributes of at most 1,000 characters, see `compile_pattern` for the accepted
  part of RE2; a pattern outside it is always false.
- A condition with `hashSalt` (client-key snapshots of `secure` conditions) holds
  sha256(hashSalt + value) hex digests: eq/neq/in/not_in hash the unit's string the same way.
- An array attribute matches `eq`, `in`, comparisons and `regex` if any element does; `neq` and
  `not_in` need a present attribute no element of which matches.
- Groups: `all` needs every rule (empty: true), `any` one (empty: false). Unknown operators: false.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Callable, Dict, List, Optional

Attributes = Dict[str, Any]
Predicate = Callable[[Attributes], bool]

MAX_PATTERN_LENGTH = 200
#: Longest string a `regex` condition tests (JavaScript length, in UTF-16 code units); longer: no match.
MAX_REGEX_INPUT = 1000


def _always_true(_a: Attributes) -> bool:
    return True


def _always_false(_a: Attributes) -> bool:
    return False


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def js_equal(a: Any, b: Any) -> bool:
    """JavaScript `===` on attribute scalars (strings, numbers, booleans, null)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is None and b is None


def _utf16(s: str) -> bytes:
    # Big-endian UTF-16 bytes order exactly as JavaScript compares strings (by code units).
    return s.encode("utf-16-be", "surrogatepass")


def _comparison(op: str, target: Any) -> Callable[[Any], bool]:
    if _is_number(target):
        t = target
        key: Callable[[Any], Any] = lambda x: x  # noqa: E731
        ok: Callable[[Any], bool] = _is_number
    elif isinstance(target, str):
        t = _utf16(target)
        key = _utf16
        ok = lambda x: isinstance(x, str)  # noqa: E731
    else:
        return lambda x: False
    if op == "gt":
        return lambda x: ok(x) and key(x) > t
    if op == "gte":
        return lambda x: ok(x) and key(x) >= t
    if op == "lt":
        return lambda x: ok(x) and key(x) < t
    return lambda x: ok(x) and key(x) <= t


# ---------- patterns ----------

class PatternError(ValueError):
    """A pattern outside the subset every Strata SDK evaluates alike."""


# Whitespace: JavaScript's \s is Unicode whitespace; RE2's is [\t\n\f\r ].
_SPACE = {
    "js": "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff",
    "re2": "\\t\\n\\f\\r ",
}
# Dot: JavaScript's excludes the four line terminators; RE2's only \n.
_DOT = {"js": "[^\\n\\r\\u2028\\u2029]", "re2": "[^\\n]"}


def _escape_classes(flavor: str) -> Dict[str, str]:
    sp = _SPACE[flavor]
    return {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]", "s": f"[{sp}]", "S": f"[^{sp}]"}


def _class_escapes(flavor: str) -> Dict[str, str]:
    return {"d": "0-9", "w": "A-Za-z0-9_", "s": _SPACE[flavor]}
_SIMPLE_ESCAPES = set("tnrfv0") | set("\\^$.|?*+()[]{}/-")


def compile_pattern(pattern: str, flavor: str = "re2") -> "re.Pattern[str]":
    """Translates a targeting pattern into Python `re`, or raises PatternError (the condition is then false).

    Targeting patterns have RE2 syntax (the API and the TypeScript SDK run them with re2js). This
    accepts the part of RE2 that translates exactly: literals; `.`; classes `[...]`/`[^...]` with
    ranges; `\\d \\D \\w \\W \\s \\S` (ASCII, as RE2); `\\b \\B`; `\\A \\z`; `\\xHH`;
    escapes of punctuation and `\\t \\n \\r \\f \\v`; groups `(...)`, `(?:...)`,
    `(?P<name>...)`/`(?<name>...)`; `|`; quantifiers `* + ? {n} {n,} {n,m}` (counts ≤ 1000) and
    their lazy forms; `^` and `$` (start and end of text only, never before a final newline); a
    leading `(?i)`. Refused: what RE2 refuses (backreferences, lookaround, atomic groups,
    possessive quantifiers, `\\Z`) and RE2 features not translated here (other or scoped flags,
    `\\p{...}`, `\\x{...}`, `\\C`, POSIX classes), and patterns over 200 characters.
    `flavor` keeps the meaning of `.` and `\\s`: "re2" (default, what targeting uses) or "js"
    (JavaScript RegExp: dot also stops at \\r, U+2028, U+2029; Unicode whitespace).
    """
    escape_classes = _escape_classes(flavor)
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError("pattern must be a string of at most 200 characters")
    out: List[str] = []
    i = 0
    n = len(pattern)
    flags = 0
    # RE2's case-insensitive flag, at the start of the pattern only (Python takes global flags there).
    if pattern.startswith("(?i)"):
        flags = re.IGNORECASE
        i = 4
    depth = 0
    prev_quantifiable = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise PatternError("trailing backslash")
            e = pattern[i + 1]
            if e in escape_classes:
                out.append(escape_classes[e])
            elif e == "b":
                out.append(r"(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))")
            elif e == "B":
                out.append(r"(?:(?<=[A-Za-z0-9_])(?=[A-Za-z0-9_])|(?<![A-Za-z0-9_])(?![A-Za-z0-9_]))")
            elif e in _SIMPLE_ESCAPES:
                out.append("\\x00" if e == "0" else "\\" + e)
                if e == "0" and i + 2 < n and pattern[i + 2].isdigit():
                    raise PatternError("octal escapes are not portable")
            elif e == "A":
                out.append(r"(?<!(?s:.))")
            elif e == "z":
                out.append(r"(?!(?s:.))")
            elif e == "x" and re.match(r"[0-9A-Fa-f]{2}", pattern[i + 2 : i + 4]):
                out.append("\\x" + pattern[i + 2 : i + 4])
                i += 2
            elif e.isdigit():
                raise PatternError("backreferences are not supported (RE2 has none)")
            else:
                raise PatternError(f"escape \\{e} is not in the portable subset")
            i += 2
            prev_quantifiable = True
            continue
        if c == "[":
            j, cls = _parse_class(pattern, i, flavor)
            out.append(cls)
            i = j
            prev_quantifiable = True
            continue
        if c == "(":
            if pattern.startswith("(?:", i):
                out.append("(?:")
                i += 3
            elif pattern.startswith("(?P<", i) or (pattern.startswith("(?<", i) and not pattern.startswith("(?<=", i) and not pattern.startswith("(?<!", i)):
                start = i + (4 if pattern[i + 2] == "P" else 3)
                m = re.match(r"[A-Za-z_][A-Za-z0-9_]*>", pattern[start:])
                if not m:
                    raise PatternError("bad group name")
                out.append("(?P<" + m.group(0))
                i = start + len(m.group(0))
            elif pattern.startswith("(?", i):
                raise PatternError("lookaround, atomic groups and inline flags other than a leading (?i) are not supported")
            else:
                out.append("(")
                i += 1
            depth += 1
            prev_quantifiable = False
            continue
        if c == ")":
            if depth == 0:
                raise PatternError("unbalanced parenthesis")
            depth -= 1
            out.append(")")
            i += 1
            prev_quantifiable = True
            continue
        if c in "*+?":
            if not prev_quantifiable:
                raise PatternError("nothing to repeat")
            out.append(c)
            i += 1
            if i < n and pattern[i] == "?":
                out.append("?")
                i += 1
            if i < n and pattern[i] in "*+?{":
                raise PatternError("possessive or stacked quantifiers are not supported")
            prev_quantifiable = False
            continue
        if c == "{":
            m = re.match(r"\{(\d+)(,(\d*))?\}", pattern[i:])
            if not m:
                # JavaScript reads a brace that starts no quantifier as a literal; RE2 too.
                out.append(r"\{")
                i += 1
                prev_quantifiable = True
                continue
            if not prev_quantifiable:
                raise PatternError("nothing to repeat")
            lo = int(m.group(1))
            hi = m.group(3)
            if lo > 1000 or (hi not in (None, "") and (int(hi) > 1000 or int(hi) < lo)):
                raise PatternError("repetition counts must be ordered and at most 1000 (RE2's limit)")
            out.append(m.group(0))
            i += len(m.group(0))
            if i < n and pattern[i] == "?":
                out.append("?")
                i += 1
            if i < n and pattern[i] in "*+?{":
                raise PatternError("possessive or stacked quantifiers are not supported")
            prev_quantifiable = False
            continue
        if c == "$":
            out.append(r"(?!(?s:.))")  # end of text only: Python's bare $ would also match before a final \n
            i += 1
            prev_quantifiable = False
            continue
        if c == "^":
            out.append(r"(?<!(?s:.))")  # start of text (no MULTILINE in the subset)
            i += 1
            prev_quantifiable = False
            continue
        if c == "|":
            out.append("|")
            i += 1
            prev_quantifiable = False
            continue
        if c == ".":
            out.append(_DOT[flavor])
            i += 1
            prev_quantifiable = True
            continue
        out.append(re.escape(c))
        i += 1
        prev_quantifiable = True
    if depth != 0:
        raise PatternError("unbalanced parenthesis")
    try:
        return re.compile("".join(out), flags)
    except re.error as e:  # pragma: no cover - the translation should only produce valid patterns
        raise PatternError(str(e)) from e


def _parse_class(pattern: str, i: int, flavor: str) -> "tuple[int, str]":
    class_escapes = _class_escapes(flavor)
    n = len(pattern)
    j = i + 1
    parts = ["["]
    if j < n and pattern[j] == "^":
        parts.append("^")
        j += 1
    first = True
    while j < n:
        c = pattern[j]
        if c == "]" and not first:
            parts.append("]")
            return j + 1, "".join(parts)
        if c == "]" and first:
            # `[]` matches nothing in JavaScript but is an error in RE2: outside the subset.
            raise PatternError("empty character class")
        if c == "[":
            if j + 1 < n and pattern[j + 1] in ":=.":
                raise PatternError("POSIX classes are not portable")
            parts.append("\\[")
        elif c == "\\":
            if j + 1 >= n:
                raise PatternError("trailing backslash")
            e = pattern[j + 1]
            if e in class_escapes:
                parts.append(class_escapes[e])
            elif e in "DWS":
                raise PatternError("negated class escapes inside a class are not portable")
            elif e in _SIMPLE_ESCAPES:
                parts.append("\\x00" if e == "0" else "\\" + e)
            else:
                raise PatternError(f"escape \\{e} is not in the portable subset")
            j += 2
            first = False
            continue
        else:
            parts.append(re.escape(c) if c not in "-" else "-")
        j += 1
        first = False
    raise PatternError("unterminated character class")


def _regex_test(value: Any, flavor: str) -> Optional[Callable[[Any], bool]]:
    try:
        rx = compile_pattern(value, flavor)
    except PatternError:
        return None
    return lambda x: isinstance(x, str) and len(x) <= MAX_REGEX_INPUT and rx.search(x) is not None


def _secure_hash(salt: str, value: str) -> str:
    from .murmur3 import utf8

    return hashlib.sha256(utf8(salt + value)).hexdigest()


def _scalar_test(c: Dict[str, Any]) -> Optional[Callable[[Any], bool]]:
    op = c.get("operator")
    value = c.get("value")
    salt = c.get("hashSalt")
    if isinstance(salt, str):
        # Only equality survives hashing; any other operator on a hashed condition never matches.
        if op not in ("eq", "neq", "in", "not_in"):
            return lambda x: False
        items = value if isinstance(value, list) else ([] if "value" not in c else [value])
        hashes = {v for v in items if isinstance(v, str)}
        return lambda x: isinstance(x, str) and _secure_hash(salt, x) in hashes
    if op in ("eq", "neq"):
        if "value" not in c or isinstance(value, list):
            return lambda x: False
        return lambda x: js_equal(x, value)
    if op in ("in", "not_in"):
        items = value if isinstance(value, list) else ([] if "value" not in c else [value])
        return lambda x: any(js_equal(x, v) for v in items)
    if op in ("gt", "gte", "lt", "lte"):
        if "value" not in c or isinstance(value, list):
            return lambda x: False
        return _comparison(op, value)
    if op in ("regex", "matches"):
        if not isinstance(value, str):
            return lambda x: False
        # `regex` runs on RE2 (re2js) in the TypeScript SDK and the API; `matches` is the same.
        t = _regex_test(value, "re2")
        return t if t is not None else (lambda x: False)
    return None


def _missing(v: Any) -> bool:
    return v is None


def _some(v: Any, test: Callable[[Any], bool]) -> bool:
    if isinstance(v, list):
        return any(test(x) for x in v)
    return test(v)


def _compile_condition(c: Dict[str, Any]) -> Predicate:
    name = c.get("attribute")
    op = c.get("operator")
    if op == "exists":
        want_present = c.get("value") is not False
        return lambda a: (not _missing(a.get(name))) == want_present
    test = _scalar_test(c)
    if test is None:
        return _always_false
    if op in ("neq", "not_in"):
        return lambda a: not _missing(a.get(name)) and not _some(a.get(name), test)
    return lambda a: not _missing(a.get(name)) and _some(a.get(name), test)


def compile_targeting(rule: Optional[Dict[str, Any]]) -> Predicate:
    """Compiles a rule tree once (patterns compiled here, not per unit)."""
    if rule is None:
        return _always_true
    if "match" not in rule:
        return _compile_condition(rule)
    children = [compile_targeting(r) for r in rule.get("rules", [])]
    if rule.get("match") == "all":
        if not children:
            return _always_true
        return lambda a: all(ch(a) for ch in children)
    if not children:
        return _always_false
    return lambda a: any(ch(a) for ch in children)
