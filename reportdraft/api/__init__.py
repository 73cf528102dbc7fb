"""The workstation HTTP API (FastAPI): ``create_app(settings)``; see ``app`` and ``routes``."""

from reportdraft.api.app import create_app

__all__ = ["create_app"]
