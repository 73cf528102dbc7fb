"""Signed reports for the render tests and bench, made through the real sign-off flow.

Every example case is drafted with the deterministic ``rules`` backend through
``reportdraft.drafting.draft_case``, then the radiologist's part is played: pending AI
findings decided, high flags acknowledged, each alerting Cat 1/2 finding documented as a
communication, and the report signed by an attending licensed in the patient's state with
a freshly generated key. Nothing here builds a ``ReportVersion`` by hand, so the renderers
are tested on exactly what the attestation stage produces.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from reportdraft.attest import SigningKey, SignOff, add_addendum, generate_signing_key, sign
from reportdraft.attest import open_report as open_draft_report
from reportdraft.models import Case, CommunicationRecord, Report, ReportStatus
from reportdraft.models.report import License, Radiologist, RadiologistRole

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))

TRICKY = (
    "Tricky text <b>not bold</b> & A^B | C~D \\ E — café, Ångström, naïve, Øre, µ, Ωmega, Привет."
)
"""Report text with every character a renderer could mangle (markup, HL7 delimiters, Unicode)."""


@cache
def signing_key() -> SigningKey:
    """One Ed25519 key per test session (generated, never stored)."""
    return generate_signing_key()


def radiologist(
    state: str, *, role: RadiologistRole = RadiologistRole.ATTENDING, user_id: str = "dr-rivera"
) -> Radiologist:
    """A radiologist licensed in ``state`` (and in CA) whose profile registers the key."""
    licenses = [License(region=f"US-{state}", number=f"{state}-77120", expires=date(2030, 6, 30))]
    if state != "CA":
        licenses.append(License(region="US-CA", number="A99881", expires=date(2030, 6, 30)))
    return Radiologist(
        id=user_id,
        name={"family": "Rivera", "given": ["Elena", "M"]},
        credentials=["MD", "FACR"] if role is RadiologistRole.ATTENDING else ["MD"],
        role=role,
        npi="1548263970",
        licenses=licenses,
        key_id=signing_key().key_id,
    )


def load_case(example: str, **patient: Any) -> Case:
    """Example case ``example``; ``patient`` overrides patient fields (e.g. a tricky name)."""
    data = json.loads((EXAMPLES / f"{example}.json").read_text(encoding="utf-8"))
    data["patient"].update(patient)
    return Case.model_validate(data)


@cache
def _backend() -> Any:
    from reportdraft.backends import BackendOptions, create_backend

    return create_backend("rules", BackendOptions())


def signed_at(case: Case) -> datetime:
    """Signing time: one hour after acquisition (deterministic, so goldens are stable)."""
    return case.study.acquisition_time + timedelta(hours=1)


def open_report(case: Case) -> Report:
    """Draft ``case`` with the rules backend and open version 1 (status draft)."""
    from reportdraft.drafting import draft_case

    at = signed_at(case)
    draft = draft_case(case, _backend(), now=at - timedelta(minutes=30)).draft
    return open_draft_report(case, draft, by="dr-rivera", at=at - timedelta(minutes=30))


def _communications(report: Report, signer: Radiologist) -> list[CommunicationRecord]:
    current = report.current
    identified = current.case.study.acquisition_time + timedelta(minutes=20)
    seen: dict[str, CommunicationRecord] = {}
    for mention in current.critical:
        if not mention.alert or mention.category not in (1, 2) or mention.finding_code in seen:
            continue
        seen[mention.finding_code] = CommunicationRecord(
            id=f"C{len(seen) + 1}",
            finding_code=mention.finding_code,
            finding_label=mention.label,
            category=mention.category,
            identified_at=identified,
            communicating_radiologist=signer.display(),
            recipient={"name": current.case.study.ordering_physician.name},
            method="phone",
            notified_at=identified + timedelta(minutes=5),
            acknowledged_at=identified + timedelta(minutes=6),
            read_back=True,
        )
    return list(seen.values())


def signoff_for(report: Report, signer: Radiologist, extra_edits: list[dict[str, Any]]) -> SignOff:
    """The radiologist's decisions, acknowledgements and communications for ``report``."""
    current = report.current
    decisions = {f.id: "confirmed" for f in current.case.ai_findings if f.decision == "pending"}
    acks = [
        {"flag_id": f.id, "reason": "Reviewed on the images; wording stands."}
        for f in current.draft.flags
        if f.severity == "high"
    ]
    return SignOff.model_validate(
        {
            "decisions": decisions,
            "acknowledgements": acks,
            "communications": [c.model_dump() for c in _communications(report, signer)],
            "statement_edits": extra_edits,
        }
    )


def sign_case(
    case: Case,
    *,
    status: ReportStatus = ReportStatus.FINAL,
    extra_edits: list[dict[str, Any]] | None = None,
) -> Report:
    """``case`` drafted, reviewed and signed ``preliminary`` (resident) or ``final``."""
    role = (
        RadiologistRole.RESIDENT
        if status is ReportStatus.PRELIMINARY
        else (RadiologistRole.ATTENDING)
    )
    signer = radiologist(case.study.state, role=role, user_id="dr-rivera")
    report = open_report(case)
    edits = extra_edits or []
    # Critical mentions in added text need documenting too: sign once the edits are known.
    signoff = signoff_for(report, signer, edits)
    return sign(
        report,
        to_status=status,
        signer=signer,
        key=signing_key(),
        at=signed_at(case),
        signoff=signoff,
    )


@cache
def signed_example(name: str) -> Report:
    """Example ``name`` signed final by an attending licensed in the patient's state."""
    return sign_case(load_case(name))


def corrected(report: Report, *, new_text: str, reason: str) -> Report:
    """A correction of a final report: the first impression statement rewritten."""
    current = report.current
    first = current.section(current.content[-1].kind)[0]
    signer = radiologist(current.case.study.state)
    return sign(
        report,
        to_status=ReportStatus.CORRECTED,
        signer=signer,
        key=signing_key(),
        at=signed_at(current.case) + timedelta(hours=2),
        signoff=SignOff.model_validate(
            {"statement_edits": [{"id": first.id, "text": new_text}], "reason": reason}
        ),
    )


def with_addendum(report: Report, text: str) -> Report:
    """``report`` with a signed addendum (status appended)."""
    current = report.current
    return add_addendum(
        report,
        text=text,
        author=radiologist(current.case.study.state),
        key=signing_key(),
        at=signed_at(current.case) + timedelta(hours=3),
        reason="Additional information from the referring team.",
    )
