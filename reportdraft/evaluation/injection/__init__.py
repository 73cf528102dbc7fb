"""Error injection: rewrite correct reports and drafts into ones with a known clinical error.

One engine, driven by one rules file (``reportdraft/data/evaluation/injection.yaml``,
validated by :func:`load_rules`), with two harnesses on top:

- :mod:`.metric_table` — the eval suite's table of which metric sees which error
  (:func:`run_injection`, run by ``reportdraft eval``);
- :mod:`.verifier_detection` — the verifier's detection set: plant one error in a correct
  draft and see whether the verifier flags it (:func:`evaluate`, used by
  ``tests/verify/test_injection.py`` and ``bench/verify_injection.py``).

:mod:`.rewrites` holds the rules model and every sentence rewrite both harnesses use.
"""

from reportdraft.evaluation.injection.metric_table import (
    INJECTABLE_SECTIONS,
    Annotate,
    ErrorKind,
    InjectionCell,
    InjectionResult,
    inject_draft,
    inject_sentences,
    pipeline_annotate,
    run_injection,
)
from reportdraft.evaluation.injection.rewrites import (
    InjectionRules,
    LengthEdit,
    add_negation,
    change_measurement,
    default_rules,
    edit_length,
    flip_negation,
    load_rules,
    remove_negation,
    swap_laterality,
)
from reportdraft.evaluation.injection.verifier_detection import (
    EXPECTED,
    MAX_PER_KIND,
    Injection,
    InjectionKind,
    KindResult,
    Report,
    Sample,
    Verifier,
    evaluate,
    inject,
)

__all__ = [
    "EXPECTED",
    "INJECTABLE_SECTIONS",
    "MAX_PER_KIND",
    "Annotate",
    "ErrorKind",
    "Injection",
    "InjectionCell",
    "InjectionKind",
    "InjectionResult",
    "InjectionRules",
    "KindResult",
    "LengthEdit",
    "Report",
    "Sample",
    "Verifier",
    "add_negation",
    "change_measurement",
    "default_rules",
    "edit_length",
    "evaluate",
    "flip_negation",
    "inject",
    "inject_draft",
    "inject_sentences",
    "load_rules",
    "pipeline_annotate",
    "remove_negation",
    "run_injection",
    "swap_laterality",
]
