"""Error-injection benchmark of the verifier (issue 3): detection per error kind, false flags
on clean drafts, and speed, against a baseline measured in the same run.

Sets (openi and mtsamples are skipped, with the reason, when the public data is absent):
  hand      the hand-written clean drafts of tests/verify/cases (varied modalities, AI findings)
  examples  the rules drafter's drafts of the bundled examples/*.json
  openi     Open-i chest radiograph reports drafted verbatim (REPORTDRAFT_DATA)
  mtsamples MTSamples radiology reports drafted verbatim (REPORTDRAFT_DATA)

Baseline: an exact-text checker (a statement must be, word for word, a part of its cited
sources' text; every dictated sentence must be cited). It catches any edit of a verbatim
draft, and flags every faithful paraphrase: the verifier must match its recall without its
false flags.

Run: .venv/bin/python bench/verify_injection.py [--openi N]
Writes bench/results/verify_injection.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportdraft.evaluation.injection import Report, Verifier, evaluate  # noqa: E402
from reportdraft.models import Draft, Flag, FlagKind, Severity  # noqa: E402
from reportdraft.verification import source_texts, verify  # noqa: E402
from tests.verify import corpora  # noqa: E402
from tests.verify.bundles import Sample, load_bundles, load_templates  # noqa: E402

CASES = ROOT / "tests" / "verify" / "cases"
OUT = ROOT / "bench" / "results" / "verify_injection.json"


def run_verifier(sample: Sample, draft: Draft) -> list[Flag]:
    """The verifier under test."""
    return verify(draft, sample.case, sample.dictation, sample.template)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9.]+", " ", text.lower()).split())


def exact_text_baseline(sample: Sample, draft: Draft) -> list[Flag]:
    """Baseline: flag statements that are not verbatim parts of their sources, and
    dictated sentences no statement cites."""
    texts = source_texts(sample.case, sample.dictation, sample.template)
    flags: list[Flag] = []
    for st in draft.statements():
        joined = " ".join(_norm(texts.get(s, "")) for s in st.sources)
        if any(s not in texts for s in st.sources) or _norm(st.text) not in joined:
            flags.append(
                Flag(
                    id="F1",
                    kind=FlagKind.UNSUPPORTED,
                    severity=Severity.HIGH,
                    message="not verbatim",
                    statement_id=st.id,
                    sources=list(st.sources),
                )
            )
    cited = {s for st in draft.statements() for s in st.sources}
    for sentence in sample.dictation.sentences:
        if sentence.id not in cited:
            flags.append(
                Flag(
                    id="F1",
                    kind=FlagKind.OMISSION,
                    severity=Severity.HIGH,
                    message="uncited",
                    sources=[sentence.id],
                )
            )
    return flags


def _summary(report: Report, seconds: float, drafts_verified: int) -> dict[str, Any]:
    kinds = {}
    for name, result in report.kinds.items():
        entry = asdict(result)
        entry["rate"] = round(result.rate, 4)
        entry["expected_kind_rate"] = round(
            result.expected_kind_detected / result.injected if result.injected else 0.0, 4
        )
        entry["misses"] = result.misses[:15]
        entry["missed"] = result.injected - result.detected
        kinds[name] = entry
    return {
        "clean_drafts": report.clean_drafts,
        "clean_flagged": report.clean_flagged,
        "clean_false_flag_rate": round(report.clean_false_flag_rate, 4),
        "clean_flags": report.clean_flags[:30],
        "kinds": kinds,
        "drafts_verified": drafts_verified,
        "seconds": round(seconds, 3),
        "ms_per_draft": round(1000 * seconds / max(drafts_verified, 1), 3),
    }


def _measure(samples: list[Sample], verifier: Verifier) -> dict[str, Any]:
    calls = 0

    def counted(sample: Sample, draft: Draft) -> list[Flag]:
        nonlocal calls
        calls += 1
        return verifier(sample, draft)

    started = time.perf_counter()
    report = evaluate(samples, counted)
    return _summary(report, time.perf_counter() - started, calls)


def _sets(openi_limit: int) -> tuple[dict[str, list[Sample]], dict[str, str]]:
    templates = load_templates(CASES / "templates.yaml")
    sets: dict[str, list[Sample]] = {"hand": load_bundles(CASES)}
    skipped: dict[str, str] = {}
    sets["examples"] = corpora.example_samples()
    data = Path(os.environ.get("REPORTDRAFT_DATA", ROOT.parent / "shared" / "data"))
    if (data / "openi_opi").is_dir():
        sets["openi"] = corpora.openi_samples(data, templates["xr_chest"], openi_limit)
        sets["mtsamples"] = corpora.mtsamples_samples(data, templates["generic"])
    else:
        skipped["openi"] = skipped["mtsamples"] = f"no public data at {data} (REPORTDRAFT_DATA)"
    return sets, skipped


def main() -> None:
    """Measure every available set with the verifier and the baseline; write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--openi", type=int, default=1500, help="Open-i reports to use")
    args = parser.parse_args()
    sets, skipped = _sets(args.openi)
    results: dict[str, Any] = {
        "sets": {},
        "skipped": skipped,
        "thresholds": {"detection_min": 0.95, "clean_false_flag_max": 0.05},
    }
    for name, samples in sets.items():
        verifier = _measure(samples, run_verifier)
        baseline = _measure(samples, exact_text_baseline)
        results["sets"][name] = {
            "verifier": verifier,
            "baseline_exact_text": {k: v for k, v in baseline.items() if k != "clean_flags"},
            "ratio_ms_per_draft_verifier_over_baseline": round(
                verifier["ms_per_draft"] / max(baseline["ms_per_draft"], 1e-9), 2
            ),
        }
        print(
            f"{name}: {len(samples)} clean drafts, {verifier['drafts_verified']} verified, "
            f"{verifier['ms_per_draft']} ms/draft "
            f"(baseline {baseline['ms_per_draft']} ms/draft)"
        )
        print(
            f"  clean drafts with high/medium flags: verifier "
            f"{verifier['clean_false_flag_rate']:.1%}, baseline "
            f"{baseline['clean_false_flag_rate']:.1%}"
        )
        for kind, entry in verifier["kinds"].items():
            base = baseline["kinds"][kind]
            print(
                f"  {kind:20s} {entry['detected']:5d}/{entry['injected']:<5d} "
                f"{entry['rate']:.1%} (expected kind {entry['expected_kind_rate']:.1%}); "
                f"baseline {base['rate']:.1%}"
            )
    for name, why in skipped.items():
        print(f"{name}: skipped ({why})")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
