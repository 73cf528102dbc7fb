"""The generic template, --strict-template, procedure mapping as data and `templates explain`."""

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
from reportdraft.errors import TemplateError, TemplateNotFoundError
from reportdraft.models import Case, FlagKind, SectionKind, Severity
from reportdraft.resources import data_dir
from reportdraft.templates import TemplateLibrary, default_library
from tests.factories import case_dict

# A cerebral angiogram: no bundled template is for XA, so it must fall to the generic one.
ANGIO = case_dict(
    procedure={"system": "urn:ris:test", "code": "ANG-CER", "display": "Cerebral angiogram"},
    modality="XA",
    body_part="cerebral arteries",
)
ANGIO["dictation"] = (
    "Right common carotid injection. There is a 4 mm saccular aneurysm arising from the "
    "right posterior communicating artery. The anterior cerebral arteries fill normally. "
    "Impression: 4 mm right posterior communicating artery aneurysm."
)


def _draft(doc: dict[str, Any], **kwargs: Any) -> drafting.DraftResult:
    rules = create_backend("rules", BackendOptions())
    return drafting.draft_case(Case.model_validate(doc), rules, **kwargs)


def test_unmatched_study_is_drafted_on_the_generic_template_with_a_low_flag() -> None:
    result = _draft(ANGIO)
    assert result.template.id == "generic"
    assert result.template.generic
    flags = [f for f in result.draft.flags if f.kind is FlagKind.GENERIC_TEMPLATE]
    assert len(flags) == 1
    assert flags[0].severity is Severity.LOW
    assert "Cerebral angiogram" in flags[0].message
    # No normal default anywhere: findings and impression come only from the dictation.
    for st in result.draft.statements():
        assert not {s for s in st.sources if s.startswith("T:")} - {"T:technique", "T:comparison"}
    findings = " ".join(st.text for st in result.draft.section(SectionKind.FINDINGS))
    assert "aneurysm" in findings
    assert "fill normally" in findings
    impression = result.draft.section(SectionKind.IMPRESSION)
    assert [st.text for st in impression] == ["4 mm right posterior communicating artery aneurysm."]
    technique = result.draft.section(SectionKind.TECHNIQUE)[0].text
    assert technique == "Cerebral angiogram."
    # Nothing else changes: no default conflict, no omission for an absent subsection.
    kinds = {f.kind for f in result.draft.flags}
    assert FlagKind.DEFAULT_CONFLICT not in kinds
    assert FlagKind.OMISSION not in kinds


def test_generic_draft_without_dictated_impression_has_none_and_says_so() -> None:
    doc = {**ANGIO, "dictation": "The anterior cerebral arteries fill normally."}
    result = _draft(doc)
    assert result.draft.section(SectionKind.IMPRESSION) == []
    messages = [f.message for f in result.draft.flags if f.kind is FlagKind.IMPRESSION_CONSISTENCY]
    assert "the draft has no impression" in messages


def test_strict_template_refuses_as_before() -> None:
    with pytest.raises(TemplateNotFoundError) as info:
        _draft(ANGIO, strict_template=True)
    assert info.value.code == "template_not_found"
    assert "XA" in str(info.value)


def test_generic_is_never_chosen_by_modality_and_body_part() -> None:
    library = default_library()
    chest = Case.model_validate(case_dict()).study
    assert library.select(chest, generic_fallback=True).id == "xr_chest_2v"
    assert library.explain(chest).rule == "procedure_code"


def test_cli_draft_generic_and_strict(tmp_path: Path) -> None:
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(ANGIO))
    out = tmp_path / "out"
    ok = CliRunner().invoke(
        main, ["draft", str(case_file), "--backend", "rules", "--out", str(out)]
    )
    assert ok.exit_code == 0, ok.output
    draft = json.loads((out / "draft.json").read_text())
    assert draft["template_id"] == "generic"
    assert any(f["kind"] == "generic_template" for f in draft["flags"])
    strict = CliRunner().invoke(
        main,
        [
            "draft",
            str(case_file),
            "--backend",
            "rules",
            "--out",
            str(tmp_path / "o2"),
            "--strict-template",
        ],
    )
    assert strict.exit_code == 2
    assert strict.stderr.strip().startswith("error [template_not_found]:")


# ------------------------------------------------------------------ procedure mapping


def _site(tmp_path: Path, mappings: list[dict[str, str]]) -> Path:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "procedure_map.yaml").write_text(yaml.safe_dump({"version": 1, "mappings": mappings}))
    return site


