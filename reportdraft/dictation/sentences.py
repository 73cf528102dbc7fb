"""Sentence assembly: items from the editor become numbered, sectioned sentences.

A sentence ends at ".", "?" or "!", at a line or paragraph break, at a section header
and before a list number. Its text is rebuilt from its items: one space between words,
none before closing punctuation or after opening punctuation, the first letter
capitalised, stray leading and trailing commas dropped. No end mark is invented when none
was dictated. Nothing else about the words is changed: this text is later shown to a
language model and to the radiologist, and must say what was dictated.
"""

from __future__ import annotations

from typing import Final

from reportdraft.dictation.editor import (
    ITEM_HEADER,
    ITEM_LINE,
    ITEM_LIST,
    ITEM_NUM,
    ITEM_PARA,
    ITEM_PUNCT,
    ITEM_WORD,
    SENTENCE_END,
    Item,
)
from reportdraft.models.dictation import DictationSentence
from reportdraft.models.draft import SectionKind

_LEADING_DROP: Final = frozenset({",", ".", ";", ":"})
_TRAILING_DROP: Final = frozenset({",", ";"})
_SPACE_AFTER: Final = frozenset({",", ";", ":"})


def render(items: list[Item]) -> str:
    """The text of a run of items with spacing fixed (see module docstring)."""
    parts: list[str] = []
    previous: Item | None = None
    for item in items:
        if previous is not None:
            if item.glue_left or previous.glue_right:
                pass
            elif item.gap or (
                previous.kind == ITEM_PUNCT
                and previous.text in _SPACE_AFTER
                and item.text[:1].isalpha()
            ):
                parts.append(" ")
        parts.append(item.text)
        previous = item
    text = "".join(parts)
    if text[:1].islower():
        text = text[0].upper() + text[1:]
    return text


class SentenceBuilder:
    """Collects items into :class:`DictationSentence` values with ids ``D1``, ``D2``, ..."""

    def __init__(self) -> None:
        self.sentences: list[DictationSentence] = []
        self.current: list[Item] = []
        self.section: SectionKind | None = None
        self.paragraph = 0
        self.paragraph_used = False

    def build(self, items: list[Item]) -> list[DictationSentence]:
        """Turn the editor's items into sentences, in order."""
        for item in items:
            kind = item.kind
            if kind == ITEM_HEADER:
                self.flush()
                self.section = item.section
            elif kind == ITEM_PARA:
                self.flush()
                if self.paragraph_used:
                    self.paragraph += 1
                    self.paragraph_used = False
            elif kind == ITEM_LINE:
                self.flush()
            elif kind == ITEM_LIST:
                self.flush()
                self.current.append(item)
            else:
                self.current.append(item)
                if kind == ITEM_PUNCT and item.text in SENTENCE_END:
                    self.flush()
        self.flush()
        return self.sentences

    def flush(self) -> None:
        """Close the current sentence; one without any word or number is dropped."""
        items, self.current = self.current, []
        marker = items[0] if items and items[0].kind == ITEM_LIST else None
        body = items[1:] if marker is not None else items
        lo, hi = 0, len(body)
        while lo < hi and body[lo].kind == ITEM_PUNCT and body[lo].text in _LEADING_DROP:
            lo += 1
        while hi > lo and body[hi - 1].kind == ITEM_PUNCT and body[hi - 1].text in _TRAILING_DROP:
            hi -= 1
        body = body[lo:hi]
        if not any(item.kind in (ITEM_WORD, ITEM_NUM) for item in body):
            return
        text = render(body)
        last = body[-1]
        start = marker.start if marker is not None else body[0].start
        self.sentences.append(
            DictationSentence(
                id=f"D{len(self.sentences) + 1}",
                text=text,
                start=start,
                end=last.end,
                section=self.section,
                paragraph=self.paragraph,
            )
        )
        self.paragraph_used = True
