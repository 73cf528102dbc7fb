"""Benchmark: dictation normalisation on 20,000-character transcripts.

Run with ``.venv/bin/python bench/dictation_normalize.py``; writes
``bench/results/dictation_normalize.json``.

The target is "20,000 characters well under 50 ms". Absolute times on a shared machine
are noisy, so each input is also timed against a baseline measured in the same run: a
plain regex sentence splitter plus ``str.split`` over the same text (the least any
normaliser must do). The ratio says how much the full rules cost on top of that.

Inputs: a spoken-style transcript (commands, numbers, corrections), written
MTSamples-style text, and dense adversarial inputs that check the parse stays linear.
When ``REPORTDRAFT_DATA`` points at the shared data folder, real MTSamples transcriptions
are timed too (read at run time, never stored).
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from reportdraft.dictation import normalize
from reportdraft.errors import EmptyDictationError
from reportdraft.models import NormalizedDictation

SIZE = 20_000
REPEATS = 25
_SPLIT = re.compile(r"(?<=[.!?])\s+")

SPOKEN = (
    "findings colon the lungs are clear period there is a two point three centimeter nodule "
    "in the right upper lobe comma unchanged period the sigmoid colon is normal period "
    "measuring five millimeters comma correction comma six millimeters period no effusion "
    "scratch that small effusion period degenerative change at C five six period new "
    "paragraph impression colon one period no acute process period two period stable one "
    "point five by two centimeter nodule period "
)
WRITTEN = (
    "EXAM: , CT abdomen and pelvis with contrast.,REASON FOR EXAM: , Pain.,FINDINGS: , The "
    "appendix is dilated to 1.2 cm. The liver measures approx. 15 cm. Discussed with Dr. Lee "
    "at 10:30, e.g. by phone.,IMPRESSION:,1.  Acute appendicitis.,2.  No free air.,"
)
ADVERSARIAL = {
    "dense_dimensions": "one by ",
    "dense_corrections": "a 5 mm, correction, ",
    "dense_scratch": "word scratch that ",
    "dense_list_numbers": "1. 2. 3. ",
    "dense_punctuation": "a,",
}


def _fill(unit: str) -> str:
    return (unit * (SIZE // len(unit) + 1))[:SIZE]


def _baseline(text: str) -> object:
    return [s.split() for s in _SPLIT.split(text)]


def _normalize(text: str) -> NormalizedDictation | None:
    try:
        return normalize(text)
    except EmptyDictationError:
        return None


def _time(fn: Callable[[str], object], text: str) -> float:
    fn(text)  # warm up
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn(text)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _inputs() -> dict[str, str]:
    inputs = {"spoken": _fill(SPOKEN), "written_mtsamples_style": _fill(WRITTEN)}
    inputs.update({name: _fill(unit) for name, unit in ADVERSARIAL.items()})
    data = os.environ.get("REPORTDRAFT_DATA")
    source = Path(data, "mtsamples", "radiology_dev.jsonl") if data else None
    if source is not None and source.is_file():
        rows = [json.loads(line)["transcription"] for line in source.open(encoding="utf-8")]
        inputs["mtsamples_real"] = _fill(" ".join(rows))
    return inputs


def main() -> None:
    """Time every input against the baseline and write the JSON results."""
    results = {}
    for name, text in _inputs().items():
        base = _time(_baseline, text)
        full = _time(_normalize, text)
        result = _normalize(text)
        sentences = len(result.sentences) if result is not None else 0
        results[name] = {
            "chars": len(text),
            "sentences": sentences,
            "normalize_ms": round(full * 1e3, 2),
            "baseline_ms": round(base * 1e3, 3),
            "ratio_vs_baseline": round(full / base, 1),
        }
        print(f"{name:26s} {full * 1e3:7.1f} ms  ({full / base:5.1f}x baseline)  {sentences} sent.")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out = {
        "benchmark": "dictation_normalize",
        "target": "20,000 characters well under 50 ms",
        "repeats": REPEATS,
        "statistic": "median",
        "machine": {"cpus": os.cpu_count(), "load_1min": load, "python": platform.python_version()},
        "baseline": "regex sentence split + str.split over the same text",
        "results": results,
    }
    path = Path(__file__).parent / "results" / "dictation_normalize.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
