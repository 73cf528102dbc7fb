"""Section-aware detection on real Open-i chest reports never alerts less than the plain run.

Open-i reports come as fields (indication, comparison, findings, impression). Each report
is rebuilt with headers two ways: every field under its header, and, harder, only
"INDICATION:" and "COMPARISON:" headed with findings and impression following unheaded (as
in reports that have no findings header). A section-aware run on either text must alert on
every finding the plain run alerts on in the findings and impression alone: a header
governs its own content, not what follows it. Skipped when the public data folder
(``REPORTDRAFT_DATA``, default ``../shared/data``) is absent.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from reportdraft.critical import active_detector

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("REPORTDRAFT_DATA") or ROOT.parent / "shared" / "data")
REPORTS = DATA / "openi_negbio" / "indiana_reports.csv"
pytestmark = pytest.mark.skipif(
    not REPORTS.is_file(), reason=f"Open-i reports not found at {REPORTS} (set REPORTDRAFT_DATA)"
)
PNEUMOTHORAX = {"pneumothorax", "tension_pneumothorax"}


def _rows() -> list[dict[str, str]]:
    with REPORTS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _body(row: dict[str, str]) -> str:
    return "\n".join(row[k] for k in ("findings", "impression") if row[k].strip())


def _headed(row: dict[str, str], *, all_headers: bool) -> str:
    head = f"INDICATION: {row['indication']}\nCOMPARISON: {row['comparison']}\n"
    if all_headers:
        return head + f"FINDINGS: {row['findings']}\nIMPRESSION: {row['impression']}"
    return head + _body(row)


def _alerting(text: str, *, section_aware: bool) -> set[str]:
    found = active_detector().detect_text(text, section_aware=section_aware)
    return {m.finding_code for m in found if m.alert}


@pytest.mark.parametrize("all_headers", [True, False], ids=["all_headers", "history_only"])
def test_section_aware_never_alerts_less_than_plain(all_headers: bool) -> None:
    lost: list[str] = []
    compared = 0
    for row in _rows():
        body = _body(row)
        if not body.strip():
            continue
        plain = _alerting(body, section_aware=False)
        if not plain:
            continue
        compared += 1
        aware = _alerting(_headed(row, all_headers=all_headers), section_aware=True)
        if plain - aware:
            lost.append(f"{row['uid']}: {sorted(plain - aware)}")
    assert compared > 50
    assert lost == []


def test_pneumothorax_recall_on_headed_reports() -> None:
    """The issue's measurement: reports whose MeSH terms list a pneumothorax, headed with
    History and Comparison only. It was 0 of 22 with --section-aware; stable, unchanged and
    persistent pneumothoraces did not alert even in the plain run."""
    rows = [r for r in _rows() if "pneumothorax" in r["MeSH"].lower()]
    plain = aware = 0
    for row in rows:
        plain += bool(_alerting(_body(row), section_aware=False) & PNEUMOTHORAX)
        headed = _headed(row, all_headers=False)
        aware += bool(_alerting(headed, section_aware=True) & PNEUMOTHORAX)
    assert len(rows) == 26
    assert aware == plain
    assert plain >= 22
