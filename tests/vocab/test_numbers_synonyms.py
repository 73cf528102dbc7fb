"""Number words, units and drafting synonyms are data, read by every stage that uses them.

Before issue 14 the verifier's units and number words were tables in
``verification/quantities.py``, the redline's in ``data/redline/clinical.yaml``, dictation's
in ``data/dictation/numbers.yaml``, and the drafter's synonyms a dict in
``drafting/deterministic.py``. Now ``numbers.yaml`` and ``synonyms.yaml`` hold them once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportdraft import vocab
from reportdraft.dictation import load_lexicon as dictation_lexicon
from reportdraft.drafting import deterministic
from reportdraft.errors import ConfigurationError
from reportdraft.redline import default_lexicon
from reportdraft.verification import quantities
from reportdraft.verification.quantities import scan_numbers
from reportdraft.vocab import NumbersVocab, load_file, vocab_path


def test_verifier_units_and_words_come_from_numbers_yaml() -> None:
    numbers = vocab.numbers()
    assert [u for _pattern, u, _dim, _factor in quantities._UNITS] == [
        u.unit for u in numbers.measurement_units
    ]
    assert {w: v for w, v in numbers.count_words().items() if v >= 2} == quantities._WORDS


def test_measurements_normalise_as_before() -> None:
    """ "2.3 cm" is "23 mm"; "5 cc" is "5 mL"; a DLP is not a dose."""
    first, second = (scan_numbers(t).quantities[0] for t in ("2.3 cm", "23 mm"))
    assert first.same_as(second)
    assert scan_numbers("5 cc").quantities[0].unit == "mL"
    dlp = scan_numbers("DLP 450 mGy-cm").quantities[0]
    assert (dlp.unit, dlp.dimension) == ("mGy·cm", "dlp")


def test_redline_and_dictation_read_the_same_number_words() -> None:
    numbers = vocab.numbers()
    assert default_lexicon().number_words == numbers.count_words()
    assert dictation_lexicon().ones == numbers.ones
    assert default_lexicon().quantities("two nodules, 5 cc") == {"2": 1, "5 cc": 1}


def test_dictation_units_must_be_measurement_units(tmp_path: Path) -> None:
    text = vocab_path("numbers.yaml").read_text("utf-8")
    bad = tmp_path / "numbers.yaml"
    bad.write_text(text.replace("  HU: [hounsfield unit", "  Hz: [hounsfield unit"), "utf-8")
    with pytest.raises(ConfigurationError, match=r"numbers\.yaml: .*\['Hz'\] are not measurement"):
        load_file(bad, NumbersVocab, "number vocabulary")


def test_a_bad_unit_pattern_is_rejected(tmp_path: Path) -> None:
    text = vocab_path("numbers.yaml").read_text("utf-8")
    bad = tmp_path / "numbers.yaml"
    bad.write_text(text.replace("written: [mbq]", "written: ['mb(q']"), "utf-8")
    with pytest.raises(ConfigurationError, match=r"measurement_units\.9: .*'mb\(q'"):
        load_file(bad, NumbersVocab, "number vocabulary")


def test_drafter_synonyms_come_from_synonyms_yaml() -> None:
    groups = vocab.synonyms()
    assert "bleed" in groups["hemorrhage"]
    assert "free air" in groups["pneumoperitoneum"]
    # the drafter's term expansion: "bleed" in a dictated sentence names a hemorrhage
    assert "hemorrhage" in deterministic._terms("Small bleed in the left frontal lobe.")
    assert "pneumoperitoneum" in deterministic._terms("Free air under the diaphragm.")
    assert "hemorrhage" not in deterministic._terms("Small nodule in the left lower lobe.")
