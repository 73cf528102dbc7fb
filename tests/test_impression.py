"""The Impression the rules drafter writes, tested against what a radiologist expects.

- A critical finding leads, then the actionable findings, then the chronic ones; incidental,
  old and stable findings are not repeated.
- A finding dictated twice ("small left effusion" in two sentences) is one impression line
  citing both sentences.
- A normal study keeps the template's normal impression ("No acute cardiopulmonary
  abnormality."), cited ``T:impression``; a study with only chronic findings opens with it
  where the line says "no acute ..." and denies none of the case's findings.
- A dictated impression is the radiologist's: kept word for word, never gaining a chronic
  or incidental finding they left out.
- Every statement cites its sources and the verifier raises nothing against the impression.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.critical import most_urgent_category
from reportdraft.drafting.impression import (
    ImpressionRules,
    Significance,
    condense,
    impression_rules,
    plan_impression,
    significance,
    validate_rules,
)
from reportdraft.errors import ConfigurationError
from reportdraft.io import load_case
from reportdraft.models import Case, Draft, FlagKind, SectionKind, Severity, Statement
from reportdraft.resources import data_dir
from reportdraft.templates import default_library
from reportdraft.verification import extract_facts
from tests.factories import case_dict

NORMAL = "No acute cardiopulmonary abnormality."
"""The normal impression of the two-view chest template the factory case selects."""

EXAMPLES = sorted(data_dir("examples").glob("*.json"))
IMPRESSION_FLAGS = {FlagKind.IMPRESSION_CONSISTENCY, FlagKind.UNSUPPORTED}


def _draft(dictation: str) -> Draft:
    data = case_dict()
    data["dictation"] = dictation
    backend = create_backend("rules", BackendOptions())
    return drafting.draft_case(Case.model_validate(data), backend).draft


def _draft_on(template_id: str, dictation: str) -> Draft:
    template = default_library().get(template_id)
    code = template.procedure_codes[0]
    data = case_dict(
        procedure={"system": code.system, "code": code.code, "display": code.display},
        modality=template.modality,
    )
    data["dictation"] = dictation
    draft = drafting.draft_case(
        Case.model_validate(data), create_backend("rules", BackendOptions())
    ).draft
    assert draft.template_id == template_id
    return draft


def _impression(draft: Draft) -> list[Statement]:
    return draft.section(SectionKind.IMPRESSION)


def _texts(draft: Draft) -> list[str]:
    return [st.text for st in _impression(draft)]


def _impression_problems(draft: Draft) -> list[str]:
    """Verifier flags of medium or high severity about an impression statement."""
    ids = {st.id for st in _impression(draft)}
    return [
        f.message
        for f in draft.flags
        if f.kind in IMPRESSION_FLAGS
        and f.severity in (Severity.MEDIUM, Severity.HIGH)
        and (f.statement_id in ids or f.kind is FlagKind.IMPRESSION_CONSISTENCY)
    ]


def _dictation_id(draft: Draft, words: str) -> str:
    st = next(s for s in draft.section(SectionKind.FINDINGS) if words in s.text.lower())
    return next(src for src in st.sources if src.startswith("D"))


# --- order of significance --------------------------------------------------------------


def test_critical_finding_leads_then_actionable_then_chronic() -> None:
    draft = _draft(
        "Stable mild cardiomegaly. Small left pleural effusion. Large right pneumothorax. "
        "Calcified granuloma in the right upper lobe."
    )
    texts = _texts(draft)
    assert len(texts) == 3, texts
    assert "pneumothorax" in texts[0].lower()
    assert "effusion" in texts[1].lower()
    assert "cardiomegaly" in texts[2].lower()
    assert not any("granuloma" in t.lower() for t in texts)
    assert NORMAL not in texts  # an acute finding: no "no acute" line
    assert _impression_problems(draft) == []


def test_critical_class_comes_from_the_critical_package() -> None:
    # whatever the words, an alerting critical finding (ACR category) is critical
    assert significance("Scattered granulomas.", category=1) is Significance.CRITICAL
    text = "Small right apical pneumothorax."
    assert significance(text, most_urgent_category(text)) is Significance.CRITICAL
    assert significance("Small left pleural effusion.", None) is Significance.ACTIONABLE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Right lower lobe consolidation.", Significance.ACTIONABLE),
        ("Patchy left basilar opacity may represent atelectasis.", Significance.ACTIONABLE),
        ("There is a 6 mm nodule in the right upper lobe.", Significance.ACTIONABLE),
        ("Mild pulmonary edema.", Significance.ACTIONABLE),
        ("Stable cardiomegaly.", Significance.CHRONIC),
        ("The heart is mildly enlarged.", Significance.CHRONIC),
        ("Emphysema.", Significance.CHRONIC),
        ("Small hiatal hernia.", Significance.CHRONIC),
        ("Low lung volumes with bibasilar subsegmental atelectasis.", Significance.CHRONIC),
        ("Calcified granuloma in the right upper lobe.", None),
        ("Mild degenerative change of the thoracic spine.", None),
        ("Healed left rib fracture.", None),
        ("Old compression deformity of T12.", None),
        # "prior" is about the comparison here: the finding is new, or of unknown age
        (
            "New compression deformity of T9, not present on the prior study.",
            Significance.ACTIONABLE,
        ),
        (
            "Wedge compression deformity of T12, age indeterminate, no prior.",
            Significance.ACTIONABLE,
        ),
        # named in 6 % of the Open-i training impressions of reports stating it
        ("Mild dextroscoliosis of the thoracic spine.", None),
        ("Hilar calcifications suggest a previous granulomatous process.", None),
        ("Hyperexpanded lungs consistent with obstructive lung disease.", Significance.CHRONIC),
        ("Stable small left pleural effusion.", None),
        # stated last, not dropped: the file's incidental list is chest-only knowledge
        ("The lungs are mildly hyperinflated.", Significance.CHRONIC),
        ("There are no nodules or masses.", None),
        ("The lungs are clear.", None),
        ("No pleural effusion or pneumothorax.", None),
        ("Heart size is normal.", None),
    ],
)
def test_significance_of_findings_sentences(text: str, expected: Significance | None) -> None:
    assert significance(text) is expected


# --- duplicates -------------------------------------------------------------------------


def test_a_finding_dictated_twice_is_one_line_citing_both() -> None:
    draft = _draft(
        "Small left pleural effusion. The heart is normal in size. "
        "Blunting of the left costophrenic angle from a small left effusion."
    )
    impression = _impression(draft)
    assert len(impression) == 1, _texts(draft)
    assert "effusion" in impression[0].text.lower()
    first = _dictation_id(draft, "small left pleural effusion")
    second = _dictation_id(draft, "blunting")
    assert first != second
    assert {first, second} <= set(impression[0].sources)
    assert _impression_problems(draft) == []


def test_findings_on_opposite_sides_are_not_merged() -> None:
    draft = _draft("Small left pleural effusion. Small right pleural effusion.")
    assert len(_impression(draft)) == 2


# --- normal studies ---------------------------------------------------------------------


def test_normal_study_keeps_the_normal_impression_cited_to_the_template() -> None:
    draft = _draft(
        "The heart is normal in size. The lungs are clear. No pleural effusion or "
        "pneumothorax. No acute osseous abnormality."
    )
    assert [(st.text, st.sources) for st in _impression(draft)] == [(NORMAL, ["T:impression"])]


def test_a_normal_impression_beside_unclassified_findings_is_flagged_low() -> None:
    """Words the vocabularies do not know may be an abnormality (a deep sulcus sign is a
    pneumothorax on a supine film): the normal impression stays, flagged for a check."""
    draft = _draft(
        "Deep sulcus sign on the left in this supine patient, with hyperlucency at the left "
        "costophrenic angle. The lungs are otherwise clear."
    )
    assert _texts(draft) == [NORMAL]
    (flag,) = [
        f
        for f in draft.flags
        if f.kind is FlagKind.IMPRESSION_CONSISTENCY and f.severity is Severity.LOW
    ]
    assert "Deep sulcus sign" in flag.message
    assert flag.statement_id == _impression(draft)[0].id
    quiet = _draft(
        "Low lung volumes. The patient is slightly rotated. The lungs are clear. "
        "No pneumothorax. The XXXX are intact."
    )
    assert not [f for f in quiet.flags if f.kind is FlagKind.IMPRESSION_CONSISTENCY]


def test_incidental_and_old_findings_alone_give_the_normal_impression() -> None:
    draft = _draft(
        "Calcified granuloma in the left upper lobe. Degenerative changes of the spine. "
        "Healed right rib fractures. No pneumothorax."
    )
    assert [(st.text, st.sources) for st in _impression(draft)] == [(NORMAL, ["T:impression"])]


def test_findings_outside_the_heart_and_lungs_keep_the_no_acute_cardiopulmonary_line() -> None:
    """ "No acute cardiopulmonary abnormality." says nothing of the ribs, the spine or the
    chest wall: findings there that earn no line leave it standing, unflagged."""
    draft = _draft(
        "The lungs are clear. Old healed left rib fractures. Radiopaque foreign body in the "
        "soft tissues of the left chest wall. Mild dextroscoliosis of the thoracic spine."
    )
    assert [(st.text, st.sources) for st in _impression(draft)] == [(NORMAL, ["T:impression"])]
    assert not [f for f in draft.flags if f.kind is FlagKind.DEFAULT_CONFLICT]


def test_chronic_findings_alone_open_with_the_no_acute_line() -> None:
    """ "No acute cardiopulmonary abnormality. Stable cardiomegaly." is how radiologists
    write it, and the verifier does not read the line as denying a chronic finding."""
    draft = _draft("Stable cardiomegaly. The lungs are clear. No pleural effusion.")
    impression = _impression(draft)
    assert [st.text for st in impression] == [NORMAL, "Stable cardiomegaly."]
    assert impression[0].sources == ["T:impression"]
    assert impression[1].sources == [_dictation_id(draft, "cardiomegaly")]
    assert _impression_problems(draft) == []
    assert not [f for f in draft.flags if f.kind is FlagKind.DEFAULT_CONFLICT]


def test_a_normal_line_that_denies_a_finding_is_not_written() -> None:
    """Gallstones are stated last on an abdominal CT, and "No acute abnormality in the
    abdomen or pelvis." would deny them (verify's default_conflict): the line goes."""
    draft = _draft_on("ct_abd_pelvis_w", "Cholelithiasis. Small hiatal hernia.")
    texts = _texts(draft)
    assert "No acute abnormality in the abdomen or pelvis." not in texts
    assert texts == ["Cholelithiasis.", "Small hiatal hernia."]
    assert not [f for f in draft.flags if f.kind is FlagKind.DEFAULT_CONFLICT]


