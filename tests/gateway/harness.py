"""A small subnet on loopback for the gateway tests: real miner services (build_app over uvicorn)
with real hotkeys, a real score store (SQLite), a real local NEAR ledger with registered
patterns, and the gateway served by its own GatewayServer in a thread with its own event loop.

The only stand-ins are the miners' engines and searchers (deterministic honest ones, and liars),
since what is tested is the gateway's routing and choice, not a model.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mycel_subnet.chain.types import MetagraphSnapshot, NeuronInfo
from mycel_subnet.config import GatewaySettings
from mycel_subnet.gateway.registry import CachedRegistryView
from mycel_subnet.gateway.runtime import Gateway, build_gateway, scores_by_hotkey
from mycel_subnet.miner.app import build_app
from mycel_subnet.miner.limits import ServiceLimits
from mycel_subnet.near.client import LocalRegistryClient
from mycel_subnet.near.ledger import DEFAULT_REGISTRY, ONE_NEAR, LocalLedger
from mycel_subnet.transport.policy import CallerPolicy
from mycel_subnet.validator.store import ScoreStore, StepRecord
from protocol import (
    EvaluatePatternResult,
    EvaluationResult,
    GeneratePatternResult,
    InferenceRequest,
    InferenceResult,
    SearchPatternsRequest,
    SearchPatternsResult,
)
from tests.miner.harness import make_hotkey
from tests.validator.servers import serve

OWNER = "owner.mycel.test"
TIMEOUT_S = 5.0  # the validator's challenge timeout in these tests
CREATOR = "creator.mycel.test"
_WORD = re.compile(r"\w+")

# (domain, text) of the registry's patterns; miners index the text, the ledger holds the hash.
CATALOGUE = [
    ("finance", "split a restaurant bill evenly between friends rounding each share up"),
    ("finance", "convert an amount between currencies with a daily exchange rate"),
    ("finance", "compute compound interest on savings over several years"),
    ("code", "parse a csv file and sum one column of numbers"),
    ("code", "retry an http request with exponential backoff and jitter"),
    ("code", "deduplicate a list while keeping the original order"),
    ("writing", "draft a polite reminder email about an unpaid invoice"),
    ("writing", "summarise meeting notes into three action items"),
]


def pattern_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fake_cid(text: str) -> str:
    """A syntactically valid CIDv1 (base32) the registry accepts; nothing is fetched by it."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    digest = hashlib.sha256(text.encode()).digest()
    return "b" + "".join(alphabet[b % 32] for b in digest)


def _words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


class HonestEngine:
    """Answers every inference the same way for the same request, using the first offered
    pattern; two honest miners agree by construction."""

    name = "honest"

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def inference(self, request: InferenceRequest) -> InferenceResult:
        self.seen.append(request)
        used = [str(request.available_patterns[0].id)] if request.available_patterns else []
        return InferenceResult(
            response=f"To {request.query}: follow the steps, check each result, then report.",
            patterns_used=used,
        )

    def evaluate_pattern(self, request: Any) -> EvaluatePatternResult:
        return EvaluatePatternResult(
            evaluation_result=EvaluationResult(relevance=50, quality=50, safety=100)
        )

    def generate_pattern(self, request: Any) -> GeneratePatternResult:
        return GeneratePatternResult(generated_pattern=None, refusal_reason="not in this test")


class LiarEngine(HonestEngine):
    """Wrong answers: random words; with `claim_unoffered`, also claims patterns nobody
    offered; with `leak`, writes its own hotkey and address into the answer."""

    name = "liar"

    def __init__(self, *, claim_unoffered: bool = False, leak: str = "") -> None:
        super().__init__()
        self.claim_unoffered = claim_unoffered
        self.leak = leak
        self.rng = random.Random(7)

    def inference(self, request: InferenceRequest) -> InferenceResult:
        self.seen.append(request)
        words = " ".join(f"w{self.rng.randrange(10**6)}" for _ in range(12))
        used = [f"{self.rng.getrandbits(256):064x}"] if self.claim_unoffered else []
        return InferenceResult(response=f"{words} {self.leak}".strip(), patterns_used=used)


