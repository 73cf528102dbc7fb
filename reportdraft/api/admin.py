"""Admin endpoints: API keys, radiologist profiles, webhook subscriptions; and health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request, Response

from reportdraft.api.auth import Principal, app_state, require
from reportdraft.api.routes import ERRORS
from reportdraft.api.schemas import (
    RADIOLOGIST_EXAMPLE,
    ApiKeyOut,
    ApiKeyRequest,
    Health,
    WebhookOut,
    WebhookRequest,
)
from reportdraft.models.report import Radiologist
from reportdraft.store import jobs, outbox, principals
from reportdraft.store.principals import Role

router = APIRouter(prefix="/v1/admin", responses=ERRORS)
public = APIRouter()
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


@public.get("/health", response_model=Health, summary="Liveness and queue depth (no auth)")
def health(request: Request) -> Health:
    """``ok`` when the database answers; the queue's job counts by state."""
    state = app_state(request)
    with state.db.read() as session:
        counts = jobs.counts(session)
    return Health(status="ok", database=state.db.dialect, queue=counts)


@router.put("/radiologists/{radiologist_id}", response_model=Radiologist)
def put_radiologist(
    request: Request,
    radiologist_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9\-_.@]{1,64}$")],
    profile: Annotated[
        Radiologist, Body(openapi_examples={"attending": {"value": RADIOLOGIST_EXAMPLE}})
    ],
    _: Admin,
) -> Radiologist:
    """Create or replace a profile; one without ``key_id`` is bound to the service key."""
    state = app_state(request)
    if profile.id != radiologist_id:
        from reportdraft.api.errors import ApiError

        raise ApiError(422, "the profile's id must match the URL", code="invalid_request")
    profile = bind_default_key(profile, state.default_key())
    with state.db.write() as session:
        principals.put_radiologist(session, profile, now=state.clock())
    return profile


def bind_default_key(profile: Radiologist, key: object) -> Radiologist:
    """``profile`` with the service key's id when it names none."""
    key_id = getattr(key, "key_id", None)
    if profile.key_id is None and key_id is not None:
        return profile.model_copy(update={"key_id": key_id})
    return profile


@router.get("/radiologists", response_model=list[Radiologist])
def list_radiologists(request: Request, _: Admin) -> list[Radiologist]:
    """Every radiologist profile."""
    with app_state(request).db.read() as session:
        return principals.list_radiologists(session)


@router.post("/api-keys", response_model=ApiKeyOut, status_code=201)
def create_api_key(request: Request, body: ApiKeyRequest, _: Admin) -> ApiKeyOut:
    """Create a key; the response is the only place the key ever appears."""
    state = app_state(request)
    with state.db.write() as session:
        key, secret = principals.create_api_key(
            session,
            role=body.role,
            radiologist_id=body.radiologist_id,
            label=body.label,
            now=state.clock(),
        )
    return ApiKeyOut(id=key.id, role=key.role, radiologist_id=key.radiologist_id, key=secret)


@router.delete("/api-keys/{key_id}", status_code=204, response_class=Response)
def revoke_api_key(
    request: Request, key_id: Annotated[str, Path(pattern=r"^k-[0-9a-f]{16}$")], _: Admin
) -> Response:
    """Revoke a key at once."""
    with app_state(request).db.write() as session:
        principals.revoke_api_key(session, key_id)
    return Response(status_code=204)


@router.post("/webhooks", response_model=WebhookOut, status_code=201)
def create_webhook(request: Request, body: WebhookRequest, _: Admin) -> WebhookOut:
    """Subscribe a URL; the response carries the HMAC secret (only this once).

    The URL must pass the egress policy (``reportdraft.api.egress``): 422
    ``webhook_url_forbidden`` for an internal or non-https URL, 422
    ``webhook_url_unresolvable`` for a name that does not resolve.
    """
    state = app_state(request)
    state.egress().check_registration(str(body.url))
    with state.db.write() as session:
        hook = outbox.create_webhook(
            session,
            url=str(body.url),
            events=list(body.events),
            secret=body.secret,
            now=state.clock(),
        )
    return WebhookOut(
        id=hook.id, url=hook.url, events=hook.events, active=hook.active, secret=hook.secret
    )


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(request: Request, _: Admin) -> list[WebhookOut]:
    """Every subscription (without secrets)."""
    with app_state(request).db.read() as session:
        hooks = outbox.list_webhooks(session)
    return [WebhookOut(id=h.id, url=h.url, events=h.events, active=h.active) for h in hooks]


@router.delete("/webhooks/{webhook_id}", status_code=204, response_class=Response)
def delete_webhook(
    request: Request,
    webhook_id: Annotated[str, Path(pattern=r"^wh-[0-9a-f]{16}$")],
    _: Admin,
) -> Response:
    """Stop a subscription."""
    with app_state(request).db.write() as session:
        outbox.deactivate_webhook(session, webhook_id)
    return Response(status_code=204)
