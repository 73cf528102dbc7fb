"""The vocabularies are data, validated on load: a bad site file fails loudly, by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reportdraft.errors import ConfigurationError
from reportdraft.resources import package_data
from reportdraft.verification.vocabularies import lexicon, load_lexicon


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "verify"
    shutil.copytree(package_data("vocab"), target)
    return target


def test_bundled_vocabularies_load() -> None:
    lex = lexicon()
    assert lex.findings.lookup("pneumothoraces") == "pneumothorax"
    assert lex.anatomy.lookup("RIGHT VENTRICLE") == "right_ventricle"
    assert "pneumothorax" in lex.significant


def test_unknown_key_is_rejected(copy: Path) -> None:
    path = copy / "findings.yaml"
    path.write_text(path.read_text() + "\nsynonyms: []\n")
    with pytest.raises(ConfigurationError, match=r"findings\.yaml"):
        load_lexicon(copy)


def test_a_term_under_two_concepts_is_rejected(copy: Path) -> None:
    path = copy / "qualifiers.yaml"
    path.write_text(path.read_text() + "  - {id: twice, terms: [acute]}\n")
    with pytest.raises(ConfigurationError, match=r"'acute' is listed under"):
        load_lexicon(copy)


def test_a_bad_ignorable_pattern_is_rejected(copy: Path) -> None:
    path = copy / "coverage.yaml"
    path.write_text(path.read_text().replace('  - "thank you( very much)?"', '  - "thank (you"'))
    with pytest.raises(ConfigurationError, match=r"coverage\.yaml"):
        load_lexicon(copy)


def test_a_site_can_extend_a_vocabulary(copy: Path) -> None:
    path = copy / "findings.yaml"
    path.write_text(path.read_text() + "  - id: sarcoid\n    terms: [sarcoidosis]\n")
    assert load_lexicon(copy).findings.lookup("sarcoidosis") == "sarcoid"
