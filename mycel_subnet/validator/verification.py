"""Organic verification: every validator step verifies a few registered patterns and attests
the result on the NEAR registry.

A pass (bounded by `VerifyPolicy.per_step`): learn the ids registered since the last pass,
draw the due ones (new first, then the least recently verified: `verify_store.py`), read each
entry, fetch its metadata by CID (the store checks the bytes against the CID; the pattern's
content id must be the registered hash and its domain the registered domain), run the
validator's own checks (`pattern_checks.py`: static safety, the sandbox against the examples
the pattern declares), send the safe ones as evaluate_pattern requests to the best-calibrated
serving miners (a test context built from the pattern's own trigger and examples), combine
their answers by calibration (`consensus.py`), and attest:

    quality = weighted median of the miners' scores x code factor x static safety

Unsafe code, or metadata that is not what was registered, is attested safe=false with the
reason (the registry quarantines it). Without a calibrated miner's answer only the
validator's own decisive evidence is attested (broken code: quality 0); otherwise the pattern
waits. A miner bound to the pattern's creator is not asked about it.

Writes are rate-limited: an attestation is repeated only when the verdict moved by at least
`min_change_ppm` (or safety changed) and `attest_interval_s` has passed since the last one (the
contract's own interval per attester and pattern). A refused attestation is retried later.

Organic answers never change miners' rewards: they have no known answer to grade against, and
paying for them would pay for agreeing with the other miners. They are recorded in
`verifications.jsonl` (with their agreement with the validator's own code check) for operators.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mycel_subnet.storage.base import ContentStore
from mycel_subnet.storage.errors import CidError, ContentTooLarge, StorageError
from mycel_subnet.storage.metadata import InvalidMetadata, get_pattern_metadata
from mycel_subnet.transport.client import query_miner
from mycel_subnet.validator.consensus import (
    MIN_CALIBRATION,
    Opinion,
    calibrations,
    opinion_score,
    weight_of,
    weighted_median,
)
from mycel_subnet.validator.forward import MinerTarget, make_http_client, select_targets
from mycel_subnet.validator.pattern_checks import OwnChecks, check_pattern
from mycel_subnet.validator.verify_store import Record, VerificationStore
from protocol import ClaySynapse, EvaluatePatternRequest, LearnedPattern, TestContext
from protocol import limits as L

log = logging.getLogger(__name__)
PPM = 1_000_000
LOG_FILE = "verifications.jsonl"
RATE_WORDS = ("too recently", "too soon", "rate limit", "rate-limit")
MAX_REASON = 200


class RegistryView(Protocol):
    """The registry reads a pass needs."""

    async def get_config(self) -> Any: ...  # .next_id

    async def get_pattern(self, pattern_id: int) -> Any: ...  # a PatternEntry or None


class Attester(Protocol):
    """The validator's NEAR account on the registry (`account_id` names it)."""

    async def attest_pattern(
        self, pattern_id: int, quality_ppm: int, safe: bool, reason: str
    ) -> Any: ...

    async def add_attester(self, account: str) -> Any: ...  # used only by the registry's owner


@dataclass(frozen=True)
class VerifyPolicy:
    """Settings of organic verification (validator.verify_* in config)."""

    per_step: int = 4
    miners: int = 8
    min_calibration: float = MIN_CALIBRATION
    retry_s: float = 60.0
    recheck_s: float = 6 * 3600.0
    attest_interval_s: float = 3600.0
    min_change_ppm: int = 50_000
    max_fetch_failures: int = 5
    timeout_s: float = 12.0
    max_response_bytes: int = 1_048_576

    def __post_init__(self) -> None:
        if self.per_step < 0 or self.miners < 1:
            raise ValueError("verify per_step must be >= 0 and miners >= 1")
        if not 0.0 <= self.min_calibration <= 1.0:
            raise ValueError(f"min_calibration must be in [0, 1], got {self.min_calibration}")


@dataclass
class Verdict:
    """What one pass did with one pattern. `outcome`: attested, quarantined, held (verdict
    unchanged or not yet due), pending (no calibrated answer yet), unavailable (metadata
    not readable this time), failed (the registry refused the attestation)."""

    pattern_id: int
    outcome: str
    quality_ppm: int | None = None
    safe: bool = True
    reason: str = ""
    answers: int = 0
    weight: float = 0.0
    own: str = ""
    opinions: dict[str, float] = field(default_factory=dict)  # hotkey -> score given