class HonestSearcher:
    """Exact search by word overlap over (domain, text, pattern id) entries, as a miner's index
    of the registry would rank them; by default the catalogue. `entries` may grow."""

    def __init__(self, entries: list[tuple[str, str, str]] | None = None) -> None:
        self.entries = (
            entries
            if entries is not None
            else [(domain, text, pattern_hash(text)) for domain, text in CATALOGUE]
        )
        self.queries: list[SearchPatternsRequest] = []

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        self.queries.append(request)
        query = _words(request.query)
        scored = [
            (len(query & _words(text)), pid)
            for domain, text, pid in self.entries
            if request.domain is None or domain == request.domain
        ]
        ranked = [pid for overlap, pid in sorted(scored, key=lambda s: (-s[0], s[1])) if overlap]
        return SearchPatternsResult(pattern_ids=ranked[: request.k], index_size=len(self.entries))


class LiarSearcher:
    """Random ids (`mode="random"`), or one real but unrelated pattern first and random ids after
    (`mode="poison"`: pushing a pattern it is paid to promote)."""

    def __init__(self, mode: str = "random", promote: str = "") -> None:
        self.mode = mode
        self.promote = promote
        self.rng = random.Random(11)
        self.queries: list[SearchPatternsRequest] = []

    def __call__(self, request: SearchPatternsRequest) -> SearchPatternsResult:
        self.queries.append(request)
        ids = [f"{self.rng.getrandbits(256):064x}" for _ in range(request.k)]
        if self.mode == "poison":
            ids = [self.promote, *ids[: request.k - 1]]
        return SearchPatternsResult(pattern_ids=ids, index_size=999)


@dataclass
class MinerSpec:
    name: str
    score: float
    engine: Any = field(default_factory=HonestEngine)
    searcher: Any = field(default_factory=HonestSearcher)
    rate_limit_per_hotkey: float = 10_000.0
    recorder: Any = None  # set when served


@dataclass
class RunningSubnet:
    root: Path
    validator: Any
    miners: dict[str, Any]  # name -> wallet
    specs: dict[str, MinerSpec]
    ports: dict[str, int]
    graph: MetagraphSnapshot
    store: ScoreStore
    ledger: LocalLedger
    registry: CachedRegistryView
    caller: Any  # a registered hotkey that is not a miner
    stranger: Any  # a hotkey registered nowhere

    def build(self, *, scores: Any = None, registry: Any = "default", **settings: Any) -> Gateway:
        """A gateway over this subnet (not started), generous limits unless `settings` say
        otherwise; its own keys file per call."""
        keys_file = self.root / f"keys-{secrets.token_hex(4)}.sqlite"
        values = {
            "rate_limit_per_caller": 1000.0,
            "burst_per_caller": 1000.0,
            "rate_limit_per_ip": 10_000.0,
            "miner_rate": 1000.0,
            "keys_file": keys_file,
            **settings,
        }
        return build_gateway(
            GatewaySettings(**values),
            wallet=self.validator,
            graph=lambda: self.graph,
            scores=scores or scores_by_hotkey(self.store),
            state_dir=self.root,
            registry=self.registry if registry == "default" else registry,
            timeout_s=TIMEOUT_S,
            port=0,
        )

    def hotkey(self, name: str) -> str:
        return self.miners[name].hotkey.ss58_address


