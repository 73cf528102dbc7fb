"""Redline and sign+verify time per report, median over the bundled example cases.

For every example case this builds the model's draft (``drafting.draft_case`` with the
deterministic ``rules`` backend when the pipeline is importable, otherwise a draft
constructed from the dictation: one statement per sentence), applies a fixed set of
radiologist edits (a number changed, a statement deleted, one moved to Impression, one
added) and times, interleaved in one run:

  * ``redline``          — ``reportdraft.redline.redline`` (critical classes off: detection
                           cost belongs to the critical stage's own benchmark),
  * ``redline_baseline`` — one ``difflib.SequenceMatcher`` over the whole report's word
                           tokens: the bare text diff the redline builds on,
  * ``sign_verify``      — ``open_report`` + ``sign`` (edits, decisions, acknowledgements,
                           communications, every sign-off rule, Ed25519 signature,
                           re-validation) + ``verify_report``,
  * ``sign_baseline``    — raw Ed25519 sign + verify of the same canonical bytes.

Writes ``bench/results/attest_bench.json`` with per-case medians, the median over cases
and the ratios against the baselines measured in the same run.

    python bench/attest_bench.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import difflib
import json
import platform
import re
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from reportdraft.attest import (
    SignOff,
    generate_signing_key,
    open_report,
    sign,
    signed_bytes,
    verify_report,
)
from reportdraft.io import load_case
from reportdraft.models import (
    Case,
    CommunicationMethod,
    CommunicationRecord,
    CriticalMention,
    Draft,
    DraftProvenance,
    DraftSection,
    PersonName,
    Recipient,
    SectionKind,
    Severity,
    Statement,
)
from reportdraft.models.report import License, Radiologist, RadiologistRole, ReportStatus
from reportdraft.redline import redline, tokenize
from reportdraft.resources import data_dir

OUT = Path(__file__).parent / "results" / "attest_bench.json"
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def constructed_draft(case: Case) -> Draft:
    """A draft built by hand from the dictation: one findings statement per sentence.

    Spoken punctuation ("period", "comma") and section headers are turned into text the
    simple way; the pipeline's normaliser does this properly when it is available.
    """
    text = re.sub(r"\b(findings|impression)\s+colon\b", " ", case.dictation, flags=re.I)
    text = re.sub(r"\s*\bperiod\b", ".", text, flags=re.I)
    text = re.sub(r"\s*\bcomma\b", ",", text, flags=re.I)
    text = re.sub(r"\bnew (paragraph|line)\b", " ", text, flags=re.I)
    sentences = [
        s.strip()[:1].upper() + s.strip()[1:] for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()
    ]
    statements = [
        Statement(id=f"S{i}", text=text[:2000], sources=[f"D{i}"], generator="model")
        for i, text in enumerate(sentences, start=1)
    ]
    findings, impression = statements[:-1] or statements, statements[-1:]
    sections = [DraftSection(kind=SectionKind.FINDINGS, statements=findings)]
    if len(statements) > 1:
        sections.append(DraftSection(kind=SectionKind.IMPRESSION, statements=impression))
    return Draft(
        accession_number=case.study.accession_number,
        template_id="constructed",
        template_version="1",
        sections=sections,
        provenance=DraftProvenance(backend="constructed", created_at=NOW),
    )


def drafts() -> tuple[str, list[tuple[str, Case, Draft]]]:
    """(how the drafts were made, [(name, case, draft)]) for every example case."""
    cases = [(p.stem, load_case(p)) for p in sorted(data_dir("examples").glob("*.json"))]
    try:
        from reportdraft import drafting
        from reportdraft.backends import BackendOptions, create_backend

        rules = create_backend("rules", BackendOptions())
        return "drafting.draft_case(rules)", [
            (name, case, drafting.draft_case(case, rules, now=NOW).draft) for name, case in cases
        ]
    except ImportError as exc:
        print(f"pipeline unavailable ({exc}); constructing drafts from the dictation")
        return "constructed", [(name, case, constructed_draft(case)) for name, case in cases]


def signoff_for(case: Case, draft: Draft) -> SignOff:
    """A fixed radiologist sign-off: four kinds of edit plus every required decision/ack."""
    findings = draft.section(SectionKind.FINDINGS)
    edits: list[dict[str, Any]] = []
    if findings:
        first = findings[0]
        bumped = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), first.text, count=1)
        text = bumped if bumped != first.text else first.text + " Unchanged from prior."
        edits.append({"id": first.id, "text": text[:2000]})
    if len(findings) >= 3:
        edits.append({"id": findings[1].id, "section": "impression"})
        edits.append({"id": findings[-1].id, "delete": True})
    edits.append({"section": "impression", "text": "Clinical correlation is recommended."})
    codes = {m.finding_code: m for m in draft.critical if m.alert and m.category in (1, 2)}
    return SignOff.model_validate(
        {
            "statement_edits": edits,
            "decisions": {f.id: "confirmed" for f in case.ai_findings},
            "acknowledgements": [
                {"flag_id": f.id, "reason": "Reviewed on the images."}
                for f in draft.flags
                if f.severity is Severity.HIGH
            ],
            "communications": [
                communication(i, m).model_dump(mode="json")
                for i, m in enumerate(codes.values(), start=1)
            ],
        }
    )


def communication(index: int, mention: CriticalMention) -> CommunicationRecord:
    """A documented phone communication of ``mention``."""
    return CommunicationRecord(
        id=f"C{index}",
        finding_code=mention.finding_code,
        finding_label=mention.label,
        category=mention.category,
        identified_at=NOW - timedelta(minutes=20),
        communicating_radiologist="Dr. Bench",
        recipient=Recipient(name="Dr. Order"),
        method=CommunicationMethod.PHONE,
        notified_at=NOW - timedelta(minutes=10),
    )


def signer_for(case: Case, key_id: str) -> Radiologist:
    """An attending licensed where the patient was imaged."""
    return Radiologist(
        id="bench",
        name=PersonName(family="Bench", given=["Dana"]),
        credentials=["MD"],
        role=RadiologistRole.ATTENDING,
        licenses=[License(region=case.study.state, number="B1", expires=date(2030, 1, 1))],
        key_id=key_id,
    )


def no_detect(_text: str) -> list[CriticalMention]:
    """No critical detection: its cost is timed by the critical stage's own benchmark."""
    return []


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 4)


