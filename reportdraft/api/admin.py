"""Admin endpoints: API keys, radiologist profiles and keys, webhooks; and health.

API keys and webhook subscriptions carry a facility scope (see ``reportdraft.api.auth``):
a new non-admin key or a new subscription must name ``facilities`` or set
``all_facilities``; ``PATCH /v1/admin/api-keys/{id}`` (re)assigns a key's scope, which is
how keys created before scoping are put back to work.

Radiologist signing keys (see ``reportdraft.store.signing_keys``): ``PUT
/v1/admin/radiologists/{id}`` makes the radiologist's key pair when they have no active
key and sets the profile's ``key_id`` itself (a client-supplied ``key_id`` must be one of
that radiologist's unrevoked keys); ``POST .../keys`` rotates (a new active key);
``POST .../keys/{key_id}/revoke`` revokes with a reason. Private keys never leave the
service; responses carry key documents (public key, owner, times).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request, Response

from reportdraft.api.auth import Principal, app_state, require
from reportdraft.api.routes import ERRORS, RadiologistId
from reportdraft.api.schemas import (
    RADIOLOGIST_EXAMPLE,
    ApiKeyInfo,
    ApiKeyOut,
    ApiKeyRequest,
    ApiKeyScopeRequest,
    Health,
    KeyRevokeRequest,
    WebhookOut,
    WebhookRequest,
)
from reportdraft.attest import KeyDocument
from reportdraft.models.report import KeyId, Radiologist
from reportdraft.store import jobs, outbox, principals, signing_keys
from reportdraft.store.principals import Role

router = APIRouter(prefix="/v1/admin", responses=ERRORS)
public = APIRouter()
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
ApiKeyId = Annotated[str, Path(pattern=r"^k-[0-9a-f]{16}$")]


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
    radiologist_id: RadiologistId,
    profile: Annotated[
        Radiologist, Body(openapi_examples={"attending": {"value": RADIOLOGIST_EXAMPLE}})
    ],
    _: Admin,
) -> Radiologist:
    """Create or replace a profile; the service binds it to the radiologist's own key.

    A radiologist without an active key gets a new key pair (its private half sealed under
    the KEK; 500 ``kek_missing`` when none is configured, nothing written). The returned
    profile's ``key_id`` is the active key's.
    """
    state = app_state(request)
    if profile.id != radiologist_id:
        from reportdraft.api.error_bodies import ApiError

        raise ApiError(422, "the profile's id must match the URL", code="invalid_request")
    with state.db.write() as session:
        return signing_keys.register_profile(session, profile, keks=state.keks, now=state.clock())


@router.post("/radiologists/{radiologist_id}/keys", response_model=KeyDocument, status_code=201)
def rotate_radiologist_key(
    request: Request, radiologist_id: RadiologistId, _: Admin
) -> KeyDocument:
    """Make a new key the radiologist's active one; earlier keys stay valid for what they
    signed (revoke one separately if it was compromised)."""
    state = app_state(request)
    with state.db.write() as session:
        key = signing_keys.rotate_key(session, radiologist_id, keks=state.keks, now=state.clock())
    return key.document()


@router.post("/radiologists/{radiologist_id}/keys/{key_id}/revoke", response_model=KeyDocument)
def revoke_radiologist_key(
    request: Request,
    radiologist_id: RadiologistId,
    key_id: Annotated[KeyId, Path()],
    body: KeyRevokeRequest,
    _: Admin,
) -> KeyDocument:
    """Revoke a key now: what it signed before still verifies; it signs nothing more."""
    state = app_state(request)
    with state.db.write() as session:
        key = signing_keys.revoke_key(
            session, radiologist_id, key_id, at=state.clock(), reason=body.reason
        )
    return key.document()


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
            facilities=body.facilities,
            all_facilities=body.all_facilities,
            now=state.clock(),
        )
    return ApiKeyOut(
        id=key.id,
        role=key.role,
        radiologist_id=key.radiologist_id,
        key=secret,
        facilities=sorted(key.facilities),
        all_facilities=key.all_facilities,
    )


@router.get("/api-keys", response_model=list[ApiKeyInfo])
def list_api_keys(request: Request, _: Admin) -> list[ApiKeyInfo]:
    """Every key with its scope (never a secret): find the keys still to be scoped."""
    with app_state(request).db.read() as session:
        keys = principals.list_api_keys(session)
    return [_key_info(k) for k in keys]


@router.patch("/api-keys/{key_id}", response_model=ApiKeyInfo)
def scope_api_key(
    request: Request, key_id: ApiKeyId, body: ApiKeyScopeRequest, _: Admin
) -> ApiKeyInfo:
    """Replace a key's facility scope: ``facilities`` or ``all_facilities`` (not admin keys)."""
    with app_state(request).db.write() as session:
        key = principals.set_key_scope(
            session, key_id, facilities=body.facilities, all_facilities=body.all_facilities
        )
    return _key_info(key)


def _key_info(key: principals.ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=key.id,
        role=key.role,
        radiologist_id=key.radiologist_id,
        label=key.label,
        revoked=key.revoked,
        created_at=key.created_at,
        facilities=sorted(key.facilities),
        all_facilities=key.all_facilities,
        scoped=key.scope.assigned,
    )


@router.delete("/api-keys/{key_id}", status_code=204, response_class=Response)
def revoke_api_key(request: Request, key_id: ApiKeyId, _: Admin) -> Response:
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
            scope=principals.facility_scope(body.facilities, body.all_facilities),
            secret=body.secret,
            now=state.clock(),
        )
    return _hook_out(hook, secret=hook.secret)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(request: Request, _: Admin) -> list[WebhookOut]:
    """Every subscription (without secrets)."""
    with app_state(request).db.read() as session:
        hooks = outbox.list_webhooks(session)
    return [_hook_out(h) for h in hooks]


def _hook_out(hook: outbox.Webhook, *, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=hook.events,
        active=hook.active,
        facilities=sorted(hook.scope.facilities),
        all_facilities=hook.scope.all_facilities,
        secret=secret,
    )


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
