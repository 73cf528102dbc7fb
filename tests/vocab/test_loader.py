"""The one vocabulary loader: every bundled file read through it, clear errors, caching.

Issue 14 point 2: one ``vocab`` package, data files plus ONE validated loader that every
stage reads. These tests hold that shape: each file in ``reportdraft/data/vocab/`` loads
through its stage's reader; a malformed file fails with the file and the field named; no
stage module parses YAML itself; no two vocabulary classes share a name.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from reportdraft import vocab
from reportdraft.errors import ConfigurationError
from reportdraft.vocab import (
    LateralityVocab,
    NegationVocab,
    NumbersVocab,
    SynonymsVocab,
    load_file,
    vocab_dir,
)

PACKAGE = Path(__file__).resolve().parents[2] / "reportdraft"


def _readers() -> dict[str, Callable[[Path], object]]:
    """Bundled file name -> the stage function that reads it from a folder copy."""
    from reportdraft.critical.context_rules import load_rules
    from reportdraft.critical.finding_lexicon import load_lexicon as critical_lexicon
    from reportdraft.critical.sections import load_sections
    from reportdraft.dictation import load_instructions
    from reportdraft.dictation import load_lexicon as dictation_lexicon
    from reportdraft.drafting.impression import load_impression_rules
    from reportdraft.verification.hierarchy import load_hierarchy
    from reportdraft.verification.vocabularies import load_lexicon as verifier_lexicon
    from reportdraft.vocab import GlueWords

    def verifier(folder: Path) -> object:
        return verifier_lexicon(folder)

    return {
        "negation.yaml": lambda d: load_file(d / "negation.yaml", NegationVocab, "negation"),
        "laterality.yaml": lambda d: load_file(d / "laterality.yaml", LateralityVocab, "sides"),
        "numbers.yaml": lambda d: dictation_lexicon(
            d / "dictation_commands.yaml", d / "numbers.yaml"
        ),
        "synonyms.yaml": lambda d: load_file(d / "synonyms.yaml", SynonymsVocab, "synonyms"),
        "glue_words.yaml": lambda d: load_file(d / "glue_words.yaml", GlueWords, "glue words"),
        "findings.yaml": verifier,
        "anatomy.yaml": verifier,
        "qualifiers.yaml": verifier,
        "abbreviations.yaml": verifier,
        "coverage.yaml": verifier,
        "verifier_cues.yaml": verifier,
        "hierarchy.yaml": lambda d: load_hierarchy(d / "hierarchy.yaml", verifier_lexicon(d)),
        "critical_lexicon.yaml": lambda d: critical_lexicon(d / "critical_lexicon.yaml"),
        "context_rules.yaml": lambda d: load_rules(
            d / "context_rules.yaml",
            negation=load_file(d / "negation.yaml", NegationVocab, "negation"),
        ),
        "sections.yaml": lambda d: load_sections(d / "sections.yaml"),
        "dictation_commands.yaml": lambda d: dictation_lexicon(
            d / "dictation_commands.yaml", d / "numbers.yaml"
        ),
        "dictation_instructions.yaml": lambda d: load_instructions(
            d / "dictation_instructions.yaml"
        ),
        "impression.yaml": lambda d: load_impression_rules(d / "impression.yaml"),
    }


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "vocab"
    shutil.copytree(vocab_dir(), target)
    return target


def test_every_vocabulary_file_has_one_reader_and_loads() -> None:
    """One layout: every file of the folder is read by a stage, and every reader's file is there."""
    readers = _readers()
    present = {p.name for p in vocab_dir().glob("*.yaml")}
    assert present == set(readers)
    for name, read in readers.items():
        assert read(vocab_dir()) is not None, name


@pytest.mark.parametrize(
    ("name", "old", "new", "field"),
    [
        ("laterality.yaml", "left: [left,", "middle: [left,", "sides.middle"),
        ("numbers.yaml", "twelve: 12,", "twelve: 25,", "ones.twelve"),
        ("negation.yaml", "context_rule: neg_without", "context_rule: Neg-Without", "shared.2"),
        ("synonyms.yaml", "tear: [tear, torn]", "tear: [tear, Torn]", "synonyms"),
        ("critical_lexicon.yaml", "category: 1", "category: 7", "category"),
        ("verifier_cues.yaml", "pseudo:", "pseudo_cues:", "pseudo_cues"),
    ],
)
def test_a_bad_file_fails_naming_file_and_field(
    copy: Path, name: str, old: str, new: str, field: str
) -> None:
    path = copy / name
    text = path.read_text("utf-8")
    assert old in text, f"{name} no longer holds {old!r}: update the test"
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(ConfigurationError) as caught:
        _readers()[name](copy)
    message = str(caught.value)
    assert name in message
    assert field in message


def test_a_cue_listed_twice_is_rejected(copy: Path) -> None:
    path = copy / "negation.yaml"
    path.write_text(
        path.read_text("utf-8").replace(
            "neg_unlikely: [unlikely,", "neg_unlikely: [not seen, unlikely,"
        ),
        "utf-8",
    )
    with pytest.raises(ConfigurationError, match="'not seen' is listed under verifier_only post"):
        load_file(path, NegationVocab, "negation cues")


def test_unreadable_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read laterality"):
        load_file(tmp_path / "missing.yaml", LateralityVocab, "laterality")
    broken = tmp_path / "broken.yaml"
    broken.write_text("sides: [unclosed", "utf-8")
    with pytest.raises(ConfigurationError, match=r"cannot read laterality .*broken\.yaml"):
        load_file(broken, LateralityVocab, "laterality")


def test_loads_are_cached_per_file_version(copy: Path) -> None:
    path = copy / "numbers.yaml"
    first = load_file(path, NumbersVocab, "numbers")
    assert load_file(path, NumbersVocab, "numbers") is first
    path.write_text(
        path.read_text("utf-8").replace("written_count_max: 12", "written_count_max: 10"),
        "utf-8",
    )
    changed = load_file(path, NumbersVocab, "numbers")
    assert changed is not first
    assert changed.written_count_max == 10
    assert vocab.numbers() is vocab.numbers()


VOCABULARY_MODULES = (
    "verification",
    "critical",
    "dictation",
    "redline.py",
    "drafting/deterministic.py",
    "drafting/model_rewrite.py",
)


def _modules() -> list[Path]:
    found: list[Path] = []
    for name in VOCABULARY_MODULES:
        path = PACKAGE / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def test_no_stage_parses_yaml_itself() -> None:
    """The stages read vocabulary only through ``reportdraft.vocab`` (no second YAML loader)."""
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import) and any(a.name == "yaml" for a in node.names):
                offenders.append(str(path.relative_to(PACKAGE)))
            if isinstance(node, ast.ImportFrom) and node.module == "yaml":
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


VOCABULARY_CLASS = re.compile(r"(?:Lexicon|Vocab|Vocabulary|File|Cues?|RuleSet|Spec|Entry)$")
"""Names of the classes that hold or compile vocabulary (file schemas, compiled views)."""


def test_no_two_vocabulary_classes_share_a_name() -> None:
    """Before issue 14 three classes were called ``Lexicon`` (redline, verifier, critical)."""
    seen: dict[str, list[str]] = {}
    for path in [*_modules(), *sorted((PACKAGE / "vocab").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef) and VOCABULARY_CLASS.search(node.name):
                seen.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}
