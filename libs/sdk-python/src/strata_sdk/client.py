"""The Strata client: local assignment from `/v1/sdk/config` (ETag polling) or remote `/v1/assign`,
typed variant values, deduplicated exposures and batched events. No method raises into the app:
failures give safe defaults (None / the fallback) and go to `on_error(kind, message)`.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from .bucketing import Assignment, CompiledSnapshot
from .events import EventQueue, Stats
from .http import NetworkError, request

ErrorHandler = Callable[[str, str], None]

VALUE_CHECKS: Dict[str, Callable[[Any], bool]] = {
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "json": lambda v: v is not None,
}


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StrataClient:
    """Create one per process. `mode="local"` (default) or `"remote"`."""

    def __init__(
        self,
        api_url: str,
        sdk_key: str,
        *,
        mode: str = "local",
        poll_interval: float = 30.0,
        timeout: float = 3.0,
        flush_interval: float = 2.0,
        max_batch_size: int = 100,
        max_queue_size: int = 10_000,
        max_retries: int = 8,
        retry_base: float = 0.5,
        retry_max: float = 30.0,
        remote_cache_ttl: float = 30.0,
        remote_cache_size: int = 10_000,
        exposure_cache_size: int = 50_000,
        log_exposures: bool = True,
        on_error: Optional[ErrorHandler] = None,
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        if mode not in ("local", "remote"):
            raise ValueError('mode must be "local" or "remote"')
        self.mode = mode
        self._base = api_url.rstrip("/")
        self._key = sdk_key
        self._timeout = timeout
        self._poll_interval = poll_interval
        self._retry_base = retry_base
        self._log_exposures = log_exposures
        self._on_error = on_error
        self._now = now or (lambda: time.time() * 1000.0)
        self._compiled: Optional[CompiledSnapshot] = None
        self._etag: Optional[str] = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._exposed: "OrderedDict[Tuple[str, str], str]" = OrderedDict()
        self._exposure_cache_size = max(1, exposure_cache_size)
        self._remote: "OrderedDict[str, Tuple[float, Dict[str, Assignment], Dict[str, Any]]]" = OrderedDict()
        self._remote_ttl = remote_cache_ttl
        self._remote_size = max(1, remote_cache_size)
        self._listeners: List[Callable[[], None]] = []
        self._events = EventQueue(
            f"{self._base}/v1/events",
            sdk_key,
            timeout=timeout,
            flush_interval=flush_interval,
            max_batch_size=max_batch_size,
            max_queue_size=max_queue_size,
            max_retries=max_retries,
            retry_base=retry_base,
            retry_max=retry_max,
            report=self._report,
        )
        self._poller: Optional[threading.Thread] = None
        if mode == "local":
            self._poller = threading.Thread(target=self._poll_loop, name="strata-config", daemon=True)
            self._poller.start()
        else:
            self._ready.set()

    # ----- configuration -----

    def ready(self, timeout: Optional[float] = None) -> bool:
        """Local: True once a snapshot is loaded, False after `timeout` (default: the client's); keeps trying."""
        return self._ready.wait(self._timeout if timeout is None else timeout)

    def is_ready(self) -> bool:
        return self._ready.is_set()

    def refresh(self) -> bool:
        """Checks the configuration now (If-None-Match); True when a new snapshot was loaded."""
        headers = {"if-none-match": self._etag} if self._etag else {}
        res = request("GET", f"{self._base}/v1/sdk/config", self._key, headers=headers, timeout=self._timeout)
        if res.status == 304:
            return False
        if res.status != 200 or not isinstance(res.body, dict):
            raise RuntimeError(f"GET /v1/sdk/config: HTTP {res.status}")
        compiled = CompiledSnapshot(res.body)
        with self._lock:
            self._compiled = compiled
            self._etag = res.headers.get("etag")
        self._ready.set()
        self._notify()
        return True

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Called after each new snapshot; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _poll_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.refresh()
                failures = 0
                wait = self._poll_interval
            except (NetworkError, RuntimeError, ValueError, KeyError, TypeError) as e:
                failures += 1
                self._report("config", str(e))
                # Before the first snapshot retry quickly (backoff), later at the poll interval.
                wait = self._poll_interval if self._ready.is_set() else min(self._poll_interval, self._retry_base * 2 ** min(failures, 6))
            self._stop.wait(wait)

    # ----- assignment -----

    def get_assignment(self, experiment: str, unit_id: str, attributes: Optional[Dict[str, Any]] = None) -> Optional[Assignment]:
        """The unit's assignment (no exposure logged), or None. Remote mode asks the API on a cache miss."""
        try:
            if self.mode == "local":
                compiled = self._compiled
                return None if compiled is None else compiled.evaluate_experiment(experiment, unit_id, attributes)
            entry = self._remote_entry(unit_id, attributes)
            return None if entry is None else entry[1].get(experiment)
        except Exception as e:  # noqa: BLE001 - never raise into the app
            self._report("internal", f"get_assignment: {e}")
            return None

    def get_variant(self, experiment: str, unit_id: str, attributes: Optional[Dict[str, Any]] = None) -> Optional[str]:
        """The unit's variant key, or None (not in it, unknown, not ready): show the default. Logs the exposure once."""
        a = self.get_assignment(experiment, unit_id, attributes)
        self._expose_holdouts(experiment, unit_id, attributes)
        if a is None:
            return None
        self._expose(a, unit_id, attributes)
        return a.variant

    def assign(self, unit_id: str, attributes: Optional[Dict[str, Any]] = None, experiments: Optional[List[str]] = None) -> Dict[str, Any]:
        """Every assignment of a unit, shaped like a `/v1/assign` reply (`assignments`, and `defaults` when any). No exposures logged."""
        if self.mode == "remote":
            entry = self._remote_entry(unit_id, attributes)
            if entry is None:
                return {"assignments": []}
            assignments = [a for k, a in entry[1].items() if experiments is None or k in experiments]
            defaults = {k: v for k, v in entry[2].items() if experiments is None or k in experiments}
        else:
            compiled = self._compiled
            if compiled is None:
                return {"assignments": []}
            assignments = compiled.evaluate(unit_id, attributes, experiments)
            defaults = compiled.defaults_for(assignments, experiments)
        out: Dict[str, Any] = {"assignments": [a.to_dict() for a in assignments]}
        if defaults:
            out["defaults"] = defaults
        return out

    # ----- values -----

    def get_value(self, experiment: str, unit_id: str, fallback: Any = None, attributes: Optional[Dict[str, Any]] = None, *, value_type: Optional[str] = None) -> Any:
        """The variant's value, the experiment's default value when the unit is not in it, else `fallback`.

        With `value_type` ("boolean", "string", "number", "json") a value of another type gives
        `fallback` and an on_error("type_mismatch", …). JSON values are copies: changing one does not
        change what other callers get.
        """
        try:
            found, value, assignment = self._lookup_value(experiment, unit_id, attributes)
            if not found:
                return fallback
            self._expose_holdouts(experiment, unit_id, attributes)
            if value_type is not None and not VALUE_CHECKS[value_type](value):
                self._report("type_mismatch", f'"{experiment}" has a value of type {type(value).__name__}, not {value_type}')
                return fallback
            if assignment is not None:
                self._expose(assignment, unit_id, attributes)
            return copy.deepcopy(value) if isinstance(value, (dict, list)) else value
        except Exception as e:  # noqa: BLE001
            self._report("internal", f"get_value: {e}")
            return fallback

    def get_bool(self, experiment: str, unit_id: str, fallback: bool, attributes: Optional[Dict[str, Any]] = None) -> bool:
        return self.get_value(experiment, unit_id, fallback, attributes, value_type="boolean")

    def get_string(self, experiment: str, unit_id: str, fallback: str, attributes: Optional[Dict[str, Any]] = None) -> str:
        return self.get_value(experiment, unit_id, fallback, attributes, value_type="string")

    def get_number(self, experiment: str, unit_id: str, fallback: float, attributes: Optional[Dict[str, Any]] = None) -> float:
        return self.get_value(experiment, unit_id, fallback, attributes, value_type="number")

    def get_json(self, experiment: str, unit_id: str, fallback: Any, attributes: Optional[Dict[str, Any]] = None) -> Any:
        return self.get_value(experiment, unit_id, fallback, attributes, value_type="json")

    def _lookup_value(self, experiment: str, unit_id: str, attributes: Optional[Dict[str, Any]]) -> Tuple[bool, Any, Optional[Assignment]]:
        if self.mode == "local":
            compiled = self._compiled
            if compiled is None:
                return False, None, None
            exp = compiled.by_key.get(experiment)
            if exp is None or exp.value_type is None:
                return False, None, None
            a = compiled.decide(exp, unit_id, attributes or {})
            if a is not None and a.has_value:
                return True, a.value, a
            return (True, exp.default_value, None) if a is None and exp.has_default else (False, None, None)
        entry = self._remote_entry(unit_id, attributes)
        if entry is None:
            return False, None, None
        a = entry[1].get(experiment)
        if a is not None:
            return (True, a.value, a) if a.has_value else (False, None, None)
        if experiment in entry[2]:
            return True, entry[2][experiment], None
        return False, None, None

    # ----- remote mode -----

    def _remote_entry(self, unit_id: str, attributes: Optional[Dict[str, Any]]) -> Optional[Tuple[float, Dict[str, Assignment], Dict[str, Any]]]:
        key = unit_id if attributes is None else unit_id + "\u0000" + json.dumps(attributes, sort_keys=True)
        now = time.monotonic()
        with self._lock:
            hit = self._remote.get(key)
            if hit is not None and hit[0] > now:
                return hit
        try:
            res = request("POST", f"{self._base}/v1/assign", self._key, {"unitId": unit_id, "attributes": attributes or {}, "logExposures": False}, timeout=self._timeout)
        except NetworkError as e:
            self._report("network", str(e))
            return None
        if res.status != 200 or not isinstance(res.body, dict) or not isinstance(res.body.get("assignments"), list):
            self._report("http", f"POST /v1/assign: HTTP {res.status} {res.body}")
            return None
        by_exp = {
            a["experiment"]: Assignment(a["experiment"], a["variant"], a["layer"], a["reason"], a.get("value"), "value" in a) for a in res.body["assignments"]
        }
        entry = (now + self._remote_ttl, by_exp, dict(res.body.get("defaults") or {}))
        with self._lock:
            self._remote[key] = entry
            self._remote.move_to_end(key)
            while len(self._remote) > self._remote_size:
                self._remote.popitem(last=False)
        return entry

    # ----- events -----

    def _expose(self, a: Assignment, unit_id: str, attributes: Optional[Dict[str, Any]]) -> None:
        if a.reason != "bucketed" or not self._log_exposures:
            return
        self.log_exposure(a, unit_id, attributes)

    def _expose_holdouts(self, experiment: str, unit_id: str, attributes: Optional[Dict[str, Any]]) -> None:
        """The unit's exposure to each holdout covering the experiment's layer, in either arm, once (local mode);
        and to a staged ship's comparison (`ship:<key>`, winner or default arm), once."""
        compiled = self._compiled
        if not self._log_exposures or self.mode != "local" or compiled is None:
            return
        for h in compiled.holdouts_of(experiment) if compiled.holdouts else []:
            self.log_exposure(Assignment(h.exposure_key, h.arm(unit_id), "", "bucketed"), unit_id, attributes)
        ship = compiled.ship_exposure(experiment, unit_id, attributes)
        if ship is not None:
            self.log_exposure(Assignment(ship[0], ship[1], "", "bucketed"), unit_id, attributes)

    def log_exposure(self, a: Assignment, unit_id: str, attributes: Optional[Dict[str, Any]] = None) -> None:
        """Queues the exposure of a bucketed assignment unless this client already logged it (LRU-bounded)."""
        if a.reason != "bucketed":
            return
        k = (a.experiment, unit_id)
        with self._lock:
            if self._exposed.get(k) == a.variant:
                self._exposed.move_to_end(k)
                return
            self._exposed[k] = a.variant
            self._exposed.move_to_end(k)
            while len(self._exposed) > self._exposure_cache_size:
                self._exposed.popitem(last=False)
        event: Dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "type": "exposure",
            "unitId": unit_id,
            "experiment": a.experiment,
            "variant": a.variant,
            "timestamp": _iso(self._now()),
        }
        if attributes:
            event["attributes"] = attributes
        self._events.enqueue(event)

    def track(self, unit_id: str, name: str, value: Optional[float] = None, properties: Optional[Dict[str, Any]] = None) -> None:
        """Queues a metric event; its id is fixed now, so retries never count it twice."""
        event: Dict[str, Any] = {"id": str(uuid.uuid4()), "type": "metric", "unitId": unit_id, "name": name, "timestamp": _iso(self._now())}
        if value is not None:
            event["value"] = value
        if properties:
            event["attributes"] = properties
        self._events.enqueue(event)

    def flush(self, timeout: Optional[float] = None) -> bool:
        return self._events.flush(timeout)

    def stats(self) -> Stats:
        return self._events.snapshot_stats()

    def close(self, timeout: float = 5.0) -> None:
        """Stops polling, flushes (at most `timeout` seconds) and stops the sender."""
        self._stop.set()
        self._events.close(timeout)
        if self._poller is not None:
            self._poller.join(timeout=1.0)

    def __enter__(self) -> "StrataClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ----- internals -----

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception as e:  # noqa: BLE001
                self._report("internal", f"listener: {e}")

    def _report(self, kind: str, message: str) -> None:
        if self._on_error is None:
            return
        try:
            self._on_error(kind, message)
        except Exception:  # noqa: BLE001 - an app's handler must not break the SDK
            pass
