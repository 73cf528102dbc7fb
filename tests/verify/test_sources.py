"""source_texts: every citable id of a case and the text it stands for."""

from __future__ import annotations

from reportdraft.verification import source_texts
from tests.verify.bundles import Sample


def by_name(samples: list[Sample], name: str) -> Sample:
    return next(s for s in samples if s.name == name)


def test_every_kind_of_id_is_there(samples: list[Sample]) -> None:
    sample = by_name(samples, "ct_chest_nodule")
    texts = source_texts(sample.case, sample.dictation, sample.template)
    assert texts["D1"] == "there is a 6 mm solid nodule right upper lobe unchanged"
    assert texts["A1"] == (
        "Solid nodule in the right upper lobe, measuring 6 mm (mean diameter) (pulmonary nodule)."
    )
    assert "A2" in texts  # rejected findings are citable, so that a citation can be flagged
    assert texts["T:lungs"] == "No suspicious pulmonary nodule or mass."
    assert texts["T:technique"].startswith("Axial CT images of the chest were obtained without")
    assert "CTDIvol 4.1 mGy" in texts["T:technique"]
    assert texts["T:impression"] == sample.template.impression_default
    assert texts["T:comparison"] == "None."
    assert texts["C:indication"] == "Follow-up of pulmonary nodule."
    assert texts["C:clinical_history"] == "Former smoker, 30 pack-years."
    assert texts["C:comparisons"].startswith("CT chest without contrast dated 2025-09-15: 6 mm")
    assert "CT Chest WO contrast" in texts["C:procedure"]


def test_ai_side_is_added_to_the_location(samples: list[Sample]) -> None:
    sample = by_name(samples, "us_thyroid_nodule")
    texts = source_texts(sample.case, sample.dictation, sample.template)
    assert texts["A1"].startswith(
        "Solid hypoechoic nodule in the right thyroid lobe, measuring 1.8"
    )


def test_ordered_side_is_a_source(samples: list[Sample]) -> None:
    sample = by_name(samples, "mr_knee_left_tear")
    texts = source_texts(sample.case, sample.dictation, sample.template)
    assert texts["C:laterality"] == "left"
    assert "left knee" in texts["T:technique"]
