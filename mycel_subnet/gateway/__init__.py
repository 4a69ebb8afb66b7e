"""The validator's organic gateway: Mycel OS instances ask the subnet for inference with patterns
and for pattern search over HTTP; the validator routes each query to its best-scoring miners and
returns the answer that passes its own checks and the miners' agreement.

Modules, one concern each: keys (API keys and allowed hotkeys, hashed), auth (who is calling),
directory (which miners to ask), aggregate (which answer wins), registry (the validator's own
registry view), service (the request path), app (routes and OpenAPI), server (uvicorn in the
validator's loop), runtime (assembly from the settings), client (an instance's side).
This package is kept import-light: importing `mycel_subnet.gateway.client` pulls in no server.
"""
