"""Canonical bytes, detached Ed25519 signatures, and their verification.

What is signed is exactly :func:`canonical_bytes` of a version's JSON form without its
``signature`` field: keys sorted, no insignificant whitespace, UTF-8, no NaN. The JSON
form is the one the report file stores (``model_dump(mode="json")``), so verification
works on the stored document itself (:func:`verify_version_data` takes the parsed file,
not a re-serialisation through the model, which could normalise a tampered value back).

Against a ``keyring`` (key id → :class:`VerifyKey`) a signature must also be made with a
trusted key; when the keyring names the key's owner, the owner must be the radiologist the
version names as signer (or the addendum as author), so a profile copy carrying someone
else's key id does not pass; when it names a revocation time, the signature must have
been made before it. Problem codes:

======================== ================================================================
``signature_missing``    a signed version (or addendum) carries no signature
``signature_invalid``    bytes, key, value, or time of the signature do not check out
``signer_key_mismatch``  the signature's key is not the one in the signer's profile copy
``signature_untrusted``  the key is not in the keyring (or is another key under that id)
``key_not_signers``      the trusted key belongs to another radiologist than the signer
``key_revoked``          the signature was made at/after the key's revocation time
``chain_broken``         a version does not reference its predecessor's hash
``report_malformed``     the report has no versions or a malformed one
======================== ================================================================
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from reportdraft.attest.keys import SigningKey, VerifyKey, key_id_of
from reportdraft.models.report import Addendum, Report, ReportVersion, Signature, VersionRef

SIGNATURE_FIELD = "signature"


def canonical_bytes(data: object) -> bytes:
    """The canonical encoding of a JSON value: sorted keys, compact, UTF-8, finite numbers."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def payload_of(data: Mapping[str, object]) -> dict[str, object]:
    """A signed object's JSON form without its signature: what the signature covers."""
    return {k: v for k, v in data.items() if k != SIGNATURE_FIELD}


def signed_bytes(value: ReportVersion | Addendum) -> bytes:
    """The bytes a version's or addendum's signature covers."""
    return canonical_bytes(payload_of(value.model_dump(mode="json")))


def make_signature(payload: bytes, key: SigningKey, *, signed_at: datetime) -> Signature:
    """A detached signature over ``payload`` exactly as given."""
    return Signature(
        key_id=key.key_id,
        public_key=key.verify_key.public_b64,
        value=base64.b64encode(key.sign(payload)).decode("ascii"),
        signed_at=signed_at,
        payload_sha256=sha256_hex(payload),
    )


def sign_version(version: ReportVersion, key: SigningKey, *, signed_at: datetime) -> ReportVersion:
    """``version`` with a signature over its canonical bytes (every other field as given)."""
    unsigned = version.model_copy(update={"signature": None})
    signature = make_signature(signed_bytes(unsigned), key, signed_at=signed_at)
    return unsigned.model_copy(update={"signature": signature})


def sign_addendum(addendum: Addendum, key: SigningKey, *, signed_at: datetime) -> Addendum:
    """``addendum`` with its own signature over its canonical bytes."""
    unsigned = addendum.model_copy(update={"signature": None})
    signature = make_signature(signed_bytes(unsigned), key, signed_at=signed_at)
    return unsigned.model_copy(update={"signature": signature})


@dataclass(frozen=True)
class SignatureProblem:
    """Why a signature did not verify: a stable ``code`` and a sentence for people."""

    code: str
    detail: str


