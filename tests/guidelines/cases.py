"""Build a case from a compact guideline test item, and compare the engine's answer.

A test item (``tests/guidelines/*.yaml``) names a study preset, the patient's age, the
history, indication, priors, AI findings and the dictation, and what the engine must say:
``findings`` (each: ``rule``, optional ``category``, ``steps`` as ``"action [min-max][?]"``,
``?`` = optional), ``not_applicable`` (guideline ids), ``discordant`` (dictated sentence
ids) and ``none: true`` (no recommendation at all). Expected values were written from the
guidelines as the author knows them, not from the engine's output.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from reportdraft.models import Case, RecommendationSet

HERE = Path(__file__).parent

PRESETS: dict[str, dict[str, Any]] = {
    "ct_chest": {
        "procedure": {
            "system": "http://loinc.org",
            "code": "29252-4",
            "display": "CT Chest WO contrast",
        },
        "modality": "CT",
        "body_part": "CHEST",
        "contrast": "none",
        "indication": "Chronic cough.",
    },
    "ct_abd": {
        "procedure": {
            "system": "http://loinc.org",
            "code": "36813-4",
            "display": "CT Abdomen and Pelvis W contrast IV",
        },
        "modality": "CT",
        "body_part": "ABDOMEN AND PELVIS",
        "contrast": "with",
        "indication": "Abdominal pain.",
    },
    "ct_abd_wo": {
        "procedure": {
            "system": "urn:test",
            "code": "ct-abd-wo",
            "display": "CT Abdomen WO contrast",
        },
        "modality": "CT",
        "body_part": "ABDOMEN",
        "contrast": "none",
        "indication": "Flank pain.",
    },
    "mr_abd": {
        "procedure": {
            "system": "urn:test",
            "code": "mr-abd",
            "display": "MR Abdomen WO and W contrast",
        },
        "modality": "MR",
        "body_part": "ABDOMEN",
        "contrast": "without_and_with",
        "indication": "Follow-up of a renal lesion.",
    },
    "ldct": {
        "procedure": {
            "system": "http://www.ama-assn.org/go/cpt",
            "code": "71271",
            "display": "CT Chest low dose lung cancer screening",
        },
        "modality": "CT",
        "body_part": "CHEST",
        "contrast": "none",
        "indication": "Lung cancer screening.",
    },
    "us_thyroid": {
        "procedure": {
            "system": "http://www.ama-assn.org/go/cpt",
            "code": "76536",
            "display": "US soft tissues of head and neck",
        },
        "modality": "US",
        "body_part": "THYROID",
        "contrast": "none",
        "indication": "Palpable thyroid nodule.",
    },
    "us_abd": {
        "procedure": {"system": "http://loinc.org", "code": "24558-9", "display": "US Abdomen"},
        "modality": "US",
        "body_part": "ABDOMEN",
        "contrast": "none",
        "indication": "Right upper quadrant pain.",
    },
    "mg": {
        "procedure": {
            "system": "http://loinc.org",
            "code": "26175-0",
            "display": "MG Breast - bilateral Screening",
        },
        "modality": "MG",
        "body_part": "BREAST",
        "contrast": "none",
        "indication": "Screening mammogram.",
    },
    "us_breast": {
        "procedure": {"system": "urn:test", "code": "us-breast", "display": "US Breast left"},
        "modality": "US",
        "body_part": "BREAST",
        "contrast": "none",
        "indication": "Palpable left breast lump.",
    },
    "xr_chest": {
        "procedure": {
            "system": "http://loinc.org",
            "code": "36643-5",
            "display": "XR Chest 2 Views",
        },
        "modality": "XR",
        "body_part": "CHEST",
        "contrast": "none",
        "indication": "Cough.",
    },
}

ACQUIRED = date(2026, 11, 27)


def build_case(item: dict[str, Any]) -> Case:
    """The case an item describes."""
    study = copy.deepcopy(PRESETS[item.get("study", "ct_chest")])
    study.update(
        {
            "accession_number": "GL-TEST-1",
            "ordering_physician": {"name": "Dr. Ana Ortiz"},
            "performing_facility": {"name": "Test Imaging Center"},
            "acquisition_time": "2026-11-27T14:05:00Z",
            "patient_location": "CA",
        }
    )
    if "indication" in item:
        study["indication"] = item["indication"]
    if item.get("history"):
        study["clinical_history"] = item["history"]
    study["comparisons"] = [
        {
            "date": c["date"],
            "modality": c.get("modality", "CT"),
            "description": c.get("description", "prior"),
            "report_text": c.get("report_text"),
        }
        for c in item.get("comparisons", [])
    ]
    age = int(item.get("age", 60))
    ai = []
    for i, finding in enumerate(item.get("ai", []), start=1):
        ai.append(
            {
                "id": f"A{i}",
                "algorithm": {"name": "Test", "version": "1"},
                "finding_type": finding.get("type", "pulmonary_nodule"),
                "description": finding.get("description", "solid nodule"),
                "location": finding.get("location", "right upper lobe"),
                "measurements": [{"value": finding["mm"], "unit": "mm", "label": "mean diameter"}],
                "confidence": 0.9,
                "decision": finding.get("decision", "confirmed"),
            }
        )
    return Case.model_validate(
        {
            "study": study,
            "patient": {
                "id": "MRN-1",
                "name": {"family": "Doe", "given": ["Jan"]},
                "sex": item.get("sex", "female"),
                "birth_date": date(ACQUIRED.year - age, 1, 15).isoformat(),
            },
            "dictation": item["dictation"],
            "ai_findings": ai,
        }
    )


def steps_of(result: RecommendationSet, rule: str) -> list[str]:
    """The steps of one rule as ``"action min-max?"`` strings, in order."""
    out = []
    for r in result.recommendations:
        if r.rule != rule:
            continue
        text = r.action
        if r.interval_months is not None:
            text += f" {r.interval_months[0]}-{r.interval_months[1]}"
        out.append(text + ("?" if r.optional else ""))
    return out


def problems(item: dict[str, Any], result: RecommendationSet) -> list[str]:
    """What differs between the item's expectation and the engine's answer (empty: pass)."""
    expect = item["expect"]
    found: list[str] = []
    rules = list(dict.fromkeys((r.guideline, r.rule, r.category) for r in result.recommendations))
    if expect.get("none") and result.recommendations:
        found.append(f"expected no recommendation, got {rules}")
    wanted = expect.get("findings", [])
    if "findings" in expect or expect.get("none"):
        got_rules = [(g, r) for g, r, _ in rules]
        want_rules = [(w.get("guideline", item["guideline"]), w["rule"]) for w in wanted]
        if sorted(got_rules) != sorted(want_rules):
            found.append(f"rules {got_rules} != expected {want_rules}")
    for w in wanted:
        matching = [c for g, r, c in rules if r == w["rule"]]
        if "category" in w and str(w["category"]) not in [str(c) for c in matching]:
            found.append(f"{w['rule']}: category {matching} != {w['category']}")
        if "steps" in w and steps_of(result, w["rule"]) != w["steps"]:
            found.append(f"{w['rule']}: steps {steps_of(result, w['rule'])} != {w['steps']}")
    if "not_applicable" in expect:
        got = sorted({n.guideline for n in result.not_applicable})
        if got != sorted(expect["not_applicable"]):
            found.append(f"not_applicable {got} != {sorted(expect['not_applicable'])}")
    if "discordant" in expect:
        got_d = [d.statement for d in result.discordant]
        if got_d != expect["discordant"]:
            found.append(f"discordant {got_d} != {expect['discordant']}")
    if "sources" in expect:
        got_s = sorted({s for r in result.recommendations for s in r.sources})
        missing = [s for s in expect["sources"] if s not in got_s]
        if missing:
            found.append(f"sources {got_s} lack {missing}")
    return found


def load_items() -> list[dict[str, Any]]:
    """Every item of every ``tests/guidelines/*.yaml`` file, with its guideline id."""
    items = []
    for path in sorted(HERE.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data["cases"]:
            items.append({"guideline": data["guideline"], "file": path.name, **item})
    return items
