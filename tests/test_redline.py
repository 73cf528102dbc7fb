"""The redline: word diff, moves, clinical change classes, edit statistics, HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from reportdraft.attest.criticality import mentions_for_content
from reportdraft.critical import detector as detector_module
from reportdraft.critical.detector import Detector
from reportdraft.critical.sections import load_sections
from reportdraft.models import (
    Assertion,
    CriticalMention,
    Draft,
    DraftProvenance,
    DraftSection,
    SectionKind,
    Statement,
)
from reportdraft.redline import (
    ChangeKind,
    DiffOp,
    StatementStatus,
    default_lexicon,
    redline,
    render_html,
    tokenize,
)
from reportdraft.resources import package_data

FINDINGS, IMPRESSION = SectionKind.FINDINGS, SectionKind.IMPRESSION


def st(sid: str, text: str) -> Statement:
    """A statement with a dictation source."""
    return Statement(id=sid, text=text, sources=["D1"])


def doc(**sections: list[Statement]) -> Draft:
    """A draft with the given sections (keyword = section kind value)."""
    return Draft(
        accession_number="ACC9",
        template_id="ct_chest",
        template_version="1",
        sections=[DraftSection(kind=SectionKind(k), statements=v) for k, v in sections.items()],
        provenance=DraftProvenance(backend="rules", created_at=datetime(2026, 1, 1, tzinfo=UTC)),
    )


def changes_of(old: str, new: str, section: str = "findings") -> list[ChangeKind]:
    """Change kinds when one statement's text goes from ``old`` to ``new``."""
    result = redline(
        doc(**{section: [st("S1", old)]}), doc(**{section: [st("S1", new)]}), critical=False
    )
    return [c.kind for c in result.changes]


def test_tokens_join_back_to_the_text() -> None:
    text = "Left lower-lobe nodule, 6.5 mm (series 3, image 41); 20% smaller."
    assert "".join(tokenize(text)) == text
    assert [t.strip() for t in tokenize("6.5 mm.")] == ["6.5", "mm", "."]


def test_unchanged_report_has_no_changes_and_full_ratios() -> None:
    d = doc(findings=[st("S1", "Lungs are clear."), st("S2", "No effusion.")])
    result = redline(d, d, critical=False)
    s = result.stats
    assert result.changes == []
    assert (s.unchanged, s.accepted_unchanged_ratio, s.draft_words_kept_ratio) == (2, 1.0, 1.0)
    assert (s.edit_distance, s.normalized_edit_distance) == (0, 0.0)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("No pneumothorax.", "Small pneumothorax."),
        ("Small pneumothorax.", "No pneumothorax."),
        ("The appendix is visualized.", "The appendix is not visualized."),
        ("Mass with calcification.", "Mass without calcification."),
    ],
)
def test_negation_flipped(old: str, new: str) -> None:
    assert ChangeKind.NEGATION_FLIPPED in changes_of(old, new)


def test_rewording_that_keeps_negation_is_not_a_flip() -> None:
    assert changes_of("No pleural effusion.", "No effusion is seen.") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Left lower lobe nodule.", "Right lower lobe nodule."),
        ("Right hydronephrosis.", "Bilateral hydronephrosis."),
        ("Lt renal cyst.", "Renal cyst."),
    ],
)
def test_laterality_changed(old: str, new: str) -> None:
    assert changes_of(old, new) == [ChangeKind.LATERALITY_CHANGED]


def test_laterality_detail_names_both_sides() -> None:
    result = redline(
        doc(findings=[st("S1", "Left effusion.")]),
        doc(findings=[st("S1", "Right effusion.")]),
        critical=False,
    )
    assert result.changes[0].detail == "left → right"


@pytest.mark.parametrize(
    ("old", "new", "detail"),
    [
        ("Nodule measures 6 mm.", "Nodule measures 8 mm.", "6 mm → 8 mm"),
        ("Nodule measures 6 mm.", "Nodule measures 6 cm.", "6 mm → 6 cm"),
        ("Two nodules.", "Three nodules.", "2 → 3"),
        ("Stone of 4-mm.", "Stone of 5 mm.", "4 mm → 5 mm"),
    ],
)
def test_number_or_unit_changed(old: str, new: str, detail: str) -> None:
    result = redline(doc(findings=[st("S1", old)]), doc(findings=[st("S1", new)]), critical=False)
    assert [(c.kind, c.detail) for c in result.changes] == [(ChangeKind.NUMBER_CHANGED, detail)]


def test_same_number_written_differently_is_not_a_change() -> None:
    assert changes_of("Nodule measures 6.0 mm.", "The nodule measures 6 mm.") == []


