"""Detection on free text and on drafts, through the real spaCy/medspaCy pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reportdraft.critical import Detector, configure, detect_draft, detect_text, run_cli
from reportdraft.critical.detector import active_detector
from reportdraft.critical.finding_lexicon import load_lexicon
from reportdraft.errors import ConfigurationError
from reportdraft.models import Assertion
from tests.critical.critical_factories import make_draft


def test_offsets_triggers_and_alert_on_free_text() -> None:
    text = "No pneumothorax. A small subsegmental PE cannot be excluded."
    neg, unc = detect_text(text)
    assert text[neg.start : neg.end] == neg.text == "pneumothorax"
    assert neg.assertion is Assertion.NEGATED
    assert not neg.alert
    assert [(t.rule_id, t.text, t.category) for t in neg.triggers] == [("neg_no", "No", "negated")]
    assert unc.finding_code == "pulmonary_embolism"
    assert unc.category == 1
    assert unc.assertion is Assertion.UNCERTAIN
    assert unc.alert
    assert unc.triggers[0].rule_id == "unc_cannot_be_excluded"
    assert unc.codes
    assert unc.codes[0].code == "59282003"
    assert unc.section is None
    assert unc.statement_id is None


def test_free_air_is_not_negated_by_free() -> None:
    mentions = detect_text("Pneumoperitoneum with free air.")
    assert [(m.text, m.assertion, m.alert) for m in mentions] == [
        ("Pneumoperitoneum", Assertion.PRESENT, True),
        ("free air", Assertion.PRESENT, True),
    ]


def test_default_section_applies_when_not_section_aware() -> None:
    (mention,) = detect_text("Large left pneumothorax.", default_section="technique")
    assert mention.assertion is Assertion.PRESENT
    assert mention.section == "technique"
    assert not mention.alert
    (history,) = detect_text("Pulmonary embolism.", default_section="clinical_history")
    assert history.assertion is Assertion.HYPOTHETICAL
    assert history.triggers[0].rule_id == "section:clinical_history"


def test_section_aware_text_reads_its_headers() -> None:
    text = "INDICATION: r/o PE.\nFINDINGS: Acute PE.\nIMPRESSION: Acute pulmonary embolism."
    found = detect_text(text, section_aware=True)
    assert [(m.section, m.assertion.value, m.alert) for m in found] == [
        ("clinical_history", "hypothetical", False),
        ("findings", "present", True),
        ("impression", "present", True),
    ]
    # without section awareness the headers are not sections, but still end sentences
    plain = detect_text(text)
    assert [m.section for m in plain] == [None, None, None]
    assert [m.assertion.value for m in plain] == ["hypothetical", "present", "present"]


def test_empty_text_has_no_mentions() -> None:
    assert detect_text("") == []
    assert detect_text("   \n") == []
    assert detect_text("The lungs are clear.") == []


def test_detect_draft_uses_statement_sections_and_ids() -> None:
    draft = make_draft(
        clinical_history=["Evaluate for pulmonary embolism."],
        findings=["No pneumothorax.", "Filling defect in the right lower lobe pulmonary artery."],
        impression=["Acute right lower lobe pulmonary embolism."],
    )
    mentions = detect_draft(draft)
    assert [
        (m.statement_id, m.section, m.finding_code, m.assertion.value, m.alert) for m in mentions
    ] == [
        ("S1", "clinical_history", "pulmonary_embolism", "hypothetical", False),
        ("S2", "findings", "pneumothorax", "negated", False),
        ("S3", "findings", "pulmonary_embolism", "present", True),
        ("S4", "impression", "pulmonary_embolism", "present", True),
    ]
    s3 = draft.statement("S3")
    assert s3 is not None
    assert s3.text[mentions[2].start : mentions[2].end] == mentions[2].text


def test_run_cli_prints_json_ready_mentions() -> None:
    out = run_cli("FINDINGS: Small right pneumothorax.\nIMPRESSION: No pneumothorax.", True)
    assert [(m["section"], m["assertion"], m["alert"]) for m in out] == [
        ("findings", "present", True),
        ("impression", "negated", False),
    ]
    json.dumps(out)


def test_site_lexicon_through_configure(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        yaml.safe_dump(
            {
                "schema": "reportdraft.critical.lexicon/1",
                "version": "site",
                "findings": [
                    {"code": "retained_sponge", "label": "Retained surgical sponge",
                     "category": 1, "terms": ["retained sponge", "retained surgical sponge"]}
                ],
            }
        )
    )  # fmt: skip
    before = active_detector()
    try:
        configure(lexicon=site)
        (m,) = detect_text("Findings concerning for a retained surgical sponge.")
        assert (m.finding_code, m.assertion.value, m.alert) == (
            "retained_sponge",
            "uncertain",
            True,
        )
    finally:
        import reportdraft.critical.detector as module

        module._active = before


def test_a_malformed_token_pattern_fails_when_the_pipeline_is_built(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        yaml.safe_dump(
            {
                "schema": "reportdraft.critical.lexicon/1",
                "version": "site",
                "findings": [{"code": "bad_one", "label": "Bad", "category": 1,
                              "patterns": [[{"LOWER": "x", "OP": "??"}]]}],
            }
        )
    )  # fmt: skip
    detector = Detector(lexicon=load_lexicon(site=site))
    with pytest.raises(ConfigurationError, match="do not compile"):
        detector.detect_text("x")


def test_importing_the_package_does_not_import_spacy() -> None:
    code = (
        "import sys, reportdraft.critical; print('spacy' in sys.modules, 'medspacy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _reportdraft(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The ``reportdraft`` command in a fresh process (the site files are process-wide)."""
    root = Path(__file__).resolve().parents[2]
    code = "from reportdraft.cli import main; main()"
    full = {k: v for k, v in os.environ.items() if k != "REPORTDRAFT_CRITICAL_DIR"} | env
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=root, env=full
    )


def test_a_site_directory_changes_detection_through_the_cli(tmp_path: Path) -> None:
    """REPORTDRAFT_CRITICAL_DIR reaches every command: the site lexicon's finding alerts."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "lexicon.yaml").write_text(
        yaml.safe_dump(
            {
                "schema": "reportdraft.critical.lexicon/1",
                "version": "site",
                "findings": [
                    {"code": "retained_sponge", "label": "Retained surgical sponge",
                     "category": 1, "terms": ["retained surgical sponge"]}
                ],
            }
        )
    )  # fmt: skip
    report = tmp_path / "report.txt"
    report.write_text("Findings concerning for a retained surgical sponge.\n")
    bundled = _reportdraft(["critical", str(report)], {})
    assert bundled.returncode == 0, bundled.stderr
    assert json.loads(bundled.stdout) == []
    with_site = _reportdraft(["critical", str(report)], {"REPORTDRAFT_CRITICAL_DIR": str(site)})
    assert with_site.returncode == 0, with_site.stderr
    (mention,) = json.loads(with_site.stdout)
    assert (mention["finding_code"], mention["alert"]) == ("retained_sponge", True)


def test_a_site_directory_without_site_files_stops_the_cli(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("No pneumothorax.\n")
    empty = _reportdraft(["critical", str(report)], {"REPORTDRAFT_CRITICAL_DIR": str(tmp_path)})
    assert empty.returncode == 2
    assert "error [configuration_error]" in empty.stderr
    assert "holds none of lexicon.yaml" in empty.stderr
    assert empty.stdout == ""
