"""Targeting rules, with the TypeScript semantics of libs/bucketing (README "Targeting").

- A missing attribute (absent or None) makes every condition false, `neq` and `not_in` included;
  only `exists` looks at presence (`value` omitted or true: present; false: missing).
- `eq`/`neq`/`in`/`not_in` compare strictly: no coercion, "1" is not 1, and True is not 1
  (Python's `True == 1` is not used).
- `gt`/`gte`/`lt`/`lte` compare number with number or string with string, strings by UTF-16 code
  units as JavaScript does; any other pairing is false.
- `regex` (and `matches`, its RE2-semantics successor) searches string attributes with the
  pattern, see `compile_pattern` for the accepted subset; a pattern outside it is always false.
- An array attribute matches `eq`, `in`, comparisons and `regex` if any element does; `neq` and
  `not_in` need a present attribute no element of which matches.
- Groups: `all` needs every rule (empty: true), `any` one (empty: false). Unknown operators: false.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional

Attributes = Dict[str, Any]
Predicate = Callable[[Attributes], bool]

MAX_PATTERN_LENGTH = 200


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


def compile_pattern(pattern: str, flavor: str = "js") -> "re.Pattern[str]":
    """Translates a pattern of the portable subset into Python `re`, or raises PatternError.

    The subset is what JavaScript RegExp (the TypeScript SDK today) and RE2 (re2js, where it is
    moving) both accept and agree on: literals; `.`; classes `[...]`/`[^...]` with ranges;
    `\\d \\D \\w \\W \\s \\S` (ASCII, as RE2); `\\b \\B`; escapes of punctuation and `\\t \\n \\r
    \\f \\v`; groups `(...)`, `(?:...)`, `(?P<name>...)`/`(?<name>...)`; `|`; quantifiers `* + ?
    {n} {n,} {n,m}` and their lazy forms; anchors `^` and `$` (end of text only, never before a
    final newline). Refused, because RE2 refuses them or the engines differ: backreferences
    (`\\1`, `\\k<name>`), lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), atomic groups and possessive
    quantifiers, inline flags (`(?i)`), `\\A \\Z \\z \\p{...} \\x \\u` escapes, and patterns over
    200 characters. `flavor` is the engine whose meaning of `.` and `\\s` is kept: "js" for the
    `regex` operator (JavaScript RegExp), "re2" for `matches` (RE2).
    """
    escape_classes = _escape_classes(flavor)
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError("pattern must be a string of at most 200 characters")
    out: List[str] = []
    i = 0
    n = len(pattern)
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
                raise PatternError("lookaround, atomic groups and inline flags are not supported (RE2 or JavaScript lacks them)")
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
        return re.compile("".join(out))
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
    return lambda x: isinstance(x, str) and rx.search(x) is not None


def _scalar_test(c: Dict[str, Any]) -> Optional[Callable[[Any], bool]]:
    op = c.get("operator")
    value = c.get("value")
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
        t = _regex_test(value, "re2" if op == "matches" else "js")
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
