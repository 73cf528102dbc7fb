"""Clause boundaries and organ context: the rules as plain Python (no spaCy), then through
the detector with a study context and on drafts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reportdraft.critical import Detector, active_detector, detect_text
from reportdraft.critical.clauses import ClauseSplitter, Token, crosses
from reportdraft.critical.context_rules import default_rules
from reportdraft.critical.finding_lexicon import default_lexicon, load_lexicon
from reportdraft.critical.organs import OrganMatcher, Placement
from reportdraft.errors import ConfigurationError
from reportdraft.models.critical import StudyScope
from tests.critical.critical_factories import make_draft

SPLITTER = ClauseSplitter(default_rules().clause_breaks)
FINDINGS = {"pneumothorax", "effusion", "consolidation", "nodule", "hemorrhage"}


def tokens(text: str) -> list[Token]:
    """Whitespace tokens with commas split off; the words in FINDINGS count as findings."""
    words = text.replace(",", " , ").replace("/", " / ").split()
    return [Token(w.lower(), w.replace(".", "").isdigit(), w.lower() in FINDINGS) for w in words]


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("No effusion , large right pneumothorax", 2),
        ("No effusion , a pneumothorax", 2),
        ("No effusion , 3 cm pneumothorax", 2),
        ("No effusion , pneumothorax is present", 2),
        ("No pneumothorax , effusion or consolidation", 1),
        ("No consolidation , large effusion , or pneumothorax", 1),
        ("No consolidation , large effusion / pneumothorax", 1),
        ("Pneumothorax , effusion and consolidation are not seen", 1),
        ("Right lower lobe nodule , unchanged", 1),
        ("No pneumothorax and a large effusion", 2),
        ("Stable nodule and new pneumothorax", 2),
        ("No pneumothorax and effusion", 1),
    ],
)
def test_clause_splitter(text: str, clauses: int) -> None:
    assert len(SPLITTER.breaks(tokens(text))) + 1 == clauses


def test_crosses_is_half_open() -> None:
    assert crosses([3], 2, 4)
    assert crosses([3], 3, 4)
    assert not crosses([3], 4, 9)
    assert not crosses([3], 0, 3)
    assert not crosses([], 0, 9)


LUNG = OrganMatcher(default_lexicon().organs["lung"])


def placed(
    mention: str,
    sentence: str,
    *,
    header: str | None = None,
    body_part: str | None = None,
    document: str = "",
) -> bool:
    study = StudyScope(body_part=body_part) if body_part else None
    return LUNG.fits(Placement(mention, sentence, header, study, document or sentence))


def test_organ_rule_order() -> None:
    # 1. the mention's own words name another organ
    assert not placed("2 cm thyroid nodule", "2 cm thyroid nodule in the upper lobe.")
    # 2. the sentence or sub-header names the lung
    assert placed("9 mm nodule", "9 mm nodule in the right upper lobe.")
    assert placed("9 mm nodule", "9 mm nodule.", header="LUNGS")
    # 3. ... or another organ
    assert not placed("9 mm nodule", "9 mm nodule in segment 7 of the liver.")
    assert not placed("9 mm nodule", "9 mm nodule.", header="LIVER", body_part="chest")
    # 4. the caller's study decides
    assert placed("9 mm nodule", "9 mm nodule.", body_part="Chest")
    assert not placed("9 mm nodule", "9 mm nodule.", body_part="neck")
    # 5. the document: a chest report naming no other organ
    assert placed("9 mm nodule", "9 mm nodule.", document="Lungs are clear. 9 mm nodule.")
    assert not placed("9 mm nodule", "9 mm nodule.", document="Liver normal. 9 mm nodule.")
    assert not placed("9 mm nodule", "9 mm nodule.")


def test_study_context_through_the_detector() -> None:
    text = "Spiculated 2 cm nodule."
    assert detect_text(text) == []
    (chest,) = detect_text(text, study=StudyScope(body_part="chest", modality="CT"))
    assert (chest.finding_code, chest.alert) == ("suspicious_lung_nodule", True)
    assert detect_text(text, study=StudyScope(body_part="thyroid", modality="US")) == []


def test_a_draft_is_one_document_for_organ_context() -> None:
    draft = make_draft(
        findings=["The lungs are otherwise clear.", "Spiculated 2 cm nodule."],
        impression=["Spiculated nodule, suspicious for malignancy."],
    )
    found = active_detector().detect_draft(draft)
    assert [(m.statement_id, m.finding_code, m.alert) for m in found] == [
        ("S2", "suspicious_lung_nodule", True),
        ("S3", "suspicious_lung_nodule", True),
    ]
    abdomen = make_draft(findings=["The liver is normal.", "Spiculated 2 cm nodule."])
    assert active_detector().detect_draft(abdomen) == []
    assert active_detector().detect_draft(abdomen, study=StudyScope(body_part="chest"))


def test_a_site_organ_context_and_an_unknown_organ(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        yaml.safe_dump(
            {
                "schema": "reportdraft.critical.lexicon/1",
                "version": "site",
                "findings": [
                    {"code": "thyroid_nodule", "label": "Thyroid nodule", "category": 3,
                     "terms": ["suspicious thyroid nodule"], "organ": "thyroid"}
                ],
            }
        )
    )  # fmt: skip
    with pytest.raises(ConfigurationError, match="organ 'thyroid'"):
        load_lexicon(site=site)
    site.write_text(
        yaml.safe_dump(
            {
                "schema": "reportdraft.critical.lexicon/1",
                "version": "site",
                "organs": {"thyroid": {"confirm": ["thyroid"], "studies": ["neck"]}},
                "findings": [
                    {"code": "thyroid_nodule", "label": "Thyroid nodule", "category": 3,
                     "terms": ["dominant nodule"], "organ": "thyroid"}
                ],
            }
        )
    )  # fmt: skip
    lexicon = load_lexicon(site=site)
    assert set(lexicon.organs) == {"lung", "thyroid"}
    detector = Detector(lexicon=lexicon)
    (found,) = detector.detect_text("Dominant nodule in the right thyroid lobe.")
    assert found.finding_code == "thyroid_nodule"
    assert detector.detect_text("Dominant nodule in the abdomen.") == []
