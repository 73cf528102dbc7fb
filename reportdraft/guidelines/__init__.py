"""Guideline follow-up recommendations, computed from the case and cited.

The front door: other packages import from ``reportdraft.guidelines`` only.

- :func:`recommend` / :func:`evaluate` (:mod:`.engine`) apply every guideline to a case:
  Fleischner 2017, Lung-RADS v2022, ACR TI-RADS 2017, ACR incidental adrenal 2017, Bosniak
  2019, BI-RADS 2013; the dictated recommendations are attributed to findings and
  compared (discordances);
- :func:`statement_text` words a finding's recommendation for the Impression;
- :func:`guideline` (:mod:`.rulebook`) loads a guideline's versioned data file.

Layer: below the verifier and the drafter (both import it), above the dictation
normaliser and the models it reads (docs/ARCHITECTURE.md#layers).
"""

from reportdraft.guidelines.dictated import concordant, primary_interval, statement_text
from reportdraft.guidelines.engine import Guidance, evaluate, impression_additions, recommend
from reportdraft.guidelines.outcome import FindingOutcome
from reportdraft.guidelines.reading import actions, intervals, is_recommendation
from reportdraft.guidelines.rulebook import GUIDELINE_IDS, Guideline, guideline, load_guideline

__all__ = [
    "GUIDELINE_IDS",
    "FindingOutcome",
    "Guidance",
    "Guideline",
    "actions",
    "concordant",
    "evaluate",
    "guideline",
    "impression_additions",
    "intervals",
    "is_recommendation",
    "load_guideline",
    "primary_interval",
    "recommend",
    "statement_text",
]
