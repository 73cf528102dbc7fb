"""IHE MRRT (RSNA RadReport) HTML read into sections, fields and coded terms.

An MRRT template is an HTML5 file: ``<meta name="dcterms.*">`` for its title and identifier,
a ``<script type="text/xml">`` holding ``<template_attributes>`` with coded terms (RadLex,
LOINC), and a ``<body>`` of ``<section>`` elements (``data-section-name`` or a
``<header>``) holding text, ``<textarea>``/``<input>`` fields and ``<select>`` pick-lists.

This module only reads that structure; what it becomes in our template model (and what is
reported as unmapped) is decided in :mod:`reportdraft.templates.mrrt`. Kept apart so the
tolerant HTML reading (unclosed tags, codes inside comments) can change without touching
the mapping rules, and the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class MrrtField:
    """One template field: its label, kind, normal text and pick-list options."""

    ident: str
    label: str
    kind: str  # text | select | input
    default: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (name, text)
    selected: str | None = None


@dataclass
class MrrtSection:
    name: str
    level: int
    text: list[str] = field(default_factory=list)
    fields: list[MrrtField] = field(default_factory=list)
    children: list[MrrtSection] = field(default_factory=list)


class MrrtParser(HTMLParser):
    """Sections, fields and metadata of one MRRT file (the stdlib parser: no dependency,
    and it tolerates the unclosed tags real templates carry)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self.script_xml: list[str] = []
        self.root = MrrtSection("(body)", 0)
        self._stack: list[MrrtSection] = [self.root]
        self._in: str | None = None  # title | script | header | textarea | option | label
        self._buffer: list[str] = []
        self._field: MrrtField | None = None
        self._option: tuple[str, bool] | None = None
        self._label_for: str | None = None
        self._labels: dict[str, str] = {}
        self._pending_label: str | None = None

    # -- tags -------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta" and "name" in a:
            self.meta.setdefault(a["name"].lower(), a.get("content", ""))
        elif tag == "title":
            self._begin("title")
        elif tag == "script" and a.get("type", "").lower() == "text/xml":
            self._begin("script")
        elif tag == "section":
            level = len(self._stack)
            section = MrrtSection(a.get("data-section-name", ""), level)
            self._stack[-1].children.append(section)
            self._stack.append(section)
        elif tag == "header":
            self._begin("header")
        elif tag == "label":
            self._label_for = a.get("for") or None
            self._begin("label")
        elif tag == "textarea":
            self._field = MrrtField(a.get("id", ""), self._label(a), "text")
            self._begin("textarea")
        elif tag == "input":
            kind = a.get("type", "text").lower()
            value = a.get("value", "").strip() or None
            if kind == "checkbox":
                value = a.get("value") or a.get("name") if "checked" in a else None
            self._add_field(MrrtField(a.get("id", ""), self._label(a), "input", default=value))
        elif tag == "select":
            self._field = MrrtField(a.get("id", ""), self._label(a), "select")
        elif tag == "option" and self._field is not None:
            self._option = (a.get("name") or a.get("value") or "", "selected" in a)
            self._begin("option")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in == "title":
            self.title = self._end()
        elif tag == "script" and self._in == "script":
            self.script_xml.append(self._end())
        elif tag == "section" and len(self._stack) > 1:
            self._stack.pop()
        elif tag == "header" and self._in == "header":
            name = self._end()
            if not self._stack[-1].name:
                self._stack[-1].name = name
        elif tag == "label" and self._in == "label":
            text = _clean_label(self._end())
            if self._label_for:
                self._labels[self._label_for] = text
            else:
                self._pending_label = text
        elif tag == "textarea" and self._in == "textarea" and self._field is not None:
            self._field.default = self._end() or None
            self._add_field(self._field)
            self._field = None
        elif tag == "option" and self._in == "option" and self._field is not None:
            text = self._end()
            name, selected = self._option or ("", False)
            self._field.options.append((name or text, text))
            if selected:
                self._field.selected = text
            self._option = None
        elif tag == "select" and self._field is not None:
            self._field.default = self._field.selected
            self._add_field(self._field)
            self._field = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._buffer.append(data)
        elif data.strip() and len(self._stack) > 1:
            self._stack[-1].text.append(" ".join(data.split()))

    # -- helpers ----------------------------------------------------------------------
    def _begin(self, what: str) -> None:
        self._in, self._buffer = what, []

    def _end(self) -> str:
        text = " ".join("".join(self._buffer).split())
        self._in, self._buffer = None, []
        return text

    def _label(self, attrs: dict[str, str]) -> str:
        ident = attrs.get("id", "")
        label = self._labels.get(ident) or self._pending_label or attrs.get("name", "") or ident
        self._pending_label = None
        return _clean_label(label)

    def _add_field(self, item: MrrtField) -> None:
        self._stack[-1].fields.append(item)


def top_sections(root: MrrtSection) -> list[MrrtSection]:
    """Report sections: the body's sections, or the children of one wrapping section."""
    sections = root.children
    if len(sections) == 1 and not sections[0].name and sections[0].children:
        return sections[0].children
    return sections


def all_fields(section: MrrtSection) -> list[MrrtField]:
    return [*section.fields, *(f for c in section.children for f in all_fields(c))]


_CODE = re.compile(r"<code\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_CODED_CONTENT = re.compile(r"<coded_content\b.*?</coded_content>", re.IGNORECASE | re.DOTALL)


def coded_terms(xml: str) -> list[tuple[str, str, str]]:
    """(meaning, value, scheme) of the template-level ``<term><code .../></term>`` entries.

    Read with a pattern, not an XML parser: published templates carry unclosed ``<code>``
    tags inside an HTML comment. Codes of ``<coded_content>`` (field-level) are left out.
    """
    top = _CODED_CONTENT.sub(" ", xml)
    out = []
    for match in _CODE.finditer(top):
        attrs = {k.lower(): v for k, v in _ATTR.findall(match.group(1))}
        if attrs.get("value"):
            out.append((attrs.get("meaning", ""), attrs["value"], attrs.get("scheme", "")))
    return out


def _clean_label(text: str) -> str:
    return " ".join(text.split()).strip(" :")