@dataclass
class PassReport:
    verdicts: list[Verdict] = field(default_factory=list)
    discovered: int = 0
    dropped: int = 0
    asked: int = 0  # miners asked this pass
    seconds: float = 0.0
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        tally: dict[str, int] = {}
        for v in self.verdicts:
            tally[v.outcome] = tally.get(v.outcome, 0) + 1
        done = ", ".join(f"{n} {k}" for k, n in sorted(tally.items())) or "nothing due"
        parts = [f"verification: {len(self.verdicts)} checked ({done})",
                 f"{self.asked} miners asked"]  # fmt: skip
        if self.discovered:
            parts.append(f"{self.discovered} new ids")
        if self.dropped:
            parts.append(f"registry reset: {self.dropped} records dropped")
        if self.counts:
            parts.append("{attested} attested, {quarantined} quarantined, {pending} pending, "
                         "{unchecked} unchecked of {known}".format(**self.counts))  # fmt: skip
        parts.append(f"{self.seconds:.1f}s")
        if self.error:
            parts.append(f"stopped: {self.error}")
        return "; ".join(parts)


def context_for(pattern: LearnedPattern, own: OwnChecks) -> TestContext:
    """The pattern's own trigger as the query, its declared examples, its language/entrypoint."""
    facts: dict[str, str] = {}
    solution = pattern.solution
    language = getattr(solution, "language", None) or pattern.language
    if language:
        facts["language"] = str(language)[: L.MAX_REQUIREMENT_LEN]
    entry = getattr(solution, "entrypoint", None)
    if entry:
        facts["entrypoint"] = entry
    return TestContext(query=pattern.trigger[: L.MAX_QUERY_LEN], facts=facts,
                       domain=pattern.domain, examples=list(own.examples))  # fmt: skip


@dataclass(frozen=True)
class _Ready:
    """A pattern that passed the validator's own checks and goes to the miners."""

    pattern_id: int
    pattern: LearnedPattern
    own: OwnChecks


def printable(text: str) -> str:
    """A reason the registry accepts: printable ASCII, at most MAX_REASON characters."""
    flat = " ".join(str(text).split())
    return "".join(ch if 32 <= ord(ch) <= 126 else "?" for ch in flat)[:MAX_REASON]


def _one_line(error: BaseException | str) -> str:
    text = error if isinstance(error, str) else (getattr(error, "message", None) or str(error))
    return " ".join(str(text).split())[:200] or type(error).__name__


