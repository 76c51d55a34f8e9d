"""Assignment from a configuration snapshot, as libs/bucketing specifies (its README is the spec).

Order per experiment: forced variant → holdout (a held-out unit gets nothing in a covered layer,
not even a shipped winner) → (shipped: targeting → the winner, for a staged ship only below its ship share) → layer bucket held by
the experiment → targeting → not forced into another running experiment of the layer → variant
draw. `evaluate` lists a unit's assignments in layer order, then snapshot order, then experiments
whose layer is missing (only a shipped variant can apply), exactly as the TypeScript `evaluate`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence

from .murmur3 import murmur3_bytes, utf8
from .targeting import Attributes, Predicate, compile_targeting

BUCKETS = 10_000
_TWO_TO_32 = 4294967296.0


@dataclass(frozen=True)
class Assignment:
    experiment: str
    variant: str
    layer: str
    #: "bucketed", "forced" or "shipped"; exposures are logged for "bucketed" only.
    reason: str
    #: The variant's value when the experiment's variants carry values (None otherwise).
    value: Any = None
    has_value: bool = False

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"experiment": self.experiment, "layer": self.layer, "variant": self.variant, "reason": self.reason}
        if self.has_value:
            d["value"] = self.value
        return d


def _parse_expiry(iso: Optional[str]) -> float:
    if iso is None:
        return math.inf
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000.0
    except (ValueError, AttributeError):
        return -math.inf  # unparseable: treated as expired, a forced variant must not outlive intent


@dataclass
class CompiledExperiment:
    key: str
    layer_key: str
    status: str
    salt_prefix: bytes
    variant_keys: List[str]
    cumulative: List[float]
    bucketed: List[Assignment]
    shipped: Optional[Assignment]
    forced: Dict[str, "tuple[Assignment, float]"]
    targeting: Predicate
    value_type: Optional[str]
    default_value: Any
    has_default: bool
    layer: Optional["CompiledLayer"] = None
    slot: int = -1
    #: A staged ship's share in [0, 1] (1 = a full ship); units with ship draw < ship_share get `shipped`.
    ship_share: float = 1.0
    #: UTF-8 of f"{salt}:ship:" for a staged ship (ship_share < 1), else None (no ship hash at all).
    ship_prefix: Optional[bytes] = None

    def ships_to(self, data: bytes) -> bool:
        """Whether a shipped experiment gives the (UTF-8-encoded) unit its winner, targeting aside: monotone in the share."""
        return self.ship_prefix is None or murmur3_bytes(self.ship_prefix + data) / _TWO_TO_32 < self.ship_share


@dataclass(frozen=True)
class CompiledHoldout:
    """Units with murmur3(f"{salt}:{unit_id}") / 2^32 < share get no assignment in its layers."""

    key: str
    salt_prefix: bytes
    share: float
    #: None = every layer.
    layers: Optional[List[str]]
    #: `holdout:<key>`, the experiment key its exposures carry.
    exposure_key: str

    def holds(self, data: bytes) -> bool:
        return murmur3_bytes(self.salt_prefix + data) / _TWO_TO_32 < self.share

    def arm(self, unit_id: str) -> str:
        return "holdout" if self.holds(utf8(unit_id)) else "rest"


@dataclass
class CompiledLayer:
    key: str
    salt_prefix: bytes
    table: List[int] = field(default_factory=lambda: [-1] * BUCKETS)
    running: List[CompiledExperiment] = field(default_factory=list)
    experiments: List[CompiledExperiment] = field(default_factory=list)
    forced_units: Dict[str, List["tuple[int, float]"]] = field(default_factory=dict)
    holdouts: List[CompiledHoldout] = field(default_factory=list)


class CompiledSnapshot:
    """A snapshot prepared for evaluation: compile once per version, evaluate many times."""

    def __init__(self, snapshot: Dict[str, Any], clock: Optional[Callable[[], float]] = None) -> None:
        import time

        self.version: str = snapshot.get("version", "")
        self.clock = clock or (lambda: time.time() * 1000.0)
        now = self.clock()
        self.layers: List[CompiledLayer] = []
        layers: Dict[str, CompiledLayer] = {}
        for l in snapshot.get("layers", []):
            if l["key"] in layers:
                continue
            cl = CompiledLayer(key=l["key"], salt_prefix=utf8(f"{l['salt']}:"))
            layers[cl.key] = cl
            self.layers.append(cl)
        self.holdouts: List[CompiledHoldout] = []
        seen = set()
        for h in snapshot.get("holdouts") or []:
            if h["key"] in seen:
                continue
            seen.add(h["key"])
            share = float(h["share"])
            share = min(1.0, max(0.0, share)) if math.isfinite(share) else 0.0
            ch = CompiledHoldout(h["key"], utf8(f"{h['salt']}:"), share, None if h.get("layers") is None else list(h["layers"]), "holdout:" + h["key"])
            self.holdouts.append(ch)
            for cl in self.layers:
                if ch.layers is None or cl.key in ch.layers:
                    cl.holdouts.append(ch)
        self.by_key: Dict[str, CompiledExperiment] = {}
        self.experiments: List[CompiledExperiment] = []
        self.orphans: List[CompiledExperiment] = []
        self.valued: List[CompiledExperiment] = []
        for e in snapshot.get("experiments", []):
            if e["key"] in self.by_key:
                continue
            layer = layers.get(e["layer"])
            c = _compile_experiment(e, now)
            self.experiments.append(c)
            self.by_key[c.key] = c
            if c.has_default:
                self.valued.append(c)
            if layer is None:
                self.orphans.append(c)
                continue
            c.layer = layer
            layer.experiments.append(c)
            if c.status != "running":
                continue
            c.slot = len(layer.running)
            layer.running.append(c)
            for r in e.get("ranges", []):
                start = max(0, math.ceil(r["start"]))
                end = min(BUCKETS, math.floor(r["end"]))
                for b in range(start, end):
                    if layer.table[b] == -1:
                        layer.table[b] = c.slot
            for unit_id, (_a, expires) in c.forced.items():
                layer.forced_units.setdefault(unit_id, []).append((c.slot, expires))

    # ----- evaluation -----

    def _active(self, expires: float) -> bool:
        return expires == math.inf or expires > self.clock()

    def _forced_elsewhere(self, layer: CompiledLayer, slot: int, unit_id: str) -> bool:
        for s, expires in layer.forced_units.get(unit_id, ()):
            if s != slot and self._active(expires):
                return True
        return False

    def decide(self, exp: CompiledExperiment, unit_id: str, attributes: Attributes, unit: Optional[bytes] = None) -> Optional[Assignment]:
        f = exp.forced.get(unit_id)
        if f is not None and self._active(f[1]):
            return f[0]
        layer = exp.layer
        data = unit if unit is not None else utf8(unit_id)
        if layer is not None and any(h.holds(data) for h in layer.holdouts):
            return None
        if exp.status == "shipped":
            return exp.shipped if exp.shipped is not None and exp.targeting(attributes) and exp.ships_to(data) else None
        if layer is None or exp.slot < 0:
            return None
        bucket = murmur3_bytes(layer.salt_prefix + data) % BUCKETS
        if layer.table[bucket] != exp.slot:
            return None
        if not exp.targeting(attributes):
            return None
        if self._forced_elsewhere(layer, exp.slot, unit_id):
            return None
        if not exp.bucketed:
            return None
        u = murmur3_bytes(exp.salt_prefix + data) / _TWO_TO_32
        return exp.bucketed[pick_variant(exp.cumulative, u)]

    def evaluate_experiment(self, key: str, unit_id: str, attributes: Optional[Attributes] = None) -> Optional[Assignment]:
        exp = self.by_key.get(key)
        return None if exp is None else self.decide(exp, unit_id, attributes or {})

    def evaluate(self, unit_id: str, attributes: Optional[Attributes] = None, keys: Optional[Sequence[str]] = None) -> List[Assignment]:
        attrs = attributes or {}
        if keys is not None:
            return [a for a in (self.evaluate_experiment(k, unit_id, attrs) for k in keys) if a is not None]
        data = utf8(unit_id)
        out: List[Assignment] = []
        for layer in self.layers:
            for exp in layer.experiments:
                a = self.decide(exp, unit_id, attrs, data)
                if a is not None:
                    out.append(a)
        for exp in self.orphans:
            a = self.decide(exp, unit_id, attrs, data)
            if a is not None:
                out.append(a)
        return out

    def holdout_of(self, key: str, unit_id: str) -> Optional[CompiledHoldout]:
        """The holdout keeping the unit out of the experiment's layer (an explain answer: "in holdout H"), or None."""
        exp = self.by_key.get(key)
        if exp is None or exp.layer is None:
            return None
        data = utf8(unit_id)
        return next((h for h in exp.layer.holdouts if h.holds(data)), None)

    def ship_exposure(self, key: str, unit_id: str, attributes: Optional[Attributes] = None) -> Optional["tuple[str, str]"]:
        """A staged ship's exposure for the unit: (f"ship:{key}", "winner" | "default"), or None.

        Only for a staged ship (share below 1 with a shipped variant) and a candidate unit: in
        targeting, in no holdout of its layer, not forced. The condition does not depend on the ship
        draw, so both arms are samples of the same randomization (libs/bucketing `shipExposures`).
        """
        exp = self.by_key.get(key)
        if exp is None or exp.ship_prefix is None or exp.shipped is None:
            return None
        f = exp.forced.get(unit_id)
        if f is not None and self._active(f[1]):
            return None
        data = utf8(unit_id)
        if exp.layer is not None and any(h.holds(data) for h in exp.layer.holdouts):
            return None
        if not exp.targeting(attributes or {}):
            return None
        return "ship:" + exp.key, "winner" if exp.ships_to(data) else "default"

    def holdouts_of(self, key: str) -> List[CompiledHoldout]:
        """The holdouts covering an experiment's layer (their exposures are logged with its evaluation)."""
        exp = self.by_key.get(key)
        return [] if exp is None or exp.layer is None else exp.layer.holdouts

    def defaults_for(self, assignments: Sequence[Assignment], keys: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """Default values of the evaluated experiments with values that gave no assignment (as /v1/assign's `defaults`)."""
        assigned = {a.experiment for a in assignments}
        pool = self.valued if keys is None else [self.by_key[k] for k in keys if k in self.by_key]
        return {e.key: e.default_value for e in pool if e.has_default and e.key not in assigned}


def pick_variant(cumulative: Sequence[float], u: float) -> int:
    """The first i with u < cumulative[i]; the last variant absorbs rounding."""
    last = len(cumulative) - 1
    for i in range(last):
        if u < cumulative[i]:
            return i
    return last


def layer_bucket(layer_salt: str, unit_id: str) -> int:
    return murmur3_bytes(utf8(f"{layer_salt}:{unit_id}")) % BUCKETS


def variant_draw(experiment_salt: str, unit_id: str) -> float:
    return murmur3_bytes(utf8(f"{experiment_salt}:{unit_id}")) / _TWO_TO_32


def ship_draw(experiment_salt: str, unit_id: str) -> float:
    """The ship draw of a staged ship: murmur3(f"{salt}:ship:{unit_id}") / 2^32 (winner when below the ship share)."""
    return murmur3_bytes(utf8(f"{experiment_salt}:ship:{unit_id}")) / _TWO_TO_32


def _ship_share(e: Dict[str, Any]) -> float:
    """A shipped experiment's share: absent or not a finite number = 1 (a full ship); clipped to [0, 1]."""
    s = e.get("shipShare")
    if e.get("status") != "shipped" or isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s):
        return 1.0
    return min(1.0, max(0.0, float(s)))


