"""Evaluation throughput (cases/s) for the ``rules`` backend on 1,000 cases.

Three timings in one run, on the same cases:
  * ``draft_only`` — the baseline: ``drafting.draft_case`` with the rules backend over every
                     case (what any evaluation must pay at least);
  * ``eval_cold``  — ``reportdraft eval`` end to end with an empty cache (drafting, every
                     metric group, bootstrap CIs, comparisons vs the baseline, JSON/CSV/HTML);
  * ``eval_warm``  — the same suite re-run into the same folder: drafts come from the cache
                     and only metrics and reports are recomputed (memoised extraction is
                     cleared first, as in a new process).
Reported as cases/s and as ratios to ``draft_only``. Error injection is off (it is a
separate, bounded step; ``--injection`` times it too).

Cases: the first N of the Open-i *train* split when REPORTDRAFT_DATA is set (the validate
split is kept for quality numbers), else the bundled examples varied (accession, numbers,
sentence order) until N distinct cases exist. Writes ``bench/results/eval_throughput.json``.

    python bench/eval_throughput.py [--cases 1000] [--injection]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.evaluation import EvalCase, load_suite, nlp_access, run_suite, write_reports
from reportdraft.evaluation.builders import build_examples, build_openi
from reportdraft.evaluation.suite import dump_cases
from reportdraft.resources import data_dir
from reportdraft.templates import TemplateLibrary

OUT = Path(__file__).parent / "results" / "eval_throughput.json"
ROOT = Path(__file__).resolve().parent.parent


def _shifted(shift: int) -> Callable[[re.Match[str]], str]:
    """A substitution adding ``shift`` to a millimetre value (distinct cases, same shape)."""

    def replace(match: re.Match[str]) -> str:
        return f"{int(match.group(1)) + shift}{match.group(2)}"

    return replace


def varied_examples(count: int) -> list[EvalCase]:
    """``count`` distinct cases made from the examples (numbers and sentence order varied)."""
    base, _ = build_examples(data_dir("examples"), ROOT / "eval" / "examples.references.yaml")
    rng = random.Random(0)
    out: list[EvalCase] = []
    for i in range(count):
        item = base[i % len(base)]
        sentences = re.split(r"(?<=\.)\s+", item.case.dictation)
        if i >= len(base) and len(sentences) > 2:
            head = sentences[:-1]
            rng.shuffle(head)
            sentences = [*head, sentences[-1]]
        dictation = " ".join(sentences)
        dictation = re.sub(r"\b(\d+)(\s?mm)\b", _shifted(i % 7), dictation)
        study = item.case.study.model_copy(update={"accession_number": f"BENCH-{i:05d}"})
        case = item.case.model_copy(update={"study": study, "dictation": dictation})
        out.append(item.model_copy(update={"id": f"bench-{i:05d}", "case": case}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--injection", action="store_true", help="also time error injection")
    args = parser.parse_args()

    data = os.environ.get("REPORTDRAFT_DATA")
    if data:
        cases, _ = build_openi(
            Path(data), library=TemplateLibrary.load(), split="train", limit=args.cases
        )
        source = "openi-train"
    else:
        cases = varied_examples(args.cases)
        source = "examples-varied"

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench.cases.jsonl").write_text(dump_cases(cases), encoding="utf-8")
        (folder / "bench.yaml").write_text(
            "name: bench\ncases: bench.cases.jsonl\n"
            "systems:\n  - {name: rules, backend: rules}\n"
            f"injection: {{enabled: {str(args.injection).lower()}, max_cases: 200}}\n"
            "stats: {resamples: 1000}\n",
            encoding="utf-8",
        )
        suite = load_suite(folder / "bench.yaml")
        backend = create_backend("rules", BackendOptions())
        library = TemplateLibrary.load()
        drafting.draft_case(cases[0].case, backend, library=library)  # warm caches

        start = time.perf_counter()
        failures = 0
        for item in cases:
            try:
                drafting.draft_case(item.case, backend, library=library)
            except Exception:
                failures += 1
        draft_only = time.perf_counter() - start

        timings = {}
        for label in ("eval_cold", "eval_warm"):
            nlp_access.clear_caches()  # a re-run is a new process: no memoised extraction
            start = time.perf_counter()
            result = run_suite(suite, folder / "out", progress=False)
            write_reports(result, folder / "out")
            timings[label] = time.perf_counter() - start
        rules = result.system("rules")

    n = len(cases)
    record = {
        "cases": n,
        "source": source,
        "draft_failures": failures,
        "injection": args.injection,
        "seconds": {"draft_only": draft_only, **timings},
        "cases_per_s": {
            "draft_only": n / draft_only,
            "eval_cold": n / timings["eval_cold"],
            "eval_warm": n / timings["eval_warm"],
        },
        "ratio_to_draft_only": {
            "eval_cold": timings["eval_cold"] / draft_only,
            "eval_warm": timings["eval_warm"] / draft_only,
        },
        "eval_warm_cached": rules.cached,
        "finding_f1": rules.scores.mean("finding_f1"),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
