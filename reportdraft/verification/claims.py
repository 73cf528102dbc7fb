"""Positive facts of a case and the denials of a text, and when a denial contradicts a fact.

A *fact* is a finding a source asserts (present or possible; not negated, hypothetical or
"no other"): a dictated Findings or Impression sentence, or a confirmed AI finding. A
*claim* is what a text denies: a negated finding ("No acute intracranial hemorrhage"), a
structure called normal ("The anterior cruciate ligament is intact", "The spleen is normal
in size"), or one value of an exclusive set (a breast density category). :func:`denies`
decides whether a claim contradicts a fact, with the kinds and places of
:mod:`reportdraft.verification.hierarchy`:

- a negated kind is denied by a fact of that kind or a descendant (a subdural hematoma
  denies "no intracranial hemorrhage" and "no extra-axial fluid collection"), or by a less
  specific fact that may be it ("an effusion" may be the pleural effusion denied); places
  must not exclude each other (one within the other, or either unknown);
- an umbrella denial ("no acute osseous abnormality") is denied by any non-benign fact
  inside its place;
- a normal claim is denied by a non-benign fact inside its structure, or, when it names an
  aspect ("normal in size"), only by the kinds of that aspect (splenomegaly);
- sides must agree, spinal levels must overlap, and a narrowing qualifier of the claim puts
  facts outside it ("no acute fracture" vs a healed fracture, "no significant effusion" vs a
  small one, "no suspicious lesion" vs a simple cyst).

Facts are placed generously (their clause and sentence, the places their kind implies, and,
with nothing else, the subsection the sentence was routed to), claims strictly (what their
own words name): a wrong "contradiction" only drops a normal sentence, a missed one leaves
the draft saying the opposite of the radiologist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from reportdraft.models import Laterality
from reportdraft.verification.assertion_context import clause_bounds, sentences
from reportdraft.verification.facts import extract_facts, is_generic
from reportdraft.verification.hierarchy import Hierarchy, hierarchy, spinal_levels
from reportdraft.verification.vocabularies import lexicon

_NEGATED_NORMAL = "no_normal"
_META = re.compile(r"findings?", re.IGNORECASE)
_SAID_NEGATIVE = re.compile(r"^[^,;]*?\b(?:is|are|was|were)\s+negative\b", re.IGNORECASE)
"""A sign called negative after it ("The sonographic Murphy sign is negative."): a denial,
which the negation cues (negation.yaml) do not read as one."""


def _called_negative(work: str, end: int, clause_end: int) -> bool:
    return _SAID_NEGATIVE.match(work[end:clause_end]) is not None


@dataclass(frozen=True)
class Fact:
    """A finding a source asserts, placed and refined into kinds.

    ``places``: named by its clause or sentence (or, with nothing else, the routed
    subsection's); ``implied``: implied by its kind (a hemothorax is in the pleura), used
    only to put the fact *inside* a place, never to make a place contain it;
    ``excluded``: kinds its words rule out; ``named``: false when ``places`` are only
    the routed subsection's (no word of the source says where it is).
    """

    source: str
    text: str
    kinds: frozenset[str]
    closure: frozenset[str]
    places: frozenset[str]
    implied: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()
    side: Laterality | None = None
    qualifiers: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()
    uncertain: bool = False
    benign: bool = False
    not_acute: bool = False
    generic: bool = False
    exclusive: tuple[str, int] | None = None
    named: bool = True
    mobile: bool = False


@dataclass(frozen=True)
class Claim:
    """What a text denies. ``kinds`` is None for a normal claim; ``aspects`` (normal claims
    only) the kinds it is about, None when it is about anything."""

    text: str
    kinds: frozenset[str] | None
    places: frozenset[str]
    side: Laterality | None = None
    qualifiers: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()
    generic: bool = False
    aspects: frozenset[str] | None = None
    exclusive: tuple[str, int] | None = None
    understood: bool = False


def _understood(work: str, start: int, end: int, extra: tuple[re.Pattern[str], ...] = ()) -> bool:
    """True when every word of ``work[start:end]`` is known: a finding, a place, a
    qualifier, a side, a context cue or a filler word ("No acute intracranial hemorrhage."
    is understood, "no tearing of the radial or ulnar attachment of the triangular
    fibrocartilage" is not: an unknown word may be the place the denial is about)."""
    lex = lexicon()
    text = work[start:end]
    spans: list[tuple[int, int]] = []
    for vocabulary in (
        lex.findings,
        lex.anatomy,
        hierarchy().places,
        lex.qualifiers,
        lex.sides,
        lex.cues.pre_negation,
        lex.cues.post_negation,
        lex.cues.pre_negation_other,
        lex.cues.pseudo,
        lex.cues.uncertain_pre,
        lex.cues.uncertain_post,
        lex.cues.terminators,
    ):
        spans += [(s, e) for s, e, _x, _i in vocabulary.finditer(text)]
    for pattern in extra:
        spans += [m.span() for m in pattern.finditer(text)]
    for word in re.finditer(r"[A-Za-z][A-Za-z'’-]{2,}", text):
        if any(s <= word.start() and word.end() <= e for s, e in spans):
            continue
        if word.group(0).lower() not in lex.cues.stopwords | _FILLER:
            return False
    return True


_FILLER = frozenset(
    {
        "the",
        "and",
        "any",
        "there",
        "are",
        "is",
        "was",
        "were",
        "has",
        "have",
        "seen",
        "sign",
        "identified",
        "demonstrated",
        "evidence",
    }
)


def _scope(text: str, start: int, end: int) -> str:
    """The words before a mention back to the last hard break of its sentence: where the
    lead of a list says "No suspicious masses, calcifications, or ..." for every item."""
    before = text[start:end]
    return re.split(r"[;:]", before)[-1]


def _clause(text: str, bounds: list[tuple[int, int]], start: int) -> str:
    return next((text[a:b] for a, b in bounds if a <= start < b), "")


def _side(text: str) -> Laterality | None:
    sides = extract_facts(text).lateralities
    return next(iter(sides)) if len(sides) == 1 else None


def _signs(h: Hierarchy, sentence: str) -> list[tuple[str, str, bool]]:
    """``(kind, surface, negated)`` of each sign named in ``sentence``. Polarity comes
    from the extractor's negated and asserted words (the same negation scopes), since a
    sign is no finding concept; hypothetical mentions are neither and are left out."""
    found = extract_facts(sentence)
    out = []
    for _s, _e, surface, kind in h.signs.finditer(sentence):
        unless = h.sign_unless.get(kind)
        if unless is not None and unless.search(sentence):
            continue
        words = {w.lower().removesuffix("s") for w in _WORDS.findall(surface)}
        if words & found.asserted_words:
            out.append((kind, surface, False))
        elif words & found.negated_words:
            out.append((kind, surface, True))
    return out


_WORDS = re.compile(r"[A-Za-z][a-z]{3,}")


def _absences(h: Hierarchy, sentence: str) -> list[tuple[str, str]]:
    """``(kind, surface)`` of each normal sign ``sentence`` says is absent ("no detectable
    intratesticular flow"): a positive finding, though its words are negated."""
    found = extract_facts(sentence)
    out = []
    for _s, _e, surface, kind in h.absences.finditer(sentence):
        unless = h.absence_unless.get(kind)
        if unless is not None and unless.search(sentence):
            continue
        words = {w.lower().removesuffix("s") for w in _WORDS.findall(surface)}
        if words & found.negated_words and not words & found.asserted_words:
            out.append((kind, surface))
    return out


def _exclusive(h: Hierarchy, text: str) -> list[tuple[str, int]]:
    return [
        (group, index)
        for group, values in h.exclusive
        for index, pattern in enumerate(values)
        if pattern.search(text)
    ]


@lru_cache(maxsize=4096)
def facts_of(source: str, text: str, fallback: frozenset[str] = frozenset()) -> tuple[Fact, ...]:
    """The positive facts of one source text (cached: the drafter and ``verify`` ask for the
    same ones).

    ``fallback``: places for a fact whose words, sentence and kind name none (the places of
    the template subsection its sentence was routed to).
    """
    return tuple(_facts_of(source, text, fallback))


def _facts_of(source: str, text: str, fallback: frozenset[str]) -> list[Fact]:
    h = hierarchy()
    facts = extract_facts(text)
    work = facts.text
    out: list[Fact] = []
    for s_start, s_end in sentences(work):
        sentence = work[s_start:s_end]
        levels = spinal_levels(extract_facts(sentence).codes)
        around = h.places_in(sentence, landmarks=False) | h.level_places(levels)
        bounds = clause_bounds(work, s_start, s_end)
        for mention in facts.findings:
            if not s_start <= mention.start < s_end or not mention.asserted:
                continue
            if _called_negative(work, mention.end, s_end):
                continue
            clause = _clause(work, bounds, mention.start) or sentence
            explicit = h.places_in(clause, landmarks=False) | around
            kinds = h.classify(mention.term, clause, explicit)
            closure = h.closure(kinds)
            generic = is_generic(mention.term) and kinds == frozenset({mention.term})
            implied = frozenset(p for k in closure for p in h.kinds[k].located)
            if generic and (not explicit or _META.fullmatch(mention.text)):
                continue  # "Findings were discussed", "an abnormality": nothing to place
            named = bool(explicit)
            if not generic and not explicit and not implied:
                explicit = fallback
            out.append(
                Fact(
                    source=source,
                    text=mention.text,
                    kinds=kinds,
                    closure=closure,
                    places=explicit,
                    implied=frozenset() if generic else implied,
                    excluded=h.excluded(mention.term, clause),
                    side=mention.laterality,
                    qualifiers=frozenset(q for q in mention.qualifiers if not q.startswith("no_")),
                    levels=levels,
                    uncertain=mention.uncertain,
                    benign=h.benign(kinds),
                    not_acute=h.not_acute(kinds),
                    generic=generic,
                    named=named,
                    mobile=h.mobile(kinds),
                )
            )
        out += _qualifier_facts(h, source, work, bounds, around, levels)
        signs = [(k, text) for k, text, negated in _signs(h, sentence) if not negated]
        for kind, surface in [*signs, *_absences(h, sentence)]:
            kinds = frozenset({kind})
            out.append(
                Fact(
                    source=source,
                    text=surface,
                    kinds=kinds,
                    closure=h.closure(kinds),
                    places=around,
                    implied=h.kinds[kind].located,
                    side=_side(sentence),
                    levels=levels,
                )
            )
        out += [
            Fact(source, sentence.strip(), frozenset(), frozenset(), around, exclusive=value)
            for value in _exclusive(h, sentence)
        ]
    return out


def _qualifier_facts(
    h: Hierarchy,
    source: str,
    work: str,
    bounds: list[tuple[int, int]],
    around: frozenset[str],
    levels: frozenset[str],
) -> list[Fact]:
    """Facts said with a qualifier alone: "the left testis is enlarged" (no finding word)."""
    out = []
    for start, end in bounds:
        clause = work[start:end]
        found = extract_facts(clause)
        if found.findings:
            continue  # the qualifier describes that finding ("enlarged nodule")
        groups = {q for q in found.qualifiers if not q.startswith("no_")}
        places = h.places_in(clause) or around
        if not places:
            continue
        for rule in h.qualifier_kinds:
            if rule.qualifier not in groups:
                continue
            if rule.within and not any(h.within(p, c) for p in places for c in rule.within):
                continue
            kinds = frozenset({rule.kind})
            out.append(
                Fact(
                    source=source,
                    text=clause.strip(),
                    kinds=kinds,
                    closure=h.closure(kinds),
                    places=places,
                    side=_side(clause),
                    levels=levels,
                    benign=h.benign(kinds),
                    not_acute=h.not_acute(kinds),
                    generic=rule.kind in h.kinds and is_generic(rule.kind),
                )
            )
            groups.discard(rule.qualifier)
    return out


def claims_of(
    text: str,
    *,
    levels: Iterable[str] = (),
    normal: bool = True,
    start: int = 0,
    context: frozenset[str] = frozenset(),
) -> tuple[Claim, ...]:
    """What ``text`` denies. ``normal=False``: negated findings only; ``start``: ignore
    negated mentions before this offset (the subject of "X is normal without Y");
    ``levels``: spinal levels the text is about although it does not name them (a
    level's subsection of a spine template); ``context``: places of a denial that names
    none (the item "shadowing calculus" of "No hydronephrosis, shadowing calculus, or solid
    renal mass")."""
    return _claims_of(text, frozenset(levels), normal, start, frozenset(context))


@lru_cache(maxsize=8192)
def _claims_of(
    text: str, given: frozenset[str], normal: bool, start: int, context: frozenset[str]
) -> tuple[Claim, ...]:
    h = hierarchy()
    facts = extract_facts(text)
    work = facts.text
    out: list[Claim] = []
    for s_start, s_end in sentences(work):
        sentence = work[s_start:s_end]
        lv = given | spinal_levels(extract_facts(sentence).codes)
        bounds = clause_bounds(work, s_start, s_end)
        understood = _understood(work, s_start, s_end)
        for mention in facts.findings:
            if not s_start <= mention.start < s_end or mention.start < start:
                continue
            negated = mention.negated or (
                mention.asserted and _called_negative(work, mention.end, s_end)
            )
            if not negated or mention.other:
                continue
            clause = _clause(work, bounds, mention.start) or sentence
            places = h.specific(h.places_in(clause) or h.places_in(sentence) or context)
            kinds = h.classify(mention.term, clause, places)
            qualifiers = {q.removeprefix("no_") for q in mention.qualifiers}
            scope = _scope(work, s_start, mention.end)
            qualifiers |= {q.id for q in h.qualifiers if q.terms and q.terms.search(scope)}
            out.append(
                Claim(
                    text=clause.strip(" ,"),
                    kinds=kinds,
                    places=places,
                    side=mention.laterality,
                    qualifiers=frozenset(qualifiers),
                    levels=lv,
                    generic=is_generic(mention.term) and kinds == frozenset({mention.term}),
                    understood=understood,
                )
            )
        if s_start >= start:
            out += [
                Claim(
                    text=surface,
                    kinds=frozenset({kind}),
                    places=h.specific(h.places_in(sentence) or context),
                    side=_side(sentence),
                    levels=lv,
                    understood=understood,
                )
                for kind, surface, negated in _signs(h, sentence)
                if negated
            ]
        if normal:
            out += _normal_claims(h, sentence, lv)
    return tuple(out)


def _normal_claims(h: Hierarchy, sentence: str, levels: frozenset[str]) -> list[Claim]:
    main = sentence.split(" without ")[0]
    out = [
        Claim(text=sentence.strip(), kinds=None, places=frozenset(), exclusive=value)
        for value in _exclusive(h, sentence)
    ]
    if not h.normal.search(main) or _NEGATED_NORMAL in extract_facts(main).qualifiers:
        return out
    places = h.specific(h.places_in(main))
    if not places:
        return out
    named = [a for a in h.aspects if a.words.search(main)]
    # understood: a normal claim only ("The gallbladder is unremarkable."), every word
    # known; "Normal peroneal tendons" (which tendons?) or "synovitis ... with intrinsically
    # normal tendons" are not, and never count as the dictation contradicting itself
    words = (h.normal, *(a.words for a in h.aspects))
    said = extract_facts(main)
    understood = (
        _understood(main, 0, len(main), words)
        and not any(m.asserted for m in said.findings)
        and len(said.lateralities) <= 1  # "the left MCA and both ACAs are patent": whose side?
    )
    aspects = None
    if named and not any(a.broad for a in named):
        aspects = frozenset(k for a in named for k in a.kinds)
    out.append(
        Claim(
            text=main.strip(" ."),
            kinds=None,
            places=places,
            side=_side(main),
            qualifiers=frozenset(q for a in named for q in a.qualifiers),
            levels=levels,
            aspects=aspects,
            understood=understood,
        )
    )
    return out


def _sides_meet(a: Laterality | None, b: Laterality | None) -> bool:
    if a is None or b is None or a == b:
        return True
    return Laterality.BILATERAL in (a, b)


def _qualifiers_allow(h: Hierarchy, claim: Claim, fact: Fact) -> bool:
    for qualifier in h.qualifiers:
        if qualifier.id not in claim.qualifiers:
            continue
        if fact.qualifiers & qualifier.unless:
            return False
        if "benign" in qualifier.skip and fact.benign:
            return False
        if "not_acute" in qualifier.skip and (fact.not_acute or fact.benign):
            return False
        if "uncertain" in qualifier.skip and fact.uncertain:
            return False
    return True


def lies_within(fact: Fact, containers: Iterable[str]) -> bool:
    """The fact lies inside one of ``containers`` (place ids of the hierarchy), by its named
    or its implied places: dilated small-bowel loops lie within the bowel."""
    return _inside(hierarchy(), fact, frozenset(containers))


def _inside(h: Hierarchy, fact: Fact, containers: frozenset[str]) -> bool:
    """The fact lies inside one of ``containers`` (by its named or its implied places)."""
    return any(h.within(p, c) for p in fact.places | fact.implied for c in containers)


def _overlap(h: Hierarchy, fact: Fact, places: frozenset[str]) -> bool:
    """The fact and a denial's places do not exclude each other: the fact lies inside one of
    them, or one of them inside the fact's place (its named place, or with none, the place
    its kind implies: a hemoperitoneum may fill the cul-de-sac; for a mobile kind, both)."""
    if not fact.places and not fact.implied:
        return True
    around = hierarchy().pinned(fact.places) or fact.implied
    if fact.mobile:
        around |= fact.implied
    return _inside(h, fact, places) or any(h.within(c, p) for c in places for p in around)


def _normal_denied_exactly(h: Hierarchy, claim: Claim, fact: Fact) -> bool:
    """The strict test of a normal claim a radiologist dictated against another dictated
    fact: the claim is about a structure (not a body region: "the soft tissues are
    unremarkable" is said loosely), whole ("otherwise unremarkable" is not), and the fact's
    own words put it inside that structure; benign, chronic and merely possible facts do not
    count ("The kidneys are normal. Simple cyst in the left kidney." is common usage)."""
    places = claim.places - h.regions  # "arterial and venous flow in the testis"
    if not claim.understood or not places or places & h.lumped:
        return False
    if h.exceptions is not None and h.exceptions.search(claim.text):
        return False
    if fact.benign or fact.not_acute or fact.uncertain or fact.generic or not fact.named:
        return False
    if not any(h.within(p, c) for p in fact.places for c in places):
        return False
    if claim.aspects is None:
        return True
    return bool(fact.closure & claim.aspects)


def denies(
    claim: Claim,
    fact: Fact,
    *,
    exact: bool = False,
    umbrella: bool = False,
    normal: bool = False,
) -> bool:
    """True when ``claim`` says the opposite of ``fact``.

    ``exact``: the strict test for text a radiologist or a model wrote (what counts as the
    dictation contradicting itself, or an edited statement denying a source): a denial
    whose every word is understood (not "no cuboid fracture", whose unknown word may be the
    place it is about), against a fact of that kind or a descendant, inside the place the
    denial names if it names one. Normal claims and less specific facts are left out, and
    umbrella words unless ``umbrella``: radiologists use them loosely. ``normal`` (with
    ``exact``): normal claims count too, by :func:`_normal_denied_exactly`.
    """
    h = hierarchy()
    if claim.exclusive is not None or fact.exclusive is not None:
        return (
            not exact
            and claim.exclusive is not None
            and fact.exclusive is not None
            and claim.exclusive[0] == fact.exclusive[0]
            and claim.exclusive[1] != fact.exclusive[1]
        )
    if not _sides_meet(claim.side, fact.side):
        return False
    if (
        claim.levels
        and fact.levels
        and not (claim.levels <= fact.levels or fact.levels <= claim.levels)
    ):
        return False
    if not _qualifiers_allow(h, claim, fact):
        return False
    if claim.kinds is None:
        if exact:
            return normal and _normal_denied_exactly(h, claim, fact)
        if not _inside(h, fact, claim.places):
            return False
        if claim.aspects is None:
            return not fact.benign
        return bool(fact.closure & claim.aspects)
    if exact and not (claim.understood and (not claim.places or _inside(h, fact, claim.places))):
        return False
    if claim.generic:
        if (exact and not umbrella) or fact.benign:
            return False
        return not claim.places or _inside(h, fact, claim.places)
    if not claim.kinds & fact.closure:
        wider = h.closure(claim.kinds) - claim.kinds
        if exact or not fact.kinds & wider or h.closure(claim.kinds) & fact.excluded:
            return False
    return not claim.places or _overlap(h, fact, claim.places)