def verify_payload(
    payload: bytes,
    signature: Mapping[str, object] | Signature,
    *,
    keyring: Mapping[str, VerifyKey] | None = None,
    signer_id: object = None,
) -> list[SignatureProblem]:
    """Check a detached signature over ``payload``; an empty list means it verifies.

    Checks the payload hash, that the embedded public key has the stated key id, the
    Ed25519 signature itself and, when a ``keyring`` is given, that the key id is trusted,
    its public key is the one embedded, it belongs to ``signer_id`` (when the keyring
    names an owner) and was not revoked at ``signed_at`` (see :func:`key_binding_problems`).
    """
    sig = signature if isinstance(signature, Signature) else _parse_signature(signature)
    if sig is None:
        return [SignatureProblem("signature_invalid", "signature field is malformed")]
    problems = []
    if sha256_hex(payload) != sig.payload_sha256:
        problems.append(SignatureProblem("signature_invalid", "signed bytes changed (sha256)"))
    try:
        raw = base64.b64decode(sig.public_key, validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
        value = base64.b64decode(sig.value, validate=True)
    except (binascii.Error, ValueError):
        return [*problems, SignatureProblem("signature_invalid", "key or value not decodable")]
    if base64.b64encode(raw).decode() != sig.public_key or (
        base64.b64encode(value).decode() != sig.value
    ):
        problems.append(SignatureProblem("signature_invalid", "non-canonical base64"))
    if key_id_of(raw) != sig.key_id:
        problems.append(SignatureProblem("signature_invalid", "key id does not match its key"))
    try:
        public.verify(value, payload)
    except InvalidSignature:
        problems.append(SignatureProblem("signature_invalid", "Ed25519 signature does not verify"))
    if keyring is not None:
        trusted = keyring.get(sig.key_id)
        if trusted is None or trusted.public_b64 != sig.public_key:
            problems.append(
                SignatureProblem("signature_untrusted", f"key {sig.key_id} not trusted")
            )
        else:
            problems.extend(key_binding_problems(trusted, signer_id=signer_id, at=sig.signed_at))
    return problems


def key_binding_problems(
    trusted: VerifyKey, *, signer_id: object, at: datetime
) -> list[SignatureProblem]:
    """Whether trusted key ``trusted`` may stand for ``signer_id`` at time ``at``.

    The one rule for both directions: verification (``at`` is the signature's
    ``signed_at``) and signing (``at`` is the signing time, see
    ``reportdraft.attest.signoff_rules``). A key revoked at ``revoked_at`` covers only signatures
    made strictly before it. A key without a known owner (a bare PEM) is not checked for
    ownership.
    """
    problems = []
    if trusted.owner is not None and trusted.owner != signer_id:
        problems.append(
            SignatureProblem(
                "key_not_signers",
                f"key {trusted.key_id} belongs to {trusted.owner}, not to the signer {signer_id}",
            )
        )
    if trusted.revoked_at is not None and at >= trusted.revoked_at:
        problems.append(
            SignatureProblem(
                "key_revoked",
                f"key {trusted.key_id} was revoked at {trusted.revoked_at.isoformat()}",
            )
        )
    return problems


def _parse_signature(data: Mapping[str, object]) -> Signature | None:
    try:
        return Signature.model_validate(data)
    except ValueError:
        return None


def verify_version_data(
    data: Mapping[str, object], *, keyring: Mapping[str, VerifyKey] | None = None
) -> list[SignatureProblem]:
    """Verify one stored version (the parsed JSON object, as read from the file).

    Also checks that the signature's key is the one registered in the signer's profile
    (``signer.key_id``), which the signature covers.
    """
    signature = data.get(SIGNATURE_FIELD)
    if not isinstance(signature, Mapping):
        return [SignatureProblem("signature_missing", "version carries no signature")]
    signer = data.get("signer")
    problems = verify_payload(
        canonical_bytes(payload_of(data)), signature, keyring=keyring, signer_id=_id_of(signer)
    )
    transitions = _list(data.get("transitions"))
    last = transitions[-1] if transitions and isinstance(transitions[-1], Mapping) else {}
    if not _same_time(signature.get("signed_at"), last.get("at")):
        problems.append(
            SignatureProblem("signature_invalid", "signed_at is not the signed transition's time")
        )
    registered = signer.get("key_id") if isinstance(signer, Mapping) else None
    if registered != signature.get("key_id"):
        problems.append(
            SignatureProblem("signer_key_mismatch", "signature key is not the signer's key")
        )
    for index, addendum in enumerate(_list(data.get("addenda"))):
        if not isinstance(addendum, Mapping):
            problems.append(SignatureProblem("signature_invalid", f"addendum {index} malformed"))
            continue
        problems.extend(_verify_addendum_data(addendum, keyring))
    return problems


def _verify_addendum_data(
    addendum: Mapping[str, object], keyring: Mapping[str, VerifyKey] | None
) -> list[SignatureProblem]:
    label = f"addendum {addendum.get('id')}"
    signature = addendum.get(SIGNATURE_FIELD)
    if not isinstance(signature, Mapping):
        return [SignatureProblem("signature_missing", f"{label} carries no signature")]
    author = addendum.get("author")
    problems = verify_payload(
        canonical_bytes(payload_of(addendum)), signature, keyring=keyring, signer_id=_id_of(author)
    )
    if not _same_time(signature.get("signed_at"), addendum.get("created_at")):
        problems.append(SignatureProblem("signature_invalid", "signed_at is not created_at"))
    registered = author.get("key_id") if isinstance(author, Mapping) else None
    if registered != signature.get("key_id"):
        problems.append(SignatureProblem("signer_key_mismatch", f"{label}: not its author's key"))
    return [SignatureProblem(p.code, f"{label}: {p.detail}") for p in problems]


def _id_of(profile: object) -> object:
    """The ``id`` of a stored radiologist profile (None when there is none)."""
    return profile.get("id") if isinstance(profile, Mapping) else None


def _same_time(a: object, b: object) -> bool:
    """Two stored timestamps name the same instant (``signed_at`` is outside the signed
    bytes, so it must equal a time inside them)."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return False


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def version_ref(version: ReportVersion) -> VersionRef:
    """A reference to ``version``: its number and the sha256 of its whole canonical JSON."""
    return VersionRef(
        report_id=version.report_id,
        version=version.version,
        sha256=sha256_hex(canonical_bytes(version)),
    )


def verify_report_data(
    data: Mapping[str, object], *, keyring: Mapping[str, VerifyKey] | None = None
) -> list[SignatureProblem]:
    """Verify every signed version of a stored report and the links between versions.

    ``data`` is the parsed report file. Version *n* must reference version *n-1* by the
    sha256 of its canonical JSON, so replacing or editing an older version breaks the chain
    even when that version was re-signed.
    """
    versions = _list(data.get("versions"))
    if not versions:
        return [SignatureProblem("report_malformed", "report has no versions")]
    problems: list[SignatureProblem] = []
    for index, version in enumerate(versions):
        if not isinstance(version, Mapping):
            problems.append(SignatureProblem("report_malformed", f"version {index + 1} malformed"))
            continue
        label = f"version {index + 1}"
        if version.get(SIGNATURE_FIELD) is not None or index < len(versions) - 1:
            found = verify_version_data(version, keyring=keyring)
            problems.extend(SignatureProblem(p.code, f"{label}: {p.detail}") for p in found)
        if index > 0 and isinstance(versions[index - 1], Mapping):
            expected = sha256_hex(canonical_bytes(versions[index - 1]))
            previous = version.get("previous")
            linked = previous.get("sha256") if isinstance(previous, Mapping) else None
            if linked != expected:
                problems.append(
                    SignatureProblem("chain_broken", f"{label}: previous-version hash differs")
                )
    return problems


def verify_report(
    report: Report, *, keyring: Mapping[str, VerifyKey] | None = None
) -> list[SignatureProblem]:
    """Verify a report held as a model (its JSON form is what was stored and signed)."""
    return verify_report_data(report.model_dump(mode="json"), keyring=keyring)
