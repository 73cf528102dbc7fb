"""Report templates: loading, validation, selection, technique text and sentence routing.

Templates are data (``templates/*.yaml``, one file per procedure), validated on load against
:class:`reportdraft.models.Template` plus the checks pydantic cannot express (known
placeholders only, unique subsection keys, lower-case terms routed to exactly one
subsection). A site adds or replaces templates by putting files in its own directory:
later directories override earlier ones by template id. Anything malformed raises
:class:`~reportdraft.errors.TemplateError` naming the file and the field, at load time, so a
bad site file fails loudly at start-up rather than in the middle of a read.

Three things the drafter needs live here as well, because they are defined by the template
format: which template fits a study (:meth:`TemplateLibrary.select`), what the technique
placeholders render to (:func:`render_technique`) and which findings subsection a dictated
sentence belongs to (:func:`route_sentence`).
"""

from __future__ import annotations

import functools
import re
import string
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reportdraft.errors import TemplateError, TemplateNotFoundError
from reportdraft.models import Contrast, Dose, StudyContext, Template
from reportdraft.resources import data_dir

__all__ = [
    "PLACEHOLDERS",
    "TemplateLibrary",
    "catch_all_key",
    "check_template",
    "default_library",
    "render_technique",
    "route_sentence",
    "technique_values",
]

PLACEHOLDERS = frozenset({"contrast", "views", "dose", "laterality", "body_part"})
"""The placeholders a template's ``technique`` may use; see :func:`technique_values`."""

LOINC = "http://loinc.org"
RADLEX = "http://www.radlex.org"

_SYSTEM_ALIASES = {
    "http://loinc.org": LOINC,
    "loinc": LOINC,
    "ln": LOINC,  # HL7 v2 coding-system name for LOINC
    "urn:oid:2.16.840.1.113883.6.1": LOINC,
    "http://www.radlex.org": RADLEX,
    "http://radlex.org": RADLEX,
    "radlex": RADLEX,
    "rpid": RADLEX,
}
"""Spellings of the same code system seen in RIS and HL7 feeds, folded so a code matches."""

_SYSTEM_NAMES = {LOINC: "LOINC", RADLEX: "RadLex"}

_CONTRAST_TEXT = {
    Contrast.NONE: "without intravenous contrast",
    Contrast.WITH: "with intravenous contrast",
    Contrast.WITHOUT_AND_WITH: "without and with intravenous contrast",
}

_NUMBER_WORDS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]

_FORMATTER = string.Formatter()
_TEXT_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_TEMPLATE_SUFFIXES = (".yaml", ".yml")


# --------------------------------------------------------------------------- technique text


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

    Values are lower-case; :func:`render_technique` capitalises one that starts a sentence.
    """
    return {
        "contrast": _CONTRAST_TEXT[study.contrast],
        "views": _views_text(study.views),
        "dose": _dose_text(study.dose),
        "laterality": study.laterality.value if study.laterality is not None else "",
        "body_part": " ".join(study.body_part.lower().split()),
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


# --------------------------------------------------------------------------- validation


def check_template(template: Template) -> list[str]:
    """Problems pydantic cannot see, as ``field: message`` strings (empty when valid).

    - ``technique`` uses only :data:`PLACEHOLDERS`, without format specs or conversions;
    - no other text field contains a ``{placeholder}`` (it would be printed verbatim);
    - subsection keys are unique, terms are lower-case and each term routes to exactly one
      subsection (a term in two subsections would make routing depend on file order);
    - procedure codes are not repeated within the template.
    """
    problems = _technique_problems(template.technique)
    texts = {
        "comparison_default": template.comparison_default,
        "impression_default": template.impression_default,
        "impression_guidance": template.impression_guidance,
    }
    for index, sub in enumerate(template.findings):
        texts[f"findings.{index}.default"] = sub.default
    for field, text in texts.items():
        found = _TEXT_PLACEHOLDER.search(text)
        if found:
            problems.append(f"{field}: placeholder {found.group()} is only filled in technique")

    owner: dict[str, str] = {}
    seen_keys: set[str] = set()
    for index, sub in enumerate(template.findings):
        if sub.key in seen_keys:
            problems.append(f"findings.{index}.key: duplicate subsection key {sub.key!r}")
        seen_keys.add(sub.key)
        for t_index, term in enumerate(sub.terms):
            where = f"findings.{index}.terms.{t_index}"
            if term != term.lower():
                problems.append(f"{where}: term {term!r} must be lower-case")
            norm = _norm_term(term)
            if norm in owner and owner[norm] != sub.key:
                problems.append(
                    f"{where}: term {term!r} is also in subsection {owner[norm]!r}; "
                    "a term must route to one subsection"
                )
            owner.setdefault(norm, sub.key)

    codes: set[tuple[str, str]] = set()
    for index, coding in enumerate(template.procedure_codes):
        key = _code_key(coding.system, coding.code)
        if key in codes:
            problems.append(f"procedure_codes.{index}: code {coding.code} is listed twice")
        codes.add(key)
    return problems


def _technique_problems(technique: str) -> list[str]:
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


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that rejects a key repeated in one mapping (PyYAML keeps the last)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key: let the standard constructor report it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def _read_template(path: Path) -> Template:
    """Parse and validate one template file; every failure names ``path``."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read template: {exc}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: invalid YAML: {_one_line(str(exc))}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: a template must be a YAML mapping, got {type(data).__name__}")
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        raise TemplateError(f"{path}: {_describe(exc)}") from None
    problems = check_template(template)
    if problems:
        raise TemplateError(f"{path}: " + "; ".join(problems))
    return template


