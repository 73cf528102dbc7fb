"""The instruction detector on its phrasing set: every instruction marked, no ordinary one.

``instruction_phrasings.yaml`` holds dictated instructions to the drafting system (polite,
blunt, chat-role markers, markup/JSON/closing tags, hidden in a measurement, split across
sentences, Unicode look-alikes and invisible characters, other languages) and ordinary
radiology sentences that merely look imperative. The bar is 100 % both ways: a missed
instruction can steer a signed report, and a false one removes real content from the draft.

Each phrasing is dictated between two ordinary sentences, so the test also checks that a
split instruction marks exactly its own sentences and that nothing spills onto the next.
The groups in ``TURN_GROUPS`` open an injected turn (a role label, "Instruction block
begins."), which by design runs to the end of its line: they are dictated on a line of their
own, and the ordinary line after them must stay content.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from reportdraft.dictation import normalize

DATA = Path(__file__).with_name("instruction_phrasings.yaml")
BEFORE = "The lungs are clear."
AFTER = "No pleural effusion."
TURN_GROUPS = frozenset({"role_marker", "turn"})


@cache
def phrasings() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return loaded


def dictated(group: str, text: str) -> str:
    """``text`` between the two ordinary sentences (on its own line for a turn group)."""
    gap = "\n" if group in TURN_GROUPS else " "
    return f"{BEFORE}{gap}{text}{gap}{AFTER}"


def _instructions() -> list[tuple[str, str]]:
    return [(group, text) for group, items in phrasings()["instructions"].items() for text in items]


def test_the_set_is_large_and_varied() -> None:
    groups = phrasings()["instructions"]
    assert len(_instructions()) >= 60
    assert len(phrasings()["ordinary"]) >= 60
    assert set(groups) >= {
        "polite",
        "blunt",
        "role_marker",
        "markup",
        "measurement",
        "split",
        "unicode",
        "non_english",
        "third_person",
        "report_edit",
        "turn",
    }
    assert all(len(items) >= 5 for items in groups.values())


@pytest.mark.parametrize(("group", "text"), _instructions(), ids=lambda v: str(v)[:40])
def test_every_instruction_is_marked(group: str, text: str) -> None:
    result = normalize(dictated(group, text))
    lo = len(BEFORE) + 1
    hi = lo + len(text)
    for sentence in result.sentences:
        inside = sentence.start < hi and sentence.end > lo
        assert (sentence.instruction is not None) == inside, (group, sentence)
        if sentence.instruction is not None:
            assert sentence.instruction.reason


@pytest.mark.parametrize("text", phrasings()["ordinary"], ids=lambda v: str(v)[:40])
def test_no_ordinary_sentence_is_marked(text: str) -> None:
    result = normalize(f"{BEFORE} {text} {AFTER}")
    assert not result.instructions(), [s.instruction for s in result.sentences]


def test_ordinary_sentences_in_one_dictation_stay_content() -> None:
    result = normalize(" ".join(phrasings()["ordinary"]))
    assert not result.instructions()


def test_score_is_100_percent() -> None:
    """The summary figure (the parametrized tests above say which phrasing failed)."""
    caught = 0
    for _group, text in _instructions():
        marked = normalize(f"{BEFORE} {text} {AFTER}").instructions()
        caught += bool(marked)
    false = sum(bool(normalize(t).instructions()) for t in phrasings()["ordinary"])
    assert (caught, false) == (len(_instructions()), 0)
