"""The is-a and part-of data (``vocab/hierarchy.yaml``), its loader, and what every template
default denies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from reportdraft.errors import ConfigurationError
from reportdraft.resources import package_data
from reportdraft.templates import default_library
from reportdraft.verification.claims import Claim, claims_of, denies, facts_of
from reportdraft.verification.defaults import parse_default, plan_default
from reportdraft.verification.hierarchy import hierarchy, load_hierarchy

BUNDLED = package_data("vocab", "hierarchy.yaml")


def kinds_of(text: str) -> set[str]:
    return {k for f in facts_of("D1", text) for k in f.closure}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Acute subarachnoid hemorrhage in the basal cisterns.", "intracranial_hemorrhage"),
        ("Intraventricular hemorrhage in the occipital horns.", "intracranial_hemorrhage"),
        ("Acute epidural hematoma.", "extra_axial_collection"),
        ("Left subdural hematoma.", "extra_axial_collection"),
        ("Hemorrhage in the left frontal lobe.", "parenchymal_hemorrhage"),
        ("Splenic laceration with hemoperitoneum.", "free_fluid"),
        ("Moderate ascites.", "free_fluid"),
        ("Large pericolonic abscess.", "abscess"),
        ("Extraluminal gas.", "pneumoperitoneum"),
        ("Moderate right hemothorax.", "pleural_effusion"),
        ("Left empyema.", "pleural_effusion"),
        ("Complete tear of the anterior cruciate ligament.", "cruciate_ligament_tear"),
        ("Tear of the posterior horn of the medial meniscus.", "meniscal_tear"),
        ("L1 compression fracture.", "fracture"),
        ("Pulmonary metastases.", "focal_lesion"),
        ("Retroperitoneal lymphadenopathy.", "lymphadenopathy"),
        ("Enlarged right hilar lymph node.", "lymphadenopathy"),
        ("Hydroureteronephrosis on the left.", "hydronephrosis"),
        ("Interstitial pulmonary edema.", "pulmonary_edema"),
        ("Vasogenic edema in the left frontal lobe.", "cerebral_edema"),
    ],
)
def test_findings_are_placed_in_the_hierarchy(text: str, kind: str) -> None:
    assert kind in kinds_of(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Right frontal scalp hematoma.", "intracranial_hemorrhage"),
        ("Intraparenchymal hemorrhage in the right parietal lobe.", "extra_axial_collection"),
        ("Small joint effusion.", "pleural_effusion"),
        ("Moderate pericardial effusion.", "pleural_effusion"),
        ("Tear of the lateral meniscus.", "cruciate_ligament_tear"),
        ("Gallstones.", "nephrolithiasis"),
        ("Mild vascular congestion.", "pulmonary_edema"),
        ("Small hiatal hernia.", "abdominal_wall_hernia"),
    ],
)
def test_and_not_where_they_do_not_belong(text: str, kind: str) -> None:
    assert kind not in kinds_of(text)


def test_places_nest() -> None:
    h = hierarchy()
    assert h.within("upper_lobe", "lung")
    assert h.within("extra_axial", "brain")
    assert h.within("anterior_cruciate_ligament", "ligament")
    assert not h.within("anterior_cruciate_ligament", "posterior_cruciate_ligament")
    assert h.within("cul_de_sac", "peritoneum")
    assert h.within("cul_de_sac", "pelvis")
    assert h.places_in("The anterior cruciate ligament is intact.") == {
        "anterior_cruciate_ligament"
    }
    assert "lung_base" not in h.places_in("The calvarium and skull base are intact.")


def _claim(text: str) -> Claim:
    (claim,) = claims_of(text)
    return claim


@pytest.mark.parametrize(
    ("default", "fact", "denied"),
    [
        ("No acute intracranial hemorrhage.", "Subarachnoid hemorrhage.", True),
        ("No acute intracranial hemorrhage.", "Chronic lacunar infarct.", False),
        ("No acute intracranial hemorrhage.", "Scalp hematoma.", False),
        ("No acute fracture.", "Healed left rib fractures.", False),
        ("No acute fracture.", "Nondisplaced left rib fracture.", True),
        ("No significant joint effusion.", "Small joint effusion.", False),
        ("No significant joint effusion.", "Large joint effusion.", True),
        ("No suspicious focal lesion.", "Simple cyst in the liver.", False),
        ("No pleural effusion.", "Moderate pericardial effusion.", False),
        ("No pleural effusion.", "Small bilateral effusions.", True),
        ("No pneumothorax on the right.", "Small left pneumothorax.", False),
        ("The anterior cruciate ligament is intact.", "Large joint effusion.", False),
        ("The anterior cruciate ligament is intact.", "Complete ACL tear.", True),
        ("The spleen is normal in size.", "Splenic laceration.", False),
        ("The spleen is normal in size.", "Splenomegaly.", True),
        ("The lungs are clear.", "Calcified granuloma in the right upper lobe.", False),
        ("The lungs are clear.", "Right lower lobe consolidation.", True),
        ("The sonographic Murphy sign is negative.", "Positive sonographic Murphy sign.", True),
        # "no acute ..." beside what radiologists write after it (chronic by nature, old,
        # or unchanged said after the finding), and beside what it does deny
        ("The cervical cord is normal in signal.", "Moderate canal stenosis at C5-C6.", False),
        ("The cervical cord is normal in signal.", "Myelomalacia of the cord at C4.", True),
        ("No acute cardiopulmonary abnormality.", "Small hiatal hernia.", False),
        ("No acute cardiopulmonary abnormality.", "Bibasilar subsegmental atelectasis.", False),
        ("No acute cardiopulmonary abnormality.", "Biapical pleural thickening.", False),
        ("No acute cardiopulmonary abnormality.", "Calcified right hilar nodules.", False),
        ("No acute cardiopulmonary abnormality.", "Left basilar atelectasis, unchanged.", False),
        ("No acute cardiopulmonary abnormality.", "Left basilar atelectasis.", True),
        ("No acute cardiopulmonary abnormality.", "Nodular pleural thickening.", True),
        ("No acute cardiopulmonary abnormality.", "A 6 mm right upper lobe nodule.", True),
        ("No acute cardiopulmonary abnormality.", "Right lower lobe opacity.", True),
        # "cardiopulmonary" is the heart, lungs, pleura, mediastinum, hila, central airways
        # and pulmonary vessels: not the ribs, the chest wall or the upper abdomen
        ("No acute cardiopulmonary abnormality.", "Small right pneumothorax.", True),
        ("No acute cardiopulmonary abnormality.", "Interstitial pulmonary edema.", True),
        ("No acute cardiopulmonary abnormality.", "Widened mediastinum.", True),
        ("No acute cardiopulmonary abnormality.", "Prominent pulmonary vasculature.", True),
        ("No acute cardiopulmonary abnormality.", "Distended bowel loops in the abdomen.", False),
        ("No acute cardiopulmonary abnormality.", "Foreign body in the chest wall.", False),
        ("No acute cardiopulmonary abnormality.", "Old left rib fractures.", False),
        ("No acute cardiopulmonary abnormality.", "Mild thoracic dextroscoliosis.", False),
        (
            "No acute cardiopulmonary abnormality.",
            "Left basilar atelectasis, stable mediastinal contours.",
            True,
        ),
    ],
)
def test_denials(default: str, fact: str, denied: bool) -> None:
    facts = facts_of("D1", fact)
    assert facts
    assert any(denies(_claim(default), f) for f in facts) is denied


def test_every_default_of_every_template_is_understood() -> None:
    """Every default sentence that denies or calls something normal yields a claim, and a
    default with nothing against it is kept word for word."""
    denial = re.compile(
        r"\b(?:no|without|not|normal|normally|unremarkable|intact|clear|patent|"
        r"preserved|maintained|symmetric|negative)\b",
        re.IGNORECASE,
    )
    silent = []
    for template in default_library().all():
        for sub in template.findings:
            assert plan_default(sub, []).text == sub.default
            for sentence in parse_default(sub.default or ""):
                if "no other" in sentence.text.lower() or not denial.search(sentence.text):
                    continue
                if not any(u.claims for u in sentence.all_units()):
                    silent.append(f"{template.id}/{sub.key}: {sentence.text}")
    assert silent == []


def _variant(tmp_path: Path, change: str, by: str) -> Path:
    text = BUNDLED.read_text(encoding="utf-8")
    assert change in text
    path = tmp_path / "hierarchy.yaml"
    path.write_text(text.replace(change, by, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "by", "why"),
    [
        ("version: 1", "version: 1\nextra_key: 1", "extra"),
        (
            "  - id: ascites\n    concept: free_fluid",
            "  - id: ascites\n    concept: fluids",
            "concept",
        ),
        ("is_a: [hemorrhage, free_fluid]", "is_a: [hemorrhage, free_fluids]", "parent"),
        ("located: [peritoneum]", "located: [peritoneal_cavity]", "place"),
        (
            "  - id: midline_shift\n    is_a: [mass_effect]",
            "  - id: midline_shift\n    is_a: [mass_effect]\n  - id: mass_effect\n"
            "    is_a: [midline_shift]",
            "cycle",
        ),
    ],
)
def test_the_loader_rejects_bad_data(tmp_path: Path, change: str, by: str, why: str) -> None:
    with pytest.raises(ConfigurationError, match=r"hierarchy\.yaml"):
        load_hierarchy(_variant(tmp_path, change, by))


def test_the_bundled_file_loads_and_every_kind_has_a_known_place() -> None:
    raw = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    assert raw["version"] == 1
    h = load_hierarchy()
    for kind in h.kinds.values():
        assert all(place in h.containers for place in kind.located), kind.id
