"""IHE MRRT (RSNA RadReport) templates imported into template data.

The HTML (``dcterms`` metadata, coded terms, ``<section>`` elements with their text,
fields and pick-lists) is read by :mod:`reportdraft.templates.mrrt_parse`; this module
decides what that structure becomes in a template and writes it. The import maps what our
template model can hold and reports everything else, so a site sees what it must finish by
hand:

- sections: Procedure/Technique → ``technique``; Comparison → ``comparison_default``;
  Findings → findings subsections (each nested section, or each labelled field of the
  section); Impression → ``impression_default``; Clinical information/History is the
  case's, not the template's (noted); any other section is reported as unmapped;
- a field's normal text is its default: a textarea's text, an input's ``value``, or the
  option of a pick-list marked ``selected``. A pick-list with no selected option becomes a
  ``[ ]`` field: the subsection has no default (absent unless dictated), its option names
  route sentences to it, and its options are listed in the report and in the file header;
- codes: the template-level terms whose meaning names a modality set ``modality``; RadLex
  Playbook (``RPID``) and LOINC terms become ``procedure_codes``; other RadLex terms
  (anatomy) become ``body_parts``; a term in another scheme is reported.

What is written is read back with the project's own loader
(:func:`reportdraft.templates.validation.read_template`), so an import never leaves a file
the library would reject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reportdraft.errors import TemplateError
from reportdraft.models import Modality, Template
from reportdraft.templates.library import TemplateLibrary
from reportdraft.templates.mrrt_parse import (
    MrrtField,
    MrrtParser,
    MrrtSection,
    all_fields,
    coded_terms,
    top_sections,
)
from reportdraft.templates.procedure_codes import LOINC, RADLEX
from reportdraft.templates.routing import norm_term
from reportdraft.templates.validation import check_template, read_template

_TECHNIQUE = {"procedure", "technique", "exam", "examination", "protocol", "procedure performed",
              "technique and procedure", "study"}  # fmt: skip
_COMPARISON = {"comparison", "comparisons", "prior studies", "priors", "comparison studies"}
_HISTORY = {"clinical information", "clinical history", "history", "indication", "indications",
            "reason for exam", "clinical indication"}  # fmt: skip
_FINDINGS = {"findings", "finding", "observations"}
_IMPRESSION = {"impression", "impressions", "conclusion", "conclusions", "summary", "diagnosis"}

_MODALITY_WORDS: list[tuple[str, Modality]] = [
    ("computed tomography", Modality.CT),
    ("magnetic resonance", Modality.MR),
    ("mammography", Modality.MG),
    ("ultrasound", Modality.US),
    ("ultrasonography", Modality.US),
    ("sonography", Modality.US),
    ("nuclear medicine", Modality.NM),
    ("scintigraphy", Modality.NM),
    ("positron emission", Modality.PT),
    ("fluoroscopy", Modality.RF),
    ("angiography", Modality.XA),
    ("projection radiography", Modality.XR),
    ("radiography", Modality.XR),
    ("densitometry", Modality.BMD),
]
_TITLE_MODALITY: list[tuple[str, Modality]] = [
    (r"\bcta?\b", Modality.CT),
    (r"\bmr[ia]?\b", Modality.MR),
    (r"\b(?:us|ultrasound|sonogram)\b", Modality.US),
    (r"\b(?:xr|x-?ray|radiograph\w*|cxr)\b", Modality.XR),
    (r"\b(?:mammo\w*|mg)\b", Modality.MG),
    (r"\b(?:nm|scintigra\w*|bone scan)\b", Modality.NM),
    (r"\b(?:pet)\b", Modality.PT),
    (r"\b(?:fluoro\w*|esophagram|swallow)\b", Modality.RF),
    (r"\b(?:dexa|dxa|densitometry)\b", Modality.BMD),
]
_SCHEMES = {"radlex": RADLEX, "rpid": RADLEX, "loinc": LOINC, "ln": LOINC}
_VAGUE = frozenset(
    {
        *("normal", "abnormal", "mild", "moderate", "severe", "marked", "top", "clear"),
        *("none", "present", "absent", "yes", "no", "other", "small", "large", "minimal"),
        *("unremarkable", "negative", "positive", "default", "see below"),
    }
)
"""Option names too vague to route a sentence to their subsection ("Normal", "Mild")."""


@dataclass
class ImportResult:
    """One imported file: the template written (or None) and what could not be mapped."""

    source: Path
    template: Template | None = None
    written: Path | None = None
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    error: str | None = None


def import_mrrt(
    path: Path,
    out_dir: Path,
    *,
    modality: Modality | None = None,
    overwrite: bool = False,
    existing: TemplateLibrary | None = None,
) -> ImportResult:
    """Import one MRRT file into ``out_dir/<id>.yaml``; never raises for a bad template.

    ``modality`` overrides what the template's codes and title say. A procedure code that
    a template of ``existing`` (the library the site drafts on) already claims is left out
    and reported: two templates claiming one code would stop the library from loading, and
    a site that wants the imported one to win maps the code in ``procedure_map.yaml``. The
    file is validated by :func:`~reportdraft.templates.validation.read_template` after it
    is written; a template that fails is removed again and reported with the reason.
    """
    result = ImportResult(source=path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        result.error = f"cannot read: {exc}"
        return result
    parser = MrrtParser()
    parser.feed(text)
    parser.close()
    try:
        doc = _template_doc(parser, path, result, modality)
        doc["procedure_codes"] = _unclaimed(doc["procedure_codes"], doc["id"], existing, result)
        template = Template.model_validate(doc)
    except (TemplateError, ValidationError) as exc:
        result.error = _one_line(str(exc))
        return result
    problems = check_template(template)
    if problems:
        result.error = "; ".join(problems)
        return result
    target = out_dir / f"{template.id}.yaml"
    if target.exists() and not overwrite:
        result.error = f"{target} exists (use --overwrite to replace it)"
        return result
    out_dir.mkdir(parents=True, exist_ok=True)
    header = _header(path, parser, result)
    target.write_text(header + yaml.safe_dump(doc, sort_keys=False, width=96), encoding="utf-8")
    try:
        result.template = read_template(target)
    except TemplateError as exc:
        target.unlink()
        result.error = f"written file failed validation: {exc}"
        return result
    result.written = target
    return result


def import_path(
    source: Path,
    out_dir: Path,
    *,
    modality: Modality | None = None,
    overwrite: bool = False,
    existing: TemplateLibrary | None = None,
) -> list[ImportResult]:
    """Import a file, or every ``*.html``/``*.htm`` file of a directory (sorted)."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in {".html", ".htm"})
        if not files:
            raise TemplateError(f"{source}: no .html files to import")
    elif source.is_file():
        files = [source]
    else:
        raise TemplateError(f"{source}: no such file or directory")
    return [
        import_mrrt(p, out_dir, modality=modality, overwrite=overwrite, existing=existing)
        for p in files
    ]


