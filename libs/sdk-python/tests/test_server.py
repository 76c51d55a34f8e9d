"""Against a running API (started by apps/api/test/integration/sdk-python.integration-spec.ts):
the same assignments and values as the TypeScript SDK for 10,000 random ids, and events stored
exactly once after a batch whose response was lost."""

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from strata_sdk import StrataClient


def by_experiment(reply):
    """A /v1/assign-shaped reply as {experiment: outcome}, the form the TypeScript side wrote."""
    out = {}
    for a in reply["assignments"]:
        o = {"variant": a["variant"], "reason": a["reason"]}
        if "value" in a:
            o["value"] = a["value"]
        out[a["experiment"]] = o
    for k, v in reply.get("defaults", {}).items():
        out[k] = {"default": v}
    return out


def load_reference(server_env):
    with open(server_env["STRATA_TS_ASSIGNMENTS"], encoding="utf-8") as f:
        return json.load(f)


def test_same_assignments_and_values_as_the_typescript_sdk(server_env):
    ref = load_reference(server_env)
    units = ref["units"]
    assert len(units) == 10_000
    client = StrataClient(server_env["STRATA_API_URL"], server_env["STRATA_SDK_KEY"], log_exposures=False)
    try:
        assert client.ready(10)
        mismatches = []
        kinds = set()
        for u in units:
            got = by_experiment(client.assign(u["unitId"], u["attributes"]))
            if got != u["expected"]:
                mismatches.append((u["unitId"], got, u["expected"]))
            kinds.update(f"{k}:{o.get('reason', 'default')}" for k, o in got.items())
        assert mismatches[:5] == []
        # The reference exercised every path: splits, defaults, forced and shipped.
        assert {"flag-string:bucketed", "flag-string:default", "flag-bool:forced", "flag-shipped:shipped", "flag-json:bucketed", "flag-number:bucketed", "flag-plain:bucketed"} <= kinds
        # Typed getters agree with the reference too.
        for u in units[:500]:
            e = u["expected"].get("flag-number")
            want = -1 if e is None else e.get("value", e.get("default"))
            assert client.get_number("flag-number", u["unitId"], -1, u["attributes"]) == want
    finally:
        client.close(1)


def test_remote_mode_agrees(server_env):
    ref = load_reference(server_env)
    client = StrataClient(server_env["STRATA_API_URL"], server_env["STRATA_SDK_KEY"], mode="remote", log_exposures=False)
    try:
        for u in ref["units"][::50]:
            assert by_experiment(client.assign(u["unitId"], u["attributes"])) == u["expected"], u["unitId"]
    finally:
        client.close(1)


class DroppingProxy:
    """Forwards to the API; the first POST /v1/events is forwarded and stored, then its response
    is dropped (the connection closes without an answer), as a load balancer timing out would."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.event_posts = 0
        self.dropped = 0
        proxy = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_a):
                pass

            def _forward(self, method):
                n = int(self.headers.get("content-length") or 0)
                data = self.rfile.read(n) if n else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "if-none-match")}
                req = urllib.request.Request(proxy.upstream + self.path, data=data, method=method, headers=headers)
                try:
                    res = urllib.request.urlopen(req, timeout=10)
                    status, body, rh = res.status, res.read(), res.headers
                except urllib.error.HTTPError as e:
                    status, body, rh = e.code, e.read(), e.headers
                if method == "POST" and self.path == "/v1/events":
                    proxy.event_posts += 1
                    if proxy.dropped == 0:
                        proxy.dropped += 1
                        self.close_connection = True
                        return  # stored upstream, answer lost
                self.send_response(status)
                for k in ("content-type", "etag", "retry-after"):
                    if rh.get(k):
                        self.send_header(k, rh.get(k))
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._forward("GET")

            def do_POST(self):
                self._forward("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_events_arrive_exactly_once_after_a_retried_batch(server_env):
    prefix = server_env.get("STRATA_EVENTS_PREFIX", "py-once-")
    proxy = DroppingProxy(server_env["STRATA_API_URL"])
    errors = []
    client = StrataClient(proxy.url, server_env["STRATA_SDK_KEY"], flush_interval=60, max_batch_size=100, retry_base=0.05, on_error=lambda k, m: errors.append((k, m)))
    try:
        assert client.ready(10)
        exposed = 0
        for i in range(300):
            unit = f"{prefix}{i}"
            if client.get_variant("flag-number", unit) is not None:  # 100 % traffic, no targeting: always bucketed
                exposed += 1
            client.track(unit, "purchase", float(i + 1))
        assert exposed == 300
        assert client.flush(30)
        s = client.stats()
        assert proxy.dropped == 1
        assert s.retries >= 1 and s.failures == 0 and s.queued == 0
        assert s.sent == 600
        assert s.duplicates == 100  # the re-sent batch: stored the first time, recognised the second
        assert proxy.event_posts == 7  # 6 batches + the one re-sent
    finally:
        client.close(1)
        proxy.close()
    # The vitest spec then counts the rows with this prefix in PostgreSQL: 300 exposures, 300 metrics.
