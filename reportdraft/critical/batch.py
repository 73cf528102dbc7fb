"""Critical-finding detection over a batch of separate reports (JSON Lines).

``reportdraft critical --jsonl FILE|-`` reads one document per line, ``{"id", "text"}``
(optionally ``"body_part"`` and ``"modality"``, the study the text reports), and writes one
line per document, ``{"id", "mentions": [...]}``, with the same mention objects as the
plain command. Each document is analysed alone, so one report's headers, sentences or
study never reach into the next (concatenating reports into one text would let a History
header from one report govern the findings of the next).

The whole input is validated before anything is analysed: a bad line is an InputError
naming the line, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reportdraft.critical.detector import Detector, active_detector
from reportdraft.errors import InputError
from reportdraft.models.critical import StudyScope


class BatchDocument(BaseModel):
    """One input line. Not ``Strict``: its whitespace stripping would shift the offsets the
    mentions give into ``text``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=200)]
    text: Annotated[str, Field(max_length=200_000)]
    body_part: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    modality: Annotated[str, Field(min_length=1, max_length=20)] | None = None

    def study(self, default: StudyScope | None) -> StudyScope | None:
        """The line's own study, else ``default``."""
        if self.body_part is None and self.modality is None:
            return default
        return StudyScope(body_part=self.body_part, modality=self.modality)


def read_jsonl(content: str, source: str = "input") -> list[BatchDocument]:
    """Parse and validate every line of ``content``; blank lines are skipped.

    Raises InputError naming the first bad line (not JSON, not an object, a missing or
    unknown key, a duplicate id), or when there is no document at all.
    """
    documents: list[BatchDocument] = []
    seen: set[str] = set()
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InputError(f'{where}: expected an object {{"id", "text"}}')
        try:
            document = BatchDocument.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'line'}: {err['msg']}"
                for err in exc.errors()
            )
            raise InputError(f"{where}: {problems}") from None
        if document.id in seen:
            raise InputError(f"{where}: duplicate id {document.id!r}")
        seen.add(document.id)
        documents.append(document)
    if not documents:
        raise InputError(f"{source} holds no documents")
    return documents


def detect_documents(
    documents: Iterable[BatchDocument],
    *,
    section_aware: bool = False,
    study: StudyScope | None = None,
    detector: Detector | None = None,
) -> list[dict[str, Any]]:
    """``{"id", "mentions"}`` per document, in input order, each document analysed alone."""
    det = detector or active_detector()
    results: list[dict[str, Any]] = []
    for document in documents:
        found = det.detect_text(
            document.text, section_aware=section_aware, study=document.study(study)
        )
        results.append({"id": document.id, "mentions": [m.model_dump(mode="json") for m in found]})
    return results


def to_jsonl(results: Iterable[dict[str, Any]]) -> str:
    """One compact JSON object per line (UTF-8 text kept as is), ending with a newline."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
