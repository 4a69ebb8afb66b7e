"""Issue 13's adapter Done-when: a LoRA adapter pattern is published by A, found and bought by B
(95/5 exact to the yocto), fetched by CID, verified, and changes the base model's output in
inference exactly as A trained it; through the CLI and through the local HTTP API on uvicorn.

Everything is real: the local ledger, the content store, peft, transformers, MiniLM for `find`.
The base model is the tiny random Llama of mycel_subnet/federated/toy.py (`toy-llama-v1`), not
the embedded SmolLM2, so the whole file runs in seconds; the code path is the same for both.
The only stand-in is a counting wrapper around the toy loader (`base_loads`), to show that a
refused adapter never gets as far as loading its base model.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import torch

from mycel_subnet.cli.main import main
from mycel_subnet.collective import Instance, publish
from mycel_subnet.collective.adapter_use import BASE_MODELS, TOY_BASE
from mycel_subnet.collective.api import create_app
from mycel_subnet.storage import LocalContentStore
from protocol import LearnedPattern
from protocol.pattern import ModelAdapter
from tests.collective.conftest import ALICE, BOB
from tests.collective.flow import PRICE, balances, expected_split
from tests.validator.servers import serve

pytestmark = pytest.mark.slow

MALLORY = "mallory.mycel.test"
PROMPT = "please find the"
TARGET = "invoice report search query"  # what the adapter is trained to continue PROMPT with
TRIGGER = "continue a request to find something with a list of office paperwork words"
QUERY = "complete a sequence of workplace document terms"
TOKENS = 12


@dataclass
class Trained:
    folder: Path
    with_adapter: str  # A's trained model, greedy, TOKENS new tokens
    without: str  # the bare base model, the same way


def _greedy(model, tokenizer, prompt: str, tokens: int) -> str:
    enc = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=tokens, do_sample=False, pad_token_id=0)
    return tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True).strip()


def _lora(model, **kwargs):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], **kwargs)
    return get_peft_model(model, config)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Trained:
    """A's adapter: plain SGD until the toy base continues PROMPT with TARGET."""
    from mycel_subnet.federated.toy import tiny_llama, toy_tokenizer

    torch.set_num_threads(1)
    tokenizer = toy_tokenizer()
    without = _greedy(tiny_llama(len(tokenizer), seed=0), tokenizer, PROMPT, TOKENS)
    torch.manual_seed(0)
    model = _lora(tiny_llama(len(tokenizer), seed=0), lora_dropout=0.0)
    ids = tokenizer(f"{PROMPT} {TARGET}", return_tensors="pt")["input_ids"]
    labels = ids.clone()
    labels[:, : len(tokenizer(PROMPT)["input_ids"])] = -100  # learn the continuation only
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    model.train()
    for _ in range(40):
        model(input_ids=ids, labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()
    folder = tmp_path_factory.mktemp("alice-adapter")
    model.save_pretrained(folder)
    return Trained(folder, _greedy(model, tokenizer, PROMPT, TOKENS), without)


@pytest.fixture
def base_loads(monkeypatch) -> list[str]:
    """Counts builds of the toy base model (the real loader still runs)."""
    calls: list[str] = []
    real = BASE_MODELS[TOY_BASE]

    def counting():
        calls.append(TOY_BASE)
        return real()

    monkeypatch.setitem(BASE_MODELS, TOY_BASE, counting)
    return calls


def cli(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["pattern", *argv, "--json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else {}), out.err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if not line.startswith("...")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def publish_cli(capsys, world, folder, account=ALICE, *, base=TOY_BASE, trigger=TRIGGER):
    code, out, err = cli(
        capsys, "publish-adapter", str(folder), "--base-model", base, "--trigger", trigger,
        "--domain", "general", "--price", str(PRICE), *world.flags(account),
    )  # fmt: skip
    assert code == 0, err
    return out


def variant(src: Path, dest: Path, *, scale: float) -> Path:
    """Another adapter folder: the same config, every LoRA B matrix scaled."""
    from safetensors.torch import load_file, save_file

    weights = load_file(src / "adapter_model.safetensors")
    dest.mkdir()
    save_file(
        {k: v * scale if "lora_B" in k else v for k, v in weights.items()},
        dest / "adapter_model.safetensors",
    )
    shutil.copy(src / "adapter_config.json", dest / "adapter_config.json")
    return dest


def refused_and_unpaid(capsys, world, pattern: str, needle: str, creator: str = ALICE) -> None:
    before = balances(world.ledger, creator, BOB)
    code, _, err = cli(capsys, "use", pattern, "--prompt", PROMPT, *world.flags(BOB))
    assert code == 1, err
    assert needle in error_line(err)
    assert balances(world.ledger, creator, BOB) == before
    assert not list((world.home(BOB) / "adapters").glob("adapter-*"))  # nothing left unpacked


def test_the_toy_base_is_the_federated_one():
    """Adapters from federated rounds on toy-llama-v1 load here onto the same weights."""
    from mycel_subnet.federated.models import TOY_BASE as FEDERATED_TOY

    assert TOY_BASE == FEDERATED_TOY


def test_publish_find_buy_fetch_verify_and_infer(world, capsys, trained, base_loads):
    assert trained.with_adapter.startswith(TARGET) and not trained.without.startswith(TARGET)
    published = publish_cli(capsys, world, trained.folder)
    weights = (trained.folder / "adapter_model.safetensors").read_bytes()
    assert published["adapter_hash"] == hashlib.sha256(weights).hexdigest()
    assert published["adapter_cid"] in LocalContentStore(world.ipfs).pins()
    assert published["loadable_here"] and not published["already_published"]
    again = publish_cli(capsys, world, trained.folder)
    assert again["already_published"] and again["near_id"] == published["near_id"]
    assert base_loads == []  # publishing never loads the model

    code, found, err = cli(capsys, "find", QUERY, *world.flags(BOB))
    assert code == 0, err
    top = found["patterns"][0]
    assert (top["pattern_id"], top["kind"]) == (published["pattern_id"], "model_adapter")
    assert top["source"] == "registry" and top["price"] == PRICE

    (alice_0, bob_0), fees_0 = balances(world.ledger, ALICE, BOB)
    code, used, err = cli(
        capsys, "use", str(top["near_id"]), "--args",
        json.dumps({"prompt": PROMPT, "max_new_tokens": TOKENS}), *world.flags(BOB),
    )  # fmt: skip
    assert code == 0, err
    assert used["output"] == trained.with_adapter != trained.without
    assert used["kind"] == "model_adapter" and used["verified"]
    assert published["adapter_cid"] in used["detail"]
    share, fee = expected_split(PRICE)
    assert (used["paid"], used["creator_share"], used["fee"]) == (PRICE, share, fee)
    (alice_1, bob_1), fees_1 = balances(world.ledger, ALICE, BOB)
    assert (alice_1 - alice_0, bob_0 - bob_1, fees_1 - fees_0) == (share, PRICE, fee)
    for step in ("downloading adapter", "loading base model toy-llama-v1", "generating"):
        assert step in err
    assert base_loads == [TOY_BASE]

    code, plain, err = cli(capsys, "use", published["pattern_id"], "--prompt", PROMPT,
                           *world.flags(BOB))  # fmt: skip
    assert code == 0 and plain["output"].startswith(TARGET), err


def test_the_same_through_the_http_api(world, trained, tmp_path):
    folder = variant(trained.folder, tmp_path / "api-adapter", scale=1.0 + 1e-3)
    with (
        serve(create_app(world.config(ALICE))) as port_a,
        serve(create_app(world.config(BOB))) as port_b,
        httpx.Client(base_url=f"http://127.0.0.1:{port_a}", timeout=120) as a,
        httpx.Client(base_url=f"http://127.0.0.1:{port_b}", timeout=120) as b,
    ):
        assert "/patterns/publish-adapter" in a.get("/openapi.json").json()["paths"]
        body = {"folder": str(folder), "base_model": TOY_BASE, "trigger": TRIGGER + " (api)",
                "domain": "general", "price": str(PRICE)}  # fmt: skip
        published = a.post("/patterns/publish-adapter", json=body)
        assert published.status_code == 200, published.text
        near_id = published.json()["near_id"]
        before = balances(world.ledger, ALICE, BOB)
        used = b.post(f"/patterns/{near_id}/use", json={"args": {"prompt": PROMPT}})
        assert used.status_code == 200, used.text
        assert used.json()["output"].startswith(TARGET)
        assert used.json()["paid"] == PRICE
        (alice_1, bob_1), _ = balances(world.ledger, ALICE, BOB)
        assert (alice_1 - before[0][0], before[0][1] - bob_1) == (expected_split(PRICE)[0], PRICE)
        bad = b.post(f"/patterns/{near_id}/use", json={"args": [1, 2]})
        assert bad.status_code == 400 and "--prompt" in bad.json()["error"]
        missing = a.post("/patterns/publish-adapter", json={**body, "folder": str(tmp_path / "x")})
        assert missing.status_code == 400 and "folder not found" in missing.json()["error"]


def test_through_kubo_rpc(world, capsys, trained, tmp_path):
    """`--ipfs.api`: the archive goes to (and comes back from) kubo's RPC API, not the local
    store (a fake daemon on loopback: no kubo can run here, see tests/storage/fake_kubo.py)."""
    from tests.storage.fake_kubo import FakeKubo

    folder = variant(trained.folder, tmp_path / "kubo-adapter", scale=1.0 - 1e-3)
    with FakeKubo() as kubo:
        ipfs = ["--ipfs.api", kubo.url]
        code, published, err = cli(
            capsys, "publish-adapter", str(folder), "--base-model", TOY_BASE, "--trigger",
            TRIGGER + " (kubo)", "--domain", "general", "--price", str(PRICE),
            *world.flags(ALICE), *ipfs,
        )  # fmt: skip
        assert code == 0, err
        assert published["adapter_cid"] in kubo.blocks
        assert not (world.ipfs / "objects" / published["adapter_cid"]).exists()
        code, used, err = cli(capsys, "use", published["pattern_id"], "--prompt", PROMPT,
                              *world.flags(BOB), *ipfs)  # fmt: skip
        assert code == 0, err
        assert used["output"].startswith(TARGET) and used["paid"] == PRICE


def _register_as_mallory(world, adapter: ModelAdapter, trigger: str) -> str:
    """Mallory registers a pattern around `adapter` directly, bypassing publish-adapter."""
    from datetime import UTC, datetime

    pattern = LearnedPattern(
        creator=MALLORY, created_at=datetime.now(UTC), trigger=trigger,
        solution=adapter, domain="general",
    )  # fmt: skip

    async def go() -> str:
        mallory = Instance(world.config(MALLORY))
        try:
            mallory.pattern_store().put(pattern)
            return str((await publish(mallory, pattern.id, str(PRICE))).near_id)
        finally:
            await mallory.aclose()

    return asyncio.run(go())


def test_bytes_swapped_in_the_store_are_refused(world, capsys, trained, tmp_path, base_loads):
    folder = variant(trained.folder, tmp_path / "swapped", scale=1.5)
    published = publish_cli(capsys, world, folder, trigger=TRIGGER + " (swapped)")
    path = world.ipfs / "objects" / published["adapter_cid"]
    blob = bytearray(path.read_bytes())
    blob[-600] ^= 0xFF  # inside the weights
    path.write_bytes(bytes(blob))
    refused_and_unpaid(capsys, world, str(published["near_id"]), "nothing loaded or paid")
    assert base_loads == []


def test_weights_that_do_not_match_adapter_hash_are_refused(
    world, capsys, trained, tmp_path, base_loads
):
    """Mallory serves other weights (a valid archive under its own CID) with the real hash."""
    from mycel_subnet.adapters import package_adapter

    store = LocalContentStore(world.ipfs)
    honest = package_adapter(trained.folder, TOY_BASE, store)
    forged = package_adapter(variant(trained.folder, tmp_path / "forged", scale=-1.0),
                             TOY_BASE, store)  # fmt: skip
    claim = ModelAdapter(base_model=TOY_BASE, adapter_cid=forged.adapter_cid,
                         adapter_hash=honest.adapter_hash)  # fmt: skip
    near_id = _register_as_mallory(world, claim, TRIGGER + " (forged)")
    refused_and_unpaid(capsys, world, near_id, "weights hash to", creator=MALLORY)
    assert base_loads == []


def test_a_base_model_this_instance_cannot_load_is_refused(world, capsys, trained, base_loads):
    published = publish_cli(capsys, world, trained.folder, base="meta-llama/Llama-3.1-8B")
    assert not published["loadable_here"]
    refused_and_unpaid(
        capsys, world, published["pattern_id"],
        "base model 'meta-llama/Llama-3.1-8B' cannot be loaded by this instance",
    )  # fmt: skip
    assert base_loads == []


def test_an_adapter_for_another_architecture_is_refused(world, capsys, tmp_path, base_loads):
    """Trained on a wider Llama, published as toy-llama-v1: it does not fit the base."""
    from mycel_subnet.federated.toy import tiny_llama, toy_tokenizer

    torch.manual_seed(3)
    wider = _lora(tiny_llama(len(toy_tokenizer()), seed=0, hidden=64), init_lora_weights=False)
    wider.save_pretrained(tmp_path / "wider")
    published = publish_cli(capsys, world, tmp_path / "wider", trigger=TRIGGER + " (wider)")
    refused_and_unpaid(capsys, world, published["pattern_id"], "shape")
    assert base_loads == [TOY_BASE]  # loaded, but the adapter was not attached or paid for


def test_an_adapter_that_changes_nothing_is_not_paid_for(world, capsys, tmp_path):
    """The cheapest adapter to sell: an untrained LoRA (B = 0) under any trigger."""
    from mycel_subnet.federated.toy import tiny_llama, toy_tokenizer

    _lora(tiny_llama(len(toy_tokenizer()), seed=0)).save_pretrained(tmp_path / "noop")
    published = publish_cli(capsys, world, tmp_path / "noop", trigger=TRIGGER + " (noop)")
    refused_and_unpaid(capsys, world, published["pattern_id"], "does not change the model")


def test_bad_adapter_input_is_one_line_and_exit_2(world, capsys, trained, tmp_path):
    flags = world.flags(ALICE)
    cases = [
        (["publish-adapter", str(tmp_path / "nope"), "--base-model", TOY_BASE, "--trigger",
          "x words", "--domain", "general"], "adapter folder not found"),
        (["publish-adapter", str(trained.folder), "--base-model", TOY_BASE, "--trigger",
          "ask ops@brightlane-studio.pl for invoices", "--domain", "general"], "EMAIL"),
        (["publish-adapter", str(trained.folder), "--base-model", TOY_BASE, "--trigger", "t",
          "--domain", "Not A Label!"], "domain"),
        (["publish-adapter", str(trained.folder), "--base-model", TOY_BASE, "--trigger", "t",
          "--domain", "general", "--price", "-3"], "--price"),
        (["publish-adapter", str(tmp_path), "--base-model", TOY_BASE, "--trigger", "t",
          "--domain", "general"], "is not a peft adapter folder"),
    ]  # fmt: skip
    for argv, needle in cases:
        code, _, err = cli(capsys, *argv, *flags)
        assert code == 2 and needle in error_line(err), (argv, err)
    published = publish_cli(capsys, world, trained.folder)
    before = balances(world.ledger, ALICE, BOB)
    for extra, needle in [
        (["--args", "[1]"], "--prompt TEXT"),
        (["--args", '{"prompt": "x", "max_new_tokens": 0}'], "max_new_tokens"),
        (["--args", '{"prompt": "x", "temperature": 2}'], "unknown argument"),
        (["--prompt", "x", "--args", '"y"'], "not both"),
    ]:
        code, _, err = cli(capsys, "use", published["pattern_id"], *extra, *world.flags(BOB))
        assert code == 2 and needle in error_line(err), (extra, err)
    assert balances(world.ledger, ALICE, BOB) == before
