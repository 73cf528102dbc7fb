"""The demo's simulated radiologist: review, decide, document and sign a draft.

``reportdraft demo`` shows the whole workflow on the bundled examples without a person at
the keyboard. The simulated attending below does what the sign-off rules demand and says
so in every record it writes: it confirms AI findings still pending, acknowledges
high-severity flags ("reviewed in demo"), documents a phone call to the ordering
physician with read-back for each Category 1/2 alert (identified when the draft was
made, called at signing time: no time is invented before the evidence), and signs with a
development key generated for the run. Nothing here is used outside the demo and its tests.
"""

from __future__ import annotations

from datetime import date, datetime

from reportdraft.attest import AcknowledgementInput, SigningKey, SignOff, open_report, sign
from reportdraft.critical import SIGNING_CATEGORIES
from reportdraft.drafting import DraftResult
from reportdraft.models import (
    CommunicationMethod,
    CommunicationRecord,
    Decision,
    License,
    PersonName,
    Radiologist,
    RadiologistRole,
    Recipient,
    Report,
    ReportStatus,
    Severity,
)
from reportdraft.models.communication import IdentifiedFrom

DEMO_STATES = ("AZ", "CA", "CO", "FL", "IL", "MA", "NV", "NY", "OR", "TX", "WA")


def demo_attending(key: SigningKey | None) -> Radiologist:
    """A fictional attending licensed in the states the examples use (``key`` None: no key
    bound yet, as a profile is given to the service, which makes and binds the key)."""
    return Radiologist(
        id="demo-attending",
        name=PersonName(family="Reyes", given=["Alex"]),
        credentials=["MD"],
        role=RadiologistRole.ATTENDING,
        npi="1234567893",
        licenses=[
            License(region=state, number=f"{state}-DEMO-{i:04d}", expires=date(2030, 12, 31))
            for i, state in enumerate(DEMO_STATES, start=1)
        ],
        key_id=key.key_id if key is not None else None,
    )


def simulated_signoff(result: DraftResult, signer: Radiologist, at: datetime) -> SignOff:
    """What the demo's radiologist does before signing (see the module docstring)."""
    draft = result.draft
    decisions = {
        f.id: Decision.CONFIRMED for f in result.case.ai_findings if f.decision is Decision.PENDING
    }
    acks = [
        AcknowledgementInput(flag_id=f.id, reason="Reviewed in demo; statement verified.")
        for f in draft.flags
        if f.severity is Severity.HIGH
    ]
    alerting = {
        m.finding_code: m for m in draft.critical if m.alert and m.category in SIGNING_CATEGORIES
    }
    identified = min(draft.provenance.created_at, at)
    communications = [
        CommunicationRecord(
            id=f"demo-{code}",
            finding_code=code,
            finding_label=mention.label,
            category=mention.category,
            identified_at=identified,
            identified_from=IdentifiedFrom.DRAFT,
            communicating_radiologist=signer.name.display(),
            recipient=Recipient(
                name=result.case.study.ordering_physician.name, role="ordering physician"
            ),
            method=CommunicationMethod.PHONE,
            notified_at=at,
            acknowledged_at=at,
            read_back=True,
        )
        for code, mention in alerting.items()
    ]
    return SignOff(decisions=decisions, acknowledgements=acks, communications=communications)


def review_and_sign(result: DraftResult, *, key: SigningKey, at: datetime) -> Report:
    """Open a report from ``result`` and sign it final as the demo attending."""
    signer = demo_attending(key)
    report = open_report(result.case, result.draft, by=signer.id, at=at)
    return sign(
        report,
        to_status=ReportStatus.FINAL,
        signer=signer,
        key=key,
        at=at,
        signoff=simulated_signoff(result, signer, at),
    )
