"""Technique text: what a template's ``technique`` placeholders render to for a study.

A template writes its technique paragraph once, with placeholders (``{contrast}``,
``{views}`` ...) for what varies between studies of one procedure; this module is the one
place that knows the placeholders, what each renders to and which uses of them a template
file may contain (checked at load by :func:`reportdraft.templates.check_template`).
"""

from __future__ import annotations

import re
import string

from reportdraft.models import Contrast, Dose, StudyContext, Template

PLACEHOLDERS = frozenset({"contrast", "views", "dose", "laterality", "body_part", "procedure"})
"""The placeholders a template's ``technique`` may use; see :func:`technique_values`."""

_CONTRAST_TEXT = {
    Contrast.NONE: "without intravenous contrast",
    Contrast.WITH: "with intravenous contrast",
    Contrast.WITHOUT_AND_WITH: "without and with intravenous contrast",
}

_NUMBER_WORDS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]

_FORMATTER = string.Formatter()


def technique_values(study: StudyContext) -> dict[str, str]:
    """What each technique placeholder renders to for ``study``.

    - ``contrast``: ``"without intravenous contrast"``, ``"with intravenous contrast"`` or
      ``"without and with intravenous contrast"`` (from ``study.contrast``).
    - ``views``: ``"single view"``, ``"two views"`` ... ``"ten views"``, ``"12 views"``; when
      the study does not say, ``"standard views"``.
    - ``dose``: ``" CTDIvol 45.2 mGy; DLP 820 mGy·cm."`` (leading space, either part alone
      when only one is known) or ``""`` when the study carries no dose, so a template writes
      ``"...contrast.{dose}"``.
    - ``laterality``: ``"right"``, ``"left"``, ``"bilateral"`` or ``""``.
    - ``body_part``: the study's body part, lower-cased (``"CHEST"`` → ``"chest"``).
    - ``procedure``: the ordered procedure's name as the order gives it
      (``study.procedure.display``, unchanged): what the generic template's technique says,
      since it knows nothing else about the study.

    Values are lower-case; :func:`render_technique` capitalises one that starts a sentence.
    """
    return {
        "contrast": _CONTRAST_TEXT[study.contrast],
        "views": _views_text(study.views),
        "dose": _dose_text(study.dose),
        "laterality": study.laterality.value if study.laterality is not None else "",
        "body_part": " ".join(study.body_part.lower().split()),
        "procedure": " ".join(study.procedure.display.split()),
    }


def render_technique(template: Template, study: StudyContext) -> str:
    """The template's technique paragraph with its placeholders filled from ``study``.

    A value that starts a sentence is capitalised, an empty value leaves no doubled space
    or space before punctuation behind, and the first letter is upper-case.
    """
    values = technique_values(study)
    out: list[str] = []
    for literal, field, _spec, _conversion in _FORMATTER.parse(template.technique):
        out.append(literal)
        if field is None:
            continue
        value = values[field]  # unknown placeholders were rejected at load
        if value and _starts_sentence("".join(out)):
            value = value[0].upper() + value[1:]
        out.append(value)
    text = re.sub(r"[ \t]{2,}", " ", "".join(out))
    text = re.sub(r"[ \t]+([.,;:)])", r"\1", text)
    text = re.sub(r"\([ \t]+", "(", text).strip()
    return text[:1].upper() + text[1:]


def technique_problems(technique: str) -> list[str]:
    """Problems of a template's ``technique`` text, as ``technique: message`` strings.

    Only :data:`PLACEHOLDERS` may appear, without format specs or conversions, and a
    malformed brace is reported rather than raised: :func:`render_technique` trusts a
    loaded template's technique to render.
    """
    try:
        parsed = list(_FORMATTER.parse(technique))
    except ValueError as exc:
        return [f"technique: malformed placeholder ({exc}); write a literal brace as {{{{ }}}}"]
    problems = []
    allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            problems.append(f"technique: unknown placeholder {{{field}}}; allowed: {allowed}")
        elif spec or conversion:
            problems.append(
                f"technique: placeholder {{{field}}} takes no format spec or conversion"
            )
    return problems


def _views_text(views: int | None) -> str:
    if views is None:
        return "standard views"
    if views == 1:
        return "single view"
    if views < len(_NUMBER_WORDS):
        return f"{_NUMBER_WORDS[views]} views"
    return f"{views} views"


def _dose_text(dose: Dose | None) -> str:
    if dose is None:
        return ""
    parts = []
    if dose.ctdi_vol_mgy is not None:
        parts.append(f"CTDIvol {_number(dose.ctdi_vol_mgy)} mGy")
    if dose.dlp_mgy_cm is not None:
        parts.append(f"DLP {_number(dose.dlp_mgy_cm)} mGy·cm")
    return f" {'; '.join(parts)}." if parts else ""


def _number(value: float) -> str:
    """One decimal at most, no trailing ``.0``: 45.23 → ``45.2``, 820.0 → ``820``."""
    return f"{round(value, 1):.1f}".removesuffix(".0")


def _starts_sentence(prefix: str) -> bool:
    stripped = prefix.rstrip()
    return not stripped or stripped[-1] in ".!?"
