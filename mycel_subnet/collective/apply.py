"""use: pay for a pattern, fetch it by CID with its hash checked, and apply it.

The content is fetched and verified before paying, so a broken or forged entry costs nothing.
Applying: a prompt template is filled with the arguments; a code template runs in the sandbox
(its entrypoint called with the arguments); a workflow's steps are filled in order, each
step's output bound to its name for the later steps (prompt steps are rendered, not sent to a
model; code steps run in the sandbox); a model adapter is fetched by CID, its hashes checked,
loaded onto its base model and run on the prompt (adapter_use.py). An adapter is fetched,
verified and loaded before paying as well, so one that is forged, tampered with, made for a
base model this instance cannot load or that changes nothing costs nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mycel_subnet.collective.errors import BadInput, NotSupported, Refused, Unavailable
from mycel_subnet.collective.instance import Instance
from mycel_subnet.collective.models import UseOut
from mycel_subnet.collective.progress import Progress, quiet
from mycel_subnet.collective.resolve import fetch_verified, resolve
from mycel_subnet.near.client import RegistryError
from mycel_subnet.storage.base import ContentStore
from protocol import LearnedPattern

Runner = Callable[[], Awaitable[tuple[Any, str]]]  # () -> (output, what was done)

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, values: dict[str, Any], needed: list[str] | None = None) -> str:
    """`template` with each {name} replaced; a missing name is a one-line error."""
    names = needed if needed is not None else _FIELD.findall(template)
    missing = [n for n in dict.fromkeys(names) if n not in values]
    if missing:
        raise BadInput(f"missing argument(s) for the template: {', '.join(missing)}")
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)


def _sandbox_call(code: str, entrypoint: str | None, args: Any) -> Any:
    from mycel_subnet.sandbox import SandboxUnavailable, run_python

    try:
        result = run_python(code, entrypoint=entrypoint, args_json=args)
    except SandboxUnavailable as exc:
        raise Unavailable(f"the sandbox cannot start: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise BadInput(f"the arguments do not suit the code: {exc}") from None
    if not result.ok:
        raise Refused(f"the code failed in the sandbox ({result.status.value}): {result.detail}")
    return result.returned if entrypoint else result.stdout


async def prepare(
    pattern: LearnedPattern,
    args: Any,
    *,
    store: ContentStore | None = None,
    work_dir: Path | None = None,
    progress: Progress = quiet,
) -> Runner:
    """Everything that can fail before paying, done now; the returned runner applies it.

    A model adapter is fetched from `store`, verified and loaded here; the other kinds are
    applied by the runner (`apply`)."""
    kind = pattern.solution.kind
    if kind == "prompt_template":  # cheap: filled now, so a missing argument costs nothing
        filled = await apply(pattern, args, progress)

        async def done() -> tuple[Any, str]:
            return filled

        return done
    if kind != "model_adapter":
        return lambda: apply(pattern, args, progress)
    if store is None or work_dir is None:
        raise NotSupported(
            "a model adapter needs the content store its archive is in: use `use`, or pass "
            "store= and work_dir="
        )
    from mycel_subnet.collective.adapter_use import load_verified, parse_prompt

    prompt = parse_prompt(args)
    adapter = pattern.solution
    loaded = await asyncio.to_thread(load_verified, adapter, store, work_dir, progress=progress)

    async def run() -> tuple[Any, str]:
        progress(f"generating up to {prompt.max_new_tokens} tokens")
        text, tokens = await asyncio.to_thread(loaded.generate, prompt)
        return text, (
            f"adapter {adapter.adapter_cid} ({loaded.tensors} LoRA tensors, hashes verified) "
            f"loaded onto {adapter.base_model}; {tokens} tokens generated (greedy)"
        )

    return run


async def apply(
    pattern: LearnedPattern,
    args: Any,
    progress: Progress = quiet,
    *,
    store: ContentStore | None = None,
    work_dir: Path | None = None,
) -> tuple[Any, str]:
    """(output, what was done) for `pattern` applied to `args`; a model adapter needs the
    content store it is fetched from and a folder to unpack it in."""
    solution = pattern.solution
    if solution.kind == "model_adapter":
        runner = await prepare(pattern, args, store=store, work_dir=work_dir, progress=progress)
        return await runner()
    kind = solution.kind
    if kind == "prompt_template":
        if not isinstance(args, dict):
            raise BadInput("a prompt template takes --args as a JSON object of its variables")
        return fill(solution.template, args, list(solution.variables)), "prompt template filled"
    if kind == "code_template":
        if solution.language not in ("python", "py", "python3"):
            raise NotSupported(f"{solution.language} code templates are not run here")
        progress("running the code template in the sandbox")
        call = args if isinstance(args, list) else ([] if args is None else [args])
        out = await asyncio.to_thread(_sandbox_call, solution.code, solution.entrypoint, call)
        return out, f"code template run in the sandbox ({solution.entrypoint or 'module'})"
    if kind == "workflow":
        values = dict(args) if isinstance(args, dict) else {}
        outputs = []
        for step in solution.steps:
            text = _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), step.content)
            if step.action == "code":
                progress(f"running step {step.name} in the sandbox")
                text = await asyncio.to_thread(_sandbox_call, text, None, None)
            values[step.output] = text
            outputs.append({"step": step.name, "action": step.action, "output": text})
        return outputs, f"{len(outputs)} workflow steps in order (prompt steps rendered)"
    raise NotSupported(f"patterns of kind {kind} are not applied here")


async def use(
    instance: Instance, pattern_id: str, args: Any = None, *, progress: Progress = quiet
) -> UseOut:
    """Fetch and verify, prepare (an adapter is loaded), pay for one use (when registered and
    not one's own), then apply."""
    found = await resolve(instance, pattern_id)
    entry = found.entry
    pattern = found.pattern
    if entry is not None:
        progress("fetching the pattern by CID and checking its hash")
        pattern = await fetch_verified(instance, entry)
    assert pattern is not None
    store = instance.pattern_store()
    await asyncio.to_thread(store.put, pattern)
    if entry is not None:
        await asyncio.to_thread(store.set_near_id, pattern.id, entry.id)
    run = await prepare(
        pattern,
        args,
        store=instance.content_store(),
        work_dir=instance.home / "adapters",
        progress=progress,
    )
    paid = share = fee = 0
    if entry is not None and entry.creator != instance.account:
        progress(f"paying {entry.price_per_use} yoctoNEAR to use pattern {entry.id}")
        try:
            receipt = await instance.registry().use_pattern(entry.id, entry.price_per_use)
        except RegistryError as exc:
            raise Refused(f"the registry refused the payment: {exc.message}") from None
        paid, share, fee = receipt.paid, receipt.creator_share, receipt.fee
    output, detail = await run()
    return UseOut(
        pattern_id=pattern.id,
        near_id=entry.id if entry else None,
        kind=pattern.solution.kind,
        paid=paid,
        creator_share=share,
        fee=fee,
        verified=entry is not None,
        output=output,
        detail=detail,
    )
