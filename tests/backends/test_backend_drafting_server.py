"""Every example drafts through the OpenAI-compatible client against a real llama.cpp server."""

from __future__ import annotations

import pytest

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.io import load_case
from reportdraft.models import FlagKind, Severity
from reportdraft.resources import data_dir

EXAMPLES = sorted(data_dir("examples").glob("*.json"))


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_every_example_drafts_through_the_server(llama_server: str) -> None:
    backend = create_backend(
        "vllm", BackendOptions(base_url=llama_server, dialect="llamacpp", timeout_s=180)
    )
    for path in EXAMPLES:
        result = drafting.draft_case(load_case(path), backend)
        draft = result.draft
        assert draft.provenance.backend == "vllm", path.stem
        assert draft.provenance.usage.calls >= 1, path.stem
        cited = {src for st in draft.statements() for src in st.sources}
        assert {s.id for s in result.dictation.sentences} <= cited, path.stem
        for st in draft.statements():
            if st.generator == "model":
                assert not [
                    f
                    for f in draft.flags_for(st.id)
                    if f.severity in (Severity.HIGH, Severity.MEDIUM)
                ], (path.stem, st)
        failures = [
            f.message
            for f in draft.flags
            if f.kind is FlagKind.FALLBACK and "model call failed" in f.message
        ]
        assert failures == [], (path.stem, failures)
