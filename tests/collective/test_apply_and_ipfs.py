"""Publishing through kubo's RPC API (`--ipfs.api`, a fake daemon on loopback: no kubo can run
here) and applying prompt templates and workflows; a forged registry entry is never paid for."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from mycel_subnet.cli.main import main
from mycel_subnet.collective import Instance, Refused, Unavailable, use
from mycel_subnet.collective.apply import apply
from mycel_subnet.collective.errors import BadInput, NotSupported
from protocol import LearnedPattern, PromptTemplate, Workflow, WorkflowStep
from protocol.pattern import ModelAdapter
from tests.collective.conftest import ALICE, BOB
from tests.collective.flow import balances
from tests.storage.fake_kubo import FakeKubo


def prompt_pattern(creator: str = ALICE) -> LearnedPattern:
    template = "Summarise the {document} for a {audience} in three bullet points."
    return LearnedPattern(
        creator=creator,
        created_at=datetime.now(UTC),
        trigger="summarise a document for a given audience",
        solution=PromptTemplate(template=template, variables=["document", "audience"]),
        domain="communication",
    )


def cli(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["pattern", *argv, "--json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else {}), out.err


def test_publish_and_use_through_kubo_rpc(world, capsys):
    pattern = prompt_pattern()
    instance = Instance(world.config(ALICE))
    instance.pattern_store().put(pattern)
    asyncio.run(instance.aclose())
    with FakeKubo() as kubo:
        ipfs = ["--ipfs.api", kubo.url]
        code, published, err = cli(
            capsys, "publish", pattern.id, "--price", "0.001NEAR", *world.flags(ALICE), *ipfs
        )
        assert code == 0, err
        assert published["metadata_cid"] in kubo.blocks
        assert not (world.ipfs / "objects" / published["metadata_cid"]).exists()
        args = json.dumps({"document": "release notes", "audience": "support team"})
        code, used, err = cli(capsys, "use", pattern.id, "--args", args, *world.flags(BOB), *ipfs)
        assert code == 0, err
        assert used["output"].startswith("Summarise the release notes for a support team")
        assert used["paid"] == 10**21
    code, _, err = cli(capsys, "use", pattern.id, "--args", args, *world.flags(BOB), *ipfs)
    assert code == 4 and "cannot be fetched by CID" in err  # the daemon is gone


def test_forged_registry_entry_is_not_paid_for(world):
    """A registered hash whose CID holds other content is refused before any payment."""
    honest = prompt_pattern().updated(trigger="summarise a forged report")
    other = prompt_pattern().updated(trigger="something else entirely")
    alice = Instance(world.config("mallory.mycel.test"))
    cid = alice.content_store().put(other.model_dump_json().encode())

    async def register_and_use():
        await alice.registry().register_pattern(honest.id, cid, "communication", 10**20)
        bob = Instance(world.config("victim.mycel.test"))
        bob.registry()  # opens the account (the local ledger's starting balance)
        (before,), _ = balances(world.ledger, "victim.mycel.test")
        try:
            with pytest.raises(Unavailable, match="describes pattern"):
                await use(bob, honest.id, {"document": "x", "audience": "y"})
        finally:
            await bob.aclose()
        return before

    before = asyncio.run(register_and_use())
    asyncio.run(alice.aclose())
    (after,), _ = balances(world.ledger, "victim.mycel.test")
    assert after == before


def test_templates_and_workflows_apply_in_order():
    filled, _ = asyncio.run(apply(prompt_pattern(), {"document": "memo", "audience": "board"}))
    assert filled.startswith("Summarise the memo for a board")
    with pytest.raises(BadInput, match="missing argument.*audience"):
        asyncio.run(apply(prompt_pattern(), {"document": "memo"}))
    steps = [
        WorkflowStep(name="outline", action="prompt", content="Outline {topic}", output="plan"),
        WorkflowStep(name="draft", action="prompt", content="Write from: {plan}", output="text"),
    ]
    flow = prompt_pattern().updated(solution=Workflow(steps=steps).model_dump(mode="json"))
    out, detail = asyncio.run(apply(flow, {"topic": "caching"}))
    assert [o["output"] for o in out] == ["Outline caching", "Write from: Outline caching"]
    assert "2 workflow steps" in detail
    cid = "bafkreidnd6u5ducsczcloz2dblsrzur6gu67vvv5oqmloeb5hszveknkau"
    adapter = ModelAdapter(base_model="tiny", adapter_cid=cid, adapter_hash="0" * 64)
    with pytest.raises(NotSupported, match="adapter"):
        asyncio.run(apply(prompt_pattern().updated(solution=adapter.model_dump(mode="json")), {}))
    assert issubclass(NotSupported, Exception) and not issubclass(NotSupported, Refused)