def _unclaimed(
    codes: list[dict[str, str]],
    template_id: str,
    existing: TemplateLibrary | None,
    result: ImportResult,
) -> list[dict[str, str]]:
    if existing is None:
        return codes
    kept = []
    for code in codes:
        owner = existing.owner_of_code(code["system"], code["code"])
        if owner is not None and owner != template_id:
            result.unmapped.append(
                f"code {code['code']} is already claimed by template {owner!r}: left out "
                "(map it in procedure_map.yaml to route it here)"
            )
            continue
        kept.append(code)
    return kept


# ------------------------------------------------------------------------------ mapping


def _template_doc(
    parser: MrrtParser, path: Path, result: ImportResult, modality: Modality | None
) -> dict[str, Any]:
    title = parser.meta.get("dcterms.title") or parser.title or path.stem
    terms = coded_terms(" ".join(parser.script_xml))
    codes, body_parts, found_modality = [], [], None
    for meaning, value, scheme in terms:
        system = _SCHEMES.get(scheme.lower())
        word_modality = _modality_of(meaning)
        if word_modality is not None:
            found_modality = found_modality or word_modality
            result.mapped.append(f"code {scheme} {value} ({meaning}) -> modality {word_modality}")
        elif system == LOINC or (system == RADLEX and value.upper().startswith("RPID")):
            codes.append({"system": system, "code": value, "display": meaning or title})
            result.mapped.append(f"code {scheme} {value} ({meaning}) -> procedure code")
        elif system == RADLEX and meaning:
            body_parts.append(meaning.lower())
            result.mapped.append(f"code {scheme} {value} ({meaning}) -> body part")
        else:
            result.unmapped.append(f"code {scheme} {value} ({meaning}): scheme not mapped")
    chosen = modality or found_modality or _title_modality(title)
    if chosen is None:
        raise TemplateError("no modality: no coded term or title word names one (give --modality)")
    title_part = _body_part_from_title(title)
    if title_part and title_part not in body_parts:
        body_parts.append(title_part)
    if not body_parts:
        raise TemplateError("no body part: no RadLex anatomy term and none in the title")

    technique, comparison, impression = None, None, None
    findings: list[dict[str, Any]] = []
    for section in top_sections(parser.root):
        name = section.name.lower().strip(" :")
        if name in _TECHNIQUE:
            technique = _section_text(section)
            result.mapped.append(f"section {section.name!r} -> technique")
        elif name in _COMPARISON:
            comparison = _section_text(section)
            result.mapped.append(f"section {section.name!r} -> comparison")
        elif name in _HISTORY:
            result.mapped.append(f"section {section.name!r}: from the case, not the template")
        elif name in _FINDINGS:
            findings = _subsections(section, result)
        elif name in _IMPRESSION:
            impression = _section_text(section)
            _note_picklists(section, "impression", result)
            result.mapped.append(f"section {section.name!r} -> impression")
        else:
            result.unmapped.append(f"section {section.name or '(unnamed)'!r}: no report section")
    if not findings:
        raise TemplateError("no Findings section with content")
    findings = _unique_terms(findings, result)
    findings.append({"key": "other", "title": "Other", "terms": ["other", "incidental"]})
    ident = _slug(f"mrrt_{title}")
    doc: dict[str, Any] = {
        "id": ident,
        "version": "1.0",
        "title": title[:120],
        "modality": chosen.value,
        "body_parts": list(dict.fromkeys(p[:60] for p in body_parts)),
        "procedure_codes": _unique_codes(codes),
        "contrast": "any",
        "technique": _escape_braces(technique or "{procedure}."),
        "comparison_default": (comparison or "None.")[:200],
        "findings": findings,
        "impression_guidance": (
            f"Imported from the MRRT template {title!r}"
            + (
                f" ({parser.meta['dcterms.identifier']})"
                if "dcterms.identifier" in parser.meta
                else ""
            )
            + ". Summarise the dictated findings, most significant first."
        )[:1000],
    }
    if impression:
        doc["impression_default"] = impression[:300]
    else:
        result.unmapped.append(
            "impression: no normal text (the impression is only what is dictated)"
        )
    return doc


