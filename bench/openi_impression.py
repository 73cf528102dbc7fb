"""The rules drafter's Impression on Open-i, before and after issue 16, beside the constant.

Issue 16: on Open-i the generated impression was barely better than the constant string
"No acute cardiopulmonary abnormality." This bench drafts every case of one Open-i split
(``openi_opi/<split>.jsonl`` under ``--data`` / ``$REPORTDRAFT_DATA``; 341 on validate)
with the ``rules`` backend through the drafting front door, twice in the same run:

- **before**: the package at ``--before-ref`` (default ``main``), extracted with
  ``git archive`` into a temporary folder and run in a child process;
- **after**: this checkout, in a child process started the same way;

and scores both impressions, and the constant one, with this checkout's evaluation metrics
(``evaluation/metrics``: ROUGE-L, finding F1, positive-finding recall; the same code scores
all three). Differences are paired over the same cases (``evaluation/stats.py``
``paired_bootstrap``: the percentile-bootstrap CI of the mean difference and the
approximate-randomisation p-value). It also counts the verifier's medium/high flags about
impressions in both runs (impression consistency, a critical finding missing, and on
impression statements: unsupported, default_conflict, negation), so an impression that
gets better scores by saying something its sources do not, or a normal line that denies a
finding, would show.

The impression rules were written from the training split (``--split train``); the
validate split is only reported.

Run: REPORTDRAFT_DATA=../shared/data .venv/bin/python bench/openi_impression.py
     [--split validate] [--before-ref main] [--resamples 2000]
Writes bench/results/openi_impression.json.
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
from pathlib import Path
from typing import Any

from reportdraft.evaluation.builders import build_openi
from reportdraft.evaluation.metrics.findings import FindingsGroup
from reportdraft.evaluation.metrics.lexical import LexicalGroup
from reportdraft.evaluation.scope import Candidate, CaseContext
from reportdraft.evaluation.scoring import Scores, score
from reportdraft.evaluation.stats import paired_bootstrap
from reportdraft.evaluation.suite import CONSTANT_IMPRESSION, StatsConfig
from reportdraft.models import SectionKind
from reportdraft.templates import default_library

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "openi_impression.json"
DATA = Path(os.environ.get("REPORTDRAFT_DATA", ROOT.parent / "shared" / "data"))
METRICS = ("rouge_l", "finding_f1", "positive_finding_recall", "finding_precision")
TREE = ("reportdraft", "templates", "prompts", "examples")

# Run in a child process with PYTHONPATH set to one tree: drafts every case of the split
# through the drafting front door and prints one JSON line per case. It uses only names
# that exist before and after the change, so both trees run the same driver.
CHILD = r"""
import json, sys, time
from pathlib import Path
from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.evaluation.builders import build_openi
from reportdraft.models import SectionKind
from reportdraft.templates import default_library

data, split = Path(sys.argv[1]), sys.argv[2]
cases, _ = build_openi(data, library=default_library(), split=split)
backend = create_backend("rules", BackendOptions())
kinds = {"impression_consistency", "unsupported", "critical_not_in_impression",
         "default_conflict", "negation"}
case_level = {"impression_consistency", "critical_not_in_impression"}
for item in cases:
    start = time.perf_counter()
    draft = drafting.draft_case(item.case, backend).draft
    seconds = time.perf_counter() - start
    ids = {st.id for st in draft.section(SectionKind.IMPRESSION)}
    flags = [
        f.kind.value for f in draft.flags
        if f.kind.value in kinds and f.severity.value in ("medium", "high")
        and (f.statement_id in ids or f.kind.value in case_level)
    ]
    statements = draft.section(SectionKind.IMPRESSION)
    print(json.dumps({
        "id": item.case_id,
        "impression": " ".join(st.text for st in statements),
        "sources": [st.sources for st in statements],
        "flags": flags,
        "seconds": seconds,
    }))
"""


def _run_tree(tree: Path, data: Path, split: str) -> tuple[dict[str, dict[str, Any]], float]:
    """Draft the split with the package in ``tree``; per-case results and wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), split],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"drafting in {tree} failed:\n{proc.stderr[-3000:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {row["id"]: row for row in rows}, wall