class PatternVerifier:
    """One per validator: its registry view, attesting client, content store and state."""

    def __init__(
        self,
        registry: RegistryView,
        attester: Attester,
        content: ContentStore,
        state: VerificationStore,
        *,
        wallet: Any,
        policy: VerifyPolicy | None = None,
        bound_account: Callable[[str], str | None] | None = None,
        check: Callable[[LearnedPattern], OwnChecks] = check_pattern,
        log_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.registry = registry
        self.attester = attester
        self.content = content
        self.state = state
        self.wallet = wallet
        self.policy = policy or VerifyPolicy()
        self.bound_account = bound_account or (lambda _hotkey: None)
        self.check = check
        self.log_path = Path(log_dir) / LOG_FILE if log_dir is not None else None
        self.clock = clock
        self.rng = rng or random.Random()
        self._interval_s = self.policy.attest_interval_s  # raised to the registry's own

    def close(self) -> None:
        self.state.close()
        self.content.close()

    # -- the pass -----------------------------------------------------------------------------

    def choose_miners(
        self, graph: Any, weights: Mapping[int, float], my_hotkey: str
    ) -> list[tuple[MinerTarget, float]]:
        """The best-calibrated serving miners (weight > 0), at most `policy.miners`."""
        serving = select_targets(graph, my_hotkey, len(graph.neurons), self.rng)
        eligible = [(t, weights.get(t.uid, 0.0)) for t in serving if weights.get(t.uid, 0.0) > 0]
        self.rng.shuffle(eligible)  # ties in calibration are broken at random
        eligible.sort(key=lambda tw: tw[1], reverse=True)
        return eligible[: self.policy.miners]

    async def run_pass(self, graph: Any, scores: Any, my_hotkey: str) -> PassReport:
        """One bounded pass; `scores` is the validator's ScoreStore (calibration). Never raises."""
        started = time.monotonic()
        report = PassReport()
        try:
            await self._pass(report, graph, scores, my_hotkey)
        except Exception as error:  # a verification bug costs this pass, not the step
            log.exception("verification pass failed")
            report.error = _one_line(error)
        with_counts = await asyncio.to_thread(self.state.counts)
        report.counts = with_counts
        report.seconds = time.monotonic() - started
        self._write_log(report)
        return report

    async def _pass(self, report: PassReport, graph: Any, scores: Any, my_hotkey: str) -> None:
        now = self.clock()
        try:
            config = await self.registry.get_config()
        except Exception as error:
            report.error = f"registry: {_one_line(error)}"
            return
        attesters = getattr(config, "attesters", None)
        me = getattr(self.attester, "account_id", None)
        listed = attesters is None or me is None or me in attesters
        if not listed and me == getattr(config, "owner", None):
            await self.attester.add_attester(me)  # the registry's owner lists itself
            log.info("verification: %s owns the registry and is now an attester", me)
            listed = True
        if not listed:
            report.error = (f"{me} is not an attester of the registry: its owner must "
                            f"add_attester({me!r}); nothing verified")  # fmt: skip
            return
        contract_s = (getattr(config, "attest_interval_ns", 0) or 0) / 1e9
        self._interval_s = max(self.policy.attest_interval_s, contract_s)
        report.discovered, report.dropped = await asyncio.to_thread(
            self.state.discover, int(config.next_id), now
        )
        if report.dropped:
            log.warning("verification: the registry was reset (next_id %d below this "
                        "validator's records): %d records dropped, verifying again",
                        config.next_id, report.dropped)  # fmt: skip
        p = self.policy
        ids = await asyncio.to_thread(
            self.state.due, p.per_step, now, retry_s=p.retry_s, recheck_s=p.recheck_s
        )
        if not ids:
            return
        cal = calibrations(await asyncio.to_thread(scores.task_values),
                           await asyncio.to_thread(scores.hotkeys),
                           {n.uid: n.hotkey for n in graph.neurons})  # fmt: skip
        weights = {uid: weight_of(c, p.min_calibration) for uid, c in cal.items()}
        miners = self.choose_miners(graph, weights, my_hotkey)
        report.asked = len(miners)
        prepared = await asyncio.gather(*(self._prepare(pid, now) for pid in ids))
        ready = [r for r in prepared if isinstance(r, _Ready)]
        report.verdicts += [v for v in prepared if isinstance(v, Verdict)]
        answers = await self._ask(ready, miners)
        for item, opinions in zip(ready, answers, strict=True):
            report.verdicts.append(await self._judge(item, opinions, now))

    async def _prepare(self, pattern_id: int, now: float) -> _Ready | Verdict:
        """The pattern ready for the miners, or a finished Verdict (unreadable, unsafe)."""
        try:
            entry = await self.registry.get_pattern(pattern_id)
        except Exception as error:
            return Verdict(pattern_id, "unavailable", reason=f"registry: {_one_line(error)}")
        if entry is None:  # removed by its creator: ids are never reused
            await asyncio.to_thread(self.state.gone, pattern_id, now)
            return Verdict(pattern_id, "gone", reason="no such pattern (removed)")
        record = await asyncio.to_thread(self.state.get, pattern_id)
        if record is None or record.pattern_hash != entry.pattern_hash:
            if record is not None and record.pattern_hash is not None:
                log.warning("verification: registry id %d now holds pattern %s (was %s): "
                            "verifying it as new", pattern_id, entry.pattern_hash[:12],
                            record.pattern_hash[:12])  # fmt: skip
            await asyncio.to_thread(self.state.restart, pattern_id, entry.pattern_hash, now)
        try:
            pattern = await asyncio.to_thread(
                get_pattern_metadata, entry.metadata_cid, self.content,
                expected_pattern_hash=entry.pattern_hash,
            )  # fmt: skip
        except (InvalidMetadata, CidError, ContentTooLarge) as error:
            refused = OwnChecks(False, 0.0, f"metadata refused: {_one_line(error)}")
            return await self._attest(pattern_id, refused, 0, now)
        except (StorageError, OSError) as error:
            failures = await asyncio.to_thread(self.state.failed, pattern_id, now)
            reason = f"metadata {entry.metadata_cid[:16]}... not readable: {_one_line(error)}"
            if failures >= self.policy.max_fetch_failures:  # gone for good: rank it last
                gone = OwnChecks(True, 0.0, f"{reason} ({failures} times)")
                return await self._attest(pattern_id, gone, 0, now)
            return Verdict(pattern_id, "unavailable", reason=reason)
        if pattern.domain != entry.domain:
            reason = f"metadata domain {pattern.domain!r} is not the registered {entry.domain!r}"
            return await self._attest(pattern_id, OwnChecks(False, 0.0, reason), 0, now)
        own = await asyncio.to_thread(self.check, pattern)
        if not own.safe:
            return await self._attest(pattern_id, own, 0, now)
        return _Ready(pattern_id, pattern, own)

    async def _ask(
        self, ready: list[_Ready], miners: list[tuple[MinerTarget, float]]
    ) -> list[list[Opinion]]:
        """Every chosen miner gets every ready pattern (except its own creator's), at once."""
        p = self.policy
        jobs, keys = [], []
        clients = {t.uid: make_http_client(max(1, len(ready))) for t, _ in miners}
        try:
            for index, item in enumerate(ready):
                pattern = item.pattern
                context = context_for(pattern, item.own)
                request = EvaluatePatternRequest(pattern=pattern, test_context=context)
                synapse = ClaySynapse(request=request, deadline_s=p.timeout_s)
                for target, weight in miners:
                    if self.bound_account(target.hotkey) == pattern.creator:
                        continue  # a creator's own miner does not judge its patterns
                    jobs.append(query_miner(clients[target.uid], self.wallet, target.hotkey,
                                            target.base_url, synapse, p.timeout_s,
                                            p.max_response_bytes))  # fmt: skip
                    keys.append((index, target, weight))
            outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        finally:
            await asyncio.gather(*(c.aclose() for c in clients.values()))
        opinions: list[list[Opinion]] = [[] for _ in ready]
        for (index, target, weight), outcome in zip(keys, outcomes, strict=True):
            if isinstance(outcome, BaseException) or not outcome.ok:
                continue
            result = outcome.response.result if outcome.response.status == "ok" else None
            evaluation = getattr(result, "evaluation_result", None)
            if evaluation is None:
                continue
            opinions[index].append(Opinion(target.uid, target.hotkey,
                                           opinion_score(evaluation), weight))  # fmt: skip
        return opinions

    async def _judge(self, item: _Ready, opinions: list[Opinion], now: float) -> Verdict:
        pattern_id, own = item.pattern_id, item.own
        consensus = weighted_median(opinions)
        factor = 1.0 if own.code_factor is None else own.code_factor
        answered = {o.hotkey: round(o.score, 3) for o in opinions}
        weight = sum(o.weight for o in opinions)
        if consensus is None:
            if own.code_factor == 0.0:  # broken code needs no miner to say so
                verdict = await self._attest(pattern_id, own, 0, now)
            else:
                await asyncio.to_thread(self.state.checked, pattern_id, now, None, True, "")
                verdict = Verdict(pattern_id, "pending", reason="no calibrated miner answered",
                                  own=own.detail)  # fmt: skip
        else:
            this = consensus * factor * own.safety
            record = await asyncio.to_thread(self.state.get, pattern_id)
            previous = record.quality_ppm if record is not None else None
            ppm = round(this * PPM) if previous is None else round((previous + this * PPM) / 2)
            verdict = await self._attest(pattern_id, own, ppm, now, record)
        verdict.answers, verdict.weight, verdict.opinions = len(opinions), weight, answered
        verdict.own = verdict.own or own.detail
        return verdict

    def _due(self, record: Record | None, ppm: int, safe: bool, now: float) -> bool:
        if record is None or record.attested_at is None:
            return True
        if record.attested_safe != safe:
            return True
        moved = abs(ppm - (record.attested_ppm or 0)) >= self.policy.min_change_ppm
        return moved and now - record.attested_at >= self._interval_s

    async def _attest(
        self, pattern_id: int, own: OwnChecks, ppm: int, now: float, record: Record | None = None
    ) -> Verdict:
        """Record the verdict; attest it when due. `own.safe` False quarantines."""
        ppm = max(0, min(PPM, int(ppm)))
        safe, reason = own.safe, printable(own.reason)
        await asyncio.to_thread(self.state.checked, pattern_id, now, ppm, safe, reason)
        if record is None:
            record = await asyncio.to_thread(self.state.get, pattern_id)
        if not self._due(record, ppm, safe, now):
            return Verdict(pattern_id, "held", ppm, safe, reason, own=own.detail)
        try:
            await self.attester.attest_pattern(pattern_id, ppm, safe, reason)
        except Exception as error:
            text = _one_line(error)
            outcome = "held" if any(w in text.lower() for w in RATE_WORDS) else "failed"
            log.warning("attest_pattern %d refused: %s", pattern_id, text)
            return Verdict(pattern_id, outcome, ppm, safe, f"{reason} (refused: {text})".strip(),
                           own=own.detail)  # fmt: skip
        await asyncio.to_thread(self.state.attested, pattern_id, now, ppm, safe)
        outcome = "attested" if safe else "quarantined"
        log.info("pattern %d %s: quality %.3f%s", pattern_id, outcome, ppm / PPM,
                 f" ({reason})" if reason else "")  # fmt: skip
        return Verdict(pattern_id, outcome, ppm, safe, reason, own=own.detail)

    def _write_log(self, report: PassReport) -> None:
        if self.log_path is None or not (report.verdicts or report.error or report.dropped):
            return
        entry = {"ts": round(time.time(), 3), "line": report.line(),
                 "verdicts": [asdict(v) for v in report.verdicts]}  # fmt: skip
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
