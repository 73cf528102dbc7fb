"""Redline: the radiologist's edits to the model's draft, word by word and clinically.

Statements are aligned by id (edited statements keep their ids), so a statement whose id
now sits in another section is a *move*, not a delete plus an insert. Within an aligned
pair the text diff is word-level, computed by the standard library's
``difflib.SequenceMatcher`` (well-kept, no extra dependency, and its longest-matching-block
alignment reads naturally as a redline) on word and punctuation tokens.

On top of the text diff each statement is classified for clinically significant changes
(:class:`ChangeKind`): negation flipped, laterality changed, a number or unit changed, a
finding added or removed, the impression changed, a critical-finding alert added or
removed (the last through ``reportdraft.critical.detect_text``).
The words behind the classes are the shared clinical vocabulary (:mod:`reportdraft.vocab`):
negation cues (``negation.yaml``, its ``redline`` list), side words (``laterality.yaml``,
the verifier's list too), number words and the units compared as written (``numbers.yaml``).

Edit statistics (:class:`EditStats`) are the figures QA teams use to measure how much a
draft saved: words added/deleted/changed, the share of statements accepted unchanged, the
share of draft words kept and the word edit distance normalised by length. The edit
distance is that of the diff's alignment (each replaced run costs the longer side), an
upper bound of the minimal Levenshtein distance that matches what the redline shows.
"""

from __future__ import annotations

import difflib
import functools
import html
import re
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from reportdraft import vocab
from reportdraft.critical import DetectText, alerting_sections, detect_text
from reportdraft.models import (
    SECTION_TITLES,
    Draft,
    DraftSection,
    SectionKind,
    Statement,
    Strict,
)
from reportdraft.models.report import ReportVersion

FINDING_SECTIONS = frozenset({SectionKind.FINDINGS, SectionKind.IMPRESSION})
"""Sections where an added or removed statement is a finding added or removed (the
redline's own change classes). Which sections *alert* is the critical package's rule
(:func:`reportdraft.critical.alerting_sections`), asked for separately."""


class RedlineLexicon:
    """Compiled patterns of the clinical-change classes, built from the shared vocabulary."""

    def __init__(
        self,
        negation: vocab.NegationVocab,
        laterality: vocab.LateralityVocab,
        numbers: vocab.NumbersVocab,
    ) -> None:
        cues = sorted(negation.redline, key=len, reverse=True)
        self.negation = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(c) for c in cues) + r")(?!\w)", re.I
        )
        self.sides = {term: side.value for term, side in laterality.side_of().items()}
        # longest first, so "left-sided" is read whole and not as "left" plus "-sided"
        terms = sorted(self.sides, key=len, reverse=True)
        self.side_pattern = re.compile(
            r"(?<!\w)(" + "|".join(re.escape(w) for w in terms) + r")(?!\w)", re.I
        )
        self.number_words = numbers.count_words()
        units = sorted(numbers.redline_units, key=len, reverse=True)
        words = "|".join(re.escape(w) for w in self.number_words)
        number = r"\d+(?:\.\d+)?" + (f"|{words}" if words else "")
        self.numbers = re.compile(
            r"(?<![\w.])("
            + number
            + r")(?:\s*-?\s*("
            + "|".join(re.escape(u) for u in units)
            + r"))?(?![\w%])",
            re.I,
        )

    def negated(self, text: str) -> bool:
        """True when ``text`` holds a negation cue."""
        return self.negation.search(text) is not None

    def laterality(self, text: str) -> Counter[str]:
        """Canonical sides named in ``text``, counted."""
        return Counter(self.sides[m.group(1).lower()] for m in self.side_pattern.finditer(text))

    def quantities(self, text: str) -> Counter[str]:
        """Numbers with their unit (``6 mm``, ``2``), normalised (``6.0 mm`` = ``6 mm``)."""
        found: Counter[str] = Counter()
        for match in self.numbers.finditer(text):
            raw, unit = match.group(1).lower(), (match.group(2) or "").lower()
            value = Decimal(self.number_words[raw]) if raw in self.number_words else Decimal(raw)
            normal = value.normalize()
            shown = format(normal, "f")
            found[f"{shown} {unit}".strip()] += 1
        return found


