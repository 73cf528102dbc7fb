"""Each verifier check on one planted problem: kind, severity, statement, sources, evidence."""

from __future__ import annotations

import pytest

from reportdraft.models import (
    Draft,
    DraftSection,
    Flag,
    FlagKind,
    SectionKind,
    Severity,
    Statement,
)
from tests.verify.bundles import Sample
from tests.verify.conftest import run_verifier

HIGH, MEDIUM, LOW = Severity.HIGH, Severity.MEDIUM, Severity.LOW


def sample(samples: list[Sample], name: str) -> Sample:
    return next(s for s in samples if s.name == name)


def edit(draft: Draft, statement_id: str, **changes: object) -> Draft:
    sections = [
        DraftSection(
            kind=sec.kind,
            statements=[
                st.model_copy(update=changes) if st.id == statement_id else st
                for st in sec.statements
            ],
        )
        for sec in draft.sections
    ]
    return draft.model_copy(update={"sections": sections})


def drop(draft: Draft, statement_id: str) -> Draft:
    sections = [
        DraftSection(
            kind=sec.kind, statements=[st for st in sec.statements if st.id != statement_id]
        )
        for sec in draft.sections
    ]
    return draft.model_copy(update={"sections": sections})


def add(draft: Draft, kind: SectionKind, statement: Statement) -> Draft:
    sections = [
        DraftSection(
            kind=sec.kind, statements=[*sec.statements, *([statement] if sec.kind is kind else [])]
        )
        for sec in draft.sections
    ]
    return draft.model_copy(update={"sections": sections})


def find(draft: Draft, text_start: str) -> Statement:
    return next(st for st in draft.statements() if st.text.startswith(text_start))


def blocking(flags: list[Flag]) -> list[Flag]:
    return [f for f in flags if f.severity in (HIGH, MEDIUM)]


def only(flags: list[Flag], kind: FlagKind) -> Flag:
    matching = [f for f in blocking(flags) if f.kind is kind]
    assert matching, [f"{f.kind.value}: {f.message}" for f in flags]
    return matching[0]


def test_clean_drafts_have_no_blocking_flags(samples: list[Sample]) -> None:
    assert len(samples) >= 20
    for s in samples:
        assert blocking(run_verifier(s)) == [], s.name


def test_flags_are_numbered_and_carry_evidence(samples: list[Sample]) -> None:
    s = sample(samples, "xr_chest_effusion")
    st = find(s.draft, "There is a small left pleural effusion")
    flags = run_verifier(s, edit(s.draft, st.id, text=st.text.replace("left", "right")))
    assert [f.id for f in flags] == [f"F{i}" for i in range(1, len(flags) + 1)]
    flag = only(flags, FlagKind.LATERALITY)
    assert flag.severity is HIGH
    assert flag.statement_id == st.id
    assert set(flag.sources) <= {"D1", "A1"}
    assert flag.sources
    assert any("small right pleural effusion" in e for e in flag.evidence)


def test_laterality_against_the_ordered_side(samples: list[Sample]) -> None:
    s = sample(samples, "mr_knee_left_tear")
    st = find(s.draft, "Small joint effusion.")
    flags = run_verifier(s, edit(s.draft, st.id, text="Small right joint effusion."))
    messages = [f.message for f in flags if f.kind is FlagKind.LATERALITY]
    assert any("ordered for the left side" in m for m in messages)
    # a normal contralateral structure is routine, not a wrong side
    st = find(s.draft, "The lateral meniscus is intact.")
    flags = run_verifier(s, edit(s.draft, st.id, text="The right lateral meniscus is intact."))
    assert not any("ordered for" in f.message for f in flags)


