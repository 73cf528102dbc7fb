"""The FastAPI application factory.

``create_app(settings)`` opens the database, runs the migrations, re-queues jobs a
crashed worker left behind, and (unless ``start_workers=False``) starts the drafting
workers and the webhook dispatcher for the app's lifetime. Everything it needs comes from
``settings`` and the keyword arguments; nothing here reads the environment.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException
from swagger_ui_bundle import swagger_ui_path

from reportdraft import __version__, critical
from reportdraft.api import admin, error_bodies, exports, routes
from reportdraft.api.egress import Allowlist, Resolver, system_resolver
from reportdraft.api.limits import DEFAULT_MAX_BODY, BodyLimitMiddleware, RateLimiter
from reportdraft.api.state import AppState, utcnow
from reportdraft.api.webhooks import Dispatcher
from reportdraft.api.worker import BackendFactory, Drafter, WorkerPool
from reportdraft.attest import load_trusted_keys
from reportdraft.settings import Settings
from reportdraft.store import Database, rate_limits, upgrade
from reportdraft.store.signing_keys import kek_ring

log = logging.getLogger("reportdraft.api")


def create_app(
    settings: Settings,
    *,
    start_workers: bool = True,
    database: Database | None = None,
    backend_factory: BackendFactory | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    rate_per_s: float = 50.0,
    rate_burst: int = 200,
    workers: int | None = None,
    lease_s: float | None = None,
    wait_timeout_s: float = 120.0,
    clock: Callable[[], datetime] = utcnow,
    webhook_poll_s: float = 0.5,
    overdue_sweep_s: float = 30.0,
    resolver: Resolver = system_resolver,
) -> FastAPI:
    """Build the service.

    The service signs as the authenticated radiologist with that radiologist's own key,
    unsealed from the database with the key-encryption keys ``settings`` configure (read
    and checked here, so a malformed KEK stops the start). ``settings.signing_key``
    (``REPORTDRAFT_SIGNING_KEY``) means nothing to the service: it is the CLI's key.
    ``settings.trusted_keys`` (``REPORTDRAFT_TRUSTED_KEYS``) add public keys that renderings
    verify against besides the radiologists' published keys: after an upgrade, the public
    key of the one service key that signed earlier reports (read here, so a bad path stops
    the start; the service never signs with them).
    ``database`` reuses an open :class:`Database` (tests); ``backend_factory`` replaces
    the backend built from ``settings`` (tests of failure paths); ``rate_per_s`` and
    ``rate_burst`` are each API key's budget, shared through the database by every process
    serving it (``api.limits``), and ``rate_per_s`` 0 disables rate limiting. ``resolver``
    resolves webhook host names (the system resolver; tests map names to addresses without
    sending DNS queries).
    """
    Allowlist.parse(settings.webhook_allow)  # a malformed allowlist stops start-up here
    if settings.critical_dir is not None:  # so does a bad site critical-findings file
        critical.configure_site(settings.critical_dir)
    db = database or Database(settings.database_url)
    keks = kek_ring(settings)
    if settings.signing_key:
        log.warning(
            "REPORTDRAFT_SIGNING_KEY is ignored by the service: radiologists sign with "
            "their own keys"
        )
    if keks is None:
        log.warning("no key-encryption key configured: radiologist keys cannot be created or used")
    # Leases come from a pool of their own: a report read takes its token while holding
    # a connection of the main pool for its transaction (auth.authorize_read).
    lease_db = db.sibling(pool_size=2)
    state = AppState(
        settings=settings,
        db=db,
        limiter=RateLimiter(
            rate=rate_per_s,
            burst=rate_burst,
            source=partial(rate_limits.lease, lease_db, rate=rate_per_s, burst=rate_burst),
        ),
        keks=keks,
        legacy_trust=load_trusted_keys(*settings.trusted_keys),
        clock=clock,
        wait_timeout_s=wait_timeout_s,
        resolver=resolver,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(db)
        pool: WorkerPool | None = None
        dispatcher: Dispatcher | None = None
        if start_workers:
            pool = WorkerPool(
                state,
                Drafter(state, backend_factory),
                threads=workers or max(1, settings.max_model_calls),
                lease_s=lease_s or max(60.0, 3 * settings.model_timeout_s),
            )
            pool.start()
            dispatcher = Dispatcher(state, poll_s=webhook_poll_s, sweep_s=overdue_sweep_s)
            dispatcher.start()
        log.info("reportdraft API ready (database %s, workers %s)", db.dialect, start_workers)
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()
            if dispatcher is not None:
                dispatcher.stop()
            if lease_db is not db:
                lease_db.dispose()
            if database is None:
                db.dispose()

    app = FastAPI(
        title="reportdraft",
        version=__version__,
        summary="LLM-assisted radiology report drafting: create, edit, sign, render.",
        description=(
            "Authenticate with `Authorization: Bearer <api key>`. Errors are "
            '`{"error": {"code", "message", "details"}}`. Changes to a report need '
            "`If-Match` with its `ETag`."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.rd = state
    error_bodies.install(app)
    app.include_router(admin.public)
    app.include_router(routes.router)
    app.include_router(exports.router)
    app.include_router(admin.router)
    install_docs(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    return app


DOCS_ASSETS = "/docs/assets"
"""Where Swagger UI's JavaScript and CSS are served from (the installed package's copy)."""
DOCS_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
"""The files of the Swagger UI distribution that ``/docs`` loads (only these are served:
the distribution's own sample page would load a demo API from the internet)."""
BEARER_SCHEME = "bearerAuth"


def install_docs(app: FastAPI) -> None:
    """``/docs`` without a CDN, and an OpenAPI document whose "Authorize" button works.

    A reading room or an air-gapped hospital network often has no internet access, so
    the Swagger UI assets come from the ``swagger-ui-bundle-v2`` package (Swagger UI 5,
    which reads the OpenAPI 3.1 document FastAPI writes) and no URL on the page names
    another host. Every ``/v1`` operation is marked as needing the bearer API key;
    ``/health`` is public.
    """

    async def asset(request: Request) -> FileResponse:
        name = str(request.path_params["name"])
        if name not in DOCS_FILES:
            raise HTTPException(404, f"no docs asset {name[:64]!r}")
        return FileResponse(swagger_ui_path / name, media_type=DOCS_FILES[name])

    app.add_route(f"{DOCS_ASSETS}/{{name}}", asset, include_in_schema=False)

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.add_route("/docs", docs, include_in_schema=False)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key from `POST /v1/admin/api-keys`.",
            }
            for path, operations in schema.get("paths", {}).items():
                if path.startswith("/v1/"):
                    for operation in operations.values():
                        operation["security"] = [{BEARER_SCHEME: []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
