"""Helpers shared by the CLI modules: error reporting and backend options."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reportdraft.errors import ReportDraftError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn a ``ReportDraftError`` into one line on stderr and exit status 2.

    The line names the stable error code and the problem, e.g.
    ``error [invalid_case]: study.modality: Input should be 'XR', 'CT', ...``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReportDraftError as exc:
            click.echo(f"error [{exc.code}]: {exc.message}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def backend_options(func: F) -> F:
    """The options every command that drafts accepts."""
    decorators = [
        click.option(
            "--backend",
            "-b",
            default=None,
            metavar="NAME",
            help="Model backend: llamacpp (default, embedded model), vllm, transformers, "
            "rules. Env: REPORTDRAFT_BACKEND.",
        ),
        click.option(
            "--model",
            "-m",
            default=None,
            metavar="M",
            help="GGUF path, HF model directory or served model name.",
        ),
        click.option(
            "--base-url",
            default=None,
            metavar="URL",
            help="OpenAI-compatible server URL (vllm backend).",
        ),
        click.option(
            "--dialect",
            type=click.Choice(["vllm", "llamacpp"]),
            default=None,
            help="How the server spells the JSON-schema constraint.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func
