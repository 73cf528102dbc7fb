"""Fixtures shared with the verifier's tests (the hand-written sample bundles)."""

from tests.verify.conftest import samples

__all__ = ["samples"]
