"""Guideline recommendations in drafts, flags, the CLI and the data loader.

- the rules drafter adds a ``G:<guideline>`` statement to the Impression when the
  radiologist dictated no recommendation, and keeps the radiologist's words when they did;
- a dictated recommendation that contradicts the guideline is a medium
  ``recommendation_discordant`` flag from the normal flag path (``annotate``);
- a rewrite of a ``G:`` statement that changes its interval, modality or category is a
  high flag, a faithful rephrase is not;
- ``reportdraft recommend`` prints the interface JSON for every example case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.cli import main
from reportdraft.errors import ConfigurationError
from reportdraft.guidelines import load_guideline
from reportdraft.guidelines.rulebook import Guideline
from reportdraft.io import load_case
from reportdraft.models import Case, Draft, FlagKind, SectionKind, Severity, Statement
from reportdraft.resources import data_dir

EXAMPLE = data_dir("examples") / "ct_chest_nodule.json"
NO_RECOMMENDATION = (
    "There is a 6 mm solid nodule in the right upper lobe. No other suspicious pulmonary "
    "nodules. Mild centrilobular emphysema. No pleural effusion.\n"
    "Impression: 1. Solitary 6 mm solid right upper lobe nodule. 2. Mild centrilobular emphysema."
)


def _case(dictation: str) -> Case:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    data["dictation"] = dictation
    return Case.model_validate(data)


def _draft(case: Case) -> drafting.DraftResult:
    return drafting.draft_case(case, create_backend("rules", BackendOptions()))


def _impression(draft: Draft) -> list[Statement]:
    return next(s.statements for s in draft.sections if s.kind is SectionKind.IMPRESSION)


def test_rules_draft_adds_the_cited_recommendation() -> None:
    result = _draft(_case(NO_RECOMMENDATION))
    added = [st for st in _impression(result.draft) if "G:fleischner-2017" in st.sources]
    assert len(added) == 1
    statement = added[0]
    assert statement.text.startswith("Per Fleischner Society 2017 guidelines")
    assert "6-12 months" in statement.text
    assert "18-24 months" in statement.text
    assert {"D1", "A1", "C:clinical_history"} <= set(statement.sources)
    assert [f for f in result.draft.flags if f.statement_id == statement.id] == []


def test_dictated_recommendation_is_kept_and_not_duplicated() -> None:
    result = _draft(load_case(EXAMPLE))
    impression = _impression(result.draft)
    assert not any(src.startswith("G:") for st in impression for src in st.sources)
    assert any("then consider CT at 18 to 24 months" in st.text for st in impression)
    # "consider" for the second step of the high-risk table is hedging, not a discordance
    assert not [f for f in result.draft.flags if f.kind is FlagKind.RECOMMENDATION_DISCORDANT]


def test_discordant_dictation_is_a_medium_flag_on_the_kept_words() -> None:
    result = _draft(_case(NO_RECOMMENDATION + " Follow-up chest CT in 3 months is recommended."))
    flags = [f for f in result.draft.flags if f.kind is FlagKind.RECOMMENDATION_DISCORDANT]
    assert len(flags) == 1
    flag = flags[0]
    assert flag.severity is Severity.MEDIUM
    assert "6-12 months" in flag.message
    statement = next(st for st in result.draft.statements() if st.id == flag.statement_id)
    assert statement.text == "Follow-up chest CT in 3 months is recommended."
    assert not any("G:fleischner-2017" in st.sources for st in result.draft.statements())


def _rewritten(result: drafting.DraftResult, text: str) -> Draft:
    sections = []
    for section in result.draft.sections:
        statements = [
            st.model_copy(update={"text": text, "generator": "model"})
            if any(s.startswith("G:") for s in st.sources)
            else st
            for st in section.statements
        ]
        sections.append(section.model_copy(update={"statements": statements}))
    return result.draft.model_copy(update={"sections": sections})


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        (
            "Per the Fleischner Society 2017 guidelines for a high-risk patient, a chest CT is "
            "recommended at 6-12 months, then CT at 18-24 months.",
            False,
        ),
        (
            "Per Fleischner Society 2017 guidelines, single solid pulmonary nodule 6 mm, high "
            "risk: CT at 3 months; then CT at 18-24 months.",
            True,
        ),
        (
            "Per Fleischner Society 2017 guidelines, single solid pulmonary nodule 6 mm, high "
            "risk: MRI at 6-12 months; then MRI at 18-24 months.",
            True,
        ),
        ("Per Fleischner Society 2017 guidelines, follow-up CT is recommended.", True),
    ],
)
def test_a_rewrite_must_keep_interval_and_modality(text: str, flagged: bool) -> None:
    result = _draft(_case(NO_RECOMMENDATION))
    checked = drafting.annotate(
        result.case, result.dictation, result.template, _rewritten(result, text)
    )
    guideline_ids = {
        st.id for st in checked.statements() if any(s.startswith("G:") for s in st.sources)
    }
    high = [
        f
        for f in checked.flags
        if f.statement_id in guideline_ids
        and f.severity is Severity.HIGH
        and "guideline recommendation changed" in f.message
    ]
    assert bool(high) is flagged, [f.message for f in checked.flags]


EXPECTED_EXAMPLES = {
    "ct_chest_nodule": [
        ("fleischner-2017", "solid-single-6to8-high", "ct", [6, 12], False),
        ("fleischner-2017", "solid-single-6to8-high", "ct", [18, 24], False),
    ],
    "mammo_screening": [("bi-rads-2013", "category-1", "screening_mammography", [12, 12], False)],
}


@pytest.mark.parametrize("path", sorted(data_dir("examples").glob("*.json")), ids=lambda p: p.stem)
def test_recommend_cli_on_every_example(path: Path) -> None:
    result = CliRunner().invoke(main, ["recommend", str(path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"recommendations", "not_applicable", "discordant"}
    got = [
        (r["guideline"], r["rule"], r["action"], r["interval_months"], r["optional"])
        for r in out["recommendations"]
    ]
    assert got == EXPECTED_EXAMPLES.get(path.stem, [])
    assert out["discordant"] == []


def test_recommend_reads_stdin_and_reports_bad_input_in_one_line() -> None:
    ok = CliRunner().invoke(main, ["recommend", "-"], input=EXAMPLE.read_text())
    assert ok.exit_code == 0
    assert json.loads(ok.output)["recommendations"]
    bad = CliRunner().invoke(main, ["recommend", "-"], input="{}")
    assert bad.exit_code == 2
    assert bad.output.strip().startswith("error [")
    assert "\n" not in bad.output.strip()


def test_every_guideline_file_loads_with_its_citation() -> None:
    for guideline_id in (
        "fleischner-2017",
        "lung-rads-2022",
        "acr-tirads-2017",
        "acr-adrenal-2017",
        "bosniak-2019",
        "bi-rads-2013",
    ):
        book = load_guideline(guideline_id)
        assert book.id == guideline_id
        assert book.citation
        assert book.version


def test_a_malformed_rule_is_named() -> None:
    raw = yaml.safe_load(
        (Path(__file__).parents[2] / "reportdraft/data/guidelines/bosniak-2019.yaml").read_text()
    )
    raw["rules"]["class-iif"]["steps"][0]["action"] = "x-ray"
    with pytest.raises(ValueError, match="action"):
        Guideline.model_validate(raw)
    book = Guideline.model_validate(
        yaml.safe_load(
            (
                Path(__file__).parents[2] / "reportdraft/data/guidelines/bosniak-2019.yaml"
            ).read_text()
        )
    )
    with pytest.raises(ConfigurationError, match="no rule"):
        book.rule("class-v")


OWN_STATEMENTS = [
    {"study": "ldct", "dictation": "A 16 mm solid nodule in the left lower lobe."},
    {
        "study": "us_thyroid",
        "dictation": "Right lobe 1.2 cm solid hypoechoic nodule. Left lobe 2.0 cm solid "
        "isoechoic nodule.",
    },
    {
        "study": "ct_abd",
        "history": "History of lung cancer.",
        "dictation": "There is a 1.5 cm left adrenal nodule. 3 cm right renal cyst with thick "
        "enhancing septa.",
    },
    {"study": "mg", "dictation": "Oval mass in the right breast. BI-RADS 3."},
    {"study": "ct_abd", "dictation": "3 cm right renal cyst, Bosniak IIF."},
    {"study": "ct_chest", "dictation": "A 9 mm ground-glass nodule in the left upper lobe."},
]


@pytest.mark.parametrize("item", OWN_STATEMENTS, ids=lambda i: f"{i['study']}")
def test_the_drafters_own_recommendation_raises_no_flag(item: dict[str, Any]) -> None:
    from tests.guidelines.cases import build_case

    result = _draft(build_case(item))
    cited = {
        st.id for st in result.draft.statements() if any(s.startswith("G:") for s in st.sources)
    }
    assert cited
    assert [f.message for f in result.draft.flags if f.statement_id in cited] == []
