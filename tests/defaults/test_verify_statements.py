"""``verify`` on drafts that a person or a model changed: a statement that denies what a
source asserts is flagged, whoever wrote it (issue 12, point 1, "add the same check to
verify")."""

from __future__ import annotations

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.models import (
    Draft,
    DraftSection,
    Flag,
    FlagKind,
    SectionKind,
    Severity,
    Statement,
)
from reportdraft.verification import verify
from tests.defaults.helpers import DefaultCase, build, draft


def _with(result: Draft, statement: Statement, kind: SectionKind = SectionKind.FINDINGS) -> Draft:
    sections = [
        DraftSection(
            kind=sec.kind,
            statements=[*sec.statements, *([statement] if sec.kind is kind else [])],
        )
        for sec in result.sections
    ]
    return result.model_copy(update={"sections": sections})


def _replaced(result: Draft, statement_id: str, text: str) -> Draft:
    sections = [
        DraftSection(
            kind=sec.kind,
            statements=[
                st.model_copy(update={"text": text}) if st.id == statement_id else st
                for st in sec.statements
            ],
        )
        for sec in result.sections
    ]
    return result.model_copy(update={"sections": sections})


def _high(flags: list[Flag], kind: FlagKind) -> list[Flag]:
    return [f for f in flags if f.kind is kind and f.severity is Severity.HIGH]


SDH = DefaultCase(
    id="sdh",
    template="ct_head_wo",
    dictation="Acute left subdural hematoma along the convexity. The ventricles are normal.",
)


def test_a_radiologist_edit_that_denies_the_dictation_is_high() -> None:
    case, dictation, template, result = draft(SDH)
    edited = _with(
        result,
        Statement(
            id="S99",
            subsection="brain",
            text="No acute intracranial hemorrhage.",
            sources=["R:radiologist"],
            generator="radiologist",
        ),
    )
    flags = _high(verify(edited, case, dictation, template), FlagKind.NEGATION)
    assert [f.statement_id for f in flags] == ["S99"]
    assert "D1" in flags[0].sources
    assert "D1 asserts" in flags[0].message


def test_a_model_statement_that_denies_another_source_is_high() -> None:
    case, dictation, template, result = draft(SDH)
    ventricles = next(st for st in result.statements() if st.sources == ["D2"])
    edited = _replaced(
        result, ventricles.id, "The ventricles are normal. No extra-axial collection."
    )
    flags = _high(verify(edited, case, dictation, template), FlagKind.NEGATION)
    ours = [f for f in flags if "D1 asserts" in f.message]  # the others: its own source
    assert [f.statement_id for f in ours] == [ventricles.id]
    assert ours[0].sources == ["D2", "D1"]


def test_a_restored_template_default_is_a_high_default_conflict() -> None:
    case, dictation, template, result = draft(SDH)
    brain = next(st for st in result.statements() if st.sources == ["T:brain"])
    sub = template.subsection("brain")
    assert sub is not None
    restored = _replaced(result, brain.id, sub.default)
    flags = verify(restored, case, dictation, template)
    high = _high(flags, FlagKind.DEFAULT_CONFLICT)
    assert [f.statement_id for f in high] == [brain.id]
    assert "intracranial hemorrhage" in high[0].message
    # the low "dropped" note describes the drafter's text, which is no longer there
    assert not [
        f for f in flags if f.kind is FlagKind.DEFAULT_CONFLICT and f.severity is Severity.LOW
    ]


def test_a_faithful_statement_of_a_contradictory_dictation_is_medium_not_high() -> None:
    spec = DefaultCase(
        id="ptx",
        template="xr_chest_2v",
        dictation="No pneumothorax. Small left apical pneumothorax.",
    )
    case, dictation, template, result = draft(spec)
    flags = verify(result, case, dictation, template)
    assert not _high(flags, FlagKind.NEGATION)
    internal = [f for f in flags if f.kind is FlagKind.INTERNAL_CONTRADICTION]
    assert len(internal) == 1
    assert internal[0].severity is Severity.MEDIUM
    assert internal[0].sources == ["D1", "D2"]
    assert internal[0].statement_id is not None


def test_consistent_statements_are_not_flagged() -> None:
    spec = DefaultCase(
        id="ich",
        template="ct_head_wo",
        dictation=(
            "Acute right parietal intraparenchymal hemorrhage with 3 mm leftward midline shift. "
            "No intraventricular extension. No extra-axial collection. The calvarium is intact."
        ),
    )
    case, dictation, template, result = draft(spec)
    flags = verify(result, case, dictation, template)
    ours = (FlagKind.DEFAULT_CONFLICT, FlagKind.INTERNAL_CONTRADICTION)
    assert not [f for f in flags if f.kind in ours or _high([f], FlagKind.NEGATION)]


def test_the_pipeline_puts_the_flags_on_the_draft() -> None:
    """The low flag reaches the draft the CLI and API return (drafting.annotate recomputes
    flags with ``verify``)."""
    spec = DefaultCase(
        id="sah",
        template="ct_head_wo",
        dictation="Acute subarachnoid hemorrhage in the sylvian fissures.",
    )
    case, _, _ = build(spec)
    rules = create_backend("rules", BackendOptions())
    annotated = drafting.draft_case(case, rules).draft
    conflicts = [f for f in annotated.flags if f.kind is FlagKind.DEFAULT_CONFLICT]
    assert len(conflicts) == 1
    assert conflicts[0].severity is Severity.LOW
    assert conflicts[0].sources == ["T:brain", "D1"]
    brain = annotated.statement(conflicts[0].statement_id or "")
    assert brain is not None
    assert "intracranial hemorrhage" not in brain.text
