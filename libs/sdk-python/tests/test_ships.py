"""Staged ships: the published ship vectors (libs/bucketing/test/vectors.json, read by the TypeScript
suites too) and evaluation of a shipped experiment with a ship share."""

import pytest

from conftest import experiment, load_ship_vectors, raw_unit_id
from strata_sdk import CompiledSnapshot, StrataClient, hash_unit, ship_draw

VECTORS = load_ship_vectors()


def snapshot(salt, ship_share=None, **extra):
    shipped = experiment("s", "L", status="shipped", ranges=[], shippedVariant="treatment", salt=salt, **extra)
    if ship_share is not None:
        shipped["shipShare"] = ship_share
    return {
        "version": "s",
        "generatedAt": "2025-01-01T00:00:00.000Z",
        "layers": [{"key": "L", "salt": "L"}, {"key": "M", "salt": "M"}],
        "experiments": [shipped, experiment("r", "M")],
    }


def test_the_file_has_ship_vectors_of_both_outcomes():
    assert len(VECTORS) >= 20
    assert any(v["shipped"][0] for v in VECTORS) and not all(v["shipped"][0] for v in VECTORS)


@pytest.mark.parametrize("v", VECTORS, ids=[f"{i}-{v['note']}" for i, v in enumerate(VECTORS)])
def test_ship_vector(v):
    unit = raw_unit_id(v)
    assert hash_unit(f"{v['experimentSalt']}:ship", unit) == v["shipHash"]
    assert ship_draw(v["experimentSalt"], unit) == v["u"]
    for share, shipped in zip(v["shipShares"], v["shipped"]):
        c = CompiledSnapshot(snapshot(v["experimentSalt"], share))
        a = c.evaluate_experiment("s", unit)
        assert (a is not None) == shipped
        if a is not None:
            assert (a.variant, a.reason) == ("treatment", "shipped")
        assert ("s" in {x.experiment for x in c.evaluate(unit)}) == shipped


def test_a_staged_ship_is_monotone_and_near_its_share():
    ids = [f"unit-{i}" for i in range(4000)]
    won = {}
    for share in (0.1, 0.5, 1.0):
        c = CompiledSnapshot(snapshot("mono", share))
        won[share] = {i for i in ids if c.evaluate_experiment("s", i) is not None}
    assert won[0.1] <= won[0.5] <= won[1.0]
    assert len(won[1.0]) == len(ids)
    assert abs(len(won[0.1]) - 400) < 5 * (4000 * 0.1 * 0.9) ** 0.5
    assert abs(len(won[0.5]) - 2000) < 5 * (4000 * 0.25) ** 0.5


def test_no_share_and_invalid_shares_are_a_full_ship_and_targeting_still_applies():
    ids = [f"u{i}" for i in range(300)]
    for share in (None, 1, float("nan"), 3):
        c = CompiledSnapshot(snapshot("full", share))
        assert all(c.evaluate_experiment("s", i) is not None for i in ids)
    c = CompiledSnapshot(snapshot("t", 0.5, targeting={"attribute": "plan", "operator": "eq", "value": "pro"}))
    assert all(c.evaluate_experiment("s", i, {"plan": "free"}) is None for i in ids)
    assert 100 < sum(c.evaluate_experiment("s", i, {"plan": "pro"}) is not None for i in ids) < 200


def test_client_logs_ship_exposures_for_both_arms_and_none_for_a_full_ship(make_stub):
    stub = make_stub(snapshot("py-ship", 0.3))
    client = StrataClient(stub.url, "k", flush_interval=60)
    try:
        assert client.ready(5)
        ids = [f"u{i}" for i in range(50)]
        for i in ids:
            client.get_variant("s", i)
            client.get_variant("s", i)
        client.flush(5)
        events = [e for batch in stub.batches() for e in batch]
        ship = [e for e in events if e["experiment"] == "ship:s"]
        assert len(ship) == len(ids)
        assert {e["variant"] for e in ship} == {"winner", "default"}
        for e in ship:
            assert (client.get_variant("s", e["unitId"]) == "treatment") == (e["variant"] == "winner")
        assert [e for e in events if e["experiment"] == "s"] == []
    finally:
        client.close(1)
    full = make_stub(snapshot("py-ship", 1.0))
    client = StrataClient(full.url, "k", flush_interval=60)
    try:
        assert client.ready(5)
        for i in range(20):
            client.get_variant("s", f"u{i}")
        client.flush(5)
        assert [e for batch in full.batches() for e in batch] == []
    finally:
        client.close(1)
