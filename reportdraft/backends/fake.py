"""``FakeBackend``: a scripted model, handed to drafting where a real backend would be.

The model-drafting paths -- a valid answer, a re-ask after an answer that does not parse, an
answer cut at ``max_tokens``, an answer that drops or invents a source, a backend that
fails -- are decided by :mod:`reportdraft.drafting.model_rewrite`, not by the runtime.
Exercising them through llama.cpp costs seconds per call and depends on what a 135M model
happens to write; a scripted backend makes each path a fast, exact unit test. The design
follows httpx's ``MockTransport``: the fake is built with its script and passed in as an
instance, and it keeps every request it received so a test can check what drafting sent.

A script is either

* a sequence of answers, consumed one per request in order, or
* a handler ``(request) -> answer``; :func:`keyed` builds one that answers by the choices
  the request's JSON schema allows (for drafting: the source ids of the piece being
  rewritten), so a test does not depend on the order in which pieces are drafted.

An answer is the text the model returns (``finish_reason`` ``stop``), a :class:`Reply` for
full control (``length`` for a cut-off answer, token counts), or a
:class:`~reportdraft.errors.BackendError` instance, which the fake raises as a failing
runtime would. The fake enforces neither the schema nor ``max_tokens``: it returns exactly
what it was told to, which is how a test plays a runtime that misbehaves.

A request the script has no answer for raises ``ConfigurationError``, deliberately *not* a
``BackendError``: drafting turns backend errors into fallback statements, which would hide
a script that no longer matches what drafting asks.

**Not in the registry.** ``fake`` is not one of the built-in names: those are what
``--backend`` and ``REPORTDRAFT_BACKEND`` offer, and the unknown-backend error lists them to
users. A fake has no script when built from ``BackendOptions`` alone, so by name it could
only answer nothing or something canned, and a service started with it by mistake would
write drafts labelled as model output. A test that must go through a name (the API
worker, the eval runner) can register a subclass whose ``__init__(options)`` supplies the
script.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

from reportdraft.backends.interface import Backend, BackendOptions, Generation, GenerationRequest
from reportdraft.errors import BackendError, ConfigurationError


@dataclass(frozen=True, kw_only=True)
class Reply:
    """One scripted answer with what a runtime reports beside the text.

    Token counts left as None are counted as whitespace-separated words (prompt: every
    message; completion: the text), so usage totals stay non-zero and deterministic.
    """

    text: str
    finish_reason: str | None = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


Answer: TypeAlias = str | Reply | BackendError
"""What a script gives for one request: text, a :class:`Reply`, or an error to raise."""

Handler: TypeAlias = Callable[[GenerationRequest], Answer]
"""A function from the request received to the answer to give."""


class FakeBackend(Backend):
    """A backend that answers from a script and records every request (see the module)."""

    name: ClassVar[str] = "fake"

    def __init__(
        self,
        script: Handler | Iterable[Answer],
        *,
        model_id: str = "fake",
        options: BackendOptions | None = None,
    ) -> None:
        super().__init__(options or BackendOptions())
        if isinstance(script, str | Reply | BackendError):
            raise ConfigurationError(
                "FakeBackend takes a handler or a sequence of answers; wrap one answer in a list"
            )
        self.model_id = model_id
        self.requests: list[GenerationRequest] = []
        """Every request received, in order (also the ones answered with an error)."""
        self._lock = threading.Lock()
        self._handler: Handler | None = script if callable(script) else None
        self._queue: deque[Answer] = deque(() if callable(script) else script)

    @property
    def unused(self) -> list[Answer]:
        """Scripted answers not consumed yet (always empty for a handler)."""
        with self._lock:
            return list(self._queue)

    def generate(self, request: GenerationRequest) -> Generation:
        """Record ``request`` and give the script's answer for it (or raise its error)."""
        with self._lock:
            self.requests.append(request)
            number = len(self.requests)
            if self._handler is None:
                if not self._queue:
                    raise ConfigurationError(
                        f"FakeBackend: the script has no answer for request {number} "
                        f"(choices {', '.join(request_choices(request)) or 'none'})"
                    )
                answer = self._queue.popleft()
        if self._handler is not None:
            answer = self._handler(request)
        if isinstance(answer, BackendError):
            raise answer
        reply = answer if isinstance(answer, Reply) else Reply(text=answer)
        prompt_words = sum(len(m.content.split()) for m in request.messages)
        return Generation(
            text=reply.text,
            model=self.model_id,
            prompt_tokens=prompt_words if reply.prompt_tokens is None else reply.prompt_tokens,
            completion_tokens=(
                len(reply.text.split())
                if reply.completion_tokens is None
                else reply.completion_tokens
            ),
            seconds=0.0,
            finish_reason=reply.finish_reason,
        )


def schema_choices(schema: Any) -> tuple[str, ...]:
    """Every string a JSON schema pins with ``enum`` or ``const``, in order, once each.

    Drafting's answer schema allows exactly the source ids of the piece being rewritten, so
    for a drafting request these are that piece's ids: a key that does not depend on the
    prompt's wording or on the order of the pieces.
    """
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("const"), str):
                found.setdefault(node["const"], None)
            for value in node.get("enum") or ():
                if isinstance(value, str):
                    found.setdefault(value, None)
            for key, child in node.items():
                if key not in ("const", "enum"):
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(schema)
    return tuple(found)


def request_choices(request: GenerationRequest) -> tuple[str, ...]:
    """:func:`schema_choices` of the request's schema (empty without one)."""
    return schema_choices(request.json_schema) if request.json_schema is not None else ()


def keyed(
    script: Mapping[str | tuple[str, ...], Answer | Sequence[Answer]],
    *,
    default: Handler | None = None,
) -> Handler:
    """A handler that answers each request by its schema's choices (:func:`request_choices`).

    A key is one choice or a tuple of them, matched as a set (for drafting: the source ids
    of one piece, ``("D1", "D2")``). Its value is one answer given every time, or a list
    consumed in order for successive requests with that key (a re-ask gets the next one).
    A request no key matches goes to ``default``; without one it is a ``ConfigurationError``.
    """
    queues: dict[frozenset[str], deque[Answer] | Answer] = {}
    for key, value in script.items():
        choices = frozenset((key,) if isinstance(key, str) else key)
        if choices in queues:
            raise ConfigurationError(f"keyed script: {sorted(choices)} is given twice")
        if isinstance(value, str | Reply | BackendError):
            queues[choices] = value
        else:
            queues[choices] = deque(value)
    lock = threading.Lock()

    def handle(request: GenerationRequest) -> Answer:
        choices = request_choices(request)
        with lock:
            entry = queues.get(frozenset(choices))
            if isinstance(entry, deque):
                if not entry:
                    raise ConfigurationError(
                        f"keyed script: no answer left for {', '.join(choices)}"
                    )
                return entry.popleft()
        if entry is not None:
            return entry
        if default is not None:
            return default(request)
        known = "; ".join(", ".join(sorted(k)) for k in queues)
        raise ConfigurationError(
            f"keyed script has no answer for {', '.join(choices) or 'a request without choices'}"
            f" (keys: {known})"
        )

    return handle
