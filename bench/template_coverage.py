"""Template coverage on public radiology text, before and after, and Open-i unchanged.

Before is measured in the same run, on the code and data of a base commit (``--before``,
default ``main``'s merge base with this checkout): the base tree is extracted with
``git archive`` into a temporary folder and run in a subprocess, so "before" is that
version's own builder, templates and word lists, not a re-implementation.

For the MTSamples radiology rows (``$REPORTDRAFT_DATA/mtsamples/radiology_dev.jsonl``):

- rows that reach template selection (an imaging report with a modality), and of those
  the share that gets a specific template (the builder's strict selection), before and
  after; the share drafted at all after, with the generic template as fallback (every
  such row is drafted with the rules backend, and counted only if drafting succeeds);
- what is left out and why (clinic notes, non-imaging rows, rows naming no modality).

For Open-i (``openi_opi/validate.jsonl``): every row is drafted with the rules backend by
both versions and the drafts are compared (statements, sources, flags); the wall time of
each side is the baseline/ratio pair. The machine is shared with other work: times are
noisy, counts are not.

    REPORTDRAFT_DATA=../shared/data .venv/bin/python bench/template_coverage.py

Output: ``bench/results/template_coverage.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "template_coverage.json"

WORKER = r"""
import json, sys, time
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.evaluation.builders import build_mtsamples, build_openi
from reportdraft.templates import TemplateLibrary

data = Path(sys.argv[2])
library = TemplateLibrary.load()
cases, report = build_mtsamples(data, library=library)
out = {
    "templates": len(library),
    "mtsamples": {
        "written": report.written,
        "skipped": dict(report.skipped),
        "by_template": dict(report.by_template),
    },
}
rules = create_backend("rules", BackendOptions())
now = datetime(2026, 1, 1, tzinfo=UTC)
openi, _ = build_openi(data, library=library, split="validate")
drafts = {}
start = time.perf_counter()
for item in openi:
    draft = drafting.draft_case(item.case, rules, library=library, now=now).draft
    drafts[item.id] = {
        "template": draft.template_id,
        "sections": [
            [s.kind.value, [[st.subsection, st.text, st.sources] for st in s.statements]]
            for s in draft.sections
        ],
        "flags": [[f.kind.value, f.severity.value, f.message] for f in draft.flags],
    }
