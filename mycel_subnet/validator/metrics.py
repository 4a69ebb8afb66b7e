"""Prometheus metrics of the validator, on their own registry, served on metrics_port."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class ValidatorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.steps = Counter("mycel_validator_steps", "Steps finished", ["status"], registry=r)
        self.step_seconds = Histogram(
            "mycel_validator_step_seconds", "Duration of a step",
            buckets=(0.5, 1, 2, 5, 10, 20, 40, 80, 160), registry=r,
        )  # fmt: skip
        self.queries = Counter(
            "mycel_validator_queries", "Miner queries by outcome", ["outcome"], registry=r
        )
        self.score = Gauge("mycel_validator_score", "Moving average per uid", ["uid"], registry=r)
        self.weight_sets = Counter(
            "mycel_validator_weight_attempts", "Weight attempts by status", ["status"], registry=r
        )
        self.block = Gauge("mycel_validator_block", "Chain block seen at the last step", registry=r)
        self._uids: set[str] = set()

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        start_http_server(port, addr=addr, registry=self.registry)

    def set_scores(self, scores: Mapping[int, float]) -> None:
        current = {str(uid) for uid in scores}
        for gone in self._uids - current:
            self.score.remove(gone)
        for uid, value in scores.items():
            self.score.labels(str(uid)).set(value)
        self._uids = current