def test_a_hiatal_hernia_alone_keeps_the_no_acute_line() -> None:
    draft = _draft_on("ct_abd_pelvis_w", "Small hiatal hernia.")
    assert _texts(draft) == [
        "No acute abnormality in the abdomen or pelvis.",
        "Small hiatal hernia.",
    ]
    assert not [f for f in draft.flags if f.kind is FlagKind.DEFAULT_CONFLICT]


@pytest.mark.parametrize(
    ("default", "opens"),
    [
        ("No acute cardiopulmonary abnormality.", True),
        ("No acute intracranial abnormality. No abnormal enhancement.", False),
        ("Normal ultrasound of the abdomen.", False),
        ("No pulmonary embolism. No acute cardiopulmonary abnormality.", False),
    ],
)
def test_only_a_no_acute_line_opens_a_list_of_chronic_findings(default: str, opens: bool) -> None:
    template = (
        default_library().get("xr_chest_2v").model_copy(update={"impression_default": default})
    )
    chronic = [Statement(id="S9", subsection="heart", text="Emphysema.", sources=["D1"])]
    texts = [item.text for item in plan_impression(template, [], chronic)]
    assert texts == ([default, "Emphysema."] if opens else ["Emphysema."])


def test_chest_incidental_findings_are_chest_radiograph_knowledge() -> None:
    """The incidental list was measured on chest radiographs: there it earns no line,
    elsewhere it is of no class (gallstones or fat stranding are the finding of an
    abdominal study)."""
    chest = "xr_chest_2v"
    assert significance("The lungs are mildly hyperinflated.", template_id=chest) is None
    assert significance("Calcified nodule in the left upper lobe.", template_id=chest) is None
    assert significance("Cholelithiasis.", template_id=chest) is None
    abdomen = "ct_abd_pelvis_w"
    assert significance("Cholelithiasis.", template_id=abdomen) is Significance.ACTIONABLE
    fat_stranding = "The appendix is dilated to 12 mm with periappendiceal fat stranding."
    assert significance(fat_stranding, template_id=abdomen) is Significance.ACTIONABLE
    # of no class, but chronic or benign by nature in the verifier's hierarchy: stated last
    assert significance("Small hepatic cyst.", template_id=abdomen) is Significance.CHRONIC
    assert significance("Biapical pleural thickening.", template_id=chest) is (Significance.CHRONIC)
    assert significance("A 6 mm nodule in the right upper lobe.", template_id=chest) is (
        Significance.ACTIONABLE
    )
    # dilation there was aortic ectasia; dilated small bowel may be an obstruction
    assert significance("Mild aortic ectasia.", template_id=chest) is None
    bowel = "Dilated gas-filled loops of small bowel in the left upper abdomen, up to 3.8 cm."
    assert significance(bowel, template_id=chest) is Significance.ACTIONABLE


