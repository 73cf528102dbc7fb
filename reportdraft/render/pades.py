"""PAdES signature of the report PDF with the radiologist's own Ed25519 key (pyHanko, optional).

The attestation already signs the report's canonical JSON; this puts a standard PDF
signature on the rendered document too, so any PDF reader shows who signed it and that it
was not changed since. Our keys are bare Ed25519 keys without a CA, so the certificate is
self-signed from the radiologist's profile (name, NPI) and valid for the signing day: a
reader shows the signature as intact but from an untrusted identity until a site issues
real certificates (pass ``certificate`` then). Attachments (e.g. the FHIR JSON) are
embedded in the same incremental update, so the signature covers them.

pyHanko is an optional extra (``pip install pyhanko``); without it :func:`sign_pdf` raises
:class:`RenderError` with the install hint.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from reportdraft.attest import SigningKey
from reportdraft.errors import RenderError
from reportdraft.models.report import Radiologist

FIELD_NAME = "RadiologistSignature"


def self_signed_certificate(key: SigningKey, signer: Radiologist, *, at: datetime) -> bytes:
    """A DER X.509 certificate for ``key`` naming ``signer``, valid a day either side of ``at``."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, signer.display()[:64])]
    if signer.npi:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"NPI {signer.npi}"))
    name = x509.Name(attributes)
    public = key.private.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(int(key.key_id[:16], 16))
        .not_valid_before(at - timedelta(days=1))
        .not_valid_after(at + timedelta(days=1))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key.private, algorithm=None)
    )
    return cert.public_bytes(serialization.Encoding.DER)


def _pyhanko() -> dict[str, Any]:
    try:
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from pyhanko.pdf_utils import embed
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore
    except ImportError as exc:
        raise RenderError(
            "PAdES signing needs pyHanko: pip install pyhanko", code="render_error"
        ) from exc
    return {
        "asn1_keys": asn1_keys,
        "asn1_x509": asn1_x509,
        "embed": embed,
        "writer": IncrementalPdfFileWriter,
        "fields": fields,
        "signers": signers,
        "store": SimpleCertificateStore,
    }


def sign_pdf(
    pdf: bytes,
    *,
    key: SigningKey,
    signer: Radiologist,
    at: datetime | None = None,
    reason: str = "Radiology report attestation",
    attachments: Mapping[str, tuple[bytes, str]] | None = None,
    certificate: bytes | None = None,
) -> bytes:
    """``pdf`` with ``attachments`` (name → (data, MIME type)) embedded and a PAdES signature.

    ``key`` must be the key registered in ``signer``'s profile (checked here, as the
    attestation does). ``certificate`` is a DER certificate for ``key``; a self-signed one
    is made when None.
    """
    if signer.key_id is not None and signer.key_id != key.key_id:
        raise RenderError(f"key {key.key_id} is not {signer.id}'s registered key")
    lib = _pyhanko()
    at = at or datetime.now(UTC)
    der = certificate or self_signed_certificate(key, signer, at=at)
    cert = lib["asn1_x509"].Certificate.load(der)
    private = lib["asn1_keys"].PrivateKeyInfo.load(
        key.private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    try:
        writer = lib["writer"](io.BytesIO(pdf))
        embed = lib["embed"]
        for name, (data, mime) in (attachments or {}).items():
            embed.embed_file(
                writer,
                embed.FileSpec(
                    file_spec_string=name,
                    file_name=name,
                    embedded_data=embed.EmbeddedFileObject.from_file_data(
                        writer, data=data, mime_type=mime
                    ),
                    description=f"{name} ({mime})",
                ),
            )
        simple = lib["signers"].SimpleSigner(
            signing_cert=cert,
            signing_key=private,
            cert_registry=lib["store"].from_certs([cert]),
        )
        meta = lib["signers"].PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha512",
            subfilter=lib["fields"].SigSeedSubFilter.PADES,
            reason=reason,
            name=signer.display(),
        )
        out = lib["signers"].sign_pdf(writer, meta, signer=simple)
    except RenderError:
        raise
    except Exception as exc:  # pyHanko raises many error classes; all mean "not signed"
        raise RenderError(f"PAdES signing failed: {exc}") from exc
    return bytes(out.getvalue())
