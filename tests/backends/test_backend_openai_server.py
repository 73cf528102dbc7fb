"""The OpenAI-compatible client against a real ``python -m llama_cpp.server`` process.

Proves the schema constraint is really applied over HTTP (a schema the unconstrained
model does not follow comes back satisfied), and pins down what the other dialect's
spelling does against llama.cpp's server.
"""

from __future__ import annotations

from typing import Any

import pytest

from reportdraft.backends import BackendOptions, create_backend
from reportdraft.backends.openai_compat import OpenAICompatBackend
from reportdraft.errors import BackendError, BackendTimeoutError, BackendUnavailableError

pytestmark = pytest.mark.slow


def _client(base_url: str, **kw: Any) -> OpenAICompatBackend:
    made = create_backend("vllm", BackendOptions(base_url=base_url, timeout_s=60, **kw))
    assert isinstance(made, OpenAICompatBackend)
    return made


def test_llamacpp_dialect_applies_the_schema(llama_server: str, zq: Any) -> None:
    with _client(llama_server, dialect="llamacpp") as client:
        out = client.generate(zq())
    zq.check(out.text)
    assert out.finish_reason == "stop"
    assert out.prompt_tokens > 10
    assert 0 < out.completion_tokens < 96


def test_same_request_unconstrained_does_not_follow_the_schema(llama_server: str, zq: Any) -> None:
    with _client(llama_server, dialect="llamacpp") as client:
        out = client.generate(zq(schema=False))
    assert zq.code not in out.text


def test_vllm_spelling_is_rejected_by_llama_cpp_server(llama_server: str, zq: Any) -> None:
    # HTTP 500 (docs/ARCHITECTURE.md#model-runtimes): llama.cpp's server checks response_format.type
    # against "text"/"json_object" and reports the validation error as a 500. The client
    # surfaces it (after its retries) as a plain BackendError that names the fix.
    with (
        _client(llama_server, dialect="vllm", retries=0) as client,
        pytest.raises(BackendError) as info,
    ):
        client.generate(zq())
    error = info.value
    assert not isinstance(error, (BackendUnavailableError, BackendTimeoutError))
    message = str(error)
    assert "HTTP 500" in message
    assert "json_object" in message
    assert "dialect 'llamacpp'" in message


def test_model_discovered_and_base_url_with_v1(llama_server: str, zq: Any) -> None:
    with _client(llama_server + "/v1", dialect="llamacpp") as client:
        out = client.generate(zq(schema=False, max_tokens=4))
    assert client.model_id.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert out.model == client.model_id
    assert out.completion_tokens == 4
    assert out.finish_reason == "length"
