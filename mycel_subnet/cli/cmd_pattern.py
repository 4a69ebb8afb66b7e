"""`mycel pattern ...`: the collective from the command line (extract, publish, publish-adapter,
find, show, use, rate, earnings, serve). Each subcommand calls the same function as the local
HTTP API.

Every subcommand takes --json (the result object as one JSON document on stdout), prints
progress lines for slow steps on stderr, and ends a failure with one line: exit 2 for bad
input, 1 for a refusal or failure, 4 when a store or ledger is unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from mycel_subnet.cli.exit_codes import ExitCode
from mycel_subnet.cli.flags import add_settings_flags, settings_flags_from
from mycel_subnet.config import load_settings

PROG = "mycel pattern"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home", type=Path, default=None,
        help="the instance's private folder (default: ~/.mycel/instance)",
    )  # fmt: skip
    parser.add_argument(
        "--ledger", type=Path, default=None,
        help="local NEAR ledger file for --near.network local (default: ~/.mycel/near/ledger.db)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_settings_flags(parser, ["near", "ipfs"])
    parser.add_argument(
        "--gateway.url", dest="gateway.url", default=None, metavar="URL",
        help="a validator's organic gateway, searched too by find (key: MYCEL_GATEWAY__API_KEY)",
    )  # fmt: skip


def _json_arg(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc.msg} at column {exc.colno}") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "pattern", help="extract, publish, find, use and rate patterns (the collective)"
    )
    actions = parser.add_subparsers(dest="pattern_action", metavar="ACTION", required=True)

    p = actions.add_parser("extract", help="an interaction log -> a shareable pattern (private)")
    p.add_argument("log", help="JSON or JSONL chat messages ({role, content}, OpenAI/Anthropic)")
    p.add_argument("--domain", default=None, help="the pattern's domain (default: inferred)")
    p.add_argument(
        "--k-anonymity", type=int, default=None, metavar="K",
        help="share a structure only once seen in K distinct interactions (default: off)",
    )  # fmt: skip
    _common(p)
    p.set_defaults(run=run, op="extract")

    p = actions.add_parser("publish", help="metadata to the content store, register on NEAR")
    p.add_argument("id", help="the pattern's content id")
    p.add_argument("--price", default="0", help="per use: yoctoNEAR, or e.g. 0.01NEAR")
    _common(p)
    p.set_defaults(run=run, op="publish")

    p = actions.add_parser(
        "publish-adapter", help="a trained peft LoRA folder -> a model_adapter pattern, published"
    )
    p.add_argument("folder", help="a peft save_pretrained folder (adapter_model.safetensors)")
    p.add_argument(
        "--base-model", required=True,
        help="the base model it was trained on (this instance loads toy-llama-v1 and "
        "HuggingFaceTB/SmolLM2-135M-Instruct)",
    )  # fmt: skip
    p.add_argument("--trigger", required=True, help="what the adapter is for, in plain words")
    p.add_argument("--domain", required=True, help="the pattern's domain, e.g. general")
    p.add_argument(
        "--requirement", action="append", default=None, dest="requirements",
        help="a context requirement (repeatable)",
    )  # fmt: skip
    p.add_argument("--price", default="0", help="per use: yoctoNEAR, or e.g. 0.01NEAR")
    _common(p)
    p.set_defaults(run=run, op="publish-adapter")

    p = actions.add_parser("find", help="discover patterns (local store and registry)")
    p.add_argument("query", help="what you need, in your own words")
    p.add_argument("--domain", default=None, help="search this domain only (default: all)")
    p.add_argument("--max-price", type=int, default=None, help="yoctoNEAR per use")
    p.add_argument(
        "--min-reputation",
        type=float,
        default=None,
        help="0-1: hide less reputable patterns (default 0.2, below a new creator's 0.25)",
    )
    p.add_argument("-k", type=int, default=10, help="how many (1-100)")
    _common(p)
    p.set_defaults(run=run, op="find")

    p = actions.add_parser("show", help="one pattern in full, with its registry entry")
    p.add_argument("id", help="content id (64 hex) or NEAR registry id")
    _common(p)
    p.set_defaults(run=run, op="show")

    p = actions.add_parser("use", help="pay, fetch by CID, verify and apply a pattern")
    p.add_argument("id", help="content id (64 hex) or NEAR registry id")
    p.add_argument(
        "--args", type=_json_arg, default=None,
        help="JSON: a list of call arguments (code), an object of variables (prompt, workflow), "
        '{"prompt": ..., "max_new_tokens": N} (model adapter)',
    )  # fmt: skip
    p.add_argument(
        "--prompt", default=None, help="the text a model adapter pattern is run on (not --args)"
    )
    _common(p)
    p.set_defaults(run=run, op="use")

    p = actions.add_parser("rate", help="rate a pattern you used (one rating per paid use)")
    p.add_argument("id", help="content id (64 hex) or NEAR registry id")
    p.add_argument("--rating", type=int, default=5, help="1-5")
    p.add_argument("--failure", action="store_true", help="it did not work")
    _common(p)
    p.set_defaults(run=run, op="rate")

    p = actions.add_parser("earnings", help="uses, gross, fee, net and reputation")
    _common(p)
    p.set_defaults(run=run, op="earnings")

    p = actions.add_parser("serve", help="the local HTTP API (127.0.0.1 by default)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (loopback unless allowed)")
    p.add_argument("--port", type=int, default=8765, help="TCP port")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback bind")
    _common(p)
    p.set_defaults(run=run, op="serve")


def instance_config(args: argparse.Namespace):
    """The InstanceConfig the flags (and config file and environment) describe."""
    from mycel_subnet.collective.instance import DEFAULT_HOME, InstanceConfig
    from mycel_subnet.near.client import DEFAULT_LEDGER_PATH

    settings = load_settings(settings_flags_from(args), args.config)
    return InstanceConfig(
        home=args.home or DEFAULT_HOME,
        near=settings.near,
        ipfs=settings.ipfs,
        ledger_path=args.ledger or DEFAULT_LEDGER_PATH,
    )


def gateway_client(args: argparse.Namespace):
    """The GatewayClient the settings describe (--gateway.url + MYCEL_GATEWAY__API_KEY), or
    None; a URL without a key is bad input."""
    from mycel_subnet.collective.errors import BadInput
    from mycel_subnet.gateway.client import client_from_settings

    settings = load_settings(settings_flags_from(args), args.config)
    try:
        return client_from_settings(settings.gateway)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def _progress(line: str) -> None:
    print(f"... {line}", file=sys.stderr, flush=True)


async def _call(args: argparse.Namespace) -> Any:
    from mycel_subnet.collective import (
        BadInput,
        Instance,
        earnings,
        extract,
        find,
        publish,
        rate,
        show,
        use,
    )

    instance = Instance(instance_config(args))
    try:
        op = args.op
        if op == "extract":
            return await extract(
                instance, args.log, domain=args.domain, k_anonymity=args.k_anonymity,
                progress=_progress,
            )  # fmt: skip
        if op == "publish":
            return await publish(instance, args.id, args.price, progress=_progress)
        if op == "publish-adapter":
            from mycel_subnet.collective.adapter_publish import publish_adapter

            return await publish_adapter(
                instance, args.folder, base_model=args.base_model, trigger=args.trigger,
                domain=args.domain, price=args.price, requirements=args.requirements,
                progress=_progress,
            )  # fmt: skip
        if op == "find":
            return await find(
                instance, args.query, domain=args.domain, max_price=args.max_price,
                min_reputation=args.min_reputation, k=args.k, progress=_progress,
                gateway=gateway_client(args),
            )  # fmt: skip
        if op == "show":
            return await show(instance, args.id, progress=_progress)
        if op == "use":
            if args.prompt is not None and args.args is not None:
                raise BadInput("give --prompt or --args, not both")
            call = args.prompt if args.prompt is not None else args.args
            return await use(instance, args.id, call, progress=_progress)
        if op == "rate":
            return await rate(instance, args.id, success=not args.failure, rating=args.rating)
        return await earnings(instance)
    finally:
        await instance.aclose()


def run(args: argparse.Namespace) -> int:
    from mycel_subnet.collective.errors import CollectiveError, Refused

    try:
        if args.op == "serve":
            from mycel_subnet.collective.api import check_bind, serve

            check_bind(args.host, args.allow_remote)
            _progress(f"serving the collective API on http://{args.host}:{args.port}")
            serve(instance_config(args), args.host, args.port, allow_remote=args.allow_remote,
                  gateway=gateway_client(args))  # fmt: skip
            return ExitCode.OK
        result = asyncio.run(_call(args))
    except CollectiveError as exc:
        detail = getattr(exc, "detail", None) if isinstance(exc, Refused) else None
        if args.json and detail is not None:
            print(detail.model_dump_json())
        elif detail is not None:
            print(render(args.op, detail))
        print(f"mycel pattern {args.op}: {exc}", file=sys.stderr)
        return exc.exit_code
    print(result.model_dump_json() if args.json else render(args.op, result))
    return ExitCode.OK


def _yocto(amount: int) -> str:
    return f"{amount} yocto ({amount / 10**24:.6g} NEAR)"


def render(op: str, out: Any) -> str:
    """A short human-readable form of a result."""
    if op == "extract":
        removed = ", ".join(f"{k} x{n}" for k, n in out.removed.items()) or "nothing"
        lines = [f"removed: {removed}", f"generalised: {', '.join(out.generalised) or 'none'}"]
        lines.append(f"utility: {out.utility:.2f}")
        if out.k_anonymity:
            lines.append(f"k-anonymity: seen {out.k_anonymity['seen']} of {out.k_anonymity['k']}")
        if out.refused:
            lines.append(f"refused: {out.reason}")
        else:
            lines.append(f"pattern {out.pattern_id} ({out.kind}, {out.domain}): {out.trigger}")
        return "\n".join(lines)
    if op in ("publish", "publish-adapter"):
        state = "already published" if out.already_published else "published"
        line = (
            f"{state}: {out.pattern_id} as #{out.near_id} on {out.network}, "
            f"metadata {out.metadata_cid}, price {_yocto(out.price)}"
        )
        if op == "publish-adapter":
            line += f"\nadapter {out.adapter_cid} (weights sha256 {out.adapter_hash}) for "
            line += out.base_model + ("" if out.loadable_here else " (not loadable here)")
        return line
    if op == "find":
        lines = [
            f"{p.pattern_id[:12]} #{p.near_id} {p.source:<14} final {p.score.final:.3f} = "
            f"sim {p.score.similarity:.3f} rep {p.score.reputation:.3f} "
            f"success {p.score.success_rate:.3f} price {p.score.price_factor:.3f} "
            f"(safety {p.score.safety:.2f}) {_yocto(p.price)} {p.kind}: {p.trigger[:60]}"
            for p in out.patterns
        ]
        lines += [f"warning: {w}" for w in out.warnings]
        return "\n".join(lines) or "no pattern found"
    if op == "use":
        return (
            f"{out.detail}; paid {_yocto(out.paid)} (creator {out.creator_share}, fee {out.fee})"
            f"\noutput: {json.dumps(out.output)}"
        )
    if op == "rate":
        where = "rated on the registry" if out.near_rated else f"local only ({out.near_error})"
        return f"{out.pattern_id}: {where}; pattern reputation {out.reputation}"
    if op == "earnings":
        lines = [
            f"#{p.near_id} {p.pattern_id[:12]} uses {p.uses} gross {p.gross} fee "
            f"{p.protocol_fee} net {p.net} reputation {p.reputation:.3f}"
            for p in out.patterns
        ]
        lines.append(
            f"total: uses {out.total_uses} gross {_yocto(out.total_gross)} fee "
            f"{out.total_protocol_fee} net {_yocto(out.total_net)}; "
            f"{out.account} reputation {out.reputation:.3f}"
        )
        return "\n".join(lines)
    return out.model_dump_json(indent=2)
