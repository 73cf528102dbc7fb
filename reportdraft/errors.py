"""One exception tree for reportdraft.

Every error a caller can act on is a subclass of :class:`ReportDraftError` and carries a
stable ``code`` (the API returns it in its error body, the CLI prints it) and the HTTP
status the API maps it to::

    ReportDraftError
    ├── ConfigurationError          500  configuration_error
    │   └── NoTrustedKeysError      500  no_trusted_keys      (a signed report, no key to verify)
    ├── InputError                  422  invalid_input
    │   ├── CaseValidationError     422  invalid_case
    │   ├── EncodingError           422  encoding_error       (not UTF-8: UTF-16/32, binary)
    │   ├── EmptyDictationError     422  empty_dictation
    │   ├── PayloadTooLargeError    413  payload_too_large
    │   └── TemplateNotFoundError   422  template_not_found
    ├── TemplateError               500  template_invalid     (a malformed bundled/site template)
    ├── BackendError                502  backend_error
    │   ├── BackendUnavailableError 503  backend_unavailable  (missing extra, server down)
    │   └── BackendTimeoutError     504  backend_timeout
    ├── DraftValidationError        422  draft_invalid
    ├── AttestationRefused          409  attestation_refused  (reason codes in ``reasons``)
    ├── ConflictError               409  conflict
    │   └── OutputExistsError       409  output_exists        (would replace a file; --force)
    ├── FileSystemError             500  io_error             (cannot read/write a path)
    ├── NotFoundError               404  not_found
    ├── SignatureInvalidError       409  signature_invalid    (``problems``; not rendered)
    └── RenderError                 500  render_error
        └── NotSignedError          409  not_signed           (an unsigned draft; ask a preview)

The three rendering errors live with the rule that raises them,
``reportdraft.render.trust`` (they carry the verifier's problems).
"""

from __future__ import annotations


class ReportDraftError(Exception):
    """Base of every error reportdraft raises on purpose."""

    code = "reportdraft_error"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigurationError(ReportDraftError):
    """Settings, keys or site files are missing or inconsistent."""

    code = "configuration_error"
    http_status = 500


class InputError(ReportDraftError):
    """The caller's input is wrong; nothing was written."""

    code = "invalid_input"
    http_status = 422


class CaseValidationError(InputError):
    """A case failed validation; the message names the field(s)."""

    code = "invalid_case"


class EmptyDictationError(InputError):
    """The dictation holds no words once spoken commands are removed."""

    code = "empty_dictation"


class PayloadTooLargeError(InputError):
    """An input exceeds a configured size limit."""

    code = "payload_too_large"
    http_status = 413


class EncodingError(InputError):
    """A text input is not UTF-8 (a UTF-16/32 byte-order mark, NUL bytes, invalid bytes).

    UTF-8 with a byte-order mark is accepted; anything else is refused by name rather than
    read as mojibake, so the caller knows to re-save the file as UTF-8.
    """

    code = "encoding_error"


class TemplateNotFoundError(InputError):
    """No template fits the case; the message says what was looked for."""

    code = "template_not_found"


class TemplateError(ReportDraftError):
    """A template file is malformed. Raised at load time so a bad site file fails loudly."""

    code = "template_invalid"
    http_status = 500


class BackendError(ReportDraftError):
    """A model backend failed in a way drafting cannot hide (drafting itself falls back)."""

    code = "backend_error"
    http_status = 502


class BackendUnavailableError(BackendError):
    """The backend cannot be used: an extra is not installed or the server is unreachable."""

    code = "backend_unavailable"
    http_status = 503


class BackendTimeoutError(BackendError):
    """The backend did not answer in time."""

    code = "backend_timeout"
    http_status = 504


class DraftValidationError(ReportDraftError):
    """A draft document does not validate or does not belong to its case."""

    code = "draft_invalid"
    http_status = 422


class AttestationRefused(ReportDraftError):  # noqa: N818 - names the outcome callers handle
    """A sign-off rule refused the transition; ``reasons`` holds stable reason codes."""

    code = "attestation_refused"
    http_status = 409

    def __init__(
        self,
        message: str,
        *,
        reasons: list[str] | None = None,
        refusals: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.reasons = list(reasons or [])
        self.refusals = list(refusals or [])
        """Every failed rule as (code, detail), in the order the rules ran: what a page
        lists for the radiologist, one line per rule."""


class ConflictError(ReportDraftError):
    """The resource changed underneath the caller (stale ETag, concurrent sign)."""

    code = "conflict"
    http_status = 409


class OutputExistsError(ConflictError):
    """An output path already holds a file that the command will not replace on its own.

    A signed report is a record: replacing one by accident loses a signature, so the CLI
    refuses unless the caller says ``--force``.
    """

    code = "output_exists"


class FileSystemError(ReportDraftError):
    """A path cannot be read or written (not a directory, permission, read-only, no space).

    The message names the path and the reason; nothing was left half-written.
    """

    code = "io_error"
    http_status = 500


class NotFoundError(ReportDraftError):
    """The resource does not exist."""

    code = "not_found"
    http_status = 404


class RenderError(ReportDraftError):
    """A renderer could not produce a valid document."""

    code = "render_error"
    http_status = 500
