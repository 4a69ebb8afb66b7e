"""The miner's side of a federated round: fetch the global adapter by CID, train it on the
private shard with DP-SGD, upload the update, sign the claim, report the accountant.

`FederatedMinerSide` is the `federated` handler of the miner's app (mycel_subnet/miner/app.py):
it gets the round's request and the caller's hotkey (the transport verified it). Every refusal
is an EngineError whose one-line message reaches the validator. The privacy ledger and the
rounds already answered are kept in ``state_dir`` (written atomically), so the epsilon spent
composes across rounds, validators and restarts, and a replayed or repeated round never trains
twice: the same (validator, round, global adapter) gets the recorded answer again, an older
round is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from mycel_subnet.engines.interface import EngineError
from mycel_subnet.federated.adapter import AdapterState, adapter_state
from mycel_subnet.federated.aggregate import UpdateRejected
from mycel_subnet.federated.claims import UpdateClaim, sign_claim
from mycel_subnet.federated.client import ClientConfig, FederatedClient, opacus_sample_rate
from mycel_subnet.federated.hashing import GLOBAL_DOMAIN
from mycel_subnet.federated.misbehave import OUTBOX, copy_update, noise_update
from mycel_subnet.federated.models import LoadedBase, load_base
from mycel_subnet.federated.shards import read_shard
from mycel_subnet.federated.wire import decode_state, encode_state, encoded_size
from mycel_subnet.privacy.dp import PrivacyBudgetExceeded
from mycel_subnet.storage import ContentStore, StorageError
from protocol import (
    FederatedAccountant,
    FederatedRoundRequest,
    FederatedRoundResult,
    FederatedSpend,
)
from protocol import limits as L

log = logging.getLogger(__name__)
# Frozen embeddings: Opacus's hooks fire on module outputs only. The client silences this inside
# its round, but warning filters are process-wide and rounds run on the engine's threads.
warnings.filterwarnings("ignore", message="Full backward hook is firing")

STATE_FILE = "fl_state.json"
Behaviour = Literal["honest", "noise", "copy"]
LOCK_WAIT_S = 2.0


@dataclass(frozen=True)
class MinerFlConfig:
    """What the operator chose: the shard, where state lives, the data's own epsilon budget
    (the miner refuses past it whatever a round allows) and the behaviour (demo only)."""

    data_path: Path
    state_dir: Path
    epsilon_budget: float
    base_model: str
    behaviour: Behaviour = "honest"
    copy_from: Path | None = None
    use_presidio: bool = True

    def __post_init__(self) -> None:
        if not self.epsilon_budget > 0:
            raise ValueError(f"the epsilon budget must be > 0, got {self.epsilon_budget}")
        if self.behaviour == "copy" and self.copy_from is None:
            raise ValueError("behaviour 'copy' needs the partner's state dir (fl_copy_from)")


def compact_history(history: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """One entry per (noise, sample rate): RDP adds up per entry, so order does not matter."""
    merged: dict[tuple[float, float], int] = {}
    for noise, rate, steps in history:
        merged[(noise, rate)] = merged.get((noise, rate), 0) + steps
    return [(noise, rate, steps) for (noise, rate), steps in merged.items()]


class FederatedMinerSide:
    """One miner's private shard, DP state and update uploads."""

    def __init__(self, keypair: Any, store: ContentStore, config: MinerFlConfig) -> None:
        self.keypair = keypair
        self.hotkey = keypair.ss58_address
        self.store = store
        self.config = config
        self.state_dir = Path(config.state_dir).expanduser()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._last_loss = 0.0
        self.timings: dict[str, float] = {}  # the last round's fetch_s, train_s, upload_s
        self.base: LoadedBase = load_base(config.base_model)
        self.reference: AdapterState = adapter_state(self.base.model)
        texts = read_shard(config.data_path)
        first = ClientConfig(noise_multiplier=1.0, seq_len=self.base.seq_len, seed=None,
                             use_presidio=config.use_presidio)  # fmt: skip
        self.client = FederatedClient(self.hotkey, self.base.model, self.base.tokenizer, texts,
                                      first)  # fmt: skip
        self.state = self._load_state()
        self.client.ledger.delta = self.state.get("delta") or first.delta
        self.client.ledger.history = [tuple(e) for e in self.state.get("history", [])]
        self.client.rounds_done = int(self.state.get("rounds", 0))
        log.info(
            "federated learning on %d private examples with %s (%s); epsilon spent so far %.3f",
            len(self.client.data.dataset), self.base.name, config.behaviour, self.epsilon,
        )  # fmt: skip

    @property
    def epsilon(self) -> float:
        return self.client.ledger.epsilon()

    # -- state ---------------------------------------------------------------------------------

    def _load_state(self) -> dict[str, Any]:
        path = self.state_dir / STATE_FILE
        if not path.exists():
            return {}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            # Losing the ledger would restart epsilon at zero: refuse to start instead.
            raise ValueError(
                f"{path} is unreadable ({error}); restore it or move it away"
            ) from None
        if not isinstance(state, dict):
            raise ValueError(f"{path} does not hold a federated state object")
        return state

    def _write_json(self, name: str, value: Any) -> None:
        target = self.state_dir / name
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(value, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _save_ledger(self) -> None:
        """Persist the spend right after it happened: an upload that fails later (or a crash)
        must not make the data's epsilon look smaller next time."""
        self.state = {
            **self.state,
            "delta": self.client.ledger.delta,
            "history": [list(e) for e in self.client.ledger.history],
            "rounds": self.client.rounds_done,
        }
        self._write_json(STATE_FILE, self.state)

    def _save(self, validator: str, request: FederatedRoundRequest, result: Any) -> None:
        answered = dict(self.state.get("answered", {}))
        answered[validator] = {
            "round": request.round, "global_hash": request.global_hash,
            "result": result.model_dump(mode="json"),
        }  # fmt: skip
        self.state = {**self.state, "answered": answered}
        self._write_json(STATE_FILE, self.state)
        self._write_json(OUTBOX, {
            "validator": validator, "round": request.round, "global_hash": request.global_hash,
            "update_cid": result.update_cid, "update_sha256": result.update_sha256,
        })  # fmt: skip

    # -- the round -----------------------------------------------------------------------------

    def __call__(self, request: FederatedRoundRequest, caller: str) -> FederatedRoundResult:
        if not self._lock.acquire(timeout=LOCK_WAIT_S):
            raise EngineError("busy with another federated round; try again shortly")
        try:
            return self._round(request, caller)
        finally:
            self._lock.release()

    def _round(self, request: FederatedRoundRequest, caller: str) -> FederatedRoundResult:
        done = self.state.get("answered", {}).get(caller)
        if done and done["round"] == request.round and done["global_hash"] == request.global_hash:
            return FederatedRoundResult.model_validate(done["result"])  # a retry: same answer
        if done and request.round <= done["round"]:
            raise EngineError(
                f"round {request.round} is not after round {done['round']}, already answered "
                "for this validator"
            )
        started = time.perf_counter()
        global_state = self._global(request)
        fetched = time.perf_counter()
        size = encoded_size(self.reference)
        if size > request.max_update_bytes:
            raise EngineError(
                f"an update is {size} bytes, over the round's {request.max_update_bytes}"
            )
        delta = self._delta(request, caller, global_state)
        self._save_ledger()
        trained = time.perf_counter()
        payload = encode_state(delta)
        try:
            cid = self.store.put(payload)
        except StorageError as error:
            raise EngineError(f"cannot upload the update: {error}") from None
        sha = hashlib.sha256(payload).hexdigest()
        claim = UpdateClaim(caller, self.hotkey, request.round, request.base_hash,
                            request.global_hash, sha, cid, len(payload))  # fmt: skip
        result = FederatedRoundResult(
            round=request.round, update_cid=cid, update_sha256=sha, update_size=len(payload),
            signature=sign_claim(self.keypair, claim),
            num_examples=len(self.client.data.dataset),
            train_loss=max(0.0, self._last_loss), accountant=self._accountant(request),
        )  # fmt: skip
        self._save(caller, request, result)
        done = time.perf_counter()
        self.timings = {"fetch_s": fetched - started, "train_s": trained - fetched,
                        "upload_s": done - trained}  # fmt: skip
        log.info(
            "federated round %d for %s: update %s (%d bytes), epsilon %.3f",
            request.round, caller, cid, len(payload), result.accountant.epsilon,
        )  # fmt: skip
        return result

    def _global(self, request: FederatedRoundRequest) -> AdapterState:
        if request.base_model != self.base.name:
            raise EngineError(f"this miner trains {self.base.name}, not {request.base_model}")
        if request.base_hash != self.base.base_hash:
            raise EngineError("the round's base weights differ from this miner's (base_hash)")
        expected = encoded_size(self.reference, domain=GLOBAL_DOMAIN)
        if request.global_size != expected:
            raise EngineError(f"global_size {request.global_size}; this adapter is {expected}")
        try:
            data = self.store.get(request.global_cid, max_size=expected)
        except StorageError as error:
            raise EngineError(f"cannot fetch the global adapter: {error}") from None
        if hashlib.sha256(data).hexdigest() != request.global_hash:
            raise EngineError("the global adapter's bytes do not match global_hash")
        try:
            return decode_state(data, self.reference, who="global", domain=GLOBAL_DOMAIN)
        except UpdateRejected as error:
            raise EngineError(str(error)) from None

    def _client_config(self, request: FederatedRoundRequest) -> ClientConfig:
        dp = request.dp
        return replace(
            self.client.config, noise_multiplier=dp.noise_multiplier, max_grad_norm=dp.clip_norm,
            batch_size=dp.batch_size, local_steps=dp.local_steps, lr=dp.lr, delta=dp.delta,
            epsilon_budget=min(dp.epsilon_budget, self.config.epsilon_budget),
        )  # fmt: skip

    def _delta(
        self, request: FederatedRoundRequest, caller: str, global_state: AdapterState
    ) -> AdapterState:
        try:
            self.client.reconfigure(self._client_config(request))
        except ValueError as error:
            raise EngineError(f"cannot train with these settings: {error}") from None
        client = self.client
        what = f"federated round {request.round}"
        try:
            client.ledger.check(client.noise_multiplier, client.sample_rate,
                                request.dp.local_steps, what)  # fmt: skip
        except PrivacyBudgetExceeded as error:
            raise EngineError(f"privacy budget: {error}") from None
        behaviour = self.config.behaviour
        if behaviour == "honest":
            update = client.train(global_state)
            self._last_loss = update.train_loss
            return update.delta
        # the dishonest demo miners pretend to have spent, so their reports look honest
        rate = opacus_sample_rate(len(client.data.dataset), request.dp.batch_size)
        client.ledger.record(client.noise_multiplier, rate, request.dp.local_steps)
        client.rounds_done += 1
        self._last_loss = 0.0
        if behaviour == "noise":
            return noise_update(self.reference, request)
        assert self.config.copy_from is not None
        return copy_update(self.config.copy_from, self.store, self.reference, request, caller)

    def _accountant(self, request: FederatedRoundRequest) -> FederatedAccountant:
        ledger = self.client.ledger
        history = compact_history(ledger.history)
        if len(history) > L.MAX_FL_HISTORY:
            raise EngineError(f"the privacy history has {len(history)} distinct settings")
        return FederatedAccountant(
            epsilon=ledger.epsilon(), delta=ledger.delta,
            noise_multiplier=self.client.noise_multiplier, sample_rate=self.client.sample_rate,
            steps=request.dp.local_steps,
            history=[FederatedSpend(noise_multiplier=n, sample_rate=q, steps=s)
                     for n, q, s in history],
        )  # fmt: skip
