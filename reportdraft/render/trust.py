"""What may be rendered, and as what: verified signed reports, or watermarked draft previews.

A rendering that says "Electronically signed by ..." (PDF), ``final`` (FHIR) or OBR-25 ``F``
(HL7) is a claim that a radiologist attested exactly this text. Two rules keep the claim
true, and both live here so every renderer and every entry point (CLI, API, demo) applies
the same ones:

* :func:`verified_report` checks every signature and version link of a report *as stored*
  (the parsed JSON, before any model normalises it) against a keyring of trusted keys, and
  only then builds the :class:`~reportdraft.models.Report`. A report that fails is refused
  with :class:`SignatureInvalidError`; a signed report with no trusted keys at all is
  refused with :class:`NoTrustedKeysError` (verification is never skipped).
* :func:`is_preview` decides that an unsigned version renders as a preview (watermarked
  DRAFT / NOT FOR CLINICAL USE, no signature block, no final status), and
  :func:`renderable` refuses (:class:`NotSignedError`) to render an unsigned version unless
  the caller asked for a preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reportdraft.attest.keys import VerifyKey
from reportdraft.attest.signing import SignatureProblem, verify_report_data
from reportdraft.errors import ConfigurationError, InputError, RenderError, ReportDraftError
from reportdraft.io import parse_model
from reportdraft.models import Report, ReportStatus, ReportVersion

PREVIEW_LABEL = "DRAFT - NOT FOR CLINICAL USE"
"""The marker every preview rendering carries (PDF watermark and banner, HL7 note, FHIR tag)."""


class SignatureInvalidError(ReportDraftError):
    """A signature or version link of the report does not verify against the trusted keys.

    ``problems`` holds every problem found (the message names the first); ``details`` is
    their JSON form for the API's error body.
    """

    code = "signature_invalid"
    http_status = 409

    def __init__(self, problems: list[SignatureProblem]) -> None:
        first = problems[0]
        suffix = "" if first.code == self.code else f" [{first.code}]"
        super().__init__(f"{first.detail}{suffix}")
        self.problems = list(problems)
        self.details: dict[str, Any] = {
            "problems": [{"code": p.code, "detail": p.detail} for p in problems]
        }


class NoTrustedKeysError(ConfigurationError):
    """A signed report was to be rendered but no trusted key was configured to verify it."""

    code = "no_trusted_keys"


class NotSignedError(RenderError):
    """An unsigned version was to be rendered as if it were signed (ask for a preview)."""

    code = "not_signed"
    http_status = 409


def is_preview(version: ReportVersion) -> bool:
    """True when ``version`` can only be rendered as a preview: it carries no signature.

    The signature, not the status, decides: a rendering may look signed only when there
    is a signature to back it.
    """
    return version.signature is None


def renderable(report: Report | ReportVersion, *, preview: bool) -> ReportVersion:
    """The version to render (the current one), refusing an unsigned one unless ``preview``.

    ``preview`` is the caller's permission to render an unsigned draft as a preview; a
    signed version renders as signed either way (it was verified before it got here).
    """
    version = report.current if isinstance(report, Report) else report
    if is_preview(version) and not preview:
        raise NotSignedError(
            f"report {version.report_id} v{version.version} is a draft (not signed): only "
            "signed versions are rendered for delivery; ask for a preview to see the draft"
        )
    return version


def _versions(data: Mapping[str, object]) -> list[object]:
    versions = data.get("versions")
    return list(versions) if isinstance(versions, list) else []


def needs_verification(data: Mapping[str, object]) -> bool:
    """False only for a report that is a single unsigned draft version (nothing to verify).

    Anything else (a signature anywhere, more than one version, a status other than
    draft) must be verified against trusted keys before it is rendered.
    """
    versions = _versions(data)
    if len(versions) != 1 or not isinstance(versions[0], Mapping):
        return True
    only = versions[0]
    return only.get("signature") is not None or only.get("status") != ReportStatus.DRAFT.value


def verified_report(data: object, keyring: Mapping[str, VerifyKey] | None) -> Report:
    """The report in ``data`` (a parsed report file), once everything signed in it verifies.

    Verifies the stored JSON itself (not a re-serialised model, which could normalise a
    tampered value back), then validates the model. A current version whose status claims
    a signature it does not carry is a signature problem too.
    """
    if not isinstance(data, Mapping):
        raise InputError("a report file must hold a JSON object")
    versions = _versions(data)
    if not versions or not all(isinstance(v, Mapping) for v in versions):
        # Not a report at all (nothing to verify): say so before asking for keys.
        raise InputError("report: versions: a report holds a non-empty list of version objects")
    if needs_verification(data):
        if not keyring:
            raise NoTrustedKeysError(
                "the report is signed but no trusted public key is configured: pass --trust "
                "PEM|DIR or set REPORTDRAFT_TRUSTED_KEYS (a signed report is never rendered "
                "unverified)"
            )
        problems = verify_report_data(data, keyring=keyring)
        current = versions[-1]
        if (
            isinstance(current, Mapping)
            and current.get("signature") is None
            and current.get("status") != ReportStatus.DRAFT.value
        ):
            problems.append(
                SignatureProblem(
                    "signature_missing",
                    f"version {len(versions)}: status {current.get('status')!r} but no signature",
                )
            )
        if problems:
            raise SignatureInvalidError(problems)
    return parse_model(Report, data, error=InputError, what="report")
