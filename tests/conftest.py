"""Suite-wide fixtures: the embedded model, loaded once per test process, and its xdist group.

``make test`` runs pytest on every core (``-n auto --dist loadgroup``). Most tests are pure
and run anywhere; the tests that run the embedded SmolLM2 (in process through llama.cpp, or
behind a ``llama_cpp.server`` subprocess) are different on two counts:

* **memory and start-up**: each process that touches the model loads its own copy
  (and each distinct ``(path, n_ctx, n_threads)`` is a separate load with its own KV cache,
  ``backends/llamacpp.py``), and the server fixture starts a server per process;
* **CPU**: llama.cpp runs one thread per core; two workers decoding at once fight for the
  same cores and each runs slower than one alone.

So every such test asks for :func:`embedded_llama` (or ``llama_server``,
``tests/backends/conftest.py``) or, when it runs the model some other way (the transformers
backend on the same GGUF), carries the ``embedded_model`` mark; and
:func:`pytest_collection_modifyitems` gives every test that does either the
``embedded_model`` mark. ``make test`` then runs pytest twice: ``-m "not embedded_model"``
on every core, and ``-m embedded_model`` in one process, which loads the model once (the
default options, the same key the CLI, the API's workers and the evaluation get, so their
``create_backend("llamacpp", ...)`` calls reuse it) and starts one server. (An xdist group
under ``--dist loadgroup`` was tried first: with pytest 9 and xdist 3.8 it did not keep the
group on one worker, and both workers drafted every example.)
"""

from __future__ import annotations

import pytest

from reportdraft.backends import BackendOptions, create_backend
from reportdraft.backends.llamacpp import LlamaCppBackend

MODEL_MARK = "embedded_model"
"""The mark of every test that runs the embedded model (``make test`` runs them apart)."""

MODEL_FIXTURES = frozenset({"embedded_llama", "llama_server"})
"""Fixtures whose users load the embedded model (in process or in a server subprocess)."""


@pytest.fixture(scope="session")
def embedded_llama() -> LlamaCppBackend:
    """The embedded SmolLM2 through llama.cpp with the default options, once per process."""
    made = create_backend("llamacpp", BackendOptions())
    assert isinstance(made, LlamaCppBackend)
    return made


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects on the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the embedded model's fixtures ``embedded_model``."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(getattr(pytest.mark, MODEL_MARK))
