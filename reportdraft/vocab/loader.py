"""The one reader of vocabulary files: YAML in, a validated pydantic model out, cached.

Every stage's vocabulary (the verifier's findings and cues, the critical lexicon and ConText
rules, the dictation lexicons, the redline's and the drafter's word lists) is read here, so
that a malformed file fails the same way everywhere: a
:class:`~reportdraft.errors.ConfigurationError` naming the file and each offending field
(``sides.left.0: Input should be a valid string``), raised at start-up rather than as a
silently weakened check mid-read.

Loads are cached per file *version* (path, size and modification time), so the bundled files
are parsed once per process while a site file or a test's edited copy is read again when it
changes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from reportdraft.errors import ConfigurationError
from reportdraft.resources import package_data

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_REPORTED_ERRORS = 5
"""How many field errors one message lists (pydantic may report hundreds for one typo)."""


def vocab_dir() -> Path:
    """The folder of the bundled vocabulary files (``reportdraft/data/vocab/``)."""
    return package_data("vocab")


def vocab_path(name: str) -> Path:
    """The bundled vocabulary file ``name`` (``reportdraft/data/vocab/<name>``)."""
    return package_data("vocab", name)


def read_yaml(path: Path, what: str) -> Any:
    """The parsed YAML of ``path``; an unreadable or malformed file is a ConfigurationError.

    For the few loaders that must combine files before validating (the ConText rules take
    their negation phrases from ``negation.yaml``); everything else uses :func:`load_file`.
    """
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read {what} {path}: {exc}") from exc


def field_errors(exc: ValidationError) -> str:
    """The errors of ``exc`` as ``field.path: message`` pairs (the first few)."""
    parts = []
    for error in exc.errors()[:MAX_REPORTED_ERRORS]:
        where = ".".join(str(part) for part in error["loc"]) or "(file)"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - MAX_REPORTED_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def validate(data: Any, model: type[ModelT], path: Path, what: str) -> ModelT:
    """``data`` (read from ``path``) as ``model``; else a ConfigurationError naming file, fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid {what} {path}: {field_errors(exc)}") from exc


def load_file(path: Path, model: type[ModelT], what: str) -> ModelT:
    """Read and validate the vocabulary file ``path`` as ``model`` (cached per file version).

    ``what`` names the vocabulary in error messages ("critical-finding lexicon").
    """
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} {path}: {exc}") from exc
    loaded = _load_cached(path.resolve(), stat.st_mtime_ns, stat.st_size, model, what)
    if not isinstance(loaded, model):  # pragma: no cover - the cache key includes the model
        raise ConfigurationError(f"{what} {path}: cached as {type(loaded).__name__}")
    return loaded


@lru_cache(maxsize=256)
def _load_cached(
    path: Path, _mtime_ns: int, _size: int, model: type[BaseModel], what: str
) -> BaseModel:
    return validate(read_yaml(path, what), model, path, what)


def load_bundled(name: str, model: type[ModelT], what: str) -> ModelT:
    """The bundled vocabulary file ``name``, validated as ``model``."""
    return load_file(vocab_path(name), model, what)
