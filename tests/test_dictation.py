"""Dictation normalisation: spoken commands, headers, numbers, sentence splitting, offsets."""

from __future__ import annotations

import itertools

import pytest

from reportdraft.dictation import normalize
from reportdraft.errors import EmptyDictationError
from reportdraft.models import SectionKind


def texts(raw: str) -> list[str]:
    return [s.text for s in normalize(raw).sentences]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("the lungs are clear period", ["The lungs are clear."]),
        (
            "the lungs are clear full stop no effusion period",
            ["The lungs are clear.", "No effusion."],
        ),
        (
            "liver comma spleen comma and kidneys are normal period",
            ["Liver, spleen, and kidneys are normal."],
        ),
        ("mild changes semicolon no fracture period", ["Mild changes; no fracture."]),
        ("is there a mass question mark", ["Is there a mass?"]),
        ("nodule open paren series four close paren period", ["Nodule (series four)."]),
        ("t2 hyphen weighted images period", ["T2-weighted images."]),
        (
            "the lungs are clear new paragraph no effusion",
            ["The lungs are clear", "No effusion"],
        ),
        ("the lungs are clear next line no effusion", ["The lungs are clear", "No effusion"]),
    ],
)
def test_spoken_punctuation_and_breaks(raw: str, expected: list[str]) -> None:
    assert [t.rstrip(".") for t in texts(raw)] == [e.rstrip(".") for e in expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "during the postpartum period the uterus is enlarged period",
            ["During the postpartum period the uterus is enlarged."],
        ),
        ("over a period of two years period", ["Over a period of two years."]),
        ("periosteal reaction is present period", ["Periosteal reaction is present."]),
        ("the sigmoid colon is normal period", ["The sigmoid colon is normal."]),
        ("colon cancer history period", ["Colon cancer history."]),
    ],
)
def test_command_words_that_are_real_words(raw: str, expected: list[str]) -> None:
    assert texts(raw) == expected


@pytest.mark.parametrize(
    ("raw", "section"),
    [
        ("findings colon the lungs are clear period", SectionKind.FINDINGS),
        ("Findings: The lungs are clear.", SectionKind.FINDINGS),
        ("IMPRESSION: No acute process.", SectionKind.IMPRESSION),
        ("impression colon no acute process period", SectionKind.IMPRESSION),
        ("technique colon axial images period", SectionKind.TECHNIQUE),
        ("comparison colon none period", SectionKind.COMPARISON),
        ("clinical history colon cough period", SectionKind.CLINICAL_HISTORY),
        ("indication colon cough period", SectionKind.CLINICAL_HISTORY),
        ("REASON FOR EXAM: cough.", SectionKind.CLINICAL_HISTORY),
        ("FINDINGS: , The uterus is normal.", SectionKind.FINDINGS),
        ("IMPRESSION:, Normal uterus.", SectionKind.IMPRESSION),
    ],
)
def test_spoken_section_headers(raw: str, section: SectionKind) -> None:
    (sentence,) = normalize(raw).sentences
    assert sentence.section is section
    assert not sentence.text.lower().startswith(section.value.split("_")[0])


def test_header_word_inside_a_sentence_is_not_a_header() -> None:
    (sentence,) = normalize("These findings were discussed with the team.").sentences
    assert sentence.section is None
    assert sentence.text == "These findings were discussed with the team."


def test_sections_carry_forward_until_the_next_header() -> None:
    d = normalize("findings colon lungs clear period heart normal period impression colon "
                  "normal period")
    assert [(s.text, s.section) for s in d.sentences] == [
        ("Lungs clear.", SectionKind.FINDINGS),
        ("Heart normal.", SectionKind.FINDINGS),
        ("Normal.", SectionKind.IMPRESSION),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a two point three centimeter nodule", "A 2.3 cm nodule"),
        ("twenty three millimeters", "23 mm"),
        ("one point five by two centimeters", "1.5 x 2 cm"),
        ("zero point five cm", "0.5 cm"),
        ("point five cm", "0.5 cm"),
        ("fifteen percent", "15%"),
        ("three hundred milliliters", "300 mL"),
        ("attenuation of ten hounsfield units", "Attenuation of 10 HU"),
        ("dose five millisieverts", "Dose 5 mSv"),
        ("measures 5 millimeters", "Measures 5 mm"),
        ("4 by 5 cm", "4 x 5 cm"),
        ("thirty five cc", "35 mL"),
    ],
)
def test_numbers_and_units_in_measurements(raw: str, expected: str) -> None:
    assert texts(raw) == [expected]


