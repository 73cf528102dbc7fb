"""The template library: the set of templates a deployment drafts on, and selection by study.

Templates are data (``templates/*.yaml`` at the top of the repository, one file per
procedure; :func:`reportdraft.resources.data_dir` finds them in a checkout or a wheel),
each file checked on load by :mod:`reportdraft.templates.validation`. A site adds or
replaces templates by putting files in its own directory: later directories override
earlier ones by template id. No two templates may claim the same procedure code, so
selection by code is never ambiguous.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from reportdraft.errors import TemplateError, TemplateNotFoundError
from reportdraft.models import Contrast, ProcedureMapEntry, StudyContext, Template
from reportdraft.resources import data_dir
from reportdraft.templates.procedure_codes import code_key, system_name
from reportdraft.templates.validation import check_template, read_procedure_map, read_template

_TEMPLATE_SUFFIXES = (".yaml", ".yml")
PROCEDURE_MAP_STEM = "procedure_map"
"""A template directory's file of that name (``.yaml``/``.yml``) is its procedure mapping."""


@dataclass(frozen=True)
class _Entry:
    template: Template
    source: str  # file path, or "<memory>" for templates built in code


class TemplateLibrary:
    """The set of templates a deployment drafts on, with selection by study.

    Build it with :meth:`load` (files) or directly from :class:`Template` values (tests,
    embedding). Either way every template is checked with :func:`check_template` and no two
    templates may claim the same procedure code.
    """

    def __init__(
        self,
        templates: Iterable[Template] = (),
        *,
        sources: Mapping[str, str] | None = None,
        procedure_map: Iterable[tuple[ProcedureMapEntry, str]] = (),
    ) -> None:
        """Index ``templates`` by id; ``sources`` maps ids to file paths for error messages.

        ``procedure_map`` is the site's code → template mapping as (entry, file) pairs, in
        order: a later entry for the same code replaces an earlier one (a later directory
        overrides an earlier one), and every template it names must be loaded.
        """
        entries: dict[str, _Entry] = {}
        where = dict(sources or {})
        for template in templates:
            source = where.get(template.id, "<memory>")
            if template.id in entries:
                raise TemplateError(
                    f"{source}: duplicate template id {template.id!r} "
                    f"(also in {entries[template.id].source})"
                )
            problems = check_template(template)
            if problems:
                raise TemplateError(f"{source}: " + "; ".join(problems))
            entries[template.id] = _Entry(template, source)
        self._entries = entries
        self._by_code = self._index_codes(entries)
        self._mapping: dict[tuple[str, str], tuple[str, str]] = {}
        for item, map_file in procedure_map:
            if item.template not in entries:
                raise TemplateError(
                    f"{map_file}: procedure map names unknown template {item.template!r} "
                    f"(code {item.code}); known: {_short_list(sorted(entries))}"
                )
            self._mapping[code_key(item.system, item.code)] = (item.template, map_file)

    @classmethod
    def load(cls, *dirs: Path) -> TemplateLibrary:
        """Load every ``*.yaml``/``*.yml`` file of ``dirs``; later dirs override by id.

        A directory may also hold the site's procedure mapping, ``procedure_map.yaml``
        (:class:`~reportdraft.models.ProcedureMap`), which is not a template.
        With no ``dirs`` the bundled directory is used. A missing directory, a malformed
        file, two files with one id in the same directory, an empty result or one procedure
        code claimed by two templates raise :class:`TemplateError` naming the file(s).
        """
        directories = [Path(d) for d in dirs] or [data_dir("templates")]
        merged: dict[str, _Entry] = {}
        mapping: list[tuple[ProcedureMapEntry, str]] = []
        for directory in directories:
            if not directory.is_dir():
                raise TemplateError(f"{directory}: template directory not found")
            in_dir: dict[str, _Entry] = {}
            files = sorted(
                p
                for p in directory.iterdir()
                if p.suffix in _TEMPLATE_SUFFIXES
                and p.is_file()
                and not p.name.startswith(".")
                and p.stem != PROCEDURE_MAP_STEM
            )
            for suffix in _TEMPLATE_SUFFIXES:
                map_file = directory / f"{PROCEDURE_MAP_STEM}{suffix}"
                if map_file.is_file():
                    mapping += [(m, str(map_file)) for m in read_procedure_map(map_file).mappings]
            for path in files:
                template = read_template(path)
                if template.id in in_dir:
                    raise TemplateError(
                        f"{path}: duplicate template id {template.id!r} "
                        f"(also in {in_dir[template.id].source})"
                    )
                in_dir[template.id] = _Entry(template, str(path))
            merged.update(in_dir)
        if not merged:
            raise TemplateError(f"no templates found in {', '.join(map(str, directories))}")
        return cls(
            (e.template for e in merged.values()),
            sources={tid: e.source for tid, e in merged.items()},
            procedure_map=mapping,
        )

    @staticmethod
    def _index_codes(entries: Mapping[str, _Entry]) -> dict[tuple[str, str], str]:
        index: dict[tuple[str, str], str] = {}
        for tid, entry in entries.items():
            for coding in entry.template.procedure_codes:
                key = code_key(coding.system, coding.code)
                if key in index and index[key] != tid:
                    other = entries[index[key]]
                    raise TemplateError(
                        f"{entry.source}: procedure code {system_name(coding.system)} "
                        f"{coding.code} is claimed by templates {other.template.id!r} "
                        f"({other.source}) and {tid!r}"
                    )
                index[key] = tid
        return index

    def __len__(self) -> int:
        """Number of templates."""
        return len(self._entries)

    def __contains__(self, template_id: object) -> bool:
        """True when a template with this id is loaded."""
        return template_id in self._entries

    def all(self) -> list[Template]:
        """Every template, sorted by id."""
        return [self._entries[tid].template for tid in sorted(self._entries)]

    def get(self, template_id: str) -> Template:
        """The template ``template_id``; :class:`TemplateNotFoundError` when unknown."""
        entry = self._entries.get(template_id)
        if entry is None:
            raise TemplateNotFoundError(
                f"unknown template {template_id!r}; known: {_short_list(sorted(self._entries))}"
            )
        return entry.template

    def owner_of_code(self, system: str, code: str) -> str | None:
        """The id of the template that lists this procedure code, or None."""
        return self._by_code.get(code_key(system, code))

    def source(self, template_id: str) -> str:
        """Where template ``template_id`` was loaded from (a path, or ``<memory>``)."""
        self.get(template_id)
        return self._entries[template_id].source

    def select(self, study: StudyContext, *, generic_fallback: bool = False) -> Template:
        """The template for ``study`` (see :meth:`explain` for the rules, in order).

        When nothing specific fits: with ``generic_fallback`` the generic template (drafting
        uses it unless ``--strict-template``), else :class:`TemplateNotFoundError` saying
        what was looked for. A library without a generic template always refuses.
        """
        selection = self.explain(study)
        if selection.template_id is not None and (not selection.generic or generic_fallback):
            return self._entries[selection.template_id].template
        procedure = study.procedure
        same_modality = sorted(
            tid for tid, e in self._entries.items() if e.template.modality == study.modality
        )
        known = same_modality or sorted(self._specific())
        raise TemplateNotFoundError(
            f"no template for procedure {system_name(procedure.system)} {procedure.code} "
            f"{procedure.display!r} nor for modality {study.modality.value} + body part "
            f"{study.body_part!r} (contrast {study.contrast.value}); known: {_short_list(known)}"
        )

    def explain(self, study: StudyContext) -> Selection:
        """Which rule picks which template for ``study``, with every step that was tried.

        1. The site's procedure mapping (``procedure_map.yaml``) naming the study's code.
        2. A template listing the study's procedure code (system and code; common spellings
           of LOINC, RadLex and CPT are folded).
        3. Templates of the study's modality whose ``body_parts`` match the study's body
           part: an exact synonym beats one contained in the body part as a phrase
           (``"right knee"`` contains ``"knee"``); then a template whose ``contrast``
           equals the study's beats ``any``, which beats a mismatch; then the longer
           synonym; then the id, so the choice is deterministic.
        4. The generic template, when the library has one (``generic`` is then True).

        :meth:`select` goes through this method, so the explanation is the selection.
        """
        procedure = study.procedure
        key = code_key(procedure.system, procedure.code)
        code_text = f"{system_name(procedure.system)} {procedure.code}"
        steps: list[str] = []
        mapped = self._mapping.get(key)
        if mapped is not None:
            mapped_id, map_file = mapped
            steps.append(f"procedure map: {code_text} -> {mapped_id} ({map_file})")
            return Selection(mapped_id, "procedure_map", tuple(steps))
        steps.append(f"procedure map: {code_text} is not mapped")
        by_code = self._by_code.get(key)
        if by_code is not None:
            steps.append(f"procedure code: {code_text} is listed by template {by_code}")
            return Selection(by_code, "procedure_code", tuple(steps))
        steps.append(f"procedure code: no template lists {code_text}")

        body_part = _norm_phrase(study.body_part)
        ranked: list[tuple[tuple[int, int, int], str]] = []
        for tid, entry in self._entries.items():
            template = entry.template
            if template.generic or template.modality != study.modality:
                continue
            match = _body_part_match(template, body_part)
            if match is None:
                continue
            exact, length = match
            rank = (int(exact), _contrast_rank(template.contrast, study.contrast), length)
            ranked.append((rank, tid))
        if ranked:
            ranked.sort(key=lambda item: (tuple(-r for r in item[0]), item[1]))
            (exact_rank, contrast_rank, _length), tid = ranked[0]
            how = "exact" if exact_rank else "contained"
            fit = {2: "matches", 1: "any", 0: "mismatch"}[contrast_rank]
            others = ", ".join(t for _r, t in ranked[1:])
            also = f"; also matched: {others}" if others else ""
            steps.append(
                f"modality + body part: {study.modality.value} {study.body_part!r} -> {tid} "
                f"({how} body part, contrast {fit}){also}"
            )
            return Selection(tid, "modality_body_part", tuple(steps))
        steps.append(
            f"modality + body part: no {study.modality.value} template has a body part "
            f"in {study.body_part!r}"
        )
        generic = self._generic_id()
        if generic is None:
            steps.append("generic: this library has no generic template")
            return Selection(None, "none", tuple(steps))
        steps.append(f"generic: {generic} (no normal defaults; low generic_template flag)")
        return Selection(generic, "generic", tuple(steps), generic=True)

    def _specific(self) -> list[str]:
        return [tid for tid, e in self._entries.items() if not e.template.generic]

    def _generic_id(self) -> str | None:
        generic = sorted(tid for tid, e in self._entries.items() if e.template.generic)
        return generic[0] if generic else None


