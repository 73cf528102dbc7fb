"""Drafting through a model: the deterministic draft first, then narrow model rewrites.

The embedded model is weak (docs/ARCHITECTURE.md#model-runtimes), hence this design: structure,
section placement and source citations come from the deterministic drafter; the model is
given one narrow job per piece — restate the dictated sources of one findings subsection
(or of the impression) as report sentences, citing source ids from an enum of exactly
those ids, with bounded lengths and counts. Each answer is parsed with pydantic (bounded
re-asks with a repair prompt), then *verified* against its sources; a piece whose answer
does not parse, drops a source, or draws a verifier flag falls back to the deterministic
statements, which are marked ``fallback`` with a flag saying why. A model can therefore
make a draft read better, never less grounded.

**Concurrency.** The pieces of one draft are independent: each is prompted from the
deterministic draft and its own sources, and verified against the deterministic draft with
only that piece replaced. So they are sent to the model at once (``concurrency`` at a
time, default :attr:`Backend.default_concurrency`: 1 for a model in this process, 8 for a
server), each with its own re-asks, verification and fallback; the results are put
together in the pieces' order, so the draft, its flags and its usage totals are the same
whatever order the answers arrive in.

Dictation is untrusted: it only ever reaches the model as quoted source data, the
structure is decided before the model runs, and the verifier plus the critical-finding
check run on the result whatever the model wrote. Dictated sentences addressed to the
drafting system (marked at normalisation) never reach a prompt at all, and an answer that
cites one, repeats one or reads as an instruction itself is rejected like any other
unverified answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from reportdraft import vocab
from reportdraft.backends import Backend, ChatMessage, GenerationRequest
from reportdraft.critical import most_urgent_category
from reportdraft.drafting.deterministic import draft_with_rules
from reportdraft.drafting.prompts import PromptSet, load_prompts
from reportdraft.errors import BackendError, ConfigurationError
from reportdraft.models import (
    SECTION_TITLES,
    Case,
    Draft,
    DraftSection,
    Flag,
    FlagKind,
    NormalizedDictation,
    SectionKind,
    Severity,
    Statement,
    Template,
    Usage,
)
from reportdraft.verification import source_texts, verify

MAX_REASKS = 1
"""Re-asks after an unparsable answer; each costs a full model call on a 2-core CPU."""

MAX_SENTENCE_CHARS = 240
BLOCKING = frozenset({Severity.HIGH, Severity.MEDIUM})


@dataclass
class _PieceWork:
    """What rewriting one piece produced: the statements kept, notes and token counts.

    Each piece fills its own, so pieces drafted on several threads share nothing mutable;
    :meth:`_ModelDrafter.refine` merges them in the pieces' order.
    """

    statements: list[Statement] = field(default_factory=list)
    notes: list[Flag] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0


@dataclass(frozen=True)
class Piece:
    """A unit the model rewrites: the statements of one subsection or of the impression."""

    section: SectionKind
    subsection: str | None
    statements: tuple[Statement, ...]

    @property
    def source_ids(self) -> list[str]:
        """Every source the piece's statements cite, in order."""
        return list(dict.fromkeys(src for st in self.statements for src in st.sources))


def output_model(allowed_ids: Sequence[str], max_items: int) -> type[BaseModel]:
    """Pydantic model of one answer; its JSON schema constrains the decoding.

    Source ids are an enum of exactly the ids of this piece, and lengths and counts are
    bounded: with bounds the small model returns valid JSON; without, it repeats itself
    until the token limit (docs/ARCHITECTURE.md#model-runtimes).
    """
    source: Any = Literal[tuple(allowed_ids)]
    sentence = create_model(
        "ModelSentence",
        __config__=ConfigDict(extra="forbid"),
        text=(Annotated[str, Field(min_length=3, max_length=MAX_SENTENCE_CHARS)], ...),
        sources=(Annotated[list[source], Field(min_length=1, max_length=len(allowed_ids))], ...),
    )
    return create_model(
        "ModelAnswer",
        __config__=ConfigDict(extra="forbid"),
        sentences=(Annotated[list[sentence], Field(min_length=1, max_length=max_items)], ...),
    )


def draft(
    case: Case,
    dictation: NormalizedDictation,
    template: Template,
    backend: Backend,
    *,
    prompts: PromptSet | None = None,
    created_at: datetime | None = None,
    concurrency: int | None = None,
) -> Draft:
    """Draft ``case`` with ``backend``; the rules backend returns the deterministic draft.

    ``prompts`` is the prompt set a model backend uses (the bundled one when None);
    ``concurrency`` is how many pieces are sent to the model at once (None: the backend's
    ``default_concurrency``). It changes how long a draft takes, never what it says.
    """
    workers = backend.default_concurrency if concurrency is None else concurrency
    if workers < 1:
        raise ConfigurationError(f"drafting concurrency must be at least 1, got {workers}")
    base = draft_with_rules(
        case, dictation, template, severity_of=most_urgent_category, created_at=created_at
    )
    if not backend.generates_text:
        return base
    drafter = _ModelDrafter(case, dictation, template, backend, prompts or load_prompts())
    return drafter.refine(base, concurrency=workers)


