"""Model backends behind one small interface, found by name.

Usage (what the drafter and the CLI do)::

    from reportdraft.backends import BackendOptions, GenerationRequest, ChatMessage
    from reportdraft.backends import create_backend

    backend = create_backend("llamacpp", BackendOptions(n_ctx=4096))
    out = backend.generate(GenerationRequest(
        messages=[ChatMessage(role="user", content="...")],
        json_schema=schema, max_tokens=512))

Importing this package imports no model runtime: ``llama_cpp``, ``torch``,
``transformers`` and ``vllm`` are imported by the backend that needs them, when it is
built. Built-in names: ``llamacpp`` (embedded default), ``vllm`` / ``openai``
(OpenAI-compatible HTTP server), ``transformers``, ``vllm-offline``, ``rules``.

:class:`FakeBackend` (a scripted model for tests, built with its answers and passed in as
an instance) is exported here but has no name in the registry: see
:mod:`reportdraft.backends.fake` for why.
"""

from reportdraft.backends.fake import FakeBackend
from reportdraft.backends.interface import (
    EMBEDDED_GGUF_NAME,
    MAX_TOKENS_LIMIT,
    Backend,
    BackendOptions,
    ChatMessage,
    Dialect,
    Generation,
    GenerationRequest,
    embedded_model_path,
)
from reportdraft.backends.registry import (
    backend_names,
    create_backend,
    register,
    resolve_backend_class,
)

__all__ = [
    "EMBEDDED_GGUF_NAME",
    "MAX_TOKENS_LIMIT",
    "Backend",
    "BackendOptions",
    "ChatMessage",
    "Dialect",
    "FakeBackend",
    "Generation",
    "GenerationRequest",
    "backend_names",
    "create_backend",
    "embedded_model_path",
    "register",
    "resolve_backend_class",
]
