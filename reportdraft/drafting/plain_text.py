"""A readable plain-text view of a draft, with source ids and flags, for ``draft.txt``."""

from __future__ import annotations

import textwrap

from reportdraft.models import Draft, SectionKind, Template


def format_draft(draft: Draft, template: Template | None = None) -> str:
    """Render ``draft`` as text: sections, findings subsections, sources in brackets, flags."""
    titles = {s.key: s.title for s in template.findings} if template else {}
    lines = [
        f"DRAFT {draft.accession_number}  template {draft.template_id} v{draft.template_version}"
        f"  backend {draft.provenance.backend}"
        + (f" ({draft.provenance.model})" if draft.provenance.model else ""),
        "",
    ]
    for section in draft.sections:
        lines.append(section.title.upper())
        current: str | None = None
        for number, st in enumerate(section.statements, start=1):
            if section.kind is SectionKind.FINDINGS and st.subsection != current:
                current = st.subsection
                lines.append(f"  {titles.get(current or '', (current or '').title())}:")
            prefix = f"  {number}. " if section.kind is SectionKind.IMPRESSION else "    "
            marks = "".join(f" !{f.id}" for f in draft.flags_for(st.id))
            body = f"{st.text} [{', '.join(st.sources)}]{marks}"
            lines.extend(
                textwrap.wrap(
                    body, width=96, initial_indent=prefix, subsequent_indent=" " * len(prefix)
                )
            )
        lines.append("")
    if draft.critical:
        lines.append("CRITICAL FINDINGS")
        for m in draft.critical:
            state = "ALERT" if m.alert else "no alert"
            lines.append(
                f"  [{state}] {m.label} (ACR cat {m.category}, {m.assertion.value}) "
                f"in {m.statement_id}: '{m.text}'"
            )
        lines.append("")
    if draft.flags:
        lines.append("FLAGS")
        for f in draft.flags:
            where = f" {f.statement_id}" if f.statement_id else ""
            lines.append(f"  {f.id} {f.severity.value.upper()} {f.kind.value}{where}: {f.message}")
        lines.append("")
    return "\n".join(lines)