def main() -> None:
    """Run the benchmark and write the JSON results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    how, items = drafts()
    key = generate_signing_key()
    rows = []
    for name, case, draft in items:
        signoff = signoff_for(case, draft)
        signer = signer_for(case, key.key_id)
        opened = open_report(case, draft, by="bench", at=NOW)
        signed = sign(
            opened,
            to_status=ReportStatus.FINAL,
            signer=signer,
            key=key,
            at=NOW + timedelta(minutes=5),
            signoff=signoff,
            detect=no_detect,
        )
        final = signed.current
        assert verify_report(signed) == []
        payload = signed_bytes(final)
        old_words = [
            t.strip().lower() for t in tokenize(" ".join(s.text for s in draft.statements()))
        ]
        new_words = [
            t.strip().lower() for t in tokenize(" ".join(s.text for s in final.statements()))
        ]
        timings: dict[str, list[float]] = {
            k: [] for k in ("redline", "redline_baseline", "sign_verify", "sign_baseline")
        }
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = redline(draft, final, critical=False)
            timings["redline"].append(time.perf_counter() - start)
            start = time.perf_counter()
            difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes()
            timings["redline_baseline"].append(time.perf_counter() - start)
            start = time.perf_counter()
            report = sign(
                open_report(case, draft, by="bench", at=NOW),
                to_status=ReportStatus.FINAL,
                signer=signer,
                key=key,
                at=NOW + timedelta(minutes=5),
                signoff=signoff,
                detect=no_detect,
            )
            problems = verify_report(report)
            timings["sign_verify"].append(time.perf_counter() - start)
            assert problems == []
            start = time.perf_counter()
            key.verify_key.public.verify(key.sign(payload), payload)
            timings["sign_baseline"].append(time.perf_counter() - start)
        row: dict[str, Any] = {
            "case": name,
            "statements": len(draft.statements()),
            "payload_bytes": len(payload),
            "clinical_changes": len(result.changes),
        }
        row.update({f"{k}_ms": _median_ms(v) for k, v in timings.items()})
        rows.append(row)
        print(
            f"{name:<24} redline {row['redline_ms']:8.3f} ms  sign+verify "
            f"{row['sign_verify_ms']:8.3f} ms  ({row['statements']} statements, "
            f"{row['payload_bytes']} signed bytes)"
        )
    summary = {
        k: statistics.median(r[f"{k}_ms"] for r in rows)
        for k in ("redline", "redline_baseline", "sign_verify", "sign_baseline")
    }
    results = {
        "benchmark": "attest_bench",
        "drafts": how,
        "cases": len(rows),
        "repeats": args.repeats,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "median_over_cases_ms": {k: round(v, 4) for k, v in summary.items()},
        "ratios": {
            "redline_vs_bare_difflib": round(summary["redline"] / summary["redline_baseline"], 2),
            "sign_verify_vs_raw_ed25519": round(
                summary["sign_verify"] / summary["sign_baseline"], 2
            ),
        },
        "rows": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: results[k] for k in ("median_over_cases_ms", "ratios")}, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
