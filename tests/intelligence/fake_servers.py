"""Small loopback HTTP servers that stand in for services that cannot run here: no Ollama server
can be installed on this machine and the Anthropic API is not reachable (and costs money). Each
fake implements only the endpoints our backends call, with the real APIs' response shapes
(taken from the `ollama` and `anthropic` clients' response types)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` on 127.0.0.1 on a free port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@dataclass
class FakeState:
    replies: list[Any] = field(default_factory=list)  # popped in order; str or (status, body)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    models: list[str] = field(default_factory=lambda: ["smollm2:135m"])


def fake_ollama(state: FakeState) -> FastAPI:
    """/api/tags and /api/chat (non-streaming) as Ollama's REST API shapes them."""
    app = FastAPI()

    @app.get("/api/tags")
    def tags() -> dict:
        return {
            "models": [
                {
                    "name": m,
                    "model": m,
                    "modified_at": "2026-01-01T00:00:00Z",
                    "size": 270_000_000,
                    "digest": "0" * 64,
                    "details": {"format": "gguf", "family": "llama", "parameter_size": "135M"},
                }
                for m in state.models
            ]
        }

    @app.post("/api/chat")
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        state.requests.append(body)
        if body.get("model") not in state.models:
            return JSONResponse({"error": f"model '{body.get('model')}' not found"}, 404)
        text = state.replies.pop(0) if state.replies else "ok"
        return JSONResponse(
            {
                "model": body["model"],
                "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": text},
                "done": True,
                "done_reason": "stop",
                "total_duration": 1_000_000,
                "prompt_eval_count": 12,
                "eval_count": len(text.split()),
            }
        )

    return app


def fake_anthropic(state: FakeState) -> FastAPI:
    """POST /v1/messages as Anthropic's Messages API shapes replies and errors."""
    app = FastAPI()

    @app.post("/v1/messages")
    async def messages(request: Request) -> JSONResponse:
        body = await request.json()
        state.requests.append(body)
        state.headers.append(dict(request.headers))
        reply = state.replies.pop(0) if state.replies else "ok"
        if isinstance(reply, tuple):  # (status, error message): an API error
            status, message = reply
            key = request.headers.get("x-api-key") or request.headers.get("authorization", "")[7:]
            message = message.replace("{key}", key)
            return JSONResponse(
                {"type": "error", "error": {"type": "authentication_error", "message": message}},
                status,
            )
        return JSONResponse(
            {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": reply}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 1000, "output_tokens": 500},
            }
        )

    return app
