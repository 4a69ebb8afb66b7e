"""PatternDiscovery over a real PatternStore and, where NEAR is involved, the LocalLedger running
the real registry and reputation contract logic. Embeddings come from HashingEmbedder (lexical,
deterministic); the semantic ranking with MiniLM is in test_semantic.py."""

from __future__ import annotations

import asyncio
import socket

import base58
import pytest
from nacl.signing import SigningKey

from mycel_subnet.near.client import LocalRegistryClient, NearRpcRegistryClient
from mycel_subnet.near.ledger import DEFAULT_REGISTRY
from mycel_subnet.patterns import PatternDiscovery, UnknownPattern
from mycel_subnet.patterns.ranking import DEFAULT_REPUTATION
from tests.patterns.conftest import client, code_pattern, register

SORT_Q = "sort a list of numbers in ascending order"
SORT = code_pattern(
    "Sort a list of numbers in ascending order", "def solve(x):\n    return sorted(x)\n"
)
DECOYS = [
    code_pattern("Parse an ISO date string into a datetime"),
    code_pattern("Count the words in a text file"),
    code_pattern("Send an HTTP request and read the JSON reply"),
]
SORT_B = code_pattern(SORT.trigger, "def solve(x):\n    x.sort()\n    return x\n")
SORT_CAROL = code_pattern(
    SORT.trigger, "def solve(x):\n    return list(sorted(x))\n", creator="carol.test"
)
UNSAFE_SORT = code_pattern(
    SORT_Q, "import os\n\ndef solve(x):\n    os.system('rm -rf /tmp/x')\n    return sorted(x)\n"
)
SAFE_SORTISH = code_pattern(
    "Sort numbers", "def solve(x):\n    return sorted(x)\n", requirements=("a list of values",)
)

pytestmark = pytest.mark.asyncio


def ids(ranked):
    return [r.pattern_id for r in ranked]


async def test_relevant_pattern_ranks_first_locally(store):
    store.put_many([*DECOYS, SORT])
    discovery = PatternDiscovery(store, min_similarity=-1.0)  # keep the decoys in the list
    ranked = await discovery.discover(SORT_Q, k=3)
    assert len(ranked) == 3
    assert ranked[0].pattern_id == SORT.id
    assert ranked[0].source == "local"
    assert ranked[0].score.similarity > max(r.score.similarity for r in ranked[1:])


async def test_success_rate_breaks_a_similarity_tie(store):
    store.put_many([SORT, SORT_B])
    for _ in range(3):
        store.record_use(str(SORT_B.id), True, 5)
        store.record_use(str(SORT.id), False, 2)
    ranked = await PatternDiscovery(store).discover(SORT_Q, k=2)
    assert ids(ranked) == [SORT_B.id, SORT.id]
    good, bad = ranked
    assert good.score.similarity == pytest.approx(bad.score.similarity)
    assert good.score.success_rate == pytest.approx(4 / 5)
    assert bad.score.success_rate == pytest.approx(1 / 5)


async def test_creator_reputation_breaks_a_similarity_tie(store, ledger):
    # Alice earns reputation: Bob pays for and rates another pattern of hers twice.
    earner = code_pattern("Merge two dictionaries")
    near_id = await register(ledger, earner, price=10**23)
    bob = client(ledger, "bob.test")
    for _ in range(2):
        await bob.use_pattern(near_id, 10**23)
        await bob.rate_pattern(near_id, True, 5)
    store.put_many([SORT_CAROL, SORT])
    ranked = await PatternDiscovery(store, registry=bob).discover(SORT_Q, domain="code", k=2)
    assert ids(ranked) == [SORT.id, SORT_CAROL.id]
    alice_rep = (await bob.get_reputation("alice.test")).composite
    assert ranked[0].score.reputation == pytest.approx(alice_rep) and alice_rep > 0.25
    assert ranked[1].score.reputation == pytest.approx(DEFAULT_REPUTATION)
    assert ranked[0].score.similarity == pytest.approx(ranked[1].score.similarity)


async def test_price_above_budget_is_excluded(store):
    pricey = code_pattern(SORT.trigger, "def solve(x):\n    return sorted(x)[:]\n", price=500)
    store.put_many([SORT, pricey])
    result = await PatternDiscovery(store).discover_detailed(SORT_Q, budget=100, k=5)
    assert pricey.id not in ids(result.patterns) and SORT.id in ids(result.patterns)
    # The budget is applied inside the store's search: more similar but pricier patterns do
    # not crowd the affordable one out of the candidate list.
    pricier = [
        code_pattern(SORT_Q, f"def solve(x):\n    return sorted(x) + [{i}][:0]\n", price=900)
        for i in range(4)
    ]
    cheap = code_pattern("Order these numbers", "def solve(x):\n    return sorted(x)\n")
    store.put_many([*pricier, cheap])
    narrow = PatternDiscovery(store, local_candidates=2, min_similarity=-1.0)
    assert set(ids(await narrow.discover(SORT_Q, budget=100, k=2))) == {SORT.id, cheap.id}
    within = await PatternDiscovery(store).discover(SORT_Q, budget=1000, k=10)
    by_id = {r.pattern_id: r for r in within}
    assert by_id[pricey.id].score.price_factor == pytest.approx(1 / 1.5)
    assert ids(within)[0] == SORT.id  # free beats priced when all else is equal


