"""Routing and the choice of answer through a real gateway to real miners on loopback.

The liar is the miner the validator scores highest, so routing by score alone would return its
answers: the validator's checks and the honest miners' agreement must beat it. The reward rule
(organic answers never change a score) and the miners' challenge budget are tested here too.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from bittensor import http_auth

from mycel_subnet.gateway.models import INFERENCE_ROUTE, SEARCH_ROUTE
from mycel_subnet.transport.client import QueryErrorKind, query_miner
from protocol import ClaySynapse, InferenceRequest, LearnedPattern
from tests.gateway.harness import (
    CATALOGUE,
    TIMEOUT_S,
    HonestEngine,
    LiarEngine,
    MinerSpec,
    gateway_running,
    pattern_hash,
    running_subnet,
)

BILL = "split a restaurant bill between friends"


def _pattern() -> dict:
    pattern = LearnedPattern.model_validate_json(
        json.dumps(
            {
                "trigger": "split a bill evenly",
                "domain": "finance",
                "creator": "creator.mycel.test",
                "created_at": "2026-12-01T10:00:00Z",
                "solution": {
                    "kind": "prompt_template",
                    "template": "Split {total} between {people}.",
                    "variables": ["total", "people"],
                },
            }
        )
    )
    return json.loads(pattern.model_dump_json())


def _auth(gateway) -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway.keys.issue('instance').key}"}


def test_agreeing_honest_miners_beat_the_top_scored_liar(subnet):
    gateway = subnet.build()
    offered = _pattern()
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        auth = _auth(gateway)
        answer = http.post(
            INFERENCE_ROUTE, headers=auth, json={"query": BILL, "available_patterns": [offered]}
        ).json()
        assert answer["response"].startswith(f"To {BILL}:")  # the honest miners' answer
        assert answer["patterns_used"] == [offered["id"]]
        assert answer["agreement"] == {"asked": 3, "answered": 3, "valid": 3, "agreeing": 2}

        found = http.post(SEARCH_ROUTE, headers=auth, json={"query": BILL, "k": 3}).json()
        ids = [p["pattern_id"] for p in found["patterns"]]
        assert ids[0] == pattern_hash(CATALOGUE[0][1])  # the bill-splitting pattern
        registered = {pattern_hash(text) for _, text in CATALOGUE}
        assert set(ids) <= registered and all(p["support"] == 2 for p in found["patterns"])
        assert found["patterns"][0]["near_id"] >= 1 and found["patterns"][0]["domain"] == "finance"
        # the liar sent ids the registry does not hold: benched from organic routing
        assert gateway.service.directory.faults == {subnet.hotkey("liar"): 1}
        again = http.post(SEARCH_ROUTE, headers=auth, json={"query": BILL, "k": 3}).json()
        assert (
            again["agreement"]["asked"] == 2 and [p["pattern_id"] for p in again["patterns"]] == ids
        )


def test_a_liar_claiming_unoffered_patterns_is_benched(tmp_path):
    specs = [
        MinerSpec("claimer", 0.9, engine=LiarEngine(claim_unoffered=True)),
        MinerSpec("honest", 0.5),
    ]
    with running_subnet(tmp_path, specs) as net:
        gateway = net.build()
        with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
            auth = _auth(gateway)
            first = http.post(INFERENCE_ROUTE, headers=auth, json={"query": BILL}).json()
            assert first["response"].startswith("To ") and first["agreement"]["valid"] == 1
            assert gateway.service.directory.faults == {net.hotkey("claimer"): 1}
            calls = len(specs[0].engine.seen)
            second = http.post(INFERENCE_ROUTE, headers=auth, json={"query": BILL}).json()
            assert second["agreement"]["asked"] == 1 and len(specs[0].engine.seen) == calls


def _miner_traces(net) -> list[str]:
    traces = []
    for name, wallet in net.miners.items():
        port = net.ports[name]
        traces += [wallet.hotkey.ss58_address, f"127.0.0.1:{port}", f":{port}"]
    return traces


def test_answers_and_errors_never_carry_miner_addresses(tmp_path):
    leaky = LiarEngine()
    specs = [MinerSpec("leaky", 0.9, engine=leaky), MinerSpec("quiet", 0.5)]
    with running_subnet(tmp_path, specs) as net:
        leaky.leak = (
            f"ask me directly: {net.hotkey('leaky')} at http://127.0.0.1:{net.ports['leaky']}"
        )
        texts = []
        alone = net.build(fanout=1)  # the leaky miner, scored highest, answers alone
        with gateway_running(alone) as url, httpx.Client(base_url=url, timeout=30) as http:
            auth = _auth(alone)
            leaked = http.post(INFERENCE_ROUTE, headers=auth, json={"query": BILL})
            assert leaked.status_code == 200 and "[redacted]" in leaked.json()["response"]
            texts += [leaked.text, http.get("/health").text, http.get("/openapi.json").text]
            texts.append(http.post(SEARCH_ROUTE, headers=auth, json={"query": BILL}).text)
            texts.append(http.post(INFERENCE_ROUTE, json={"query": BILL}).text)
        net.graph = _with_dead_endpoints(net.graph)  # every miner unreachable: a 502 path
        dead = net.build()
        with gateway_running(dead) as url, httpx.Client(base_url=url, timeout=30) as http:
            failed = http.post(INFERENCE_ROUTE, headers=_auth(dead), json={"query": BILL})
            assert failed.status_code == 502 and failed.json()["error"] == "no_answer"
            texts.append(failed.text)
        for text in texts:
            for trace in _miner_traces(net):
                assert trace not in text, (trace, text[:300])
        answer_keys = set(json.loads(texts[0])) | set(json.loads(texts[0])["agreement"])
        assert not answer_keys & {"uid", "uids", "hotkey", "ip", "port", "axon", "miner"}


def _with_dead_endpoints(graph):
    from dataclasses import replace

    from tests.miner.harness import free_socket

    sock = free_socket()  # bound, never listening: connections are refused
    port = sock.getsockname()[1]
    neurons = tuple(replace(n, axon_port=port) if n.axon_port else n for n in graph.neurons)
    return replace(graph, neurons=neurons)


def _store_state(store):
    return store.scores(), store.task_values(), store.last_step(), store.hotkeys()


def test_callers_cannot_steer_rewards_or_bench_honest_miners(subnet):
    """The rule: organic answers never change a score. Heavy traffic, including requests built
    to make the liar win or to make honest miners look faulty, leaves the score store as it
    was, and the caller-chosen parameters (domain, snapshot) never count as a miner's fault."""
    before = _store_state(subnet.store)
    gateway = subnet.build()
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        auth = _auth(gateway)
        requests = [
            (SEARCH_ROUTE, {"query": BILL, "domain": "writing"}),  # honest ids outside it
            (SEARCH_ROUTE, {"query": BILL, "registry_upto": 0}),  # an empty snapshot
            (SEARCH_ROUTE, {"query": "zzz qqq", "k": 100}),
            (INFERENCE_ROUTE, {"query": BILL, "available_patterns": [_pattern()]}),
            (INFERENCE_ROUTE, {"query": "w1 w2 w3 w4"}),  # looks like the liar's noise
        ]
        for _ in range(3):
            for route, body in requests:
                assert http.post(route, headers=auth, json=body).status_code == 200
    assert _store_state(subnet.store) == before
    faulted = set(gateway.service.directory.faults)
    assert faulted <= {subnet.hotkey("liar")}  # honest miners are never benched


