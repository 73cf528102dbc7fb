"""Fixtures for attestation tests: signing keys and radiologist profiles."""

from __future__ import annotations

import pytest

from reportdraft.attest import SigningKey, generate_signing_key
from reportdraft.models.report import Radiologist, RadiologistRole
from tests.attest.attest_factories import make_radiologist


@pytest.fixture(scope="session")
def key() -> SigningKey:
    """The attending's signing key."""
    return generate_signing_key()


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    """A second key (a resident's, or an impostor's)."""
    return generate_signing_key()


@pytest.fixture
def attending(key: SigningKey) -> Radiologist:
    """An attending whose profile registers ``key``."""
    return make_radiologist(key)


@pytest.fixture
def resident(other_key: SigningKey) -> Radiologist:
    """A resident whose profile registers ``other_key``."""
    return make_radiologist(other_key, role=RadiologistRole.RESIDENT, user_id="res1")