async def test_registry_price_overrides_the_local_claim(store, ledger):
    store.put(SORT)  # claims to be free
    await register(ledger, SORT, price=5_000)
    discovery = PatternDiscovery(store, registry=client(ledger, "bob.test"))
    result = await discovery.discover_detailed(SORT_Q, domain="code", budget=1_000)
    assert result.patterns == []
    assert "price 5000 above budget 1000" in result.excluded[str(SORT.id)]


async def test_unsafe_pattern_excluded_by_default(store):
    store.put_many([UNSAFE_SORT, SAFE_SORTISH])
    result = await PatternDiscovery(store).discover_detailed(SORT_Q)
    assert ids(result.patterns) == [SAFE_SORTISH.id]
    assert result.excluded[str(UNSAFE_SORT.id)].startswith("safety")


async def test_unsafe_pattern_ranks_below_every_safe_one_when_kept(store):
    store.put_many([UNSAFE_SORT, SAFE_SORTISH])
    ranked = await PatternDiscovery(store, exclude_unsafe=False).discover(SORT_Q)
    assert ids(ranked) == [SAFE_SORTISH.id, UNSAFE_SORT.id]
    unsafe = ranked[1].score
    assert not unsafe.safe and unsafe.safety < 0.6
    assert unsafe.similarity > ranked[0].score.similarity
    assert unsafe.final > ranked[0].score.final  # it would have won on score alone


async def test_same_pattern_from_store_and_registry_appears_once(store, ledger):
    store.put_many([SORT, *DECOYS])
    near_id = await register(ledger, SORT, price=0)
    discovery = PatternDiscovery(store, registry=client(ledger, "bob.test"))
    ranked = await discovery.discover(SORT_Q, domain="code", k=10)
    assert ids(ranked).count(SORT.id) == 1
    top = ranked[0]
    assert (top.pattern_id, top.source, top.near_id) == (SORT.id, "local+registry", near_id)
    assert store.near_id(str(SORT.id)) == near_id


async def test_registry_only_pattern_is_fetched_verified_and_cached(store, ledger):
    store.put_many(DECOYS)
    await register(ledger, SORT)
    by_hash = {str(SORT.id): SORT}

    async def fetcher(entry):
        return by_hash.get(entry.pattern_hash)

    bob = client(ledger, "bob.test")
    without = await PatternDiscovery(store, registry=bob).discover_detailed(SORT_Q, domain="code")
    assert SORT.id not in ids(without.patterns)
    assert any("no fetcher configured" in w for w in without.warnings)

    found = await PatternDiscovery(store, registry=bob, fetcher=fetcher).discover(SORT_Q)
    assert found[0].pattern_id == SORT.id and found[0].source == "registry"
    assert store.get(str(SORT.id)) == SORT  # cached locally; domain was inferred ("code")


async def test_fetched_content_must_match_the_registered_hash(store, ledger):
    store.put_many(DECOYS)
    await register(ledger, SORT)

    async def lying_fetcher(entry):
        return SORT_B  # different content under SORT's registered hash

    discovery = PatternDiscovery(store, registry=client(ledger, "bob.test"), fetcher=lying_fetcher)
    result = await discovery.discover_detailed(SORT_Q, domain="code")
    assert SORT_B.id not in ids(result.patterns) and SORT.id not in ids(result.patterns)
    assert "does not match" in result.excluded[str(SORT.id)]
    assert str(SORT_B.id) not in store


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _secret_key() -> str:
    signing = SigningKey.generate()
    return "ed25519:" + base58.b58encode(bytes(signing) + bytes(signing.verify_key)).decode()


async def test_registry_outage_degrades_to_local_results(store):
    """py-near's real RPC client pointed at a loopback port where nothing listens."""
    store.put_many([SORT, *DECOYS])
    dead = NearRpcRegistryClient(
        f"http://127.0.0.1:{_closed_port()}",
        "bob.test",
        _secret_key(),
        registry=DEFAULT_REGISTRY,
        reputation="reputation.mycel.test",
    )
    try:
        discovery = PatternDiscovery(store, registry=dead, registry_timeout_s=5)
        result = await discovery.discover_detailed(SORT_Q, domain="code")
    finally:
        # close() skips py-near's shutdown when startup failed, leaving its aiohttp session
        # open (reported for mycel_subnet/near/client.py); shut the provider down directly.
        await dead._account.shutdown()
    assert result.patterns[0].pattern_id == SORT.id
    assert result.registry_queried
    assert any("registry unavailable" in w for w in result.warnings)


