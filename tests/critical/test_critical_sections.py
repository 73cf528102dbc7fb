"""Section headers and sentence splitting (regular expressions, no spaCy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reportdraft.critical.sections import (
    SectionMap,
    default_sections,
    find_headers,
    load_sections,
    section_at,
    section_spans,
    sentence_starts,
    split_sentences,
)
from reportdraft.errors import ConfigurationError
from reportdraft.models import Assertion, SectionKind


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text, find_headers(text, default_sections()))]


def test_mtsamples_style_headers_are_found_with_their_sections() -> None:
    text = (
        "EXAM: , CT chest.,REASON FOR EXAM: , Dyspnea, rule out PE.,FINDINGS: , No PE."
        ",IMPRESSION:,1. Negative study."
    )
    headers = find_headers(text, default_sections())
    assert [(h.title, h.kind.value if h.kind else None) for h in headers] == [
        ("EXAM", "technique"),
        ("REASON FOR EXAM", "clinical_history"),
        ("FINDINGS", "findings"),
        ("IMPRESSION", "impression"),
    ]
    spans = section_spans(headers, None)
    assert section_at(spans, text.index("rule out")) == "clinical_history"
    assert section_at(spans, text.index("No PE")) == "findings"
    assert section_at(spans, text.index("Negative")) == "impression"


def test_headers_need_a_colon_or_their_own_line() -> None:
    lex = default_sections()
    assert find_headers("The patient has a history: of cough.", lex) == []
    assert [h.title for h in find_headers("Findings\nNo pneumothorax.", lex)] == ["Findings"]
    unknown = find_headers("LIVER: normal. SPLEEN: normal.", lex)
    assert [h.title for h in unknown] == ["LIVER", "SPLEEN"]
    assert all(h.kind is None for h in unknown)


def test_text_before_any_header_takes_the_default_section() -> None:
    text = "Large pneumothorax. IMPRESSION: Pneumothorax."
    spans = section_spans(find_headers(text, default_sections()), "findings")
    assert section_at(spans, 0) == "findings"
    assert section_at(spans, len(text) - 3) == "impression"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No effusion. Large pneumothorax.", ["No effusion.", "Large pneumothorax."]),
        ("no effusion. small pneumothorax.", ["no effusion.", "small pneumothorax."]),
        ("Called Dr. Smith at 4 p.m. today.", ["Called Dr. Smith at 4 p.m. today."]),
        (
            "Nodule vs. atelectasis. Measures 4.5 cm.",
            ["Nodule vs. atelectasis.", "Measures 4.5 cm."],
        ),
        ("1. Acute PE. 2. No pneumothorax.", ["1. Acute PE.", "2. No pneumothorax."]),
        ("Indication: ? PE", ["Indication:", "? PE"]),
        ("No effusion\nSmall pneumothorax", ["No effusion", "Small pneumothorax"]),
        ("No evidence of\npneumothorax.", ["No evidence of\npneumothorax."]),
        ("swelling.,2. Slight asymmetry.", ["swelling.", "2. Slight asymmetry."]),
        ("Type A dissection at segment 7. Next.", ["Type A dissection at segment 7.", "Next."]),
    ],
)
def test_sentence_splitting(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_section_lexicon_rules() -> None:
    lex = default_sections()
    assert lex.is_alerting(None)
    assert lex.is_alerting("findings")
    assert lex.is_alerting("impression")
    assert not lex.is_alerting("technique")
    assert not lex.is_alerting("clinical_history")
    assert lex.override_for("clinical_history") is Assertion.HYPOTHETICAL
    assert lex.override_for("comparison") is Assertion.HISTORICAL
    assert lex.override_for("findings") is None
    assert lex.override_for(None) is None
    assert lex.kind_of("Reason  for EXAM") is not None


def test_invalid_section_files_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "sections.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "schema": "reportdraft.critical.sections/1",
                "headers": {"findings": ["findings"], "impression": ["findings"]},
                "alerting": ["findings"],
            }
        )
    )
    with pytest.raises(ConfigurationError, match="listed for"):
        load_sections(path)
    path.write_text(
        yaml.safe_dump(
            {
                "schema": "reportdraft.critical.sections/1",
                "headers": {"addendum": ["addendum"]},
                "alerting": ["findings"],
            }
        )
    )
    with pytest.raises(ConfigurationError, match="addendum"):
        load_sections(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pneumothorax? No. Effusion.", ["Pneumothorax? No.", "Effusion."]),
        ("Free air? None seen.", ["Free air? None seen."]),
        ("PE? Yes. Clot in the RLL.", ["PE?", "Yes.", "Clot in the RLL."]),
        ("Is there PE? There is.", ["Is there PE?", "There is."]),
        ("FREE AIR: None.\nLUNGS: Clear.", ["FREE AIR: None.", "LUNGS:", "Clear."]),
    ],
)
def test_short_answers_stay_with_their_question(text: str, expected: list[str]) -> None:
    from reportdraft.critical.context_rules import default_rules

    answers = tuple(default_rules().question_answers)
    headers = find_headers(text, default_sections())
    starts = sentence_starts(text, headers, answers=answers)
    got = [
        text[a:b].strip(" ,\n")
        for a, b in zip(starts, [*starts[1:], len(text)], strict=True)
        if text[a:b].strip(" ,\n")
    ]
    assert got == expected


def _sections(text: str) -> list[tuple[str, str | None, str | None]]:
    smap = SectionMap(text, default_sections(), None)
    out = []
    for a, b in split_sentences(text, smap.headers):
        if any(a <= h.start < b and h.content_start >= b for h in smap.headers):
            continue  # a header on its own
        section, ended = smap.section_of(a, b)
        out.append((text[a:b], section, ended.value if ended else None))
    return out


def test_a_bounded_header_governs_its_own_content_only() -> None:
    text = (
        "HISTORY: Chest pain. Rule out PE.\nCOMPARISON: None.\nLarge right pneumothorax.\n"
        "IMPRESSION: Pneumothorax."
    )
    assert _sections(text) == [
        ("Chest pain.", "clinical_history", None),
        ("Rule out PE.", "clinical_history", None),
        ("None.", "comparison", None),
        ("Large right pneumothorax.", "findings", "comparison"),
        ("Pneumothorax.", "impression", None),
    ]


def test_a_blank_line_ends_a_bounded_section_and_findings_are_not_bounded() -> None:
    text = "INDICATION:\n\nAcute subdural hematoma.\nFINDINGS: One. Two has history of PE."
    assert _sections(text) == [
        ("Acute subdural hematoma.", "findings", "clinical_history"),
        ("One.", "findings", None),
        ("Two has history of PE.", "findings", None),
    ]


def test_continuation_wording_is_data(tmp_path: Path) -> None:
    lex = default_sections()
    assert lex.continues(SectionKind.CLINICAL_HISTORY, "Pneumothorax?")
    assert lex.continues(SectionKind.CLINICAL_HISTORY, "Evaluate for PE.")
    assert not lex.continues(SectionKind.CLINICAL_HISTORY, "Large pneumothorax.")
    assert not lex.continues(SectionKind.CLINICAL_HISTORY, "Ahistory.")
    assert not lex.continues(SectionKind.FINDINGS, "history of")
    path = tmp_path / "sections.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "schema": "reportdraft.critical.sections/1",
                "headers": {"findings": ["findings"]},
                "alerting": ["findings"],
                "bounded": {"findings": {"continues_with": ["x"], "ends_with": ["y"]}},
            }
        )
    )
    with pytest.raises(ConfigurationError, match="ends_with"):
        load_sections(path)


def test_an_empty_comparison_line_owns_nothing_but_an_indication_line_break_does() -> None:
    text = "INDICATION:\nPneumothorax?\nCOMPARISON:\nLarge right pneumothorax."
    assert _sections(text) == [
        ("Pneumothorax?", "clinical_history", None),
        ("Large right pneumothorax.", "findings", "comparison"),
    ]
    assert _sections("COMPARISON: Outside CT.\nPrior study was outside.") == [
        ("Outside CT.", "comparison", None),
        ("Prior study was outside.", "comparison", None),
    ]
