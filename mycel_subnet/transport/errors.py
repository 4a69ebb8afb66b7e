"""Short JSON refusals shared by the miner's routes: ``{"error": code, "detail": text}``."""

from __future__ import annotations

import json
import math

from starlette.responses import Response


def error_response(
    status: int, error: str, detail: str, *, retry_after_s: float | None = None
) -> Response:
    """A refusal that names what went wrong in one line, never a traceback."""
    headers = {}
    if retry_after_s is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    body = json.dumps({"error": error, "detail": detail[:300]}).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)
