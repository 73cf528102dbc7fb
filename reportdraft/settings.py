"""Keyword-only, immutable configuration, built once from the environment at start-up.

Nothing below the CLI/API entry points reads ``os.environ``: they build a ``Settings`` and
pass it (or the values it holds) down. Environment variables:

=========================  ===================================================
REPORTDRAFT_BACKEND        default backend name (``llamacpp``)
REPORTDRAFT_MODEL          model path/name for the backend
REPORTDRAFT_BASE_URL       OpenAI-compatible server URL (vLLM, llama.cpp server); several
                           replicas of one model separated by commas
REPORTDRAFT_DIALECT        ``vllm`` or ``llamacpp`` (how the schema constraint is spelled)
REPORTDRAFT_API_KEY        bearer key for the model server (falls back to OPENAI_API_KEY)
REPORTDRAFT_TEMPLATES      extra template directories (os.pathsep-separated), site overrides
REPORTDRAFT_DATABASE_URL   SQLAlchemy URL of the service database
REPORTDRAFT_SIGNING_KEY    PEM private key (path or PEM text): the CLI ``sign --key`` only
REPORTDRAFT_TRUSTED_KEYS   trusted public keys for ``render`` (os.pathsep-separated PEM files,
                           key documents or folders of them)
REPORTDRAFT_DATA           folder of public report text for eval suites
REPORTDRAFT_CLOCK_SKEW_S   seconds a client clock may run ahead (critical-result times)
REPORTDRAFT_WEBHOOK_ALLOW  internal webhook hosts allowed (comma-separated host or host:port)
REPORTDRAFT_ROUTINE_TAT_MIN  turnaround target of a routine study in minutes (worklist
                           clock; default 1440; STAT is always 30)
REPORTDRAFT_CRITICAL_DIR   the site's critical-finding files: ``lexicon.yaml`` over the
                           bundled lexicon; ``context_rules.yaml``, ``sections.yaml``,
                           ``alert_policy.yaml`` replace the bundled files
=========================  ===================================================

``REPORTDRAFT_DRAFT_CONCURRENCY`` is how many pieces of one draft are sent to the model at
once (a whole number from 1 to 256; default: the backend's, 1 for an in-process model, 8
for a server).

The service signs as each radiologist with their own key, stored sealed (AES-256-GCM)
under a key-encryption key (KEK); ``reportdraft.store.signing_keys`` decodes these
variables and reads the files (here they are text only). The API ignores
``REPORTDRAFT_SIGNING_KEY``.

=============================================  ==========================================
REPORTDRAFT_KEY_ENCRYPTION_KEY                 base64 of 32 random bytes: the KEK
REPORTDRAFT_KEY_ENCRYPTION_KEY_FILE            a file holding that base64 instead
REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS       earlier KEKs (base64, comma-separated),
                                               accepted to unseal only, until
                                               ``reportdraft keys rewrap``
REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS_FILE  a file with one earlier KEK per line
=============================================  ==========================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reportdraft.errors import ConfigurationError

DEFAULT_CLOCK_SKEW_S = 120.0
"""How far (seconds) a client's clock may run ahead of ours before a critical-result time is
refused as being in the future; ``reportdraft.critical.closed_loop`` uses it too."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Process-wide configuration; see the module docstring for the variables."""

    backend: str = "llamacpp"
    model: str | None = None
    base_url: str | None = None
    dialect: str | None = None
    api_key: str | None = None
    template_dirs: tuple[Path, ...] = ()
    database_url: str = "sqlite:///reportdraft.db"
    signing_key: str | None = None
    trusted_keys: tuple[Path, ...] = ()
    key_encryption_key: str | None = field(default=None, repr=False)
    key_encryption_key_file: Path | None = None
    key_encryption_keys_previous: tuple[str, ...] = field(default=(), repr=False)
    key_encryption_keys_previous_file: Path | None = None
    data_dir: Path | None = None
    webhook_allow: tuple[str, ...] = ()
    model_timeout_s: float = 120.0
    max_model_calls: int = 2
    draft_concurrency: int | None = None
    clock_skew_s: float = DEFAULT_CLOCK_SKEW_S
    critical_dir: Path | None = None
    routine_tat_min: int = 1440

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        dirs = tuple(Path(p) for p in env.get("REPORTDRAFT_TEMPLATES", "").split(os.pathsep) if p)
        data = env.get("REPORTDRAFT_DATA")
        skew = env.get("REPORTDRAFT_CLOCK_SKEW_S")
        critical_dir = env.get("REPORTDRAFT_CRITICAL_DIR")
        concurrency = env.get("REPORTDRAFT_DRAFT_CONCURRENCY")
        kek_file = env.get("REPORTDRAFT_KEY_ENCRYPTION_KEY_FILE")
        previous_file = env.get("REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS_FILE")
        previous = env.get("REPORTDRAFT_KEY_ENCRYPTION_KEYS_PREVIOUS", "")
        return cls(
            backend=env.get("REPORTDRAFT_BACKEND", "llamacpp"),
            model=env.get("REPORTDRAFT_MODEL") or None,
            base_url=env.get("REPORTDRAFT_BASE_URL") or None,
            dialect=env.get("REPORTDRAFT_DIALECT") or None,
            api_key=env.get("REPORTDRAFT_API_KEY") or env.get("OPENAI_API_KEY") or None,
            template_dirs=dirs,
            database_url=env.get("REPORTDRAFT_DATABASE_URL", "sqlite:///reportdraft.db"),
            signing_key=env.get("REPORTDRAFT_SIGNING_KEY") or None,
            trusted_keys=tuple(
                Path(p) for p in env.get("REPORTDRAFT_TRUSTED_KEYS", "").split(os.pathsep) if p
            ),
            key_encryption_key=env.get("REPORTDRAFT_KEY_ENCRYPTION_KEY") or None,
            key_encryption_key_file=Path(kek_file) if kek_file else None,
            key_encryption_keys_previous=tuple(k for k in previous.split(",") if k.strip()),
            key_encryption_keys_previous_file=Path(previous_file) if previous_file else None,
            data_dir=Path(data) if data else None,
            clock_skew_s=_skew(skew) if skew else DEFAULT_CLOCK_SKEW_S,
            draft_concurrency=_concurrency(concurrency) if concurrency else None,
            critical_dir=Path(critical_dir) if critical_dir else None,
            routine_tat_min=_minutes(env.get("REPORTDRAFT_ROUTINE_TAT_MIN")),
            webhook_allow=tuple(
                h.strip() for h in env.get("REPORTDRAFT_WEBHOOK_ALLOW", "").split(",") if h.strip()
            ),
        )


