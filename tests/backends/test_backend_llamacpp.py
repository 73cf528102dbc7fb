"""The embedded default backend on the real SmolLM2 GGUF (llama.cpp in process).

The model is the suite's one load per process (``embedded_llama``, ``tests/conftest.py``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from reportdraft.backends import (
    EMBEDDED_GGUF_NAME,
    BackendOptions,
    ChatMessage,
    Generation,
    GenerationRequest,
    create_backend,
)
from reportdraft.backends.llamacpp import LlamaCppBackend, loaded_models
from reportdraft.errors import BackendError, ConfigurationError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backend(embedded_llama: LlamaCppBackend) -> LlamaCppBackend:
    return embedded_llama


def test_schema_constrains_the_output(backend: LlamaCppBackend, zq: Any) -> None:
    out = backend.generate(zq())
    zq.check(out.text)
    assert out.finish_reason == "stop"


def test_without_the_schema_the_model_does_not_follow_it(backend: LlamaCppBackend, zq: Any) -> None:
    # The control for the test above: the code only appears because the grammar forced it.
    out = backend.generate(zq(schema=False))
    assert zq.code not in out.text


def test_usage_model_and_length_finish(backend: LlamaCppBackend, zq: Any) -> None:
    out = backend.generate(zq(schema=False, max_tokens=5))
    assert out.model == EMBEDDED_GGUF_NAME == backend.model_id
    assert out.completion_tokens == 5
    assert out.finish_reason == "length"
    assert out.prompt_tokens > 10
    assert out.seconds > 0


def test_models_are_cached_per_process(backend: LlamaCppBackend) -> None:
    before = loaded_models()
    again = create_backend("llamacpp", BackendOptions())
    assert isinstance(again, LlamaCppBackend)
    assert loaded_models() == before
    assert again.model_path == backend.model_path
    assert str(backend.model_path) in {key[0] for key in before}


def test_concurrent_calls_are_serialised(backend: LlamaCppBackend, zq: Any) -> None:
    # A llama.cpp context is not thread-safe: without the per-model lock, parallel calls
    # interleave their tokens in one KV cache and produce garbage (or crash).
    expected = backend.generate(zq(max_tokens=48)).text
    results: list[Generation | BaseException] = []

    def run() -> None:
        try:
            results.append(backend.generate(zq(max_tokens=48)))
        except BaseException as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 3
    for result in results:
        assert isinstance(result, Generation), result
        assert result.text == expected


def test_missing_model_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        create_backend("llamacpp", BackendOptions(model=str(tmp_path / "nope.gguf")))


def test_a_file_that_is_not_a_gguf_is_a_configuration_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"this is not a gguf file" * 100)
    with pytest.raises(ConfigurationError, match="cannot load"):
        create_backend("llamacpp", BackendOptions(model=str(junk)))


def test_unenforceable_schema_raises_instead_of_falling_back(backend: LlamaCppBackend) -> None:
    # llama-cpp-python's response_format path would silently decode "any JSON" here.
    bad: dict[str, Any] = {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}
    request = GenerationRequest(
        messages=[ChatMessage(role="user", content="hi")], json_schema=bad, max_tokens=8
    )
    with pytest.raises(BackendError, match="cannot enforce"):
        backend.generate(request)


def test_prompt_longer_than_the_context_is_a_backend_error(backend: LlamaCppBackend) -> None:
    # Five tokens a repeat, so several times the context; llama.cpp refuses it before decoding.
    long_text = "The lungs are clear. " * BackendOptions().n_ctx
    request = GenerationRequest(
        messages=[ChatMessage(role="user", content=long_text)], max_tokens=8
    )
    with pytest.raises(BackendError, match="context window"):
        backend.generate(request)
