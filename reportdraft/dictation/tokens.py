"""Tokens of a raw transcript, each with its character span in the raw text.

Everything downstream works on tokens, never on the string, so every output sentence
can point back at the exact characters it came from. One compiled regex scans the text
once (linear time); whitespace is not a token but is remembered as ``gap`` on the token
after it, so text written without a space ("3.5cm", "L4-5") is rendered without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reportdraft.dictation.spoken_lexicon import DictationLexicon

WORD: Final = "word"
NUM: Final = "num"
PUNCT: Final = "punct"
PARA: Final = "para"

_WORDLIKE: Final = frozenset({"abbr", "numabbr", "dotted", "word"})


@dataclass(slots=True)
class Token:
    """One token: ``kind`` (word, num, punct, para), its text, lower-cased text, span.

    ``gap`` says whether whitespace preceded it in the raw text. A ``para`` token stands
    for a blank line (two or more line breaks), the written form of "new paragraph".
    Tokens are never modified after :func:`tokenize` (not frozen only because frozen
    dataclasses are several times slower to build, and a transcript has thousands).
    """

    kind: str
    text: str
    low: str
    start: int
    end: int
    gap: bool


def tokenize(raw: str, lexicon: DictationLexicon) -> list[Token]:
    """Split ``raw`` into tokens in order; every non-space character is in one token."""
    tokens: list[Token] = []
    gap = False
    append = tokens.append
    for match in lexicon.token_re.finditer(raw):
        group = match.lastgroup
        start, end = match.span()
        if group == "ws":
            if raw.count("\n", start, end) >= 2:
                append(Token(PARA, "", "", start, end, True))
            gap = True
            continue
        text = match.group()
        if group in _WORDLIKE:
            kind = WORD
        elif group == "num":
            kind = NUM
        else:
            kind = PUNCT
        append(Token(kind, text, text.lower(), start, end, gap))
        gap = False
    return tokens