@functools.cache
def default_lexicon() -> RedlineLexicon:
    """The bundled vocabulary, compiled (validated on first use; a broken file fails loudly)."""
    return RedlineLexicon(vocab.negation(), vocab.laterality(), vocab.numbers())


class ChangeKind(StrEnum):
    """Clinically significant change classes."""

    NEGATION_FLIPPED = "negation_flipped"
    LATERALITY_CHANGED = "laterality_changed"
    NUMBER_CHANGED = "number_changed"
    FINDING_ADDED = "finding_added"
    FINDING_REMOVED = "finding_removed"
    IMPRESSION_CHANGED = "impression_changed"
    CRITICAL_ALERT_ADDED = "critical_alert_added"
    CRITICAL_ALERT_REMOVED = "critical_alert_removed"


class StatementStatus(StrEnum):
    """What happened to a statement between draft and final."""

    UNCHANGED = "unchanged"
    EDITED = "edited"
    MOVED = "moved"
    ADDED = "added"
    DELETED = "deleted"


class DiffOp(Strict):
    """One run of the word diff; ``old``/``new`` keep their original spacing.

    Runs are matched case-insensitively, so an ``equal`` run may differ in case between
    ``old`` and ``new``.
    """

    model_config = ConfigDict(str_strip_whitespace=False)

    op: Literal["equal", "insert", "delete", "replace"]
    old: str = ""
    new: str = ""


class ClinicalChange(Strict):
    """A clinically significant change, with the statement and its sources."""

    kind: ChangeKind
    statement_id: str
    section: SectionKind
    detail: str
    before: str | None = None
    after: str | None = None
    sources: list[str] = Field(default_factory=list)


class StatementDiff(Strict):
    """One statement's redline. ``edited`` is also true for a moved statement whose text changed."""

    statement_id: str
    status: StatementStatus
    edited: bool
    from_section: SectionKind | None
    to_section: SectionKind | None
    old_text: str | None
    new_text: str | None
    sources: list[str]
    ops: list[DiffOp]
    words_added: int = 0
    words_deleted: int = 0
    words_changed: int = 0
    words_kept: int = 0
    distance: int = 0
    changes: list[ChangeKind] = Field(default_factory=list)


class SectionDiff(Strict):
    """A section of the final report with deleted statements shown where they were."""

    kind: SectionKind
    statements: list[StatementDiff]


class EditStats(Strict):
    """Per-report edit statistics (ratios are 0..1; 1.0 kept = nothing changed)."""

    draft_statements: int
    final_statements: int
    unchanged: int
    edited: int
    moved: int
    added: int
    deleted: int
    draft_words: int
    final_words: int
    words_added: int
    words_deleted: int
    words_changed: int
    words_kept: int
    accepted_unchanged_ratio: float
    draft_words_kept_ratio: float
    edit_distance: int
    normalized_edit_distance: float


class Redline(Strict):
    """The redline of one report: section diffs, clinical changes and statistics.

    ``critical_checked`` is false when no critical-finding detector was available, in
    which case critical alert changes were not looked for.
    """

    schema_version: Literal["1"] = "1"
    accession_number: str
    sections: list[SectionDiff]
    changes: list[ClinicalChange]
    stats: EditStats
    critical_checked: bool


_TOKEN = re.compile(r"\s*(?:\w+(?:[.,'/-]\w+)*%?|[^\w\s])")


def tokenize(text: str) -> list[str]:
    """Word and punctuation tokens, each with the whitespace before it (joined = text)."""
    tokens = _TOKEN.findall(text)
    rest = len(text) - sum(len(t) for t in tokens)
    if rest:
        tokens.append(text[len(text) - rest :])
    return tokens


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _words(tokens: Sequence[str]) -> int:
    return sum(_is_word(t) for t in tokens)


def word_count(text: str) -> int:
    """Number of word tokens in ``text``."""
    return _words(tokenize(text))


def _word_diff(old: str, new: str) -> tuple[list[DiffOp], dict[str, int]]:
    a, b = tokenize(old), tokenize(new)
    # Case-insensitive: a word capitalised because it now starts the sentence is kept.
    matcher = difflib.SequenceMatcher(
        None, [t.strip().lower() for t in a], [t.strip().lower() for t in b], autojunk=False
    )
    ops: list[DiffOp] = []
    counts = dict.fromkeys(("added", "deleted", "changed", "kept", "distance"), 0)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_part, new_part = "".join(a[i1:i2]), "".join(b[j1:j2])
        m, n = _words(a[i1:i2]), _words(b[j1:j2])
        if tag == "equal":
            counts["kept"] += m
        else:
            common = min(m, n)
            counts["changed"] += common
            counts["deleted"] += m - common
            counts["added"] += n - common
            counts["distance"] += max(m, n)
        ops.append(DiffOp(op=tag, old=old_part, new=new_part))
    return ops, counts


