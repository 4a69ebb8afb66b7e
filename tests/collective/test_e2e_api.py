"""The same two-instance flow through the local HTTP API: one real uvicorn server per instance on
loopback, each over its own home and NEAR account, sharing the ledger and the content store."""

from __future__ import annotations

import json

import httpx
import pytest

from mycel_subnet.collective.api import create_app
from tests.collective.conftest import ALICE, BOB
from tests.collective.flow import PRICE, balances, expected_split, no_leaks
from tests.collective.planted import DIFFERENT_QUERY, EXAMPLES, write_log
from tests.validator.servers import serve

pytestmark = pytest.mark.slow


def test_two_instances_through_the_api(world, tmp_path):
    log, items = write_log(tmp_path, jsonl=True)
    with (
        serve(create_app(world.config(ALICE))) as port_a,
        serve(create_app(world.config(BOB))) as port_b,
        httpx.Client(base_url=f"http://127.0.0.1:{port_a}", timeout=120) as a,
        httpx.Client(base_url=f"http://127.0.0.1:{port_b}", timeout=120) as b,
    ):
        assert a.get("/health").json()["account"] == ALICE
        schema = a.get("/openapi.json").json()
        assert {"/patterns/extract", "/patterns/find", "/earnings"} <= set(schema["paths"])

        extracted = a.post("/patterns/extract", json={"log_path": str(log)})
        assert extracted.status_code == 200, extracted.text
        pattern_id = extracted.json()["pattern_id"]
        published = a.post(f"/patterns/{pattern_id}/publish", json={"price": str(PRICE)})
        assert published.status_code == 200, published.text
        near_id = published.json()["near_id"]

        found = b.post("/patterns/find", json={"query": DIFFERENT_QUERY, "k": 3}).json()
        assert found["patterns"][0]["pattern_id"] == pattern_id

        (alice_0, bob_0), fees_0 = balances(world.ledger, ALICE, BOB)
        used = b.post(f"/patterns/{near_id}/use", json={"args": EXAMPLES[1][0]})
        assert used.status_code == 200, used.text
        share, fee = expected_split(PRICE)
        body = used.json()
        assert body["output"] == EXAMPLES[1][1]
        assert (body["paid"], body["creator_share"], body["fee"]) == (PRICE, share, fee)
        (alice_1, bob_1), fees_1 = balances(world.ledger, ALICE, BOB)
        assert (alice_1 - alice_0, bob_0 - bob_1, fees_1 - fees_0) == (share, PRICE, fee)

        rated = b.post(f"/patterns/{pattern_id}/rate", json={"success": True, "rating": 4})
        assert rated.status_code == 200 and rated.json()["near_rated"], rated.text
        again = b.post(f"/patterns/{pattern_id}/rate", json={"success": True, "rating": 4})
        assert again.status_code == 200 and not again.json()["near_rated"]
        assert "paid use" in again.json()["near_error"]

        earned = a.get("/earnings").json()
        assert earned["total_uses"] == 1 and earned["total_net"] == share
        assert earned["patterns"][0]["reputation"] > 0.25

        missing = b.get("/patterns/" + "0" * 64)
        assert missing.status_code == 404 and "unknown pattern" in missing.json()["error"]
        bad = a.post(f"/patterns/{pattern_id}/publish", json={"price": "-5"})
        assert bad.status_code == 400 and "--price" in bad.json()["error"]
        texts = [extracted.text, published.text, json.dumps(found), used.text, json.dumps(earned)]
        no_leaks(items, *texts)
        assert "private_key" not in "".join(texts)