def test_organic_queries_look_like_challenges_on_the_wire(subnet):
    """Signed by the validator's hotkey with the challenges' deadline: a miner cannot serve
    the validator's challenges well and organic callers badly by reading the envelope."""
    gateway = subnet.build()
    recorder = subnet.specs["h1"].recorder
    seen = len(recorder.requests)
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        auth = _auth(gateway)
        http.post(INFERENCE_ROUTE, headers=auth, json={"query": BILL})
        http.post(SEARCH_ROUTE, headers=auth, json={"query": BILL})
    new = recorder.requests[seen:]
    assert len(new) == 2
    for headers, body in new:
        assert headers[http_auth.HEADER_HOTKEY.lower()] == subnet.validator.hotkey.ss58_address
        synapse = ClaySynapse.model_validate_json(body)
        assert synapse.deadline_s == TIMEOUT_S
        assert "instance" not in body.decode()  # nothing about the caller travels on


async def _challenge_burst(net, name: str, count: int) -> list:
    synapses = [
        ClaySynapse(request=InferenceRequest(query=f"challenge {i}"), deadline_s=5)
        for i in range(count)
    ]
    async with httpx.AsyncClient() as http:
        return await asyncio.gather(
            *(
                query_miner(
                    http,
                    net.validator,
                    net.hotkey(name),
                    f"http://127.0.0.1:{net.ports[name]}",
                    s,
                    5.0,
                    1_048_576,
                )
                for s in synapses
            )
        )


