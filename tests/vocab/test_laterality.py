"""Side words are one list (``laterality.yaml``), and the redline and the verifier both read it.

Before issue 14 the redline had its own list (``data/redline/clinical.yaml``: left, lt,
right, rt, bilateral, bilaterally, both) and the verifier another (``data/verify/
laterality.yaml``, which also had left-sided, right-sided, bibasilar, bibasal, biapical,
bihilar).

Before/after probe (run on main at 804bba8 and on this branch; the ``changes_of`` of
``tests/test_redline.py`` and the verifier on the ``ct_head_subdural`` bundle):

- redline "Bibasilar atelectasis." -> "Bilateral lower lobe atelectasis." (one side said two
  ways): before, a spurious laterality_changed ("none -> bilateral"); after, none.
- redline "Atelectasis." -> "Bibasilar atelectasis.": before, no change found (missed);
  after, laterality_changed.
- redline "Left-sided effusion." -> "Right-sided effusion.": laterality_changed before and
  after (before only because "left"/"right" matched the first half of the -sided words).
- verifier, statement "right-sided ... subdural hematoma" (or "bibasilar ...") citing a
  "left" source: a laterality flag before and after; "left-sided ...": no flag before and
  after. ``extract_facts("Bibasilar atelectasis.")``: bilateral before and after.

So "bibasilar" was missing in the redline only; "left-sided" worked in both before, in the
redline only because "left" matched its first half. The tests below pin the "after" column.
"""

from __future__ import annotations

import pytest

from reportdraft import vocab
from reportdraft.dictation import load_lexicon as dictation_lexicon
from reportdraft.models import FlagKind
from reportdraft.redline import ChangeKind, default_lexicon
from reportdraft.verification import extract_facts
from reportdraft.verification.vocabularies import lexicon
from tests.test_redline import changes_of
from tests.verify.bundles import Sample
from tests.verify.conftest import run_verifier
from tests.verify.test_checks import edit, find, sample


def test_one_side_list_behind_verifier_and_redline() -> None:
    shared = {term: side.value for term, side in vocab.laterality().side_of().items()}
    assert lexicon().sides.ids == shared
    assert default_lexicon().sides == shared
    for term in ("bibasilar", "left-sided", "right-sided", "bilateral", "bilaterally", "both"):
        assert term in shared


def test_the_dictation_correction_sides_are_side_words() -> None:
    """Dictation's spoken side words (for "right, correction, left") are a declared subset."""
    spoken = dictation_lexicon().laterality - {"unilateral"}
    assert spoken <= set(vocab.laterality().side_of())


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ("Bibasilar atelectasis.", "Bilateral lower lobe atelectasis.", False),
        ("Atelectasis.", "Bibasilar atelectasis.", True),
        ("Bibasilar opacities.", "Right basilar opacities.", True),
        ("Left-sided effusion.", "Right-sided effusion.", True),
        ("Left-sided effusion.", "Left effusion.", False),
        ("Right-sided pneumothorax.", "Right pneumothorax.", False),
    ],
)
def test_redline_reads_bibasilar_and_sided_words(old: str, new: str, changed: bool) -> None:
    assert (ChangeKind.LATERALITY_CHANGED in changes_of(old, new)) is changed


def test_redline_reads_the_sided_words_whole() -> None:
    assert default_lexicon().laterality("left-sided and bibasilar") == {"left": 1, "bilateral": 1}


@pytest.mark.parametrize(
    ("text", "side"),
    [
        ("Bibasilar atelectasis.", "bilateral"),
        ("Left-sided pleural effusion.", "left"),
        ("Right-sided pneumothorax.", "right"),
    ],
)
def test_verifier_reads_bibasilar_and_sided_words(text: str, side: str) -> None:
    (finding,) = extract_facts(text).findings
    assert finding.laterality is not None
    assert finding.laterality.value == side


@pytest.mark.parametrize(
    ("side", "flagged"), [("right-sided", True), ("left-sided", False), ("bibasilar", True)]
)
def test_verifier_checks_the_side_of_a_sided_word(
    samples: list[Sample], side: str, flagged: bool
) -> None:
    s = sample(samples, "ct_head_subdural")
    st = find(s.draft, "Acute left frontoparietal subdural hematoma measuring")
    flags = run_verifier(s, edit(s.draft, st.id, text=st.text.replace("left", side, 1)))
    wrong_side = [f for f in flags if f.kind is FlagKind.LATERALITY and f.statement_id == st.id]
    assert bool(wrong_side) is flagged
