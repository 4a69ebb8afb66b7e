"""Package a trained LoRA adapter by CID, fetch it back, verify it and load it with peft."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
import torch

from mycel_subnet.adapters import (
    AdapterIntegrityError,
    BaseModelMismatch,
    InvalidAdapterArchive,
    fetch_adapter,
    load_adapter,
    package_adapter,
)
from mycel_subnet.adapters.archive import build_archive, read_archive
from mycel_subnet.storage import IntegrityError, LocalContentStore, compute_cid
from protocol.pattern import ModelAdapter
from tests.adapters.conftest import BASE_NAME, make_base


@pytest.fixture
def store(tmp_path):
    return LocalContentStore(tmp_path / "ipfs")


def _logits(model, inputs):
    with torch.no_grad():
        return model(input_ids=inputs).logits


def test_round_trip_reproduces_the_trained_model(trained, store, tmp_path):
    adapter = package_adapter(trained.folder, BASE_NAME, store)
    weights = (trained.folder / "adapter_model.safetensors").read_bytes()
    assert adapter.adapter_hash == hashlib.sha256(weights).hexdigest()
    assert adapter.adapter_cid == compute_cid(store.get(adapter.adapter_cid))
    assert adapter.adapter_cid in store.pins()

    loaded = load_adapter(
        make_base(), adapter, store, tmp_path / "fetched", expected_base_model=BASE_NAME
    )
    expected = _logits(trained.model, trained.inputs)
    assert torch.equal(_logits(loaded, trained.inputs), expected)
    # The adapter matters: the bare base model answers differently.
    assert not torch.allclose(_logits(make_base(), trained.inputs), expected)


def test_archive_is_deterministic_and_path_free(trained, tmp_path):
    first = package_adapter(trained.folder, BASE_NAME, LocalContentStore(tmp_path / "a"))
    config_path = trained.folder / "adapter_config.json"
    original = config_path.read_text()
    config = json.loads(original)
    config["base_model_name_or_path"] = "/home/someone/models/tiny"  # a machine-local path
    config["target_modules"] = list(reversed(sorted(config["target_modules"])))
    config_path.write_text(json.dumps(config))
    try:
        second = package_adapter(trained.folder, BASE_NAME, LocalContentStore(tmp_path / "b"))
    finally:
        config_path.write_text(original)
    assert first == second
    _, stored_config = read_archive(LocalContentStore(tmp_path / "b").get(second.adapter_cid))
    assert stored_config["base_model_name_or_path"] == BASE_NAME


def test_tampered_archive_in_store_is_refused(trained, store, tmp_path):
    adapter = package_adapter(trained.folder, BASE_NAME, store)
    path = store.root / "objects" / adapter.adapter_cid
    blob = bytearray(path.read_bytes())
    blob[-2000] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(IntegrityError, match="corrupted"):
        fetch_adapter(adapter, store, tmp_path / "x", expected_base_model=BASE_NAME)


def test_swapped_weights_under_a_valid_cid_are_refused(trained, store, tmp_path):
    """A miner publishes other weights (a valid archive, its own CID) with the real hash."""
    honest = package_adapter(trained.folder, BASE_NAME, store)
    weights, config = read_archive(store.get(honest.adapter_cid))
    forged = bytearray(weights)
    forged[-1] ^= 0x01
    cid = store.put(build_archive(bytes(forged), config))
    claim = ModelAdapter(base_model=BASE_NAME, adapter_cid=cid, adapter_hash=honest.adapter_hash)
    with pytest.raises(AdapterIntegrityError, match="weights hash to"):
        fetch_adapter(claim, store, tmp_path / "x", expected_base_model=BASE_NAME)
    assert not (tmp_path / "x" / "adapter_model.safetensors").exists()


def test_wrong_base_model_is_refused(trained, store, tmp_path):
    adapter = package_adapter(trained.folder, BASE_NAME, store)
    with pytest.raises(BaseModelMismatch, match="not 'other/model'"):
        fetch_adapter(adapter, store, tmp_path / "x", expected_base_model="other/model")
    # The pattern lies about its base model: the archive's own config contradicts it.
    lying = adapter.model_copy(update={"base_model": "other/model"})
    with pytest.raises(BaseModelMismatch, match="config names base model"):
        fetch_adapter(lying, store, tmp_path / "y", expected_base_model="other/model")


def test_adapter_for_another_architecture_is_refused(trained, store, tmp_path):
    adapter = package_adapter(trained.folder, BASE_NAME, store)
    wider = make_base(hidden=32)
    with pytest.raises(BaseModelMismatch, match="does not fit|shape"):
        load_adapter(wider, adapter, store, tmp_path / "x", expected_base_model=BASE_NAME)


def _tar(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("blob", "problem"),
    [
        (b"not a tar at all" * 100, "not a valid tar|lacks"),
        (_tar({"adapter_config.json": b"{}"}), "lacks adapter_model.safetensors"),
        (_tar({"../evil": b"x"}), "unexpected member '../evil'"),
        (_tar({"adapter_config.json": b"{}"}, symlink="adapter_model.safetensors"), "unexpected"),
        (_tar({"adapter_config.json": b"[1]", "adapter_model.safetensors": b""}), "JSON object"),
        (_tar({"adapter_config.json": b"{bad", "adapter_model.safetensors": b""}), "not JSON"),
    ],
)
def test_malformed_archives_are_refused(blob, problem):
    with pytest.raises(InvalidAdapterArchive, match=problem):
        read_archive(blob)


def test_non_lora_config_is_refused(trained, tmp_path):
    folder = tmp_path / "ia3"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"x")
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "IA3"}))
    with pytest.raises(InvalidAdapterArchive, match="only LoRA"):
        package_adapter(folder, BASE_NAME, LocalContentStore(tmp_path / "s"))