class _ModelDrafter:
    def __init__(
        self,
        case: Case,
        dictation: NormalizedDictation,
        template: Template,
        backend: Backend,
        prompts: PromptSet,
    ) -> None:
        self.case, self.dictation, self.template, self.backend = case, dictation, template, backend
        self.prompts = prompts
        self.sources = source_texts(case, dictation, template)
        self.withheld = frozenset(s.id for s in dictation.instructions())

    def refine(self, base: Draft, *, concurrency: int = 1) -> Draft:
        """Rewrite each piece with the model, keeping the deterministic one where it fails.

        Up to ``concurrency`` pieces are in flight at once; results are merged in the
        pieces' order (see the module docstring).
        """
        started = time.perf_counter()
        pieces = _pieces(base, self.withheld)
        workers = min(concurrency, len(pieces))
        if workers <= 1:
            done = [self._piece(base, piece) for piece in pieces]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rd-piece") as pool:
                done = list(pool.map(lambda piece: self._piece(base, piece), pieces))
        replaced: dict[str, list[Statement]] = {}
        usage = Usage()
        notes: list[Flag] = []
        for piece, work in zip(pieces, done, strict=True):
            first, *rest = piece.statements
            replaced[first.id] = work.statements
            replaced.update({st.id: [] for st in rest})
            notes += work.notes
            usage = usage.model_copy(
                update={
                    "prompt_tokens": usage.prompt_tokens + work.prompt_tokens,
                    "completion_tokens": usage.completion_tokens + work.completion_tokens,
                    "calls": usage.calls + work.calls,
                }
            )
        sections = []
        counter = 1
        for section in base.sections:
            statements: list[Statement] = []
            for st in section.statements:
                for new in replaced.get(st.id, [st]):
                    statements.append(new.model_copy(update={"id": f"S{counter}"}))
                    counter += 1
            sections.append(DraftSection(kind=section.kind, statements=statements))
        usage = usage.model_copy(update={"seconds": round(time.perf_counter() - started, 3)})
        provenance = base.provenance.model_copy(
            update={
                "backend": self.backend.name,
                "model": self.backend.model_id,
                "prompt_version": self.prompts.version,
                "usage": usage,
            }
        )
        fallback_flags = _fallback_flags(sections, notes)
        return base.model_copy(
            update={"sections": sections, "provenance": provenance, "flags": fallback_flags}
        )

    def _piece(self, base: Draft, piece: Piece) -> _PieceWork:
        """Rewrite and verify one piece; its deterministic statements when that fails."""
        work = _PieceWork()
        candidate = self._rewrite(piece, work)
        if candidate is None or not self._verified(base, piece, candidate, work):
            candidate = [st.model_copy(update={"fallback": True}) for st in piece.statements]
        work.statements = candidate
        return work

    def _rewrite(self, piece: Piece, work: _PieceWork) -> list[Statement] | None:
        ids = piece.source_ids
        max_items = min(len(piece.statements) + 1, 8)
        answer_model = output_model(ids, max_items)
        messages = [
            ChatMessage(role="system", content=self.prompts.render("system.j2")),
            ChatMessage(role="user", content=self._prompt(piece, max_items)),
        ]
        schema = answer_model.model_json_schema()
        for attempt in range(MAX_REASKS + 1):
            try:
                generation = self.backend.generate(
                    GenerationRequest(
                        messages=messages,
                        json_schema=schema,
                        max_tokens=min(90 * max_items + 40, 700),
                        temperature=0.0,
                        seed=0,
                    )
                )
            except BackendError as exc:
                self._note(work, piece, f"model call failed ({exc.code}): {exc.message}")
                return None
            work.calls += 1
            work.prompt_tokens += generation.prompt_tokens
            work.completion_tokens += generation.completion_tokens
            try:
                parsed = answer_model.model_validate_json(generation.text)
            except ValidationError as exc:
                error = "; ".join(e["msg"] for e in exc.errors()[:3])
                if generation.finish_reason == "length":
                    # Cut at max_tokens: greedy decoding would cut the re-ask the same way.
                    self._note(
                        work, piece, f"model answer hit the token limit and did not parse: {error}"
                    )
                    return None
                if attempt == MAX_REASKS:
                    self._note(
                        work,
                        piece,
                        f"model answer did not parse after {attempt + 1} tries: {error}",
                    )
                    return None
                messages = [
                    *messages,
                    ChatMessage(role="assistant", content=generation.text[:2000]),
                    ChatMessage(
                        role="user",
                        content=self.prompts.render("repair.j2", error=error, allowed_ids=ids),
                    ),
                ]
                continue
            return [
                Statement(
                    id=f"S{9000 + i}",
                    subsection=piece.subsection,
                    text=item.text.strip(),
                    sources=list(dict.fromkeys(item.sources)),
                    generator="model",
                )
                for i, item in enumerate(parsed.sentences)  # type: ignore[attr-defined]
            ]
        return None

    def _prompt(self, piece: Piece, max_items: int) -> str:
        sub = self.template.subsection(piece.subsection) if piece.subsection else None
        kind = "impression" if piece.section is SectionKind.IMPRESSION else "findings"
        guidance = self.template.impression_guidance if kind == "impression" else None
        return self.prompts.render(
            "rewrite.j2",
            study=self.case.study,
            section_title=SECTION_TITLES[piece.section],
            subsection_title=sub.title if sub else None,
            guidance=guidance,
            examples=self.prompts.examples[kind],
            sources=[
                {"id": i, "text": self.sources.get(i, "")}
                for i in piece.source_ids
                if i not in self.withheld
            ],
            max_items=max_items,
        )

    def _verified(
        self, base: Draft, piece: Piece, candidate: list[Statement], work: _PieceWork
    ) -> bool:
        cited = {src for st in candidate for src in st.sources}
        instructions = sorted(cited & self.withheld)
        if instructions:
            self._note(
                work,
                piece,
                f"model answer cited {', '.join(instructions)}, dictated as an instruction to "
                "the drafting system",
            )
            return False
        missing = [i for i in piece.source_ids if i not in cited]
        if missing:
            self._note(work, piece, f"model answer dropped source(s) {', '.join(missing)}")
            return False
        novel = sorted(
            {
                w
                for st in candidate
                for w in novel_words(st.text, [self.sources.get(src, "") for src in st.sources])
            }
        )
        if novel:
            self._note(
                work, piece, f"model answer used words its sources do not: {', '.join(novel[:8])}"
            )
            return False
        trial = _replace(base, piece, candidate)
        new_ids = {st.id for st in candidate}
        problems = [
            f
            for f in verify(trial, self.case, self.dictation, self.template)
            if f.severity in BLOCKING
            and (
                f.statement_id in new_ids
                or (f.statement_id is None and set(f.sources) & set(piece.source_ids))
            )
        ]
        if problems:
            self._note(
                work,
                piece,
                "verifier rejected the model answer: "
                + "; ".join(f"{p.kind.value}: {p.message}" for p in problems[:3]),
            )
            return False
        return True

    def _note(self, work: _PieceWork, piece: Piece, message: str) -> None:
        work.notes.append(
            Flag(
                id="F1",
                kind=FlagKind.FALLBACK,
                severity=Severity.LOW,
                message=message[:500],
                statement_id=piece.statements[0].id,
                sources=piece.source_ids,
            )
        )