def _alerts(text: str | None, section: SectionKind | None, detect: DetectText) -> dict[str, str]:
    if text is None or section not in alerting_sections():
        return {}
    return {m.finding_code: m.label for m in detect(text) if m.alert}


def _classify(
    diff: StatementDiff, lex: RedlineLexicon, detect: DetectText | None
) -> list[tuple[ChangeKind, str]]:
    old, new = diff.old_text, diff.new_text
    found: list[tuple[ChangeKind, str]] = []
    if old is not None and new is not None and old != new:
        if lex.negated(old) != lex.negated(new):
            found.append(
                (
                    ChangeKind.NEGATION_FLIPPED,
                    "negation removed" if lex.negated(old) else "negation added",
                )
            )
        before, after = lex.laterality(old), lex.laterality(new)
        if before != after:
            found.append((ChangeKind.LATERALITY_CHANGED, f"{_show(before)} → {_show(after)}"))
        before, after = lex.quantities(old), lex.quantities(new)
        if before != after:
            found.append((ChangeKind.NUMBER_CHANGED, f"{_show(before)} → {_show(after)}"))
    if diff.status is StatementStatus.ADDED and diff.to_section in FINDING_SECTIONS:
        found.append((ChangeKind.FINDING_ADDED, f"added to {diff.to_section.value}"))
    if diff.status is StatementStatus.DELETED and diff.from_section in FINDING_SECTIONS:
        found.append((ChangeKind.FINDING_REMOVED, f"removed from {diff.from_section.value}"))
    touches_impression = SectionKind.IMPRESSION in (diff.from_section, diff.to_section)
    if touches_impression and diff.status is not StatementStatus.UNCHANGED:
        found.append((ChangeKind.IMPRESSION_CHANGED, f"impression statement {diff.status.value}"))
    if detect is not None and diff.status is not StatementStatus.UNCHANGED:
        before_alerts = _alerts(old, diff.from_section, detect)
        after_alerts = _alerts(new, diff.to_section, detect)
        for code in sorted(after_alerts.keys() - before_alerts.keys()):
            found.append((ChangeKind.CRITICAL_ALERT_ADDED, after_alerts[code]))
        for code in sorted(before_alerts.keys() - after_alerts.keys()):
            found.append((ChangeKind.CRITICAL_ALERT_REMOVED, before_alerts[code]))
    return found


def _show(counter: Counter[str]) -> str:
    return ", ".join(sorted(counter.elements())) or "none"


def _final_sections(final: Draft | ReportVersion | Sequence[DraftSection]) -> list[DraftSection]:
    if isinstance(final, Draft):
        return list(final.sections)
    if isinstance(final, ReportVersion):
        return list(final.content)
    return list(final)


def _one_sided_diff(sid: str, side: tuple[SectionKind, Statement], *, added: bool) -> StatementDiff:
    """A statement only in the final report (``added``) or only in the draft (deleted)."""
    kind, statement = side
    text = statement.text
    words = word_count(text)
    return StatementDiff(
        statement_id=sid,
        status=StatementStatus.ADDED if added else StatementStatus.DELETED,
        edited=False,
        from_section=None if added else kind,
        to_section=kind if added else None,
        old_text=None if added else text,
        new_text=text if added else None,
        sources=list(dict.fromkeys(statement.sources)),
        ops=[DiffOp(op="insert", new=text) if added else DiffOp(op="delete", old=text)],
        words_added=words if added else 0,
        words_deleted=0 if added else words,
        distance=words,
    )


