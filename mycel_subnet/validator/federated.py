"""The validator's side of federated learning: run a round, score it, aggregate, record it.

A round, in order: publish the global adapter to the content store (CID + sha256); send a
`federated_round` request (protocol/synapse.py) to K sampled miners at once; for each answer,
check the miner's signed update claim, its accountant report (recomputed from its history),
fetch the update by CID (at most the adapter's exact size) and check its sha256; find copies by
cosine similarity (mycel_subnet/validator/fl_scoring.py); measure each remaining update's
improvement of held-out loss on the validator's scoring split; DP-FedAvg over the updates that
improved it (mycel_subnet.federated.server: uniform weights, server-side clipping, central noise
when configured); publish the new global adapter; record the round (contributors, update hashes,
signatures, scores, epsilons) in a JSON-lines log and, when configured, on NEAR (contracts/
fl_rounds). Held-out loss before and after is measured on a second split nobody scores against.

Why the protocol and not a chain commitment carries the round: the validator picks the K miners
(client-level DP accounting needs that sampling), the request is signed by the validator's
hotkey (btauth) so a miner binds its update to it, nothing waits for blocks, and the sim chain
(like many subtensor deployments) has no Commitments pallet; what happened is public afterwards
on NEAR. The cost: a miner trains within the request's deadline (at most 120 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import random
import secrets
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from mycel_subnet.federated.accounting import RdpLedger
from mycel_subnet.federated.adapter import AdapterState, adapter_state, add, load_adapter_state
from mycel_subnet.federated.aggregate import UpdateRejected, clip_update
from mycel_subnet.federated.claims import UpdateClaim, verify_claim
from mycel_subnet.federated.data import mean_loss, prepare
from mycel_subnet.federated.hashing import GLOBAL_DOMAIN
from mycel_subnet.federated.models import TOY_BASE, load_base
from mycel_subnet.federated.server import FederatedServer, ServerConfig
from mycel_subnet.federated.update import ClientUpdate
from mycel_subnet.federated.wire import decode_state, encode_state, encoded_size
from mycel_subnet.privacy.dp import PrivacyBudgetExceeded
from mycel_subnet.storage import ContentStore, StorageError
from mycel_subnet.transport.client import QueryOutcome, query_miner
from mycel_subnet.validator.fl_scoring import Candidate, contribution_values, find_copies
from mycel_subnet.validator.forward import MinerTarget, make_http_client
from protocol import (
    ClaySynapse,
    FederatedAccountant,
    FederatedDp,
    FederatedRoundRequest,
    FederatedRoundResult,
)

log = logging.getLogger(__name__)

STATE_FILE = "fl_coordinator.json"
ROUNDS_LOG = "fl_rounds.jsonl"
MAX_FL_ANSWER_BYTES = 64 * 1024  # an answer names the update; the update itself goes by CID
MICRO = 1_000_000


@dataclass(frozen=True)
class FlRoundConfig:
    """A coordinator's settings: the base model, K, the DP-SGD settings every miner uses, the
    server's per-update clip S, central noise z (0: none), the copy threshold and deadline."""

    base_model: str = TOY_BASE
    clients_per_round: int = 8
    clip_norm: float = 1.0
    noise_multiplier: float = 1.0
    batch_size: int = 16
    local_steps: int = 10
    lr: float = 1.0
    delta: float = 1e-5
    epsilon_budget: float = 10.0
    server_clip: float = 50.0
    server_noise: float = 0.0
    server_epsilon_budget: float | None = None
    server_lr: float = 1.0
    copy_threshold: float = 0.9
    min_improvement: float = 0.0
    null_draws: int = 16
    null_sigmas: float = 3.0
    timeout_s: float = 60.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.clients_per_round < 1:
            raise ValueError(f"clients_per_round must be >= 1, got {self.clients_per_round}")
        if not 0.0 < self.copy_threshold <= 1.0:
            raise ValueError(f"copy_threshold must be in (0, 1], got {self.copy_threshold}")
        if not 2 <= self.null_draws <= 256 or not self.null_sigmas >= 0:
            raise ValueError("null_draws must be 2-256 and null_sigmas >= 0")
        if not 0.1 <= self.timeout_s <= 120.0:
            raise ValueError(f"timeout_s must be within 0.1-120 s, got {self.timeout_s}")
        self.dp()  # the protocol's bounds apply to the DP settings

    def dp(self) -> FederatedDp:
        return FederatedDp(
            clip_norm=self.clip_norm, noise_multiplier=self.noise_multiplier,
            batch_size=self.batch_size, local_steps=self.local_steps, lr=self.lr,
            delta=self.delta, epsilon_budget=self.epsilon_budget,
        )  # fmt: skip


