"""A small JSON-over-HTTP helper on urllib (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Optional


@dataclass
class Response:
    status: int
    headers: Dict[str, str]
    body: Any


class NetworkError(Exception):
    """No answer: refused, reset, DNS, timeout, or a connection dropped before the response."""


def request(method: str, url: str, sdk_key: str, body: Any = None, headers: Optional[Dict[str, str]] = None, timeout: float = 3.0) -> Response:
    data = None if body is None else json.dumps(body, allow_nan=False).encode("ascii")  # \u escapes: lone surrogates in ids travel as JSON allows
    h = {"authorization": f"Bearer {sdk_key}", "accept": "application/json", "user-agent": "strata-sdk-python/0.1"}
    if data is not None:
        h["content-type"] = "application/json"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return _read(res.status, res)
    except urllib.error.HTTPError as e:
        try:
            return _read(e.code, e)
        finally:
            e.close()
    except (urllib.error.URLError, OSError, ValueError) as e:
        # ValueError: http.client raises it for some malformed answers; OSError covers resets and timeouts.
        raise NetworkError(str(e)) from e


def _read(status: int, res: Any) -> Response:
    raw = res.read()
    headers = {k.lower(): v for k, v in res.headers.items()}
    body: Any = None
    if raw:
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            body = None
    return Response(status, headers, body)