# --- a dictated impression --------------------------------------------------------------


def test_dictated_impression_is_kept_and_gains_nothing() -> None:
    draft = _draft(
        "Findings: Small right pleural effusion. Mild cardiomegaly. Calcified granuloma in "
        "the left upper lobe. Degenerative changes of the thoracic spine. Emphysema. "
        "Impression: Small right pleural effusion."
    )
    impression = _impression(draft)
    assert [st.text for st in impression] == ["Small right pleural effusion."]
    assert len(impression[0].sources) == 1
    assert impression[0].sources[0].startswith("D")
    said = " ".join(st.text.lower() for st in impression)
    for chronic in ("cardiomegaly", "granuloma", "degenerative", "emphysema"):
        assert chronic not in said


def test_dictated_impression_keeps_its_order_and_wording() -> None:
    draft = _draft(
        "Small left pleural effusion. Large right pneumothorax. "
        "Impression: 1. There is a small left pleural effusion. 2. Large right pneumothorax."
    )
    texts = _texts(draft)
    assert "effusion" in texts[0].lower()
    assert "pneumothorax" in texts[1].lower()
    assert texts[0].startswith("There is a small left pleural effusion")


# --- condensing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "condensed"),
    [
        (
            "Heart size is enlarged, pulmonary vascularity within normal limits.",
            "Heart size is enlarged.",
        ),
        (
            "There is a small left pleural effusion, no pneumothorax.",
            "Small left pleural effusion.",
        ),
        ("There are small bilateral pleural effusions.", "Small bilateral pleural effusions."),
        ("Right lower lobe consolidation.", "Right lower lobe consolidation."),
    ],
)
def test_condense_drops_normal_parts_and_lead_words(text: str, condensed: str) -> None:
    assert condense(text) == condensed


