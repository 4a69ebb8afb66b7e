"""Every bound in protocol.limits refuses an input just past it, with an error naming the field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from protocol import ClaySynapse, ClaySynapseResponse, ProtocolError, parse_model
from protocol import limits as L

PATTERN: dict[str, Any] = {
    "creator": "alice.near",
    "created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
    "trigger": "Parse a legal document",
    "context_requirements": ["a contract"],
    "solution": {"kind": "prompt_template", "template": "Parse {doc}", "variables": ["doc"]},
    "domain": "legal",
}
CODE = {"kind": "code_template", "language": "python", "code": "def f(x): return x"}
ADAPTER = {
    "kind": "model_adapter",
    "base_model": "m",
    "adapter_cid": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
    "adapter_hash": "ab" * 32,
}
STEP = {"name": "s", "action": "prompt", "content": "do it", "output": "out"}

EVALUATE = {
    "request": {
        "request_type": "evaluate_pattern",
        "pattern": PATTERN,
        "test_context": {"query": "parse this", "facts": {"doc": "x"}, "examples": []},
    }
}
GENERATE = {
    "request": {
        "request_type": "generate_pattern",
        "interaction_log": {"turns": [{"role": "user", "content": "hi"}]},
        "domain": "code",
    }
}
INFER = {
    "request": {"request_type": "inference", "query": "q", "context": "", "available_patterns": []}
}
SEARCH = {"request": {"request_type": "search_patterns", "query": "parse a csv", "k": 10}}
SEARCH_RESULT = {
    "request_id": "a" * 32,
    "result": {"request_type": "search_patterns", "pattern_ids": ["ab" * 32], "index_size": 1},
}
FL_DP = {
    "clip_norm": 1.0,
    "noise_multiplier": 0.5,
    "batch_size": 16,
    "local_steps": 10,
    "lr": 1.0,
    "delta": 1e-5,
    "epsilon_budget": 50.0,
}
FL = {
    "request": {
        "request_type": "federated_round",
        "round": 1,
        "base_model": "toy-llama-v1",
        "base_hash": "cd" * 32,
        "global_cid": ADAPTER["adapter_cid"],
        "global_hash": "ab" * 32,
        "global_size": 19_000,
        "max_update_bytes": 19_000,
        "dp": FL_DP,
    }
}
FL_RESULT = {
    "request_id": "a" * 32,
    "result": {
        "request_type": "federated_round",
        "round": 1,
        "update_cid": ADAPTER["adapter_cid"],
        "update_sha256": "ef" * 32,
        "update_size": 19_000,
        "signature": "0" * 128,
        "num_examples": 32,
        "train_loss": 4.2,
        "accountant": {
            "epsilon": 3.5,
            "delta": 1e-5,
            "noise_multiplier": 0.5,
            "sample_rate": 0.5,
            "steps": 10,
            "history": [{"noise_multiplier": 0.5, "sample_rate": 0.5, "steps": 10}],
        },
    },
}
EVAL_RESULT = {
    "request_id": "a" * 32,
    "result": {
        "request_type": "evaluate_pattern",
        "evaluation_result": {"relevance": 1, "quality": 2, "safety": 3, "rationale": "ok"},
    },
}
INFER_RESULT = {
    "request_id": "a" * 32,
    "result": {"request_type": "inference", "response": "r", "patterns_used": []},
}
GEN_REFUSAL = {
    "request_id": "a" * 32,
    "result": {
        "request_type": "generate_pattern",
        "generated_pattern": None,
        "refusal_reason": "x",
    },
}


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[leaf] = value
    return out


P = "request.pattern."
# (bound name, model, base message, dotted path to set, value just past the bound)
CASES: list[tuple[str, type, dict, str, Any]] = [
    ("PATTERN_ID_HEX_LEN", ClaySynapse, EVALUATE, P + "id", "a" * (L.PATTERN_ID_HEX_LEN + 1)),
    ("MAX_LABEL_LEN", ClaySynapse, EVALUATE, P + "domain", "d" * (L.MAX_LABEL_LEN + 1)),
    ("MAX_ACCOUNT_ID_LEN", ClaySynapse, EVALUATE, P + "creator", "a" * (L.MAX_ACCOUNT_ID_LEN + 1)),
    ("MIN_ACCOUNT_ID_LEN", ClaySynapse, EVALUATE, P + "creator", "a" * (L.MIN_ACCOUNT_ID_LEN - 1)),
    (
        "MAX_MODEL_NAME_LEN",
        ClaySynapse,
        _set(EVALUATE, P + "solution", ADAPTER),
        P + "solution.base_model",
        "m" * (L.MAX_MODEL_NAME_LEN + 1),
    ),
    (
        "MAX_CID_LEN",
        ClaySynapse,
        _set(EVALUATE, P + "solution", ADAPTER),
        P + "solution.adapter_cid",
        "b" + "a" * L.MAX_CID_LEN,
    ),
    ("MAX_TRIGGER_LEN", ClaySynapse, EVALUATE, P + "trigger", "t" * (L.MAX_TRIGGER_LEN + 1)),
    (
        "MAX_REQUIREMENT_LEN",
        ClaySynapse,
        EVALUATE,
        P + "context_requirements",
        ["r" * (L.MAX_REQUIREMENT_LEN + 1)],
    ),
    (
        "MAX_TEMPLATE_LEN",
        ClaySynapse,
        EVALUATE,
        P + "solution.template",
        "{doc}" + "t" * L.MAX_TEMPLATE_LEN,
    ),
    (
        "MAX_CODE_LEN",
        ClaySynapse,
        _set(EVALUATE, P + "solution", CODE),
        P + "solution.code",
        "#" * (L.MAX_CODE_LEN + 1),
    ),
    ("MAX_QUERY_LEN", ClaySynapse, INFER, "request.query", "q" * (L.MAX_QUERY_LEN + 1)),
    ("MAX_CONTEXT_LEN", ClaySynapse, INFER, "request.context", "c" * (L.MAX_CONTEXT_LEN + 1)),
    (
        "MAX_TURN_LEN",
        ClaySynapse,
        GENERATE,
        "request.interaction_log.turns.0.content",
        "x" * (L.MAX_TURN_LEN + 1),
    ),
    (
        "MAX_RESPONSE_LEN",
        ClaySynapseResponse,
        INFER_RESULT,
        "result.response",
        "r" * (L.MAX_RESPONSE_LEN + 1),
    ),
    (
        "MAX_RATIONALE_LEN",
        ClaySynapseResponse,
        EVAL_RESULT,
        "result.evaluation_result.rationale",
        "r" * (L.MAX_RATIONALE_LEN + 1),
    ),
    ("MAX_DETAIL_LEN", ClaySynapseResponse, EVAL_RESULT, "detail", "d" * (L.MAX_DETAIL_LEN + 1)),
    (
        "MAX_EXAMPLE_JSON_LEN",
        ClaySynapse,
        EVALUATE,
        "request.test_context.examples",
        [{"args": ["x" * L.MAX_EXAMPLE_JSON_LEN], "expected": 1}],
    ),
    (
        "MAX_REQUIREMENTS",
        ClaySynapse,
        EVALUATE,
        P + "context_requirements",
        ["r"] * (L.MAX_REQUIREMENTS + 1),
    ),
    (
        "MAX_VARIABLES",
        ClaySynapse,
        EVALUATE,
        P + "solution",
        {
            "kind": "prompt_template",
            "template": "".join(f"{{v{i}}}" for i in range(L.MAX_VARIABLES + 1)),
            "variables": [f"v{i}" for i in range(L.MAX_VARIABLES + 1)],
        },
    ),
    (
        "MAX_DEPENDENCIES",
        ClaySynapse,
        _set(EVALUATE, P + "solution", CODE),
        P + "solution.dependencies",
        ["dep"] * (L.MAX_DEPENDENCIES + 1),
    ),
    (
        "MAX_WORKFLOW_STEPS",
        ClaySynapse,
        _set(EVALUATE, P + "solution", {"kind": "workflow", "steps": [STEP]}),
        P + "solution.steps",
        [{**STEP, "output": f"o{i}"} for i in range(L.MAX_WORKFLOW_STEPS + 1)],
    ),
    (
        "MAX_LOG_TURNS",
        ClaySynapse,
        GENERATE,
        "request.interaction_log.turns",
        [{"role": "user", "content": "x"}] * (L.MAX_LOG_TURNS + 1),
    ),
    (
        "MAX_EXAMPLES",
        ClaySynapse,
        EVALUATE,
        "request.test_context.examples",
        [{"args": [1], "expected": 1}] * (L.MAX_EXAMPLES + 1),
    ),
    (
        "MAX_OFFERED_PATTERNS",
        ClaySynapse,
        INFER,
        "request.available_patterns",
        [PATTERN] * (L.MAX_OFFERED_PATTERNS + 1),
    ),
    (
        "MAX_CONTEXT_ITEMS",
        ClaySynapse,
        EVALUATE,
        "request.test_context.facts",
        {f"k{i}": "v" for i in range(L.MAX_CONTEXT_ITEMS + 1)},
    ),
    ("MAX_SEARCH_K", ClaySynapse, SEARCH, "request.k", L.MAX_SEARCH_K + 1),
    ("MAX_FL_STEPS", ClaySynapse, FL, "request.dp.local_steps", L.MAX_FL_STEPS + 1),
    ("MAX_FL_BATCH", ClaySynapse, FL, "request.dp.batch_size", L.MAX_FL_BATCH + 1),
    (
        "MAX_FL_UPDATE_BYTES",
        ClaySynapse,
        FL,
        "request.max_update_bytes",
        L.MAX_FL_UPDATE_BYTES + 1,
    ),
    (
        "MAX_FL_UPDATE_BYTES",
        ClaySynapseResponse,
        FL_RESULT,
        "result.update_size",
        L.MAX_FL_UPDATE_BYTES + 1,
    ),
    (
        "MAX_FL_HISTORY",
        ClaySynapseResponse,
        FL_RESULT,
        "result.accountant.history",
        [{"noise_multiplier": 0.5, "sample_rate": 0.5, "steps": 1}] * (L.MAX_FL_HISTORY + 1),
    ),
    (
        "MAX_SEARCH_K",
        ClaySynapseResponse,
        SEARCH_RESULT,
        "result.pattern_ids",
        [f"{i:064x}" for i in range(L.MAX_SEARCH_K + 1)],
    ),
    (
        "MAX_EMBEDDING_DIM",
        ClaySynapse,
        SEARCH,
        "request.embedding",
        [0.0] * (L.MAX_EMBEDDING_DIM + 1),
    ),
    ("MAX_U64", ClaySynapse, EVALUATE, P + "usage_count", L.MAX_U64 + 1),
    ("MAX_U128", ClaySynapse, EVALUATE, P + "price_per_use", str(L.MAX_U128 + 1)),
    ("MAX_RATING", ClaySynapse, EVALUATE, P + "avg_rating", L.MAX_RATING + 0.5),
    ("MIN_DEADLINE_S", ClaySynapse, EVALUATE, "deadline_s", L.MIN_DEADLINE_S / 2),
    ("MAX_DEADLINE_S", ClaySynapse, EVALUATE, "deadline_s", L.MAX_DEADLINE_S + 1),
]


@pytest.mark.parametrize(
    ("bound", "model", "base", "path", "value"), CASES, ids=[c[0] for c in CASES]
)
def test_value_past_each_bound_is_refused_naming_the_field(bound, model, base, path, value) -> None:
    good = model.model_validate(base)  # the base message itself is valid
    assert good is not None
    body = json.dumps(_set(base, path, value))
    with pytest.raises(ProtocolError) as info:
        parse_model(model, body)
    leaf = path.split(".")[-1]
    assert leaf in str(info.value), f"{bound}: error does not name {leaf}: {info.value}"


def test_every_bound_has_a_refusal_case() -> None:
    bounds = {name for name in dir(L) if name.isupper()}
    covered = {c[0] for c in CASES} | {"MAX_BODY_BYTES"}
    assert bounds == covered, f"bounds without a test: {sorted(bounds - covered)}"


def test_body_size_is_refused_before_parsing() -> None:
    body = b'{"request": ' + b" " * L.MAX_BODY_BYTES + b"}"
    with pytest.raises(ProtocolError, match="body is .* bytes"):
        parse_model(ClaySynapse, body)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"not json", "json"),
        (b'{"request": {"request_type": "mine_bitcoin"}}', "request"),
        (b'{"request": {"request_type": "inference"}}', "query"),
        (
            b'{"request": {"request_type": "inference", "query": "q"}, "deadline_s": "soon"}',
            "deadline_s",
        ),
    ],
)
def test_malformed_bodies_give_a_one_line_error(body: bytes, needle: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_model(ClaySynapse, body)
    message = str(info.value)
    assert needle in message.lower()
    assert "\n" not in message
