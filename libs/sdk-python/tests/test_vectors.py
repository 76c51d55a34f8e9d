"""Every published bucketing vector (libs/bucketing/test/vectors.json, the file the TypeScript
suites read too): the hashes, the bucket, the draw and the variant; then through the client."""

import pytest

from conftest import experiment, load_vectors, raw_unit_id
from strata_sdk import BUCKETS, StrataClient, hash_unit, layer_bucket, pick_variant, variant_draw

VECTORS = load_vectors()


def test_the_file_has_vectors():
    assert len(VECTORS) >= 40


@pytest.mark.parametrize("v", VECTORS, ids=[f"{i}-{v['note']}" for i, v in enumerate(VECTORS)])
def test_vector(v):
    unit = raw_unit_id(v)
    assert hash_unit(v["layerSalt"], unit) == v["layerHash"]
    assert hash_unit(v["experimentSalt"], unit) == v["variantHash"]
    assert layer_bucket(v["layerSalt"], unit) == v["bucket"] == v["layerHash"] % BUCKETS
    u = variant_draw(v["experimentSalt"], unit)
    assert u == v["u"]
    cumulative, total = [], 0.0
    for w in v["weights"]:
        total += w
        cumulative.append(total)
    assert v["variants"][pick_variant(cumulative, u)] == v["variant"]


def test_vectors_through_the_client(make_stub):
    snapshot = {
        "version": "vectors",
        "generatedAt": "2025-01-01T00:00:00.000Z",
        "layers": [{"key": f"l{i}", "salt": v["layerSalt"]} for i, v in enumerate(VECTORS)],
        "experiments": [
            experiment(
                f"v{i}",
                f"l{i}",
                salt=v["experimentSalt"],
                variants=[{"key": k, "weight": w} for k, w in zip(v["variants"], v["weights"])],
                ranges=[{"start": v["bucket"], "end": v["bucket"] + 1}],
            )
            for i, v in enumerate(VECTORS)
        ],
    }
    stub = make_stub(snapshot)
    client = StrataClient(stub.url, "k", log_exposures=False)
    try:
        assert client.ready(5)
        for i, v in enumerate(VECTORS):
            assert client.get_variant(f"v{i}", raw_unit_id(v)) == v["variant"], v["note"]
        # The experiment holds one bucket: another id almost surely lands elsewhere.
        assert any(client.get_variant("v0", other) is None for other in "abcde")
    finally:
        client.close(1)
