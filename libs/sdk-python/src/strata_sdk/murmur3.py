"""MurmurHash3 x86 32-bit, seed 0, over the UTF-8 bytes of a string (libs/bucketing/README.md).

A lone UTF-16 surrogate (possible in a Python str decoded from JSON) is hashed as U+FFFD, as the
specification says, so ids hash the same here as in JavaScript.
"""

from __future__ import annotations

_C1 = 0xCC9E2D51
_C2 = 0x1B873593
_MASK = 0xFFFFFFFF


def utf8(text: str) -> bytes:
    """UTF-8 bytes of `text`; surrogate pairs stored as two code points are joined, lone ones become U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Round-trip through UTF-16: pairs combine, lone surrogates decode as U+FFFD (one per unit).
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


def murmur3_bytes(data: bytes, seed: int = 0) -> int:
    h = seed & _MASK
    n = len(data)
    end = n - (n & 3)
    for i in range(0, end, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * _C1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * _C2) & _MASK
        h ^= k
        h = ((h << 13) | (h >> 19)) & _MASK
        h = (h * 5 + 0xE6546B64) & _MASK
    k = 0
    tail = n & 3
    if tail == 3:
        k ^= data[end + 2] << 16
    if tail >= 2:
        k ^= data[end + 1] << 8
    if tail >= 1:
        k ^= data[end]
        k = (k * _C1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * _C2) & _MASK
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


def murmur3(text: str, seed: int = 0) -> int:
    return murmur3_bytes(utf8(text), seed)


def hash_unit(salt: str, unit_id: str) -> int:
    """The spec's hash of a unit under a salt: MurmurHash3 of `salt + ":" + unit_id`."""
    return murmur3(f"{salt}:{unit_id}")
