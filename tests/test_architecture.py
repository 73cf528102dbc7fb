"""The one direction of imports between reportdraft's packages, checked on the source.

``docs/ARCHITECTURE.md`` draws the layers; :data:`LAYERS` below is their definition. A
*unit* is a top-level module or package of ``reportdraft`` (``models``, ``verification``,
``drafting`` ...; ``reportdraft`` itself for the package's ``__init__``). A module may import
its own unit and units of lower layers, never a unit of its own layer or of a higher one:
so the stages can be read bottom-up, each layer is testable without the ones above it, and
no import cycle between units can form.

Every import counts, wherever it is written: at module level, inside a function (the lazy
imports that keep ``import reportdraft`` fast are still dependencies) or under
``TYPE_CHECKING``; so does a string literal that names a module of the package (what
``importlib.import_module`` is given). The arrows that break the order today are listed in
:data:`KNOWN_UPWARD`, each with the reason it is still there: the test fails on any new one,
and on a listed one that has gone (remove it from the list then).

``bench/module_stats.py`` reports the same arrows with the module sizes, through
:func:`import_arrows` and :func:`against_layers`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "reportdraft"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / PACKAGE

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Shared ground: the version, the exception tree, where bundled data lives, typed values.
    ("foundation", ("reportdraft", "errors", "resources", "models")),
    # Clinical vocabulary every stage reads (negation cues, side words, numbers and units,
    # synonyms, the stages' word lists) and its one validated loader: data over the
    # foundation, below every stage.
    ("vocabulary", ("vocab",)),
    # Configuration and the inputs of drafting: files, templates, the transcript and the
    # model runtimes.
    ("inputs", ("settings", "io", "templates", "dictation", "backends")),
    # Clinical language: critical-finding detection; guideline follow-up recommendations
    # (read from the dictation and the case; the verifier and the drafter use them).
    ("language", ("critical", "guidelines")),
    # Checks and records over a draft: the verifier (grounding checks and the clinical fact
    # extraction they compare), the redline, the attestation.
    ("checks", ("verification", "redline", "attest")),
    # What is built on a checked draft or a signed report.
    ("builders", ("render", "store")),
    # Drafting a case: the stages in order, the deterministic drafter, model rewrites, prompt
    # sets and the text view of a draft.
    ("drafting", ("drafting",)),
    # Around the pipeline: the HTTP service, the QA harness, the demo's simulated reader.
    ("service", ("api", "evaluation", "demo")),
    # The radiologist's review pages, on top of the API's endpoint functions.
    ("pages", ("web",)),
    ("entry", ("cli",)),
)
"""Units from the bottom layer up. Units of one layer do not import each other."""

KNOWN_UPWARD: dict[tuple[str, str], str] = {}
"""(importing module, imported module) pairs allowed against the layer order, with why."""

_MODULE_STRING = re.compile(rf"{PACKAGE}(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?::[A-Za-z_][\w.]*)?")


@dataclass(frozen=True, order=True)
class Arrow:
    """One import: ``source`` (a module of the package) imports ``target`` at ``line``."""

    source: str
    target: str
    line: int

    @property
    def source_unit(self) -> str:
        """The unit the importing module belongs to."""
        return unit_of(self.source)

    @property
    def target_unit(self) -> str:
        """The unit the imported module belongs to."""
        return unit_of(self.target)

    def __str__(self) -> str:
        return f"{self.source}:{self.line} -> {self.target}"


def unit_of(module: str) -> str:
    """``reportdraft.verification.claims`` -> ``verification``; the package itself is
    ``reportdraft``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_of() -> dict[str, int]:
    """Each declared unit's layer number (0 is the bottom)."""
    return {unit: i for i, (_name, units) in enumerate(LAYERS) for unit in units}


def module_name(path: Path, package_dir: Path) -> str:
    """The dotted name of the module at ``path`` (a package is named by its ``__init__``)."""
    parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package_dir: Path) -> dict[str, Path]:
    """Every module of the package under ``package_dir``, by dotted name."""
    return {module_name(p, package_dir): p for p in sorted(package_dir.rglob("*.py"))}


def units(package_dir: Path) -> set[str]:
    """The units that exist: top-level modules and packages, and the package itself."""
    return {unit_of(name) for name in modules(package_dir)}


def _resolve(name: str, known: set[str]) -> str | None:
    """The longest prefix of ``name`` that is a module of the package, if any."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def _imported(node: ast.AST, source: str, is_package: bool) -> Iterator[str]:
    """The dotted names an import node (or a string literal) refers to."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = source.split(".") if is_package else source.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            module = ".".join([*base, *([node.module] if node.module else [])])
        else:
            module = node.module or ""
        # ``from reportdraft import drafting`` imports the module reportdraft.drafting;
        # ``from reportdraft.models import Case`` imports reportdraft.models.
        yield from (f"{module}.{alias.name}" for alias in node.names)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        match = _MODULE_STRING.fullmatch(node.value)
        if match:
            yield node.value.partition(":")[0]


def import_arrows(package_dir: Path = PACKAGE_DIR) -> list[Arrow]:
    """Every import of a package module by a package module, one per (source, target) pair
    (the first line it occurs on), sorted. Imports of outside packages are left out."""
    found = modules(package_dir)
    known = set(found)
    arrows: dict[tuple[str, str], Arrow] = {}
    for source, path in found.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for name in _imported(node, source, path.name == "__init__.py"):
                target = _resolve(name, known)
                if target is None or target == source:
                    continue
                line = getattr(node, "lineno", 0)
                key = (source, target)
                if key not in arrows or line < arrows[key].line:
                    arrows[key] = Arrow(source, target, line)
    return sorted(arrows.values())


