"""Assertion accuracy of the shared fact extraction against NegBio's Open-i gold standard.

The verifier and the eval suite both read report text through
:func:`reportdraft.verification.extract_facts`; whether it reads "no pleural effusion" as absent
and "stable small effusion" as present decides whether they flag the right statements. The
Open-i chest X-ray reports (Indiana University) come with NegBio's hand-labelled gold
standard for 12 findings, written by people who never saw our cue lists, so they measure the
extraction on language we did not invent.

For each report, ``extract_facts`` runs on the findings and the impression (one text, the two
sections on separate lines); a finding is *predicted present* when at least one mention of
its concept is asserted (neither negated, hypothetical nor "no other X"; uncertain mentions
count as asserted, as the verifier treats them). Gold: 1 = present in the report (stable and
persistent findings included), 0 = absent, negated or not mentioned.

NegBio's findings map to our concepts (``reportdraft/data/vocab/findings.yaml``) in
:data:`TARGETS`. Where our vocabulary deliberately merges several NegBio labels into one
concept (pneumonia, infiltrate and consolidation are one concept for the verifier, so that
a paraphrase is not flagged), the mapping also names the surface words that select the
NegBio label; pleural thickening is the ``thickening`` concept with pleural anatomy.

Report text is read from the data folder and never written out: the JSON holds counts and
scores only. ``--show N`` prints up to N false positives and negatives per finding to the
terminal, for finding error patterns while working.

Run: .venv/bin/python bench/negbio_assertion.py [--data DIR] [--out FILE] [--show N]
[--errors asserted|definite]
Writes bench/results/negbio_assertion.json by default (REPORTDRAFT_DATA or ../shared/data).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportdraft.verification import FindingFact, extract_facts

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "negbio_assertion.json"
DATA = Path(os.environ.get("REPORTDRAFT_DATA", ROOT.parent / "shared" / "data"))


@dataclass(frozen=True)
class Target:
    """Which mentions of the extraction stand for one NegBio finding."""

    concept: str
    surface: str | None = None  # regex a mention's surface words must match
    exclude: str | None = None  # regex a mention's surface words must not match
    anatomy: str | None = None  # anatomy id the mention's clause (or its words) must name

    def selects(self, fact: FindingFact) -> bool:
        """True when ``fact`` is a mention of this finding."""
        if fact.term != self.concept:
            return False
        if self.surface and not re.search(self.surface, fact.text, re.IGNORECASE):
            return False
        if self.exclude and re.search(self.exclude, fact.text, re.IGNORECASE):
            return False
        return not self.anatomy or self.anatomy in fact.anatomy or self.anatomy in fact.text


# NegBio's labels are narrower than some of our concepts: its Effusion is pleural, its Edema
# is not vascular congestion, its Emphysema is not "COPD", its Fibrosis is not "scarring",
# and "airspace disease" is none of Infiltration / Pneumonia / Consolidation.
TARGETS: dict[str, Target] = {
    "Atelectasis": Target("atelectasis"),
    "Cardiomegaly": Target("cardiomegaly"),
    "Effusion": Target("effusion", exclude=r"pericardial|joint"),
    "Infiltration": Target("consolidation", surface=r"infiltra"),
    "Nodule": Target("nodule"),
    "Pneumonia": Target("consolidation", surface=r"pneumon"),
    "Consolidation": Target("consolidation", surface=r"consolidat"),
    "Edema": Target("edema", exclude=r"congest"),
    "Emphysema": Target("emphysema", surface=r"emphysem"),
    "Fibrosis": Target("fibrosis", surface=r"fibro"),
    "Pleural_Thickening": Target("thickening", anatomy="pleura"),
    "Hernia": Target("herniation"),
}


def load(data: Path) -> list[tuple[str, str, dict[str, int]]]:
    """``(uid, text, gold)`` for every report that has a gold row."""
    folder = data / "openi_negbio"
    with (folder / "gold_labels_12.csv").open(newline="", encoding="utf-8") as handle:
        gold = {
            row["filename"].removeprefix("CXR"): {k: int(row[k]) for k in TARGETS}
            for row in csv.DictReader(handle)
        }
    rows = []
    with (folder / "indiana_reports.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["uid"] in gold:
                parts = [row["findings"].strip(), row["impression"].strip()]
                rows.append((row["uid"], "\n".join(p for p in parts if p), gold[row["uid"]]))
    return rows


VIEWS = ("asserted", "definite")
"""``asserted``: any selected mention is asserted (uncertain included, as the verifier reads
it); ``definite``: asserted and not uncertain. NegBio's gold mostly labels hedged mentions
("may represent atelectasis") 0, so the second view is the closer match to the gold."""


def predict(text: str) -> dict[str, tuple[bool, bool]]:
    """Finding name -> (asserted present, definitely present), for one report text."""
    facts = extract_facts(text)
    out = {}
    for name, target in TARGETS.items():
        selected = [f for f in facts.findings if target.selects(f) and f.asserted]
        out[name] = (bool(selected), any(not f.uncertain for f in selected))
    return out


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def metrics(tp: int, fp: int, fn: int, tn: int) -> dict[str, Any]:
    """Accuracy, precision, recall and F1 of "asserted present" against gold, with counts."""
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "gold_present": tp + fn,
        "predicted_present": tp + fp,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="public data folder")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--show", type=int, default=0, help="print N errors per finding")
    parser.add_argument("--errors", choices=VIEWS, default="definite", help="view --show uses")
    args = parser.parse_args()
    if not (args.data / "openi_negbio").is_dir():
        sys.exit(f"no openi_negbio folder under {args.data} (set REPORTDRAFT_DATA or --data)")

    rows = load(args.data)
    start = time.perf_counter()
    # view -> finding -> [tp, fp, fn, tn]
    counts = {view: {name: [0, 0, 0, 0] for name in TARGETS} for view in VIEWS}
    errors: dict[str, list[tuple[str, str, str]]] = {name: [] for name in TARGETS}
    for uid, text, gold in rows:
        for name, predicted in predict(text).items():
            truth = bool(gold[name])
            for view, present in zip(VIEWS, predicted, strict=True):
                slot = (0 if truth else 1) if present else (2 if truth else 3)
                counts[view][name][slot] += 1
                if view == args.errors and slot in (1, 2):
                    errors[name].append(("FP" if slot == 1 else "FN", uid, text))
    elapsed = time.perf_counter() - start

    views: dict[str, Any] = {}
    for view in VIEWS:
        per = {name: metrics(*c) for name, c in counts[view].items()}
        graded = [c for name, c in counts[view].items() if per[name]["gold_present"]]
        total = [sum(c[i] for c in graded) for i in range(4)]
        scored = [p["f1"] for p in per.values() if p["f1"] is not None and p["gold_present"]]
        views[view] = {
            "per_finding": per,
            "micro": metrics(*total),
            "macro_f1_findings_with_gold": round(sum(scored) / len(scored), 4),
        }
    result: dict[str, Any] = {
        "benchmark": "negbio_assertion",
        "commit": _commit(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "data": "openi_negbio/indiana_reports.csv + gold_labels_12.csv (NegBio, Peng et al. 2018)",
        "reports": len(rows),
        "text": "findings + impression",
        "views": {
            "asserted": "present = some mention is asserted (not negated, hypothetical or "
            "'no other'); uncertain counts as present, as the verifier reads it",
            "definite": "present = some mention is asserted and not uncertain",
        },
        "mapping": {
            name: {k: v for k, v in vars(t).items() if v is not None} for name, t in TARGETS.items()
        },
        "note": "Hernia has no positive gold label in this file (0 of 3851): its F1 is 0 by "
        "construction and it is left out of the micro and macro figures.",
        **views,
        "seconds": round(elapsed, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for view in VIEWS:
        print(f"== {view}")
        for name, p in views[view]["per_finding"].items():
            print(
                f"{name:19} acc={p['accuracy']:.4f} P={p['precision']} R={p['recall']} "
                f"F1={p['f1']}  gold={p['gold_present']} tp={p['tp']} fp={p['fp']} fn={p['fn']}"
            )
        m = views[view]["micro"]
        print(
            f"micro: acc={m['accuracy']} P={m['precision']} R={m['recall']} F1={m['f1']}; "
            f"macro F1={views[view]['macro_f1_findings_with_gold']}"
        )
    print(f"{len(rows)} reports in {elapsed:.1f}s; wrote {args.out}")
    for name, found in errors.items():
        for kind, uid, text in found[: args.show]:
            print(f"--- {name} {kind} {uid}: {' '.join(text.split())}")


if __name__ == "__main__":
    main()
