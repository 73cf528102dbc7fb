"""The spaCy pipeline behind the detector: blank English, our sentence splitter, medspaCy's
target matcher with the lexicon, and medspaCy's ConText with our rules.

spaCy and medspaCy are imported here, inside :func:`build_pipeline`, and nowhere at module
level: importing medspaCy costs about a second (it loads QuickUMLS), and ``import
reportdraft`` must stay fast for the CLI and the API's workers. The pipeline is built once
per detector and reused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reportdraft.critical.context_rules import ContextRuleSet, CueCategory, Direction
from reportdraft.critical.finding_lexicon import CriticalLexicon
from reportdraft.critical.sections import scan_headers, sentence_starts
from reportdraft.errors import ConfigurationError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

SENTENCE_COMPONENT = "reportdraft_sentences"
EXCLUDED_LABEL = "EXCLUDED"
"""Target label of lexicon exclusions ("PE protocol"): they win by length, then are dropped."""

_CONTEXT_CATEGORY = {
    CueCategory.NEGATED: "NEGATED_EXISTENCE",
    CueCategory.UNCERTAIN: "POSSIBLE_EXISTENCE",
    CueCategory.HISTORICAL: "HISTORICAL",
    CueCategory.HYPOTHETICAL: "HYPOTHETICAL",
    CueCategory.CURRENT: "CURRENT",
    CueCategory.PSEUDO: "PSEUDO",
    CueCategory.TERMINATE: "TERMINATE",
    CueCategory.CONJUNCTION: "CONJUNCTION",
    CueCategory.TEMPORAL: "TEMPORAL",
    CueCategory.EXPECTED: "EXPECTED",
    CueCategory.UNEXPECTED: "UNEXPECTED",
    CueCategory.SUPPORT: "SUPPORT",
}


class RegexSentences:
    """spaCy component: sentence starts from :func:`sections.sentence_starts` (regex).

    Header words are passed so that "FINDINGS: , There is ..." splits at the header even
    when the caller does not ask for section awareness; answer words keep a short answer
    in its question's sentence ("Pneumothorax? No.").
    """

    def __init__(self, header_words: list[str], answer_words: list[str]) -> None:
        self.header_words = tuple(header_words)
        self.answer_words = tuple(answer_words)

    def __call__(self, doc: Doc) -> Doc:
        """Mark each token that opens a sentence; every other token is marked as not."""
        text = doc.text
        bounds = sentence_starts(
            text, scan_headers(text, self.header_words), answers=self.answer_words
        )
        j = 1  # bounds[0] is 0: the first token always opens a sentence
        for token in doc:
            end = token.idx + len(token.text)
            start_here = token.i == 0
            while j < len(bounds) and bounds[j] < end:
                start_here = True
                j += 1
            token.is_sent_start = start_here
        return doc


def _register_sentence_component() -> None:
    from spacy.language import Language

    if Language.has_factory(SENTENCE_COMPONENT):
        return

    def make(
        nlp: Language, name: str, header_words: list[str], answer_words: list[str]
    ) -> RegexSentences:
        return RegexSentences(header_words, answer_words)

    # spaCy validates factory arguments from their annotations, which this module's
    # `from __future__ import annotations` turns into strings: give it the real types.
    make.__annotations__ = {
        "nlp": Language,
        "name": str,
        "header_words": list[str],
        "answer_words": list[str],
        "return": RegexSentences,
    }
    Language.factory(
        SENTENCE_COMPONENT,
        default_config={"header_words": [], "answer_words": []},
        func=make,
    )


def expand_first(pattern: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``pattern`` as one pattern per value of its first token's ``LOWER: {IN: [...]}``.

    Same matches, much cheaper: spaCy's Matcher tries every pattern at every token, and an
    ``IN`` set on the first token is an extra predicate evaluated there each time, while a
    plain ``LOWER`` value is checked in the matcher's core. Patterns whose first token is
    anything else are returned unchanged.
    """
    first = pattern[0]
    values = first.get("LOWER") if set(first) == {"LOWER"} else None
    if not (isinstance(values, dict) and set(values) == {"IN"}):
        return [pattern]
    return [[{"LOWER": str(value).lower()}, *pattern[1:]] for value in values["IN"]]


def target_rules(lexicon: CriticalLexicon) -> list[Any]:
    """medspaCy ``TargetRule``s for every term, abbreviation, pattern and exclusion."""
    from medspacy.target_matcher import TargetRule

    rules: list[Any] = []
    for entry in lexicon.entries:
        rules += [TargetRule(term, entry.code) for term in entry.terms]
        rules += [
            TargetRule(abbr, entry.code, pattern=[{"ORTH": abbr}]) for abbr in entry.abbreviations
        ]
        rules += [
            TargetRule(f"{entry.code} pattern {i}", entry.code, pattern=e)
            for i, p in enumerate(entry.patterns, start=1)
            for e in expand_first(list(p))
        ]
        rules += [TargetRule(term, EXCLUDED_LABEL) for term in entry.exclusions]
        rules += [
            TargetRule(f"{entry.code} exclusion {i}", EXCLUDED_LABEL, pattern=e)
            for i, p in enumerate(entry.exclusion_patterns, start=1)
            for e in expand_first(list(p))
        ]
    return rules


def context_rules(ruleset: ContextRuleSet) -> list[Any]:
    """medspaCy ``ConTextRule``s, each carrying our rule id and category as metadata."""
    from medspacy.context import ConTextRule

    rules: list[Any] = []
    for spec in ruleset.rules:
        acting = spec.effective_category
        if acting is CueCategory.TERMINATE:
            direction = "TERMINATE"
        elif acting in (CueCategory.PSEUDO, CueCategory.CONJUNCTION):
            direction = "PSEUDO"  # modifies nothing; a conjunction only limits scopes
        else:
            direction = (spec.direction or Direction.BIDIRECTIONAL).value.upper()
        time_course = spec.time_course
        meta = {
            "rule_id": spec.id,
            "category": acting.value,
            "resolves": spec.resolves,
            "sign": spec.sign,
            "needs_procedure": spec.needs_procedure,
            "temporality": time_course.value if time_course else None,
        }
        common: dict[str, Any] = {
            "category": _CONTEXT_CATEGORY[acting],
            "direction": direction,
            "max_scope": spec.max_scope,
            "terminated_by": {_CONTEXT_CATEGORY[c] for c in spec.terminated_by} or None,
            "allowed_types": set(spec.applies_to) or None,
            "metadata": meta,
        }
        rules += [ConTextRule(phrase, **common) for phrase in spec.phrases]
        rules += [
            ConTextRule(f"{spec.id} pattern {i}", pattern=e, **common)
            for i, p in enumerate(spec.patterns, start=1)
            for e in expand_first(list(p))
        ]
    return rules


def build_pipeline(
    lexicon: CriticalLexicon, ruleset: ContextRuleSet, header_words: list[str]
) -> Language:
    """The detector's pipeline. Raises ConfigurationError when a pattern is malformed."""
    import medspacy  # noqa: F401  (registers the medspaCy factories)
    import spacy

    _register_sentence_component()
    nlp = spacy.blank("en")
    nlp.add_pipe(
        SENTENCE_COMPONENT,
        config={"header_words": header_words, "answer_words": list(ruleset.question_answers)},
    )
    try:
        matcher: Any = nlp.add_pipe("medspacy_target_matcher")
        matcher.add(target_rules(lexicon))
        context: Any = nlp.add_pipe("medspacy_context", config={"rules": None, "span_attrs": None})
        context.add(context_rules(ruleset))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"critical-finding rules do not compile: {exc}") from exc
    return nlp