class FlRecorder(Protocol):
    """Where round records go on NEAR (mycel_subnet.near.client.RegistryClient has it)."""

    async def record_fl_round(self, record: dict[str, Any]) -> Any: ...


@dataclass
class MinerRow:
    """One sampled miner in one round. status: accepted (aggregated), no_gain (valid but did
    not lower held-out loss), copy, rejected (a check failed) or no_answer."""

    uid: int
    hotkey: str
    status: str = "no_answer"
    detail: str = ""
    improvement: float = 0.0
    value: float = 0.0
    epsilon: float | None = None
    sample_rate: float | None = None
    update_sha256: str = ""
    update_cid: str = ""
    signature: str = ""
    arrived_s: float = 0.0


@dataclass
class FlRoundReport:
    round: int
    loss_before: float  # held-out (report split) loss of the global adapter the round started from
    loss_after: float
    score_loss_before: float
    global_in: dict[str, str]
    global_out: dict[str, str]
    rows: dict[int, MinerRow] = field(default_factory=dict)
    central_epsilon: float | None = None
    near: str = "not configured"
    seconds: dict[str, float] = field(default_factory=dict)
    update_bytes: int = 0
    noise_floor: float = 0.0  # what DP noise alone removes (mean + k sd of null draws)
    stopped: str | None = None

    def values(self) -> dict[int, float]:
        """The round's contribution value per sampled uid (0 for all but accepted updates)."""
        return {uid: row.value for uid, row in self.rows.items()}

    def accepted(self) -> list[MinerRow]:
        return [r for r in self.rows.values() if r.status == "accepted"]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows"] = {str(uid): asdict(row) for uid, row in self.rows.items()}
        return out


def check_accountant(acc: FederatedAccountant, dp: FederatedDp) -> str | None:
    """Why a miner's privacy report does not hold together, or None. The epsilon is recomputed
    from the reported history with the same RDP accountant (Opacus's); what a miner did with
    its data cannot be seen, but a report that contradicts itself or the round is refused."""
    if acc.delta != dp.delta:
        return f"accountant delta {acc.delta:g} is not the round's {dp.delta:g}"
    if acc.noise_multiplier < dp.noise_multiplier:
        return (
            f"trained with noise {acc.noise_multiplier:g}, below the round's "
            f"{dp.noise_multiplier:g}"
        )
    if acc.steps != dp.local_steps:
        return f"reports {acc.steps} steps; the round asked for {dp.local_steps}"
    history = [(s.noise_multiplier, s.sample_rate, s.steps) for s in acc.history]
    if not any(n == acc.noise_multiplier and q == acc.sample_rate for n, q, _ in history):
        return "this round's noise and sample rate are missing from the accountant history"
    recomputed = RdpLedger(delta=acc.delta, history=history).epsilon()
    if not math.isclose(recomputed, acc.epsilon, rel_tol=1e-6, abs_tol=1e-9):
        return f"reports epsilon {acc.epsilon:.6g} but its history gives {recomputed:.6g}"
    if recomputed > dp.epsilon_budget * (1 + 1e-9):
        return f"epsilon {recomputed:.4g} is over the round's budget {dp.epsilon_budget:g}"
    return None


