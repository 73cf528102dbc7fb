"""A verifier that sees anatomy, and one that rejects malformed model text (issue 12, point 7).

``check_anatomy``: a statement's anatomical qualifiers must match the sources it cites
(see :mod:`reportdraft.verification.facets`):

- for each finding and each structure of the statement, its value on an anchored axis
  (medial/lateral, anterior/posterior, superior/inferior, proximal/distal, direction, spinal
  level, nerve root, clock position) must be one its sources give the same finding or
  structure, when they give one: "tear of the posterior horn of the lateral meniscus" for
  "... of the medial meniscus" is a changed fact even when the sources name the lateral
  meniscus elsewhere ("the lateral meniscus is intact");
- every value of the statement (also time of day, recommendation interval, breast density,
  BI-RADS-style category) must be among its sources' values on that axis.

A value that differs from the sources' value on the same axis is a high ``anatomy`` flag; a
value on an axis the sources never name is a high ``unsupported`` flag (low for the
radiologist's own statements), like any other detail the sources lack. A faithful
paraphrase passes: word order, "medial meniscal posterior horn tear", "L4-5" for "L4-L5",
"3:15 p.m." for "3:15 PM", "heterogeneously dense (category C)".

``check_malformed``: model text (``generator == "model"``) with markup, JSON fragments, role
markers or a repeated sentence is a high ``malformed_text`` flag, so the model drafter falls
back to the deterministic statement (it rejects any blocking flag on a rewrite).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reportdraft.models import FlagKind, Severity, Statement
from reportdraft.verification.assertion_context import sentences
from reportdraft.verification.facets import Facet, axis_name, shown, supported, values
from reportdraft.verification.facts import Facts, is_generic
from reportdraft.verification.hierarchy import hierarchy
from reportdraft.verification.run_context import Context, Union, matching, quote

HIGH = Severity.HIGH
_UNCHECKED_WHEN_ABSENT = ("level", "category ")
"""Axes whose absence from the sources the code check already reports (levels, categories)."""


def _differs(mine: frozenset[Facet], theirs: Iterable[frozenset[Facet]]) -> str | None:
    """How ``mine`` differs from every candidate that has a value on one of its axes."""
    candidates = list(theirs)
    for axis in sorted({a for a, _v in mine}):
        want = values(mine, axis)
        having = [h for h in (values(c, axis) for c in candidates) if h]
        if not having or any(all(supported(axis, v, h) for v in want) for h in having):
            continue
        others = set().union(*having)
        return f"{shown(axis, want)} in the statement, {shown(axis, others)} in its sources"
    return None


def _uncoordinated(mine: frozenset[Facet], stated: set[Facet], union: Union) -> frozenset[Facet]:
    """``mine`` without the axes on which the statement splits a coordinated source: "tear of
    the medial meniscus and tear of the lateral meniscus" for "tears of both the medial and
    lateral menisci". The statement must name every value the source sentence coordinates
    (``stated``: its values for the same finding or structure), and that source sentence
    must deny nothing and call nothing normal ("... the lateral meniscus is intact")."""
    tree = hierarchy()
    split: set[str] = set()
    for axis in {a for a, _v in mine}:
        want = values(stated, axis)
        if len(want) < 2:
            continue
        for part in union.parts:
            if part.negations or tree.normal.search(part.text):
                continue
            if want <= values(part.facets, axis):
                split.add(axis)
                break
    return frozenset(f for f in mine if f[0] not in split)


def check_anatomy(
    ctx: Context,
    statement: Statement,
    facts: Facts,
    union: Union,
    support: list[str],
    evidence: list[str],
) -> None:
    """Anatomical qualifiers of ``statement`` against its cited sources."""
    changed: list[str] = []
    by_term: dict[str, set[Facet]] = {}
    for mention in facts.findings:
        by_term.setdefault(mention.term, set()).update(mention.facets)
    for mention in facts.findings:
        if is_generic(mention.term) or not mention.facets:
            continue
        candidates = [c.facets for c in matching(mention, union.findings)]
        mine = _uncoordinated(mention.facets, by_term[mention.term], union)
        if problem := _differs(mine, candidates):
            changed.append(f"'{mention.text}' is {problem}")
    by_ident: dict[str, set[Facet]] = {}
    for ident, mine in facts.anatomy_facets:
        by_ident.setdefault(ident, set()).update(mine)
    for ident, mine in facts.anatomy_facets:
        structures = [f for part in union.parts for i, f in part.anatomy_facets if i == ident]
        if problem := _differs(_uncoordinated(mine, by_ident[ident], union), structures):
            changed.append(f"the {ident.replace('_', ' ')} is {problem}")
    available = {f for part in union.parts for f in part.facets}
    absent: list[str] = []
    for axis in sorted({a for a, _v in facts.facets}):
        theirs = values(available, axis)
        extra = {v for v in values(facts.facets, axis) if not supported(axis, v, theirs)}
        if not extra:
            continue
        if theirs:
            changed.append(
                f"{axis_name(axis)} {shown(axis, extra)} in the statement, "
                f"{shown(axis, theirs)} in its sources"
            )
        elif not axis.startswith(_UNCHECKED_WHEN_ABSENT):
            absent.append(f"{axis_name(axis)} {shown(axis, extra)}")
    if changed:
        ctx.raise_flag(
            FlagKind.ANATOMY,
            HIGH,
            "; ".join(dict.fromkeys(changed)),
            statement=statement,
            sources=support,
            evidence=evidence,
        )
    if absent:
        ctx.raise_flag(
            FlagKind.UNSUPPORTED,
            HIGH,
            f"not in its sources: {', '.join(absent)}",
            statement=statement,
            sources=support,
            evidence=evidence,
        )


_MARKUP = re.compile(
    r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>"  # <tag>, </tag>, <br/>
    r"|<\|[^|>]*\|>"  # <|im_end|>
    r"|\[/?(?:INST|SYS)\]"
    r"|```"
    r"|[{}]"  # no report sentence has a brace
    r"|\"\s*:\s*[\[{\"\d]"  # "key": value
    r"|\"[A-Za-z_]+\"\s*:"
    r"|^\s*(?:system|assistant|user|human)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_RUN = 4
_FILLER_LEAD = re.compile(
    r"^(?:(?:again seen|again noted|again identified|again demonstrated|once again|again"
    r"|also|additionally|in addition|redemonstrated|re demonstrated"
    r"|note is (?:again )?made of|there (?:is|are|was|were)(?: again| also)?"
    r"|(?:it is )?noted|seen is|noted is|redemonstration of|redemonstrating|a|an|the)\s+)+"
)
"""Leads that add no fact (fillers, articles): "There is moderate stenosis" and "Note is
made of a small hernia" repeat "Moderate stenosis" and "Small hernia"."""