def test_finding_added_and_removed_keep_statement_and_sources() -> None:
    draft = doc(findings=[st("S1", "Lungs are clear."), st("S2", "Mild cardiomegaly.")])
    added = Statement(
        id="S3", text="Small hiatal hernia.", sources=["R:radiologist"], generator="radiologist"
    )
    final = doc(findings=[st("S1", "Lungs are clear."), added])
    result = redline(draft, final, critical=False)
    by_kind = {c.kind: c for c in result.changes}
    assert set(by_kind) == {ChangeKind.FINDING_ADDED, ChangeKind.FINDING_REMOVED}
    removed = by_kind[ChangeKind.FINDING_REMOVED]
    assert (removed.statement_id, removed.before, removed.after) == (
        "S2",
        "Mild cardiomegaly.",
        None,
    )
    assert removed.sources == ["D1"]
    assert by_kind[ChangeKind.FINDING_ADDED].sources == ["R:radiologist"]
    ids = [d.statement_id for d in result.sections[0].statements]
    assert ids == ["S1", "S2", "S3"]  # the deleted statement stays where it was


def test_technique_edit_is_not_a_finding_change() -> None:
    draft = doc(technique=[st("S1", "CT without contrast.")], findings=[st("S2", "Clear.")])
    final = doc(
        technique=[st("S1", "CT without contrast."), st("S3", "Motion artifact.")],
        findings=[st("S2", "Clear.")],
    )
    assert redline(draft, final, critical=False).changes == []


def test_impression_changed() -> None:
    assert changes_of(
        "No acute abnormality.", "No acute cardiopulmonary abnormality.", "impression"
    ) == [ChangeKind.IMPRESSION_CHANGED]


def test_move_between_sections_is_a_move_not_delete_plus_insert() -> None:
    draft = doc(
        findings=[st("S1", "Lungs clear."), st("S2", "Right pneumothorax.")],
        impression=[st("S3", "No acute findings.")],
    )
    final = doc(
        findings=[st("S1", "Lungs clear.")],
        impression=[st("S2", "Right pneumothorax."), st("S3", "No acute findings.")],
    )
    result = redline(draft, final, critical=False)
    moved = result.sections[1].statements[0]
    assert (moved.statement_id, moved.status, moved.from_section, moved.to_section) == (
        "S2",
        StatementStatus.MOVED,
        FINDINGS,
        IMPRESSION,
    )
    assert not moved.edited
    assert (result.stats.moved, result.stats.added, result.stats.deleted) == (1, 0, 0)
    assert [c.kind for c in result.changes] == [ChangeKind.IMPRESSION_CHANGED]
    assert result.stats.words_kept == result.stats.draft_words  # no word lost


def test_edit_statistics_on_a_constructed_edit() -> None:
    draft = doc(findings=[st("S1", "No focal consolidation."), st("S2", "Heart size is normal.")])
    final = doc(
        findings=[
            st("S1", "Focal consolidation in the right lower lobe."),
            st("S2", "Heart size is normal."),
        ]
    )
    result = redline(draft, final, critical=False)
    s = result.stats
    assert (s.draft_words, s.final_words) == (7, 11)
    assert (s.words_added, s.words_deleted, s.words_changed, s.words_kept) == (5, 1, 0, 6)
    assert (s.unchanged, s.edited) == (1, 1)
    assert s.accepted_unchanged_ratio == pytest.approx(0.5)
    assert s.draft_words_kept_ratio == pytest.approx(6 / 7)
    assert s.edit_distance == 6
    assert s.normalized_edit_distance == pytest.approx(6 / 11)
    assert [c.kind for c in result.changes] == [
        ChangeKind.NEGATION_FLIPPED,
        ChangeKind.LATERALITY_CHANGED,
    ]
    ops = result.sections[0].statements[0].ops
    assert ops[0] == DiffOp(op="delete", old="No", new="")


def test_replaced_words_count_as_changed() -> None:
    result = redline(
        doc(findings=[st("S1", "Mild cardiomegaly.")]),
        doc(findings=[st("S1", "Severe cardiomegaly.")]),
        critical=False,
    )
    s = result.stats
    assert (s.words_changed, s.words_added, s.words_deleted, s.edit_distance) == (1, 0, 0, 1)


def _keyword_detector(text: str) -> list[CriticalMention]:
    """Deterministic stand-in detector: 'pneumothorax' alerts unless the text says 'No'."""
    at = text.lower().find("pneumothorax")
    if at < 0:
        return []
    negated = text.lower().startswith("no ")
    return [
        CriticalMention(
            finding_code="pneumothorax",
            label="Pneumothorax",
            category=1,
            assertion=Assertion.NEGATED if negated else Assertion.PRESENT,
            start=at,
            end=at + 12,
            text=text[at : at + 12],
            alert=not negated,
        )
    ]