out["openi_seconds"] = time.perf_counter() - start
out["openi"] = drafts
print(json.dumps(out))
"""


def run_worker(tree: Path, data: Path) -> dict[str, Any]:
    """Run the measurement worker on the package in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(tree), str(data)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tree,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker failed in {tree}:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def extract(rev: str, into: Path) -> str:
    """Extract commit ``rev`` of this repository into ``into``; return its full hash."""
    full = subprocess.run(
        ["git", "rev-parse", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = into / "base.tar"
    subprocess.run(["git", "archive", "-o", str(archive), full], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return full


def after_coverage(data: Path) -> dict[str, Any]:
    """This checkout: strict selection, then every selectable row drafted with fallback."""
    sys.path.insert(0, str(ROOT))
    from reportdraft import drafting
    from reportdraft.backends import BackendOptions, create_backend
    from reportdraft.evaluation.builders import build_mtsamples
    from reportdraft.models import FlagKind
    from reportdraft.templates import TemplateLibrary

    library = TemplateLibrary.load()
    _cases, strict = build_mtsamples(data, library=library)
    cases, fallback = build_mtsamples(data, library=library, generic_fallback=True)
    rules = create_backend("rules", BackendOptions())
    drafted, failed = Counter[str](), Counter[str]()
    generic_flagged = 0
    start = time.perf_counter()
    for item in cases:
        try:
            result = drafting.draft_case(item.case, rules, library=library)
        except Exception as exc:  # a row that cannot be drafted is what we count
            failed[type(exc).__name__] += 1
            continue
        drafted[result.template.id] += 1
        generic_flagged += any(f.kind is FlagKind.GENERIC_TEMPLATE for f in result.draft.flags)
    seconds = time.perf_counter() - start
    return {
        "templates": len(library),
        "strict": {
            "written": strict.written,
            "skipped": dict(strict.skipped),
            "by_template": dict(strict.by_template),
        },
        "fallback": {
            "written": fallback.written,
            "skipped": dict(fallback.skipped),
            "by_template": dict(fallback.by_template),
        },
        "drafted": dict(drafted),
        "draft_failures": dict(failed),
        "generic_flagged": generic_flagged,
        "draft_seconds": seconds,
    }


def selected(report: dict[str, Any]) -> int:
    """Rows whose template was selected: built, or skipped only for lack of reference text
    (the builder checks the template first, then the findings/impression text)."""
    skipped = report["skipped"]
    return (
        int(report["written"])
        + int(skipped.get("no findings/impression section", 0))
        + int(skipped.get("invalid case", 0))
    )


def main() -> None:
    """Measure and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=os.environ.get("REPORTDRAFT_DATA"))
    parser.add_argument("--before", default=None, help="base commit (default: merge-base main)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.data is None or not (Path(args.data) / "mtsamples").is_dir():
        raise SystemExit("set REPORTDRAFT_DATA (or --data) to the public data folder")
    data = Path(args.data).resolve()
    before_rev = (
        args.before
        or subprocess.run(
            ["git", "merge-base", "HEAD", "main"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )

    with tempfile.TemporaryDirectory() as tmp:
        base_hash = extract(before_rev, Path(tmp))
        before = run_worker(Path(tmp) / "tree", data)
    now = run_worker(ROOT, data)
    after = after_coverage(data)

    with (data / "mtsamples" / "radiology_dev.jsonl").open(encoding="utf-8") as handle:
        total = sum(1 for line in handle if line.strip())
    skipped_after = after["fallback"]["skipped"]
    not_reports = int(skipped_after.get("clinic note, not an imaging report", 0)) + int(
        skipped_after.get("not an imaging study", 0)
    )
    no_modality_after = int(skipped_after.get("no modality", 0))
    imaging_rows = total - not_reports  # the denominator: imaging reports
    with_modality = imaging_rows - no_modality_after
    before_specific = selected(before["mtsamples"])
    after_specific = selected(after["strict"])
    after_any = selected(after["fallback"])
    drafted = sum(after["drafted"].values())
    generic_drafted = after["drafted"].get("generic", 0)

    openi_before, openi_after = before["openi"], now["openi"]
    same = sum(1 for k in openi_before if openi_before[k] == openi_after.get(k))
    differing = sorted(k for k in openi_before if openi_before[k] != openi_after.get(k))

    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = (0.0, 0.0, 0.0)
    result = {
        "benchmark": "template_coverage",
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": load,
            "note": "shared machine (several helpers at once): times are noisy, counts are not",
        },
        "before": {"commit": base_hash, "templates": before["templates"]},
        "after": {"templates": after["templates"]},
        "mtsamples": {
            "rows": total,
            "not_imaging_reports": not_reports,
            "imaging_rows": imaging_rows,
            "no_modality_after": no_modality_after,
            "with_modality_after": with_modality,
            "before": {
                "specific_template": before_specific,
                "share_of_imaging_rows": round(before_specific / imaging_rows, 3),
                "share_of_all_rows": round(before_specific / total, 3),
                "skipped": before["mtsamples"]["skipped"],
                "by_template": before["mtsamples"]["by_template"],
            },
            "after": {
                "specific_template": after_specific,
                "share_of_imaging_rows": round(after_specific / imaging_rows, 3),
                "share_of_all_rows": round(after_specific / total, 3),
                "reached_selection_with_fallback": after_any,
                "drafted_with_fallback": drafted,
                "drafted_on_generic": generic_drafted,
                "generic_flagged": after["generic_flagged"],
                "draft_failures": after["draft_failures"],
                "share_drafted_of_rows_with_modality": round(after_any / with_modality, 3)
                if with_modality
                else None,
                "note": "drafted_with_fallback counts built cases (rows with reference text) that "
                "drafted without error; reached_selection_with_fallback also counts rows "
                "skipped afterwards for lack of findings/impression text",
                "skipped_strict": after["strict"]["skipped"],
                "by_template_strict": after["strict"]["by_template"],
                "drafted_by_template": after["drafted"],
            },
            "ratio_specific_after_over_before": round(after_specific / before_specific, 2)
            if before_specific
            else None,
        },
        "openi_validate": {
            "rows": len(openi_before),
            "identical_drafts": same,
            "differing": differing[:20],
            "differing_count": len(differing),
            "seconds_before": round(before["openi_seconds"], 2),
            "seconds_after": round(now["openi_seconds"], 2),
            "ratio_after_over_before": round(now["openi_seconds"] / before["openi_seconds"], 2),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("mtsamples", "openi_validate")}, indent=2)[:4000])


if __name__ == "__main__":
    main()
