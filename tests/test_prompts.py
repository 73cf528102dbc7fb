"""Prompt sets: loading and checks, and a model drafting with (and an eval suite comparing)
another prompt folder, against a recording OpenAI-compatible server."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.drafting.prompts import load_prompts
from reportdraft.errors import ConfigurationError
from reportdraft.evaluation import load_suite, run_suite
from reportdraft.evaluation.suite import EvalCase, Reference
from reportdraft.io import load_case
from reportdraft.resources import data_dir

MARKER = "ZERO-SHOT SYSTEM PROMPT UNDER TEST."


def zero_shot(tmp_path: Path) -> Path:
    """A copy of the bundled prompts with no few-shot examples and a marked system prompt."""
    folder = tmp_path / "zero-shot"
    shutil.copytree(data_dir("prompts"), folder)
    (folder / "examples.yaml").write_text("findings: []\nimpression: []\n")
    system = folder / "system.j2"
    system.write_text(MARKER + "\n" + system.read_text())
    return folder


def test_the_bundled_set_loads_with_examples_for_both_kinds() -> None:
    prompts = load_prompts()
    assert prompts.version.startswith("v1+")
    assert prompts.examples["findings"]
    assert prompts.examples["impression"]
    assert "SOURCES" in prompts.render("system.j2")


def test_another_folder_has_its_own_version(tmp_path: Path) -> None:
    folder = zero_shot(tmp_path)
    other = load_prompts(folder)
    assert other.version != load_prompts().version
    assert other.examples == {"findings": [], "impression": []}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: (f / "repair.j2").unlink(), "missing repair.j2"),
        (lambda f: (f / "examples.yaml").write_text("findings: {a: 1}\n"), "must be a list"),
        (lambda f: (f / "rewrite.j2").write_text("{% for x in %}"), "rewrite.j2"),
    ],
)
def test_broken_prompt_sets_are_refused(tmp_path: Path, change: Any, message: str) -> None:
    folder = zero_shot(tmp_path)
    change(folder)
    with pytest.raises(ConfigurationError, match=message):
        load_prompts(folder)


class _Recorder(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that records each request and answers unparsable text."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).requests.append(json.loads(body))
        answer = {
            "choices": [
                {"message": {"role": "assistant", "content": "no"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1},
            "model": "recorder",
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _system_prompts() -> list[str]:
    return [r["messages"][0]["content"] for r in _Recorder.requests]


def _few_shot_shown() -> bool:
    example = load_prompts().examples["findings"][0]["answer"]
    return any(example in m["content"] for r in _Recorder.requests for m in r["messages"])


def test_the_model_drafts_with_the_given_prompt_set(tmp_path: Path, recorder: str) -> None:
    folder = zero_shot(tmp_path)
    case = load_case(data_dir("examples") / "xr_chest_normal.json")
    backend = create_backend("vllm", BackendOptions(base_url=recorder, model="m"))
    draft = drafting.draft_case(case, backend, prompts=load_prompts(folder)).draft
    assert _Recorder.requests
    assert all(p.startswith(MARKER) for p in _system_prompts())
    assert not _few_shot_shown()
    assert draft.provenance.prompt_version == load_prompts(folder).version

    _Recorder.requests = []
    bundled = drafting.draft_case(case, backend).draft
    assert not any(p.startswith(MARKER) for p in _system_prompts())
    assert _few_shot_shown()
    assert bundled.provenance.prompt_version == load_prompts().version


def test_a_suite_compares_two_prompt_sets(tmp_path: Path, recorder: str) -> None:
    zero_shot(tmp_path)
    case = load_case(data_dir("examples") / "xr_chest_normal.json")
    cases = tmp_path / "cases.jsonl"
    item = EvalCase(id="x", case=case, reference=Reference(impression="Normal chest."))
    cases.write_text(item.model_dump_json() + "\n")
    suite_file = tmp_path / "suite.yaml"
    server = {"backend": "vllm", "base_url": recorder, "model": "m"}
    suite_file.write_text(
        yaml.safe_dump(
            {
                "name": "prompts",
                "cases": "cases.jsonl",
                "systems": [
                    {"name": "few-shot", **server},
                    {"name": "zero-shot", **server, "prompts": "zero-shot"},
                ],
            }
        )
    )
    suite = load_suite(suite_file)
    result = run_suite(suite, tmp_path / "out", progress=False, injection=False)
    versions = {s.name: s.prompt_version for s in result.systems}
    assert versions == {
        "few-shot": load_prompts().version,
        "zero-shot": load_prompts(tmp_path / "zero-shot").version,
    }
    assert sum(p.startswith(MARKER) for p in _system_prompts()) >= 1
    assert sum(not p.startswith(MARKER) for p in _system_prompts()) >= 1
