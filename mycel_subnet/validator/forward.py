"""One round of queries: every sampled miner gets its own challenges and the shared ones, all
at once, then grading.

Each request has its own deadline and response-size cap (enforced by the transport client), so
a miner that hangs, errors, answers garbage, signs wrongly or sends too much scores zero for
that task and never holds up the others. Grading runs in worker threads: code grading calls the
sandbox, which is blocking.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from mycel_subnet.chain.types import MetagraphSnapshot
from mycel_subnet.transport.client import QueryOutcome, query_miner
from mycel_subnet.validator.challenges import Round
from mycel_subnet.validator.challenges.base import Challenge, CodeChecker, Grade
from mycel_subnet.validator.challenges.checker import BudgetedChecker, GradingBudgetExceeded
from mycel_subnet.validator.scoring import TaskResult
from protocol import ClaySynapse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MinerTarget:
    uid: int
    hotkey: str
    coldkey: str
    base_url: str


@dataclass
class RoundOutcome:
    """Per-task results of every queried miner, and counts of how queries ended."""

    results: list[TaskResult] = field(default_factory=list)
    queries: Counter = field(default_factory=Counter)
    query_seconds: float = 0.0
    grade_seconds: float = 0.0
    endpoints: dict[int, str] = field(default_factory=dict)  # uid -> URL queried, for the logs


def select_targets(
    graph: MetagraphSnapshot, my_hotkey: str, sample_size: int, rng: random.Random
) -> list[MinerTarget]:
    """A random sample of serving miners, never this validator itself."""
    serving = [n for n in graph.neurons if n.is_serving and n.hotkey != my_hotkey]
    chosen = serving if len(serving) <= sample_size else rng.sample(serving, sample_size)
    return [
        MinerTarget(n.uid, n.hotkey, n.coldkey, f"http://{_host(n.axon_ip)}:{n.axon_port}")
        for n in sorted(chosen, key=lambda n: n.uid)
    ]


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def make_http_client(requests: int) -> httpx.AsyncClient:
    """A client for one miner's requests of a step.

    One small pool per miner, not one big pool: httpcore scans its whole pool on every
    request and connection event, which made a shared pool quadratic (seconds at 256 miners).
    """
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=requests, max_keepalive_connections=requests),
        trust_env=False,
        verify=_tls_context(),
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Loading the CA bundle costs ~15 ms; do it once, not once per miner per step."""
    return ssl.create_default_context()


async def _ask(
    http: httpx.AsyncClient, wallet: Any, target: MinerTarget, request: Any, timeout_s: float,
    max_bytes: int,
) -> QueryOutcome:  # fmt: skip
    synapse = ClaySynapse(request=request, deadline_s=timeout_s)
    try:
        return await query_miner(
            http, wallet, target.hotkey, target.base_url, synapse, timeout_s, max_bytes
        )
    except Exception as error:  # the client promises no exceptions; keep the round alive anyway
        log.warning("query to uid %d failed unexpectedly: %s", target.uid, error)
        return QueryOutcome(latency_s=timeout_s, detail=str(error)[:200])


def _result_of(outcome: QueryOutcome) -> Any | None:
    if not outcome.ok or outcome.response.status != "ok":
        return None
    return outcome.response.result


def _grade(challenge: Challenge, results: list[Any | None], checker: CodeChecker) -> Grade:
    try:
        return challenge.grade(results, checker)
    except GradingBudgetExceeded as error:
        return Grade(0.0, str(error))
    except Exception as error:  # a grading bug must cost this answer, not the step
        log.exception("grading %s failed", challenge.task)
        return Grade(0.0, f"grading error: {type(error).__name__}")


async def run_round(
    round_: Round,
    targets: list[MinerTarget],
    *,
    wallet: Any,
    checker: CodeChecker,
    timeout_s: float,
    max_response_bytes: int,
    http: httpx.AsyncClient | None = None,
    grading_budget_s: float | None = None,
) -> RoundOutcome:
    """Query every target with its challenges concurrently, then grade every answer."""
    outcome = RoundOutcome(endpoints={t.uid: t.base_url for t in targets})
    started = time.monotonic()
    asked = {t.uid: await asyncio.to_thread(round_.for_miner, t.uid) for t in targets}
    clients = {
        t.uid: http or make_http_client(sum(len(c.requests) for c in asked[t.uid])) for t in targets
    }
    try:
        jobs = []
        keys = []
        for target in targets:
            client = clients[target.uid]
            for index, challenge in enumerate(asked[target.uid]):
                for request in challenge.requests:
                    jobs.append(
                        _ask(client, wallet, target, request, timeout_s, max_response_bytes)
                    )
                    keys.append((target, index))
        answers = await asyncio.gather(*jobs)
    finally:
        if http is None:
            await asyncio.gather(*(c.aclose() for c in clients.values()))
    outcome.query_seconds = time.monotonic() - started

    grouped: dict[tuple[int, int], list[QueryOutcome]] = {}
    for (target, index), answer in zip(keys, answers, strict=True):
        grouped.setdefault((target.uid, index), []).append(answer)
        outcome.queries["ok" if answer.ok else str(answer.error or "error")] += 1

    grade_start = time.monotonic()
    budgets: dict[int, CodeChecker] = {}
    pending = []
    for (uid, index), replies in grouped.items():
        challenge = asked[uid][index]
        if uid not in budgets:
            budgets[uid] = (
                BudgetedChecker(checker, grading_budget_s) if grading_budget_s else checker
            )
        results = [_result_of(reply) for reply in replies]
        job = asyncio.to_thread(_grade, challenge, results, budgets[uid])
        pending.append((uid, index, challenge, replies, job))
    grades = await asyncio.gather(*(job for *_, job in pending))
    for (uid, index, challenge, replies, _), grade in zip(pending, grades, strict=True):
        latency = max(reply.latency_s for reply in replies)
        errors = [f"{r.error}: {r.detail}"[:200] for r in replies if not r.ok]
        # With no answer at all the grade's detail ("relevance:wrong ...") says nothing true:
        # record why there was no answer (a refusal, a timeout) instead.
        detail = f"no answer: {errors[0]}" if errors and len(errors) == len(replies) else None
        outcome.results.append(
            TaskResult(
                uid=uid,
                task=challenge.task,
                accuracy=grade.accuracy,
                latency_s=latency,
                received_at=started + latency,
                detail=detail or grade.detail,
                errors=errors,
                tier=challenge.tier,
                shared_key=f"{challenge.task}:{index}" if challenge.shared else None,
                fingerprint=grade.fingerprint,
            )
        )
    outcome.grade_seconds = time.monotonic() - grade_start
    return outcome
