"""Module sizes and the import arrows against the layer order: the package's shape in numbers.

Counts every ``.py`` file under the package as a module and its physical lines (what
``wc -l`` counts: docstrings and comments included), and lists the imports that break the
layer order of ``docs/ARCHITECTURE.md``. The layers and the import parsing are the ones
``tests/test_architecture.py`` checks, imported from there, so this report and the test
cannot disagree. Nothing is timed, so the JSON is the same on every machine for the same
tree; run it before and after a restructuring and compare.

    .venv/bin/python bench/module_stats.py                     # this checkout
    .venv/bin/python bench/module_stats.py --package ../other/reportdraft --out /tmp/before.json

Output: ``bench/results/module_stats.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_architecture import (  # noqa: E402
    KNOWN_UPWARD,
    LAYERS,
    PACKAGE_DIR,
    against_layers,
    describe,
    import_arrows,
    modules,
    unit_of,
)

OUT = ROOT / "bench" / "results" / "module_stats.json"
SPLIT_AT = 600
"""Lines past which a module is listed as one to split."""


def line_count(path: Path) -> int:
    """Physical lines of ``path``, as ``wc -l`` counts them (a last line without a newline
    counts too)."""
    text = path.read_text(encoding="utf-8")
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def stats(package_dir: Path) -> dict[str, Any]:
    """The numbers for the package at ``package_dir``."""
    found = modules(package_dir)
    lines = {name: line_count(path) for name, path in found.items()}
    sizes = sorted(lines.values())
    arrows = import_arrows(package_dir)
    bad = against_layers(arrows)
    unit_arrows = {(a.source_unit, a.target_unit) for a in arrows}
    names = Counter(path.name for path in found.values() if path.name != "__init__.py")
    per_unit: dict[str, list[int]] = {}
    for name, count in lines.items():
        per_unit.setdefault(unit_of(name), []).append(count)
    return {
        "package": str(package_dir),
        "modules": len(found),
        "lines_total": sum(sizes),
        "lines_per_module": {
            "median": statistics.median(sizes),
            "max": sizes[-1],
            "largest": [
                {"module": n, "lines": c}
                for n, c in sorted(lines.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
            ],
            f"over_{SPLIT_AT}": sorted(n for n, c in lines.items() if c > SPLIT_AT),
        },
        "units": {
            unit: {"modules": len(counts), "lines": sum(counts)}
            for unit, counts in sorted(per_unit.items())
        },
        "repeated_file_names": {n: c for n, c in sorted(names.items()) if c > 1},
        "imports": {
            "module_arrows": len(arrows),
            "unit_arrows": len({(s, t) for s, t in unit_arrows if s != t}),
            "against_layers": len(bad),
            "against_layers_known": sum((a.source, a.target) in KNOWN_UPWARD for a in bad),
            "arrows_against_layers": [describe(a) for a in bad],
        },
        "layers": [{"name": name, "units": list(units)} for name, units in LAYERS],
    }


def main() -> None:
    """Compute, print a summary and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package", type=Path, default=PACKAGE_DIR, help="package folder")
    parser.add_argument("--out", type=Path, default=OUT, help="JSON file to write")
    args = parser.parse_args()
    result = stats(args.package.resolve())
    if args.package.resolve() == PACKAGE_DIR:
        result["package"] = PACKAGE_DIR.name  # the same JSON in every checkout
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    per = result["lines_per_module"]
    imports = result["imports"]
    print(
        f"{result['modules']} modules, {result['lines_total']} lines; per module median "
        f"{per['median']}, max {per['max']} ({per['largest'][0]['module']}); "
        f"{len(per[f'over_{SPLIT_AT}'])} over {SPLIT_AT} lines"
    )
    print(
        f"{imports['module_arrows']} module imports, {imports['unit_arrows']} between units; "
        f"{imports['against_layers']} against the layer order "
        f"({imports['against_layers_known']} known):"
    )
    for line in imports["arrows_against_layers"]:
        print(f"  {line}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
