"""The shared plain-text form: cleaning, wrapping by escaped width, section coding."""

from __future__ import annotations

import pytest

from reportdraft.render.text import (
    LINE_WIDTH,
    clean,
    escaped_width,
    format_time,
    report_lines,
    wrap,
)
from tests.render.signed_examples import signed_example


def test_clean_removes_line_breaks_and_control_bytes() -> None:
    assert clean("a\r\nb\tc\x0bd\x00e  f") == "a b c d e f"
    assert clean("e\u0301") == "é"  # NFC: one code point, as every format will carry it


@pytest.mark.parametrize(
    "text",
    [
        "word " * 60,
        "x" * 250,
        "|" * 100,
        "a\\b " * 40,
        "short",
    ],
)
def test_wrap_bounds_escaped_width_and_keeps_words(text: str) -> None:
    lines = wrap(text)
    assert lines
    assert all(escaped_width(line) <= LINE_WIDTH for line in lines)
    if all(escaped_width(w) <= LINE_WIDTH for w in text.split()):
        assert " ".join(lines) == clean(text)
    else:
        assert "".join(lines) == clean(text).replace(" ", "")


def test_every_line_belongs_to_a_coded_section() -> None:
    lines = report_lines(signed_example("cta_chest_pe"))
    keys = [line.section for line in lines]
    assert keys[0] == "technique"
    assert "critical" in keys
    assert keys.index("impression") < keys.index("critical") < keys.index("signature")
    assert {line.code.loinc for line in lines if line.section == "findings"} == {"59776-5"}
    assert {line.code.loinc for line in lines if line.section == "impression"} == {"19005-8"}


def test_format_time_keeps_the_local_offset() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    assert format_time(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02 03:04 UTC"
    pst = timezone(timedelta(hours=-8))
    assert format_time(datetime(2026, 1, 2, 3, 4, tzinfo=pst)) == "2026-01-02 03:04 -08:00"