class FederatedCoordinator:
    """Holds the global adapter, the validator's held-out data and the round history."""

    def __init__(
        self,
        config: FlRoundConfig,
        *,
        wallet: Any,
        store: ContentStore,
        state_dir: Path,
        heldout_texts: Sequence[str],
        recorder: FlRecorder | None = None,
    ) -> None:
        self.config = config
        self.wallet = wallet
        self.hotkey = wallet.hotkey.ss58_address
        self.store = store
        self.recorder = recorder
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.base = load_base(config.base_model)
        self.reference = adapter_state(self.base.model)
        self.score_set, self.report_set = self._heldout(heldout_texts)
        self._rng = random.Random(secrets.randbits(64) if config.seed is None else config.seed)
        self._lock = asyncio.Lock()
        self._public: dict[str, AdapterState] = {}
        state = self._load_state()
        self.round = int(state.get("round", 0))
        global_state = self.reference
        if state.get("global_cid"):
            global_state = self._fetch_global(state["global_cid"], state["global_hash"])
            self._public = self._restore_public(state)
        self.server = FederatedServer(global_state, ServerConfig(
            clients_per_round=config.clients_per_round, clip_norm=config.server_clip,
            noise_multiplier=config.server_noise, weighting="uniform",
            epsilon_budget=config.server_epsilon_budget, server_lr=config.server_lr,
        ))  # fmt: skip
        self.server.ledger.history = [tuple(e) for e in state.get("central_history", [])]
        self.server.rounds_done = self.round
        self.epsilons: dict[str, float] = dict(state.get("epsilon", {}))
        self.pending: list[dict[str, Any]] = list(state.get("pending_near", []))

    # -- set-up and state ------------------------------------------------------------------------

    def _heldout(self, texts: Sequence[str]) -> tuple[Any, Any]:
        """Two halves of the validator's own held-out texts: one scores updates, the other only
        reports the global adapter's loss (so the reported figure is not what was optimised)."""
        texts = list(texts)
        if len(texts) < 4:
            raise ValueError(f"need at least 4 held-out texts, got {len(texts)}")
        seq = self.base.seq_len
        tok = self.base.tokenizer
        score = prepare(texts[0::2], tok, seq, use_presidio=False).dataset
        report = prepare(texts[1::2], tok, seq, use_presidio=False).dataset
        return score, report

    def _load_state(self) -> dict[str, Any]:
        path = self.state_dir / STATE_FILE
        if not path.exists():
            return {}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"{path} is unreadable ({error}); restore or remove it") from None
        return state if isinstance(state, dict) else {}

    def _save_state(self, global_in: dict[str, str], global_out: dict[str, str],
                    accepted: list[MinerRow]) -> None:  # fmt: skip
        state = {
            "round": self.round, "global_cid": global_out["cid"],
            "global_hash": global_out["hash"], "previous_cid": global_in["cid"],
            "previous_hash": global_in["hash"],
            "public": {f"uid {r.uid}'s update of round {self.round}": r.update_cid
                       for r in accepted},
            "central_history": [list(e) for e in self.server.ledger.history],
            "epsilon": self.epsilons, "pending_near": self.pending,
        }  # fmt: skip
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.state_dir / STATE_FILE)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _fetch_global(self, cid: str, sha: str) -> AdapterState:
        size = encoded_size(self.reference, domain=GLOBAL_DOMAIN)
        data = self.store.get(cid, max_size=size)
        if hashlib.sha256(data).hexdigest() != sha:
            raise ValueError(f"the saved global adapter {cid} does not match its hash")
        return decode_state(data, self.reference, who="saved global", domain=GLOBAL_DOMAIN)

    def _restore_public(self, state: dict[str, Any]) -> dict[str, AdapterState]:
        """Last round's published updates and global step, for the copy check after a restart."""
        public: dict[str, AdapterState] = {}
        with contextlib.suppress(StorageError, UpdateRejected, ValueError):
            for label, cid in state.get("public", {}).items():
                public[label] = decode_state(self.store.get(cid), self.reference, who=label)
            before = self._fetch_global(state["previous_cid"], state["previous_hash"])
            after = self._fetch_global(state["global_cid"], state["global_hash"])
            public["the global adapter's last step"] = {k: after[k] - before[k] for k in after}
        return public

    def publish_global(self) -> tuple[dict[str, str], int]:
        """Put the current global adapter into the store: ({cid, hash}, size in bytes)."""
        data = encode_state(self.server.global_state, domain=GLOBAL_DOMAIN)
        cid = self.store.put(data)
        return {"cid": cid, "hash": hashlib.sha256(data).hexdigest()}, len(data)

    def request_for(self, round_no: int, global_ref: dict[str, str], size: int) -> Any:
        return FederatedRoundRequest(
            round=round_no, base_model=self.base.name, base_hash=self.base.base_hash,
            global_cid=global_ref["cid"], global_hash=global_ref["hash"], global_size=size,
            max_update_bytes=encoded_size(self.reference), dp=self.config.dp(),
        )  # fmt: skip

    def loss(self, state: AdapterState, dataset: Any) -> float:
        load_adapter_state(self.base.model, state)
        return mean_loss(self.base.model, dataset)

    # -- one round -------------------------------------------------------------------------------

    async def run_round(self, targets: Sequence[MinerTarget]) -> FlRoundReport:
        """Run the next round over K of ``targets`` (every serving miner: the population)."""
        async with self._lock:
            return await self._run_round(list(targets))

    async def _run_round(self, targets: list[MinerTarget]) -> FlRoundReport:
        cfg = self.config
        started = time.perf_counter()
        round_no = self.round + 1
        seconds: dict[str, float] = {}
        global_in, size = await asyncio.to_thread(self.publish_global)
        before = await asyncio.to_thread(self.loss, self.server.global_state, self.report_set)
        report = FlRoundReport(round_no, before, before, before, global_in, global_in)
        if not targets:
            report.stopped = "no serving miner to sample"
            return report
        try:
            self.server.check_budget(len(targets))
        except PrivacyBudgetExceeded as error:
            report.stopped = str(error)
            return report
        k = min(cfg.clients_per_round, len(targets))
        sampled = sorted(self._rng.sample(targets, k), key=lambda t: t.uid)
        request = self.request_for(round_no, global_in, size)
        seconds["publish_s"] = time.perf_counter() - started

        asked = time.perf_counter()
        answers = await self._ask(sampled, request)
        seconds["query_s"] = time.perf_counter() - asked
        work = await asyncio.to_thread(self.score_and_aggregate, sampled, answers, request,
                                       report, len(targets), seconds)  # fmt: skip
        accepted, global_out = work
        self.round = round_no
        for row in report.rows.values():
            if row.epsilon is not None:
                self.epsilons[row.hotkey] = row.epsilon
        recorded = time.perf_counter()
        await self._record(report, accepted)
        seconds["record_s"] = time.perf_counter() - recorded
        await asyncio.to_thread(self._save_state, global_in, global_out, accepted)
        seconds["round_s"] = time.perf_counter() - started
        report.seconds = {k: round(v, 4) for k, v in seconds.items()}
        log.info(
            "federated round %d: %d sampled, %d accepted, held-out loss %.4f -> %.4f, %s",
            round_no, len(sampled), len(accepted), report.loss_before, report.loss_after,
            {uid: (r.status, round(r.value, 3)) for uid, r in sorted(report.rows.items())},
        )  # fmt: skip
        return report

    async def _ask(
        self, sampled: list[MinerTarget], request: FederatedRoundRequest
    ) -> list[tuple[QueryOutcome, float]]:
        """Send the round to every sampled miner at once; (outcome, arrival seconds)."""
        start = time.perf_counter()
        timeout = self.config.timeout_s
        http = make_http_client(len(sampled))

        async def one(target: MinerTarget) -> tuple[QueryOutcome, float]:
            synapse = ClaySynapse(request=request, deadline_s=timeout)
            try:
                outcome = await query_miner(http, self.wallet, target.hotkey, target.base_url,
                                            synapse, timeout, MAX_FL_ANSWER_BYTES)  # fmt: skip
            except Exception as error:  # the client promises none; keep the round alive anyway
                outcome = QueryOutcome(latency_s=timeout, detail=str(error)[:200])
            return outcome, time.perf_counter() - start

        try:
            return list(await asyncio.gather(*(one(t) for t in sampled)))
        finally:
            await http.aclose()

    def score_and_aggregate(
        self, sampled: list[MinerTarget], answers: list[tuple[QueryOutcome, float]],
        request: FederatedRoundRequest, report: FlRoundReport, population: int,
        seconds: dict[str, float],
    ) -> tuple[list[MinerRow], dict[str, str]]:  # fmt: skip
        """The validator's work once the answers are in: check and fetch every update, find
        copies, measure improvements, aggregate the accepted ones and publish the new global
        (fills ``report`` and ``seconds``); returns the accepted rows and the new global."""
        cfg = self.config
        fetch_start = time.perf_counter()
        candidates: dict[int, tuple[Candidate, FederatedRoundResult]] = {}
        for target, (outcome, arrived) in zip(sampled, answers, strict=True):
            row = MinerRow(target.uid, target.hotkey, arrived_s=round(arrived, 4))
            report.rows[target.uid] = row
            checked = self._check(target, outcome, request, row)
            if checked is not None:
                candidates[target.uid] = (Candidate(target.uid, arrived, checked[0]), checked[1])
        seconds["fetch_s"] = time.perf_counter() - fetch_start

        score_start = time.perf_counter()
        global_state = self.server.global_state
        copies = find_copies([c for c, _ in candidates.values()], self._public,
                             cfg.copy_threshold)  # fmt: skip
        for uid, why in copies.items():
            report.rows[uid].status, report.rows[uid].detail = "copy", why
        report.score_loss_before = self.loss(global_state, self.score_set)
        report.noise_floor = self.noise_floor(global_state, report.score_loss_before)
        floor = max(cfg.min_improvement, report.noise_floor)
        improvements: dict[int, float] = {}
        for uid, (cand, _) in candidates.items():
            if uid in copies:
                continue
            clipped, _norm = clip_update(cand.delta, cfg.server_clip)
            after = self.loss(add(global_state, clipped, cfg.server_lr), self.score_set)
            gain = report.score_loss_before - after
            row = report.rows[uid]
            row.improvement = round(gain, 6)
            improvements[uid] = gain - floor  # credit only for what noise alone does not do
            row.status = "accepted" if improvements[uid] > 0 else "no_gain"
            if row.status == "no_gain":
                row.detail = f"held-out gain {gain:+.4f} is within DP noise (floor {floor:.4f})"
        for uid, value in contribution_values(improvements).items():
            if report.rows[uid].status == "accepted":
                report.rows[uid].value = round(value, 6)
        seconds["score_s"] = time.perf_counter() - score_start

        aggregate_start = time.perf_counter()
        accepted = [report.rows[uid] for uid in sorted(report.rows)
                    if report.rows[uid].status == "accepted"]  # fmt: skip
        updates = [self._client_update(row, candidates[row.uid]) for row in accepted]
        aggregated = self.server.aggregate(updates, population=population)
        for client_id, why in aggregated.rejected.items():  # the server's own checks
            row = report.rows[int(client_id)]
            row.status, row.detail, row.value = "rejected", why, 0.0
        accepted = [r for r in accepted if r.status == "accepted"]
        if cfg.server_noise > 0:
            report.central_epsilon = aggregated.central_epsilon
        seconds["aggregate_s"] = time.perf_counter() - aggregate_start

        publish_start = time.perf_counter()
        global_out, _ = self.publish_global()
        report.global_out = global_out
        report.update_bytes = request.max_update_bytes
        report.loss_after = self.loss(self.server.global_state, self.report_set)
        seconds["publish_s"] = seconds.get("publish_s", 0.0) + time.perf_counter() - publish_start
        self._public = {f"uid {r.uid}'s update of round {report.round}": candidates[r.uid][0].delta
                        for r in accepted}  # fmt: skip
        new = self.server.global_state
        self._public["the global adapter's last step"] = {k: new[k] - global_state[k] for k in new}
        return accepted, global_out

    def noise_floor(self, global_state: AdapterState, loss_before: float) -> float:
        """The held-out gain pure DP noise earns: updates of Gaussian noise with the spread an
        honest update's noise has (lr * sigma * C / B per step, over the steps), clipped and
        applied like a miner's; mean + k standard deviations of their gains. A miner whose
        gain is not above it gets no credit, whatever it sent."""
        cfg = self.config
        std = cfg.lr * cfg.noise_multiplier * cfg.clip_norm / cfg.batch_size
        std *= math.sqrt(cfg.local_steps)
        generator = torch.Generator().manual_seed(self._rng.getrandbits(62))
        gains = []
        for _ in range(cfg.null_draws):
            noise = {k: torch.normal(0.0, std, size=tuple(v.shape), generator=generator)
                     for k, v in sorted(global_state.items())}  # fmt: skip
            clipped, _ = clip_update(noise, cfg.server_clip)
            after = self.loss(add(global_state, clipped, cfg.server_lr), self.score_set)
            gains.append(loss_before - after)
        mean = sum(gains) / len(gains)
        spread = math.sqrt(sum((g - mean) ** 2 for g in gains) / (len(gains) - 1))
        return mean + cfg.null_sigmas * spread

    def _check(
        self, target: MinerTarget, outcome: QueryOutcome, request: FederatedRoundRequest,
        row: MinerRow,
    ) -> tuple[AdapterState, FederatedRoundResult] | None:  # fmt: skip
        """The decoded update, or None with the row saying why it was refused."""

        def refuse(status: str, why: str) -> None:
            row.status, row.detail = status, why[:300]

        if not outcome.ok:
            return refuse("no_answer", f"{outcome.error}: {outcome.detail}")
        response = outcome.response
        if response.status != "ok" or not isinstance(response.result, FederatedRoundResult):
            return refuse("no_answer", response.detail or "no federated result")
        result = response.result
        row.update_sha256, row.update_cid = result.update_sha256, result.update_cid
        row.signature = result.signature
        row.epsilon, row.sample_rate = result.accountant.epsilon, result.accountant.sample_rate
        if result.round != request.round:
            return refuse("rejected", f"answered round {result.round}, not {request.round}")
        if result.update_size != request.max_update_bytes:
            return refuse("rejected", f"update is {result.update_size} bytes, expected "
                                      f"{request.max_update_bytes}")  # fmt: skip
        claim = UpdateClaim(self.hotkey, target.hotkey, request.round, request.base_hash,
                            request.global_hash, result.update_sha256, result.update_cid,
                            result.update_size)  # fmt: skip
        if not verify_claim(claim, result.signature):
            return refuse("rejected", "the update claim is not signed by this miner's hotkey")
        why = check_accountant(result.accountant, request.dp)
        if why:
            return refuse("rejected", why)
        try:
            data = self.store.get(result.update_cid, max_size=request.max_update_bytes)
        except StorageError as error:
            return refuse("rejected", f"update not fetched: {error}")
        if hashlib.sha256(data).hexdigest() != result.update_sha256:
            return refuse("rejected", "the update's bytes do not match its sha256")
        try:
            delta = decode_state(data, self.reference, who=f"uid {target.uid}")
        except UpdateRejected as error:
            return refuse("rejected", str(error))
        return delta, result

    @staticmethod
    def _client_update(row: MinerRow, candidate: tuple[Candidate, Any]) -> ClientUpdate:
        cand, result = candidate
        acc = result.accountant
        return ClientUpdate(
            client_id=str(row.uid), delta=cand.delta, num_examples=result.num_examples,
            steps=acc.steps, noise_multiplier=acc.noise_multiplier, sample_rate=acc.sample_rate,
            epsilon=acc.epsilon, dp_delta=acc.delta, train_loss=result.train_loss,
            contribution_hash=result.update_sha256, batch_sizes=(),
        )  # fmt: skip

    # -- the record ------------------------------------------------------------------------------

    def near_record(self, report: FlRoundReport) -> dict[str, Any]:
        """The round as contracts/fl_rounds records it: integers only (micro-units, ppm)."""
        central = report.central_epsilon
        return {
            "round": report.round, "base_model": self.base.name,
            "global_in": report.global_in, "global_out": report.global_out,
            "loss_before_micro": max(0, round(report.loss_before * MICRO)),
            "loss_after_micro": max(0, round(report.loss_after * MICRO)),
            "central_epsilon_micro": -1 if central is None or not math.isfinite(central)
            else round(central * MICRO),
            "contributions": [
                {"miner": r.hotkey, "update_hash": r.update_sha256, "update_cid": r.update_cid,
                 "signature": r.signature, "score_ppm": round(r.value * MICRO),
                 "epsilon_micro": round((r.epsilon or 0.0) * MICRO)}
                for r in report.accepted()
            ],
        }  # fmt: skip

    async def _record(self, report: FlRoundReport, accepted: list[MinerRow]) -> None:
        record = self.near_record(report)
        line = json.dumps({"record": record, "report": report.to_json()}, sort_keys=True)
        path = self.state_dir / ROUNDS_LOG
        await asyncio.to_thread(_append_line, path, line)
        if self.recorder is None:
            return
        # The contract chains rounds (each starts from the last one's output), so a round NEAR
        # missed is retried, in order, before the next: a failure never breaks the chain.
        self.pending.append(record)
        while self.pending:
            head = self.pending[0]
            try:
                await self.recorder.record_fl_round(head)
            except Exception as error:  # a NEAR outage never stops the round
                if "Stale round" not in str(error):  # else: it was recorded after all
                    report.near = f"failed: {str(error)[:200]}"
                    log.warning("federated round %d not recorded on NEAR yet (%d waiting): %s",
                                head["round"], len(self.pending), error)  # fmt: skip
                    return
            self.pending.pop(0)
        report.near = f"recorded ({len(accepted)} contributions)"


