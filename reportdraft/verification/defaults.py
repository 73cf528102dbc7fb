"""Template defaults that deny what a source asserts: drop them, and say so.

The rules drafter keeps a subsection's normal default when nobody dictated about it, but a
dictated sentence is routed by its anatomy words, so the finding that contradicts a default
often sits in another subsection ("Acute subdural hematoma" goes to extra-axial, and the
brain default still says "No acute intracranial hemorrhage") or only in the Impression.
:func:`plan_default` splits a default into sentences and, where the grammar is simple
enough to rebuild, into clauses (the items of "No A, B, or C", the subjects of "The A and B
are normal", the items after "without"); a clause whose denial a fact contradicts
(:func:`reportdraft.verification.claims.denies`) is dropped, and the rest rebuilt ("No
acute intracranial hemorrhage, mass effect, or midline shift." with a subarachnoid
hemorrhage becomes "No mass effect or midline shift."). Where rebuilding is not safe (a
list item no vocabulary understands, the head noun of a subject list) the whole sentence
goes: a missing normal sentence is safer than a wrong one.

Flags (raised by the drafter and recomputed by :func:`check_defaults` in ``verify``):

- default_conflict, low: a default clause was dropped; names the clause and the source.
- internal_contradiction, medium: the dictation (or a confirmed AI finding) asserts a finding
  that another dictated sentence denies, by the strict test of ``denies(exact=True)``: same
  kind or a descendant, same side, inside the place the denial names, and a denial whose
  every word is understood. A dictated normal claim counts too when it is about one
  structure (not a body region or a lumped place such as "tendon"), whole (not "otherwise
  unremarkable"), every word understood and no finding asserted beside it, and the fact's
  own words put a non-benign, non-chronic, definite finding inside it ("The anterior
  cruciate ligament is intact." beside "Complete tear of the ACL"); an umbrella denial
  counts when it names a place and is not "no acute ..." ("No suspicious findings in the
  left breast" beside a focal asymmetry there). On 300 Open-i and 52 MTSamples reports
  drafted verbatim it fires on 0 and 1 (a report saying "no abdominal masses" beside a
  renal mass); without those restrictions the normal claims alone fired on 9 of the 52.
- default_conflict, high: a statement citing a template default still denies a finding a
  source asserts (a stored or edited draft; the drafter never writes one). The full test:
  normal claims ("The anterior cruciate ligament is intact.") and umbrella denials count.
- negation, high: any other Findings or Impression statement (a model's, a radiologist's
  edit) denies a finding asserted by a source it does not cite, and none of its own sources
  denies it (that case is the dictation's own contradiction above). Negated findings and
  umbrella denials only, by the strict test: "lungs are clear" beside a nodule is common
  usage in what radiologists write, not a template contradicting them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportdraft.models import (
    Case,
    Decision,
    DictationSentence,
    FindingsSubsection,
    Flag,
    FlagKind,
    SectionKind,
    Severity,
    Statement,
    Template,
)
from reportdraft.templates import catch_all_key, route_sentence
from reportdraft.verification.assertion_context import sentences
from reportdraft.verification.claims import Claim, Fact, claims_of, denies, facts_of
from reportdraft.verification.facts import extract_facts
from reportdraft.verification.hierarchy import hierarchy, spinal_levels
from reportdraft.verification.run_context import Context, quote
from reportdraft.verification.sources import render_ai_finding

SOURCE_SECTIONS = (None, SectionKind.FINDINGS, SectionKind.IMPRESSION)
"""Dictated sections whose sentences are facts (history and technique describe other things)."""

_LEAD = re.compile(r"^(?:there\s+(?:is|are)\s+)?no\b|^without\b", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*,\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+", re.IGNORECASE)
_CONJUNCTION = re.compile(r"\b(and|or)\b", re.IGNORECASE)
_SUBJECT = re.compile(
    r"^(?P<det>the\s+(?:visualized\s+|included\s+)?)?(?P<subject>.+?)\s+(?P<verb>is|are)\s+"
    r"(?P<rest>.+)$",
    re.IGNORECASE,
)
_WITHOUT = re.compile(r"\s+(without\s+.+)$", re.IGNORECASE)
_ADJECTIVE = re.compile(r"(?:al|ar|ic|ous|ary|ile|ine|ed)$")
_OTHER = re.compile(r"^other\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Drop:
    """A default clause that a fact contradicts."""

    clause: str
    fact: Fact


@dataclass(frozen=True)
class Plan:
    """What stays of one subsection's default: the rebuilt text (None: nothing) and why."""

    key: str
    text: str | None
    drops: tuple[Drop, ...] = ()


