"""Template defaults against the case, end to end through the rules drafter and ``verify``.

The cases (``cases.yaml``) are written from the clinical description: which default clause a
dictated finding contradicts, and which defaults must stay. Measured on the base commit
before this check existed: 43 of the 43 cases that expect a dropped clause produced a draft
that contradicted its own dictation, with no flag.
"""

from __future__ import annotations

import pytest

from reportdraft.models import FlagKind, SectionKind, Severity
from reportdraft.verification import verify
from tests.defaults.helpers import DefaultCase, contradictions, default_texts, draft, load_cases

CASES = load_cases()


@pytest.mark.parametrize("spec", CASES, ids=lambda c: c.id)
def test_defaults_never_deny_what_the_case_asserts(spec: DefaultCase) -> None:
    _, _, template, result = draft(spec)
    assert contradictions(spec, result) == []
    texts = [t.lower() for t in default_texts(result)]
    for kept in spec.kept:
        assert any(kept.lower() in t for t in texts), (kept, texts)
    defaults = {
        st.subsection: st.text
        for st in result.section(SectionKind.FINDINGS)
        if st.sources == [f"T:{st.subsection}"]
    }
    for key in spec.kept_whole:
        sub = template.subsection(key)
        assert sub is not None
        assert defaults.get(key) == sub.default, key


@pytest.mark.parametrize("spec", CASES, ids=lambda c: c.id)
def test_dropped_clauses_and_contradictions_are_flagged(spec: DefaultCase) -> None:
    case, dictation, _, result = draft(spec)
    conflicts = [f for f in result.flags if f.kind is FlagKind.DEFAULT_CONFLICT]
    assert bool(conflicts) is spec.expects_conflict, [f.message for f in conflicts]
    assert all(f.severity is Severity.LOW for f in conflicts)
    for flag in conflicts:
        default, source = flag.sources
        assert default.startswith("T:")
        assert source in {s.id for s in dictation.sentences} | {a.id for a in case.ai_findings}
    internal = [f for f in result.flags if f.kind is FlagKind.INTERNAL_CONTRADICTION]
    if spec.internal is not None:
        assert bool(internal) is spec.internal, [f.message for f in internal]
    assert all(f.severity is Severity.MEDIUM for f in internal)


@pytest.mark.parametrize("spec", CASES, ids=lambda c: c.id)
def test_verify_recomputes_the_drafters_flags(spec: DefaultCase) -> None:
    """``verify`` (which the pipeline runs on every draft) says what the drafter said, and
    finds nothing that contradicts the case in the rules draft."""
    case, dictation, template, result = draft(spec)
    flags = verify(result, case, dictation, template)
    ours = (FlagKind.DEFAULT_CONFLICT, FlagKind.INTERNAL_CONTRADICTION)
    found = sorted((f.kind, f.severity, f.message) for f in flags if f.kind in ours)
    said = sorted((f.kind, f.severity, f.message) for f in result.flags)
    assert found == said
    assert not [f for f in flags if f.kind is FlagKind.NEGATION and "asserts" in f.message]


def test_the_issue_examples() -> None:
    """The issue's own examples, text for text."""
    by_id = {c.id: c for c in CASES}
    _, _, _, sah = draft(by_id["ct_head_sah"])
    brain = next(st for st in sah.section(SectionKind.FINDINGS) if st.sources == ["T:brain"])
    assert brain.text.startswith("No mass effect or midline shift. ")
    message = next(f.message for f in sah.flags if f.kind is FlagKind.DEFAULT_CONFLICT)
    assert "acute intracranial hemorrhage" in message
    assert "D1" in message
    _, _, _, spleen = draft(by_id["ct_abd_splenic_laceration"])
    peritoneum = next(st for st in spleen.statements() if st.sources == ["T:peritoneum"])
    assert peritoneum.text == "No free air or abscess."
    _, _, _, knee = draft(by_id["mr_knee_acl_tear_routed_to_bones"])
    assert all(st.subsection != "acl" for st in knee.statements())
    assert any(st.text == "The posterior cruciate ligament is intact." for st in knee.statements())
