"""Targeting semantics, the same as libs/bucketing's (TypeScript)."""

import pytest

from strata_sdk import PatternError, compile_pattern, compile_targeting


def cond(attribute, operator, value=None, **kw):
    c = {"attribute": attribute, "operator": operator}
    if value is not None or "has_value" in kw:
        c["value"] = value
    return c


@pytest.mark.parametrize(
    "rule, attributes, expected",
    [
        (cond("country", "eq", "DE"), {"country": "DE"}, True),
        (cond("n", "eq", 1), {"n": "1"}, False),
        (cond("n", "eq", 1), {"n": True}, False),  # Python's True == 1 must not leak in
        (cond("b", "eq", True), {"b": 1}, False),
        (cond("n", "eq", 1), {"n": 1.0}, True),
        (cond("country", "neq", "DE"), {}, False),  # missing: every condition false
        (cond("country", "neq", "DE"), {"country": None}, False),
        (cond("country", "neq", "DE"), {"country": "FR"}, True),
        (cond("c", "in", ["DE", "AT"]), {"c": "AT"}, True),
        (cond("c", "in", [1, 2]), {"c": True}, False),
        (cond("c", "not_in", ["DE"]), {"c": ["FR", "DE"]}, False),
        (cond("c", "not_in", ["DE"]), {"c": ["FR", "US"]}, True),
        (cond("c", "eq", "DE"), {"c": ["FR", "DE"]}, True),
        (cond("age", "gt", 18), {"age": 19}, True),
        (cond("age", "gt", 18), {"age": "19"}, False),
        (cond("age", "gte", 18), {"age": True}, False),
        (cond("v", "lt", "b"), {"v": "a"}, True),
        # JavaScript compares UTF-16 code units: U+FF61 sorts after U+1F600 (a surrogate pair, 0xD83D…).
        (cond("v", "gt", "\U0001F600"), {"v": "\uff61"}, True),
        (cond("v", "lt", "\U0001F600"), {"v": "\uff61"}, False),
        (cond("x", "exists"), {"x": 0}, True),
        (cond("x", "exists"), {"x": None}, False),
        (cond("x", "exists", False), {}, True),
        (cond("email", "regex", "@example\\.com$"), {"email": "a@example.com"}, True),
        (cond("email", "regex", "@example\\.com$"), {"email": "a@example.com\n"}, False),
        (cond("email", "regex", "(a)\\1"), {"email": "aa"}, False),  # outside the subset: false
        (cond("email", "matches", "^[a-z]+$"), {"email": "abc"}, True),
        (cond("s", "regex", "a"), {"s": "a" * 1001}, False),  # longer than 1,000 characters: no match
        (cond("s", "regex", "a.b"), {"s": "a\rb"}, True),  # RE2's dot stops at \n only
        # secure conditions in client snapshots: sha256(hashSalt + value)
        ({"attribute": "email", "operator": "in", "hashSalt": "s1", "value": ["3ec5f5e3ee5d4e5a6b6bc5b4d1a9a6d1c6e93c9c8f7f2f7a1a0c5a8e1d3a4b0e"]}, {"email": "x"}, False),
        ({"attribute": "email", "operator": "gt", "hashSalt": "s1", "value": "00"}, {"email": "x"}, False),
        (cond("x", "regex", "a"), {"x": 1}, False),
        (cond("x", "unknown_op", "a"), {"x": "a"}, False),
        ({"match": "all", "rules": []}, {}, True),
        ({"match": "any", "rules": []}, {}, False),
        ({"match": "any", "rules": [cond("a", "eq", 1), cond("b", "eq", 2)]}, {"b": 2}, True),
        ({"match": "all", "rules": [cond("a", "eq", 1), {"match": "any", "rules": [cond("b", "eq", 2)]}]}, {"a": 1, "b": 3}, False),
        (None, {}, True),
    ],
)
def test_rule(rule, attributes, expected):
    assert compile_targeting(rule)(attributes) is expected


@pytest.mark.parametrize(
    "pattern",
    ["(a)\\1", "(?=a)", "(?!a)", "(?<=a)b", "(?<!a)b", "(?>a)", "(?s)a", "(?i:a)", "a++", "a*+", "\\p{L}", "\\k<n>", "\\Z", "[]", "a{2,1}", "a{1001}", "x" * 201, "(a", "a)", "*a"],
)
def test_rejects_what_re2_or_javascript_would(pattern):
    with pytest.raises(PatternError):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    "pattern, text, flavor, expected",
    [
        ("^\\d{3}-\\w+$", "123-abc", "js", True),
        ("\\d", "\u0663", "js", False),  # ASCII digits only, as RE2 and JavaScript
        ("\\bfoo\\b", "a foo.", "js", True),
        ("a.b", "a\rb", "js", False),
        ("a.b", "a\rb", "re2", True),
        ("\\s", "\u00a0", "js", True),
        ("\\s", "\u00a0", "re2", False),
        ("(?<year>\\d{4})-(?P<m>\\d\\d)", "2026-01", "re2", True),
        ("colou?r|gr[ae]y", "grey", "js", True),
        ("a{", "a{", "js", True),
        ("[\\d.-]+", "1.5-2", "js", True),
        ("x*?y", "xxy", "js", True),
        ("(?i)^abc$", "ABC", "re2", True),
        ("\\Aab\\z", "ab\n", "re2", False),
        ("\\x41", "A", "re2", True),
    ],
)
def test_portable_patterns(pattern, text, flavor, expected):
    assert (compile_pattern(pattern, flavor).search(text) is not None) is expected


def test_secure_condition_hashes_the_unit_value_like_the_typescript_sdk():
    import hashlib

    h = hashlib.sha256("salt-1vip@example.com".encode()).hexdigest()
    rule = {"attribute": "email", "operator": "eq", "hashSalt": "salt-1", "value": h}
    assert compile_targeting(rule)({"email": "vip@example.com"}) is True
    assert compile_targeting(rule)({"email": "other@example.com"}) is False
    assert compile_targeting({**rule, "operator": "neq"})({"email": "other@example.com"}) is True
