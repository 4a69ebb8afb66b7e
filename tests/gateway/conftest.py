"""One small subnet per test module: two honest miners and a liar that the validator scores
highest (the worst case for a gateway that routed by score alone)."""

from __future__ import annotations

import pytest

from tests.gateway.harness import (
    HonestEngine,
    LiarEngine,
    LiarSearcher,
    MinerSpec,
    running_subnet,
)


@pytest.fixture(scope="module")
def subnet(tmp_path_factory):
    specs = [
        MinerSpec("liar", 0.9, engine=LiarEngine(), searcher=LiarSearcher()),
        MinerSpec("h1", 0.5, engine=HonestEngine()),
        MinerSpec("h2", 0.4, engine=HonestEngine()),
    ]
    with running_subnet(tmp_path_factory.mktemp("gateway"), specs) as net:
        yield net
