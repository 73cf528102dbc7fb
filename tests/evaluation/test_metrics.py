"""Metric groups on drafts and texts built from the models."""

from __future__ import annotations

import pytest

from reportdraft.errors import ConfigurationError
from reportdraft.evaluation.metrics import MetricGroup, build_groups, group_names
from reportdraft.evaluation.metrics.findings import compare_tuples
from reportdraft.evaluation.metrics.lexical import corpus_bleu, rouge_l, sentence_bleu
from reportdraft.evaluation.nlp_access import FindingTuple, finding_tuples
from reportdraft.evaluation.scope import Candidate, CaseContext, reference_scope, split_sentences
from reportdraft.evaluation.scoring import available_groups, score_values
from reportdraft.evaluation.suite import CONSTANT_IMPRESSION, EvalCase, Reference
from reportdraft.models import FlagKind, SectionKind, Usage
from tests.evaluation.helpers import draft_of, make_case, make_item


def ready() -> list[MetricGroup]:
    """The built-in groups whose stage modules are importable here."""
    return available_groups(build_groups(None))[0]


def test_rouge_and_bleu_use_the_packages_on_a_0_100_scale() -> None:
    assert rouge_l("No acute disease.", "No acute disease.") == pytest.approx(100)
    assert sentence_bleu("No acute disease.", "No acute disease.") == pytest.approx(100)
    assert rouge_l("", "x") == 0.0
    partial = rouge_l(CONSTANT_IMPRESSION, "No acute cardiopulmonary process.")
    assert 50 < partial < 100
    assert corpus_bleu([], []) is None


def test_negation_flip_barely_moves_rouge_but_breaks_finding_tuples() -> None:
    reference = "Small left pleural effusion. No pneumothorax."
    flipped = "Small left pleural effusion. Pneumothorax."
    assert rouge_l(flipped, reference) > 85
    prf = compare_tuples(finding_tuples(flipped), finding_tuples(reference))
    assert prf.tp == 1
    assert prf.fp == 1
    assert prf.fn == 1
    assert prf.f1 == pytest.approx(0.5)


def test_finding_tuples_carry_side_and_size_in_mm() -> None:
    tuples = finding_tuples("Left pleural effusion measuring 2.1 cm.")
    assert FindingTuple("effusion", "present", "left", 21.0) in tuples
    assert finding_tuples("Left pleural effusion measuring 21 mm.") == tuples


def test_positive_finding_recall_does_not_reward_a_normal_template() -> None:
    item = make_item("ACC-9", "x.", "Small left pleural effusion. No pneumothorax.")
    groups = build_groups(["findings"])
    constant = score_values(
        groups, CaseContext(item=item), Candidate.from_text(CONSTANT_IMPRESSION)
    )
    assert constant["positive_finding_recall"] == 0.0
    normal = make_item("ACC-10", "x.", "No pneumothorax.")
    values = score_values(groups, CaseContext(item=normal), Candidate.from_text("No pneumothorax."))
    assert values["positive_finding_recall"] is None
    assert values["finding_f1"] == 1.0


def test_prf_edge_cases() -> None:
    empty = compare_tuples(set(), set())
    assert (empty.precision, empty.recall, empty.f1) == (None, None, 1.0)
    only_draft = compare_tuples({FindingTuple("mass", "present")}, set())
    assert (only_draft.precision, only_draft.recall, only_draft.f1) == (0.0, None, 0.0)


def test_scope_prefers_impression_then_sections_then_report() -> None:
    assert reference_scope(Reference()) is None
    imp = reference_scope(Reference(impression="A.", sections={"findings": "B."}))
    assert imp is not None
    assert imp.kind == "impression"
    assert imp.reference_text == "A."
    sec = reference_scope(Reference(sections={"impression": "I.", "findings": "F."}))
    assert sec is not None
    assert sec.keys == (SectionKind.FINDINGS, SectionKind.IMPRESSION)
    assert sec.reference_text == "F. I."
    rep = reference_scope(Reference(report="Whole report."))
    assert rep is not None
    assert rep.kind == "report"


def test_split_sentences_drops_list_enumerators() -> None:
    assert split_sentences("1. No acute findings. 2. Stable 3.5 cm mass.") == [
        "No acute findings.",
        "Stable 3.5 cm mass.",
    ]


def test_all_groups_score_a_draft() -> None:
    case = make_case("ACC-1", "Small left pleural effusion. No pneumothorax.")
    item = EvalCase(case=case, reference=Reference(impression="Small left pleural effusion."))
    draft = draft_of(
        case,
        impression=["Small left pleural effusion."],
        flags=[
            (FlagKind.UNSUPPORTED, "S1", ["D1"]),
            (FlagKind.NEGATION, "S2", ["D2"]),
            (FlagKind.OMISSION, None, ["D5"]),
        ],
        usage=Usage(prompt_tokens=100, completion_tokens=20, calls=2),
    )
    assert [g.name for g in build_groups(None)] == group_names()
    values = score_values(ready(), CaseContext(item=item), Candidate.from_draft(draft, seconds=1.5))
    assert values["finding_f1"] == 1.0
    assert values["rouge_l"] == pytest.approx(100)
    assert values["hallucination_rate"] == pytest.approx(1 / 4)  # 4 statements, 1 unsupported
    assert values["errors_negation"] == 1.0
    assert values["errors_total"] == 1.0
    assert values["errors_laterality"] == 0.0
    assert values["omission_rate"] is None  # no normalised dictation in this context
    assert values["section_completeness"] == 1.0
    assert values["latency_s"] == 1.5
    assert values["prompt_tokens"] == 100.0
    assert values["words_kept"] == 1.0
    assert values["statements_unchanged"] == 1.0


def test_text_candidates_skip_draft_metrics() -> None:
    item = make_item("ACC-2", "Lungs clear.", "No acute cardiopulmonary process.")
    values = score_values(ready(), CaseContext(item=item), Candidate.from_text(CONSTANT_IMPRESSION))
    assert values["hallucination_rate"] is None
    assert values["latency_s"] is None
    assert values["rouge_l"] is not None
    assert values["rouge_l"] > 50


def test_edit_shares_see_a_changed_statement() -> None:
    case = make_case("ACC-3", "No pneumothorax. Small left effusion.")
    item = EvalCase(
        case=case,
        reference=Reference(sections={"findings": "No pneumothorax. Small right effusion."}),
    )
    draft = draft_of(case, impression=[])
    values = score_values(
        build_groups(["edits"]), CaseContext(item=item), Candidate.from_draft(draft)
    )
    assert values["statements_unchanged"] == pytest.approx(0.5)
    assert values["words_kept"] is not None
    assert 0.6 < values["words_kept"] < 1.0


def test_unknown_metric_group_fails_loudly() -> None:
    with pytest.raises(ConfigurationError, match="unknown metric group"):
        build_groups(["findings", "bertscore"])
