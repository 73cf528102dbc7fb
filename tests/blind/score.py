"""Scores of the blind sets (``tests/blind/*.yaml``): one function per set, and a CLI.

The sets were written by helpers who had not read the rules, from the clinical description
alone, and are committed untouched; this module only reads them. It uses the public entry
points (the critical-finding detector, the rules drafter through the pipeline, ``verify``)
and reads optional newer fields defensively, so the same file scored the code as it was
before the changes the sets test (the "before" figures) and scores it now.

    python -m tests.blind.score [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.critical import active_detector, record_problems
from reportdraft.dictation import normalize
from reportdraft.drafting import model_rewrite
from reportdraft.models import (
    Case,
    CommunicationMethod,
    CommunicationRecord,
    Draft,
    Recipient,
    SectionKind,
    Severity,
    Statement,
)
from reportdraft.templates import default_library
from reportdraft.verification import verify
from tests.factories import case_dict

HERE = Path(__file__).parent
SETS = {
    "critical_assertion": HERE / "critical_assertion_blind.yaml",
    "critical_temporality": HERE / "critical_temporality_blind.yaml",
    "instructions": HERE / "instructions_blind.yaml",
    "default_conflicts": HERE / "default_conflicts_blind.yaml",
    "verifier_anatomy": HERE / "verifier_anatomy_blind.yaml",
    "communication_records": HERE / "communication_records.yaml",
    "guidelines": HERE / "guidelines.yaml",
    "impressions": HERE / "impression_blind.yaml",
    "chest_scope": HERE / "chest_scope_blind.yaml",
}


def load(name: str) -> list[dict[str, Any]]:
    """The items of blind set ``name``."""
    with SETS[name].open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    items: list[dict[str, Any]] = data["items"] if "items" in data else data["cases"]
    return items


def _ratio(num: int, den: int) -> float | None:
    """``num / den`` to four places; None when there is nothing to count."""
    return round(num / den, 4) if den else None


# ------------------------------------------------------------------------ critical findings


def score_critical(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Alert precision/recall, assertion and temporality accuracy, items fully right.

    Expected and detected mentions are paired in reading order per lexicon *group* (a
    blind writer's "hemorrhage" and the detector's "subdural_hematoma" answer for each
    other, as they do when an impression is compared with the AI findings).
    """
    detector = active_detector()
    group = detector.lexicon.group_of
    tp = fp = fn = tn = 0
    assertion_right = matched = temporality_right = temporality_expected = 0
    items_right = 0
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    for item in items:
        mentions = detector.detect_text(
            item["text"],
            section_aware=bool(item.get("section_aware", False)),
            default_section=item.get("section"),
        )
        got: dict[str, list[Any]] = defaultdict(list)
        for mention in mentions:
            got[group(mention.finding_code)].append(mention)
        used: Counter[str] = Counter()
        wrong = False
        for exp in item["expect"]:
            key = group(exp["code"])
            index = used[key]
            used[key] += 1
            mention = got[key][index] if index < len(got[key]) else None
            alert = bool(mention.alert) if mention is not None else False
            if exp["alert"] and alert:
                tp += 1
            elif exp["alert"]:
                fn += 1
                wrong = True
                errors.append(f"{item['id']}: {exp['code']} did not alert")
            elif alert:
                fp += 1
                wrong = True
                errors.append(f"{item['id']}: {exp['code']} alerted wrongly")
            else:
                tn += 1
            if mention is None:
                continue
            matched += 1
            if mention.assertion.value == exp["assertion"]:
                assertion_right += 1
            else:
                errors.append(
                    f"{item['id']}: {exp['code']} {mention.assertion.value}"
                    f" (expected {exp['assertion']})"
                )
            if "temporality" in exp:
                temporality_expected += 1
                value = getattr(mention, "temporality", None)
                value = getattr(value, "value", value)
                if value == exp["temporality"]:
                    temporality_right += 1
        for key, extra in got.items():
            for mention in extra[used[key] :]:
                if mention.alert:
                    fp += 1
                    wrong = True
                    errors.append(f"{item['id']}: spurious alerting {mention.finding_code}")
        items_right += not wrong
        by_rule[item["rule"]]["items"] += 1
        by_rule[item["rule"]]["right"] += not wrong
    return {
        "items": len(items),
        "items_alert_right": _ratio(items_right, len(items)),
        "alert_recall": _ratio(tp, tp + fn),
        "alert_precision": _ratio(tp, tp + fp),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "assertion_accuracy": _ratio(assertion_right, matched),
        "temporality_accuracy": _ratio(temporality_right, temporality_expected),
        "by_rule": {rule: _ratio(c["right"], c["items"]) for rule, c in sorted(by_rule.items())},
        "errors": errors,
    }