def _append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


class LocalFlRecorder:
    """Records rounds on the FlRounds contract of the embedded NEAR ledger, deployed there on
    first use with the recording account as its owner."""

    def __init__(self, ledger_path: Path, account_id: str, contract: str) -> None:
        from mycel_subnet.near.client import LocalRegistryClient
        from mycel_subnet.near.ledger import LocalLedger

        self.ledger = LocalLedger(Path(ledger_path).expanduser())
        self.ledger.ensure_fl_contract(account_id, account=contract)
        self.client = LocalRegistryClient(self.ledger, account_id)
        self.contract = contract

    async def record_fl_round(self, record: dict[str, Any]) -> Any:
        return await self.client.record_fl_round(record, contract=self.contract)


def build_coordinator(settings: Any, wallet: Any, state_dir: Path) -> FederatedCoordinator | None:
    """The validator's coordinator from its settings (None when validator.fl_weight is 0);
    ValueError with a one-line reason when the settings cannot work."""
    vs = settings.validator
    if vs.fl_weight <= 0:
        return None
    if vs.fl_heldout is None:
        raise ValueError("validator.fl_weight > 0 needs validator.fl_heldout: held-out texts")
    from mycel_subnet.federated.shards import read_shard
    from mycel_subnet.storage import open_store

    config = FlRoundConfig(
        base_model=vs.fl_base_model, clients_per_round=vs.fl_clients_per_round,
        noise_multiplier=vs.fl_noise_multiplier, epsilon_budget=vs.fl_epsilon_budget,
        timeout_s=vs.fl_timeout_s,
    )  # fmt: skip
    near = settings.near
    recorder: FlRecorder | None = None
    if near.account_id and near.network == "local":
        from mycel_subnet.near.client import DEFAULT_LEDGER_PATH

        recorder = LocalFlRecorder(DEFAULT_LEDGER_PATH, near.account_id, near.fl_rounds_contract)
    elif near.account_id and near.private_key:
        from mycel_subnet.near.client import make_registry_client

        client = make_registry_client(
            near.network, near.account_id, private_key=near.private_key.get_secret_value()
        )

        class _Rpc:
            async def record_fl_round(self, record: dict[str, Any]) -> Any:
                return await client.record_fl_round(record, contract=near.fl_rounds_contract)

        recorder = _Rpc()
    return FederatedCoordinator(
        config, wallet=wallet, store=open_store(settings.ipfs), state_dir=state_dir / "fl",
        heldout_texts=read_shard(vs.fl_heldout), recorder=recorder,
    )  # fmt: skip