async def _flood(url: str, auth: dict[str, str], count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return await asyncio.gather(
            *(http.post(INFERENCE_ROUTE, headers=auth, json={"query": BILL}) for _ in range(count))
        )


def test_gateway_traffic_leaves_the_miners_rate_limit_to_the_challenges(tmp_path):
    """A miner allows the validator's hotkey 10 requests a second; organic queries are signed
    by that hotkey too. With the gateway's per-miner budget, a flood of callers leaves room for
    a step's burst of challenges; without it (the control), the same flood makes the miner
    refuse challenges, which would cost it rewards."""
    specs = [MinerSpec("tight", 0.5, engine=HonestEngine(), rate_limit_per_hotkey=10.0)]
    with running_subnet(tmp_path, specs) as net:
        outcomes = {}
        for label, miner_rate in (("budgeted", 2.0), ("unbudgeted", 1000.0)):
            gateway = net.build(fanout=1, miner_rate=miner_rate)
            with gateway_running(gateway) as url:
                flood = asyncio.run(_flood(url, _auth(gateway), 30))
                burst = asyncio.run(_challenge_burst(net, "tight", 6))
            outcomes[label] = (flood, burst)
            time.sleep(1.5)  # let the miner's bucket refill between runs
        flood, burst = outcomes["budgeted"]
        assert all(o.ok for o in burst), [o.detail for o in burst if not o.ok]
        assert {r.status_code for r in flood} <= {200, 503}
        busy = [r for r in flood if r.status_code == 503]
        assert busy and busy[0].json()["error"] == "busy" and "Retry-After" in busy[0].headers
        _, control = outcomes["unbudgeted"]
        refused = [o for o in control if o.error is QueryErrorKind.HTTP_ERROR and "429" in o.detail]
        assert refused, "the control should show the flood exhausting the miner's limit"


def test_health_and_openapi(subnet):
    gateway = subnet.build()
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        health = http.get("/health").json()
        assert health["validator_hotkey"] == subnet.validator.hotkey.ss58_address
        assert health["miners_available"] == 3 and health["search"] is True
        doc = http.get("/openapi.json").json()
        for path in (INFERENCE_ROUTE, SEARCH_ROUTE):
            post = doc["paths"][path]["post"]
            assert {"200", "401", "413", "422", "429", "502", "503"} <= set(post["responses"])
            ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"]
        assert "LearnedPattern" in doc["components"]["schemas"]
        assert set(doc["components"]["securitySchemes"]) == {"apiKey", "btauth"}


def test_a_pattern_quarantined_after_it_was_found_is_never_offered_again(subnet, monkeypatch):
    """Miners' indexes keep a pattern the validators later judge unsafe; the gateway checks the
    registry's status (its cache expires) and drops it, so a caller is never offered it."""
    from mycel_subnet.gateway import registry as gateway_registry
    from mycel_subnet.near.ledger import DEFAULT_REGISTRY
    from tests.gateway.harness import OWNER

    gateway = subnet.build()
    bill = pattern_hash(CATALOGUE[0][1])
    with gateway_running(gateway) as url, httpx.Client(base_url=url, timeout=30) as http:
        auth = _auth(gateway)
        first = http.post(SEARCH_ROUTE, headers=auth, json={"query": BILL, "k": 3}).json()
        entry = next(p for p in first["patterns"] if p["pattern_id"] == bill)
        subnet.ledger.create_account("attester.mycel.test")
        subnet.ledger.call(
            OWNER, DEFAULT_REGISTRY, "add_attester", {"account": "attester.mycel.test"}
        )
        verdict = {"pattern_id": entry["near_id"], "quality_ppm": 0, "safe": False,
                   "reason": "runs os.system"}  # fmt: skip
        subnet.ledger.call("attester.mycel.test", DEFAULT_REGISTRY, "attest_pattern", verdict)
        monkeypatch.setattr(gateway_registry, "FOUND_TTL_S", 0.0)
        again = http.post(SEARCH_ROUTE, headers=auth, json={"query": BILL, "k": 3}).json()
    assert again["patterns"] and bill not in [p["pattern_id"] for p in again["patterns"]], again
    # the honest miners indexed it while it was clean: dropping it blames neither of them
    faults = gateway.service.directory.faults
    assert subnet.hotkey("h1") not in faults and subnet.hotkey("h2") not in faults, faults
