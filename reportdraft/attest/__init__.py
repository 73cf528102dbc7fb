"""Attestation: the report lifecycle, sign-off rules, signatures, addenda and the audit log.

The public API (everything else in the package is internal)::

    report = open_report(case, draft, by="u1", at=now)          # version 1, status draft
    report = edit(report, signoff, by="u1", at=now)             # only while draft
    report = sign(report, to_status=ReportStatus.FINAL, signer=profile, key=key, at=now)
    report = sign(report, to_status=ReportStatus.AMENDED, signoff=changes, reason="...", ...)
    report = add_addendum(report, text="...", author=profile, key=key, at=now)
    problems = verify_report(report, keyring={key.key_id: key.verify_key})
    problems = verify_report(report, keyring=load_trusted_keys("published-keys/"))
    AuditLog(path).append(events_for(before, report, actor="u1", at=now))
    verify_chain(read_log(path))

A refusal is :class:`reportdraft.errors.AttestationRefused` with every failing reason
code in ``.reasons`` (see :mod:`reportdraft.attest.signoff_rules` for the codes).
"""

from reportdraft.attest.audit_log import (
    AuditAction,
    AuditEntry,
    AuditEvent,
    AuditLog,
    ChainCheck,
    events_for,
    read_log,
    verify_chain,
)
from reportdraft.attest.changes import AcknowledgementInput, SignOff, StatementEdit
from reportdraft.attest.keys import (
    KeyDocument,
    SigningKey,
    VerifyKey,
    generate_signing_key,
    key_id_of,
    load_signing_key,
    load_trusted_keys,
    load_verify_key,
    write_key_files,
)
from reportdraft.attest.lifecycle import (
    TRANSITIONS,
    add_addendum,
    can_transition,
    edit,
    open_report,
    sign,
)
from reportdraft.attest.signing import (
    SignatureProblem,
    canonical_bytes,
    signed_bytes,
    verify_report,
    verify_report_data,
    verify_version_data,
    version_ref,
)
from reportdraft.attest.signoff_rules import Refusal, SigningPolicy, check_signoff, default_policy

__all__ = [
    "TRANSITIONS",
    "AcknowledgementInput",
    "AuditAction",
    "AuditEntry",
    "AuditEvent",
    "AuditLog",
    "ChainCheck",
    "KeyDocument",
    "Refusal",
    "SignOff",
    "SignatureProblem",
    "SigningKey",
    "SigningPolicy",
    "StatementEdit",
    "VerifyKey",
    "add_addendum",
    "can_transition",
    "canonical_bytes",
    "check_signoff",
    "default_policy",
    "edit",
    "events_for",
    "generate_signing_key",
    "key_id_of",
    "load_signing_key",
    "load_trusted_keys",
    "load_verify_key",
    "open_report",
    "read_log",
    "sign",
    "signed_bytes",
    "verify_chain",
    "verify_report",
    "verify_report_data",
    "verify_version_data",
    "version_ref",
    "write_key_files",
]
