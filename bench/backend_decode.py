"""Decode speed of the ``llamacpp`` backend against raw llama-cpp-python, same GGUF, one run.

Question: does our wrapper (request validation, lock, grammar compilation and cache,
response conversion) cost decode speed compared with calling
``llama_cpp.Llama.create_chat_completion`` directly? Target: ratio >= 0.9.

Method: the same prompt and the same GGUF (the embedded SmolLM2 by default), greedy, two
modes -- free text and a bounded draft-like JSON schema (raw: ``response_format=
{"type": "json_object", "schema": ...}``, the spelling that works in process). Our backend
and a separate raw ``Llama`` instance with the same ``n_ctx``/``n_threads`` are each warmed
once, then called alternately (ours first on even repetitions, raw first on odd) so drift
on this shared machine hits both. The headline ratio is the median of the per-repetition
ratios (each pair ran back to back); the ratio of the two medians is reported beside it.

Tokens/s is ``completion_tokens / wall seconds`` of the call. The prompt is the same
every time, so llama.cpp's prefix cache makes the prefill after warm-up a single token and
the wall time is decode-dominated; llama.cpp's own decode counters (``llama_perf_context``)
are reported beside it. Prompt/completion token counts come from the responses. The load
average before and after is recorded: on a busy shared box both paths slow down several
fold and the ratio gets noisy, so compare runs made on a quiet machine.

    .venv/bin/python bench/backend_decode.py [--reps 5] [--max-tokens 128] [--model X.gguf]

Writes ``bench/results/backend_decode.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import llama_cpp  # noqa: E402

from reportdraft.backends import (  # noqa: E402
    BackendOptions,
    ChatMessage,
    GenerationRequest,
    create_backend,
    embedded_model_path,
)
from reportdraft.backends.llamacpp import LlamaCppBackend, load_model  # noqa: E402

SYSTEM = (
    "You are a radiology report drafting assistant. Write concise report sentences using "
    "only the dictated content. Cite the dictation sentence ids you used."
)
USER = """Study: CT chest without contrast. Indication: cough, rule out pneumonia.
Dictation sentences:
D1: there is a 2.3 cm spiculated nodule in the right upper lobe
D2: no pleural effusion or pneumothorax
D3: mild centrilobular emphysema
D4: heart size is normal no pericardial effusion
Write the findings and the impression."""

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "statements": {
            "type": "array",
            "minItems": 1,
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "section": {"type": "string", "enum": ["findings", "impression"]},
                    "text": {"type": "string", "maxLength": 160},
                    "sources": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 2,
                        "items": {"type": "string", "enum": ["D1", "D2", "D3", "D4"]},
                    },
                },
                "required": ["section", "text", "sources"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["statements"],
    "additionalProperties": False,
}


def _decode_counters(llama: Any) -> tuple[int, float]:
    """llama.cpp's own count of decoded tokens and decode milliseconds since the reset."""
    data = llama_cpp.llama_perf_context(llama.ctx)
    return int(data.n_eval), float(data.t_eval_ms)


