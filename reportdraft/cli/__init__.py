"""The ``reportdraft`` command.

Each command group lives in its own module under ``reportdraft/cli/`` and exposes a
``COMMANDS`` list of click commands; this module only assembles them, so adding a stage's
commands never touches another stage's code. Every command turns a ``ReportDraftError``
into one clear line on stderr and a non-zero exit, and writes nothing on failure.
"""

from __future__ import annotations

import importlib

import click

from reportdraft import __version__

COMMAND_MODULES = (
    "reportdraft.cli.core",
    "reportdraft.cli.critical",
    "reportdraft.cli.redline",
    "reportdraft.cli.attest",
    "reportdraft.cli.render",
    "reportdraft.cli.serve",
    "reportdraft.cli.evaluation",
)
"""Modules whose ``COMMANDS`` are added to the group, in help order."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportdraft")
def main() -> None:
    """reportdraft: draft, verify, sign and render radiology reports with a local model."""


for _module_name in COMMAND_MODULES:
    for _command in importlib.import_module(_module_name).COMMANDS:
        main.add_command(_command)
