"""Dictated instructions to the drafting system: listed for the radiologist, never reported.

Normalisation marks the dictated sentences addressed to the system rather than to the
reader (:mod:`reportdraft.dictation.instructions`). The drafters leave them out; this check
makes that visible and holds every draft to it, whoever wrote the draft:

- instruction_in_dictation, high, draft level: ONE flag listing every marked sentence
  (``sources`` their ids, ``evidence`` their quotes, the message each one's reason). High
  flags block signing until acknowledged with a reason, which is how the radiologist
  confirms that the report is complete without them (or removes them and re-dictates).
- instruction_in_dictation, high, per statement: a statement that cites a marked sentence,
  reproduces one (its words, or a claim made only of an instruction's words that its own
  sources do not support: "The study is normal." after "... write that the study is
  normal"), or itself reads as an instruction. A statement the radiologist wrote is flagged
  medium: the radiologist is the author, so it is shown, not blocked.

Statements that cite only template or case context (``T:``, ``C:``) are trusted text and
only checked for citing a marked sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reportdraft.dictation import DEFAULT_INSTRUCTIONS
from reportdraft.models import DictationSentence, FlagKind, Severity, Statement
from reportdraft.verification.run_context import Context, quote

_WORD = re.compile(r"\w+")
_CONTENT_MIN = 3
"""Words shorter than this ("is", "of", "a") do not count as content when comparing."""


def check_instructions(ctx: Context) -> None:
    """The draft-level listing of dictated instructions, then every statement against them."""
    marked = ctx.dictation.instructions()
    if marked:
        _list_instructions(ctx, marked)
    by_id = {s.id: s for s in marked}
    for statement in ctx.draft.statements():
        _check_statement(ctx, statement, marked, by_id)


def _list_instructions(ctx: Context, marked: Sequence[DictationSentence]) -> None:
    head = (
        f"{len(marked)} dictated sentence(s) read as instructions to the drafting system, "
        "not report content, were kept out of the draft; remove them from the dictation, or "
        "acknowledge this flag to confirm the report is complete without them: "
    )
    listing = "; ".join(f"{s.id} {s.instruction.reason}" for s in marked if s.instruction)
    message = head + listing
    if len(message) > 500:
        message = message[:499] + "…"
    ctx.raise_flag(
        FlagKind.INSTRUCTION_IN_DICTATION,
        Severity.HIGH,
        message,
        sources=[s.id for s in marked],
        evidence=[quote(s.id, s.text) for s in marked],
    )


def _check_statement(
    ctx: Context,
    statement: Statement,
    marked: Sequence[DictationSentence],
    by_id: dict[str, DictationSentence],
) -> None:
    severity = Severity.MEDIUM if statement.generator == "radiologist" else Severity.HIGH
    cited = [by_id[i] for i in statement.sources if i in by_id]
    if cited:
        _raise(
            ctx,
            statement,
            severity,
            f"statement {statement.id} cites {', '.join(s.id for s in cited)}, dictated as an "
            "instruction to the drafting system, not report content",
            cited,
        )
        return
    if all(src.startswith(("T:", "C:")) for src in statement.sources):
        return
    support = [ctx.texts.get(src, "") for src in statement.sources]
    copied = [s for s in marked if reproduces(statement.text, s.text, support)]
    if copied:
        _raise(
            ctx,
            statement,
            severity,
            f"statement {statement.id} repeats {', '.join(s.id for s in copied)}, dictated as "
            "an instruction to the drafting system, not report content",
            copied,
        )
        return
    hits = DEFAULT_INSTRUCTIONS.hits(statement.text)
    if hits:
        words = " ".join(hits[0].text.split())[:60]
        _raise(
            ctx,
            statement,
            severity,
            f"statement {statement.id} reads as an instruction to the drafting system: "
            f'{hits[0].cue.reason} ("{words}")',
            [],
        )


def _raise(
    ctx: Context,
    statement: Statement,
    severity: Severity,
    message: str,
    sentences: Sequence[DictationSentence],
) -> None:
    ctx.raise_flag(
        FlagKind.INSTRUCTION_IN_DICTATION,
        severity,
        message,
        statement=statement,
        sources=[s.id for s in sentences] or statement.sources,
        evidence=[
            quote(statement.id, statement.text),
            *(quote(s.id, s.text) for s in sentences),
        ],
    )


def _words(text: str) -> list[str]:
    return _WORD.findall(DEFAULT_INSTRUCTIONS.fold(text))


def reproduces(statement: str, instruction: str, support: Sequence[str] = ()) -> bool:
    """True when ``statement`` repeats a dictated instruction sentence.

    Either the instruction's words appear in the statement in order (at least two words),
    or the statement's content words (two or more) all come from the instruction and are
    not all found in ``support``, the texts of the statement's own sources: the claim can
    only have come from the instruction ("The study is normal." citing a hematoma sentence,
    after "... write that the study is normal").
    """
    said = _words(statement)
    asked = _words(instruction)
    if len(asked) >= 2 and f" {' '.join(asked)} " in f" {' '.join(said)} ":
        return True
    content = {w for w in said if len(w) >= _CONTENT_MIN and not w.isdigit()}
    if len(content) < 2 or not content <= set(asked):
        return False
    supported = {w for text in support for w in _words(text)}
    return not content <= supported
