"""The scripted backend's own contract: answers in order or by key, requests recorded, a
script that runs dry fails loudly (not as a backend error drafting would swallow), and no
name in the registry. Its use on the drafting paths is in ``tests/test_drafting_paths.py``."""

from __future__ import annotations

import pytest

from reportdraft.backends import (
    Backend,
    BackendOptions,
    ChatMessage,
    FakeBackend,
    GenerationRequest,
    backend_names,
    create_backend,
    registry,
)
from reportdraft.backends.fake import Reply, keyed, request_choices, schema_choices
from reportdraft.drafting import model_rewrite
from reportdraft.errors import (
    BackendError,
    BackendTimeoutError,
    ConfigurationError,
)


def _request(content: str = "restate these", ids: tuple[str, ...] = ("D1",)) -> GenerationRequest:
    """A request shaped like drafting's: its schema allows exactly ``ids`` as sources."""
    return GenerationRequest(
        messages=[ChatMessage(role="user", content=content)],
        json_schema=model_rewrite.output_model(list(ids), max_items=2).model_json_schema(),
        max_tokens=64,
    )


def test_answers_are_given_in_order_and_every_request_is_recorded() -> None:
    backend = FakeBackend(["first answer", Reply(text="cut", finish_reason="length")])
    one, two = _request("a b c"), _request("d e")
    first, second = backend.generate(one), backend.generate(two)
    assert backend.requests == [one, two]
    assert (first.text, first.finish_reason, first.model) == ("first answer", "stop", "fake")
    assert (first.prompt_tokens, first.completion_tokens) == (3, 2)
    assert (second.text, second.finish_reason) == ("cut", "length")
    assert backend.unused == []


def test_reply_token_counts_override_the_word_counts() -> None:
    backend = FakeBackend([Reply(text="x y", prompt_tokens=100, completion_tokens=7)])
    out = backend.generate(_request())
    assert (out.prompt_tokens, out.completion_tokens) == (100, 7)


def test_an_error_answer_is_raised_as_the_runtime_would() -> None:
    error = BackendTimeoutError("took too long")
    backend = FakeBackend([error, "after"])
    with pytest.raises(BackendTimeoutError) as raised:
        backend.generate(_request())
    assert raised.value is error
    assert backend.generate(_request()).text == "after"
    assert len(backend.requests) == 2


def test_a_script_that_runs_dry_is_not_a_backend_error() -> None:
    backend = FakeBackend(["only one"])
    backend.generate(_request())
    with pytest.raises(ConfigurationError, match="no answer for request 2") as raised:
        backend.generate(_request(ids=("D3", "A1")))
    assert not isinstance(raised.value, BackendError)
    assert "D3, A1" in str(raised.value)
    assert len(backend.requests) == 2


def test_a_handler_sees_the_request() -> None:
    backend = FakeBackend(lambda request: request.messages[-1].content.upper())
    assert backend.generate(_request("echo me")).text == "ECHO ME"


@pytest.mark.parametrize("single", ["text", Reply(text="t"), BackendError("x")])
def test_one_bare_answer_is_refused_instead_of_iterated(single: object) -> None:
    with pytest.raises(ConfigurationError, match="wrap one answer in a list"):
        FakeBackend(single)  # type: ignore[arg-type]


def test_schema_choices_are_the_source_ids_drafting_allows() -> None:
    assert schema_choices(model_rewrite.output_model(["D1", "A2"], 3).model_json_schema()) == (
        "D1",
        "A2",
    )
    assert schema_choices(model_rewrite.output_model(["D7"], 2).model_json_schema()) == ("D7",)
    no_schema = GenerationRequest(messages=[ChatMessage(role="user", content="hi")], max_tokens=4)
    assert request_choices(no_schema) == ()


def test_keyed_answers_by_the_pieces_ids_in_any_order() -> None:
    backend = FakeBackend(
        keyed(
            {
                ("D2", "D1"): ["not json", "second try"],
                "D3": "always this",
            },
            default=lambda request: "default",
        )
    )
    assert backend.generate(_request(ids=("D3",))).text == "always this"
    assert backend.generate(_request(ids=("D1", "D2"))).text == "not json"
    assert backend.generate(_request(ids=("D3",))).text == "always this"
    assert backend.generate(_request(ids=("D1", "D2"))).text == "second try"
    assert backend.generate(_request(ids=("D9",))).text == "default"
    with pytest.raises(ConfigurationError, match="no answer left for D1, D2"):
        backend.generate(_request(ids=("D1", "D2")))


def test_keyed_without_a_default_names_the_unmatched_request() -> None:
    backend = FakeBackend(keyed({"D1": "x"}))
    with pytest.raises(ConfigurationError, match=r"no answer for D4 \(keys: D1\)"):
        backend.generate(_request(ids=("D4",)))


def test_keyed_refuses_the_same_ids_twice() -> None:
    with pytest.raises(ConfigurationError, match="given twice"):
        keyed({("D1", "D2"): "a", ("D2", "D1"): "b"})


def test_fake_is_not_a_backend_users_can_name() -> None:
    assert "fake" not in backend_names()
    with pytest.raises(ConfigurationError, match="unknown backend 'fake'"):
        create_backend("fake", BackendOptions())


def test_a_test_can_register_a_scripted_subclass_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTERED", dict(registry._REGISTERED))

    class Canned(FakeBackend):
        def __init__(self, options: BackendOptions) -> None:
            super().__init__(["canned"], options=options, model_id=options.model or "canned")

    registry.register("test-canned")(Canned)
    made: Backend = create_backend("test-canned", BackendOptions(model="m1"))
    out = made.generate(_request())
    assert (out.text, out.model, made.generates_text) == ("canned", "m1", True)
