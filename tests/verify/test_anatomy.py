"""A verifier that sees anatomy (issue 12, point 7), and malformed model text.

Each qualifier kind is tested in both directions: the changed qualifier raises a high
``anatomy`` flag, a faithful paraphrase of the same source raises nothing that blocks.
The statements are checked by the real verifier against a case built from the source text
(``sample_from_report``: one dictated sentence per source sentence, drafted verbatim), with
one statement replaced by the text under test, citing every dictated sentence.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest

from reportdraft.backends.interface import Backend, BackendOptions, Generation, GenerationRequest
from reportdraft.drafting import model_rewrite
from reportdraft.models import Flag, FlagKind, Severity, Template
from reportdraft.verification import extract_facts, source_texts
from tests.verify.bundles import Sample, sample_from_report
from tests.verify.conftest import run_verifier
from tests.verify.test_checks import edit

HIGH, MEDIUM = Severity.HIGH, Severity.MEDIUM
STUDY = {
    "accession_number": "ANAT-1",
    "procedure": {"system": "http://loinc.org", "code": "18748-4", "display": "Test study"},
    "modality": "MR",
    "body_part": "knee",
    "indication": "Pain.",
}


def statement_flags(
    templates: dict[str, Template], source: str, text: str, *, generator: str = "rules"
) -> list[Flag]:
    """Blocking flags on a statement ``text`` that cites every sentence of ``source``."""
    sample = sample_from_report("anatomy", source, "", templates["generic"], STUDY)
    ids = [s.id for s in sample.dictation.sentences]
    target = next(st for st in sample.draft.statements() if st.sources == [ids[0]])
    draft = edit(sample.draft, target.id, text=text, sources=ids, generator=generator)
    return [  # coverage of the cited sentences is not under test here
        f
        for f in run_verifier(sample, draft)
        if f.statement_id == target.id
        and f.severity in (HIGH, MEDIUM)
        and f.kind is not FlagKind.OMISSION
    ]


def kinds(flags: list[Flag]) -> set[FlagKind]:
    return {f.kind for f in flags}


MENISCUS = (
    "Horizontal tear of the posterior horn of the medial meniscus. The lateral meniscus is intact."
)
SPINE = (
    "L4-L5: Broad-based disc bulge with mild spinal canal stenosis. "
    "L5-S1: Left paracentral disc protrusion contacting the traversing left S1 nerve root."
)
SHIFT = "Right subdural hematoma with 6 mm leftward midline shift."
BREAST = "The breasts are heterogeneously dense. BI-RADS 2: benign."
CALL = "Findings were discussed with Dr. Ortiz at 3:15 PM."
CLOCK = "Oval mass in the right breast at 2 o'clock, 3 cm from the nipple."
FOLLOW = "Follow-up CT in 6 months is recommended."
RADIUS = "Nondisplaced fracture of the distal radius."
LOBE = "Nodule in the right upper lobe. The right lower lobe is clear."


@pytest.mark.parametrize(
    ("source", "changed"),
    [
        # side within an organ
        (MENISCUS, "Horizontal tear of the posterior horn of the lateral meniscus."),
        (MENISCUS, "Horizontal tear of the anterior horn of the medial meniscus."),
        (MENISCUS, "Lateral meniscal posterior horn tear."),
        (RADIUS, "Nondisplaced fracture of the proximal radius."),
        (LOBE, "Nodule in the right lower lobe."),
        # spinal level and nerve root
        (SPINE, "Left paracentral disc protrusion contacting the traversing left L5 nerve root."),
        (SPINE, "Left paracentral disc protrusion at L5-S1 contacting the left L5 nerve root."),
        (SPINE, "Mild spinal canal stenosis at L5-S1."),
        # direction
        (SHIFT, "Right subdural hematoma with 6 mm rightward midline shift."),
        (SHIFT, "Right subdural hematoma with 6 mm of midline shift to the right."),
        # breast density and BI-RADS category
        (BREAST, "The breasts are extremely dense."),
        (BREAST, "Breast density category B."),
        (BREAST, "The breasts are almost entirely fatty."),
        (BREAST, "BI-RADS 4: suspicious."),
        # times and clock positions
        (CALL, "Findings were discussed with Dr. Ortiz at 3:15 AM."),
        (CALL, "Findings were discussed with Dr. Ortiz at 4:15 PM."),
        (CLOCK, "Oval mass in the right breast at 10 o'clock, 3 cm from the nipple."),
        # the numbers of a recommendation interval
        (FOLLOW, "Follow-up CT in 3 months is recommended."),
        (FOLLOW, "Follow-up CT in 1 year is recommended."),
    ],
)
def test_a_changed_qualifier_is_a_high_anatomy_flag(
    templates: dict[str, Template], source: str, changed: str
) -> None:
    flags = statement_flags(templates, source, changed)
    anatomy = [f for f in flags if f.kind is FlagKind.ANATOMY]
    assert anatomy, [f"{f.kind.value}: {f.message}" for f in flags]
    assert anatomy[0].severity is HIGH
    assert anatomy[0].evidence


@pytest.mark.parametrize(
    ("source", "paraphrase"),
    [
        (MENISCUS, "Horizontal tear of the posterior horn of the medial meniscus."),
        (MENISCUS, "Medial meniscal posterior horn tear."),
        (
            MENISCUS,
            "Horizontal medial meniscus posterior horn tear; the lateral meniscus is intact.",
        ),
        (MENISCUS, "The lateral meniscus is intact."),
        (RADIUS, "Nondisplaced distal radius fracture."),
        (LOBE, "Right upper lobe nodule."),
        (SPINE, "Left paracentral L5-S1 disc protrusion contacting the left S1 nerve root."),
        (SPINE, "Mild spinal canal stenosis at L4-5."),
        (SPINE, "L4/5 broad-based disc bulge with mild spinal canal stenosis."),
        (SHIFT, "Right subdural hematoma with 6 mm of midline shift to the left."),
        (SHIFT, "6 mm leftward midline shift from a right subdural hematoma."),
        (BREAST, "The breasts are heterogeneously dense (category C)."),
        (BREAST, "BI-RADS category 2: benign."),
        (CALL, "Findings were discussed with Dr. Ortiz at 3:15 p.m."),
        (CALL, "Findings were discussed with Dr. Ortiz at 15:15."),
        (CLOCK, "Oval right breast mass at the 2:00 position, 3 cm from the nipple."),
        (FOLLOW, "Recommend follow-up CT in 6 months."),
        (FOLLOW, "A 6-month follow-up CT is recommended."),
    ],
)
def test_a_faithful_paraphrase_passes(
    templates: dict[str, Template], source: str, paraphrase: str
) -> None:
    flags = statement_flags(templates, source, paraphrase)
    assert flags == [], [f"{f.kind.value}: {f.message}" for f in flags]


def test_a_qualifier_the_sources_never_name_is_unsupported(templates: dict[str, Template]) -> None:
    flags = statement_flags(templates, "Tear of the medial meniscus.", "Posterior horn tear.")
    assert FlagKind.UNSUPPORTED in kinds(flags)
    flags = statement_flags(templates, "Follow-up CT is recommended.", "Follow-up CT in 3 months.")
    assert FlagKind.UNSUPPORTED in kinds(flags)


def test_the_right_finding_keeps_its_own_level(templates: dict[str, Template]) -> None:
    # both levels are in the sources, but the protrusion is at L5-S1, not L3-L4
    source = "L3-L4: Mild facet arthropathy. L5-S1: Left paracentral disc protrusion."
    flags = statement_flags(templates, source, "Left paracentral disc protrusion at L3-L4.")
    (flag,) = [f for f in flags if f.kind is FlagKind.ANATOMY]
    assert "L3-L4" in flag.message
    assert "L5-S1" in flag.message
    assert statement_flags(templates, source, "L5-S1 left paracentral disc protrusion.") == []


@pytest.mark.parametrize(
    "text",
    [
        'Small left pleural effusion. {"sources": ["D1"]}',
        "Small left pleural effusion.</answer>",
        "<|im_end|>Small left pleural effusion.",
        "Small left pleural effusion. Small left pleural effusion. Small left pleural effusion.",
        "Small left pleural effusion, small left pleural effusion, small left pleural effusion",
    ],
)
def test_malformed_model_text_is_rejected(templates: dict[str, Template], text: str) -> None:
    source = "Small left pleural effusion."
    flags = statement_flags(templates, source, text, generator="model")
    malformed = [f for f in flags if f.kind is FlagKind.MALFORMED_TEXT]
    assert malformed
    assert malformed[0].severity is HIGH
    # the same words from the rules drafter or the radiologist are not model output
    assert FlagKind.MALFORMED_TEXT not in kinds(statement_flags(templates, source, text))


def test_well_formed_model_text_passes(templates: dict[str, Template]) -> None:
    flags = statement_flags(
        templates, "Small left pleural effusion.", "Small left pleural effusion.", generator="model"
    )
    assert flags == []


class _Echo(Backend):
    """A model that restates each source of a piece, once or (``repeat``) three times."""

    name: ClassVar[str] = "echo"

    def __init__(self, texts: dict[str, str], repeat: bool) -> None:
        super().__init__(BackendOptions())
        self.model_id = "echo"
        self.texts, self.repeat = texts, repeat

    def generate(self, request: GenerationRequest) -> Generation:
        ids = _enum(request.json_schema)
        times = 3 if self.repeat else 1
        sentences = [{"text": " ".join([self.texts[i]] * times)[:300], "sources": [i]} for i in ids]
        return Generation(
            text=json.dumps({"sentences": sentences}),
            model="echo",
            prompt_tokens=1,
            completion_tokens=1,
            seconds=0.0,
            finish_reason="stop",
        )


def _enum(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        if "enum" in schema:
            return list(schema["enum"])
        for value in schema.values():
            if found := _enum(value):
                return found
    if isinstance(schema, list):
        for value in schema:
            if found := _enum(value):
                return found
    return []


def test_the_model_drafter_falls_back_on_repeated_sentences(samples: list[Sample]) -> None:
    s = next(x for x in samples if x.name == "mr_knee_left_tear")
    texts = source_texts(s.case, s.dictation, s.template)
    echoed = model_rewrite.draft(s.case, s.dictation, s.template, _Echo(texts, repeat=False))
    assert any(st.generator == "model" for st in echoed.statements())
    repeated = model_rewrite.draft(s.case, s.dictation, s.template, _Echo(texts, repeat=True))
    dictated = [st for st in repeated.statements() if any(x.startswith("D") for x in st.sources)]
    assert dictated
    assert all(st.generator != "model" and st.fallback for st in dictated)
    notes = [f.message for f in repeated.flags if f.kind is FlagKind.FALLBACK]
    assert any("malformed_text" in m for m in notes), notes


def test_a_clause_about_another_finding_lends_no_qualifier() -> None:
    facts = extract_facts("Right upper lobe nodule; consolidation at the lung bases.")
    consolidation = next(f for f in facts.findings if f.term == "consolidation")
    assert consolidation.facets == frozenset()
    facts = extract_facts("Medial meniscus: there is a tear of the posterior horn.")
    (tear,) = facts.findings
    assert tear.facets == {("mediolateral", "medial"), ("anteroposterior", "posterior")}