def _minutes(text: str | None) -> int:
    """``REPORTDRAFT_ROUTINE_TAT_MIN``: whole minutes from 1 to 10080 (a week); default 1440."""
    if not text:
        return 1440
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(
            f"REPORTDRAFT_ROUTINE_TAT_MIN must be minutes, not {text!r}"
        ) from None
    if not 1 <= value <= 10080:
        raise ConfigurationError("REPORTDRAFT_ROUTINE_TAT_MIN must be from 1 to 10080 minutes")
    return value


def _skew(text: str) -> float:
    """``REPORTDRAFT_CLOCK_SKEW_S`` as seconds: a number from 0 to 3600 (an hour is
    already far more than any clock drift; a larger value would let invented future
    times through)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise ConfigurationError(
            f"REPORTDRAFT_CLOCK_SKEW_S must be seconds between 0 and 3600, got {text!r}"
        )
    return value


MAX_DRAFT_CONCURRENCY = 256
"""Upper bound of ``REPORTDRAFT_DRAFT_CONCURRENCY``: a draft has a handful of pieces, so a
larger number is a typo, not a plan."""


def _concurrency(text: str) -> int:
    """``REPORTDRAFT_DRAFT_CONCURRENCY`` as a whole number from 1 to 256."""
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_DRAFT_CONCURRENCY:
        raise ConfigurationError(
            f"REPORTDRAFT_DRAFT_CONCURRENCY must be a whole number from 1 to "
            f"{MAX_DRAFT_CONCURRENCY}, got {text!r}"
        )
    return int(text)
