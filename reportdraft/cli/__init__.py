"""The ``reportdraft`` command.

Each command group lives in its own module under ``reportdraft/cli/`` and exposes a
``COMMANDS`` list of click commands; this module only assembles them, so adding a stage's
commands never touches another stage's code. Every command reports any failure as one line
``error [code]: ...`` on stderr with exit status 2 (bad input) or 1 (a failed check), and
writes nothing on failure (:mod:`reportdraft.cli.common` lists the codes); ``--debug``
shows the traceback of an unexpected error instead.
"""

from __future__ import annotations

import importlib
import os

import click

from reportdraft import __version__
from reportdraft.cli.common import DEBUG_ENV, ReportDraftGroup
from reportdraft.critical import configure_site
from reportdraft.settings import Settings

COMMAND_MODULES = (
    "reportdraft.cli.core",
    "reportdraft.cli.critical_cmd",
    "reportdraft.cli.redline_cmd",
    "reportdraft.cli.attest",
    "reportdraft.cli.render",
    "reportdraft.cli.serve",
    "reportdraft.cli.evaluation",
)
"""Modules whose ``COMMANDS`` are added to the group, in help order."""


@click.group(cls=ReportDraftGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportdraft")
@click.option(
    "--debug",
    is_flag=True,
    help=f"Show the traceback of an unexpected error instead of one line. Env: {DEBUG_ENV}=1.",
)
def main(debug: bool) -> None:
    """reportdraft: draft, verify, sign and render radiology reports with a local model."""
    # The site's critical-finding files hold for every command (drafting, the redline,
    # sign-off rules all detect), so they are installed here, once, before any runs.
    # Settings are read only when the variable is set: a command that reads no settings
    # keeps working whatever the other variables say.
    if os.environ.get("REPORTDRAFT_CRITICAL_DIR"):
        site = Settings.from_env().critical_dir
        if site is not None:
            configure_site(site)


for _module_name in COMMAND_MODULES:
    for _command in importlib.import_module(_module_name).COMMANDS:
        main.add_command(_command)
