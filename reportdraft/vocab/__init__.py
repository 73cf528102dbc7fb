"""Clinical vocabulary: the one home of the word lists every stage reads.

The data are YAML files in ``reportdraft/data/vocab/`` (one folder, one layout); this
package is their one reader (:mod:`reportdraft.vocab.loader`: validated with pydantic,
errors naming the file and the field, cached per file version) and the models of the lists
several stages share (:mod:`reportdraft.vocab.shared`: negation cues, side words, number
words and units, drafting synonyms, glue words). Each stage keeps its own compiled view of
what it reads (the verifier's regular expressions, the ConText rules, the dictation tables,
the redline's patterns) and the schema of its own files, but reads every file through
:func:`load_file`.

Files and their readers:

======================================  =======================================================
``negation.yaml``                       verifier, critical (ConText), redline
``laterality.yaml``                     verifier, redline
``numbers.yaml``                        dictation, verifier (``quantities``), redline
``synonyms.yaml``                       drafting (``deterministic``)
``glue_words.yaml``                     drafting (``model_rewrite``)
``findings.yaml``, ``anatomy.yaml``,    verifier (``vocabularies``)
``qualifiers.yaml``,
``abbreviations.yaml``,
``coverage.yaml``, ``verifier_cues.yaml``
``hierarchy.yaml``                      verifier (``hierarchy``)
``critical_lexicon.yaml``,              critical
``context_rules.yaml``, ``sections.yaml``
``dictation_commands.yaml``,            dictation
``dictation_instructions.yaml``
======================================  =======================================================

It sits in the foundation layer beside ``models`` and imports nothing but ``models``,
``errors`` and ``resources`` (``tests/test_architecture.py``).
"""

from __future__ import annotations

from reportdraft.vocab.loader import (
    field_errors,
    load_bundled,
    load_file,
    read_yaml,
    validate,
    vocab_dir,
    vocab_path,
)
from reportdraft.vocab.shared import (
    GlueWords,
    LateralityVocab,
    MeasurementUnit,
    NegationVocab,
    NumbersVocab,
    SharedNegation,
    SynonymsVocab,
    VerifierNegation,
    glue_words,
    laterality,
    negation,
    normal,
    numbers,
    synonyms,
)

__all__ = [
    "GlueWords",
    "LateralityVocab",
    "MeasurementUnit",
    "NegationVocab",
    "NumbersVocab",
    "SharedNegation",
    "SynonymsVocab",
    "VerifierNegation",
    "field_errors",
    "glue_words",
    "laterality",
    "load_bundled",
    "load_file",
    "negation",
    "normal",
    "numbers",
    "read_yaml",
    "synonyms",
    "validate",
    "vocab_dir",
    "vocab_path",
]
