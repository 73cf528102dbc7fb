"""The verifier's negation and ConText's share their common cues, and differ only as declared.

The two algorithms differ on purpose (the verifier: fast, deterministic, NegEx-style, the
same on statement and source; ConText: scopes, directions and rule ids shown to the
radiologist), so both are kept. What they share is written once, in ``negation.yaml``'s
``shared`` list, and each algorithm's own cues are declared there as ``verifier_only`` or
``context_only``. These tests recompute both algorithms' *compiled* cue lists, the ones
they match with, and compare them with those declarations: a cue that reaches one
algorithm without being declared (written straight into ``context_rules.yaml``, or into a
list of one algorithm while the other has it too) fails here.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from reportdraft.critical.context_rules import ContextRuleSet, CueCategory, load_rules
from reportdraft.errors import ConfigurationError
from reportdraft.verification.vocabularies import VerifierLexicon, load_lexicon
from reportdraft.vocab import NegationVocab, load_file, normal, vocab_dir


@dataclass(frozen=True)
class Disagreement:
    """How the compiled cue lists differ from what ``negation.yaml`` declares."""

    shared_not_declared: frozenset[str]
    """Cues both algorithms match that are not in ``shared``."""
    shared_missing: frozenset[str]
    """Cues declared shared that one algorithm does not match."""
    verifier_undeclared: frozenset[str]
    """Cues only the verifier matches, not declared ``verifier_only``."""
    context_undeclared: frozenset[str]
    """Cues only ConText matches, not declared ``context_only``."""

    def __bool__(self) -> bool:
        return any(
            (
                self.shared_not_declared,
                self.shared_missing,
                self.verifier_undeclared,
                self.context_undeclared,
            )
        )


def verifier_negation_cues(lexicon: VerifierLexicon) -> frozenset[str]:
    """Every negation cue the verifier matches (forward, backward and "no other" ones)."""
    cues = lexicon.cues
    lists = (cues.pre_negation, cues.post_negation, cues.pre_negation_other)
    return frozenset(normal(term) for vocabulary in lists for term in vocabulary.ids)


def context_negation_cues(rules: ContextRuleSet) -> frozenset[str]:
    """Every phrase of ConText's negation rules (token patterns are not phrase cues)."""
    return frozenset(
        normal(phrase)
        for rule in rules.rules
        if rule.category is CueCategory.NEGATED
        for phrase in rule.phrases
    )


def disagreement(
    declared: NegationVocab, lexicon: VerifierLexicon, rules: ContextRuleSet
) -> Disagreement:
    """Compare the two algorithms' compiled cues with the declarations of ``negation.yaml``."""
    verifier = verifier_negation_cues(lexicon)
    context = context_negation_cues(rules)
    both = verifier & context
    shared = declared.shared_cues()
    return Disagreement(
        shared_not_declared=both - shared,
        shared_missing=shared - both,
        verifier_undeclared=(verifier - context) - declared.verifier_only_cues(),
        context_undeclared=(context - verifier) - declared.context_only_cues(),
    )


def _load(folder: Path) -> tuple[NegationVocab, VerifierLexicon, ContextRuleSet]:
    declared = load_file(folder / "negation.yaml", NegationVocab, "negation cues")
    rules = load_rules(folder / "context_rules.yaml", negation=declared)
    return declared, load_lexicon(folder), rules


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "vocab"
    shutil.copytree(vocab_dir(), target)
    return target


def test_bundled_cue_lists_agree() -> None:
    declared, lexicon, rules = _load(vocab_dir())
    assert disagreement(declared, lexicon, rules) == Disagreement(
        frozenset(), frozenset(), frozenset(), frozenset()
    )
    # the shared part is substantial: the core cues of both algorithms
    assert {"no", "not", "without", "negative for", "free of", "is absent"} <= (
        declared.shared_cues()
    )


