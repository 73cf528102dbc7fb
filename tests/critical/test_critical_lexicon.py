"""The critical-finding lexicon: bundled content, validation, site overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reportdraft.critical import lexicon_entry_for_ai_type, load_lexicon
from reportdraft.critical.finding_lexicon import default_lexicon
from reportdraft.errors import ConfigurationError

ISSUE_FINDINGS = {
    "intracranial_hemorrhage", "subarachnoid_hemorrhage", "subdural_hematoma",
    "epidural_hematoma", "acute_infarct", "large_vessel_occlusion", "brain_herniation",
    "pulmonary_embolism", "aortic_dissection", "ruptured_aaa", "tension_pneumothorax",
    "pneumothorax", "pneumoperitoneum", "bowel_ischemia", "pneumatosis", "portal_venous_gas",
    "bowel_obstruction", "testicular_torsion", "ovarian_torsion", "ectopic_pregnancy",
    "cord_compression", "unstable_spine_fracture", "malpositioned_ett",
    "malpositioned_enteric_tube", "malpositioned_line", "abscess", "deep_vein_thrombosis",
    "appendicitis", "cholecystitis", "suspicious_lung_nodule",
}  # fmt: skip


def test_bundled_lexicon_has_the_issue_findings_with_categories() -> None:
    lex = default_lexicon()
    assert len(lex) >= 30
    assert {e.code for e in lex.entries} >= ISSUE_FINDINGS
    assert lex.entry("pulmonary_embolism").category == 1  # type: ignore[union-attr]
    assert lex.entry("abscess").category == 2  # type: ignore[union-attr]
    assert lex.entry("suspicious_lung_nodule").category == 3  # type: ignore[union-attr]
    assert "PE" in lex.entry("pulmonary_embolism").abbreviations  # type: ignore[union-attr]
    assert lex.group_of("subdural_hematoma") == "intracranial_hemorrhage"
    assert lex.group_of("not_a_code") == "not_a_code"


def test_ai_types_map_to_entries() -> None:
    assert lexicon_entry_for_ai_type("intracranial_hemorrhage").code == "intracranial_hemorrhage"  # type: ignore[union-attr]
    assert lexicon_entry_for_ai_type("pulmonary_nodule").code == "suspicious_lung_nodule"  # type: ignore[union-attr]
    assert lexicon_entry_for_ai_type("LVO").code == "large_vessel_occlusion"  # type: ignore[union-attr]
    assert lexicon_entry_for_ai_type("rib_fracture") is None


def _write(path: Path, data: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def _site(tmp_path: Path, **extra: object) -> Path:
    data: dict[str, object] = {"schema": "reportdraft.critical.lexicon/1", "version": "site-1"}
    data.update(extra)
    return _write(tmp_path / "site.yaml", data)


def test_site_file_replaces_adds_and_removes(tmp_path: Path) -> None:
    site = _site(
        tmp_path,
        findings=[
            {"code": "pneumothorax", "label": "PTX", "category": 1, "terms": ["pneumothorax"]},
            {"code": "aortic_transection", "label": "Aortic transection", "category": 1,
             "terms": ["aortic transection"], "ai_types": ["aortic_injury"]},
        ],
        remove=["osteomyelitis"],
    )  # fmt: skip
    lex = load_lexicon(site=site)
    assert lex.entry("pneumothorax").category == 1  # type: ignore[union-attr]
    assert lex.for_ai_type("aortic_injury").code == "aortic_transection"  # type: ignore[union-attr]
    assert lex.entry("osteomyelitis") is None
    assert lex.version.endswith("+site-1")
    assert len(lex) == len(default_lexicon())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {
                "findings": [
                    {"code": "x_y", "label": "X", "category": 1, "terms": ["x"], "colour": "red"}
                ]
            },
            "colour",
        ),
        ({"findings": [{"code": "x_y", "label": "X", "category": 4, "terms": ["x"]}]}, "category"),
        ({"findings": [{"code": "X", "label": "X", "category": 1, "terms": ["x"]}]}, "code"),
        ({"findings": [{"code": "x_y", "label": "X", "category": 1}]}, "at least one"),
        ({"remove": ["no_such_code"]}, "unknown finding code"),
        (
            {
                "findings": [
                    {"code": "x_y", "label": "X", "category": 1, "terms": ["x"], "ai_types": ["pe"]}
                ]
            },
            "claimed",
        ),
    ],
)
def test_invalid_site_files_fail_loudly(
    tmp_path: Path, extra: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_lexicon(site=_site(tmp_path, **extra))


def test_unreadable_and_wrong_schema_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_lexicon(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("findings: [unclosed")
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_lexicon(bad)
    with pytest.raises(ConfigurationError, match="schema"):
        load_lexicon(_write(tmp_path / "other.yaml", {"schema": "other/1", "version": "1"}))
