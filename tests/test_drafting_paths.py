"""The model-drafting paths, each one exactly, with a scripted backend instead of llama.cpp.

The case has three pieces the model is asked to rewrite: the pleura subsection (sources D1
and D2), the heart (D3) and the impression (D4). Every test scripts the answer per piece
(keyed by the piece's source ids, which the answer schema pins) and checks what drafting
did with it: kept and cited it, re-asked, or fell back to the deterministic statements
with a ``fallback`` flag. The same paths with the embedded model run in
``tests/test_drafting.py`` (marked ``slow``).
"""

from __future__ import annotations

import json

import pytest

from reportdraft import drafting
from reportdraft.backends import BackendOptions, FakeBackend, GenerationRequest, create_backend
from reportdraft.backends.fake import Answer, Reply, keyed, request_choices
from reportdraft.drafting import model_rewrite
from reportdraft.drafting.prompts import load_prompts
from reportdraft.errors import BackendError, BackendTimeoutError, BackendUnavailableError
from reportdraft.models import Case, Draft, Flag, FlagKind, SectionKind, Severity, Statement
from tests.factories import case_dict

DICTATION = (
    "Small right pneumothorax. No pleural effusion on the left. The heart size is normal. "
    "Impression: Small right pneumothorax."
)
PLEURA, HEART, IMPRESSION = ("D1", "D2"), ("D3",), ("D4",)


def _case() -> Case:
    data = case_dict()
    data["dictation"] = DICTATION
    return Case.model_validate(data)


def _answer(*sentences: tuple[str, list[str]]) -> str:
    """The JSON a model returns for one piece: sentences with the source ids they cite."""
    return json.dumps({"sentences": [{"text": t, "sources": s} for t, s in sentences]})


GOOD: dict[tuple[str, ...], str] = {
    PLEURA: _answer(("Small right pneumothorax; no pleural effusion on the left.", ["D1", "D2"])),
    HEART: _answer(("Heart size is normal.", ["D3"])),
    IMPRESSION: _answer(("Small right pneumothorax.", ["D4"])),
}
"""An answer per piece that restates its sources faithfully (drafting keeps these)."""


def _script(**pieces: Answer | list[Answer]) -> dict[str | tuple[str, ...], Answer | list[Answer]]:
    """``GOOD`` with some pieces (``pleura``, ``heart``, ``impression``) scripted otherwise."""
    keys = {"pleura": PLEURA, "heart": HEART, "impression": IMPRESSION}
    script: dict[str | tuple[str, ...], Answer | list[Answer]] = dict(GOOD.items())
    script.update({keys[name]: answer for name, answer in pieces.items()})
    return script


def _draft(backend: FakeBackend) -> Draft:
    return drafting.draft_case(_case(), backend).draft


def _rules_draft() -> Draft:
    return drafting.draft_case(_case(), create_backend("rules", BackendOptions())).draft


def _subsection(draft: Draft, key: str) -> list[Statement]:
    return [st for st in draft.section(SectionKind.FINDINGS) if st.subsection == key]


def _fallback_flags(draft: Draft) -> list[Flag]:
    return [f for f in draft.flags if f.kind is FlagKind.FALLBACK]


def _asked(backend: FakeBackend, piece: tuple[str, ...]) -> list[GenerationRequest]:
    """The requests drafting sent for ``piece`` (by the ids its answer schema allows)."""
    return [r for r in backend.requests if set(request_choices(r)) == set(piece)]


def _assert_fell_back(draft: Draft, key: str, message: str) -> Flag:
    """The subsection ``key`` holds the rules statements marked fallback, and one low flag
    containing ``message`` points at its first statement; return that flag."""
    statements = _subsection(draft, key)
    rules = _subsection(_rules_draft(), key)
    assert [(st.text, st.sources) for st in statements] == [(st.text, st.sources) for st in rules]
    assert all(st.fallback and st.generator == "rules" for st in statements)
    flags = [f for f in _fallback_flags(draft) if f.statement_id == statements[0].id]
    assert len(flags) == 1, draft.flags
    assert flags[0].severity is Severity.LOW
    assert message in flags[0].message
    return flags[0]


