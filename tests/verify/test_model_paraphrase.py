"""Model paraphrases the verifier must judge right (issue 12, point 7, second pass).

Phrasings written for this file, not copied from any blind set: a changed direction of a
spinal curve is a changed fact; a sentence said twice behind a filler lead is malformed
model text; two sentences about different sides or organs are not a repetition.
"""

from __future__ import annotations

import pytest

from reportdraft.models import FlagKind, Severity, Template
from tests.verify.bundles import sample_from_report
from tests.verify.conftest import run_verifier
from tests.verify.test_anatomy import STUDY, kinds, statement_flags
from tests.verify.test_checks import edit


@pytest.mark.parametrize(
    ("source", "changed"),
    [
        (
            "Dextroconvex curvature of the thoracic spine.",
            "Levoconvex curvature of the thoracic spine.",
        ),
        ("Mild levoscoliosis of the lumbar spine.", "Mild dextroscoliosis of the lumbar spine."),
        ("Lumbar scoliosis, convex to the left.", "Dextroconvex lumbar scoliosis."),
        ("Thoracic scoliosis convex toward the right.", "Thoracic levoscoliosis."),
    ],
)
def test_changed_curve_direction_is_flagged(
    templates: dict[str, Template], source: str, changed: str
) -> None:
    assert FlagKind.ANATOMY in kinds(statement_flags(templates, source, changed, generator="model"))


@pytest.mark.parametrize(
    ("source", "same"),
    [
        (
            "Dextroconvex curvature of the thoracic spine.",
            "Thoracic spine curvature, convex to the right.",
        ),
        ("Lumbar scoliosis, convex to the left.", "Lumbar levoconvex scoliosis."),
    ],
)
def test_same_curve_direction_passes(
    templates: dict[str, Template], source: str, same: str
) -> None:
    assert FlagKind.ANATOMY not in kinds(
        statement_flags(templates, source, same, generator="model")
    )


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "Severe left neural foraminal narrowing at C5-C6.",
            "Severe left neural foraminal narrowing at C5-C6. There is severe left neural "
            "foraminal narrowing at C5-C6.",
        ),
        (
            "Small hiatal hernia.",
            "Small hiatal hernia. Note is made of a small hiatal hernia.",
        ),
        (
            "Diffuse hepatic steatosis.",
            "Diffuse hepatic steatosis. Again, diffuse hepatic steatosis.",
        ),
        (
            "Trace pericardial effusion.",
            "There is trace pericardial effusion. Also trace pericardial effusion.",
        ),
    ],
)
def test_repeated_sentence_behind_filler_lead_is_malformed(
    templates: dict[str, Template], source: str, text: str
) -> None:
    flags = statement_flags(templates, source, text, generator="model")
    assert FlagKind.MALFORMED_TEXT in kinds(flags)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "Right and left kidneys are unremarkable.",
            "The right kidney is unremarkable. The left kidney is unremarkable.",
        ),
        (
            "Mild right and left hip osteoarthritis.",
            "Mild right hip osteoarthritis. Mild left hip osteoarthritis.",
        ),
    ],
)
def test_different_sides_are_not_a_repetition(
    templates: dict[str, Template], source: str, text: str
) -> None:
    flags = statement_flags(templates, source, text, generator="model")
    assert FlagKind.MALFORMED_TEXT not in kinds(flags)


def blocking_flags(templates: dict[str, Template], source: str, text: str) -> set[FlagKind]:
    """Every high/medium flag kind of a model statement citing ``source`` (omission too)."""
    sample = sample_from_report("paraphrase", source, "", templates["generic"], STUDY)
    ids = [s.id for s in sample.dictation.sentences]
    target = next(st for st in sample.draft.statements() if st.sources == [ids[0]])
    draft = edit(sample.draft, target.id, text=text, sources=ids, generator="model")
    return {
        f.kind
        for f in run_verifier(sample, draft)
        if f.severity in (Severity.HIGH, Severity.MEDIUM)
        and f.kind is not FlagKind.IMPRESSION_CONSISTENCY
    }


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "Endotracheal tube terminates 5 cm above the carina.",
            "ETT terminates 5 cm above the carina.",
        ),
        ("The NGT tip is in the gastric body.", "The nasogastric tube tip is in the gastric body."),
        ("Orogastric tube tip in the stomach.", "OGT tip in the stomach."),
        (
            "Left PICC tip at the cavoatrial junction.",
            "Left peripherally inserted central catheter tip at the cavoatrial junction.",
        ),
        ("Filter in the infrarenal IVC.", "Filter in the infrarenal inferior vena cava."),
        ("The CBD measures 4 mm.", "The common bile duct measures 4 mm."),
    ],
)
def test_expanded_abbreviation_is_the_same_statement(
    templates: dict[str, Template], source: str, text: str
) -> None:
    assert not blocking_flags(templates, source, text)


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "Results were called to Dr. Lee at 9:05 PM.",
            "The above findings were called to Dr. Lee at 9:05 p.m.",
        ),
        (
            "Discussed with the referring physician at 7:20 AM.",
            "These findings were communicated to the referring physician at 7:20 a.m.",
        ),
        (
            "BI-RADS 5: highly suggestive of malignancy.",
            "Finding highly suggestive of malignancy, BI-RADS 5.",
        ),
    ],
)
def test_findings_as_a_reference_is_no_new_finding(
    templates: dict[str, Template], source: str, text: str
) -> None:
    assert FlagKind.UNSUPPORTED not in blocking_flags(templates, source, text)


