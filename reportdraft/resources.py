"""Locating the data directories that ship with reportdraft.

``templates/``, ``prompts/`` and ``examples/`` live at the top of the repository (the
project's layout), and the wheel carries them as ``reportdraft/_bundled/<name>``. An
installed wheel reads the bundled copy; a source checkout or editable install reads the
top-level folder. Both are found here, in one place, so no module guesses paths.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir(name: str) -> Path:
    """Return the directory of bundled data ``name`` (``templates``, ``prompts``, ``examples``)."""
    bundled = resources.files("reportdraft").joinpath("_bundled", name)
    if bundled.is_dir():
        return Path(str(bundled))
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"reportdraft data directory {name!r} not found (broken install?)")


def package_data(*parts: str) -> Path:
    """Return a data file inside the package (rules, lexicons) as a path."""
    return Path(str(resources.files("reportdraft").joinpath("data", *parts)))