def test_site_mapping_routes_a_local_code_and_explains_it(tmp_path: Path) -> None:
    site = _site(
        tmp_path, [{"system": "urn:ris:test", "code": "ANG-CER", "template": "cta_head_neck"}]
    )
    library = TemplateLibrary.load(data_dir("templates"), site)
    study = Case.model_validate(ANGIO).study
    selection = library.explain(study)
    assert selection.template_id == "cta_head_neck"
    assert selection.rule == "procedure_map"
    assert str(site / "procedure_map.yaml") in selection.steps[0]
    assert library.select(study).id == "cta_head_neck"
    # The map file is not read as a template.
    assert "procedure_map" not in library


def test_site_mapping_wins_over_a_template_code(tmp_path: Path) -> None:
    chest = case_dict()
    code = chest["study"]["procedure"]
    site = _site(tmp_path, [{**{k: code[k] for k in ("system", "code")}, "template": "ct_chest"}])
    library = TemplateLibrary.load(data_dir("templates"), site)
    assert library.select(Case.model_validate(chest).study).id == "ct_chest"


def test_cpt_spellings_are_folded(tmp_path: Path) -> None:
    site = _site(tmp_path, [{"system": "CPT", "code": "99999", "template": "ct_chest"}])
    library = TemplateLibrary.load(data_dir("templates"), site)
    doc = case_dict(
        procedure={"system": "http://www.ama-assn.org/go/cpt", "code": "99999", "display": "x"}
    )
    assert library.select(Case.model_validate(doc).study).id == "ct_chest"


@pytest.mark.parametrize(
    ("mappings", "fragment"),
    [
        ([{"system": "x", "code": "1", "template": "nope"}], "unknown template 'nope'"),
        (
            [
                {"system": "x", "code": "1", "template": "ct_chest"},
                {"system": "X", "code": "1", "template": "ct_head_wo"},
            ],
            "code 1 is already mapped",
        ),
        ([{"system": "x", "code": "1"}], "mappings.0.template: Field required"),
    ],
)
def test_bad_mapping_file_names_the_file(
    tmp_path: Path, mappings: list[dict[str, str]], fragment: str
) -> None:
    site = _site(tmp_path, mappings)
    with pytest.raises(TemplateError) as info:
        TemplateLibrary.load(data_dir("templates"), site)
    assert str(site / "procedure_map.yaml") in str(info.value)
    assert fragment in str(info.value)


def test_explain_says_why_none_without_a_generic_template() -> None:
    specific = TemplateLibrary([t for t in default_library().all() if not t.generic])
    selection = specific.explain(Case.model_validate(ANGIO).study)
    assert selection.template_id is None
    assert selection.rule == "none"
    assert any("no XA template" in step for step in selection.steps)
    with pytest.raises(TemplateNotFoundError):
        specific.select(Case.model_validate(ANGIO).study, generic_fallback=True)


def test_cli_templates_explain(tmp_path: Path) -> None:
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(ANGIO))
    result = CliRunner().invoke(main, ["templates", "explain", str(case_file)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "template: generic (rule: generic)"
    assert any("procedure code: no template lists" in line for line in lines)
    chest = tmp_path / "chest.json"
    chest.write_text(json.dumps(case_dict()))
    result = CliRunner().invoke(main, ["templates", "explain", str(chest)])
    assert result.output.strip().splitlines()[-1] == (
        "template: xr_chest_2v (rule: procedure_code)"
    )
    listing = CliRunner().invoke(main, ["templates"])
    assert listing.exit_code == 0
    assert "generic" in listing.output


def test_generic_template_through_a_model_backend_falls_back_per_piece() -> None:
    """A model path on the generic template: pieces are asked for, a failing answer falls
    back to the dictated statements, and the draft is the same as the rules draft."""
    from reportdraft.backends import FakeBackend
    from reportdraft.errors import BackendTimeoutError

    backend = FakeBackend(lambda request: BackendTimeoutError("scripted timeout"))
    case = Case.model_validate(ANGIO)
    modelled = drafting.draft_case(case, backend).draft
    rules = _draft(ANGIO).draft
    assert backend.requests  # the model was asked
    assert [st.text for st in modelled.statements()] == [st.text for st in rules.statements()]
    assert any(f.kind is FlagKind.GENERIC_TEMPLATE for f in modelled.flags)


@pytest.mark.parametrize(
    ("sent", "read"), [("DX", "XR"), ("cr", "XR"), ("DEXA", "BMD"), ("DXA", "BMD"), ("NM", "NM")]
)
def test_feed_modality_spellings_are_folded(sent: str, read: str) -> None:
    doc = case_dict(modality=sent)
    doc["study"]["comparisons"] = [{"date": "2026-01-02", "modality": sent}]
    study = Case.model_validate(doc).study
    assert study.modality.value == read
    assert study.comparisons[0].modality.value == read


def test_unknown_modality_is_still_rejected() -> None:
    with pytest.raises(ValueError, match=r"study\.modality"):
        Case.model_validate(case_dict(modality="XQ"))