@pytest.mark.parametrize(
    ("old", "new", "detail"),
    [
        ("9 mm", "19 mm", "differs"),
        ("9 mm", "9 cm", "unit differs"),
    ],
)
def test_measurement_value_and_unit_slip(
    samples: list[Sample], old: str, new: str, detail: str
) -> None:
    s = sample(samples, "ct_head_subdural")
    st = find(s.draft, "Acute left frontoparietal subdural hematoma measuring")
    flag = only(
        run_verifier(s, edit(s.draft, st.id, text=st.text.replace(old, new))), FlagKind.MEASUREMENT
    )
    assert detail in flag.message
    assert flag.statement_id == st.id


def test_equivalent_units_are_not_flagged(samples: list[Sample]) -> None:
    s = sample(samples, "ct_abdomen_diverticulitis")
    st = find(s.draft, "There is a 2.6 x 1.9 cm")
    text = st.text.replace("2.6 x 1.9 cm", "26 x 19 mm")
    assert blocking(run_verifier(s, edit(s.draft, st.id, text=text))) == []


@pytest.mark.parametrize(
    ("start", "old", "new"),
    [
        ("No left pneumothorax.", "No left pneumothorax.", "Left pneumothorax."),
        (
            "Moderate right pneumothorax",
            "Moderate right pneumothorax with",
            "No moderate right pneumothorax with",
        ),
    ],
)
def test_negation_flips(samples: list[Sample], start: str, old: str, new: str) -> None:
    s = sample(samples, "xr_chest_pneumothorax")
    st = find(s.draft, start)
    flag = only(
        run_verifier(s, edit(s.draft, st.id, text=st.text.replace(old, new))), FlagKind.NEGATION
    )
    assert flag.statement_id == st.id
    assert flag.severity is HIGH


def test_unsupported_finding_number_organ_and_qualifier(samples: list[Sample]) -> None:
    s = sample(samples, "xr_chest_normal")
    st = find(s.draft, "The lungs are clear.")
    cases = {
        "The lungs are clear. Small right pleural effusion.": "'pleural effusion' is not in",
        "The lungs are clear on 3 views.": "number 3",
        "The lungs and the liver are clear.": "anatomy not in its sources: liver",
        "The lungs are chronically clear.": "qualifier(s) not in its sources: chronic",
    }
    for text, expected in cases.items():
        flags = run_verifier(s, edit(s.draft, st.id, text=text))
        flag = only(flags, FlagKind.UNSUPPORTED)
        assert expected in flag.message, (text, flag.message)


def test_citations_that_do_not_exist_or_are_undecided(samples: list[Sample]) -> None:
    s = sample(samples, "xr_chest_normal")
    st = find(s.draft, "The lungs are clear.")
    flag = only(run_verifier(s, edit(s.draft, st.id, sources=["D1", "D9"])), FlagKind.UNSUPPORTED)
    assert "D9" in flag.message
    assert flag.sources == ["D9"]
    s = sample(samples, "ct_abdomen_diverticulitis")  # A1 is pending
    st = find(s.draft, "A 1.2 cm simple cyst")
    flags = run_verifier(s, edit(s.draft, st.id, sources=["D4", "A1"]))
    pending = [f for f in flags if "not confirmed" in f.message]
    assert pending
    assert pending[0].severity is MEDIUM


def test_rejected_ai_finding_by_citation_and_by_content(samples: list[Sample]) -> None:
    s = sample(samples, "ct_chest_nodule")  # A2: rejected 3 mm nodule, left lower lobe
    anchor = find(s.draft, "Mild centrilobular emphysema.")
    cited = Statement(
        id="S99",
        subsection="lungs",
        text="Nodule in the left lower lobe.",
        sources=["A2"],
        generator="model",
    )
    flag = only(
        run_verifier(s, add(s.draft, SectionKind.FINDINGS, cited)), FlagKind.REJECTED_AI_FINDING
    )
    assert flag.statement_id == "S99"
    assert "A2" in flag.sources
    hidden = edit(
        s.draft, anchor.id, text="Mild centrilobular emphysema. 3 mm nodule in the left lower lobe."
    )
    flag = only(run_verifier(s, hidden), FlagKind.REJECTED_AI_FINDING)
    assert flag.statement_id == anchor.id
    assert "A2" in flag.sources