@dataclass(frozen=True)
class Contradiction:
    """A dictated sentence denying what another source asserts."""

    sentence: DictationSentence
    claim: Claim
    fact: Fact


# ----------------------------------------------------------------------------- facts


def case_facts(case: Case, dictated: Sequence[DictationSentence], template: Template) -> list[Fact]:
    """Positive facts of the Findings/Impression sentences in ``dictated`` and of the
    confirmed AI findings, each placed with the subsection its text routes to as fallback."""
    fallback = {
        sub.key: hierarchy().places_in(f"{sub.title}. {sub.default or ''}")
        for sub in template.findings
        if sub.key != catch_all_key(template)  # "other" says nothing about a place
    }
    facts: list[Fact] = []
    for sentence in dictated:
        if sentence.section in SOURCE_SECTIONS:
            where = fallback.get(route_sentence(template, sentence.text), frozenset())
            facts += facts_of(sentence.id, sentence.text, where)
    for finding in case.ai_findings:
        if finding.decision is Decision.CONFIRMED:
            text = render_ai_finding(finding)
            facts += facts_of(
                finding.id, text, fallback.get(route_sentence(template, text), frozenset())
            )
    return facts


# ---------------------------------------------------------------------- default clauses


@dataclass
class _Unit:
    phrase: str
    claims: tuple[Claim, ...]
    dropped: Fact | None = None


@dataclass
class _Group:
    """Items sharing a head noun ("pleural or pericardial effusion"): one unit per modifier."""

    noun: str
    units: list[_Unit] = field(default_factory=list)
    modifiers: list[str] = field(default_factory=list)


@dataclass
class _List:
    lead: str
    body: str
    conjunction: str
    groups: list[_Group]
    unknown: list[str]

    def units(self) -> list[_Unit]:
        return [u for g in self.groups for u in g.units]

    def rebuild(self) -> str | None:
        if not any(u.dropped for u in self.units()):
            return f"{self.lead} {self.body}"
        parts = _texts(self.groups, kept_only=True)
        return f"{self.lead} {_join(parts, self.conjunction)}" if parts else None


def _texts(groups: list[_Group], *, kept_only: bool = False) -> list[str]:
    out = []
    for group in groups:
        if not group.modifiers:
            if not (kept_only and group.units[0].dropped):
                out.append(group.noun)
            continue
        kept = [
            m
            for m, u in zip(group.modifiers, group.units, strict=True)
            if not (kept_only and u.dropped)
        ]
        if kept:
            out.append(f"{_join(kept, 'or')} {group.noun}")
    return out