def test_critical_alert_added_and_removed_with_given_detector() -> None:
    draft = doc(findings=[st("S1", "No pneumothorax."), st("S2", "Small pneumothorax.")])
    final = doc(findings=[st("S1", "Small pneumothorax."), st("S2", "No pneumothorax.")])
    result = redline(draft, final, detect=_keyword_detector)
    kinds = {(c.statement_id, c.kind) for c in result.changes}
    assert ("S1", ChangeKind.CRITICAL_ALERT_ADDED) in kinds
    assert ("S2", ChangeKind.CRITICAL_ALERT_REMOVED) in kinds
    assert result.critical_checked


def test_critical_alert_in_technique_does_not_count() -> None:
    draft = doc(technique=[st("S1", "Chest CT.")], findings=[st("S2", "Clear.")])
    final = doc(technique=[st("S1", "Chest CT for pneumothorax.")], findings=[st("S2", "Clear.")])
    assert redline(draft, final, detect=_keyword_detector).changes == []


def test_critical_alert_classes_with_the_real_detector() -> None:
    draft = doc(
        findings=[st("S1", "No pneumothorax.")], impression=[st("S2", "No acute findings.")]
    )
    final = doc(
        findings=[st("S1", "Large right pneumothorax.")],
        impression=[st("S2", "Large right pneumothorax.")],
    )
    result = redline(draft, final)
    assert result.critical_checked
    assert ChangeKind.CRITICAL_ALERT_ADDED in {c.kind for c in result.changes}
    back = redline(final, draft)
    assert ChangeKind.CRITICAL_ALERT_REMOVED in {c.kind for c in back.changes}


@pytest.fixture
def impression_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A site section lexicon in which only the Impression alerts, active for one test."""
    bundled = package_data("vocab", "sections.yaml").read_text(encoding="utf-8")
    site = bundled.replace("alerting: [findings, impression]", "alerting: [impression]")
    assert site != bundled
    path = tmp_path / "sections.yaml"
    path.write_text(site, encoding="utf-8")
    monkeypatch.setattr(detector_module, "_active", Detector(sections=load_sections(path)))


@pytest.mark.usefixtures("impression_only")
def test_redline_and_attestation_share_the_one_alerting_sections_rule() -> None:
    """Which sections alert is the critical package's rule (its section lexicon), not a
    copy in the redline or in attestation.

    Base commit: both kept ``ALERTING_SECTIONS = {findings, impression}`` of their own, so
    with a site file alerting only in the Impression the redline still reported
    ``critical_alert_added`` for a Findings statement and attestation marked it alerting.
    """
    draft = doc(findings=[st("S1", "Lungs clear.")], impression=[st("S2", "Normal.")])
    final = doc(
        findings=[st("S1", "Small pneumothorax.")], impression=[st("S2", "Small pneumothorax.")]
    )
    added = [
        c.statement_id
        for c in redline(draft, final, detect=_keyword_detector).changes
        if c.kind is ChangeKind.CRITICAL_ALERT_ADDED
    ]
    assert added == ["S2"]
    found = mentions_for_content(final.sections, draft, detect=_keyword_detector)
    assert [(m.statement_id, m.alert) for m in found] == [("S1", False), ("S2", True)]


def test_html_escapes_text_and_marks_changes() -> None:
    draft = doc(findings=[st("S1", "Mass <b>left</b> & stable.")])
    final = doc(findings=[st("S1", "Mass <script>alert(1)</script> right & stable.")])
    page = render_html(redline(draft, final, critical=False))
    assert "<script" not in page
    assert "<b>" not in page
    assert "&lt;" in page
    assert "&amp;" in page
    assert "<del>" in page
    assert "<ins>" in page
    assert 'class="badge laterality_changed"' in page


def test_lexicon_loads_and_rejects_unknown_keys(tmp_path: Path) -> None:
    """The redline's words are the shared vocabulary's; its loader rejects unknown keys."""
    from reportdraft.errors import ConfigurationError
    from reportdraft.vocab import NegationVocab, load_file, vocab_path

    assert default_lexicon().negated("not seen")
    bad = tmp_path / "negation.yaml"
    bad.write_text(vocab_path("negation.yaml").read_text("utf-8") + "\ntypo: 1\n", "utf-8")
    with pytest.raises(ConfigurationError, match="typo: Extra inputs"):
        load_file(bad, NegationVocab, "negation cues")