def test_the_domain_traps_stay_out_of_both() -> None:
    """ "free" ("free air") and "rule out" / "evaluate for" (hypothetical) negate in neither."""
    _declared, lexicon, rules = _load(vocab_dir())
    every = verifier_negation_cues(lexicon) | context_negation_cues(rules)
    assert {"free", "rule out", "evaluate for"}.isdisjoint(every)


def test_a_phrase_written_into_one_context_rule_only_is_caught(copy: Path) -> None:
    """A cue added to ConText's rule file directly, not declared in negation.yaml, fails."""
    path = copy / "context_rules.yaml"
    text = path.read_text("utf-8")
    anchor = "  - id: neg_without\n    category: negated\n    direction: forward\n"
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + "    phrases: [devoid of]\n"), "utf-8")
    found = disagreement(*_load(copy))
    assert found.context_undeclared == {"devoid of"}


def test_a_cue_both_algorithms_read_but_declared_specific_is_caught(copy: Path) -> None:
    """ "not seen" is verifier-only; given to a ConText rule as well, it must become shared."""
    path = copy / "context_rules.yaml"
    text = path.read_text("utf-8")
    anchor = "  - id: neg_without\n    category: negated\n    direction: forward\n"
    path.write_text(text.replace(anchor, anchor + "    phrases: [not seen]\n"), "utf-8")
    found = disagreement(*_load(copy))
    assert found.shared_not_declared == {"not seen"}


def test_declaring_a_cue_shared_puts_it_in_both(copy: Path) -> None:
    """Moving a cue from context_only to shared gives it to the verifier too (pre list)."""
    path = copy / "negation.yaml"
    text = path.read_text("utf-8")
    text = text.replace(
        "neg_rather_than: [instead of, as opposed to, and not]",
        "neg_rather_than: [as opposed to, and not]",
    )
    text = text.replace("    cues: [rather than]", "    cues: [rather than, instead of]")
    path.write_text(text, "utf-8")
    declared, lexicon, rules = _load(copy)
    assert not disagreement(declared, lexicon, rules)
    assert lexicon.cues.pre_negation.lookup("instead of") == "pre_negation"
    assert "instead of" in next(r for r in rules.rules if r.id == "neg_rather_than").phrases


def test_a_shared_cue_must_join_a_negation_rule(copy: Path) -> None:
    path = copy / "negation.yaml"
    path.write_text(
        path.read_text("utf-8").replace(
            "context_rule: neg_not_consistent", "context_rule: term_but"
        ),
        "utf-8",
    )
    declared = load_file(path, NegationVocab, "negation cues")
    with pytest.raises(ConfigurationError, match="'term_but', a terminate rule"):
        load_rules(copy / "context_rules.yaml", negation=declared)


def test_redline_cues_are_negation_cues_of_the_algorithms() -> None:
    """The redline's short presence list adds no cue of its own (besides the answer "none")."""
    declared, lexicon, rules = _load(vocab_dir())
    known = verifier_negation_cues(lexicon) | context_negation_cues(rules) | {"none"}
    assert {normal(c) for c in declared.redline} <= known


def test_a_site_rule_file_keeps_its_phrases_and_gains_the_shared_cues(tmp_path: Path) -> None:
    """A site's context_rules.yaml (REPORTDRAFT_CRITICAL_DIR) still replaces the bundled one."""
    site = tmp_path / "context_rules.yaml"
    site.write_text(
        "schema: reportdraft.critical.context/1\n"
        "rules:\n"
        "  - {id: neg_no, category: negated, direction: forward, phrases: [nil, 'no']}\n"
        "  - {id: site_cue, category: negated, direction: forward, phrases: [devoid of]}\n",
        "utf-8",
    )
    rules = {rule.id: rule.phrases for rule in load_rules(site).rules}
    assert rules["neg_no"] == ["no", "no definite", "no new", "no convincing", "no residual",
                               "no recurrent", "nil"]  # fmt: skip
    assert rules["site_cue"] == ["devoid of"]
