"""Batched event delivery with retries that never double count.

Each event gets its UUID when it is queued and keeps it across retries, so a batch re-sent after
a lost response is stored once: the collector answers the repeats as duplicates. Network errors,
429 and 5xx are retried with exponential backoff and jitter (Retry-After honoured, capped); any
other 4xx is final. The queue is bounded: past `max_queue_size` the oldest events are dropped and
counted.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Optional

from .http import NetworkError, request

MAX_BATCH = 1000


@dataclass
class Stats:
    queued: int = 0
    sent: int = 0
    duplicates: int = 0
    dropped: int = 0
    retries: int = 0
    failures: int = 0


class EventQueue:
    def __init__(
        self,
        url: str,
        sdk_key: str,
        *,
        timeout: float,
        flush_interval: float,
        max_batch_size: int,
        max_queue_size: int,
        max_retries: int,
        retry_base: float,
        retry_max: float,
        report: Callable[[str, str], None],
    ) -> None:
        self._url = url
        self._key = sdk_key
        self._timeout = timeout
        self._interval = flush_interval
        self._batch = max(1, min(MAX_BATCH, max_batch_size))
        self._max_queue = max(1, max_queue_size)
        self._max_retries = max_retries
        self._retry_base = retry_base
        self._retry_max = retry_max
        self._report = report
        self._queue: Deque[Dict[str, Any]] = deque()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._closed = False
        self._flush_requested = False
        self.stats = Stats()
        self._thread = threading.Thread(target=self._run, name="strata-events", daemon=True)
        self._thread.start()

    def enqueue(self, event: Dict[str, Any]) -> None:
        with self._lock:
            if self._closed:
                return
            self._queue.append(event)
            while len(self._queue) + self._in_flight > self._max_queue and self._queue:
                self._queue.popleft()
                self.stats.dropped += 1
            if len(self._queue) >= self._batch:
                self._wake.notify()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends everything queued now; True when the queue drained (sent or given up) in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._flush_requested = True
            self._wake.notify()
            while self._queue or self._in_flight:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        with self._lock:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=1.0)

    def snapshot_stats(self) -> Stats:
        with self._lock:
            s = Stats(**vars(self.stats))
            s.queued = len(self._queue) + self._in_flight
            return s

    # ----- the sender thread -----

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._idle.notify_all()
                    self._flush_requested = False
                if self._closed and not self._queue:
                    self._idle.notify_all()
                    return
                if len(self._queue) < self._batch and not self._flush_requested and not self._closed:
                    self._wake.wait(self._interval)
                if not self._queue:
                    continue
                batch: List[Dict[str, Any]] = [self._queue.popleft() for _ in range(min(self._batch, len(self._queue)))]
                self._in_flight = len(batch)
            try:
                self._deliver(batch)
            finally:
                with self._lock:
                    self._in_flight = 0
                    if not self._queue:
                        self._idle.notify_all()

    def _deliver(self, batch: List[Dict[str, Any]]) -> None:
        attempt = 0
        while True:
            retry_after: Optional[float] = None
            try:
                res = request("POST", self._url, self._key, {"events": batch}, timeout=self._timeout)
                if res.status in (200, 202):
                    body = res.body if isinstance(res.body, dict) else {}
                    rejected = body.get("rejected") or []
                    with self._lock:
                        self.stats.sent += len(batch) - len(rejected)
                        self.stats.duplicates += int(body.get("duplicates") or 0)
                        self.stats.failures += len(rejected)
                    if rejected:
                        self._report("rejected", f"{len(rejected)} event(s) rejected: {rejected[:3]}")
                    return
                if res.status != 429 and res.status < 500:
                    with self._lock:
                        self.stats.failures += len(batch)
                    self._report("http", f"POST {self._url}: HTTP {res.status} {res.body}")
                    return
                retry_after = _retry_after(res.headers.get("retry-after"))
                reason = f"HTTP {res.status}"
            except NetworkError as e:
                reason = str(e)
            attempt += 1
            if attempt > self._max_retries:
                with self._lock:
                    self.stats.failures += len(batch)
                self._report("delivery", f"gave up a batch of {len(batch)} after {attempt - 1} retries ({reason})")
                return
            with self._lock:
                self.stats.retries += 1
            backoff = min(self._retry_max, self._retry_base * (2 ** (attempt - 1)))
            delay = backoff / 2 + random.random() * backoff / 2
            if retry_after is not None:
                delay = max(delay, min(retry_after, self._retry_max))
            time.sleep(delay)


def _retry_after(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
