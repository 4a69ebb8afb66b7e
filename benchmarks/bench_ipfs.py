"""CID computation, local content store and adapter package/load speed.

Prints figures; asserts nothing. Run: .venv/bin/python benchmarks/bench_ipfs.py
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from mycel_subnet.storage import LocalContentStore, compute_cid

MB = 1024 * 1024
SIZE = 64 * MB


def _rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / MB / seconds:8.1f} MB/s"


def bench_cid(data: bytes) -> None:
    for version in (0, 1):
        t0 = time.perf_counter()
        compute_cid(data, version)
        print(
            f"cid v{version} ({len(data) // MB} MiB): {_rate(len(data), time.perf_counter() - t0)}"
        )


def bench_store(data: bytes, root: Path) -> None:
    store = LocalContentStore(root, max_object_bytes=len(data))
    t0 = time.perf_counter()
    cid = store.put(data)
    t1 = time.perf_counter()
    store.get(cid)  # re-hashes against the CID
    t2 = time.perf_counter()
    print(f"local store put ({len(data) // MB} MiB, fsync): {_rate(len(data), t1 - t0)}")
    print(f"local store get ({len(data) // MB} MiB, verified): {_rate(len(data), t2 - t1)}")


def bench_adapter(root: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from mycel_subnet.adapters import load_adapter, package_adapter

    torch.set_num_threads(1)

    def base():
        torch.manual_seed(0)
        cfg = LlamaConfig(
            vocab_size=1024,
            hidden_size=256,
            intermediate_size=512,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=4,
        )
        return LlamaForCausalLM(cfg).eval()

    lora = LoraConfig(r=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    model = get_peft_model(base(), lora)
    folder = root / "adapter"
    model.save_pretrained(folder)
    size = (folder / "adapter_model.safetensors").stat().st_size
    store = LocalContentStore(root / "store")
    t0 = time.perf_counter()
    adapter = package_adapter(folder, "bench/llama-256", store)
    t1 = time.perf_counter()
    fresh = base()
    t2 = time.perf_counter()
    load_adapter(fresh, adapter, store, root / "fetched", expected_base_model="bench/llama-256")
    t3 = time.perf_counter()
    print(f"adapter package ({size // 1024} KiB LoRA r=8): {(t1 - t0) * 1000:8.1f} ms")
    print(f"adapter fetch+verify+load ({size // 1024} KiB): {(t3 - t2) * 1000:8.1f} ms")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    data = os.urandom(SIZE)
    with tempfile.TemporaryDirectory() as tmp:
        bench_cid(data)
        bench_store(data, Path(tmp) / "store")
        bench_adapter(Path(tmp))


if __name__ == "__main__":
    main()