def _archive(ref: str, into: Path) -> str:
    """Extract ``ref``'s package and bundled data into ``into``; returns the commit."""
    commit = subprocess.run(
        ["git", "rev-parse", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = into / "tree.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), commit, *TREE],
        cwd=ROOT,
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return commit


def _head() -> str:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", *TREE], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return head + ("+uncommitted" if dirty else "")


def _summary(scores: Scores) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in METRICS:
        interval = scores.summary.get(name)
        out[name] = (
            None
            if interval is None
            else {
                "mean": round(interval.mean, 4),
                "ci95": [round(interval.low, 4), round(interval.high, 4)],
                "n": interval.n,
            }
        )
    out["finding_f1_micro"] = scores.corpus.get("finding_f1_micro")
    return out


def _compare(a: Scores, b: Scores, stats: StatsConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in METRICS:
        cmp = paired_bootstrap(
            a.column(name), b.column(name), resamples=stats.resamples, seed=stats.seed
        )
        out[name] = (
            None
            if cmp is None
            else {
                "delta": round(cmp.delta, 4),
                "ci95": [round(cmp.low, 4), round(cmp.high, 4)],
                "p_value": round(cmp.p_value, 4),
                "n": cmp.n,
                "significant": cmp.significant,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", default="validate")
    parser.add_argument("--before-ref", default="main")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    library = default_library()
    cases, built = build_openi(args.data, library=library, split=args.split)
    template = library.get("xr_chest_2v")
    contexts = [CaseContext(item=c, template=template) for c in cases]
    with tempfile.TemporaryDirectory() as tmp:
        before_commit = _archive(args.before_ref, Path(tmp))
        before, before_wall = _run_tree(Path(tmp), args.data, args.split)
    after, after_wall = _run_tree(ROOT, args.data, args.split)
    missing = [c.case_id for c in cases if c.case_id not in before or c.case_id not in after]
    if missing:
        raise SystemExit(f"cases not drafted: {missing[:5]} ...")

    groups = [LexicalGroup(), FindingsGroup()]
    stats = StatsConfig(resamples=args.resamples, seed=0)

    def scored(texts: list[str]) -> Scores:
        candidates = [Candidate(sections={SectionKind.IMPRESSION: t}) for t in texts]
        return score(groups, contexts, candidates, stats)

    constant = score(
        groups, contexts, [Candidate.from_text(CONSTANT_IMPRESSION)] * len(contexts), stats
    )
    s_before = scored([before[c.case_id]["impression"] for c in cases])
    s_after = scored([after[c.case_id]["impression"] for c in cases])

    def flags(rows: dict[str, dict[str, Any]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in rows.values():
            for kind in row["flags"]:
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    changed = sum(before[c.case_id]["impression"] != after[c.case_id]["impression"] for c in cases)
    normal = sum(after[c.case_id]["impression"] == template.impression_default for c in cases)
    rouge = {
        k: v.mean("rouge_l") or 0.0
        for k, v in (("constant", constant), ("before", s_before), ("after", s_after))
    }
    result = {
        "bench": "openi_impression",
        "issue": 16,
        "split": args.split,
        "cases": len(cases),
        "skipped_by_builder": dict(built.skipped),
        "constant_impression": CONSTANT_IMPRESSION,
        "before": {"ref": args.before_ref, "commit": before_commit},
        "after": {"commit": _head()},
        "scores": {
            "constant": _summary(constant),
            "before": _summary(s_before),
            "after": _summary(s_after),
        },
        "paired": {
            "before_vs_constant": _compare(constant, s_before, stats),
            "after_vs_constant": _compare(constant, s_after, stats),
            "after_vs_before": _compare(s_before, s_after, stats),
        },
        "ratios": {
            "rouge_l_before_over_constant": round(rouge["before"] / rouge["constant"], 4),
            "rouge_l_after_over_constant": round(rouge["after"] / rouge["constant"], 4),
        },
        "impressions": {
            "changed_by_the_rules": changed,
            "after_normal_impression_only": normal,
        },
        "verifier_impression_flags_medium_high": {
            "before": flags(before),
            "after": flags(after),
        },
        "drafting_seconds": {
            "before_wall": round(before_wall, 1),
            "after_wall": round(after_wall, 1),
            "after_over_before": round(after_wall / before_wall, 3),
        },
        "stats": {
            "resamples": args.resamples,
            "seed": 0,
            "confidence": 0.95,
            "test": "paired bootstrap CI + approximate randomisation p (evaluation/stats.py)",
        },
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()),
            "note": "shared 2-core machine loaded by other helpers: drafting seconds are noisy",
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("scores", "paired")}, indent=1))


if __name__ == "__main__":
    main()
