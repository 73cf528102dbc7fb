"""The verifier: grounding checks of a draft against its sources, and the clinical fact
extraction they compare.

This is the front door: other packages import from ``reportdraft.verification`` only, so
the modules behind it can be split or renamed without touching their callers.

- :func:`verify` (:mod:`.check`) runs every check over a draft and numbers the flags;
- :func:`source_texts` and :func:`render_ai_finding` (:mod:`.sources`) give the text each
  source id stands for, which the drafters quote and cite;
- :func:`extract_facts` and its term predicates (:mod:`.facts`) turn report text into
  clinical facts: findings with negation and side, anatomy, measurements, dates. The eval
  suite's finding metrics and the rules drafter read text through them too;
- the rules drafter's template-default planning (:mod:`.defaults`) decides which template
  default a dictated finding replaces, with the same hierarchy the default check uses.

The other modules are the checks' building blocks: context cues (:mod:`.assertion_context`),
vocabularies (:mod:`.vocabularies`), numbers and units (:mod:`.quantities`), facets, anatomy,
claims, the is-a hierarchy, and the statement, coverage and instruction checks.
"""

from reportdraft.verification.check import verify
from reportdraft.verification.claims import Fact, facts_of, lies_within
from reportdraft.verification.defaults import (
    case_facts,
    contradiction_flag,
    contradictions,
    default_denies,
    dropped_flags,
    plan_defaults,
)
from reportdraft.verification.facts import (
    Facts,
    FindingFact,
    Quantity,
    Temporality,
    exempt_from_impression,
    extract_facts,
    is_generic,
    is_incidental,
    is_significant,
)
from reportdraft.verification.sources import render_ai_finding, source_texts

__all__ = [
    "Fact",
    "Facts",
    "FindingFact",
    "Quantity",
    "Temporality",
    "case_facts",
    "contradiction_flag",
    "contradictions",
    "default_denies",
    "dropped_flags",
    "exempt_from_impression",
    "extract_facts",
    "facts_of",
    "is_generic",
    "is_incidental",
    "is_significant",
    "lies_within",
    "plan_defaults",
    "render_ai_finding",
    "source_texts",
    "verify",
]