def test_valid_answers_are_drafted_cited_and_accounted() -> None:
    backend = FakeBackend(keyed(_script()))
    draft = _draft(backend)

    pleura = _subsection(draft, "pleura")
    assert [(st.text, st.sources, st.generator, st.fallback) for st in pleura] == [
        ("Small right pneumothorax; no pleural effusion on the left.", ["D1", "D2"], "model", False)
    ]
    assert [st.text for st in _subsection(draft, "heart_mediastinum")] == ["Heart size is normal."]
    assert [(st.text, st.sources) for st in draft.section(SectionKind.IMPRESSION)] == [
        ("Small right pneumothorax.", ["D4"])
    ]
    assert not _fallback_flags(draft)
    assert not [f for f in draft.flags if f.severity in (Severity.HIGH, Severity.MEDIUM)]
    # Two dictated statements became one: ids are renumbered without a gap.
    ids = [st.id for st in draft.statements()]
    assert ids == [f"S{i}" for i in range(1, len(ids) + 1)]
    assert len(ids) == len(list(_rules_draft().statements())) - 1
    # Template statements are not sent to the model and stay the deterministic ones.
    assert {st.generator for st in draft.statements() if st.sources[0].startswith("T:")} == {
        "rules"
    }
    assert any(m.alert and m.finding_code == "pneumothorax" for m in draft.critical)

    provenance = draft.provenance
    assert (provenance.backend, provenance.model) == ("fake", "fake")
    assert provenance.prompt_version == load_prompts().version
    assert provenance.usage.calls == len(backend.requests) == 3
    assert provenance.usage.completion_tokens == sum(len(a.split()) for a in GOOD.values())
    assert provenance.usage.prompt_tokens == sum(
        len(m.content.split()) for r in backend.requests for m in r.messages
    )


def test_each_request_is_bounded_greedy_and_carries_only_its_sources() -> None:
    backend = FakeBackend(keyed(_script()))
    _draft(backend)
    assert sorted(request_choices(r) for r in backend.requests) == [PLEURA, HEART, IMPRESSION]
    for request in backend.requests:
        assert [m.role for m in request.messages] == ["system", "user"]
        assert (request.temperature, request.seed) == (0.0, 0)
        ids = request_choices(request)
        assert request.max_tokens == min(90 * min(len(ids) + 1, 8) + 40, 700)
        sources = request.messages[-1].content.split("SOURCES:")[-1]
        for other in {"D1", "D2", "D3", "D4"} - set(ids):
            assert f'id="{other}"' not in sources
    (heart,) = _asked(backend, HEART)
    assert '<source id="D3">The heart size is normal.</source>' in heart.messages[-1].content


def test_an_unparsable_answer_is_reasked_with_the_error_then_used() -> None:
    backend = FakeBackend(keyed(_script(heart=["The heart is fine.", GOOD[HEART]])))
    draft = _draft(backend)

    first, second = _asked(backend, HEART)
    assert second.messages[: len(first.messages)] == first.messages
    assistant, repair = second.messages[len(first.messages) :]
    assert (assistant.role, assistant.content) == ("assistant", "The heart is fine.")
    assert repair.role == "user"
    assert "Invalid JSON" in repair.content
    assert "Cite only these ids: D3." in repair.content
    assert [(st.text, st.generator) for st in _subsection(draft, "heart_mediastinum")] == [
        ("Heart size is normal.", "model")
    ]
    assert not _fallback_flags(draft)
    assert draft.provenance.usage.calls == len(backend.requests) == 4


def test_an_answer_that_never_parses_falls_back_after_the_reasks() -> None:
    tries = model_rewrite.MAX_REASKS + 1
    backend = FakeBackend(keyed(_script(heart=["not json"] * tries)))
    draft = _draft(backend)
    assert len(_asked(backend, HEART)) == tries
    _assert_fell_back(draft, "heart_mediastinum", f"did not parse after {tries} tries")
    assert [st.generator for st in _subsection(draft, "pleura")] == ["model"]
    assert draft.provenance.usage.calls == 2 + tries


def test_a_cut_off_answer_falls_back_without_a_reask() -> None:
    cut = Reply(text='{"sentences": [{"text": "The heart size is', finish_reason="length")
    backend = FakeBackend(keyed(_script(heart=[cut])))  # a re-ask would find no answer left
    draft = _draft(backend)
    assert len(_asked(backend, HEART)) == 1
    _assert_fell_back(draft, "heart_mediastinum", "hit the token limit and did not parse")


