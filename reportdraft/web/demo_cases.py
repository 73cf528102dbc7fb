"""``reportdraft serve --seed-demo``: the bundled example cases and a key to review them.

So a group can try the review pages at once: the demo attending's profile (licensed in
every state the examples use; the service makes and seals their signing key), one new
all-facilities attending API key (printed once, like ``reportdraft apikey create``), and
every example case of ``examples/`` not already in the database, queued for drafting
like a workstation's ``POST /v1/reports``. Running it again adds no duplicate case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from reportdraft.demo import demo_attending
from reportdraft.errors import InputError
from reportdraft.models import Case
from reportdraft.resources import data_dir
from reportdraft.store import Database, principals, reports, signing_keys
from reportdraft.store.principals import Role
from reportdraft.store.signing_keys import KekRing

CREATED_BY = "seed-demo"


@dataclass(frozen=True)
class Seeded:
    """What ``seed_demo`` did: the new key (shown once), its id, the cases queued."""

    api_key: str
    key_id: str
    queued: list[str]
    skipped: list[str]


def example_cases() -> list[Case]:
    """Every bundled example case, in file-name order."""
    cases = []
    for path in sorted(data_dir("examples").glob("*.json")):
        try:
            cases.append(Case.model_validate(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as exc:
            raise InputError(f"example {path.name} is not a valid case: {exc}") from None
    return cases


def seed_demo(db: Database, keks: KekRing | None, now: datetime) -> Seeded:
    """Store the demo attending, a new attending key, and the example cases not yet there."""
    with db.write() as session:
        profile = signing_keys.register_profile(session, demo_attending(None), keks=keks, now=now)
        key, secret = principals.create_api_key(
            session,
            role=Role.ATTENDING,
            radiologist_id=profile.id,
            label="seed-demo attending",
            all_facilities=True,
            now=now,
        )
    queued, skipped = [], []
    for case in example_cases():
        accession = case.study.accession_number
        with db.read() as session:
            existing = reports.list_reports(session, accession=accession, limit=1).items
        if existing:
            skipped.append(accession)
            continue
        reports.create(db, case=case, created_by=CREATED_BY, now=now)
        queued.append(accession)
    return Seeded(api_key=secret, key_id=key.id, queued=queued, skipped=skipped)
