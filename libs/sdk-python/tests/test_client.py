"""The client against a real HTTP stub: ETag polling, values, exposures, retries, remote mode."""

import time

from conftest import experiment
from strata_sdk import StrataClient


def snapshot(version="v1", **colour):
    return {
        "version": version,
        "generatedAt": "2025-01-01T00:00:00.000Z",
        "layers": [{"key": "web", "salt": "web"}, {"key": "api", "salt": "api"}],
        "experiments": [
            experiment(
                "colour",
                "web",
                valueType="string",
                defaultValue="grey",
                variants=[{"key": "control", "weight": 0.5, "value": "grey"}, {"key": "treatment", "weight": 0.5, "value": "green"}],
                targeting={"attribute": "country", "operator": "eq", "value": "DE"},
                forcedVariants=[{"unitId": "vip", "variant": "treatment", "expiresAt": None}],
                **colour,
            ),
            experiment(
                "limits",
                "api",
                valueType="json",
                defaultValue={"perMinute": 30},
                variants=[{"key": "control", "weight": 0.5, "value": {"perMinute": 30}}, {"key": "treatment", "weight": 0.5, "value": {"perMinute": 60}}],
            ),
        ],
    }


def until(check, seconds=5.0):
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.01)


def test_polls_with_etags_and_picks_up_changes(make_stub):
    stub = make_stub(snapshot())
    changes = []
    client = StrataClient(stub.url, "k", poll_interval=0.05, log_exposures=False)
    client.subscribe(lambda: changes.append(1))
    try:
        assert client.ready(5)
        until(lambda: sum(1 for r in stub.requests if r["method"] == "GET") >= 3)
        gets = [r for r in stub.requests if r["method"] == "GET"]
        assert gets[1]["headers"].get("If-None-Match") == '"v1"'
        assert len(changes) == 1  # 304s are no change
        stub.snapshot = snapshot("v2", ranges=[])
        until(lambda: len(changes) == 2)
        assert client.get_variant("colour", "u1", {"country": "DE"}) is None
        assert client.get_string("colour", "u1", "x", {"country": "DE"}) == "grey"
    finally:
        client.close(1)


def test_values_defaults_and_exposures(make_stub):
    stub = make_stub(snapshot())
    errors = []
    client = StrataClient(stub.url, "k", flush_interval=60, on_error=lambda kind, msg: errors.append(kind))
    try:
        assert client.ready(5)
        seen = {}
        for i in range(40):
            variant = client.get_variant("colour", f"u{i}", {"country": "DE"})
            seen[variant] = client.get_string("colour", f"u{i}", "fallback", {"country": "DE"})
        assert seen == {"control": "grey", "treatment": "green"}
        assert client.get_string("colour", "u1", "fallback", {"country": "US"}) == "grey"
        assert client.get_string("nope", "u1", "fallback") == "fallback"
        assert client.get_number("colour", "u1", 7, {"country": "DE"}) == 7
        assert errors == ["type_mismatch"]
        value = client.get_json("limits", "u1", {})
        value["perMinute"] = -1  # a copy: others are unaffected
        assert client.get_json("limits", "u1", {})["perMinute"] in (30, 60)
        assert client.get_string("colour", "vip", "", {"country": "US"}) == "green"  # forced: no targeting, no exposure
        assert client.assign("u1", {"country": "US"}) == {
            "assignments": [client.get_assignment("limits", "u1").to_dict()],
            "defaults": {"colour": "grey"},
        }
        # 40 colour units + one limits unit exposed once each (get_json twice is deduplicated).
        assert client.stats().queued == 41
        assert client.flush(5)
        events = [e for b in stub.batches() for e in b]
        assert len(events) == 41 and len({e["id"] for e in events}) == 41
        assert {e["experiment"] for e in events} == {"colour", "limits"}
        assert all(e["type"] == "exposure" and e["timestamp"].endswith("Z") for e in events)
    finally:
        client.close(1)


def test_retries_keep_event_ids_and_4xx_is_final(make_stub):
    stub = make_stub(snapshot())
    calls = {"n": 0}

    def flaky(_stub, _h, body):
        calls["n"] += 1
        if calls["n"] <= 2:
            return (503, {"error": {"code": "unavailable"}})
        return None

    stub.on_events = flaky
    errors = []
    client = StrataClient(stub.url, "k", flush_interval=60, retry_base=0.01, on_error=lambda k, m: errors.append(k))
    try:
        for i in range(5):
            client.track(f"u{i}", "purchase", float(i))
        assert client.flush(5)
        batches = stub.batches()
        assert len(batches) == 3
        assert [e["id"] for e in batches[0]] == [e["id"] for e in batches[2]]
        s = client.stats()
        assert (s.sent, s.retries, s.failures, s.queued) == (5, 2, 0, 0)
        stub.on_events = lambda *_: (400, {"error": {"code": "validation_failed"}})
        client.track("u", "purchase")
        assert client.flush(5)
        assert len(stub.batches()) == 4  # not retried
        assert client.stats().failures == 1 and "http" in errors
    finally:
        client.close(1)


def test_unreachable_api_answers_defaults_without_raising():
    errors = []
    client = StrataClient("http://127.0.0.1:9", "k", timeout=0.2, retry_base=0.01, max_retries=1, on_error=lambda k, m: errors.append(k))
    try:
        assert client.ready(0.5) is False
        assert client.get_variant("colour", "u1") is None
        assert client.get_bool("flag", "u1", True) is True
        until(lambda: "config" in errors)
    finally:
        client.close(1)


def test_remote_mode(make_stub):
    stub = make_stub(snapshot())
    stub.on_assign = lambda _s, _h, body: (
        200,
        {
            "assignments": [{"experiment": "colour", "layer": "web", "variant": "treatment", "reason": "bucketed", "value": "green"}] if body["unitId"] == "in" else [],
            "defaults": {"limits": {"perMinute": 30}} if body["unitId"] == "in" else {"colour": "grey", "limits": {"perMinute": 30}},
        },
    )
    client = StrataClient(stub.url, "k", mode="remote", log_exposures=False)
    try:
        assert client.get_string("colour", "in", "f") == "green"
        assert client.get_variant("colour", "in") == "treatment"
        assert client.get_json("limits", "in", None) == {"perMinute": 30}
        assert client.get_string("colour", "out", "f") == "grey"
        assert client.get_string("unknown", "out", "f") == "f"
        assign_posts = [r for r in stub.requests if r["path"] == "/v1/assign"]
        assert len(assign_posts) == 2  # one per unit, cached
        assert assign_posts[0]["body"]["logExposures"] is False
    finally:
        client.close(1)