def test_a_new_finding_word_is_still_unsupported(templates: dict[str, Template]) -> None:
    flags = blocking_flags(
        templates, "The lungs are clear.", "There is an abnormality in the right lung."
    )
    assert FlagKind.UNSUPPORTED in flags


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "Left epidural hematoma with 4 mm midline shift.",
            "Left epidural hematoma with 4 mm shift of midline structures.",
        ),
        (
            "Tension pneumothorax on the right with mediastinal shift to the left.",
            "Right tension pneumothorax with leftward shift of the mediastinal structures.",
        ),
        ("Uncomplicated sigmoid diverticulitis.", "Sigmoid diverticulitis without complication."),
    ],
)
def test_phrase_variants_are_the_same_statement(
    templates: dict[str, Template], source: str, text: str
) -> None:
    assert not blocking_flags(templates, source, text) - {FlagKind.OMISSION}


def test_umbrella_negation_still_denies_a_source_finding(templates: dict[str, Template]) -> None:
    flags = blocking_flags(templates, "Acute appendicitis.", "No acute abnormality.")
    assert FlagKind.NEGATION in flags


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "Mild anterior wedging of T12.",
            "Mild anterior wedging of the T12 vertebral body in the thoracic spine.",
        ),
        ("Spiculated mass in the right lower lobe.", "Spiculated right lower lobe lung mass."),
        ("Moderate cardiomegaly.", "The heart is moderately enlarged."),
        (
            "Loss of gray-white differentiation in the right insula.",
            "Loss of gray-white differentiation in the right insular cortex.",
        ),
    ],
)
def test_anatomy_implied_by_the_sources_is_no_new_anatomy(
    templates: dict[str, Template], source: str, text: str
) -> None:
    assert FlagKind.UNSUPPORTED not in blocking_flags(templates, source, text)


def test_anatomy_outside_the_sources_is_still_new(templates: dict[str, Template]) -> None:
    flags = blocking_flags(
        templates,
        "Spiculated mass in the right lower lobe.",
        "Spiculated right lower lobe mass invading the liver.",
    )
    assert FlagKind.UNSUPPORTED in flags


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("Bilateral hydronephrosis, mild.", "Mild right hydronephrosis. Mild left hydronephrosis."),
        (
            "Bilateral lower lobe atelectasis.",
            "Atelectasis in the right lower lobe and in the left lower lobe.",
        ),
    ],
)
def test_both_sides_named_restate_bilateral(
    templates: dict[str, Template], source: str, text: str
) -> None:
    assert FlagKind.LATERALITY not in blocking_flags(templates, source, text)


def test_one_side_of_a_bilateral_finding_is_still_a_side_error(
    templates: dict[str, Template],
) -> None:
    flags = blocking_flags(
        templates, "Bilateral hydronephrosis, mild.", "Mild right hydronephrosis."
    )
    assert FlagKind.LATERALITY in flags


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "Chondral thinning of both the medial and lateral femoral condyles.",
            "Chondral thinning of the medial femoral condyle and of the lateral femoral condyle.",
        ),
        (
            "Degenerative fraying of the medial and lateral menisci.",
            "Degenerative fraying of the medial meniscus and fraying of the lateral meniscus.",
        ),
    ],
)
def test_split_of_a_coordinated_source_is_the_same_statement(
    templates: dict[str, Template], source: str, text: str
) -> None:
    assert FlagKind.ANATOMY not in blocking_flags(templates, source, text)


@pytest.mark.parametrize(
    "source",
    [
        "Tear of the medial meniscus; the lateral meniscus is intact.",
        "Tear of the medial meniscus. The lateral meniscus is intact.",
    ],
)
def test_adding_the_other_side_to_a_finding_is_still_flagged(
    templates: dict[str, Template], source: str
) -> None:
    text = "Tear of the medial meniscus and tear of the lateral meniscus."
    assert FlagKind.ANATOMY in blocking_flags(templates, source, text)
