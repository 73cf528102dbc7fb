"""Every template added for practice coverage drafts a realistic dictation cleanly.

For each template in ``dictations.yaml`` (written for these tests): the study selects it,
every dictated sentence is placed once, no kept normal default contradicts the dictation
(no ``default_conflict`` flag: the verifier re-reads every kept default against every
dictated finding, wherever it was routed), nothing is unsupported, and the draft text holds
what was dictated. The drafts were also read by eye when the templates were written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.models import Case, FlagKind, SectionKind
from reportdraft.templates import default_library
from tests.factories import case_dict

CASES: dict[str, dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "dictations.yaml").read_text(encoding="utf-8")
)

ORIGINAL = {
    "ct_abd_pelvis_w", "ct_chest", "ct_cspine_wo", "ct_head_wo", "cta_chest_pe",
    "cta_head_neck", "mg_screening_bilat", "mr_brain_wwo", "mr_knee", "mr_lspine",
    "us_abd_complete", "us_pelvis", "us_scrotum", "xr_abdomen", "xr_chest_2v", "generic",
}  # fmt: skip
"""The templates before practice coverage; every later one needs a dictation here."""

# us_thyroid is added by the TI-RADS work with its own drafting test.
ELSEWHERE = {"us_thyroid"}


def test_every_new_template_has_a_drafting_case() -> None:
    bundled = {t.id for t in default_library().all()}
    assert bundled - ORIGINAL - ELSEWHERE == set(CASES)


def _result(template_id: str) -> drafting.DraftResult:
    spec = CASES[template_id]
    doc = case_dict(**spec["study"], indication=spec["indication"])
    doc["dictation"] = " ".join(spec["dictation"].split())
    rules = create_backend("rules", BackendOptions())
    return drafting.draft_case(Case.model_validate(doc), rules, strict_template=True)


@pytest.mark.parametrize("template_id", sorted(CASES))
def test_realistic_dictation_drafts_without_contradicted_defaults(template_id: str) -> None:
    result = _result(template_id)
    assert result.template.id == template_id
    draft = result.draft
    kinds = [f.kind for f in draft.flags]
    assert FlagKind.DEFAULT_CONFLICT not in kinds, [f.message for f in draft.flags]
    assert FlagKind.GENERIC_TEMPLATE not in kinds
    assert FlagKind.UNSUPPORTED not in kinds, [f.message for f in draft.flags]

    # Every dictated sentence is placed exactly once (a guideline recommendation, cited
    # G:<guideline>, also names the sentences its facts came from: not a placement).
    placed = [st for st in draft.statements() if not any(s.startswith("G:") for s in st.sources)]
    cited = [s for st in placed for s in st.sources if s.startswith("D")]
    content = [s.id for s in result.dictation.content()]
    assert sorted(cited) == sorted(content)

    findings = " ".join(st.text for st in draft.section(SectionKind.FINDINGS))
    for phrase in CASES[template_id]["expect"]:
        assert phrase.lower() in findings.lower()
    # The dictated impression is the impression.
    impression = [st.text for st in draft.section(SectionKind.IMPRESSION)]
    assert impression
    assert all(
        any(s.startswith("D") for s in st.sources) for st in draft.section(SectionKind.IMPRESSION)
    )
    assert all(text for text in impression)