def test_radiologist_statements_are_not_held_to_the_sources(samples: list[Sample]) -> None:
    s = sample(samples, "xr_chest_normal")
    st = find(s.draft, "The lungs are clear.")
    text = "The lungs are clear. Old granulomatous disease."
    flags = run_verifier(s, edit(s.draft, st.id, text=text, generator="radiologist"))
    unsupported = [f for f in flags if f.kind is FlagKind.UNSUPPORTED]
    assert unsupported
    assert all(f.severity is LOW for f in unsupported)


def test_omissions(samples: list[Sample]) -> None:
    s = sample(samples, "ct_head_hemorrhage")
    # an uncited dictated sentence
    st = find(s.draft, "No hydrocephalus.")
    flag = only(run_verifier(s, drop(s.draft, st.id)), FlagKind.OMISSION)
    assert flag.statement_id is None
    assert flag.sources == ["D4"]
    # cited, but its measurement left out of the citing statement
    st = find(s.draft, "There is 4 mm of rightward")
    flags = run_verifier(s, edit(s.draft, st.id, text="There is rightward midline shift."))
    assert any(f.kind is FlagKind.OMISSION and "4 mm" in f.message for f in flags)
    # a confirmed AI finding no Findings statement covers
    st = find(s.draft, "Acute intraparenchymal hemorrhage")
    flags = run_verifier(s, edit(s.draft, st.id, sources=["D1"]))
    assert any(f.kind is FlagKind.OMISSION and "A1" in f.sources for f in flags)


def test_dictated_boilerplate_is_only_a_low_note(samples: list[Sample]) -> None:
    s = sample(samples, "xr_chest_normal")
    dictation = s.dictation.model_copy(
        update={
            "sentences": [
                *s.dictation.sentences,
                s.dictation.sentences[0].model_copy(update={"id": "D4", "text": "Thank you."}),
            ]
        }
    )
    flags = run_verifier(Sample(s.name, s.case, dictation, s.template, s.draft))
    assert [(f.kind, f.severity) for f in flags] == [(FlagKind.OMISSION, LOW)]


def test_impression_consistency(samples: list[Sample]) -> None:
    s = sample(samples, "xr_chest_pneumothorax")
    impression = s.draft.section(SectionKind.IMPRESSION)[0]
    # a significant finding missing from the impression
    flags = run_verifier(
        s,
        edit(
            s.draft,
            impression.id,
            text="No acute cardiopulmonary abnormality.",
            sources=["T:impression"],
        ),
    )
    flag = only(flags, FlagKind.IMPRESSION_CONSISTENCY)
    assert flag.severity is MEDIUM
    assert "pneumothorax" in flag.message
    # an impression item that nothing in Findings or the case supports
    invented = Statement(id="S99", text="Right lower lobe pneumonia.", sources=["D6"])
    flags = run_verifier(s, add(s.draft, SectionKind.IMPRESSION, invented))
    assert any(f.kind is FlagKind.IMPRESSION_CONSISTENCY and f.statement_id == "S99" for f in flags)


def test_impression_contradicting_findings(samples: list[Sample]) -> None:
    s = sample(samples, "xr_chest_normal")
    impression = s.draft.section(SectionKind.IMPRESSION)[0]
    flags = run_verifier(
        s, edit(s.draft, impression.id, text="Pneumothorax.", sources=["T:impression"])
    )
    assert any(f.kind is FlagKind.IMPRESSION_CONSISTENCY and "opposite" in f.message for f in flags)


def test_missing_template_subsection_is_low(samples: list[Sample]) -> None:
    s = sample(samples, "xr_chest_normal")
    st = find(s.draft, "No acute osseous abnormality.")
    flags = run_verifier(s, drop(s.draft, st.id))
    assert [(f.kind, f.severity) for f in flags] == [(FlagKind.OMISSION, LOW)]