def _section_text(section: MrrtSection) -> str | None:
    parts = [*section.text, *(f.default for f in section.fields if f.default)]
    for child in section.children:
        child_text = _section_text(child)
        if child_text:
            parts.append(child_text)
    text = " ".join(p for p in parts if p).strip()
    return _sentence(text) if text else None


def _subsections(section: MrrtSection, result: ImportResult) -> list[dict[str, Any]]:
    """Findings subsections: nested sections first, else each field of the section."""
    out: list[dict[str, Any]] = []
    if section.children:
        for child in section.children:
            default = _section_text(child)
            title = child.name or "Findings"
            options = [name for f in all_fields(child) for name, _t in f.options]
            blank = [f for f in all_fields(child) if f.kind == "select" and f.default is None]
            out.append(_subsection(title, default, options))
            _report_subsection(title, default, blank, result)
        if section.fields:
            result.unmapped.append(
                f"section {section.name!r}: {len(section.fields)} field(s) outside its "
                "subsections were left out"
            )
        return out
    for item in section.fields:
        title = item.label or item.ident or "Findings"
        options = [name for name, _t in item.options]
        out.append(_subsection(title, item.default, options))
        blank = [item] if item.kind == "select" and item.default is None else []
        _report_subsection(title, item.default, blank, result)
    if not out and section.text:
        out.append(_subsection("Findings", _sentence(" ".join(section.text)), []))
        result.mapped.append("section 'Findings' (text only) -> one subsection")
    return out


def _report_subsection(
    title: str, default: str | None, blank: list[MrrtField], result: ImportResult
) -> None:
    result.mapped.append(f"subsection {title!r} -> findings")
    if not default and not blank:
        result.unmapped.append(
            f"subsection {title!r} has no normal text: absent from a draft unless dictated"
        )
    for item in blank:
        options = " | ".join(text for _n, text in item.options)
        result.unmapped.append(f"[ ] pick-list {title!r} has no selected option: {options}"[:400])


