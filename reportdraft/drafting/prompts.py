"""Prompt sets: the Jinja templates and few-shot examples a model backend drafts with.

A prompt set is one folder holding ``system.j2``, ``rewrite.j2``, ``repair.j2`` and
``examples.yaml`` (few-shot examples per piece kind, ``findings`` and ``impression``; an
empty list means zero-shot). The bundled set is ``prompts/``; an eval suite may point a
system at another folder to compare prompts on the same cases (``prompts:`` in a system
of the suite). Its version is a hash of the folder's files, so a draft names the exact
prompts behind it and an edited prompt never reuses cached outputs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from reportdraft.errors import ConfigurationError
from reportdraft.resources import data_dir

TEMPLATES = ("system.j2", "rewrite.j2", "repair.j2")
EXAMPLE_KINDS = ("findings", "impression")


@dataclass(frozen=True)
class PromptSet:
    """A loaded, checked prompt folder."""

    folder: Path
    version: str
    examples: dict[str, list[dict[str, Any]]]
    environment: Environment

    def render(self, name: str, **values: Any) -> str:
        """Render template ``name`` (one of :data:`TEMPLATES`) with ``values``."""
        return self.environment.get_template(name).render(**values)


def _version(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"v1+{digest.hexdigest()[:10]}"


def _examples(folder: Path) -> dict[str, list[dict[str, Any]]]:
    path = folder / "examples.yaml"
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"prompt set {folder}: cannot read examples.yaml: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigurationError(f"prompt set {folder}: examples.yaml must be a mapping")
    examples: dict[str, list[dict[str, Any]]] = {}
    for kind in EXAMPLE_KINDS:
        items = loaded.get(kind, [])
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and {"sources", "answer"} <= set(i) for i in items
        ):
            raise ConfigurationError(
                f"prompt set {folder}: examples.yaml '{kind}' must be a list of "
                "{sources, answer} items (an empty list means zero-shot)"
            )
        examples[kind] = items
    return examples


@cache
def load_prompts(folder: Path | None = None) -> PromptSet:
    """The prompt set in ``folder`` (the bundled ``prompts/`` when None), checked once."""
    root = (folder or data_dir("prompts")).resolve()
    missing = [n for n in (*TEMPLATES, "examples.yaml") if not (root / n).is_file()]
    if missing:
        raise ConfigurationError(f"prompt set {root}: missing {', '.join(missing)}")
    environment = Environment(
        loader=FileSystemLoader(str(root)),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    for name in TEMPLATES:
        try:
            environment.get_template(name)
        except TemplateError as exc:
            raise ConfigurationError(f"prompt set {root}: {name}: {exc}") from exc
    return PromptSet(
        folder=root, version=_version(root), examples=_examples(root), environment=environment
    )