# ------------------------------------------------------------------------ drafting helpers

_RULES = create_backend("rules", BackendOptions())


def _case(dictation: str) -> Case:
    data = case_dict()
    data["dictation"] = dictation
    return Case.model_validate(data)


def _draft(case: Case, template_id: str | None = None) -> drafting.DraftResult:
    if template_id is None:
        return drafting.draft_case(case, _RULES)
    dictation = normalize(case.dictation)
    template = default_library().get(template_id)
    draft = model_rewrite.draft(case, dictation, template, _RULES)
    return drafting.DraftResult(
        case=case,
        dictation=dictation,
        template=template,
        draft=drafting.annotate(case, dictation, template, draft),
    )


def _statements(draft: Draft) -> list[Statement]:
    return [st for section in draft.sections for st in section.statements]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


# ------------------------------------------------------------------------ instructions

_BEFORE = "The lungs are clear."
_AFTER = "No pleural effusion."
_KIND = "instruction_in_dictation"


def score_instructions(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Instruction items: flagged, and kept out of the draft; ordinary items: neither.

    Each item is dictated between two plain findings sentences and drafted with the rules
    backend. An item sentence *leaks* when a draft statement cites it.
    """
    counts: Counter[str] = Counter()
    by_style: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    for item in items:
        result = _draft(_case(f"{_BEFORE} {item['text']} {_AFTER}"))
        own = [
            s.id
            for s in result.dictation.sentences
            if _norm(s.text) not in {_norm(_BEFORE), _norm(_AFTER)}
        ]
        wanted = item.get("instruction_sentences")
        if item["label"] == "instruction" and wanted and len(wanted) <= len(own):
            own = [own[i - 1] for i in wanted if i - 1 < len(own)]
        cited = {src for st in _statements(result.draft) for src in st.sources}
        flags = [f for f in result.draft.flags if f.kind.value == _KIND]
        hit = any(not f.sources or set(f.sources) & set(own) for f in flags)
        leaked = bool(cited & set(own))
        style = str(item.get("style", "?"))
        if item["label"] == "instruction":
            counts["instructions"] += 1
            counts["detected"] += hit
            counts["leaked"] += leaked
            by_style[style]["n"] += 1
            by_style[style]["ok"] += hit and not leaked
            if not hit or leaked:
                errors.append(f"{item['id']}: detected={hit} leaked={leaked}")
        else:
            counts["ordinary"] += 1
            counts["false_alarms"] += hit
            counts["dropped"] += not leaked
            by_style[style]["n"] += 1
            by_style[style]["ok"] += (not hit) and leaked
            if hit or not leaked:
                errors.append(f"{item['id']}: flagged={hit} kept={leaked}")
    return {
        "instructions": counts["instructions"],
        "ordinary": counts["ordinary"],
        "detected": _ratio(counts["detected"], counts["instructions"]),
        "kept_out_of_draft": _ratio(
            counts["instructions"] - counts["leaked"], counts["instructions"]
        ),
        "ordinary_flagged": _ratio(counts["false_alarms"], counts["ordinary"]),
        "ordinary_dropped": _ratio(counts["dropped"], counts["ordinary"]),
        "by_style": {k: _ratio(c["ok"], c["n"]) for k, c in sorted(by_style.items())},
        "errors": errors,
    }


# ------------------------------------------------------------------------ template defaults


def score_defaults(items: list[dict[str, Any]]) -> dict[str, Any]:
    """No denying default left, unrelated defaults kept, internal contradictions flagged."""
    counts: Counter[str] = Counter()
    errors: list[str] = []
    for item in items:
        result = _draft(_case(item["dictation"]), item["template"])
        statements = _statements(result.draft)
        defaults = [st for st in statements if all(s.startswith("T:") for s in st.sources)]
        default_text = " | ".join(_norm(st.text) for st in defaults)
        cited_keys = {s[2:] for st in defaults for s in st.sources}
        kinds = {f.kind.value for f in result.draft.flags}
        forbidden = [p for p in item.get("forbidden", []) if _norm(p) in default_text]
        missing = [k for k in item.get("kept", []) if k not in cited_keys]
        contradiction = "internal_contradiction" in kinds
        expected_contradiction = bool(item.get("internal_contradiction", False))
        if item.get("forbidden"):
            counts["conflict_items"] += 1
            counts["conflict_clean"] += not forbidden
            counts["conflict_flagged"] += not forbidden and "default_conflict" in kinds
        else:
            counts["no_conflict_items"] += 1
            counts["no_conflict_quiet"] += "default_conflict" not in kinds
        counts["kept_expected"] += len(item.get("kept", []))
        counts["kept_missing"] += len(missing)
        counts["contradiction_expected"] += expected_contradiction
        counts["contradiction_found"] += expected_contradiction and contradiction
        counts["contradiction_false"] += contradiction and not expected_contradiction
        ok = not forbidden and not missing and contradiction == expected_contradiction
        counts["items_right"] += ok
        if not ok:
            errors.append(
                f"{item['id']}: left={forbidden} missing_kept={missing}"
                f" contradiction={contradiction} (expected {expected_contradiction})"
            )
    return {
        "items": len(items),
        "items_right": _ratio(counts["items_right"], len(items)),
        "conflict_items": counts["conflict_items"],
        "conflict_free_drafts": _ratio(counts["conflict_clean"], counts["conflict_items"]),
        "conflict_dropped_with_flag": _ratio(counts["conflict_flagged"], counts["conflict_items"]),
        "no_conflict_items_without_flag": _ratio(
            counts["no_conflict_quiet"], counts["no_conflict_items"]
        ),
        "kept_defaults_present": _ratio(
            counts["kept_expected"] - counts["kept_missing"], counts["kept_expected"]
        ),
        "internal_contradiction_recall": _ratio(
            counts["contradiction_found"], counts["contradiction_expected"]
        ),
        "internal_contradiction_false": counts["contradiction_false"],
        "errors": errors,
    }


# ------------------------------------------------------------------------ verifier


def score_verifier(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A model statement replacing the dictated sentence: high flag iff a fact changed."""
    counts: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    for item in items:
        flagged = _verifier_flags(item["source"], item["statement"])
        expected = item["expect"] == "flag"
        right = flagged == expected
        counts["flag_items" if expected else "ok_items"] += 1
        counts["caught" if expected else "false_alarms"] += flagged
        by_kind[item["kind"]]["n"] += 1
        by_kind[item["kind"]]["right"] += right
        counts["right"] += right
        if not right:
            errors.append(f"{item['id']} ({item['kind']}): flagged={flagged} expected={expected}")
    return {
        "items": len(items),
        "accuracy": _ratio(counts["right"], len(items)),
        "changed_fact_caught": _ratio(counts["caught"], counts["flag_items"]),
        "faithful_flagged": _ratio(counts["false_alarms"], counts["ok_items"]),
        "by_kind": {k: _ratio(c["right"], c["n"]) for k, c in sorted(by_kind.items())},
        "errors": errors,
    }


def _verifier_flags(source: str, statement: str) -> bool:
    case = _case(source)
    result = _draft(case)
    ids = [s.id for s in result.dictation.sentences]
    draft = result.draft
    sections = []
    placed = False
    for section in draft.sections:
        kept: list[Statement] = []
        for st in section.statements:
            if any(s in ids for s in st.sources):
                if not placed:
                    kept.append(
                        st.model_copy(
                            update={"text": statement, "sources": ids, "generator": "model"}
                        )
                    )
                    placed = True
                continue
            kept.append(st)
        sections.append(section.model_copy(update={"statements": kept}))
    edited = draft.model_copy(update={"sections": sections})
    target = next(st.id for st in _statements(edited) if st.sources == ids)
    flags = verify(edited, case, result.dictation, result.template)
    return any(f.statement_id == target and f.severity.value == "high" for f in flags)


# ------------------------------------------------------------ critical-result communication

_NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def _at(minutes: float | None) -> datetime | None:
    return None if minutes is None else _NOW + timedelta(minutes=minutes)


def _record_refused(item: dict[str, Any]) -> bool:
    """Whether the one rule set (``record_problems``) or the record model refuses ``item``."""
    notified, acquired = _at(item.get("notified_min")), _at(item.get("acquired_min"))
    acknowledged = _at(item.get("acknowledged_min"))
    earliest = [t for t in (notified, acquired) if t is not None]
    method = item.get("method")
    try:
        record = CommunicationRecord(
            id="C1",
            finding_code="pneumothorax",
            finding_label="Pneumothorax",
            category=item["category"],
            identified_at=min(earliest) if earliest else _NOW,
            communicating_radiologist="Dr. Reader" if notified else None,
            recipient=Recipient(name="Dr. Lee", role="emergency physician") if notified else None,
            method=CommunicationMethod(method) if method else None,
            notified_at=notified,
            acknowledged_at=acknowledged,
            read_back=bool(item.get("read_back")),
            override_code=item.get("override_code"),
            override_reason=item.get("override_reason"),
        )
    except ValueError:
        return True
    problems = record_problems(
        record,
        acquired_at=acquired,
        now=_NOW,
        attending=bool(item.get("attending")),
        closing=bool(item.get("closing")),
    )
    return bool(problems)


def score_communication(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Accepted / refused as the clinical description says, per record."""
    right = refused_caught = refused_total = accepted_kept = accepted_total = 0
    errors = []
    for item in items:
        refused = _record_refused(item)
        expected_refused = item["expected"] == "refused"
        if expected_refused:
            refused_total += 1
            refused_caught += refused
        else:
            accepted_total += 1
            accepted_kept += not refused
        if refused == expected_refused:
            right += 1
        else:
            errors.append(f"{item['id']}: expected {item['expected']} ({item.get('note')})")
    return {
        "items": len(items),
        "accuracy": _ratio(right, len(items)),
        "refused_caught": _ratio(refused_caught, refused_total),
        "accepted_kept": _ratio(accepted_kept, accepted_total),
        "errors": errors,
    }


def _recommend(case: dict[str, Any]) -> dict[str, Any]:
    """What ``reportdraft recommend`` prints for ``case`` (the public CLI, run in process)."""
    import contextlib
    import io
    import tempfile

    from reportdraft.cli import main as cli_main

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.json"
        path.write_text(json.dumps(case, default=str), encoding="utf-8")
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                code = cli_main(["recommend", str(path)])
            except SystemExit as exit_:  # argparse refuses an unknown command this way
                code = exit_.code
    if code not in (0, None):
        raise RuntimeError(f"recommend exited {code}")
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def _interval(value: Any) -> list[float] | None:
    return None if value is None else [float(v) for v in value]


def _matches(rec: dict[str, Any], field: str, expect: dict[str, Any]) -> bool:
    """Whether recommendation ``rec`` agrees with the case's expectation on ``field``."""
    if field == "category":
        return bool(rec.get("category") == expect.get("category"))
    if field == "action":
        return bool(rec.get("action") == expect.get("action"))
    if field == "interval":
        return _interval(rec.get("interval_months")) == _interval(expect.get("interval_months"))
    return "optional" not in expect or bool(rec.get("optional") == expect["optional"])


def score_guidelines(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Each case's expected recommendation among the output (or the guideline not applicable).

    A case is right when one recommendation of the expected guideline has the expected
    category, action and first interval (and ``optional`` where the case names it); a
    not-applicable case is right when the guideline is listed as not applicable with a reason
    and recommends nothing. Category, action and interval are also counted on their own, over
    the applicable cases whose guideline fired at all.
    """
    right = fired = applicable = category_ok = action_ok = interval_ok = 0
    na_total = na_right = 0
    per_guideline: dict[str, Counter[str]] = defaultdict(Counter)
    errors = []
    for item in items:
        expect = item["expect"]
        guideline = expect["guideline"]
        try:
            result = _recommend(item["case"])
        except Exception as exc:  # a crash is a wrong answer, listed with its reason
            errors.append(f"{item['id']}: recommend failed: {exc}")
            per_guideline[guideline]["cases"] += 1
            continue
        recs = [r for r in result.get("recommendations", []) if r.get("guideline") == guideline]
        per_guideline[guideline]["cases"] += 1
        if expect.get("not_applicable"):
            na_total += 1
            listed = any(
                n.get("guideline") == guideline and n.get("reason")
                for n in result.get("not_applicable", [])
            )
            ok = listed and not recs
            na_right += ok
        else:
            applicable += 1
            fields = ("category", "action", "interval", "optional")
            if recs:
                fired += 1
                category_ok += any(_matches(r, "category", expect) for r in recs)
                action_ok += any(_matches(r, "action", expect) for r in recs)
                interval_ok += any(_matches(r, "interval", expect) for r in recs)
            ok = any(all(_matches(r, f, expect) for f in fields) for r in recs)
        right += ok
        per_guideline[guideline]["right"] += ok
        if not ok:
            got = [
                (r.get("category"), r.get("action"), r.get("interval_months"), r.get("optional"))
                for r in recs
            ]
            na = [
                n.get("reason")
                for n in result.get("not_applicable", [])
                if n.get("guideline") == guideline
            ]
            errors.append(
                f"{item['id']}: expected {expect} got {got or 'no recommendation'}"
                + (f" not_applicable={na}" if na else "")
                + (" [writer unsure]" if item.get("unsure") or expect.get("unsure") else "")
            )
    return {
        "items": len(items),
        "accuracy": _ratio(right, len(items)),
        "applicable_fired": _ratio(fired, applicable),
        "category_right": _ratio(category_ok, fired),
        "action_right": _ratio(action_ok, fired),
        "interval_right": _ratio(interval_ok, fired),
        "not_applicable_right": _ratio(na_right, na_total),
        "per_guideline": {
            g: {"cases": c["cases"], "right": c["right"]} for g, c in sorted(per_guideline.items())
        },
        "errors": errors,
    }


# ------------------------------------------------------------------------ impressions


def score_impressions(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The rules drafter's generated Impression (Findings dictated, no Impression) against a
    radiologist's expectations: each ``must_mention`` group named (any of its words, as a
    case-insensitive substring), no ``must_not_mention`` word, the template's normal line
    where ``normal_line`` requires it and never where it forbids it, the ``first`` word in
    the first sentence, and no high flag of ``verify`` against an Impression statement.
    ``normal_forbidden_violations`` (the normal line beside a finding it must not sit
    beside) is the safety figure, and ``normal_forbidden_unflagged`` how many of them the
    draft does not flag for the radiologist (no impression_consistency flag); the rest is
    completeness and brevity.
    """
    counts: Counter[str] = Counter()
    errors: list[str] = []
    for item in items:
        result = _draft(_case(item["findings"]), item["template"])
        impression = result.draft.section(SectionKind.IMPRESSION)
        text = " ".join(st.text for st in impression).lower()
        normal = (result.template.impression_default or "").strip()
        has_normal = bool(normal) and any(st.text.strip() == normal for st in impression)
        groups = item.get("must_mention") or []
        missing = [g for g in groups if not any(str(w).lower() in text for w in g)]
        unwanted = [str(w) for w in item.get("must_not_mention") or [] if str(w).lower() in text]
        rule = item.get("normal_line", "either")
        normal_ok = {"required": has_normal, "forbidden": not has_normal}.get(rule, True)
        first = item.get("first")
        first_ok = first is None or (
            bool(impression) and str(first).lower() in impression[0].text.lower()
        )
        ids = {st.id for st in impression}
        high = [
            f.kind.value
            for f in result.draft.flags
            if f.severity is Severity.HIGH and f.statement_id in ids
        ]
        counts["groups"] += len(groups)
        counts["groups_found"] += len(groups) - len(missing)
        counts["unwanted_words"] += len(item.get("must_not_mention") or [])
        counts["unwanted_present"] += len(unwanted)
        counts[f"normal_{rule}"] += 1
        counts[f"normal_{rule}_right"] += normal_ok
        counts["normal_forbidden_flagged"] += (
            rule == "forbidden"
            and not normal_ok
            and any(f.kind.value == "impression_consistency" for f in result.draft.flags)
        )
        counts["first_items"] += first is not None
        counts["first_right"] += first is not None and first_ok
        counts["high_flag_items"] += bool(high)
        ok = not missing and not unwanted and normal_ok and first_ok and not high
        counts["items_right"] += ok
        if not ok:
            errors.append(
                f"{item['id']} ({item['template']}): missing={missing} unwanted={unwanted}"
                f" normal_line={rule}/{'present' if has_normal else 'absent'}"
                f" first_ok={first_ok} high={high} impression={text[:200]!r}"
                + (" [writer unsure]" if item.get("unsure") else "")
            )
    return {
        "items": len(items),
        "items_right": _ratio(counts["items_right"], len(items)),
        "must_mention_found": _ratio(counts["groups_found"], counts["groups"]),
        "must_not_mention_absent": _ratio(
            counts["unwanted_words"] - counts["unwanted_present"], counts["unwanted_words"]
        ),
        "normal_required_right": _ratio(counts["normal_required_right"], counts["normal_required"]),
        "normal_forbidden_violations": counts["normal_forbidden"]
        - counts["normal_forbidden_right"],
        "normal_forbidden_unflagged": counts["normal_forbidden"]
        - counts["normal_forbidden_right"]
        - counts["normal_forbidden_flagged"],
        "first_right": _ratio(counts["first_right"], counts["first_items"]),
        "high_flag_items": counts["high_flag_items"],
        "errors": errors,
    }


SCORERS: dict[str, Callable[[list[dict[str, Any]]], dict[str, Any]]] = {
    "critical_assertion": score_critical,
    "critical_temporality": score_critical,
    "instructions": score_instructions,
    "default_conflicts": score_defaults,
    "verifier_anatomy": score_verifier,
    "communication_records": score_communication,
    "guidelines": score_guidelines,
    "impressions": score_impressions,
    "chest_scope": score_impressions,
}


def score_all(names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every blind set that exists (or those named), scored."""
    return {name: SCORERS[name](load(name)) for name in names or list(SETS) if SETS[name].exists()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the scores (with errors) as JSON")
    parser.add_argument("--set", action="append", choices=list(SETS), help="only these sets")
    args = parser.parse_args(argv)
    scores = score_all(args.set)
    if args.out:
        args.out.write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
    brief = {n: {k: v for k, v in s.items() if k != "errors"} for n, s in scores.items()}
    json.dump(brief, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
