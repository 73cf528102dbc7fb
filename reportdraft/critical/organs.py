"""Which organ an ambiguous finding belongs to: "nodule" and "mass" are lung findings only
with lung context.

"Spiculated nodule", "3.4 cm mass" or "enlarging nodule" match the lung entries of the
lexicon wherever they occur, but a thyroid, hepatic or adrenal nodule is not a lung nodule.
An entry with ``organ: lung`` keeps a mention only when (in order):

1. the mention's own words name another organ ("thyroid nodule"): no;
2. the sentence, or the sub-header it sits under ("LUNGS:"), names the organ (lobe, lung,
   pulmonary): yes;
3. the sentence or sub-header names another organ ("... in the liver"): no;
4. the caller said what the study is: yes when its body part is the organ's region
   ("chest");
5. otherwise the document decides: yes when it names the organ's region somewhere and no
   other organ anywhere (a chest report with no other organ named).

The word lists are data (``organs`` in the lexicon file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reportdraft.critical.finding_lexicon import OrganContext, phrase_pattern
from reportdraft.models.critical import StudyScope


def _finds(pattern: re.Pattern[str] | None, text: str | None) -> bool:
    return bool(pattern is not None and text and pattern.search(text))


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a mention sits: its words, its sentence, the sub-header above it, the study."""

    mention: str
    sentence: str
    header: str | None
    study: StudyScope | None
    document: str


class OrganMatcher:
    """The compiled word lists of one organ context."""

    def __init__(self, context: OrganContext) -> None:
        self.confirm = phrase_pattern(context.confirm)
        self.others = phrase_pattern(context.others)
        self.region = phrase_pattern(context.studies)

    def fits(self, where: Placement) -> bool:
        """True when the mention belongs to this organ (rules in the module docstring)."""
        if _finds(self.others, where.mention):
            return False
        if _finds(self.confirm, where.sentence) or _finds(self.confirm, where.header):
            return True
        if _finds(self.others, where.sentence) or _finds(self.others, where.header):
            return False
        if where.study is not None and where.study.body_part:
            return _finds(self.region, where.study.body_part)
        named = _finds(self.confirm, where.document) or _finds(self.region, where.document)
        return named and not _finds(self.others, where.document)
