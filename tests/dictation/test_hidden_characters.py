"""Hidden characters in dictation: removed before anything reads it, and reported once.

Probe (fails on the base commit, where the sentence keeps the zero-width space)::

    python -c "from reportdraft.dictation import normalize; \
print(normalize('Small ri\\u200bght pleural effusion.').sentences[0].text)"
"""

from __future__ import annotations

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.dictation import normalize
from reportdraft.dictation.hidden import BIDI_CONTROLS, ZERO_WIDTH
from reportdraft.models import Case, Draft, DraftSection, Flag, FlagKind, Severity
from tests.factories import case_dict

INVISIBLE = BIDI_CONTROLS | ZERO_WIDTH


def _case(dictation: str) -> Case:
    return Case.model_validate({**case_dict(), "dictation": dictation})


def _draft(dictation: str) -> tuple[Case, drafting.DraftResult]:
    case = _case(dictation)
    return case, drafting.draft_case(case, create_backend("rules", BackendOptions()))


def _hidden_flags(flags: list[Flag]) -> list[Flag]:
    return [f for f in flags if f.kind is FlagKind.HIDDEN_CHARACTERS]


def _reword(draft: Draft, source: str, text: str) -> Draft:
    """``draft`` with every statement citing exactly ``source`` reading ``text``."""
    sections = [
        DraftSection(
            kind=sec.kind,
            statements=[
                st.model_copy(update={"text": text}) if st.sources == [source] else st
                for st in sec.statements
            ],
        )
        for sec in draft.sections
    ]
    return draft.model_copy(update={"sections": sections})


def test_zero_width_and_bidi_characters_are_removed_from_sentences() -> None:
    """normalize('ri\\u200bght ... \\u202eleft\\u202c'): sentence text on base keeps both."""
    raw = (
        "Small ri\u200bght pleural effusion. The \u202eleft\u202c lung is clear.\u2066 No\u2060ne."
    )
    result = normalize(raw)
    texts = [s.text for s in result.sentences]
    assert texts[0] == "Small right pleural effusion."
    assert texts[1] == "The left lung is clear."
    assert not any(ch in INVISIBLE for text in texts for ch in text)
    assert result.raw == raw  # offsets still index the transcript as given
    first = result.sentences[0]
    assert result.raw[first.start : first.end] == "Small ri\u200bght pleural effusion."


def test_control_characters_are_removed_and_cr_is_a_line_break() -> None:
    """BEL and NUL vanish, CR LF / CR break lines like LF; base keeps '\\x07' in the text."""
    result = normalize("No\x07 pneumo\x00thorax.\r\nImpression colon\rnormal.")
    assert [s.text for s in result.sentences] == ["No pneumothorax.", "Normal."]
    assert result.sentences[1].section is not None
    assert result.sentences[1].section.value == "impression"
    plain = normalize("No pneumothorax.\nImpression colon\nnormal.")
    assert [s.section for s in result.sentences] == [s.section for s in plain.sentences]


def test_a_vertical_control_still_separates_words() -> None:
    assert normalize("small\x0cright effusion.").sentences[0].text == "Small right effusion."


def test_a_leading_byte_order_mark_is_dropped_without_a_flag() -> None:
    _, result = _draft("\ufeffThe lungs are clear. No pleural effusion or pneumothorax.")
    assert result.dictation.sentences[0].text == "The lungs are clear."
    assert _hidden_flags(result.draft.flags) == []


def test_zero_width_split_laterality_is_verified_as_right() -> None:
    """'ri\u200bght' is checked as 'right': "left" gets a laterality flag, "right" passes.

    On the base commit the verifier never sees "right" in the dictation: both "left" and
    "right" get "statement says ...; its sources name no side".
    """
    case, result = _draft("Small ri\u200bght pleural effusion. No pneumothorax.")
    assert any(st.sources == ["D1"] for st in result.draft.statements())

    def check(text: str) -> list[Flag]:
        draft = _reword(result.draft, "D1", text)
        return drafting.annotate(case, result.dictation, result.template, draft).flags

    flags = check("Small left pleural effusion.")
    laterality = [f for f in flags if f.kind is FlagKind.LATERALITY]
    assert laterality, [f"{f.kind.value}: {f.message}" for f in flags]
    assert laterality[0].severity is Severity.HIGH
    assert "D1" in laterality[0].sources
    assert "right in its sources" in laterality[0].message  # base: "sources name no side"

    high = [f for f in check("Small right pleural effusion.") if f.severity is Severity.HIGH]
    assert high == [], [f"{f.kind.value}: {f.message}" for f in high]


def test_removed_hidden_characters_raise_one_low_flag_naming_them() -> None:
    """One low hidden_characters flag, with code point, sentence and offset of each."""
    raw = "Small ri\u200bght pleural effusion. No \u202epneumothorax\u202c."
    case, result = _draft(raw)
    flags = _hidden_flags(result.draft.flags)
    assert len(flags) == 1
    flag = flags[0]
    assert flag.severity is Severity.LOW
    assert flag.statement_id is None
    assert flag.sources == ["D1", "D2"]
    assert f"U+200B ZERO WIDTH SPACE at offset {raw.index(chr(0x200B))} in D1" in flag.message
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in flag.message
    assert "U+202C POP DIRECTIONAL FORMATTING" in flag.message
    assert any("ri⟦U+200B⟧ght" in e for e in flag.evidence)
    again = drafting.annotate(case, result.dictation, result.template, result.draft)
    assert len(_hidden_flags(again.flags)) == 1  # recomputed, not accumulated


def test_a_bidi_override_cannot_hide_text_from_the_checks() -> None:
    """Text under a right-to-left override is read in its stored order, and flagged.

    On screen "\\u202etfel\\u202c" shows as "left"; what the checks and the draft read is
    "tfel", visibly, and the flag says an override was there. On the base commit the
    override stays inside the sentence and no flag mentions it.
    """
    _, result = _draft("Small \u202etfel\u202c pleural effusion. No pneumothorax.")
    sentence = result.dictation.sentences[0]
    assert sentence.text == "Small tfel pleural effusion."
    assert not any(ch in INVISIBLE for st in result.draft.statements() for ch in st.text)
    flag = _hidden_flags(result.draft.flags)[0]
    assert "RIGHT-TO-LEFT OVERRIDE" in flag.message
    assert flag.sources == ["D1"]


def test_clean_dictation_raises_no_hidden_character_flag() -> None:
    _, result = _draft("Small right pleural effusion. No pneumothorax.")
    assert _hidden_flags(result.draft.flags) == []
