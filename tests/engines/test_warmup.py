"""Warm-up runs one real request of each type through the engine before the miner serves."""

from __future__ import annotations

from mycel_subnet.engines.demo import ConstantEngine
from mycel_subnet.engines.interface import EngineError
from mycel_subnet.engines.warmup import warm_up


class _Recording(ConstantEngine):
    def __init__(self, refuse: bool = False) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.refuse = refuse

    def evaluate_pattern(self, request):
        self.calls.append(request.request_type)
        return super().evaluate_pattern(request)

    def generate_pattern(self, request):
        self.calls.append(request.request_type)
        if self.refuse:
            raise EngineError("nothing shareable")
        return super().generate_pattern(request)

    def inference(self, request):
        self.calls.append(request.request_type)
        assert request.available_patterns, "inference warm-up must offer a pattern to run"
        return super().inference(request)


def test_warm_up_sends_one_valid_request_of_each_type():
    engine = _Recording()
    assert warm_up(engine) >= 0.0
    assert engine.calls == ["evaluate_pattern", "generate_pattern", "inference"]


def test_an_engine_refusal_during_warm_up_does_not_stop_the_miner():
    engine = _Recording(refuse=True)
    warm_up(engine)
    assert engine.calls == ["evaluate_pattern", "generate_pattern", "inference"]