@dataclass(frozen=True)
class Selection:
    """How a template was chosen for a study: the template, the rule and the steps tried.

    ``rule`` is ``procedure_map``, ``procedure_code``, ``modality_body_part``, ``generic``
    or ``none`` (no template, and no generic one to fall back on).
    """

    template_id: str | None
    rule: str
    steps: tuple[str, ...]
    generic: bool = False


@functools.cache
def default_library() -> TemplateLibrary:
    """The bundled templates, loaded once per process."""
    return TemplateLibrary.load()


def site_library(site_dirs: Iterable[Path] = ()) -> TemplateLibrary:
    """The bundled templates with a site's directories on top (``REPORTDRAFT_TEMPLATES``,
    ``Settings.template_dirs``); the cached bundled library when there are none. The one
    way every entry point (CLI, eval, the API's drafting workers) builds its library."""
    dirs = [Path(d) for d in site_dirs]
    return TemplateLibrary.load(data_dir("templates"), *dirs) if dirs else default_library()


def _norm_phrase(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())


def _body_part_match(template: Template, body_part: str) -> tuple[bool, int] | None:
    """(exact?, synonym length) of the best synonym matching ``body_part``, or None."""
    best: tuple[bool, int] | None = None
    for synonym in template.body_parts:
        syn = _norm_phrase(synonym)
        if syn == body_part:
            candidate = (True, len(syn))
        elif re.search(rf"(?<![a-z0-9]){re.escape(syn)}(?![a-z0-9])", body_part):
            candidate = (False, len(syn))
        else:
            continue
        if best is None or candidate > best:
            best = candidate
    return best


def _contrast_rank(template_contrast: str, study_contrast: Contrast) -> int:
    if template_contrast == study_contrast.value:
        return 2
    return 1 if template_contrast == "any" else 0


def _short_list(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