def _note_picklists(section: MrrtSection, where: str, result: ImportResult) -> None:
    for item in all_fields(section):
        if item.kind == "select" and item.default is None:
            options = " | ".join(text for _n, text in item.options)
            result.unmapped.append(
                f"[ ] pick-list in {where} has no selected option: {options}"[:400]
            )


def _subsection(title: str, default: str | None, options: list[str]) -> dict[str, Any]:
    words = [title.lower(), *(o.lower() for o in options if o.lower().strip() not in _VAGUE)]
    phrases = dict.fromkeys(" ".join(re.findall(r"[a-z0-9][a-z0-9\-]*", t)) for t in words)
    terms = [w for w in phrases if 2 <= len(w) <= 60]
    item: dict[str, Any] = {"key": _slug(title), "title": title[:80]}
    if default:
        item["default"] = default[:500]
    item["terms"] = terms or ["findings"]
    return item


def _unique_terms(subs: list[dict[str, Any]], result: ImportResult) -> list[dict[str, Any]]:
    """Keys and terms made unique across subsections (first one keeps a shared term)."""
    owner: dict[str, str] = {}
    keys: set[str] = set()
    for sub in subs:
        base, n = sub["key"], 2
        while sub["key"] in keys or sub["key"] == "other":
            sub["key"], n = f"{base}_{n}"[:41], n + 1
        keys.add(sub["key"])
        kept = []
        for term in sub["terms"]:
            norm = norm_term(term)
            if norm in owner and owner[norm] != sub["key"]:
                result.unmapped.append(
                    f"term {term!r} of {sub['title']!r} also routes to {owner[norm]!r}: dropped"
                )
                continue
            owner.setdefault(norm, sub["key"])
            kept.append(term)
        sub["terms"] = kept or [sub["key"].replace("_", " ")]
    return subs


def _unique_codes(codes: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for code in codes:
        key = (code["system"], code["code"].upper())
        if key not in seen and re.fullmatch(r"[A-Za-z0-9.\-_:]+", code["code"]):
            seen.add(key)
            out.append({**code, "display": code["display"][:200]})
    return out


def _modality_of(meaning: str) -> Modality | None:
    low = meaning.lower()
    return next((m for word, m in _MODALITY_WORDS if word in low), None)


def _title_modality(title: str) -> Modality | None:
    low = title.lower()
    return next((m for pattern, m in _TITLE_MODALITY if re.search(pattern, low)), None)


def _body_part_from_title(title: str) -> str | None:
    """The title less modality words, view counts and contrast: "CT Abdomen and Pelvis with
    contrast" → "abdomen and pelvis"."""
    low = title.lower()
    for pattern, _m in _TITLE_MODALITY:
        low = re.sub(pattern, " ", low)
    low = re.sub(r"\b(?:with(?:out)?|w/?o?|and/or|contrast|iv|views?|\d+|template|report|"
                 r"protocol|exam(?:ination)?|study|imaging)\b", " ", low)  # fmt: skip
    low = " ".join(re.sub(r"[^a-z ]", " ", low).split()).strip()
    low = re.sub(r"^(?:and|of|the)\s+|\s+(?:and|of|the)$", "", low)
    return low[:60] or None


def _header(path: Path, parser: MrrtParser, result: ImportResult) -> str:
    lines = [f"# Imported by `reportdraft templates import` from {path.name}."]
    for key in ("dcterms.identifier", "dcterms.publisher", "dcterms.rights", "dcterms.license"):
        if parser.meta.get(key):
            lines.append(f"# {key}: {parser.meta[key]}")
    blank = [u for u in result.unmapped if u.startswith("[ ]")]
    if blank:
        lines.append(
            "# Pick-lists without a selected option ([ ] fields: no default, dictate them):"
        )
        lines += [f"#   {u}" for u in blank]
    return "\n".join(lines) + "\n"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"s_{slug}"
    return slug[:41].rstrip("_")


def _escape_braces(text: str) -> str:
    if text == "{procedure}.":
        return text
    return text.replace("{", "{{").replace("}", "}}")[:1000]


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]
