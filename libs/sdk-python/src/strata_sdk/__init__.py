"""Strata SDK for Python (standard library only). See README.md."""

from .bucketing import BUCKETS, Assignment, CompiledHoldout, CompiledSnapshot, layer_bucket, pick_variant, ship_draw, variant_draw
from .client import StrataClient
from .events import Stats
from .murmur3 import hash_unit, murmur3
from .targeting import PatternError, compile_pattern, compile_targeting

__all__ = [
    "BUCKETS",
    "Assignment",
    "CompiledHoldout",
    "CompiledSnapshot",
    "PatternError",
    "Stats",
    "StrataClient",
    "compile_pattern",
    "compile_targeting",
    "hash_unit",
    "layer_bucket",
    "murmur3",
    "pick_variant",
    "ship_draw",
    "variant_draw",
]
__version__ = "0.1.0"
