"""``transformers``: Hugging Face transformers in process, CUDA when present, CPU otherwise.

For sites that run their own weights without a server, and for GPU benchmarks. Loads an HF
model directory, a model already in the local HF cache (never downloads: no network at run
time), or a GGUF file through ``gguf_file=`` (dequantised by transformers; the embedded
SmolLM2 GGUF is the default so the backend works on a fresh install with the extra).

* dtype: bf16 on CUDA (what the GPUs are fast at), fp32 on CPU (bf16 matmuls are slow or
  missing on many CPUs).
* Greedy decoding for temperature 0, the model's own chat template for the prompt.
* Schema constraint: xgrammar's logits processor for transformers, which masks every token
  the schema forbids. Without xgrammar a schema request raises
  ``BackendUnavailableError`` -- decoding unconstrained would hand the drafter text the
  schema never bound.
* ``torch.set_num_threads(n_threads)`` (default: the core count): oversubscribed OpenMP
  threads on a busy small box slow torch down badly (docs/ARCHITECTURE.md#model-runtimes).
* Models are cached per process like the llamacpp backend, with a lock per model.

The extra ``reportdraft[transformers]`` installs torch, transformers, gguf, xgrammar and
accelerate.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportdraft.backends.interface import (
    Backend,
    BackendOptions,
    Generation,
    GenerationRequest,
    embedded_model_path,
)
from reportdraft.backends.registry import register
from reportdraft.errors import BackendError, BackendUnavailableError, ConfigurationError

INSTALL_HINT = "pip install 'reportdraft[transformers]'"

_GRAMMAR_CACHE_SIZE = 32
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(eq=False)
class LoadedHFModel:
    """A transformers model and tokenizer shared in the process, with its lock."""

    model: Any
    tokenizer: Any
    device: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    grammar_compiler: Any = None
    grammars: dict[str, Any] = field(default_factory=dict)


_MODELS: dict[tuple[str, str], LoadedHFModel] = {}
_MODELS_LOCK = threading.Lock()


def _import_runtime() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the transformers backend needs torch and transformers: {INSTALL_HINT}"
        ) from exc
    return torch, transformers


def _source(model: str) -> tuple[str, dict[str, Any]]:
    """``from_pretrained`` arguments for a GGUF file, a model directory or a cached HF id."""
    path = Path(model).expanduser()
    if path.is_file():
        if path.suffix != ".gguf":
            raise ConfigurationError(f"a model file must be a GGUF: {model}")
        return str(path.resolve().parent), {"gguf_file": path.name}
    if path.is_dir():
        return str(path.resolve()), {}
    if model.endswith(".gguf") or not _HF_ID.match(model):
        raise ConfigurationError(f"model not found: {model}")
    return model, {}  # an HF id: must already be in the local cache


def load_hf_model(model: str, *, device: str) -> LoadedHFModel:
    """Return the process-wide model for ``(model, device)``, loading it on first use."""
    torch, transformers = _import_runtime()
    source, extra = _source(model)
    key = (f"{source}::{extra.get('gguf_file', '')}", device)
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is not None:
            return loaded
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        major = int(transformers.__version__.split(".", 1)[0])
        dtype_kw = {"dtype": dtype} if major >= 5 else {"torch_dtype": dtype}
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                source, local_files_only=True, **extra
            )
            hf_model = transformers.AutoModelForCausalLM.from_pretrained(
                source, local_files_only=True, **extra, **dtype_kw
            )
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot load model {model!r} locally: {exc}") from exc
        hf_model.to(device)
        hf_model.eval()
        if tokenizer.chat_template is None:
            raise ConfigurationError(f"model {model!r} has no chat template")
        loaded = LoadedHFModel(model=hf_model, tokenizer=tokenizer, device=device)
        _MODELS[key] = loaded
        return loaded


def clear_model_cache() -> None:
    """Drop every cached model."""
    with _MODELS_LOCK:
        _MODELS.clear()


def _logits_processor(loaded: LoadedHFModel, schema: dict[str, Any]) -> Any:
    """A fresh xgrammar logits processor for ``schema`` (they are single-use).

    Called with ``loaded.lock`` held: the compiler and grammar cache are per model.
    """
    try:
        import xgrammar
        import xgrammar.contrib.hf as xgr_hf
    except ImportError as exc:
        raise BackendUnavailableError(
            f"a JSON schema needs xgrammar with the transformers backend: {INSTALL_HINT}"
        ) from exc
    if loaded.grammar_compiler is None:
        vocab_size = int(loaded.model.get_output_embeddings().weight.shape[0])
        info = xgrammar.TokenizerInfo.from_huggingface(loaded.tokenizer, vocab_size=vocab_size)
        loaded.grammar_compiler = xgrammar.GrammarCompiler(info)
    key = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    compiled = loaded.grammars.get(key)
    if compiled is None:
        try:
            compiled = loaded.grammar_compiler.compile_json_schema(json.dumps(schema))
        except Exception as exc:  # xgrammar raises RuntimeError / ValueError subclasses
            raise BackendError(f"xgrammar cannot enforce this JSON schema: {exc}") from exc
        if len(loaded.grammars) >= _GRAMMAR_CACHE_SIZE:
            loaded.grammars.pop(next(iter(loaded.grammars)))
        loaded.grammars[key] = compiled
    return xgr_hf.LogitsProcessor(compiled)


@register("transformers")
class TransformersBackend(Backend):
    """In-process transformers generation (see the module docstring for the choices)."""

    name = "transformers"
    install_hint = INSTALL_HINT

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        torch, _ = _import_runtime()
        model = options.model or str(embedded_model_path())
        device = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if device == "cpu":
            torch.set_num_threads(options.n_threads or os.cpu_count() or 1)
        self._torch = torch
        self._loaded = load_hf_model(model, device=device)
        self.device = device
        self.model_id = Path(model).name if Path(model).exists() else model

    def generate(self, request: GenerationRequest) -> Generation:
        """Greedy (or sampled, for temperature > 0) generation with the chat template."""
        torch = self._torch
        loaded = self._loaded
        tokenizer = loaded.tokenizer
        messages = [m.model_dump() for m in request.messages]
        with loaded.lock:
            start = time.perf_counter()
            encoded = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            input_ids = encoded["input_ids"].to(loaded.device)
            attention_mask = encoded["attention_mask"].to(loaded.device)
            kwargs: dict[str, Any] = {
                "max_new_tokens": request.max_tokens,
                "do_sample": request.temperature > 0,
                "pad_token_id": tokenizer.pad_token_id
                if tokenizer.pad_token_id is not None
                else tokenizer.eos_token_id,
            }
            if request.temperature > 0:
                kwargs.update(temperature=request.temperature, top_k=0, top_p=1.0)
                if request.seed is not None:
                    torch.manual_seed(request.seed)
            else:  # the model's generation_config may carry sampling defaults; unset them
                kwargs.update(temperature=None, top_k=None, top_p=None)
            if request.json_schema is not None:
                kwargs["logits_processor"] = [_logits_processor(loaded, request.json_schema)]
            try:
                with torch.inference_mode():
                    output = loaded.model.generate(
                        input_ids=input_ids, attention_mask=attention_mask, **kwargs
                    )
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"transformers generation failed: {exc}") from exc
            seconds = time.perf_counter() - start
        new_tokens = output[0, input_ids.shape[1] :].tolist()
        return Generation(
            text=tokenizer.decode(new_tokens, skip_special_tokens=True),
            model=self.model_id,
            prompt_tokens=int(input_ids.shape[1]),
            completion_tokens=len(new_tokens),
            seconds=seconds,
            finish_reason=_finish_reason(new_tokens, request.max_tokens, _eos_ids(loaded)),
        )


def _eos_ids(loaded: LoadedHFModel) -> set[int]:
    eos = loaded.model.generation_config.eos_token_id
    ids = set(eos) if isinstance(eos, list) else ({eos} if eos is not None else set())
    if loaded.tokenizer.eos_token_id is not None:
        ids.add(int(loaded.tokenizer.eos_token_id))
    return ids


def _finish_reason(tokens: list[int], max_tokens: int, eos_ids: set[int]) -> str:
    """``stop`` when the model ended on an end-of-sequence token, else ``length``."""
    if tokens and tokens[-1] in eos_ids:
        return "stop"
    return "length" if len(tokens) >= max_tokens else "stop"
