"""Critical-finding detection: alert precision/recall on the trap set, and throughput.

Scored on the trap set, the held-out trap items and the issue-12 mechanism cases
(tests/critical/language_cases.yaml: clause boundaries, negated signs, temporality and the
alert policy, organ context, bounded sections). Three systems with the same target lexicon
(reportdraft/data/vocab/critical_lexicon.yaml):

- ours: blank English + regex sentence splitter + medspaCy target matcher + medspaCy
  ConText with our radiology rules, our cue resolution and section handling;
- medspaCy default: ``medspacy.load()`` (its tokenizer, PyRuSH sentence splitter, target
  matcher, ConText with its default rules), with our lexicon added to its target matcher;
- negspaCy: ``spacy.blank("en")`` + sentencizer + EntityRuler with our lexicon + negex with
  the ``en_clinical`` termset.

All three get the same caller-supplied section (``section`` on a trap item) for the alert
rule (present/uncertain in Findings, Impression or no section); only ours reads headers
inside the text (``section_aware`` items), as the baselines have no section component in
their default pipelines. PyRuSH's DEBUG logging (on by default) is disabled before timing,
which favours the baseline. Throughput is sentences per second over the trap-set texts plus,
when the public data folder is present, Open-i findings and impressions; the sentence
count is our splitter's, so the ratio of two systems is the ratio of their times. Best of
``--rounds`` interleaved runs (the machine is shared and noisy).

Run: .venv/bin/python bench/critical_bench.py [--rounds 3] [--openi 400]
Writes bench/results/critical.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reportdraft.critical import active_detector
from reportdraft.critical.sections import default_sections, split_sentences
from reportdraft.critical.spacy_pipeline import EXCLUDED_LABEL, target_rules
from reportdraft.critical.trapset import Predicted, TrapItem, load_trap_set, score

ROOT = Path(__file__).resolve().parent.parent
TRAP = ROOT / "tests" / "critical" / "trap_set.yaml"
HOLDOUT = ROOT / "tests" / "critical" / "trap_holdout.yaml"
CASES = ROOT / "tests" / "critical" / "language_cases.yaml"
OUT = ROOT / "bench" / "results" / "critical.json"
DATA = Path(os.environ.get("REPORTDRAFT_DATA", ROOT.parent / "shared" / "data"))

Predictor = Callable[[TrapItem], list[Predicted]]


def _alerts(assertion: str, item: TrapItem) -> bool:
    section = item.section.value if item.section else None
    return assertion in ("present", "uncertain") and default_sections().is_alerting(section)


def ours() -> tuple[Predictor, Callable[[str], Any]]:
    detector = active_detector()
    _ = detector.nlp  # build now, not inside the first timing

    def predict(item: TrapItem) -> list[Predicted]:
        found = detector.detect_text(
            item.text,
            section_aware=item.section_aware,
            default_section=item.section.value if item.section else None,
            study=item.study(),
        )
        return [
            Predicted(
                m.finding_code,
                m.assertion.value,
                m.alert,
                m.temporality.value if m.temporality else None,
            )
            for m in found
        ]

    return predict, detector.detect_text


def medspacy_default() -> tuple[Predictor, Callable[[str], Any]]:
    import medspacy
    from loguru import logger

    # PyRuSH logs every sentence boundary at DEBUG through loguru by default; silence it so
    # the baseline is timed on its work, not on writing logs to stderr.
    logger.disable("PyRuSH")
    nlp = medspacy.load()
    nlp.get_pipe("medspacy_target_matcher").add(target_rules(active_detector().lexicon))

    def assertion(ent: Any) -> str:
        if ent._.is_negated:
            return "negated"
        if ent._.is_hypothetical or ent._.is_family:
            return "hypothetical"
        if ent._.is_historical:
            return "historical"
        if ent._.is_uncertain:
            return "uncertain"
        return "present"

    def predict(item: TrapItem) -> list[Predicted]:
        doc = nlp(item.text)
        out = []
        for ent in doc.ents:
            if ent.label_ == EXCLUDED_LABEL:
                continue
            a = assertion(ent)
            out.append(Predicted(ent.label_, a, _alerts(a, item)))
        return out

    return predict, nlp


def negspacy_clinical() -> tuple[Predictor, Callable[[str], Any]]:
    import negspacy.negation  # noqa: F401  (registers "negex")
    import spacy
    from negspacy.termsets import termset

    lexicon = active_detector().lexicon
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler: Any = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    patterns: list[dict[str, Any]] = []
    for entry in lexicon.entries:
        patterns += [{"label": entry.code, "pattern": t} for t in entry.terms]
        patterns += [{"label": entry.code, "pattern": [{"ORTH": a}]} for a in entry.abbreviations]
        patterns += [{"label": entry.code, "pattern": list(p)} for p in entry.patterns]
        patterns += [{"label": EXCLUDED_LABEL, "pattern": t} for t in entry.exclusions]
    ruler.add_patterns(patterns)
    nlp.add_pipe("negex", config={"neg_termset": termset("en_clinical").get_patterns()})

    def predict(item: TrapItem) -> list[Predicted]:
        doc = nlp(item.text)
        out = []
        for ent in doc.ents:
            if ent.label_ == EXCLUDED_LABEL:
                continue
            a = "negated" if ent._.negex else "present"
            out.append(Predicted(ent.label_, a, _alerts(a, item)))
        return out

    return predict, nlp


def corpus(items: list[TrapItem], openi: int) -> list[str]:
    texts = [i.text for i in items]
    for name in ("validate.jsonl", "train.jsonl"):
        path = DATA / "openi_opi" / name
        if openi <= 0 or not path.is_file():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                texts += [row["inputs"], row["target"]]
                openi -= 1
                if openi <= 0:
                    break
    return texts


def timed(run: Callable[[str], Any], texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        run(text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--openi", type=int, default=400, help="Open-i reports to add (0: none)")
    args = parser.parse_args()

    trap = load_trap_set(TRAP).items
    holdout = load_trap_set(HOLDOUT).items
    cases = load_trap_set(CASES).items
    t0 = time.perf_counter()
    systems = {"ours": ours()}
    build = {"ours": time.perf_counter() - t0}
    for name, make in (
        ("medspacy_default", medspacy_default),
        ("negspacy_en_clinical", negspacy_clinical),
    ):
        t0 = time.perf_counter()
        systems[name] = make()
        build[name] = time.perf_counter() - t0

    quality: dict[str, Any] = {}
    for name, (predict, _run) in systems.items():
        main_score = score(trap, predict)
        held = score(holdout, predict)
        language = score(cases, predict)
        quality[name] = {
            "trap_set": main_score.summary(),
            "holdout": held.summary(),
            "language_cases": language.summary(),
            "errors": main_score.errors
            + [f"holdout: {e}" for e in held.errors]
            + [f"language_cases: {e}" for e in language.errors],
        }

    texts = corpus(trap + holdout, args.openi)
    sentences = sum(len(split_sentences(t)) for t in texts)
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for name in ("ours", "medspacy_default", "negspacy_en_clinical"):
            elapsed = timed(systems[name][1], texts)
            best[name] = min(best.get(name, elapsed), elapsed)
    throughput = {
        name: {"seconds": round(sec, 3), "sentences_per_s": round(sentences / sec, 1)}
        for name, sec in best.items()
    }
    detector = active_detector()
    ratio = round(best["medspacy_default"] / best["ours"], 2)
    result: dict[str, Any] = {
        "benchmark": "critical",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "lexicon": {
            "findings": len(detector.lexicon),
            "terms_abbreviations_patterns": detector.lexicon.term_count(),
            "by_category": {
                str(c): sum(e.category == c for e in detector.lexicon.entries) for c in (1, 2, 3)
            },
        },
        "context_rule_phrases_by_category": detector.rules.counts(),
        "trap_set": {
            "items": len(trap),
            "mentions": sum(len(i.expect) for i in trap),
            "holdout_items": len(holdout),
            "holdout_mentions": sum(len(i.expect) for i in holdout),
            "language_case_items": len(cases),
            "language_case_mentions": sum(len(i.expect) for i in cases),
        },
        "quality": quality,
        "throughput": {
            "texts": len(texts),
            "sentences": sentences,
            "sentence_count_by": "reportdraft regex splitter",
            "rounds": args.rounds,
            "systems": throughput,
            "ours_vs_medspacy_default": ratio,
            "ours_vs_negspacy": round(best["negspacy_en_clinical"] / best["ours"], 2),
        },
        "pipeline_build_seconds": {k: round(v, 2) for k, v in build.items()},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for name, q in quality.items():
        s, h, c = q["trap_set"], q["holdout"], q["language_cases"]
        print(
            f"{name:22} trap P={s['alert_precision']:.3f} R={s['alert_recall']:.3f} "
            f"assert={s['assertion_accuracy']:.3f} | holdout P={h['alert_precision']:.3f} "
            f"R={h['alert_recall']:.3f} | cases P={c['alert_precision']:.3f} "
            f"R={c['alert_recall']:.3f} | {throughput[name]['sentences_per_s']:8.1f} sent/s"
        )
    print(f"ours is {ratio}x faster than medspaCy default; wrote {OUT}")


if __name__ == "__main__":
    main()
