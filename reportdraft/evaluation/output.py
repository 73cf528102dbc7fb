"""Writing a run's reports: ``results.json``, ``cases.csv`` and ``report.html``."""

from __future__ import annotations

from pathlib import Path

from reportdraft.evaluation.harness import EvalResult
from reportdraft.evaluation.report_data import to_csv, to_json
from reportdraft.evaluation.report_html import render_html

REPORT_FILES = ("results.json", "cases.csv", "report.html")


def write_reports(result: EvalResult, out_dir: Path, *, html: bool = True) -> list[Path]:
    """Write the reports into ``out_dir`` (created); each file is written whole, then renamed.

    The drafts cache lives beside them in ``out_dir/cache``, so re-running into the same
    directory only recomputes metrics.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    contents = {"results.json": to_json(result), "cases.csv": to_csv(result)}
    if html:
        contents["report.html"] = render_html(result)
    written: list[Path] = []
    for name, text in contents.items():
        path = out_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
