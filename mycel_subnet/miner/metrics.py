"""Prometheus metrics for the miner, in a registry of their own (several apps per process in
tests), exposed on a separate port bound to localhost by default."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class MinerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mycel_miner_requests",
            "ClaySynapse requests by route and outcome",
            ["route", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mycel_miner_request_seconds",
            "time to answer an admitted request",
            ["route"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "mycel_miner_in_flight", "engine calls running now", registry=self.registry
        )
        self.metagraph_block = Gauge(
            "mycel_miner_metagraph_block", "block of the cached metagraph", registry=self.registry
        )

        self.metagraph_age = Gauge(
            "mycel_miner_metagraph_age_seconds",
            "seconds since the metagraph was last refreshed successfully",
            registry=self.registry,
        )
        self.open_connections = Gauge(
            "mycel_miner_open_connections", "HTTP connections open now", registry=self.registry
        )
        self.connections_closed = Counter(
            "mycel_miner_connections_closed",
            "connections the server refused or closed: refused (cap), evicted (for a newcomer "
            "from a less busy address), idle_timeout, header_timeout, body_timeout, byte_budget",
            ["reason"],
            registry=self.registry,
        )

    def watch_metagraph(self, cache: Any) -> None:
        """Read the cache's block and age at scrape time (no bookkeeping on the request path)."""
        self.metagraph_block.set_function(
            lambda: float(cache.snapshot().block) if cache.snapshot() is not None else -1.0
        )
        self.metagraph_age.set_function(
            lambda: float(cache.age_s) if getattr(cache, "age_s", None) is not None else -1.0
        )

    def serve(self, host: str, port: int) -> Any:
        """Expose /metrics on host:port in a daemon thread; returns the server to shut down."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server
