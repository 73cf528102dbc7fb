"""Store test fixtures (the database fixture is shared with the API tests)."""

from tests.store.dbfixtures import database

__all__ = ["database"]