def _join(parts: list[str], conjunction: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    if len(parts) == 2:
        return f"{parts[0]} {conjunction} {parts[1]}"
    return f"{', '.join(parts[:-1])}, {conjunction} {parts[-1]}"


def _adjectival(item: str) -> bool:
    """A list item that only modifies the next one's noun ("pleural" in "pleural or
    pericardial effusion"): each word is a place word, a qualifier, or looks adjectival."""
    h = hierarchy()
    for word in item.split():
        if h.places_in(word) or extract_facts(word).qualifiers or _ADJECTIVE.search(word.lower()):
            continue
        return False
    return True


def _negated_list(
    text: str, prefix: str, levels: frozenset[str], context: frozenset[str] = frozenset()
) -> _List | None:
    """Parse "No A, B, or C" / "without A or B" (``text`` has no final period). ``context``:
    places of the whole sentence, for an item that names none."""
    lead_match = _LEAD.match(text)
    if lead_match is None:
        return None
    position = lead_match.end()
    while True:
        word = re.match(r"\s+(\w+)", text[position:])
        if word is None or not hierarchy().distributive.fullmatch(word.group(1)):
            break
        position += word.end()
    lead, body = text[:position], text[position:].strip()
    items = [i.strip() for i in _SEPARATOR.split(body) if i.strip()]
    separators = _SEPARATOR.findall(body)
    conjunctions = [c.lower() for s in separators for c in _CONJUNCTION.findall(s)]
    conjunction = conjunctions[-1] if conjunctions else "or"
    groups: list[_Group] = []
    unknown: list[str] = []
    pending: list[str] = []

    def unit(phrase: str) -> _Unit:
        # "No lines, tubes, or other support devices": after other items, "other" is other
        # than those, not other than what the report says elsewhere
        said = _OTHER.sub("", phrase) if len(items) > 1 and phrase != items[0] else phrase
        claim_text = f"{prefix}{lead} {said}."
        claims = claims_of(
            claim_text, levels=levels, normal=False, start=len(prefix), context=context
        )
        return _Unit(phrase, claims)

    h = hierarchy()
    for item in items:
        if not extract_facts(item).findings and not any(h.signs.finditer(item)):
            (pending if _adjectival(item) else unknown).append(item)
            continue
        words = item.split()
        if pending and len(words) > 1:
            # the head item's first words parallel the modifiers before it ("acute or
            # aggressive osseous abnormality"): as many as the last modifier has
            cut = min(len(pending[-1].split()), len(words) - 1)
            modifiers, noun = [*pending, " ".join(words[:cut])], " ".join(words[cut:])
            group = _Group(noun=noun, modifiers=[m for m in modifiers if m])
            group.units = [unit(f"{m} {noun}") for m in group.modifiers]
        else:
            unknown += pending
            group = _Group(noun=item, units=[unit(item)])
        pending = []
        groups.append(group)
    unknown += pending
    return _List(lead, body, conjunction, groups, unknown)


def _plural(phrase: str) -> bool:
    last = phrase.split()[-1].lower()
    return last.endswith(("i", "ae")) or (last.endswith("s") and not last.endswith(("ss", "us")))


@dataclass
class _Sentence:
    """One default sentence: its droppable units and how to rebuild it."""

    text: str
    units: list[_Unit]
    listed: _List | None = None
    subjects: list[str] = field(default_factory=list)
    subject_match: re.Match[str] | None = None
    tail: _List | None = None

    def rebuild(self) -> str | None:
        end = self.text[-1] if self.text[-1] in ".!?" else ""
        if not any(u.dropped for u in self.all_units()):
            return self.text
        if self.listed is not None:
            body = self.listed.rebuild()
            return None if body is None else body + end
        main = self._main()
        if main is None:
            return None
        if self.tail is None:
            return main + end
        tail = self.tail.rebuild()
        return f"{main} {tail}{end}" if tail else main + end

    def _main(self) -> str | None:
        if self.subject_match is None:
            return None if self.units[0].dropped else _WITHOUT.sub("", self.text.rstrip(".!?"))
        kept = [s for s, u in zip(self.subjects, self.units, strict=True) if not u.dropped]
        if not kept:
            return None
        if self.units[-1].dropped and any(_ADJECTIVE.search(k.split()[-1].lower()) for k in kept):
            return None  # "anterior cerebral, and middle cerebral arteries": the noun is gone
        m = self.subject_match
        verb = m.group("verb")
        if len(kept) == 1:
            verb = ("are" if _plural(kept[0]) else "is") if verb.islower() else verb
        conjunction = _CONJUNCTION.findall(m.group("subject"))
        subject = _join(kept, conjunction[-1].lower() if conjunction else "and")
        return f"{m.group('det') or ''}{subject} {verb} {m.group('rest')}"

    def all_units(self) -> list[_Unit]:
        return [*self.units, *(self.tail.units() if self.tail else [])]


def _parse(text: str, levels: frozenset[str]) -> _Sentence:
    body = text.rstrip(".!? ")
    listed = _negated_list(body, "", levels, hierarchy().places_in(body))
    if listed is not None:
        return _Sentence(text, listed.units(), listed=listed)
    tail_match = _WITHOUT.search(body)
    main = body[: tail_match.start()] if tail_match else body
    tail = _negated_list(tail_match.group(1), f"{main} ", levels) if tail_match else None
    subject = _SUBJECT.match(main)
    if subject is not None:
        items = [i.strip() for i in _SEPARATOR.split(subject.group("subject")) if i.strip()]
        h = hierarchy()
        if len(items) > 1 and all(h.places_in(i) for i in items):
            det, rest = subject.group("det") or "", subject.group("rest")
            units = [
                _Unit(i, claims_of(f"{det}{i} is {rest}.", levels=levels, normal=True))
                for i in items
            ]
            return _Sentence(text, units, subjects=items, subject_match=subject, tail=tail)
    whole = _Unit(main, claims_of(f"{main}.", levels=levels, normal=True))
    if tail is None:
        whole = _Unit(text, claims_of(text, levels=levels, normal=True))
    return _Sentence(text, [whole], tail=tail)


def _title_levels(sub: FindingsSubsection) -> frozenset[str]:
    return spinal_levels(extract_facts(sub.title).codes)


def parse_default(text: str, levels: frozenset[str] = frozenset()) -> list[_Sentence]:
    """The sentences of a default text with their droppable units."""
    return [_parse(text[s:e].strip(), levels) for s, e in sentences(text)]


def plan_default(sub: FindingsSubsection, facts: Sequence[Fact]) -> Plan:
    """What stays of ``sub``'s default given the case's positive ``facts``."""
    if sub.default is None:  # no normal text (generic template): nothing to keep or drop
        return Plan(sub.key, None)
    parsed = parse_default(sub.default, _title_levels(sub))
    drops: list[Drop] = []
    for sentence in parsed:
        for unit in sentence.all_units():
            unit.dropped = next((f for f in facts if any(denies(c, f) for c in unit.claims)), None)
            if unit.dropped is not None:
                drops.append(Drop(unit.phrase, unit.dropped))
    if not drops:
        return Plan(sub.key, sub.default)
    kept = [t for t in (s.rebuild() for s in parsed) if t]
    return Plan(sub.key, " ".join(kept) or None, tuple(drops))


def plan_defaults(template: Template, facts: Sequence[Fact]) -> dict[str, Plan]:
    """:func:`plan_default` for every findings subsection of ``template``."""
    return {sub.key: plan_default(sub, facts) for sub in template.findings}


def _placed_umbrella(claim: Claim) -> bool:
    """An umbrella denial a dictated sentence makes about one place, strictly enough to
    count against another dictated sentence: "No suspicious findings in the left breast"
    beside a focal asymmetry there. Not "no acute ..." (said beside chronic or expected
    findings) and not an umbrella about a named finding ("no typical findings of pulmonary
    edema")."""
    if not claim.generic or not claim.places or claim.qualifiers & _LOOSE:
        return False
    return len(extract_facts(claim.text).findings) <= 1


_LOOSE = frozenset({"acute", "new"})


def contradictions(
    dictated: Sequence[DictationSentence], facts: Sequence[Fact]
) -> list[Contradiction]:
    """Dictated Findings/Impression sentences that deny what another source asserts."""
    found: list[Contradiction] = []
    seen: set[tuple[str, str]] = set()
    for sentence in dictated:
        if sentence.section not in SOURCE_SECTIONS:
            continue
        for claim in claims_of(sentence.text):
            placed = _placed_umbrella(claim)
            for fact in facts:
                key = (sentence.id, fact.source)
                if fact.source == sentence.id or key in seen:
                    continue
                if denies(claim, fact, exact=True, normal=True, umbrella=placed):
                    seen.add(key)
                    found.append(Contradiction(sentence, claim, fact))
    return found


# --------------------------------------------------------------------------------- flags


def _said(fact: Fact) -> str:
    return f"{fact.source} asserts '{fact.text}'"


def dropped_flags(sub: FindingsSubsection, plan: Plan, statement_id: str | None) -> list[Flag]:
    """Low default_conflict flags for the clauses the drafter dropped from ``sub``'s default
    (one per clause and source)."""
    flags = []
    seen: set[tuple[str, str]] = set()
    left = " (nothing of it is left)" if plan.text is None else ""
    for drop in plan.drops:
        if (drop.clause, drop.fact.source) in seen:
            continue
        seen.add((drop.clause, drop.fact.source))
        what = f'"{drop.clause}"{left}'
        flags.append(
            Flag(
                id="F1",
                kind=FlagKind.DEFAULT_CONFLICT,
                severity=Severity.LOW,
                message=(
                    f"template default of '{sub.title}': dropped {what}, "
                    f"which denies what the case says ({_said(drop.fact)})"
                )[:500],
                statement_id=statement_id,
                sources=[f"T:{sub.key}", drop.fact.source],
                evidence=[quote(f"T:{sub.key}", sub.default or "")[:500]],
            )
        )
    return flags


def contradiction_flag(
    item: Contradiction, statement_id: str | None, texts: dict[str, str]
) -> Flag:
    """The medium internal_contradiction flag of one contradiction."""
    source = item.fact.source
    return Flag(
        id="F1",
        kind=FlagKind.INTERNAL_CONTRADICTION,
        severity=Severity.MEDIUM,
        message=(
            f"the dictation contradicts itself: {item.sentence.id} denies "
            f"'{item.claim.text}', {_said(item.fact)}"
        )[:500],
        statement_id=statement_id,
        sources=[item.sentence.id, source],
        evidence=[
            quote(item.sentence.id, item.sentence.text)[:500],
            quote(source, texts.get(source, item.fact.text))[:500],
        ],
    )


def check_defaults(ctx: Context) -> None:
    """The consistency checks of this module on a draft (called by ``verify``)."""
    dictated = [s for s in ctx.dictation.sentences if s.section in SOURCE_SECTIONS]
    facts = case_facts(ctx.case, dictated, ctx.template)
    if not facts:
        return
    for item in contradictions(dictated, facts):
        citing = ctx.citing(item.sentence.id)
        flag = contradiction_flag(item, citing[0].id if citing else None, ctx.texts)
        ctx.flags.append(flag)
    findings = ctx.draft.section(SectionKind.FINDINGS)
    for sub in ctx.template.findings:
        plan = plan_default(sub, facts)
        if not plan.drops:
            continue
        own = [st for st in findings if f"T:{sub.key}" in st.sources]
        if any(st.text == plan.text for st in own) or not any(
            st.subsection == sub.key for st in findings
        ):
            ctx.flags += dropped_flags(sub, plan, own[0].id if own else None)
    for statement in [*findings, *ctx.draft.section(SectionKind.IMPRESSION)]:
        _statement(ctx, statement, facts)


def default_claims(text: str, levels: frozenset[str] = frozenset()) -> list[Claim]:
    """What a template default's ``text`` denies, read as :func:`check_defaults` reads a
    statement citing a default (every droppable unit's claims, normal claims included)."""
    return [c for s in parse_default(text, levels) for u in s.all_units() for c in u.claims]


def default_denies(text: str, facts: Sequence[Fact]) -> list[Fact]:
    """The ``facts`` a statement citing only the template default ``text`` (no subsection)
    would be flagged for denying: the drafter asks before it writes the normal impression,
    so that it never writes what ``verify`` calls a high default_conflict."""
    claims = default_claims(text)
    return [f for f in facts if any(denies(c, f, umbrella=True) for c in claims)]


def _statement_claims(ctx: Context, statement: Statement) -> list[Claim]:
    if not _cites_default(statement):
        return list(claims_of(statement.text, normal=False))
    sub = ctx.template.subsection(statement.subsection or "")
    return default_claims(statement.text, _title_levels(sub) if sub is not None else frozenset())


def _cites_default(statement: Statement) -> bool:
    return any(src.startswith("T:") for src in statement.sources)


def _statement(ctx: Context, statement: Statement, facts: Sequence[Fact]) -> None:
    """A statement that denies a fact of a source it does not cite (see module docs)."""
    cited = set(statement.sources)
    defaults = [s for s in statement.sources if s.startswith("T:")]
    own = [
        c
        for s in statement.sources
        if s[0] in "DA" and s in ctx.texts
        for c in claims_of(ctx.texts[s], normal=False)
    ]
    reported: set[str] = set()
    exact = not defaults  # a person's or a model's words: the strict test (see denies)
    for claim in _statement_claims(ctx, statement):
        for fact in facts:
            if fact.source in cited or fact.source in reported:
                continue
            if not denies(claim, fact, exact=exact, umbrella=True):
                continue
            if any(denies(c, fact) for c in own):
                continue  # the cited dictation says so itself: internal_contradiction
            reported.add(fact.source)
            kind = FlagKind.DEFAULT_CONFLICT if defaults else FlagKind.NEGATION
            origin = f"the template default ({', '.join(defaults)})" if defaults else "it"
            ctx.raise_flag(
                kind,
                Severity.HIGH,
                f"statement denies '{claim.text}' as {origin} says; {_said(fact)}",
                statement=statement,
                sources=[*statement.sources, fact.source],
                evidence=[
                    quote(statement.id, statement.text),
                    quote(fact.source, ctx.texts.get(fact.source, fact.text)),
                ],
            )