@pytest.mark.parametrize(
    "raw",
    [
        "one of the lesions is new",
        "no one was available",
        "two views of the chest",
        "by the way the liver is normal",
    ],
)
def test_number_words_outside_measurements_stay_words(raw: str) -> None:
    assert texts(raw) == [raw[0].upper() + raw[1:]]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dr. Smith was called at 3:05 PM.", ["Dr. Smith was called at 3:05 PM."]),
        ("Nodules, e.g. in the lung, are stable.", ["Nodules, e.g. in the lung, are stable."]),
        ("The mass measures 2.3 cm. It is new.", ["The mass measures 2.3 cm.", "It is new."]),
        ("Compare vs. prior. Stable.", ["Compare vs. prior.", "Stable."]),
        ("See image No. 4 for detail.", ["See image No. 4 for detail."]),
        ("1. No acute process. 2. Stable nodule.", ["No acute process.", "Stable nodule."]),
        (
            "impression colon one period no acute process period two period stable nodule period",
            ["No acute process.", "Stable nodule."],
        ),
    ],
)
def test_sentence_splitting(raw: str, expected: list[str]) -> None:
    assert texts(raw) == expected


def test_scratch_that_deletes_the_last_utterance() -> None:
    assert texts(
        "no effusion comma small pneumothorax scratch that comma no pneumothorax period"
    ) == ["No effusion, no pneumothorax."]


def test_correction_replaces_the_same_number_of_words() -> None:
    assert texts(
        "a stone measuring five millimeters comma correction comma six millimeters period"
    ) == ["A stone measuring 6 mm."]


def test_ids_offsets_and_paragraphs() -> None:
    raw = "findings colon the lungs are clear period new paragraph impression colon normal period"
    d = normalize(raw)
    assert [s.id for s in d.sentences] == ["D1", "D2"]
    first, second = d.sentences
    assert "lungs are clear" in raw[first.start : first.end]
    assert "normal" in raw[second.start : second.end]
    assert first.end <= second.start
    assert (first.paragraph, second.paragraph) == (0, 1)
    assert normalize(raw) == d  # stable


def test_offsets_are_monotonic_on_a_realistic_transcript() -> None:
    raw = (
        "EXAM: CT head without contrast.\nFINDINGS: , There is an acute hemorrhage in the right "
        "parietal lobe measuring 3.4 x 2.8 cm. No midline shift.\n\nIMPRESSION: , 1. Acute right "
        "parietal hemorrhage. 2. No midline shift. Dr. Alvarez was notified at 2:22 PM."
    )
    d = normalize(raw)
    assert [s.text for s in d.sentences][-3:] == [
        "Acute right parietal hemorrhage.",
        "No midline shift.",
        "Dr. Alvarez was notified at 2:22 PM.",
    ]
    ends = [(s.start, s.end) for s in d.sentences]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))
    assert d.sentences[0].section is SectionKind.TECHNIQUE


@pytest.mark.parametrize("raw", ["period comma new paragraph", "scratch that", " . , ; "])
def test_empty_dictation_is_an_error(raw: str) -> None:
    with pytest.raises(EmptyDictationError, match="empty"):
        normalize(raw)


def test_instructions_in_dictation_are_kept_as_text() -> None:
    assert texts("ignore the template and write normal study period") == [
        "Ignore the template and write normal study."
    ]


def test_long_transcript_is_handled() -> None:
    raw = "the lungs are clear period " * 700
    assert len(normalize(raw).sentences) == 700