def test_an_answer_that_drops_a_source_falls_back() -> None:
    dropped = _answer(("Small right pneumothorax.", ["D1"]))
    draft = _draft(FakeBackend(keyed(_script(pleura=dropped))))
    flag = _assert_fell_back(draft, "pleura", "dropped source(s) D2")
    assert flag.sources == ["D1", "D2"]
    # The rules statements are back, so nothing dictated is left uncited.
    assert not [f for f in draft.flags if f.kind is FlagKind.OMISSION]


def test_an_answer_citing_an_id_outside_its_piece_is_reasked_then_falls_back() -> None:
    invented = _answer(("Small right pneumothorax.", ["D1", "D3"]))
    backend = FakeBackend(keyed(_script(pleura=[invented, invented])))
    draft = _draft(backend)
    asked = _asked(backend, PLEURA)
    assert len(asked) == 2
    assert "Cite only these ids: D1, D2." in asked[1].messages[-1].content
    _assert_fell_back(draft, "pleura", "did not parse after 2 tries")


def test_an_answer_with_a_word_no_source_uses_falls_back() -> None:
    invented = _answer(
        ("Small right pneumothorax with rib fracture.", ["D1"]),
        ("No pleural effusion on the left.", ["D2"]),
    )
    draft = _draft(FakeBackend(keyed(_script(pleura=invented))))
    _assert_fell_back(draft, "pleura", "used words its sources do not: fracture")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Small left pneumothorax; no pleural effusion on the right.", "laterality"),
        ("Small right pneumothorax; pleural effusion on the left.", "negation"),
    ],
)
def test_an_answer_the_verifier_flags_falls_back(text: str, kind: str) -> None:
    changed = _answer((text, ["D1", "D2"]))
    draft = _draft(FakeBackend(keyed(_script(pleura=changed))))
    flag = _assert_fell_back(draft, "pleura", f"verifier rejected the model answer: {kind}:")
    assert flag.statement_id == _subsection(draft, "pleura")[0].id
    assert not any(text in st.text for st in draft.statements())
    assert [st.generator for st in _subsection(draft, "heart_mediastinum")] == ["model"]


@pytest.mark.parametrize(
    "error",
    [
        BackendTimeoutError("no answer within 60 s"),
        BackendUnavailableError("model server unreachable"),
        BackendError("unexpected response"),
    ],
    ids=lambda e: e.code,
)
def test_a_failing_backend_gives_the_rules_draft_flagged_fallback(error: BackendError) -> None:
    backend = FakeBackend(lambda request: error)
    draft = _draft(backend)
    rules = _rules_draft()

    assert [st.text for st in draft.statements()] == [st.text for st in rules.statements()]
    assert len(backend.requests) == 3  # one call per piece: a failed call is not retried here
    flags = _fallback_flags(draft)
    assert len(flags) == 3
    assert all(f"model call failed ({error.code})" in f.message for f in flags)
    fallback_ids = {st.id for st in draft.statements() if st.fallback}
    assert {f.statement_id for f in flags} <= fallback_ids
    assert {st.sources[0] for st in draft.statements() if st.fallback} == {"D1", "D2", "D3", "D4"}
    assert draft.provenance.backend == "fake"
    assert draft.provenance.usage.calls == 0
    assert any(m.alert and m.finding_code == "pneumothorax" for m in draft.critical)


def test_one_failing_piece_falls_back_alone_and_its_flag_follows_the_renumbering() -> None:
    backend = FakeBackend(keyed(_script(heart=BackendTimeoutError("slow"))))
    draft = _draft(backend)
    (flag,) = _fallback_flags(draft)
    (heart,) = _subsection(draft, "heart_mediastinum")
    # The pleura piece shrank from two statements to one before it: the flag moved with it.
    assert flag.statement_id == heart.id != _subsection(_rules_draft(), "heart_mediastinum")[0].id
    assert heart.fallback
    assert [st.generator for st in _subsection(draft, "pleura")] == ["model"]
    assert [st.generator for st in draft.section(SectionKind.IMPRESSION)] == ["model"]
