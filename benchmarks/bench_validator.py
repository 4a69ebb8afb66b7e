"""One validator step against 64 and 256 miners on loopback. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/bench_validator.py [--miners 64 256]

The miners are cheap: one child process serves every miner's socket with one uvicorn server
and a small app that verifies btauth/1 for the addressed miner's hotkey and signs its answer
with that hotkey (the real transport work per request). Their answers are cheap but realistic
for the validator: each generate_pattern answer carries code unique to that miner, so grading
runs the sandbox once per miner (the worst case; identical answers share one run). The chain is
a stub (metagraph snapshot, hyperparameters, set_weights) so the figures are the validator's own.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _keypair(index: int):
    from bittensor.sp_core import Keypair

    return Keypair.create_from_seed(hashlib.sha256(f"bench-miner-{index}".encode()).digest())


# -- the miner farm (child process) ----------------------------------------------------------


def _answer(synapse, index: int):
    from protocol import (
        CodeTemplate,
        EvaluatePatternResult,
        EvaluationResult,
        GeneratePatternResult,
        InferenceResult,
        LearnedPattern,
        PromptTemplate,
    )

    request = synapse.request
    if request.request_type == "evaluate_pattern":
        value = (index * 37) % 101
        result = EvaluationResult(relevance=value, quality=100 - value, safety=90)
        return EvaluatePatternResult(evaluation_result=result)
    if request.request_type == "inference":
        return InferenceResult(response=str(index))
    log = "\n".join(turn.content for turn in request.interaction_log.turns)
    code = re.search(r"```python\n(.*?)```", log, flags=re.DOTALL)
    if code:
        lines = [ln for ln in code.group(1).splitlines() if "maintainer" not in ln
                 and "API_TOKEN" not in ln]  # fmt: skip
        solution = CodeTemplate(language="python", code=f"# miner {index}\n" + "\n".join(lines))
    else:
        solution = PromptTemplate(template=f"Request {index}: {{request}}", variables=["request"])
    pattern = LearnedPattern(creator="bench.near", created_at="2026-01-01T00:00:00Z",
                             trigger="bench", solution=solution, domain=request.domain)  # fmt: skip
    return GeneratePatternResult(generated_pattern=pattern)


def serve_farm(count: int) -> None:
    import socket

    import uvicorn
    from bittensor import http_auth
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from mycel_subnet.transport.response_signing import sign_response
    from protocol import ROUTES, ClaySynapse, ClaySynapseResponse

    keys = [_keypair(i) for i in range(count)]
    by_hotkey = {k.ss58_address: (i, k) for i, k in enumerate(keys)}
    nonces = http_auth.InMemoryNonceStore(retention=60.0)

    async def handle(request: Request) -> Response:
        body = await request.body()
        receiver = request.headers.get(http_auth.HEADER_RECEIVER, "")
        if receiver not in by_hotkey:
            return Response(b"unknown miner", status_code=404)
        index, key = by_hotkey[receiver]
        caller = http_auth.verify(request.headers, body, method="POST", path=request.url.path,
                                  self_hotkey_ss58=receiver, max_age=30.0,
                                  nonce_store=nonces)  # fmt: skip
        synapse = ClaySynapse.model_validate_json(body)
        answer = ClaySynapseResponse(request_id=synapse.request_id, result=_answer(synapse, index))
        data = answer.model_dump_json().encode()
        headers = sign_response(key, path=request.url.path, body=data,
                                request_nonce_ns=caller.nonce_ns,
                                validator_ss58=caller.hotkey_ss58)  # fmt: skip
        return Response(data, media_type="application/json", headers=headers)

    app = Starlette(routes=[Route(path, handle, methods=["POST"]) for path in ROUTES.values()])
    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    ports = [s.getsockname()[1] for s in sockets]
    print(json.dumps({"ports": ports, "hotkeys": [k.ss58_address for k in keys]}), flush=True)
    config = uvicorn.Config(app, log_level="error", access_log=False, backlog=4096)
    uvicorn.Server(config).run(sockets=sockets)


# -- the validator side ----------------------------------------------------------------------


class StubChain:
    """Stands in for ChainPort: no chain work is measured here (see bench_chain.py for that)."""

    def __init__(self, graph, hyperparameters) -> None:
        self.graph, self.hp = graph, hyperparameters

    def metagraph(self):
        return self.graph

    def hyperparameters(self):
        return self.hp

    def set_weights(self, uids, weights, version_key):
        from mycel_subnet.chain.types import ChainResult

        return ChainResult.success("stub", block=self.graph.block)


def bench(count: int, steps: int) -> None:
    from mycel_subnet.chain.types import Hyperparameters, MetagraphSnapshot, NeuronInfo
    from mycel_subnet.validator.loop import Validator, ValidatorConfig

    farm = subprocess.Popen([sys.executable, __file__, "--serve", str(count)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        info = json.loads(farm.stdout.readline())
        time.sleep(1.0)  # let uvicorn start accepting on every socket
        me = _keypair(10_000)
        neurons = [NeuronInfo(0, me.ss58_address, "cv", 1000.0, True)]
        for i, (port, hotkey) in enumerate(zip(info["ports"], info["hotkeys"], strict=True)):
            neurons.append(NeuronInfo(i + 1, hotkey, f"c{i}", 0.0, False, "127.0.0.1", port))
        graph = MetagraphSnapshot(netuid=1, block=100, neurons=tuple(neurons))
        hp = Hyperparameters(tempo=360, weights_rate_limit=100, weights_version=0,
                             max_weight_limit=1.0, min_allowed_weights=0, max_allowed_uids=4096,
                             immunity_period=0)  # fmt: skip
        state = Path(tempfile.mkdtemp(prefix="bench-validator-"))
        config = ValidatorConfig(sample_size=count, timeout_s=12.0, step_interval_s=0.0,
                                 alpha=0.1, max_response_bytes=1_048_576, state_dir=state,
                                 version_key=1)  # fmt: skip
        validator = Validator(config, wallet=SimpleNamespace(hotkey=me),
                              chain=StubChain(graph, hp))  # fmt: skip
        print(f"{count} miners ({os.cpu_count()} CPUs), {count * 4} signed requests per step:")
        for step in range(steps):
            report = asyncio.run(validator.step())
            d = report.durations
            print(f"  step {step + 1}: total {d['step_s']:.2f} s = query {d['query_s']:.2f} s "
                  f"+ grade {d['grade_s']:.2f} s + commit {d['commit_s']:.3f} s + weights "
                  f"{d['weights_s']:.3f} s; outcomes {dict(report.outcome.queries)}; "
                  f"sandbox runs so far {validator.checker.runs}")  # fmt: skip
            print(f"    challenges: {'; '.join(c[:40] for c in report.challenges)}")
        validator.close()
    finally:
        farm.terminate()
        farm.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--miners", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_farm(args.serve)
        return
    os.environ.setdefault("BTCLI_TOKEN_SYMBOLS_CACHE", str(Path(tempfile.mkdtemp()) / "t.json"))
    for count in args.miners:
        bench(count, args.steps)


if __name__ == "__main__":
    main()