def against_layers(arrows: list[Arrow]) -> list[Arrow]:
    """The arrows between two units that do not point to a strictly lower layer.

    An arrow from or to a unit missing from :data:`LAYERS` counts as against the order too:
    a new unit has to be given its place before it is used.
    """
    layer = layer_of()
    bad = []
    for arrow in arrows:
        src, dst = arrow.source_unit, arrow.target_unit
        if src == dst:
            continue
        if src not in layer or dst not in layer or layer[dst] >= layer[src]:
            bad.append(arrow)
    return bad


def describe(arrow: Arrow) -> str:
    """One line for a report: the arrow, its direction and the two units' layers."""
    layer = layer_of()
    src, dst = layer.get(arrow.source_unit), layer.get(arrow.target_unit)
    if src is None or dst is None:
        how = "undeclared unit"
    else:
        how = "sideways" if src == dst else "upward"
    names = {unit: name for name, layer_units in LAYERS for unit in layer_units}
    return (
        f"{arrow} ({how}: {arrow.source_unit} [{names.get(arrow.source_unit, '?')}] -> "
        f"{arrow.target_unit} [{names.get(arrow.target_unit, '?')}])"
    )


# --------------------------------------------------------------------------- the checks


def test_every_unit_has_exactly_one_layer() -> None:
    declared = [unit for _name, layer_units in LAYERS for unit in layer_units]
    assert len(declared) == len(set(declared)), "a unit is declared in two layers"
    present = units(PACKAGE_DIR)
    assert present - set(declared) == set(), "give these units a layer in LAYERS"
    assert set(declared) - present == set(), "these declared units no longer exist"


def test_no_import_against_the_layers_except_the_known_ones() -> None:
    bad = against_layers(import_arrows())
    print(f"{len(bad)} import arrow(s) against the layer order:")
    for arrow in bad:
        known = KNOWN_UPWARD.get((arrow.source, arrow.target))
        print(f"  {describe(arrow)}" + (f"  [known: {known}]" if known else "  [NEW]"))
    new = [describe(a) for a in bad if (a.source, a.target) not in KNOWN_UPWARD]
    assert not new, "imports against the layer order (see docs/ARCHITECTURE.md, 'Layers'):\n" + (
        "\n".join(new)
    )


def test_known_exceptions_are_still_needed() -> None:
    bad = {(a.source, a.target) for a in against_layers(import_arrows())}
    gone = sorted(set(KNOWN_UPWARD) - bad)
    assert not gone, f"gone or pointing down now, remove from KNOWN_UPWARD: {gone}"


# --------------------------------------------------------------------------- the checker


def _package(root: Path, files: dict[str, str]) -> Path:
    """Write a throwaway package named ``reportdraft`` under ``root``."""
    package_dir = root / PACKAGE
    for relative, text in files.items():
        path = package_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package_dir


def test_checker_sees_every_form_of_import(tmp_path: Path) -> None:
    package_dir = _package(
        tmp_path,
        {
            "__init__.py": '__version__ = "0"\n',
            "errors.py": "",
            "models/__init__.py": "from .case import Case\n",
            "models/case.py": "Case = object\n",
            "pipeline.py": "from reportdraft import errors, __version__\n",
            "api/__init__.py": "",
            "api/app.py": (
                "import importlib\n"
                "def draft():\n"
                "    from reportdraft.pipeline import run\n"
                "    return importlib.import_module('reportdraft.models.case')\n"
                "NAME = 'reportdraft.errors:Oops'\n"
                "log = 'reportdraft is not a module path'\n"
            ),
            "cli/__init__.py": "from ..api import app\n",
        },
    )
    pairs = {(a.source, a.target) for a in import_arrows(package_dir)}
    assert pairs == {
        ("reportdraft.models", "reportdraft.models.case"),
        ("reportdraft.pipeline", "reportdraft.errors"),
        ("reportdraft.pipeline", "reportdraft"),
        ("reportdraft.api.app", "reportdraft.pipeline"),
        ("reportdraft.api.app", "reportdraft.models.case"),
        ("reportdraft.api.app", "reportdraft.errors"),
        ("reportdraft.cli", "reportdraft.api.app"),
    }


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # models (foundation) importing the API (service): upward.
        ({"models.py": "from reportdraft.api import app\n"}, "upward"),
        # two units of one layer: sideways.
        ({"models.py": "import reportdraft.errors\n"}, "sideways"),
        # a lazy import inside a function counts as well.
        ({"models.py": "def f():\n    from reportdraft import cli\n"}, "upward"),
        # a unit that has no layer yet.
        ({"models.py": "from reportdraft.newthing import x\n"}, "undeclared unit"),
    ],
)
def test_checker_reports_an_arrow_against_the_layers(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    package_dir = _package(
        tmp_path,
        {
            "errors.py": "",
            "api/__init__.py": "",
            "api/app.py": "",
            "cli/__init__.py": "",
            "newthing/__init__.py": "x = 1\n",
            **files,
        },
    )
    (bad,) = against_layers(import_arrows(package_dir))
    assert bad.source == "reportdraft.models"
    assert f"({expected}:" in describe(bad)


def test_checker_lets_a_downward_import_pass(tmp_path: Path) -> None:
    package_dir = _package(
        tmp_path,
        {
            "errors.py": "",
            "models.py": "",
            "api/__init__.py": "from reportdraft.models import Case\nfrom . import routes\n",
            "api/routes.py": "from reportdraft.errors import Oops\n",
        },
    )
    arrows = import_arrows(package_dir)
    assert len(arrows) == 3
    assert against_layers(arrows) == []