def _compile_experiment(e: Dict[str, Any], now: float) -> CompiledExperiment:
    variants = e.get("variants", [])
    value_type = e.get("valueType")
    values = {v["key"]: v["value"] for v in variants if "value" in v} if value_type is not None else {}
    cumulative: List[float] = []
    total = 0.0
    for v in variants:
        total += float(v["weight"])  # summed left to right in doubles, as the spec says
        cumulative.append(total)

    def make(variant: str, reason: str) -> Assignment:
        if variant in values:
            return Assignment(e["key"], variant, e["layer"], reason, copy.deepcopy(values[variant]), True)
        return Assignment(e["key"], variant, e["layer"], reason)

    forced: Dict[str, "tuple[Assignment, float]"] = {}
    for f in e.get("forcedVariants", []):
        expires = _parse_expiry(f.get("expiresAt"))
        if expires <= now:
            continue
        forced[f["unitId"]] = (make(f["variant"], "forced"), expires)
    shipped = make(e["shippedVariant"], "shipped") if e.get("status") == "shipped" and e.get("shippedVariant") is not None else None
    has_default = value_type is not None and e.get("defaultValue") is not None
    ship_share = _ship_share(e)
    return CompiledExperiment(
        key=e["key"],
        layer_key=e["layer"],
        status=e.get("status", "running"),
        salt_prefix=utf8(f"{e['salt']}:"),
        variant_keys=[v["key"] for v in variants],
        cumulative=cumulative,
        bucketed=[make(v["key"], "bucketed") for v in variants],
        shipped=shipped,
        forced=forced,
        targeting=compile_targeting(e.get("targeting")),
        value_type=value_type,
        default_value=copy.deepcopy(e.get("defaultValue")) if has_default else None,
        has_default=has_default,
        ship_share=ship_share,
        ship_prefix=utf8(f"{e['salt']}:ship:") if ship_share < 1 else None,
    )