def _normal(text: str) -> str:
    return " ".join(_NOT_WORD.split(text.lower())).strip()


def _sentence_key(text: str) -> str:
    """A sentence as a repetition sees it: its words without a filler lead."""
    return _FILLER_LEAD.sub("", _normal(text))


def _repeated(text: str) -> str | None:
    """A sentence said twice, or a run of four or more words said twice in a row."""
    seen: set[str] = set()
    for start, end in sentences(text):
        key = _sentence_key(text[start:end])
        if key and len(key.split()) >= 2 and key in seen:
            return text[start:end].strip()
        seen.add(key)
    words = _normal(text).split()
    for size in range(_RUN, len(words) // 2 + 1):
        for i in range(len(words) - 2 * size + 1):
            if words[i : i + size] == words[i + size : i + 2 * size]:
                return " ".join(words[i : i + size])
    return None


def check_malformed(ctx: Context, statement: Statement) -> None:
    """Model text must read as report text: no markup, JSON or repeated sentences."""
    if statement.generator != "model":
        return
    problem = None
    if markup := _MARKUP.search(statement.text):
        problem = f"model text contains markup or a JSON fragment ({markup.group(0)[:40]!r})"
    elif repeat := _repeated(statement.text):
        problem = f"model text repeats itself ('{repeat[:80]}')"
    if problem is not None:
        ctx.raise_flag(
            FlagKind.MALFORMED_TEXT,
            HIGH,
            problem,
            statement=statement,
            sources=list(statement.sources),
            evidence=[quote(statement.id, statement.text)],
        )
