"""Dictation normalisation: from a voice-recognition transcript to numbered sentences.

A transcript arrives as the engine heard it: "findings colon the lungs are clear period
there is a two point three centimeter nodule ...". This module turns it into sentences
with stable ids (``D1``, ``D2``, ...) and character offsets into the raw text, so every
later stage can cite exactly what the radiologist said.

Rules (the vocabulary is data: ``reportdraft/data/dictation/spoken.yaml``):

* Spoken punctuation ("period", "comma", "colon", "new paragraph", "next line", ...) becomes
  punctuation or a break. "period" stays a word after "the", "postpartum", ... or before
  "of"; "colon" is punctuation only right after a section header or at the very end,
  otherwise it is the bowel ("the sigmoid colon is normal").
* A section header ("findings colon", "Impression:", "FINDINGS: ,") at the start of an
  utterance sets the section of the sentences that follow; it is not a sentence itself.
* Number words become digits only in a measurement: followed by a unit, "point", "by" or
  "percent" ("two point three centimeters" → "2.3 cm", "one point five by two
  centimeters" → "1.5 x 2 cm"); "one of the", "no one", "two views" stay words.
* "scratch that" deletes back to the previous punctuation; "X, correction, Y" replaces as
  many words before "correction" as Y has ("five millimeters, correction, six
  millimeters" → "6 mm").
* Sentences end at ". ? !" and at breaks; a period after an abbreviation ("Dr.", "vs."),
  a single letter ("e.g.") or "No." before a number does not end one; decimals stay whole;
  numbered items ("1. ... 2. ...") become separate sentences without their numbers.

Dictation is untrusted: nothing here interprets it beyond these rules, and nothing but
spoken commands is removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from reportdraft.errors import EmptyDictationError
from reportdraft.models import DictationSentence, NormalizedDictation, SectionKind
from reportdraft.resources import package_data

_TOKEN = re.compile(
    r"\n[ \t]*\n\s*"  # blank line: paragraph
    r"|\n"  # line break
    r"|\d{1,2}:\d{2}(?!\d)"  # clock time
    r"|\d+(?:\.\d+)?"  # number, decimals kept whole
    r"|[A-Za-z][A-Za-z0-9]*(?:['’\-][A-Za-z0-9]+)*"  # word (L4, T2-weighted, don't)
    r"|[^\w\s]"  # one punctuation character
)
_SENTENCE_END = frozenset({".", "?", "!"})
_NO_SPACE_BEFORE = frozenset({".", ",", ":", ";", "?", "!", ")", "%"})


@dataclass
class _Tok:
    """A token: ``text`` as it will print, ``kind`` word/num/punct/break, raw offsets."""

    text: str
    start: int
    end: int
    kind: str
    glue: bool = False  # joined to the previous token without a space (hyphen)


@dataclass(frozen=True)
class _Vocab:
    punctuation: dict[tuple[str, ...], str]
    breaks: dict[tuple[str, ...], str]
    deletions: dict[tuple[str, ...], bool]
    corrections: dict[tuple[str, ...], bool]
    period_word_after: frozenset[str]
    headers: dict[tuple[str, ...], SectionKind]
    units: dict[tuple[str, ...], str]
    numbers: dict[str, int]
    abbreviations: frozenset[str]
    longest: int = field(default=3)


@cache
def _vocab() -> _Vocab:
    raw: dict[str, Any] = yaml.safe_load(
        package_data("dictation", "spoken.yaml").read_text(encoding="utf-8")
    )
    expected = {
        "punctuation",
        "breaks",
        "deletions",
        "corrections",
        "period_word_after",
        "headers",
        "units",
        "numbers",
        "abbreviations",
    }
    if set(raw) != expected:
        raise ValueError(f"spoken.yaml: unexpected keys {sorted(set(raw) ^ expected)}")

    def key(phrase: str) -> tuple[str, ...]:
        return tuple(phrase.lower().split())

    return _Vocab(
        punctuation={key(k): v for k, v in raw["punctuation"].items()},
        breaks={key(k): v for k, v in raw["breaks"].items()},
        deletions={key(k): True for k in raw["deletions"]},
        corrections={key(k): True for k in raw["corrections"]},
        period_word_after=frozenset(raw["period_word_after"]),
        headers={key(k): SectionKind(v) for k, v in raw["headers"].items()},
        units={key(k): v for k, v in raw["units"].items()},
        numbers={str(k): int(v) for k, v in raw["numbers"].items()},
        abbreviations=frozenset(raw["abbreviations"]),
    )


def normalize(raw: str) -> NormalizedDictation:
    """Normalise a raw transcript into sentences with ids and raw offsets.

    Raises ``EmptyDictationError`` when nothing but spoken commands remains.
    """
    vocab = _vocab()
    tokens = _tokenize(raw)
    tokens = _spoken_commands(tokens, vocab)
    tokens = _numbers(tokens, vocab)
    tokens = _corrections(tokens, vocab)
    sentences = _sentences(tokens, vocab)
    if not sentences:
        raise EmptyDictationError("dictation is empty: no words remain after spoken commands")
    return NormalizedDictation(raw=raw, sentences=sentences)


def _tokenize(raw: str) -> list[_Tok]:
    tokens = []
    for m in _TOKEN.finditer(raw):
        text = m.group()
        if text.startswith("\n"):
            kind, text = ("break", "paragraph") if text.count("\n") > 1 else ("break", "line")
        elif text[0].isdigit():
            kind = "num"
        elif text[0].isalpha():
            kind = "word"
        else:
            kind = "punct"
        tokens.append(_Tok(text, m.start(), m.end(), kind))
    return tokens


def _match(tokens: list[_Tok], i: int, table: Any, longest: int = 3) -> tuple[int, Any] | None:
    """Longest phrase of ``table`` (keys are word tuples) starting at token ``i``."""
    for n in range(longest, 0, -1):
        window = tokens[i : i + n]
        if len(window) < n or any(t.kind != "word" for t in window):
            continue
        words = tuple(t.text.lower() for t in window)
        if words in table:
            return n, table[words]
    return None


def _spoken_commands(tokens: list[_Tok], vocab: _Vocab) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind != "word":
            out.append(tok)
            i += 1
            continue
        if (hit := _match(tokens, i, dict.fromkeys(vocab.deletions, True))) is not None:
            _delete_utterance(out)
            i += hit[0]
            continue
        if (hit := _match(tokens, i, vocab.breaks)) is not None:
            n, kind = hit
            out.append(_Tok(kind, tok.start, tokens[i + n - 1].end, "break"))
            i += n
            continue
        if (hit := _match(tokens, i, vocab.punctuation)) is not None:
            n, mark = hit
            if _is_spoken_mark(tokens, i, n, mark, out, vocab):
                out.append(_Tok(mark, tok.start, tokens[i + n - 1].end, "punct", glue=mark == "-"))
                i += n
                continue
        out.append(tok)
        i += 1
    return out


def _is_spoken_mark(
    tokens: list[_Tok], i: int, n: int, mark: str, out: list[_Tok], vocab: _Vocab
) -> bool:
    """Decide whether a punctuation word is a command or an ordinary word."""
    word = tokens[i].text.lower()
    before = out[-1].text.lower() if out and out[-1].kind == "word" else None
    after = tokens[i + n] if i + n < len(tokens) else None
    if word == "period":
        if before in vocab.period_word_after:
            return False
        return not (after is not None and after.kind == "word" and after.text.lower() == "of")
    if word == "colon" and n == 1:
        if after is None or after.kind == "break":
            return True
        return _header_before(out, vocab) is not None
    if word in ("hyphen", "dash"):
        return before is not None or (out and out[-1].kind == "num")  # type: ignore[return-value]
    return True


def _header_before(out: list[_Tok], vocab: _Vocab) -> SectionKind | None:
    """The section named by the words just emitted, if they start an utterance."""
    for n in range(3, 0, -1):
        if len(out) < n:
            continue
        window = out[-n:]
        if any(t.kind != "word" for t in window):
            continue
        prev = out[-n - 1] if len(out) > n else None
        if prev is not None and not (prev.kind == "break" or prev.text in _SENTENCE_END):
            continue
        section = vocab.headers.get(tuple(t.text.lower() for t in window))
        if section is not None:
            return section
    return None


def _delete_utterance(out: list[_Tok]) -> None:
    """'scratch that': drop tokens back to the previous punctuation or break."""
    while (out and out[-1].kind in ("word", "num")) or (out and out[-1].text == "-"):
        out.pop()


def _numbers(tokens: list[_Tok], vocab: _Vocab) -> list[_Tok]:
    """Number words and units in measurements → digits and unit symbols."""
    out: list[_Tok] = []
    i = 0
    while i < len(tokens):
        parsed = _parse_number(tokens, i, vocab)
        if parsed is not None:
            value, n = parsed
            follower = tokens[i + n] if i + n < len(tokens) else None
            digit_source = all(t.kind == "num" for t in tokens[i : i + n])
            if digit_source or (
                follower is not None and _measurement_follows(tokens, i + n, vocab)
            ):
                out.append(_Tok(value, tokens[i].start, tokens[i + n - 1].end, "num"))
                i += n
                continue
        unit = _match(tokens, i, vocab.units) if out and out[-1].kind == "num" else None
        if unit is not None:
            n, symbol = unit
            out.append(_Tok(symbol, tokens[i].start, tokens[i + n - 1].end, "word"))
            i += n
            continue
        tok = tokens[i]
        if (
            tok.kind == "word"
            and tok.text.lower() == "by"
            and out
            and out[-1].kind == "num"
            and _parse_number(tokens, i + 1, vocab) is not None
        ):
            out.append(_Tok("x", tok.start, tok.end, "word"))
            i += 1
            continue
        out.append(tok)
        i += 1
    return out


def _measurement_follows(tokens: list[_Tok], j: int, vocab: _Vocab) -> bool:
    if _match(tokens, j, vocab.units) is not None:
        return True
    nxt = tokens[j]
    return (
        nxt.kind == "word"
        and nxt.text.lower() == "by"
        and (_parse_number(tokens, j + 1, vocab) is not None)
    )


def _parse_number(tokens: list[_Tok], i: int, vocab: _Vocab) -> tuple[str, int] | None:
    """Parse a spoken number at ``i``: 'twenty three', 'two point three', 'point five',
    '3 point 5', 'three hundred'. Returns (digits, tokens consumed)."""
    n = i
    whole: int | None = None
    if n < len(tokens) and tokens[n].kind == "num":
        if not tokens[n].text.isdigit() or tokens[n].text.startswith("0"):
            return tokens[n].text, 1  # decimal, clock time or zero-padded: keep as written
        whole = int(tokens[n].text)
        n += 1
    else:
        total, current, seen = 0, 0, False
        while n < len(tokens) and tokens[n].kind == "word":
            word = tokens[n].text.lower()
            if word in vocab.numbers:
                value = vocab.numbers[word]
                if seen and current and not (current >= 20 and current % 10 == 0 and value < 10):
                    break
                current += value
                seen = True
            elif word == "hundred" and seen:
                current *= 100
            elif word == "thousand" and seen:
                total += current * 1000
                current = 0
            else:
                break
            n += 1
        if seen:
            whole = total + current
    is_point = n < len(tokens) and tokens[n].kind == "word" and tokens[n].text.lower() == "point"
    if is_point:
        digits = []
        m = n + 1
        while m < len(tokens):
            t = tokens[m]
            if t.kind == "num" and t.text.isdigit():
                digits.append(t.text)
            elif (
                t.kind == "word"
                and t.text.lower() in vocab.numbers
                and (vocab.numbers[t.text.lower()] < 10)
            ):
                digits.append(str(vocab.numbers[t.text.lower()]))
            else:
                break
            m += 1
        if digits:
            return f"{whole or 0}.{''.join(digits)}", m - i
    if whole is None:
        return None
    return str(whole), n - i


def _corrections(tokens: list[_Tok], vocab: _Vocab) -> list[_Tok]:
    """'A B, correction, C D' → 'C D': the replacement displaces as many words before it."""
    out: list[_Tok] = []
    i = 0
    while i < len(tokens):
        hit = _match(tokens, i, dict.fromkeys(vocab.corrections, True), longest=1)
        if hit is None:
            out.append(tokens[i])
            i += 1
            continue
        j = i + 1
        while j < len(tokens) and tokens[j].text == ",":
            j += 1
        k = j
        while k < len(tokens) and tokens[k].kind in ("word", "num"):
            k += 1
        width = k - j
        while out and out[-1].text == ",":
            out.pop()
        removed = 0
        while out and removed < width and out[-1].kind in ("word", "num"):
            out.pop()
            removed += 1
        i = j
    return out


def _sentences(tokens: list[_Tok], vocab: _Vocab) -> list[DictationSentence]:
    sentences: list[DictationSentence] = []
    section: SectionKind | None = None
    paragraph = 0
    current: list[_Tok] = []
    expected_item = 1

    def flush() -> None:
        words = [t for t in current if t.kind in ("word", "num")]
        if len(words) == 1 and _parse_number(words, 0, vocab) is not None:
            words = []  # a spoken item number ("one period") is a list marker
        if words:
            text = _join(current)
            sentences.append(
                DictationSentence(
                    id=f"D{len(sentences) + 1}",
                    text=text,
                    start=min(t.start for t in current),
                    end=max(t.end for t in current),
                    section=section,
                    paragraph=paragraph,
                )
            )
        current.clear()

    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "break":
            flush()
            if tok.text == "paragraph":
                paragraph += 1
            i += 1
            continue
        if not any(t.kind in ("word", "num") for t in current):
            header = _header_at(tokens, i, vocab)
            if header is not None:
                current.clear()
                section, i = header
                expected_item = 1
                continue
            item = _list_marker(tokens, i)
            if item is not None:
                expected_item = item + 1
                current.clear()
                i += 2
                continue
            if tok.kind == "punct" and tok.text in ",;:.":
                i += 1  # leading separators such as MTSamples' "FINDINGS: , The ..."
                continue
        elif tok.kind == "num" and _list_marker(tokens, i) == expected_item and expected_item > 1:
            flush()
            expected_item += 1
            i += 2
            continue
        current.append(tok)
        if tok.text in _SENTENCE_END and not _keeps_sentence(tokens, i, vocab):
            flush()
        i += 1
    flush()
    return sentences


def _header_at(tokens: list[_Tok], i: int, vocab: _Vocab) -> tuple[SectionKind, int] | None:
    hit = _match(tokens, i, vocab.headers)
    if hit is None:
        return None
    n, section = hit
    nxt = tokens[i + n] if i + n < len(tokens) else None
    if nxt is not None and nxt.kind == "punct" and nxt.text == ":":
        return section, i + n + 1
    return None


def _list_marker(tokens: list[_Tok], i: int) -> int | None:
    """``N.`` or ``N)`` followed by a word: a numbered item marker; returns N."""
    if i + 2 >= len(tokens) + 1 or tokens[i].kind != "num" or not tokens[i].text.isdigit():
        return None
    if i + 1 >= len(tokens) or tokens[i + 1].text not in (".", ")"):
        return None
    after = tokens[i + 2] if i + 2 < len(tokens) else None
    if after is None or after.kind != "word":
        return None
    return int(tokens[i].text)


def _keeps_sentence(tokens: list[_Tok], i: int, vocab: _Vocab) -> bool:
    """True when the '.' at ``i`` belongs to an abbreviation, not a sentence end."""
    if tokens[i].text != "." or i == 0:
        return False
    prev = tokens[i - 1]
    if prev.kind != "word":
        return False
    word = prev.text.lower()
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if word in vocab.abbreviations:
        return True
    if len(word) == 1 and prev.text.isalpha() and (i < 2 or tokens[i - 2].text in (".", "(")):
        return True  # e.g. / i.e.
    if len(word) == 1 and nxt is not None and nxt.kind == "word" and len(nxt.text) == 1:
        return True
    return word == "no" and nxt is not None and nxt.kind == "num"


def _join(tokens: list[_Tok]) -> str:
    parts: list[str] = []
    for idx, tok in enumerate(tokens):
        text = tok.text
        if idx == 0:
            parts.append(text)
            continue
        prev = tokens[idx - 1]
        if tok.kind == "punct" and prev.kind == "punct" and tok.text == prev.text:
            continue  # ",," left behind by "scratch that"
        tight = (
            text in _NO_SPACE_BEFORE
            or tok.glue
            or prev.glue
            or prev.text == "("
            or (prev.text == "." and _inside_abbreviation(tokens, idx))
        )
        parts.append(text if tight else f" {text}")
    text = "".join(parts).strip()
    text = re.sub(r"\s+", " ", text)
    return text[:1].upper() + text[1:]


def _inside_abbreviation(tokens: list[_Tok], idx: int) -> bool:
    """'e.g.' prints without spaces: a single letter right after a single-letter '.'."""
    return (
        len(tokens[idx].text) == 1
        and tokens[idx].kind == "word"
        and idx >= 2
        and len(tokens[idx - 2].text) == 1
        and tokens[idx - 2].kind == "word"
    )
