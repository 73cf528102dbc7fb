"""Draft latency per example case: rules vs the embedded model, in one run.

For every bundled example this times, in the same process and interleaved:
  * ``validate`` — parsing and validating the case JSON (the floor every request pays),
  * ``rules``    — the full pipeline with the deterministic drafter (normalise, template,
                   draft, verify, critical),
  * ``llamacpp`` — the same pipeline with the embedded SmolLM2 model (skipped with
                   ``--no-model``),
and reports medians, the rules/validate and llamacpp/rules ratios, token counts and how
many statements fell back. Writes ``bench/results/draft_latency.json``.

    python bench/draft_latency.py [--repeats 5] [--no-model] [--server URL]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.io import load_case
from reportdraft.resources import data_dir

OUT = Path(__file__).parent / "results" / "draft_latency.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-model", action="store_true")
    parser.add_argument(
        "--server",
        metavar="URL",
        default=None,
        help="also draft through the vllm client against this "
        "OpenAI-compatible server (e.g. python -m llama_cpp.server)",
    )
    parser.add_argument("--dialect", default="llamacpp", choices=["llamacpp", "vllm"])
    args = parser.parse_args()

    rules = create_backend("rules", BackendOptions())
    model = None if args.no_model else create_backend("llamacpp", BackendOptions())
    server = (
        create_backend(
            "vllm", BackendOptions(base_url=args.server, dialect=args.dialect, timeout_s=300)
        )
        if args.server
        else None
    )
    rows: list[dict[str, str | float | int]] = []
    for path in sorted(data_dir("examples").glob("*.json")):
        case = load_case(path)
        drafting.draft_case(case, rules)  # warm caches (templates, spaCy pipeline)
        t_validate, t_rules = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            load_case(path)
            t_validate.append(time.perf_counter() - start)
            start = time.perf_counter()
            drafting.draft_case(case, rules)
            t_rules.append(time.perf_counter() - start)
        row: dict[str, str | float | int] = {
            "case": path.stem,
            "validate_ms": round(statistics.median(t_validate) * 1000, 3),
            "rules_ms": round(statistics.median(t_rules) * 1000, 3),
        }
        if model is not None:
            start = time.perf_counter()
            result = drafting.draft_case(case, model)
            usage = result.draft.provenance.usage
            row |= {
                "llamacpp_s": round(time.perf_counter() - start, 3),
                "model_calls": usage.calls,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "statements": len(result.draft.statements()),
                "fallback_statements": sum(st.fallback for st in result.draft.statements()),
                "model_statements": sum(
                    st.generator == "model" for st in result.draft.statements()
                ),
                "flags": len(result.draft.flags),
            }
        if server is not None:
            start = time.perf_counter()
            served = drafting.draft_case(case, server).draft
            row |= {
                "vllm_s": round(time.perf_counter() - start, 3),
                "vllm_fallback_statements": sum(st.fallback for st in served.statements()),
                "vllm_model_statements": sum(st.generator == "model" for st in served.statements()),
                "vllm_flags": len(served.flags),
            }
        rows.append(row)
        print(json.dumps(row))

    validate_ms = statistics.median(float(r["validate_ms"]) for r in rows)
    rules_ms = statistics.median(float(r["rules_ms"]) for r in rows)
    summary: dict[str, object] = {
        "cases": len(rows),
        "median_validate_ms": validate_ms,
        "median_rules_ms": rules_ms,
        "rules_over_validate": round(rules_ms / validate_ms, 1),
    }
    if model is not None:
        llama_s = statistics.median(float(r["llamacpp_s"]) for r in rows)
        summary["median_llamacpp_s"] = llama_s
        summary["llamacpp_over_rules"] = round(llama_s * 1000 / rules_ms, 1)
        summary["drafts_with_fallback"] = sum(int(r["fallback_statements"]) > 0 for r in rows)
        summary["flags"] = sum(int(r["flags"]) for r in rows)
    if server is not None:
        summary["median_vllm_s"] = statistics.median(float(r["vllm_s"]) for r in rows)
        summary["vllm_drafts_with_fallback"] = sum(
            int(r["vllm_fallback_statements"]) > 0 for r in rows
        )
        summary["vllm_flags"] = sum(int(r["vllm_flags"]) for r in rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "cpus": __import__("os").cpu_count(),
                "summary": summary,
                "cases": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
