"""What makes a template valid, and reading one template file into a checked Template.

Pydantic (:class:`reportdraft.models.Template`) checks types and required fields;
:func:`check_template` checks what it cannot express (known placeholders only, unique
subsection keys, lower-case terms routed to exactly one subsection, no code listed twice).
:func:`read_template` adds what only a file can get wrong (unreadable, invalid YAML, a key
repeated in one mapping, not a mapping) and names the file in every error, so a bad site
file fails loudly at start-up rather than in the middle of a read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reportdraft.errors import TemplateError
from reportdraft.models import ProcedureMap, Template
from reportdraft.templates.procedure_codes import code_key
from reportdraft.templates.routing import norm_term
from reportdraft.templates.technique import technique_problems

_TEXT_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def check_template(template: Template) -> list[str]:
    """Problems pydantic cannot see, as ``field: message`` strings (empty when valid).

    - ``technique`` uses only :data:`~reportdraft.templates.PLACEHOLDERS`, without format
      specs or conversions;
    - no other text field contains a ``{placeholder}`` (it would be printed verbatim);
    - subsection keys are unique, terms are lower-case and each term routes to exactly one
      subsection (a term in two subsections would make routing depend on file order);
    - procedure codes are not repeated within the template;
    - a specific template names a modality and at least one body part (selection needs
      them); a ``generic`` one names neither, lists no codes and has no normal default at
      all — the fallback must never assert a normal finding nobody dictated.
    """
    problems = technique_problems(template.technique)
    problems += _kind_problems(template)
    texts = {
        "comparison_default": template.comparison_default,
        "impression_default": template.impression_default,
        "impression_guidance": template.impression_guidance,
    }
    for index, sub in enumerate(template.findings):
        texts[f"findings.{index}.default"] = sub.default
    for field, text in texts.items():
        found = _TEXT_PLACEHOLDER.search(text or "")
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
            norm = norm_term(term)
            if norm in owner and owner[norm] != sub.key:
                problems.append(
                    f"{where}: term {term!r} is also in subsection {owner[norm]!r}; "
                    "a term must route to one subsection"
                )
            owner.setdefault(norm, sub.key)

    codes: set[tuple[str, str]] = set()
    for index, coding in enumerate(template.procedure_codes):
        key = code_key(coding.system, coding.code)
        if key in codes:
            problems.append(f"procedure_codes.{index}: code {coding.code} is listed twice")
        codes.add(key)
    return problems


def _kind_problems(template: Template) -> list[str]:
    if not template.generic:
        problems = []
        if template.modality is None:
            problems.append("modality: required (only a generic template has none)")
        if not template.body_parts:
            problems.append("body_parts: at least one is required for a specific template")
        return problems
    problems = [
        f"{field}: a generic template has none"
        for field, value in (
            ("modality", template.modality),
            ("body_parts", template.body_parts),
            ("procedure_codes", template.procedure_codes),
            ("impression_default", template.impression_default),
        )
        if value
    ]
    problems += [
        f"findings.{index}.default: a generic template has no normal defaults"
        for index, sub in enumerate(template.findings)
        if sub.default is not None
    ]
    return problems


def read_template(path: Path) -> Template:
    """Parse and validate one template file; every failure is a :class:`TemplateError`
    naming ``path``."""
    data = _read_mapping(path, "template")
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        raise TemplateError(f"{path}: {_describe(exc)}") from None
    problems = check_template(template)
    if problems:
        raise TemplateError(f"{path}: " + "; ".join(problems))
    return template


def read_procedure_map(path: Path) -> ProcedureMap:
    """Parse and validate a site's procedure mapping file (the library checks that the
    templates it names exist); a code mapped twice in one file is an error, since which
    one is meant cannot be guessed."""
    data = _read_mapping(path, "procedure map")
    try:
        mapping = ProcedureMap.model_validate(data)
    except ValidationError as exc:
        raise TemplateError(f"{path}: {_describe(exc)}") from None
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(mapping.mappings):
        key = code_key(item.system, item.code)
        if key in seen:
            raise TemplateError(
                f"{path}: mappings.{index}: code {item.code} is already mapped "
                f"(mappings.{seen[key]})"
            )
        seen[key] = index
    return mapping


def _read_mapping(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read {what}: {exc}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: invalid YAML: {_one_line(str(exc))}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: a {what} must be a YAML mapping, got {type(data).__name__}")
    return data


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


def _describe(error: ValidationError, limit: int = 5) -> str:
    parts = []
    for item in error.errors()[:limit]:
        loc = ".".join(str(p) for p in item["loc"]) or "(document)"
        parts.append(f"{loc}: {item['msg']}")
    extra = len(error.errors()) - limit
    return "; ".join(parts) + (f"; and {extra} more" if extra > 0 else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())