def _describe(error: ValidationError, limit: int = 5) -> str:
    parts = []
    for item in error.errors()[:limit]:
        loc = ".".join(str(p) for p in item["loc"]) or "(document)"
        parts.append(f"{loc}: {item['msg']}")
    extra = len(error.errors()) - limit
    return "; ".join(parts) + (f"; and {extra} more" if extra > 0 else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- the library


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
        self, templates: Iterable[Template] = (), *, sources: Mapping[str, str] | None = None
    ) -> None:
        """Index ``templates`` by id; ``sources`` maps ids to file paths for error messages."""
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

    @classmethod
    def load(cls, *dirs: Path) -> TemplateLibrary:
        """Load every ``*.yaml``/``*.yml`` file of ``dirs``; later dirs override by id.

        With no ``dirs`` the bundled directory is used. A missing directory, a malformed
        file, two files with one id in the same directory, an empty result or one procedure
        code claimed by two templates raise :class:`TemplateError` naming the file(s).
        """
        directories = [Path(d) for d in dirs] or [data_dir("templates")]
        merged: dict[str, _Entry] = {}
        for directory in directories:
            if not directory.is_dir():
                raise TemplateError(f"{directory}: template directory not found")
            in_dir: dict[str, _Entry] = {}
            files = sorted(
                p
                for p in directory.iterdir()
                if p.suffix in _TEMPLATE_SUFFIXES and p.is_file() and not p.name.startswith(".")
            )
            for path in files:
                template = _read_template(path)
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
        )

    @staticmethod
    def _index_codes(entries: Mapping[str, _Entry]) -> dict[tuple[str, str], str]:
        index: dict[tuple[str, str], str] = {}
        for tid, entry in entries.items():
            for coding in entry.template.procedure_codes:
                key = _code_key(coding.system, coding.code)
                if key in index and index[key] != tid:
                    other = entries[index[key]]
                    raise TemplateError(
                        f"{entry.source}: procedure code {_system_name(coding.system)} "
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

    def source(self, template_id: str) -> str:
        """Where template ``template_id`` was loaded from (a path, or ``<memory>``)."""
        self.get(template_id)
        return self._entries[template_id].source

    def select(self, study: StudyContext) -> Template:
        """The template for ``study``.

        1. A template listing the study's procedure code (system and code; common spellings
           of LOINC and RadLex are folded) wins outright.
        2. Otherwise templates of the study's modality whose ``body_parts`` match the
           study's body part: an exact synonym beats one contained in the body part as a
           phrase (``"right knee"`` contains ``"knee"``); then a template whose ``contrast``
           equals the study's beats ``any``, which beats a mismatch; then the longer synonym;
           then the id, so the choice is deterministic.
        3. Otherwise :class:`TemplateNotFoundError` saying what was looked for.
        """
        procedure = study.procedure
        tid = self._by_code.get(_code_key(procedure.system, procedure.code))
        if tid is not None:
            return self._entries[tid].template

        body_part = _norm_phrase(study.body_part)
        ranked: list[tuple[tuple[int, int, int], str]] = []
        for tid, entry in self._entries.items():
            template = entry.template
            if template.modality != study.modality:
                continue
            match = _body_part_match(template, body_part)
            if match is None:
                continue
            exact, length = match
            rank = (int(exact), _contrast_rank(template.contrast, study.contrast), length)
            ranked.append((rank, tid))
        if ranked:
            ranked.sort(key=lambda item: (tuple(-r for r in item[0]), item[1]))
            return self._entries[ranked[0][1]].template

        same_modality = sorted(
            tid for tid, e in self._entries.items() if e.template.modality == study.modality
        )
        known = same_modality or sorted(self._entries)
        raise TemplateNotFoundError(
            f"no template for procedure {_system_name(procedure.system)} {procedure.code} "
            f"{procedure.display!r} nor for modality {study.modality.value} + body part "
            f"{study.body_part!r} (contrast {study.contrast.value}); known: {_short_list(known)}"
        )


@functools.cache
def default_library() -> TemplateLibrary:
    """The bundled templates, loaded once per process."""
    return TemplateLibrary.load()


def _code_key(system: str, code: str) -> tuple[str, str]:
    norm = system.strip().lower().rstrip("/")
    return _SYSTEM_ALIASES.get(norm, norm), code.strip().upper()


def _system_name(system: str) -> str:
    return _SYSTEM_NAMES.get(_code_key(system, "")[0], system)


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


# --------------------------------------------------------------------------- routing


def catch_all_key(template: Template) -> str:
    """The catch-all subsection: the template's last one (``other`` in bundled templates)."""
    return template.findings[-1].key


def route_sentence(template: Template, text: str) -> str:
    """The findings subsection key a dictated sentence belongs to.

    Terms match case-insensitively on word boundaries, with an optional plural ending
    (``lobe`` matches ``lobes``; ``artery`` matches ``arteries``) and any run of whitespace
    between the words of a phrase. Matching is leftmost-longest: where two terms start at
    the same place the longer one is taken, and a match inside an earlier match is not
    counted again ("pleural effusion" is one mention, not also "effusion").

    The subsection whose matches cover the most words wins (so "right lower lobe" beats
    "embolus", and "small left pleural effusion" goes to pleura, not to lungs); ties go to
    more matched characters, then to the subsection listed first. The catch-all (last)
    subsection wins only when no other subsection matched, and is the answer for a
    sentence that matches nothing.
    """
    router = _router(template)
    scores: dict[int, tuple[int, int]] = {}
    for match in router.pattern.finditer(text):
        owner = router.owner_of(match.group(1))
        if owner is None or owner == router.catch_all_index:
            continue
        words, chars = scores.get(owner, (0, 0))
        term = _norm_term(match.group(1))
        scores[owner] = (words + len(_WORD.findall(term)), chars + len(term))
    if not scores:
        return template.findings[router.catch_all_index].key
    best = max(scores, key=lambda index: (*scores[index], -index))
    return template.findings[best].key


_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class _Router:
    """One compiled pattern for all terms of a template, and the term → subsection map."""

    pattern: re.Pattern[str]
    owners: dict[str, int]
    catch_all_index: int

    def owner_of(self, matched: str) -> int | None:
        norm = _norm_term(matched)
        for candidate in (norm, *_singulars(norm)):
            if candidate in self.owners:
                return self.owners[candidate]
        return None


def _singulars(word: str) -> list[str]:
    out = []
    if word.endswith("ies"):
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s"):
        out.append(word[:-1])
    return out


def _norm_term(term: str) -> str:
    return " ".join(term.lower().split())


def _term_regex(term: str) -> str:
    words = [re.escape(w) for w in term.split()]
    body = r"\s+".join(words)
    if term.endswith("y") and len(term) > 2:
        return body[:-1] + "(?:y|ies)"
    return body + "(?:e?s)?"


def _build_router(template: Template) -> _Router:
    owners: dict[str, int] = {}
    for index, sub in enumerate(template.findings):
        for term in sub.terms:
            owners.setdefault(_norm_term(term), index)
    # Longest first: the alternation then takes the longest term starting at each position,
    # and finditer resumes after it (leftmost-longest, non-overlapping).
    ordered = sorted(owners, key=lambda t: (-len(t), t))
    alternation = "|".join(_term_regex(t) for t in ordered)
    pattern = re.compile(rf"(?<![a-z0-9])({alternation})(?![a-z0-9])", re.IGNORECASE)
    return _Router(pattern, owners, len(template.findings) - 1)


_ROUTERS: dict[int, tuple[weakref.ref[Template], _Router]] = {}


def _router(template: Template) -> _Router:
    """The compiled router of ``template``, built once per template object.

    Templates are frozen but not hashable (they hold lists), so the cache is keyed by
    object identity and guarded by a weak reference that drops the entry with the template.
    """
    key = id(template)
    cached = _ROUTERS.get(key)
    if cached is not None and cached[0]() is template:
        return cached[1]
    router = _build_router(template)

    def _forget(_ref: weakref.ref[Template], k: int = key) -> None:
        _ROUTERS.pop(k, None)

    _ROUTERS[key] = (weakref.ref(template, _forget), router)
    return router