@pytest.mark.parametrize(
    "text",
    [
        "In the left lower lobe, there is patchy opacity.",
        "No pneumothorax, effusion, or consolidation.",
        "Opacity in the right base, which may represent atelectasis or pneumonia.",
        "There is no pneumothorax, but there is a small left effusion.",
        "Left basilar opacity, stable, no effusion.",
    ],
)
def test_condense_never_changes_the_findings(text: str) -> None:
    def said(t: str) -> set[tuple[str, bool, object]]:
        return {(f.term, f.asserted, f.laterality) for f in extract_facts(t).findings if f.asserted}

    assert said(condense(text)) == said(text)


# --- invariants on the bundled examples --------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_impressions_cite_sources_and_pass_the_verifier(path: Path) -> None:
    case = load_case(path)
    result = drafting.draft_case(case, create_backend("rules", BackendOptions()))
    impression = _impression(result.draft)
    assert impression
    assert all(st.sources for st in result.draft.statements())
    assert _impression_problems(result.draft) == []
    critical_gaps = [f for f in result.draft.flags if f.kind is FlagKind.CRITICAL_NOT_IN_IMPRESSION]
    assert critical_gaps == []


# --- the rules file ---------------------------------------------------------------------


def test_rules_file_loads_and_names_known_concepts() -> None:
    rules = impression_rules().rules
    assert rules.actionable
    assert rules.chronic
    assert rules.incidental
    validate_rules(rules)


def test_rules_reject_unknown_or_conflicting_concepts() -> None:
    rules = impression_rules().rules
    with pytest.raises(ConfigurationError, match="unknown finding ids"):
        validate_rules(
            ImpressionRules.model_validate(
                rules.model_dump() | {"chronic": [*rules.chronic, "cardiomegally"]}
            )
        )
    with pytest.raises(ConfigurationError, match="two classes"):
        validate_rules(
            ImpressionRules.model_validate(
                rules.model_dump() | {"incidental": {"templates": [], "concepts": ["cardiomegaly"]}}
            )
        )
    with pytest.raises(ConfigurationError, match="unknown places"):
        validate_rules(
            ImpressionRules.model_validate(
                rules.model_dump()
                | {
                    "incidental": rules.incidental.model_dump()
                    | {"unless_within": {"dilation": ["bowels"]}}
                }
            )
        )
    with pytest.raises(ConfigurationError, match="significant"):
        validate_rules(
            ImpressionRules.model_validate(
                rules.model_dump()
                | {"incidental": {"templates": [], "concepts": ["hydrocephalus"]}}
            )
        )
