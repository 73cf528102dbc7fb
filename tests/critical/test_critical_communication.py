"""Closed-loop communication: deadlines, states, the signing rule and the report sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from reportdraft.critical import (
    DEFAULT_POLICY,
    KNOWN_TO_CARE_TEAM,
    DeadlinePolicy,
    blocks_signing,
    communicated_late,
    communication_state,
    communication_statement,
    deadline,
    detect_text,
    escalation_due,
    override_codes,
    suggested_override,
)
from reportdraft.errors import InputError
from reportdraft.models import CommunicationMethod, CommunicationState, Recipient
from reportdraft.models.critical import Temporality
from tests.critical.critical_factories import T0, make_record, notified


def test_deadline_per_category_and_custom_policy() -> None:
    assert deadline(make_record(category=1)) == T0 + timedelta(minutes=60)
    assert deadline(make_record(category=2)) == T0 + timedelta(hours=6)
    assert deadline(make_record(category=3)) == T0 + timedelta(days=3)
    strict = DeadlinePolicy(category_1=timedelta(minutes=30))
    assert deadline(make_record(), strict) == T0 + timedelta(minutes=30)


def test_policy_validation() -> None:
    with pytest.raises(ValidationError):
        DeadlinePolicy(category_1=timedelta(hours=8))  # longer than category 2
    with pytest.raises(ValidationError):
        DeadlinePolicy(category_2=timedelta(0))
    with pytest.raises(ValidationError):
        DeadlinePolicy(category_4=timedelta(days=9))  # type: ignore[call-arg]


def test_states_follow_the_clock_and_the_timestamps() -> None:
    record = make_record()
    assert communication_state(record, T0 + timedelta(minutes=59)) is CommunicationState.PENDING
    assert communication_state(record, T0 + timedelta(minutes=61)) is CommunicationState.OVERDUE
    escalated = make_record(escalated_at=T0 + timedelta(minutes=70))
    assert communication_state(escalated, T0 + timedelta(minutes=65)) is CommunicationState.OVERDUE
    assert (
        communication_state(escalated, T0 + timedelta(minutes=71)) is CommunicationState.ESCALATED
    )
    assert communication_state(notified(), T0 + timedelta(days=2)) is CommunicationState.NOTIFIED
    acked = notified(acknowledged_at=T0 + timedelta(minutes=25))
    assert communication_state(acked, T0 + timedelta(days=2)) is CommunicationState.ACKNOWLEDGED
    waived = make_record(override_reason="Already managed by the trauma team at bedside.")
    assert communication_state(waived, T0 + timedelta(days=2)) is CommunicationState.OVERRIDDEN


def test_naive_timestamps_are_read_as_utc() -> None:
    naive = make_record(identified_at=datetime(2026, 11, 27, 14, 5))
    assert deadline(naive) == T0 + timedelta(minutes=60)
    assert communication_state(naive, datetime(2026, 11, 27, 15, 10)) is CommunicationState.OVERDUE
    other_zone = datetime(2026, 11, 27, 9, 30, tzinfo=UTC).astimezone()
    assert communication_state(make_record(), other_zone) is CommunicationState.PENDING


def test_escalation_and_lateness() -> None:
    policy = DeadlinePolicy(escalate_after=timedelta(minutes=15))
    record = make_record()
    assert not escalation_due(record, T0 + timedelta(minutes=70), policy)
    assert escalation_due(record, T0 + timedelta(minutes=76), policy)
    assert not escalation_due(notified(), T0 + timedelta(hours=5), policy)
    assert not communicated_late(notified())
    late = notified(notified_at=T0 + timedelta(minutes=90))
    assert communicated_late(late, DEFAULT_POLICY)


def test_signing_blocked_until_cat_1_and_2_alerts_are_documented() -> None:
    mentions = detect_text(
        "Acute pulmonary embolism. Small right pneumothorax. 9 mm pulmonary nodule. No free air."
    )
    assert blocks_signing(mentions, []) == ["pneumothorax", "pulmonary_embolism"]
    assert blocks_signing(mentions, [notified()]) == ["pneumothorax"]
    undocumented = make_record(
        id="C2", finding_code="pneumothorax", finding_label="PTX", category=2
    )
    assert blocks_signing(mentions, [notified(), undocumented]) == ["pneumothorax"]
    waived = make_record(
        id="C3", finding_code="pneumothorax", finding_label="PTX", category=2,
        override_reason="Expected after chest tube removal; team aware.",
    )  # fmt: skip
    assert blocks_signing(mentions, [notified(), waived]) == []


def test_a_group_record_documents_a_more_specific_mention() -> None:
    mentions = detect_text("Acute left subdural hematoma.")
    record = notified(finding_code="intracranial_hemorrhage", finding_label="ICH")
    assert blocks_signing(mentions, [record]) == []
    weaker = notified(finding_code="pneumothorax", finding_label="PTX", category=2)
    tension = detect_text("Left tension pneumothorax.")
    assert blocks_signing(tension, [weaker]) == ["tension_pneumothorax"]


def test_non_alerting_mentions_never_block() -> None:
    # issue 12: a known, stable pneumothorax now alerts (see the next test); an improving
    # one, a negated and a hypothetical mention do not
    mentions = detect_text(
        "No pulmonary embolism. Decreasing small pneumothorax. Rule out torsion."
    )
    assert blocks_signing(mentions, []) == []


def test_a_known_stable_finding_blocks_until_closed_as_known_to_the_care_team() -> None:
    mentions = detect_text("Known stable small left pneumothorax.")
    (mention,) = mentions
    assert (mention.assertion.value, mention.temporality, mention.alert) == (
        "present",
        Temporality.UNCHANGED,
        True,
    )
    assert blocks_signing(mentions, []) == ["pneumothorax"]
    assert suggested_override(mention) == KNOWN_TO_CARE_TEAM
    assert KNOWN_TO_CARE_TEAM in override_codes()
    closed = make_record(
        finding_code="pneumothorax",
        finding_label="Pneumothorax",
        category=2,
        override_code=KNOWN_TO_CARE_TEAM,
        override_reason="Chest tube in place; followed by the thoracic team.",
    )
    assert blocks_signing(mentions, [closed]) == []
    (new,) = detect_text("New small left pneumothorax.")
    assert new.alert
    assert suggested_override(new) is None


def test_communication_statement_matches_the_documented_form() -> None:
    record = notified(notified_at=datetime(2026, 11, 27, 14, 32, tzinfo=UTC))
    assert communication_statement(record) == (
        "Critical result communicated to Dr. Ana Ortiz (ordering physician) by phone at "
        "14:32 UTC on 2026-11-27; read back confirmed."
    )


def test_statement_variants() -> None:
    nurse = notified(
        recipient=Recipient(name="Sam Lee, RN", role="charge nurse"),
        method=CommunicationMethod.SECURE_MESSAGE,
        read_back=False,
        acknowledged_at=datetime(2026, 11, 27, 14, 40, tzinfo=UTC),
    )
    assert communication_statement(nurse) == (
        "Critical result communicated to Sam Lee, RN (charge nurse) by secure message at "
        "14:25 UTC on 2026-11-27; acknowledged at 14:40 UTC on 2026-11-27; "
        "read back not documented."
    )
    already_dr = notified(recipient=Recipient(name="Dr. Ana Ortiz"))
    assert "to Dr. Ana Ortiz (" in communication_statement(already_dr)
    waived = make_record(
        override_reason="Known to the surgical team, patient already in theatre.",
        communicating_radiologist="Dr. Rae Kim",
    )
    assert communication_statement(waived) == (
        "Critical result (Pulmonary embolism) not separately communicated by Dr. Rae Kim: "
        "Known to the surgical team, patient already in theatre."
    )
    with pytest.raises(InputError, match="not documented"):
        communication_statement(make_record())
