"""What a communication record must hold to be true and complete (issue 13, points 4 and 8).

Probes: ``python -m pytest tests/critical/test_critical_communication_records.py -q``; on
the base commit ``record_problems``, ``identification`` and the communication rules file
do not exist, free-text overrides are the only kind, and the API, attestation and the
redline each carried a fallback copy of the critical rules.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from reportdraft import redline
from reportdraft.api import service
from reportdraft.attest import criticality
from reportdraft.critical import (
    DEFAULT_CLOCK_SKEW,
    communication_rules,
    communication_statement,
    identification,
    load_communication_rules,
    record_problems,
)
from reportdraft.errors import ConfigurationError
from reportdraft.models import CommunicationMethod
from reportdraft.models.communication import IdentifiedFrom
from reportdraft.resources import data_dir, package_data
from tests.critical.critical_factories import T0, make_record, notified

NOW = T0 + timedelta(hours=1)
ACQUIRED = T0 - timedelta(minutes=30)


def codes(record: object, **kwargs: object) -> list[str]:
    """The problem codes of ``record`` at ``NOW`` (acquired at ``ACQUIRED``)."""
    kwargs.setdefault("acquired_at", ACQUIRED)
    kwargs.setdefault("now", NOW)
    return [p.code for p in record_problems(record, **kwargs)]  # type: ignore[arg-type]


def test_a_complete_phone_call_has_no_problems() -> None:
    assert codes(notified()) == []
    assert codes(notified(), closing=True, attending=False) == []


def test_times_later_than_now_plus_skew_are_refused() -> None:
    assert codes(notified(notified_at=NOW + DEFAULT_CLOCK_SKEW)) == []
    late = NOW + DEFAULT_CLOCK_SKEW + timedelta(seconds=1)
    assert codes(notified(notified_at=late)) == ["notified_in_future"]
    assert codes(notified(notified_at=late), skew=timedelta(minutes=5)) == []
    assert codes(notified(acknowledged_at=late)) == ["acknowledged_in_future"]


def test_a_notification_before_acquisition_is_refused() -> None:
    early = make_record(identified_at=ACQUIRED - timedelta(hours=2))
    record = notified(identified_at=early.identified_at, notified_at=ACQUIRED - timedelta(hours=1))
    assert codes(record) == ["notified_before_acquisition"]
    assert codes(record, acquired_at=None) == []


@pytest.mark.parametrize("method", ["phone", "in_person", "video"])
def test_verbal_notification_of_cat_1_2_needs_read_back(method: str) -> None:
    record = notified(method=CommunicationMethod(method), read_back=False)
    assert codes(record) == ["read_back_missing"]
    assert codes(notified(method=CommunicationMethod(method), read_back=False, category=3)) == []


@pytest.mark.parametrize("method", ["page", "secure_message"])
def test_messages_need_an_acknowledgement_to_close(method: str) -> None:
    record = notified(method=CommunicationMethod(method), read_back=False)
    assert codes(record) == []  # recording the page is fine
    assert codes(record, closing=True) == ["acknowledgement_missing"]
    acked = notified(
        method=CommunicationMethod(method),
        read_back=False,
        acknowledged_at=T0 + timedelta(minutes=30),
    )
    assert codes(acked, closing=True) == []


def test_override_rules() -> None:
    good = make_record(
        override_code="communicated_by_other_radiologist",
        override_reason="Dr. Lee (neuroradiology) called the stroke team at 14:10.",
    )
    assert codes(good, attending=True) == []
    assert codes(good, attending=False) == ["override_not_attending"]
    legacy = make_record(override_reason="Known to the team.")
    assert codes(legacy) == ["override_code_missing"]
    shrug = make_record(override_code="already_known_to_care_team", override_reason="meh")
    assert codes(shrug) == ["override_reason_insufficient"]
    unknown = good.model_copy(update={"override_code": "too_busy"})
    assert codes(unknown) == ["override_code_unknown"]
    cat3 = make_record(category=3, override_reason="meh")
    assert codes(cat3, attending=False) == []


def test_override_code_needs_the_radiologists_words() -> None:
    with pytest.raises(ValidationError, match="override_reason"):
        make_record(override_code="already_known_to_care_team")


def test_statement_prints_the_code_label_and_the_text() -> None:
    record = make_record(
        override_code="patient_in_ed_under_care",
        override_reason="Trauma bay, surgeon at the bedside.",
        communicating_radiologist="Dr. Rae Kim",
    )
    assert communication_statement(record) == (
        "Critical result (Pulmonary embolism) not separately communicated by Dr. Rae Kim: "
        "Patient in the emergency department under active care; Trauma bay, surgeon at the "
        "bedside."
    )


@pytest.mark.parametrize(
    ("text", "documents"),
    [
        ("Acute PE. Discussed with Dr. Smith at 14:05.", True),
        ("findings were communicated by telephone to doctor alvarez period", True),
        ("Results called to the ED team at 3 pm.", True),
        ("Large right pneumothorax. No other findings.", False),
        ("Dr. Smith ordered the study. Findings discussed in conference.", False),
    ],
)
def test_documents_call(text: str, documents: bool) -> None:
    assert communication_rules().documents_call(text) is documents


def test_the_ct_head_ich_dictation_documents_its_call() -> None:
    case = json.loads((data_dir("examples") / "ct_head_ich.json").read_text())
    assert communication_rules().documents_call(case["dictation"])


def test_identification_follows_the_evidence() -> None:
    draft = T0
    after = identification(
        notified_at=T0 + timedelta(minutes=5), draft_created_at=draft, now=NOW, dictation=None
    )
    assert after == (T0, IdentifiedFrom.DRAFT)
    call = T0 - timedelta(minutes=10)
    said = identification(
        notified_at=call, draft_created_at=draft, now=NOW, dictation="Discussed with Dr. Lee."
    )
    assert said == (call, IdentifiedFrom.DICTATION)
    silent = identification(notified_at=call, draft_created_at=draft, now=NOW, dictation="PE.")
    assert silent == (call, IdentifiedFrom.NOTIFICATION)
    override = identification(notified_at=None, draft_created_at=draft, now=NOW, dictation=None)
    assert override == (T0, IdentifiedFrom.DRAFT)


def test_rules_file_is_validated(tmp_path: Path) -> None:
    bundled = package_data("critical", "communication.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "communication.yaml"
    bad.write_text(bundled.replace("read_back_methods: [phone", "read_back_methods: [fax"))
    with pytest.raises(ConfigurationError, match="invalid communication rules"):
        load_communication_rules(bad)
    site = tmp_path / "site.yaml"
    site.write_text(bundled.replace("  min_chars: 10", "  min_chars: 40"))
    assert not load_communication_rules(site).substantive("Known to the ED team, chest tube.")


def test_no_fallback_copies_of_the_critical_rules() -> None:
    """Point 8: the API, attestation and the redline import ``reportdraft.critical``.

    Base commit: ``api.service.FALLBACK_DEADLINES`` (Category 2 = 12 h) and
    ``_fallback_state``; ``attest.criticality._critical_module`` with a fallback
    ``blocks_signing`` that skipped lexicon groups; ``redline._critical_detector``; and an
    ``ALERTING_SECTIONS`` constant in both attest and redline.
    """
    for module, name in [
        (service, "FALLBACK_DEADLINES"),
        (service, "_fallback_state"),
        (criticality, "_critical_module"),
        (criticality, "text_detector"),
        (criticality, "blocks_signing"),
        (criticality, "ALERTING_SECTIONS"),
        (redline, "_critical_detector"),
        (redline, "ALERTING_SECTIONS"),
    ]:
        assert not hasattr(module, name), f"{module.__name__}.{name}"
    stamp = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    record = make_record(category=2, identified_at=stamp)
    assert service.communication_state(record, stamp + timedelta(hours=7)).value == "overdue"
