"""The transformers backend on the embedded GGUF (dequantised by transformers), on CPU.

Skipped with a reason when the ``[transformers]`` extra is not installed. Loading the GGUF
takes ~15-25 s on a 2-core machine, so the model is loaded once for the module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch", reason="the [transformers] extra (torch) is not installed")
pytest.importorskip("transformers", reason="the [transformers] extra is not installed")
pytest.importorskip("gguf", reason="the [transformers] extra (gguf) is not installed")

from reportdraft.backends import EMBEDDED_GGUF_NAME, BackendOptions, create_backend
from reportdraft.backends.llamacpp import LlamaCppBackend
from reportdraft.backends.transformers_backend import TransformersBackend
from reportdraft.errors import ConfigurationError

# One worker runs the whole module (with the llama.cpp tests, tests/conftest.py): the torch
# model is module-scoped and would otherwise load once per xdist worker.
pytestmark = [pytest.mark.slow, pytest.mark.embedded_model]


@pytest.fixture(scope="module")
def backend() -> TransformersBackend:
    made = create_backend("transformers", BackendOptions(device="cpu", n_threads=2))
    assert isinstance(made, TransformersBackend)
    return made


def test_schema_constrains_the_output(backend: TransformersBackend, zq: Any) -> None:
    pytest.importorskip("xgrammar", reason="xgrammar is not installed")
    out = backend.generate(zq())
    zq.check(out.text)
    assert out.finish_reason == "stop"
    assert out.model == EMBEDDED_GGUF_NAME


def test_unconstrained_greedy_generation(
    backend: TransformersBackend, zq: Any, embedded_llama: LlamaCppBackend
) -> None:
    out = backend.generate(zq(schema=False, max_tokens=12))
    assert zq.code not in out.text
    assert out.completion_tokens == 12
    assert out.finish_reason == "length"
    # The chat template and tokenizer come from the same GGUF as llama.cpp's.
    llama_tokens = embedded_llama.generate(zq(schema=False, max_tokens=1)).prompt_tokens
    assert out.prompt_tokens == llama_tokens
    again = backend.generate(zq(schema=False, max_tokens=12))
    assert again.text == out.text


def test_missing_model_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        create_backend("transformers", BackendOptions(model=str(tmp_path / "nope.gguf")))
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ConfigurationError, match="must be a GGUF"):
        create_backend("transformers", BackendOptions(model=str(tmp_path / "weights.bin")))