async def test_slow_or_closed_registry_degrades_too(store, ledger):
    store.put_many([SORT, *DECOYS])

    class SlowRegistry(LocalRegistryClient):
        """A registry that answers too late (a stand-in for a stalled RPC node)."""

        async def _view(self, contract, method, args):
            await asyncio.sleep(5)
            return await super()._view(contract, method, args)

    slow = SlowRegistry(ledger, "bob.test")
    result = await PatternDiscovery(store, registry=slow, registry_timeout_s=0.2).discover_detailed(
        SORT_Q, domain="code"
    )
    assert result.patterns[0].pattern_id == SORT.id
    assert any("timed out" in w for w in result.warnings)

    closed = client(ledger, "bob.test")
    ledger.close()
    result = await PatternDiscovery(store, registry=closed).discover_detailed(SORT_Q, domain="code")
    assert result.patterns[0].pattern_id == SORT.id
    assert any("registry unavailable" in w for w in result.warnings)


async def test_record_success_rates_on_the_ledger_registry(store, ledger):
    price = 1_000
    store.put(SORT)
    near_id = await register(ledger, SORT, price=price)
    bob = client(ledger, "bob.test")
    discovery = PatternDiscovery(store, registry=bob)
    await bob.use_pattern(near_id, price)

    outcome = await discovery.record_success(str(SORT.id), True, 5)
    assert (outcome.near_id, outcome.near_rated, outcome.near_error) == (near_id, True, None)
    assert outcome.local.usage_count == 1 and outcome.local.success_count == 1
    entry = await bob.get_pattern(near_id)
    assert (entry.rating_count, entry.success_count) == (1, 1)
    alice = await bob.get_reputation("alice.test")
    assert (alice.successful_uses, alice.total_rating) == (1, 5)

    # A second rating without a second paid use: the contract refuses, the report says so.
    again = await discovery.record_success(str(SORT.id), False, 1)
    assert not again.near_rated and "Rate only after a paid use" in again.near_error
    assert again.local.usage_count == 2 and again.local.success_count == 1
    assert (await bob.get_pattern(near_id)).rating_count == 1


async def test_record_success_for_unregistered_or_unknown_patterns(store, ledger):
    store.put(SORT)
    discovery = PatternDiscovery(store, registry=client(ledger, "bob.test"))
    outcome = await discovery.record_success(str(SORT.id), True, 4)
    assert (outcome.near_id, outcome.near_rated, outcome.near_error) == (None, False, None)
    assert store.stats(str(SORT.id)).usage_count == 1
    local_only = await PatternDiscovery(store).record_success(str(SORT.id), True, 4)
    assert local_only.local.usage_count == 2 and not local_only.near_rated
    with pytest.raises(UnknownPattern):
        await discovery.record_success("d" * 64, True, 4)
    with pytest.raises(ValueError, match="rating must be an integer 1-5"):
        await discovery.record_success(str(SORT.id), True, 7)


async def test_bad_arguments_are_named(store):
    discovery = PatternDiscovery(store)
    for kwargs, message in [
        ({"context": " "}, "context must be"),
        ({"context": "x", "k": 0}, "k must be"),
        ({"context": "x", "budget": -1}, "budget must be"),
        ({"context": "x", "budget": 1.5}, "budget must be"),
        ({"context": "x", "domain": ""}, "domain must be"),
    ]:
        with pytest.raises(ValueError, match=message):
            await discovery.discover(**kwargs)


async def test_irrelevant_patterns_are_dropped(store):
    store.put_many(DECOYS)
    result = await PatternDiscovery(store).discover_detailed("bake sourdough bread at home")
    assert result.patterns == []
    assert all(reason.startswith("similarity") for reason in result.excluded.values())


async def test_min_reputation_is_applied_to_every_candidate(store):
    store.put_many([SORT, *DECOYS])
    discovery = PatternDiscovery(store, min_similarity=-1.0)
    # No registry: every creator has the prior reputation, so the floor decides all or nothing.
    assert await discovery.discover(SORT_Q, k=5, min_reputation=DEFAULT_REPUTATION + 0.01) == []
    kept = await discovery.discover(SORT_Q, k=5, min_reputation=DEFAULT_REPUTATION)
    assert len(kept) == 4 and kept[0].pattern_id == SORT.id
    with pytest.raises(ValueError, match="min_reputation"):
        await discovery.discover(SORT_Q, min_reputation=2)
