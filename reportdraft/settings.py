"""Keyword-only, immutable configuration, built once from the environment at start-up.

Nothing below the CLI/API entry points reads ``os.environ``: they build a ``Settings`` and
pass it (or the values it holds) down. Environment variables:

=========================  ===================================================
REPORTDRAFT_BACKEND        default backend name (``llamacpp``)
REPORTDRAFT_MODEL          model path/name for the backend
REPORTDRAFT_BASE_URL       OpenAI-compatible server URL (vLLM, llama.cpp server)
REPORTDRAFT_DIALECT        ``vllm`` or ``llamacpp`` (how the schema constraint is spelled)
REPORTDRAFT_API_KEY        bearer key for the model server (falls back to OPENAI_API_KEY)
REPORTDRAFT_TEMPLATES      extra template directories (os.pathsep-separated), site overrides
REPORTDRAFT_DATABASE_URL   SQLAlchemy URL of the service database
REPORTDRAFT_SIGNING_KEY    path to a PEM private key, or the PEM itself
REPORTDRAFT_DATA           folder of public report text for eval suites
REPORTDRAFT_WEBHOOK_ALLOW  internal webhook hosts allowed (comma-separated host or host:port)
=========================  ===================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


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
    data_dir: Path | None = None
    webhook_allow: tuple[str, ...] = ()
    model_timeout_s: float = 120.0
    max_model_calls: int = 2
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        dirs = tuple(Path(p) for p in env.get("REPORTDRAFT_TEMPLATES", "").split(os.pathsep) if p)
        data = env.get("REPORTDRAFT_DATA")
        return cls(
            backend=env.get("REPORTDRAFT_BACKEND", "llamacpp"),
            model=env.get("REPORTDRAFT_MODEL") or None,
            base_url=env.get("REPORTDRAFT_BASE_URL") or None,
            dialect=env.get("REPORTDRAFT_DIALECT") or None,
            api_key=env.get("REPORTDRAFT_API_KEY") or env.get("OPENAI_API_KEY") or None,
            template_dirs=dirs,
            database_url=env.get("REPORTDRAFT_DATABASE_URL", "sqlite:///reportdraft.db"),
            signing_key=env.get("REPORTDRAFT_SIGNING_KEY") or None,
            data_dir=Path(data) if data else None,
            webhook_allow=tuple(
                h.strip() for h in env.get("REPORTDRAFT_WEBHOOK_ALLOW", "").split(",") if h.strip()
            ),
        )
