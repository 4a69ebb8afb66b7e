"""Federated DP fine-tuning cost on tiny random Llamas with LoRA r=8: seconds per DP-SGD client
step, per client round and per server round (K clients train one after another in this
process). Two model sizes: the toy word vocab, and a SmolLM2-sized vocab (49152) where the
output layer dominates. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/bench_federated.py
"""

from __future__ import annotations

import argparse
import statistics
import warnings

ROUNDS = 3
LOCAL_STEPS = 10


def bench(label: str, vocab: int, hidden: int) -> None:
    # Imported here so that `--help` answers at once instead of loading torch first.
    from peft import LoraConfig, get_peft_model

    from mycel_subnet.federated.client import ClientConfig
    from mycel_subnet.federated.server import ServerConfig
    from mycel_subnet.federated.simulation import run_simulation
    from mycel_subnet.federated.toy import TOY_WORDS, pattern_corpus, tiny_llama, toy_tokenizer

    pattern = list(TOY_WORDS[10:18])
    tokenizer = toy_tokenizer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = get_peft_model(
            tiny_llama(vocab, hidden=hidden),
            LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]),
        )
    clients = {f"c{i}": pattern_corpus(pattern, 64, seed=i) for i in range(8)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_simulation(
            model,
            tokenizer,
            clients,
            pattern_corpus(pattern, 32, seed=100),
            rounds=ROUNDS,
            client_config=ClientConfig(
                noise_multiplier=0.8,
                lr=1.0,
                batch_size=16,
                local_steps=LOCAL_STEPS,
                seq_len=32,
                use_presidio=False,
            ),
            server_config=ServerConfig(clients_per_round=4, clip_norm=50.0),
        )
    client_rounds = [s for r in result.rounds for s in r.client_seconds.values()]
    round_seconds = [r.seconds for r in result.rounds]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"{label}: trainable LoRA params {trainable}, vocab {vocab}, hidden {hidden}")
    print(
        f"{label}: client step {1000 * statistics.median(client_rounds) / LOCAL_STEPS:.1f} ms "
        f"(batch 16, seq 32, median)"
    )
    print(f"{label}: client round ({LOCAL_STEPS} steps) {statistics.median(client_rounds):.3f} s")
    print(
        f"{label}: server round (4 clients + aggregate + eval) "
        f"{statistics.median(round_seconds):.3f} s"
    )
    losses = " -> ".join(
        f"{x:.3f}" for x in [result.initial_loss, *(r.heldout_loss for r in result.rounds)]
    )
    eps = max(e for r in result.rounds for e in r.client_epsilon.values())
    print(f"{label}: held-out loss {losses}; max client epsilon {eps:.2f} (delta 1e-5)")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    import torch

    from mycel_subnet.federated.toy import toy_tokenizer

    torch.set_num_threads(1)
    bench("toy-vocab", vocab=len(toy_tokenizer()), hidden=32)
    bench("smollm2-vocab", vocab=49152, hidden=64)


if __name__ == "__main__":
    main()
