"""The fast structural HL7 validation: equal to hl7apy's tables, catches malformed messages.

Every message the renderer writes for the examples passes it and hl7apy's strict parse;
messages broken in one place each (a required field emptied, an unknown segment, segments
out of order, a value too long or of the wrong form, too many fields, components or
repetitions, a payload that is not base64) are refused with the place named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from reportdraft.errors import RenderError
from reportdraft.models import ReportStatus
from reportdraft.render import hl7 as hl7_module
from reportdraft.render import render_hl7, render_pdf
from reportdraft.render.hl7_structure import oru_structure
from reportdraft.resources import package_data
from tests.render.signed_examples import (
    EXAMPLE_NAMES,
    load_case,
    open_report,
    sign_case,
    signed_example,
)

BASE_TYPES = ("ST", "ID", "DT", "DTM", "FT", "GTS", "IS", "NM", "SI", "TM", "TX", "WD", "varies")


def test_the_yaml_spells_hl7apys_v251_tables() -> None:
    from hl7apy.v2_5_1.datatypes import DATATYPES, DATATYPES_STRUCTS
    from hl7apy.v2_5_1.fields import FIELDS
    from hl7apy.v2_5_1.segments import SEGMENTS

    spec = yaml.safe_load(package_data("render", "hl7_v251_oru.yaml").read_text("utf-8"))
    for name, fields in spec["segments"].items():
        expected = []
        for field_name, _, (low, high), _ in SEGMENTS[name][1]:
            kind = FIELDS[field_name][2] or "WD"  # hl7apy leaves OBX-20..22 untyped
            expected.append([kind, low, high])
        assert fields == expected, name
    for name, components in spec["composites"].items():
        if name == "ED":  # added by hand: hl7apy types OBX-5 as "varies"
            assert components == ["HD", "ID", "ID", "ID", "TX"]
            continue
        assert components == [DATATYPES[c[0]][2] for c in DATATYPES_STRUCTS[name]], name
    used = {t for fields in spec["segments"].values() for t, _, _ in fields}
    used |= {t for parts in spec["composites"].values() for t in parts}
    assert used - set(BASE_TYPES) <= set(spec["composites"])


def _strict_ok(message: str) -> None:
    """hl7apy's strict parse and validation (raises RenderError when it fails)."""
    hl7_module.validate_er7(message)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_message_passes_both_validations(name: str) -> None:
    report = signed_example(name)
    for message in (render_hl7(report), render_hl7(report, pdf=render_pdf(report))):
        assert oru_structure().problems(message) == []
        _strict_ok(message)


def test_a_preview_and_a_preliminary_pass_both_validations() -> None:
    preview = render_hl7(open_report(load_case("ct_head_ich")), preview=True)
    prelim = render_hl7(sign_case(load_case("cta_chest_pe"), status=ReportStatus.PRELIMINARY))
    for message in (preview, prelim):
        assert oru_structure().problems(message) == []
        _strict_ok(message)


def _segment(message: str, name: str) -> int:
    return next(i for i, s in enumerate(message.split("\r")) if s.startswith(name + "|"))


def _edit_field(name: str, index: int, value: str) -> Callable[[str], str]:
    """Set field ``index`` of the first ``name`` segment (MSH counts MSH-1 as the bar)."""

    def edit(message: str) -> str:
        segments = message.split("\r")
        at = _segment(message, name)
        fields = segments[at].split("|")
        position = index - 1 if name == "MSH" else index
        fields += [""] * (position + 1 - len(fields))
        fields[position] = value
        segments[at] = "|".join(fields)
        return "\r".join(segments)

    return edit


def _swap_first_obx_and_obr(message: str) -> str:
    segments = message.split("\r")
    obr, obx = _segment(message, "OBR"), _segment(message, "OBX")
    segments[obr], segments[obx] = segments[obx], segments[obr]
    return "\r".join(segments)