def _timed(call: Any, llama: Any) -> dict[str, Any]:
    llama_cpp.llama_perf_context_reset(llama.ctx)
    start = time.perf_counter()
    text, prompt_tokens, completion_tokens = call()
    seconds = time.perf_counter() - start
    n_eval, eval_ms = _decode_counters(llama)
    return {
        "seconds": seconds,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "tokens_per_s": completion_tokens / seconds,
        "llama_decode_tokens_per_s": (n_eval / (eval_ms / 1000)) if eval_ms > 0 else None,
        "text": text,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure both paths in both modes; return the result document."""
    load_before = os.getloadavg()
    path = Path(args.model) if args.model else embedded_model_path()
    n_threads = args.n_threads or os.cpu_count() or 1
    options = BackendOptions(model=str(path), n_ctx=args.n_ctx, n_threads=n_threads)
    ours = create_backend("llamacpp", options)
    assert isinstance(ours, LlamaCppBackend)
    ours_llama = load_model(path, n_ctx=args.n_ctx, n_threads=n_threads).llama
    raw = llama_cpp.Llama(
        model_path=str(path),
        n_ctx=args.n_ctx,
        n_threads=n_threads,
        n_threads_batch=n_threads,
        verbose=False,
    )
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]

    modes: dict[str, Any] = {}
    for mode in ("free", "schema"):
        schema = SCHEMA if mode == "schema" else None
        request = GenerationRequest(
            messages=[ChatMessage.model_validate(m) for m in messages],
            json_schema=schema,
            max_tokens=args.max_tokens,
        )
        raw_kwargs: dict[str, Any] = {
            "messages": messages,
            "max_tokens": args.max_tokens,
            "temperature": 0.0,
            "seed": 0,
        }
        if schema is not None:
            raw_kwargs["response_format"] = {"type": "json_object", "schema": schema}

        def call_ours(request: GenerationRequest = request) -> tuple[str, int, int]:
            out = ours.generate(request)
            return out.text, out.prompt_tokens, out.completion_tokens

        def call_raw(raw_kwargs: dict[str, Any] = raw_kwargs) -> tuple[str, int, int]:
            out: Any = raw.create_chat_completion(**raw_kwargs)
            usage = out["usage"]
            text = out["choices"][0]["message"]["content"]
            return text, usage["prompt_tokens"], usage["completion_tokens"]

        _timed(call_ours, ours_llama)  # warm-up: loads the prompt into each KV cache
        _timed(call_raw, raw)
        samples: dict[str, list[dict[str, Any]]] = {"ours": [], "raw": []}
        for rep in range(args.reps):
            order = [("ours", call_ours, ours_llama), ("raw", call_raw, raw)]
            if rep % 2:
                order.reverse()
            for label, call, llama in order:
                samples[label].append(_timed(call, llama))
        modes[mode] = _summarise(samples)
    return {
        "benchmark": "backend_decode",
        "question": "llamacpp backend decode tokens/s vs raw llama-cpp-python, same GGUF",
        "model": path.name,
        "llama_cpp_python": llama_cpp.__version__,
        "n_threads": n_threads,
        "n_ctx": args.n_ctx,
        "max_tokens": args.max_tokens,
        "reps": args.reps,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_1_5_15_before": [round(x, 2) for x in load_before],
        "loadavg_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
        "modes": modes,
        "target_ratio": 0.9,
        "passed": all(m["ratio_tokens_per_s"] >= 0.9 for m in modes.values()),
    }


def _summarise(samples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def med(label: str, key: str) -> float:
        values = [s[key] for s in samples[label] if s[key] is not None]
        return float(statistics.median(values))

    ours_tps, raw_tps = med("ours", "tokens_per_s"), med("raw", "tokens_per_s")
    ours_dec, raw_dec = (
        med("ours", "llama_decode_tokens_per_s"),
        med("raw", "llama_decode_tokens_per_s"),
    )
    texts = {s["text"] for label in samples for s in samples[label]}
    # Each repetition ran ours and raw back to back: the per-pair ratio cancels the slow
    # drifts of a shared machine better than a ratio of medians taken over all pairs.
    pair_ratios = [
        o["tokens_per_s"] / r["tokens_per_s"]
        for o, r in zip(samples["ours"], samples["raw"], strict=True)
    ]
    return {
        "ours_median_tokens_per_s": round(ours_tps, 2),
        "raw_median_tokens_per_s": round(raw_tps, 2),
        "ratio_tokens_per_s": round(statistics.median(pair_ratios), 3),
        "ratio_of_medians": round(ours_tps / raw_tps, 3),
        "pair_ratios": [round(x, 3) for x in pair_ratios],
        "ours_median_llama_decode_tokens_per_s": round(ours_dec, 2),
        "raw_median_llama_decode_tokens_per_s": round(raw_dec, 2),
        "prompt_tokens": samples["ours"][0]["prompt_tokens"],
        "completion_tokens": samples["ours"][0]["completion_tokens"],
        "raw_prompt_tokens": samples["raw"][0]["prompt_tokens"],
        "raw_completion_tokens": samples["raw"][0]["completion_tokens"],
        "identical_output": len(texts) == 1,
        "sample_output": samples["ours"][0]["text"][:300],
        "samples": {
            label: [
                {
                    k: (round(v, 4) if isinstance(v, float) else v)
                    for k, v in s.items()
                    if k != "text"
                }
                for s in runs
            ]
            for label, runs in samples.items()
        },
    }


def main() -> None:
    """Parse flags, run, print a summary and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="GGUF path (default: the embedded SmolLM2)")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--n-threads", type=int, default=None)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "backend_decode.json"))
    args = parser.parse_args()
    result = run(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for mode, summary in result["modes"].items():
        print(
            f"{mode:6s} ours {summary['ours_median_tokens_per_s']:7.2f} tok/s  "
            f"raw {summary['raw_median_tokens_per_s']:7.2f} tok/s  "
            f"ratio {summary['ratio_tokens_per_s']:.3f}  "
            f"prompt {summary['prompt_tokens']} completion {summary['completion_tokens']}  "
            f"identical={summary['identical_output']}"
        )
    print(f"passed={result['passed']}  -> {out}")


if __name__ == "__main__":
    main()
