"""One JSON error body on every 4xx/5xx: ``{"error": {"code", "message", "details"}}``.

``reportdraft.errors`` already gives each failure a stable ``code`` and HTTP status;
this module maps those, FastAPI's own errors (404, 405, 422 validation) and anything
unexpected (500, logged by type and request id only: no PHI in logs) onto the same body,
so a workstation integrates against one error shape.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from reportdraft.errors import AttestationRefused, ConfigurationError, ReportDraftError

log = logging.getLogger("reportdraft.api")

E = TypeVar("E", bound=Exception)

STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    501: "not_implemented",
    503: "unavailable",
}
"""Default code for a bare HTTP status (when no domain error says more)."""


class ApiError(ReportDraftError):
    """An error raised by the API layer itself, with its status, details and headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=code or STATUS_CODES.get(status, "error"))
        self.http_status = status
        self.details = details
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The JSON error response every handler returns."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_details(errors: Any) -> list[dict[str, Any]]:
    # Echo where and why, never the offending input (it may be patient data).
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in errors
    ]


async def _domain(request: Request, exc: ReportDraftError) -> JSONResponse:
    details: Any = getattr(exc, "details", None)
    if isinstance(exc, AttestationRefused):
        details = {"reasons": exc.reasons}
    status = int(exc.http_status)
    if status >= 500:
        log.error("request %s failed: %s", request.url.path, exc.code)
    return error_response(status, exc.code, exc.message, details, getattr(exc, "headers", None))


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON (``application/json`` or ``application/*+json``)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _body_not_json(request: Request, errors: Any) -> bool:
    # FastAPI parses a body as JSON only when the Content-Type says JSON; any other body
    # reaches validation as raw bytes and fails there. That failure is the media type's
    # (415), not the content's (422). A missing body stays a 422.
    if is_json(request.headers.get("content-type")):
        return False
    return any(
        tuple(e.get("loc", ()))[:1] == ("body",) and e.get("type") != "missing" for e in errors
    )


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    if _body_not_json(request, exc.errors()):
        given = request.headers.get("content-type")
        return error_response(
            415,
            "unsupported_media_type",
            "the request body must be JSON (Content-Type: application/json)",
            {"content_type": given[:100] if given else None, "expected": "application/json"},
        )
    return error_response(
        422, "invalid_request", "the request failed validation", _validation_details(exc.errors())
    )


async def _model_validation(request: Request, exc: ValidationError) -> JSONResponse:
    # A domain value built from valid request parts can still be inconsistent (e.g. a
    # communication time before the finding was identified): the caller's input is wrong.
    return error_response(
        422, "invalid_input", "the request is inconsistent", _validation_details(exc.errors())
    )


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = STATUS_CODES.get(exc.status_code, "error")
    message = str(exc.detail) if exc.detail else code.replace("_", " ")
    return error_response(exc.status_code, code, message, None, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error_response(500, "internal_error", "internal error; the request was not applied")


def handler_for(
    kind: type[E], handle: Callable[[Request, E], Awaitable[JSONResponse]]
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """``handle`` as Starlette registers it: typed for any exception, checked for ``kind``.

    Starlette picks a handler by the exception's class, so the check only fails when the
    registration below pairs a handler with the wrong class: a configuration mistake,
    raised rather than answered with a misleading error body.
    """

    async def checked(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, kind):
            raise ConfigurationError(
                f"the {kind.__name__} error handler got a {type(exc).__name__}"
            )
        return await handle(request, exc)

    return checked


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ReportDraftError, handler_for(ReportDraftError, _domain))
    app.add_exception_handler(
        RequestValidationError, handler_for(RequestValidationError, _validation)
    )
    app.add_exception_handler(ValidationError, handler_for(ValidationError, _model_validation))
    app.add_exception_handler(StarletteHTTPException, handler_for(StarletteHTTPException, _http))
    app.add_exception_handler(Exception, _unexpected)
