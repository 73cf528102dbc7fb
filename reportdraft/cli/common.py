"""Helpers shared by the CLI modules: the error boundary, the command group, backend options.

Every command reports a failure as ONE line on stderr, ``error [code]: message``, and never
a traceback (unless ``reportdraft --debug`` or ``REPORTDRAFT_DEBUG=1``). Exit status 2 means
the input, configuration or environment is wrong; 1 means a check ran and failed (a
verification, a threshold) or an unexpected internal error. The codes:

* a :class:`~reportdraft.errors.ReportDraftError`'s own code (``invalid_case``,
  ``encoding_error``, ``output_exists``, ``io_error``, ...; see :mod:`reportdraft.errors`),
  exit 2;
* ``io_error``: any other ``OSError`` (permission, not a directory, read-only filesystem, no
  space): ``<path>: <reason>``, exit 2;
* ``encoding_error``: a ``UnicodeError`` that escaped the readers, exit 2;
* ``usage_error``: click's own errors (unknown option, bad value), exit 2;
* ``aborted``: Ctrl-C or end of input at a prompt, exit 1;
* ``internal_error``: anything else, exit 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from reportdraft.errors import ReportDraftError

F = TypeVar("F", bound=Callable[..., Any])

BAD_INPUT = 2
"""Exit status for bad input, configuration or environment (nothing was written)."""

FAILED = 1
"""Exit status for a check that failed, or an unexpected internal error."""

DEBUG_ENV = "REPORTDRAFT_DEBUG"
"""Environment variable that, set to 1, shows tracebacks like ``--debug``."""


_SHOWN = "_reportdraft_debug_reraise"
"""Attribute set on an exception that ``--debug`` lets through as a traceback."""


def debug_enabled() -> bool:
    """True under ``reportdraft --debug`` or ``REPORTDRAFT_DEBUG=1``: re-raise, show the trace."""
    if os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes"):
        return True
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    root = ctx.find_root()
    return bool(root.params.get("debug")) or bool(root.meta.get("reportdraft.debug"))


def describe_os_error(exc: OSError) -> str:
    """``<path>: <reason>`` (both paths of a rename), e.g. ``out/x: Not a directory``."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def fail(exc: BaseException) -> NoReturn:
    """Print the one-line report of ``exc`` and exit; re-raise what ``--debug`` should show.

    The one place that maps an exception to a code and an exit status (see the module
    docstring); both :func:`reports_errors` and :class:`ReportDraftGroup` call it.
    """
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        exc.show()  # a bare group: its help text is the answer, not an error line
        sys.exit(exc.exit_code)
    if isinstance(exc, BrokenPipeError) and exc.filename is None:
        _quiet_stdout()  # the reader (``| head``) went away: nothing left to say, to no one
        sys.exit(FAILED)
    if isinstance(exc, ReportDraftError):
        code, message, status = exc.code, exc.message, BAD_INPUT
    elif isinstance(exc, click.ClickException):
        code, message, status = "usage_error", exc.format_message(), exc.exit_code
        ctx = exc.ctx if isinstance(exc, click.UsageError) else None
        if ctx is not None:
            message += f" (see '{ctx.command_path} --help')"
    elif isinstance(exc, click.Abort | KeyboardInterrupt):
        code, message, status = "aborted", "aborted", FAILED
    elif isinstance(exc, OSError):
        code, message, status = "io_error", describe_os_error(exc), BAD_INPUT
    elif isinstance(exc, UnicodeError):
        code, message, status = "encoding_error", f"input is not UTF-8 text ({exc})", BAD_INPUT
    else:
        code, message, status = "internal_error", f"{type(exc).__name__}: {exc}", FAILED
    if getattr(exc, _SHOWN, False) or (
        debug_enabled() and not isinstance(exc, ReportDraftError | click.ClickException)
    ):
        setattr(exc, _SHOWN, True)  # the group's boundary, outside the context, re-raises too
        raise exc
    line = " ".join(message.split()) or type(exc).__name__
    click.echo(f"error [{code}]: {line}", err=True)
    sys.exit(status)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (a test runner): nothing to flush at exit
    finally:
        os.close(devnull)


def reports_errors(func: F) -> F:
    """The error boundary of one command: any exception becomes one line and an exit status.

    ``SystemExit`` (a command's own exit 1 for a failed check) passes through. The line names
    the stable error code and the problem, e.g.
    ``error [invalid_case]: study.modality: Input should be 'XR', 'CT', ...``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SystemExit, click.exceptions.Exit):
            raise
        except Exception as exc:  # the boundary: every failure is reported
            fail(exc)

    return wrapper  # type: ignore[return-value]


class ReportDraftGroup(click.Group):
    """The ``reportdraft`` group: click's own errors and anything a command let escape are
    reported through :func:`fail` too, so even a usage error is one ``error [...]`` line."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; in standalone mode report every failure with :func:`fail`."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except (SystemExit, click.exceptions.Exit):
            raise
        except (Exception, click.Abort, KeyboardInterrupt) as exc:  # the boundary
            fail(exc)
        sys.exit(result if isinstance(result, int) else 0)


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
            help="OpenAI-compatible server URL (vllm backend); replicas of one model "
            "separated by commas.",
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
