"""The radiologist's review pages, served by ``reportdraft serve`` next to the JSON API.

Server-rendered (Jinja2 templates, htmx 2 vendored in ``static/``, a small style sheet and
a few lines of script for keyboard shortcuts), so a group can review, edit and sign drafts
with no other front end, offline. The pages add no rule of their own: every change goes
through the API's endpoint functions (``reportdraft.api.routes``) and every read through
its scoped loader. Sessions, CSRF and security headers: :mod:`reportdraft.web.sessions`;
routes: :mod:`reportdraft.web.pages` (reads) and :mod:`reportdraft.web.form_actions`
(changes), over :mod:`reportdraft.web.page_kit`; what a page shows:
:mod:`reportdraft.web.views`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from reportdraft.settings import Settings


def create_app(settings: Settings, **kwargs: Any) -> FastAPI:
    """The API app (``reportdraft.api.create_app`` with ``kwargs``) with the pages mounted."""
    from reportdraft.api import create_app as create_api
    from reportdraft.web.pages import install

    app = create_api(settings, **kwargs)
    install(app)
    return app


__all__ = ["create_app"]
