"""Finding backends by name, without importing any runtime until one is asked for.

Two layers (spaCy's registry, outlines' one module per provider):

* ``_LAZY`` maps every built-in name to ``"module:Class"``. Listing names and importing
  ``reportdraft.backends`` touch no backend module, so ``import reportdraft`` stays fast
  and a machine without torch can still list ``transformers`` as a choice.
* :func:`register` is the decorator each backend module applies to its class. It runs when
  :func:`create_backend` imports the module, and lets a site or plugin add a backend by
  importing its own module before calling :func:`create_backend`.

There is no ``if/elif`` on backend names anywhere: the CLI passes ``--backend`` straight to
:func:`create_backend`.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable

from reportdraft.backends.interface import Backend, BackendOptions
from reportdraft.errors import BackendUnavailableError, ConfigurationError

_LAZY: dict[str, str] = {
    "llamacpp": "reportdraft.backends.llamacpp:LlamaCppBackend",
    "vllm": "reportdraft.backends.openai_compat:OpenAICompatBackend",
    "openai": "reportdraft.backends.openai_compat:OpenAICompatBackend",
    "transformers": "reportdraft.backends.transformers_backend:TransformersBackend",
    "vllm-offline": "reportdraft.backends.vllm_offline:VLLMOfflineBackend",
    "rules": "reportdraft.backends.rules_backend:RulesBackend",
}
"""Built-in names → ``module:Class``; aliases (``openai``) point at the same class."""

_REGISTERED: dict[str, type[Backend]] = {}
_LOCK = threading.Lock()
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


def register(name: str) -> Callable[[type[Backend]], type[Backend]]:
    """Class decorator: make ``create_backend(name, ...)`` build this class.

    Stack it to register aliases. Registering a *different* class under a taken name
    (built-in names included, even before their module is imported) is a
    ``ConfigurationError`` (two plugins fighting over a name should fail loudly, not let
    import order decide).
    """
    if not _NAME.match(name):
        raise ConfigurationError(f"invalid backend name {name!r}: use [a-z][a-z0-9_-]*")

    def decorate(cls: type[Backend]) -> type[Backend]:
        if not (isinstance(cls, type) and issubclass(cls, Backend)):
            raise ConfigurationError(f"@register({name!r}) must decorate a Backend subclass")
        target = f"{cls.__module__}:{cls.__qualname__}"
        with _LOCK:
            known = _REGISTERED.get(name)
            owner = f"{known.__module__}:{known.__qualname__}" if known else _LAZY.get(name)
            if owner is not None and owner != target:
                raise ConfigurationError(f"backend name {name!r} is already registered to {owner}")
            _REGISTERED[name] = cls
        return cls

    return decorate


def backend_names() -> list[str]:
    """Every name :func:`create_backend` accepts (built-in and registered), sorted."""
    with _LOCK:
        return sorted(set(_LAZY) | set(_REGISTERED))


def create_backend(name: str, options: BackendOptions) -> Backend:
    """Build the backend registered as ``name`` from ``options``.

    Raises ``ConfigurationError`` for an unknown name (listing the known ones), and
    ``BackendUnavailableError`` with the pip install hint when the backend's extra is not
    installed. The backend's own constructor may raise either as well (a missing model
    file, an unreachable server is only found on the first call).
    """
    return resolve_backend_class(name)(options)


def resolve_backend_class(name: str) -> type[Backend]:
    """Return the class behind ``name``, importing its module on first use."""
    with _LOCK:
        cls = _REGISTERED.get(name)
    if cls is not None:
        return cls
    target = _LAZY.get(name)
    if target is None:
        raise ConfigurationError(
            f"unknown backend {name!r}; known backends: {', '.join(backend_names())}"
        )
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or "?"
        if missing == module_name:
            raise BackendUnavailableError(
                f"backend {name!r} is not part of this installation ({module_name} is missing)"
            ) from exc
        raise BackendUnavailableError(
            f"backend {name!r} needs the package {missing!r}, which is not installed"
        ) from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise ConfigurationError(f"{target} is not a Backend subclass")
    with _LOCK:
        _REGISTERED.setdefault(name, cls)
    return cls
