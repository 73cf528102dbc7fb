"""Render time per format per report: PDF, FHIR Bundle, HL7 ORU^R01 (median over examples).

Every bundled example case is drafted with the rules backend and signed through the
attestation flow (``tests/render/signed_examples.py``), then timed, interleaved in one
process, ``--repeats`` times each:

  * ``baseline``      — ``Report.model_dump_json()``: serialising the stored report, the
                        floor any delivery pays; every other number is reported against it,
  * ``pdf``           — ``render_pdf``,
  * ``fhir``          — ``render_fhir`` given the PDF (build + fhir.resources validation),
  * ``fhir_profile``  — ``check_us_core`` on that Bundle,
  * ``hl7``           — ``render_hl7`` without the PDF (build + fast structural validation),
  * ``hl7_with_pdf``  — ``render_hl7`` with the PDF as an ED OBX,
  * ``hl7_strict``    — ``render_hl7(strict=True)`` (also hl7apy's strict parse),
  * ``hl7_validate``  — hl7apy strict parse + validate alone (its share of ``hl7_strict``).

(``bench/results/render.json`` predates the fast validation: there ``hl7`` was the strict
rendering. ``bench/tail_bench.py`` measures both in one run.)

The median per report is taken over the repeats, then the median over reports. Writes
``bench/results/render.json``.

    .venv/bin/python bench/render_bench.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the signing helper lives with the render tests

from reportdraft.models import Report  # noqa: E402
from reportdraft.render import check_us_core, render_fhir, render_hl7, render_pdf  # noqa: E402
from reportdraft.render.hl7 import validate_er7  # noqa: E402
from tests.render.signed_examples import EXAMPLE_NAMES, signed_example  # noqa: E402

OUT = Path(__file__).parent / "results" / "render.json"


def _time(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _ms(row: dict[str, float | int | str], key: str) -> float:
    value = row[f"{key}_ms"]
    assert isinstance(value, float)
    return value


def _tasks(report: Report) -> dict[str, Callable[[], object]]:
    pdf = render_pdf(report)
    bundle = render_fhir(report, pdf=pdf)
    message = render_hl7(report)
    return {
        "baseline": report.model_dump_json,
        "pdf": lambda: render_pdf(report),
        "fhir": lambda: render_fhir(report, pdf=pdf),
        "fhir_profile": lambda: check_us_core(bundle),
        "hl7": lambda: render_hl7(report),
        "hl7_with_pdf": lambda: render_hl7(report, pdf=pdf),
        "hl7_strict": lambda: render_hl7(report, strict=True),
        "hl7_validate": lambda: validate_er7(message),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    reports = {name: signed_example(name) for name in EXAMPLE_NAMES}
    sign_seconds = time.perf_counter() - started
    for report in reports.values():  # warm-up: fonts, imports, hl7apy tables
        for task in _tasks(report).values():
            task()
    rows: list[dict[str, float | int | str]] = []
    for name, report in reports.items():
        tasks = _tasks(report)
        samples: dict[str, list[float]] = {key: [] for key in tasks}
        for _ in range(args.repeats):
            for key, task in tasks.items():  # interleaved, so drift hits every format alike
                samples[key].append(_time(task))
        pdf = render_pdf(report)
        rows.append(
            {
                "case": name,
                "pdf_bytes": len(pdf),
                "hl7_obx_lines": render_hl7(report).count("\rOBX|"),
                "fhir_entries": len(render_fhir(report, pdf=pdf)["entry"]),
                **{f"{key}_ms": statistics.median(v) * 1000 for key, v in samples.items()},
            }
        )
        print(
            f"{name:24s} "
            + " ".join(f"{k}={statistics.median(v) * 1000:7.2f}ms" for k, v in samples.items())
        )
    keys = list(_tasks(next(iter(reports.values()))))
    medians = {key: statistics.median(_ms(r, key) for r in rows) for key in keys}
    base = medians["baseline"]
    summary = {
        "median_ms": medians,
        "ratio_to_baseline": {k: v / base for k, v in medians.items() if k != "baseline"},
        "hl7_validate_share_of_hl7_strict": medians["hl7_validate"] / medians["hl7_strict"],
        "hl7_strict_vs_fast": medians["hl7_strict"] / medians["hl7"],
    }
    result = {
        "benchmark": "render",
        "what": "render time per format per signed report; median over repeats, then over "
        "reports; baseline = Report.model_dump_json()",
        "repeats": args.repeats,
        "reports": len(rows),
        "sign_all_examples_s": sign_seconds,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "summary": summary,
        "cases": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
