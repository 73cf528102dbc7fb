"""Which narrow job suits the embedded model? Piece acceptance per prompt design.

Runs the model drafter on every example case under a few prompt designs and counts, per
design, how many model-written pieces (a findings subsection or the impression) passed
parsing and verification and how many fell back to the deterministic statements. The
design with the most accepted pieces at an equal (zero) count of high-severity flags is
the one drafting uses. Writes ``bench/results/drafting_design.json``.

    python bench/drafting_design.py [--cases N]

Designs:
  * ``fewshot``  — the shipped prompt: system rules, one worked example, the sources;
  * ``zeroshot`` — the same without the worked example (tests whether the small model
                   copies the example's content into unrelated sections);
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.io import load_case
from reportdraft.models import FlagKind, Severity
from reportdraft.resources import data_dir

OUT = Path(__file__).parent / "results" / "drafting_design.json"


def run(design: str, paths: list[Path]) -> dict[str, object]:
    """Draft every case under ``design``; count accepted and fallback pieces."""
    backend = create_backend("llamacpp", BackendOptions())
    prompts = drafting.load_prompts()
    if design == "zeroshot":
        prompts = dataclasses.replace(prompts, examples={k: [] for k in prompts.examples})
    accepted = fallback = high = calls = completion = 0
    started = time.perf_counter()
    for path in paths:
        draft = drafting.draft_case(load_case(path), backend, prompts=prompts).draft
        notes = [f for f in draft.flags if f.kind is FlagKind.FALLBACK]
        fallback += len(notes)
        accepted += len(
            {(st.subsection, st.generator) for st in draft.statements() if st.generator == "model"}
        )
        high += sum(f.severity is Severity.HIGH for f in draft.flags)
        calls += draft.provenance.usage.calls
        completion += draft.provenance.usage.completion_tokens
    pieces = accepted + fallback
    return {
        "design": design,
        "cases": len(paths),
        "pieces": pieces,
        "accepted": accepted,
        "fallback": fallback,
        "acceptance": round(accepted / pieces, 3) if pieces else None,
        "high_flags": high,
        "model_calls": calls,
        "completion_tokens": completion,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=0, help="first N examples (0 = all)")
    args = parser.parse_args()
    paths = sorted(data_dir("examples").glob("*.json"))
    if args.cases:
        paths = paths[: args.cases]
    results = [run(design, paths) for design in ("fewshot", "zeroshot")]
    for row in results:
        print(json.dumps(row))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
