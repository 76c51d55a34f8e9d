"""Holdouts: the published holdout vectors (libs/bucketing/test/vectors.json, the file the TypeScript
suites read too), evaluation of a snapshot with a holdout, and the holdout exposures the client logs."""

import pytest

from conftest import experiment, load_holdout_vectors, raw_unit_id
from strata_sdk import CompiledSnapshot, StrataClient, hash_unit

VECTORS = load_holdout_vectors()


def snapshot(salt, share, layers):
    return {
        "version": "h",
        "generatedAt": "2025-01-01T00:00:00.000Z",
        "layers": [{"key": "covered", "salt": "covered"}, {"key": "free", "salt": "free"}],
        "experiments": [
            experiment("e", "covered"),
            experiment("shipped", "covered", status="shipped", ranges=[], shippedVariant="treatment"),
            experiment("f", "free"),
        ],
        "holdouts": [{"key": "h", "salt": salt, "share": share, "layers": layers}],
    }


def test_the_file_has_holdout_vectors_of_both_outcomes():
    assert len(VECTORS) >= 30
    assert any(v["inHoldout"] for v in VECTORS) and not all(v["inHoldout"] for v in VECTORS)


@pytest.mark.parametrize("v", VECTORS, ids=[f"{i}-{v['note']}" for i, v in enumerate(VECTORS)])
def test_holdout_vector(v):
    unit = raw_unit_id(v)
    assert hash_unit(v["holdoutSalt"], unit) == v["holdoutHash"]
    c = CompiledSnapshot(snapshot(v["holdoutSalt"], v["share"], ["covered"]))
    assert (c.evaluate_experiment("e", unit) is None) == v["inHoldout"]
    assert (c.evaluate_experiment("shipped", unit) is None) == v["inHoldout"]
    assert c.evaluate_experiment("f", unit) is not None
    assert (c.holdout_of("e", unit) is not None) == v["inHoldout"]
    held = {a.experiment for a in c.evaluate(unit)}
    assert held == ({"f"} if v["inHoldout"] else {"e", "shipped", "f"})


def test_null_layers_cover_every_layer():
    c = CompiledSnapshot(snapshot("all", 1.0, None))
    assert c.evaluate("anyone") == []


def test_client_logs_holdout_exposures_for_both_arms(make_stub):
    stub = make_stub(snapshot("py-holdout", 0.5, ["covered"]))
    client = StrataClient(stub.url, "k", flush_interval=60)
    try:
        assert client.ready(5)
        ids = [f"u{i}" for i in range(40)]
        for i in ids:
            client.get_variant("e", i)
            client.get_variant("e", i)
            client.get_variant("f", i)
        client.flush(5)
        events = [e for batch in stub.batches() for e in batch]
        holdout = [e for e in events if e["experiment"] == "holdout:h"]
        assert len(holdout) == len(ids)
        assert {e["variant"] for e in holdout} == {"holdout", "rest"}
        for e in holdout:
            assert (client.get_assignment("e", e["unitId"]) is None) == (e["variant"] == "holdout")
    finally:
        client.close(1)