BROKEN: list[Any] = [
    pytest.param(_edit_field("MSH", 10, ""), "MSH-10: required field is empty", id="no-MSH-10"),
    pytest.param(_edit_field("MSH", 9, ""), "MSH-9: required field is empty", id="no-MSH-9"),
    pytest.param(_edit_field("PID", 5, ""), "PID-5: required field is empty", id="no-PID-5"),
    pytest.param(_edit_field("OBX", 11, ""), "OBX-11: required field is empty", id="no-OBX-11"),
    pytest.param(
        lambda m: m.replace("\rPV1|", "\rZZZ|", 1), "unknown segment 'ZZZ|", id="bad-segment"
    ),
    pytest.param(lambda m: m.replace("\rPV1|", "\rPV1X|", 1), "unknown segment", id="bad-id"),
    pytest.param(_swap_first_obx_and_obr, "out of ORU^R01 order", id="order"),
    pytest.param(lambda m: m + "\rMSH|^~\\&|X", "out of ORU^R01 order", id="second-MSH"),
    pytest.param(lambda m: "MSH|^~#&" + m[8:], "starts with", id="encoding-characters"),
    pytest.param(
        lambda m: m.replace("\rOBR|", "\rOBR|1|" + "x" * 300 + "|", 1),
        "ST longer than 199",
        id="long-value",
    ),
    pytest.param(_edit_field("MSH", 7, "2026-11-27"), "is not a valid DTM", id="bad-DTM"),
    pytest.param(_edit_field("OBX", 1, "one"), "is not a valid SI", id="bad-SI"),
    pytest.param(_edit_field("PV1", 60, "x"), "fields, v2.5.1 defines 52", id="many-fields"),
    pytest.param(
        _edit_field("OBX", 3, "a^b^LN^c^d^LN^e"), "7 parts, CE has 6", id="many-components"
    ),
    pytest.param(
        _edit_field("OBR", 32, "1&2&3&4&5&6&7&8&9&10&11&12"),
        "12 parts, CNN has 11",
        id="many-subcomponents",
    ),
    pytest.param(_edit_field("PID", 1, "1~2"), "2 repetitions, at most 1", id="repeats"),
    pytest.param(_edit_field("MSH", 12, "2.3"), "MSH-12 is '2.3'", id="version"),
    pytest.param(
        _edit_field("MSH", 9, "ADT^A01^ADT_A01"), "MSH-9 is 'ADT^A01^ADT_A01'", id="msg-type"
    ),
]


@pytest.mark.parametrize(("break_it", "problem"), BROKEN)
def test_a_malformed_message_is_refused_with_the_place_named(
    break_it: Callable[[str], str], problem: str
) -> None:
    message = render_hl7(signed_example("xr_chest_normal"))
    assert oru_structure().problems(message) == []
    broken = break_it(message)
    problems = oru_structure().problems(broken)
    assert any(problem in p for p in problems), problems
    with pytest.raises(RenderError, match="structural validation"):
        oru_structure().check(broken)


def test_an_ed_payload_that_is_not_base64_is_refused() -> None:
    report = signed_example("xr_chest_normal")
    message = render_hl7(report, pdf=render_pdf(report))
    broken = message[:-8] + "!!not-b64"
    assert any("ED data is not base64" in p for p in oru_structure().problems(broken))


def test_render_refuses_what_the_structure_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    real = hl7_module.header_segments

    def without_control_id(*args: Any, **kwargs: Any) -> list[str]:
        segments = real(*args, **kwargs)
        fields = segments[0].split("|")
        fields[9] = ""  # MSH-10
        return ["|".join(fields), *segments[1:]]

    monkeypatch.setattr(hl7_module, "header_segments", without_control_id)
    with pytest.raises(RenderError, match="MSH-10: required field is empty"):
        render_hl7(signed_example("xr_chest_normal"))


def test_strict_also_runs_hl7apy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = hl7_module.validate_er7

    def spy(message: str) -> None:
        seen.append(message)
        real(message)

    monkeypatch.setattr(hl7_module, "validate_er7", spy)
    report = signed_example("mr_knee")
    fast = render_hl7(report, control_id="C1", now=report.current.created_at)
    assert seen == []
    strict = render_hl7(report, control_id="C1", now=report.current.created_at, strict=True)
    assert seen == [strict]
    assert strict == fast
