"""Mechanisms added after an independent set found denying defaults left standing: kinds
that need a second word (``requires``), a refinement that is not benign although its concept
is, findings said as an absent sign (``absences``), and the strict test of a dictated normal
claim against another dictated sentence."""

from __future__ import annotations

import pytest

from reportdraft.verification.claims import claims_of, denies, facts_of
from reportdraft.verification.hierarchy import hierarchy


def kinds_of(text: str) -> set[str]:
    return {k for f in facts_of("D1", text) for k in f.closure}


def test_requires_needs_its_second_word() -> None:
    assert "ruptured_popliteal_cyst" in kinds_of("Ruptured Baker cyst in the calf.")
    assert "ruptured_popliteal_cyst" not in kinds_of("Ruptured left ovarian cyst.")


def test_suspicious_calcifications_are_not_benign() -> None:
    h = hierarchy()
    assert h.benign({"calcification"})
    assert not h.benign({"suspicious_calcification"})
    (fact,) = facts_of("D1", "Fine pleomorphic calcifications in the right breast.")
    assert not fact.benign
    (vascular,) = facts_of("D1", "Vascular calcifications in the right breast.")
    assert vascular.benign


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("No detectable intratesticular flow on the left.", True),
        ("Absent color flow in the right testis.", True),
        ("Simple cyst with no internal flow.", False),
        ("No increased vascularity of the epididymis.", False),
        ("Normal arterial and venous flow in the right testis.", False),
    ],
)
def test_an_absent_sign_is_a_fact(text: str, absent: bool) -> None:
    assert ("absent_flow" in kinds_of(text)) is absent


@pytest.mark.parametrize(
    ("claim", "fact", "expected"),
    [
        ("The anterior cruciate ligament is intact.", "Complete tear of the ACL.", True),
        ("The gallbladder is unremarkable.", "Gallstones layer in the gallbladder.", True),
        ("Normal color flow in the left testis.", "Absent color flow in the left testis.", True),
        ("Normal color flow in the left testis.", "Absent color flow in the right testis.", False),
        ("The anterior cruciate ligament is intact.", "Tear of the medial meniscus.", False),
        ("The kidneys are otherwise unremarkable.", "Obstructing stone in the left kidney.", False),
        ("Normal Achilles tendon.", "Thickening of the tibialis anterior tendon.", False),
        ("The kidneys are normal.", "Simple cyst in the left kidney.", False),
        ("The soft tissues are unremarkable.", "Subcutaneous hematoma.", False),
    ],
)
def test_a_dictated_normal_claim_against_another_sentence(
    claim: str, fact: str, expected: bool
) -> None:
    facts = facts_of("D2", fact)
    claims = [c for c in claims_of(claim) if c.kinds is None]
    found = any(denies(c, f, exact=True, normal=True) for c in claims for f in facts)
    assert found is expected
    # without ``normal`` (a model's or an editor's statement) normal claims stay out
    assert not any(denies(c, f, exact=True) for c in claims for f in facts)