class Recorder:
    """An ASGI wrapper that keeps each request's headers and body as the miner received them,
    so a test can read the envelope the gateway sent (signer, deadline)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []

        async def recording() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
                    self.requests.append((headers, b"".join(chunks)))
            return message

        await self.app(scope, recording, send)


def _miner_app(wallet: Any, spec: MinerSpec, validator_hotkey: str) -> Any:
    from tests.validator.servers import StaticGraph

    limits = ServiceLimits(
        rate_limit_per_ip=10_000,
        rate_limit_per_hotkey=spec.rate_limit_per_hotkey,
        max_in_flight=16,
        auth_max_age_s=30.0,
    )
    spec.recorder = Recorder(
        build_app(
            wallet=wallet,
            engine=spec.engine,
            metagraph=StaticGraph(validator_hotkey),
            policy=CallerPolicy(allow=[validator_hotkey]),
            limits=limits,
            searcher=spec.searcher,
        )
    )
    return spec.recorder


def register_catalogue(ledger: LocalLedger) -> list[str]:
    """Register the catalogue as CREATOR (paying the registry's storage deposit, if it asks
    one), straight on the ledger; returns the pattern ids."""
    deposit = int(ledger.view(DEFAULT_REGISTRY, "get_config", {}).get("storage_deposit", 0))
    ids = []
    for domain, text in CATALOGUE:
        pid = pattern_hash(text)
        if ledger.view(DEFAULT_REGISTRY, "get_pattern_by_hash", {"pattern_hash": pid}) is None:
            args = {
                "pattern_hash": pid,
                "metadata_cid": fake_cid(text),
                "domain": domain,
                "price_per_use": str(10**21),
            }
            ledger.call(CREATOR, DEFAULT_REGISTRY, "register_pattern", args, deposit)
        ids.append(pid)
    return ids


@contextmanager
def running_subnet(root: Path, specs: list[MinerSpec]) -> Iterator[RunningSubnet]:
    """Miners serving on loopback, scored in a real store, a ledger with the catalogue."""
    validator = make_hotkey(root / "wallets", "validator")
    caller = make_hotkey(root / "wallets", "caller")
    stranger = make_hotkey(root / "wallets", "stranger")
    wallets = {s.name: make_hotkey(root / "wallets", s.name) for s in specs}
    ledger = LocalLedger(root / "ledger.db")
    ledger.ensure_mycel_contracts(OWNER)
    ledger.create_account(CREATOR, 10 * ONE_NEAR)
    register_catalogue(ledger)
    vhk = validator.hotkey.ss58_address
    with contextlib.ExitStack() as stack:
        ports = {
            s.name: stack.enter_context(serve(_miner_app(wallets[s.name], s, vhk))) for s in specs
        }
        neurons = [
            NeuronInfo(uid=0, hotkey=vhk, coldkey="v", stake=1000.0, validator_permit=True),
            NeuronInfo(
                uid=1,
                hotkey=caller.hotkey.ss58_address,
                coldkey="c",
                stake=1.0,
                validator_permit=False,
            ),
        ]
        for uid, spec in enumerate(specs, start=2):
            neurons.append(
                NeuronInfo(
                    uid=uid,
                    hotkey=wallets[spec.name].hotkey.ss58_address,
                    coldkey=spec.name,
                    stake=1.0,
                    validator_permit=False,
                    axon_ip="127.0.0.1",
                    axon_port=ports[spec.name],
                )
            )
        graph = MetagraphSnapshot(netuid=7, block=100, neurons=tuple(neurons))
        store = ScoreStore(root / "scores.sqlite", alpha=1.0)
        hotkeys = {n.uid: n.hotkey for n in neurons}
        rewards = {uid: spec.score for uid, spec in enumerate(specs, start=2)}
        store.commit_step(StepRecord(1, 100, "seed", 0.1, rewards), hotkeys)
        registry = CachedRegistryView(LocalRegistryClient(ledger, "gateway.mycel.test"))
        try:
            yield RunningSubnet(
                root,
                validator,
                wallets,
                {s.name: s for s in specs},
                ports,
                graph,
                store,
                ledger,
                registry,
                caller,
                stranger,
            )
        finally:
            store.close()
            ledger.close()


@contextmanager
def gateway_running(gateway: Gateway) -> Iterator[str]:
    """Start the gateway's own server on a loop in a thread; yields its URL; stops it cleanly."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(gateway.start(), loop).result(15)
        yield gateway.server.url
    finally:
        asyncio.run_coroutine_threadsafe(gateway.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
