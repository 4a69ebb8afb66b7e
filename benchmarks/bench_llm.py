"""Benchmark the embedded models on CPU with one torch thread (how a Mycel node without a GPU
runs them): SmolLM2-135M-Instruct load time and generation speed for a 64-token answer, and
all-MiniLM-L6-v2 embeddings per second. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/bench_llm.py [--threads 1] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from mycel_subnet.intelligence.embeddings import MiniLMEmbedder
from mycel_subnet.intelligence.llm.transformers_backend import TransformersBackend

PROMPT = "Explain in a few sentences what a reusable prompt template is and why teams share them."
SENTENCES = [f"Pattern {i}: a prompt template that summarises support tickets." for i in range(256)]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_llm(threads: int, runs: int) -> None:
    backend = TransformersBackend(device="cpu", torch_threads=threads)
    started = time.perf_counter()
    backend.load()
    print(
        f"SmolLM2-135M load: {time.perf_counter() - started:.1f} s, peak RSS {_rss_mib():.0f} MiB"
    )
    backend.generate("Hi", max_new_tokens=4)  # warm-up
    rates = []
    for _ in range(runs):
        # the tokenizer's EOS could end early: count the tokens actually produced
        gen = backend.generate(PROMPT, max_new_tokens=64)
        rates.append(gen.tokens_out / gen.seconds)
        print(f"  {gen.tokens_out} tokens in {gen.seconds:.2f} s -> {rates[-1]:.1f} tok/s")
    print(
        f"SmolLM2-135M generation: median {statistics.median(rates):.1f} tok/s ({threads} thread)"
    )


def bench_embeddings(runs: int) -> None:
    embedder = MiniLMEmbedder()
    started = time.perf_counter()
    embedder.embed(["warm-up"])
    print(f"MiniLM load + first call: {time.perf_counter() - started:.1f} s")
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        embedder.embed(SENTENCES)
        rates.append(len(SENTENCES) / (time.perf_counter() - started))
    print(f"MiniLM embeddings: median {statistics.median(rates):.0f} sentences/s (batch 32)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU")
    bench_llm(args.threads, args.runs)
    bench_embeddings(args.runs)


if __name__ == "__main__":
    main()