def _statement_diff(
    sid: str,
    old: tuple[SectionKind, Statement] | None,
    new: tuple[SectionKind, Statement],
) -> StatementDiff:
    """A statement of the final report against its draft side, if the draft had it."""
    if old is None:
        return _one_sided_diff(sid, new, added=True)
    old_text, new_text = old[1].text, new[1].text
    sources = list(dict.fromkeys([*old[1].sources, *new[1].sources]))
    ops, counts = _word_diff(old_text, new_text)
    edited = old_text != new_text
    moved = old[0] != new[0]
    status = (
        StatementStatus.MOVED
        if moved
        else StatementStatus.EDITED
        if edited
        else StatementStatus.UNCHANGED
    )
    return StatementDiff(
        statement_id=sid,
        status=status,
        edited=edited,
        from_section=old[0],
        to_section=new[0],
        old_text=old_text,
        new_text=new_text,
        sources=sources,
        ops=ops,
        words_added=counts["added"],
        words_deleted=counts["deleted"],
        words_changed=counts["changed"],
        words_kept=counts["kept"],
        distance=counts["distance"],
    )


def redline(
    draft: Draft,
    final: Draft | ReportVersion | Sequence[DraftSection],
    *,
    detect: DetectText | None = None,
    critical: bool = True,
    lexicon: RedlineLexicon | None = None,
) -> Redline:
    """Compare the model's ``draft`` with the radiologist's ``final`` content.

    ``final`` may be an edited draft, a report version (its ``content``) or a list of
    sections. ``detect`` finds critical mentions in a statement's text (default:
    :func:`reportdraft.critical.detect_text`); ``critical=False`` skips the critical
    alert classes.
    """
    lex = lexicon or default_lexicon()
    if critical and detect is None:
        detect = detect_text
    if not critical:
        detect = None
    old = {st.id: (sec.kind, st) for sec in draft.sections for st in sec.statements}
    final_sections = _final_sections(final)
    new = {st.id: (sec.kind, st) for sec in final_sections for st in sec.statements}
    kinds = [k for k in SectionKind if any(s.kind == k for s in [*draft.sections, *final_sections])]
    sections: list[SectionDiff] = []
    changes: list[ClinicalChange] = []
    diffs: dict[str, StatementDiff] = {}
    for kind in kinds:
        # Each entry with the section its change is reported in: where the final report has
        # the statement, or where the draft had it for a deleted one.
        entries = [
            (new[st.id][0], _statement_diff(st.id, old.get(st.id), new[st.id]))
            for sec in final_sections
            if sec.kind == kind
            for st in sec.statements
        ]
        draft_statements = draft.section(kind)
        for index, st in enumerate(draft_statements):
            if st.id in new:
                continue
            anchor = 0
            for prev in reversed(draft_statements[:index]):
                pos = next(
                    (i for i, (_, e) in enumerate(entries) if e.statement_id == prev.id), None
                )
                if pos is not None:
                    anchor = pos + 1
                    break
            side = old[st.id]
            entries.insert(anchor, (side[0], _one_sided_diff(st.id, side, added=False)))
        classified = []
        for section, entry in entries:
            found = _classify(entry, lex, detect)
            entry = entry.model_copy(update={"changes": [k for k, _ in found]})
            classified.append(entry)
            diffs[entry.statement_id] = entry
            changes.extend(
                ClinicalChange(
                    kind=k,
                    statement_id=entry.statement_id,
                    section=section,
                    detail=detail,
                    before=entry.old_text,
                    after=entry.new_text,
                    sources=entry.sources,
                )
                for k, detail in found
            )
        sections.append(SectionDiff(kind=kind, statements=classified))
    return Redline(
        accession_number=draft.accession_number,
        sections=sections,
        changes=changes,
        stats=_stats(list(diffs.values()), len(old), len(new)),
        critical_checked=detect is not None,
    )


def _stats(diffs: Sequence[StatementDiff], n_draft: int, n_final: int) -> EditStats:
    status = Counter(d.status for d in diffs)
    draft_words = sum(word_count(d.old_text) for d in diffs if d.old_text is not None)
    final_words = sum(word_count(d.new_text) for d in diffs if d.new_text is not None)
    kept = sum(d.words_kept for d in diffs)
    distance = sum(d.distance for d in diffs)
    longest = max(draft_words, final_words)
    return EditStats(
        draft_statements=n_draft,
        final_statements=n_final,
        unchanged=status[StatementStatus.UNCHANGED],
        edited=status[StatementStatus.EDITED]
        + sum(d.edited for d in diffs if d.status is StatementStatus.MOVED),
        moved=status[StatementStatus.MOVED],
        added=status[StatementStatus.ADDED],
        deleted=status[StatementStatus.DELETED],
        draft_words=draft_words,
        final_words=final_words,
        words_added=sum(d.words_added for d in diffs),
        words_deleted=sum(d.words_deleted for d in diffs),
        words_changed=sum(d.words_changed for d in diffs),
        words_kept=kept,
        accepted_unchanged_ratio=(status[StatementStatus.UNCHANGED] / n_draft) if n_draft else 1.0,
        draft_words_kept_ratio=(kept / draft_words) if draft_words else 1.0,
        edit_distance=distance,
        normalized_edit_distance=(distance / longest) if longest else 0.0,
    )


_CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}
ins{background:#d4f7d4;text-decoration:none} del{background:#fbd3d3}
.st{margin:.3rem 0}.sid{color:#888;font-size:.8em;margin-right:.4em}
.badge{display:inline-block;font-size:.75em;padding:0 .4em;margin-left:.3em;border-radius:.6em;
background:#eee;border:1px solid #bbb}.badge.critical_alert_added,.badge.critical_alert_removed,
.badge.negation_flipped,.badge.laterality_changed{background:#ffe08a;border-color:#d19c00}
table.stats td{padding:0 1em 0 0}
"""


def _badge(text: str, css: str, title: str = "") -> str:
    tip = f' title="{html.escape(title)}"' if title else ""
    return f'<span class="badge {html.escape(css)}"{tip}>{html.escape(text)}</span>'


def _split_lead(text: str) -> tuple[str, str]:
    body = text.lstrip()
    return text[: len(text) - len(body)], body


def _statement_html(diff: StatementDiff, details: dict[tuple[str, ChangeKind], str]) -> str:
    body = []
    for op in diff.ops:
        if op.op == "equal":
            body.append(html.escape(op.new))  # the final wording (case may differ)
            continue
        lead, old = _split_lead(op.old)
        new_lead, new = _split_lead(op.new)
        body.append(html.escape(lead or new_lead))  # spacing stays outside the markup
        if old:
            body.append(f"<del>{html.escape(old)}</del>")
        if new:
            body.append(f"<ins>{html.escape(new)}</ins>")
    badges = [
        _badge(k.value.replace("_", " "), k.value, details.get((diff.statement_id, k), ""))
        for k in diff.changes
    ]
    if diff.status is StatementStatus.MOVED and diff.from_section is not None:
        badges.insert(0, _badge(f"moved from {SECTION_TITLES[diff.from_section]}", "moved"))
    return (
        f'<p class="st {diff.status.value}" id="{html.escape(diff.statement_id)}">'
        f'<span class="sid">{html.escape(diff.statement_id)}</span>'
        f"{''.join(body)}{''.join(badges)}</p>"
    )


def render_html(result: Redline) -> str:
    """A standalone HTML page: ``<ins>``/``<del>`` markup, change badges, statistics.

    Every piece of report text is HTML-escaped (model output is untrusted).
    """
    s = result.stats
    details = {(c.statement_id, c.kind): c.detail for c in result.changes}
    rows = [
        (
            "Statements accepted unchanged",
            f"{s.unchanged}/{s.draft_statements} ({s.accepted_unchanged_ratio:.0%})",
        ),
        ("Draft words kept", f"{s.words_kept}/{s.draft_words} ({s.draft_words_kept_ratio:.0%})"),
        (
            "Words added / deleted / changed",
            f"{s.words_added} / {s.words_deleted} / {s.words_changed}",
        ),
        (
            "Edited / moved / added / deleted statements",
            f"{s.edited} / {s.moved} / {s.added} / {s.deleted}",
        ),
        ("Normalised edit distance", f"{s.normalized_edit_distance:.3f}"),
    ]
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>Redline {html.escape(result.accession_number)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Redline: accession {html.escape(result.accession_number)}</h1>",
        '<table class="stats">',
        *(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows),
        "</table>",
    ]
    if not result.critical_checked:
        parts.append(
            "<p><em>Critical-finding alerts were not checked (detector unavailable).</em></p>"
        )
    for section in result.sections:
        parts.append(f"<section><h2>{html.escape(SECTION_TITLES[section.kind])}</h2>")
        parts.extend(_statement_html(d, details) for d in section.statements)
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