_WORDS = re.compile(r"[A-Za-z][A-Za-z\-']*")


def novel_words(text: str, sources: Sequence[str]) -> list[str]:
    """Words of four or more letters in ``text`` that no source uses (glue words excepted).

    The model's job is to *restate* its sources; a new content word is either an invented
    finding, a misspelling, or meta text, and the deterministic statement is safer.
    """
    known = {w.lower() for src in sources for w in _WORDS.findall(src)} | vocab.glue_words()
    return [w for w in _WORDS.findall(text) if len(w) >= 4 and w.lower() not in known]


def _pieces(base: Draft, withheld: frozenset[str] = frozenset()) -> list[Piece]:
    """Findings subsections and the impression that hold dictated or AI content.

    A statement citing a ``withheld`` id (a dictated instruction to the system, which the
    rules drafter never places) is never given to the model: it stays as it is, flagged.
    """
    pieces: list[Piece] = []
    groups: dict[tuple[SectionKind, str | None], list[Statement]] = {}
    for section in base.sections:
        if section.kind not in (SectionKind.FINDINGS, SectionKind.IMPRESSION):
            continue
        for st in section.statements:
            if all(src.startswith(("T:", "C:")) for src in st.sources):
                continue
            if withheld.intersection(st.sources):
                continue
            key = (section.kind, st.subsection if section.kind is SectionKind.FINDINGS else None)
            groups.setdefault(key, []).append(st)
    for (kind, sub), statements in groups.items():
        pieces.append(Piece(section=kind, subsection=sub, statements=tuple(statements)))
    return pieces


def _replace(base: Draft, piece: Piece, candidate: list[Statement]) -> Draft:
    old = {st.id for st in piece.statements}
    sections = []
    for section in base.sections:
        statements: list[Statement] = []
        inserted = False
        for st in section.statements:
            if st.id in old:
                if not inserted:
                    statements.extend(candidate)
                    inserted = True
                continue
            statements.append(st)
        sections.append(DraftSection(kind=section.kind, statements=statements))
    return base.model_copy(update={"sections": sections})


def _fallback_flags(sections: list[DraftSection], notes: list[Flag]) -> list[Flag]:
    """Point each fallback note at the renumbered first statement of its piece."""
    by_sources: dict[tuple[str, ...], str] = {}
    for section in sections:
        for st in section.statements:
            if st.fallback:
                by_sources.setdefault(tuple(st.sources), st.id)
    flags = []
    for note in notes:
        target = next(
            (sid for srcs, sid in by_sources.items() if set(srcs) & set(note.sources)), None
        )
        flags.append(note.model_copy(update={"statement_id": target}))
    return flags
