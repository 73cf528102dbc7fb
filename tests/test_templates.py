"""Templates as data: loading and validation, site overrides, selection, technique, routing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from reportdraft.errors import InputError, TemplateError, TemplateNotFoundError
from reportdraft.models import (
    Coding,
    Contrast,
    Dose,
    Facility,
    FindingsSubsection,
    Laterality,
    Modality,
    Physician,
    StudyContext,
    Template,
)
from reportdraft.resources import data_dir
from reportdraft.templates import (
    PLACEHOLDERS,
    TemplateLibrary,
    catch_all_key,
    check_template,
    default_library,
    render_technique,
    route_sentence,
    technique_values,
)

BUNDLED = data_dir("templates")


def study(**overrides: Any) -> StudyContext:
    """A valid study; tests override what they exercise."""
    values: dict[str, Any] = {
        "accession_number": "T-1",
        "procedure": Coding(system="urn:test", code="unknown", display="Unknown procedure"),
        "modality": Modality.CT,
        "body_part": "head",
        "indication": "Test.",
        "ordering_physician": Physician(name="Test Physician, MD"),
        "performing_facility": Facility(name="Test Facility"),
        "acquisition_time": datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
        "patient_location": "CA",
    }
    values.update(overrides)
    return StudyContext(**values)


def minimal(**overrides: Any) -> dict[str, Any]:
    """A minimal valid template document (what a site would write)."""
    doc: dict[str, Any] = {
        "id": "xr_elbow",
        "version": "1.0",
        "title": "XR Elbow",
        "modality": "XR",
        "body_parts": ["elbow"],
        "contrast": "none",
        "procedure_codes": [
            {"system": "urn:reportdraft:procedure", "code": "xr-elbow", "display": "XR Elbow"}
        ],
        "technique": "{views} of the {laterality} elbow.",
        "findings": [
            {
                "key": "bones",
                "title": "Bones",
                "default": "No fracture.",
                "terms": ["bone", "fracture"],
            },
            {"key": "joint", "title": "Joint", "default": "No effusion.", "terms": ["effusion"]},
            {"key": "other", "title": "Other", "default": "Nothing else.", "terms": ["other"]},
        ],
        "impression_guidance": "Fractures first.",
        "impression_default": "No acute abnormality.",
    }
    doc.update(overrides)
    return doc


def write(directory: Path, name: str, doc: dict[str, Any] | str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return path


# --------------------------------------------------------------------------- bundled set


def test_bundled_templates_load_and_cover_every_modality() -> None:
    library = TemplateLibrary.load()
    templates = library.all()
    assert len(templates) >= 12
    assert {t.modality for t in templates} >= {
        Modality.XR,
        Modality.CT,
        Modality.MR,
        Modality.US,
        Modality.MG,
    }
    assert [t.id for t in templates] == sorted(t.id for t in templates)


def test_required_procedures_are_present() -> None:
    ids = {t.id for t in default_library().all()}
    assert {
        "xr_chest_2v",
        "ct_head_wo",
        "cta_chest_pe",
        "ct_chest",
        "ct_abd_pelvis_w",
        "cta_head_neck",
        "mr_brain_wwo",
        "mr_knee",
        "mr_lspine",
        "us_abd_complete",
        "us_scrotum",
        "us_pelvis",
        "mg_screening_bilat",
    } <= ids


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.yaml")), ids=lambda p: p.stem)
def test_bundled_file_conventions(path: Path) -> None:
    template = Template.model_validate(yaml.safe_load(path.read_text()))
    assert template.id == path.stem
    assert template.version == "1.0"
    assert check_template(template) == []
    assert catch_all_key(template) == "other"
    if template.generic:  # one subsection, no defaults: checked by check_template
        assert all(sub.default is None for sub in template.findings)
        return
    assert template.findings[-1].title == "Other"
    assert len(template.findings) >= 4
    # A specific template may leave a subsection without a default where no value is
    # normal (DEXA measurements, breast density, a first-trimester gestation).
    with_default = [sub for sub in template.findings if sub.default]
    assert len(with_default) >= 2
    assert template.findings[-1].default
    specific_terms = sum(len(s.terms) for s in template.findings[:-1])
    assert specific_terms >= 25, "the anatomy lexicon should be rich"
    for coding in template.procedure_codes:
        assert coding.system in {
            "http://loinc.org",
            "http://www.radlex.org",
            "http://www.ama-assn.org/go/cpt",
            "urn:reportdraft:procedure",
        }
    assert all(part == part.lower() for part in template.body_parts)


def test_default_library_is_loaded_once() -> None:
    assert default_library() is default_library()


# --------------------------------------------------------------------------- technique


def test_every_placeholder_is_used_by_a_bundled_template() -> None:
    used = {
        p for t in default_library().all() for p in PLACEHOLDERS if "{" + p + "}" in t.technique
    }
    assert used == PLACEHOLDERS


@pytest.mark.parametrize("template", default_library().all(), ids=lambda t: t.id)
@pytest.mark.parametrize(
    "variant",
    [
        {"contrast": Contrast.NONE},
        {"contrast": Contrast.WITH, "dose": Dose(ctdi_vol_mgy=12.5, dlp_mgy_cm=480.0)},
        {"contrast": Contrast.WITHOUT_AND_WITH, "laterality": Laterality.LEFT, "views": 3},
    ],
    ids=["plain", "contrast-dose", "wwo-left-views"],
)
def test_every_bundled_technique_renders(template: Template, variant: dict[str, Any]) -> None:
    modality = template.modality or Modality.CT
    text = render_technique(template, study(modality=modality, **variant))
    assert "{" not in text
    assert "}" not in text
    assert "  " not in text
    assert " ." not in text
    assert text[0].isupper()
    assert text.endswith(".")


def test_placeholder_values() -> None:
    assert technique_values(study(contrast=Contrast.NONE))["contrast"] == (
        "without intravenous contrast"
    )
    assert (
        technique_values(study(contrast=Contrast.WITH))["contrast"] == "with intravenous contrast"
    )
    assert technique_values(study(contrast=Contrast.WITHOUT_AND_WITH))["contrast"] == (
        "without and with intravenous contrast"
    )
    views = {v: technique_values(study(views=v))["views"] for v in (None, 1, 2, 10, 12)}
    assert views == {
        None: "standard views",
        1: "single view",
        2: "two views",
        10: "ten views",
        12: "12 views",
    }
    dose = technique_values(study(dose=Dose(ctdi_vol_mgy=45.23, dlp_mgy_cm=820.0)))["dose"]
    assert dose == " CTDIvol 45.2 mGy; DLP 820 mGy·cm."
    assert technique_values(study(dose=Dose(dlp_mgy_cm=99.95)))["dose"] == " DLP 100 mGy·cm."
    assert technique_values(study(dose=Dose(ctdi_vol_mgy=3.0)))["dose"] == " CTDIvol 3 mGy."
    assert technique_values(study(dose=Dose()))["dose"] == ""
    assert technique_values(study())["dose"] == ""
    assert technique_values(study(laterality=Laterality.BILATERAL))["laterality"] == "bilateral"
    assert technique_values(study())["laterality"] == ""
    assert technique_values(study(body_part="  ABDOMEN   Complete "))["body_part"] == (
        "abdomen complete"
    )


def test_render_capitalises_sentence_starts_and_tidies_empty_values() -> None:
    library = TemplateLibrary([Template.model_validate(minimal())])
    elbow = library.get("xr_elbow")
    assert render_technique(
        elbow, study(modality=Modality.XR, views=2, laterality=Laterality.RIGHT)
    ) == ("Two views of the right elbow.")
    assert render_technique(elbow, study(modality=Modality.XR)) == "Standard views of the elbow."
    mid = Template.model_validate(
        minimal(technique="Elbow, {views}; {laterality}. {laterality} side.")
    )
    assert render_technique(mid, study(views=1, laterality=Laterality.LEFT)) == (
        "Elbow, single view; left. Left side."
    )


def test_bundled_head_ct_technique_with_dose() -> None:
    head = default_library().get("ct_head_wo")
    text = render_technique(head, study(dose=Dose(ctdi_vol_mgy=52.4, dlp_mgy_cm=905.0)))
    assert "obtained from the skull base to the vertex without intravenous contrast." in text
    assert text.endswith("dose reduction. CTDIvol 52.4 mGy; DLP 905 mGy·cm.")
    assert render_technique(head, study()).endswith("dose reduction.")


def test_knee_technique_names_the_ordered_side() -> None:
    knee = default_library().get("mr_knee")
    text = render_technique(knee, study(modality=Modality.MR, laterality=Laterality.RIGHT))
    assert "MR images of the right knee were obtained without intravenous contrast" in text
    assert "of the knee were" in render_technique(knee, study(modality=Modality.MR))


# --------------------------------------------------------------------------- malformed files


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (minimal(technique="Views: {views} {kilovolts}."), "unknown placeholder {kilovolts}"),
        (minimal(technique="Views {views!r}."), "takes no format spec"),
        (minimal(technique="Views {views:>10}."), "takes no format spec"),
        (minimal(technique="Views {views."), "technique: malformed placeholder"),
        (minimal(technique="Views {}."), "unknown placeholder {}"),
        (minimal(colour="blue"), "colour: Extra inputs are not permitted"),
        (minimal(modality="XRAY"), "modality: Input should be"),
        (minimal(version=1.0), "version: Input should be a valid string"),
        (minimal(contrast="maybe"), "contrast: String should match pattern"),
        (minimal(generic=True), "modality: a generic template has none"),
        (minimal(generic=True), "findings.0.default: a generic template has no normal defaults"),
        (minimal(modality=None), "modality: required (only a generic template has none)"),
        (minimal(body_parts=[]), "body_parts: at least one is required"),
        (minimal(impression_default="Normal {body_part}."), "impression_default: placeholder"),
    ],
)
def test_malformed_template_names_file_and_field(
    tmp_path: Path, doc: dict[str, Any], expected: str
) -> None:
    path = write(tmp_path, "bad.yaml", doc)
    with pytest.raises(TemplateError) as info:
        TemplateLibrary.load(tmp_path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
    assert info.value.code == "template_invalid"


def test_bad_subsection_field_is_named_by_location(tmp_path: Path) -> None:
    doc = minimal()
    doc["findings"][1] = {
        "key": "Joint",
        "title": "Joint",
        "default": "x",
        "terms": ["effusion"],
        "color": "red",
    }
    path = write(tmp_path, "bad.yaml", doc)
    with pytest.raises(TemplateError) as info:
        TemplateLibrary.load(tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert "findings.1.key" in message
    assert "findings.1.color: Extra inputs are not permitted" in message


def test_term_in_two_subsections_is_rejected(tmp_path: Path) -> None:
    doc = minimal()
    doc["findings"][1]["terms"] = ["effusion", "fracture"]
    path = write(tmp_path, "bad.yaml", doc)
    with pytest.raises(
        TemplateError,
        match=r"findings\.1\.terms\.1: term 'fracture' is also in "
        r"subsection 'bones'",
    ) as info:
        TemplateLibrary.load(tmp_path)
    assert str(path) in str(info.value)


def test_upper_case_term_and_duplicate_subsection_key_are_rejected(tmp_path: Path) -> None:
    doc = minimal()
    doc["findings"][1]["terms"] = ["Effusion"]
    doc["findings"][2]["key"] = "bones"
    write(tmp_path, "bad.yaml", doc)
    with pytest.raises(TemplateError) as info:
        TemplateLibrary.load(tmp_path)
    assert "term 'Effusion' must be lower-case" in str(info.value)
    assert "findings.2.key: duplicate subsection key 'bones'" in str(info.value)


def test_invalid_yaml_and_duplicate_yaml_key(tmp_path: Path) -> None:
    path = write(tmp_path / "a", "broken.yaml", "id: [unclosed\n")
    with pytest.raises(TemplateError, match="invalid YAML") as info:
        TemplateLibrary.load(tmp_path / "a")
    assert str(path) in str(info.value)

    text = yaml.safe_dump(minimal(), sort_keys=False) + "title: Second title\n"
    path = write(tmp_path / "b", "dup.yaml", text)
    with pytest.raises(TemplateError, match="duplicate key 'title'") as info:
        TemplateLibrary.load(tmp_path / "b")
    assert str(path) in str(info.value)

    write(tmp_path / "c", "list.yaml", "- just\n- a list\n")
    with pytest.raises(TemplateError, match="must be a YAML mapping"):
        TemplateLibrary.load(tmp_path / "c")


def test_duplicate_id_within_one_directory(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", minimal())
    second_doc = minimal(procedure_codes=[{"system": "urn:x", "code": "other", "display": "O"}])
    second = write(tmp_path, "b.yml", second_doc)
    with pytest.raises(TemplateError, match="duplicate template id 'xr_elbow'") as info:
        TemplateLibrary.load(tmp_path)
    assert str(first) in str(info.value)
    assert str(second) in str(info.value)


def test_duplicate_procedure_code_across_templates(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", minimal())
    write(tmp_path, "b.yaml", minimal(id="xr_elbow_two"))
    with pytest.raises(TemplateError, match="xr-elbow is claimed by templates"):
        TemplateLibrary.load(tmp_path)


def test_site_template_may_not_steal_a_bundled_code(tmp_path: Path) -> None:
    thief = minimal(
        id="my_chest",
        procedure_codes=[{"system": "LN", "code": "36643-5", "display": "XR Chest 2 Views"}],
    )
    write(tmp_path, "my_chest.yaml", thief)
    with pytest.raises(TemplateError, match="LOINC 36643-5 is claimed by templates 'xr_chest_2v'"):
        TemplateLibrary.load(BUNDLED, tmp_path)


def test_missing_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="template directory not found"):
        TemplateLibrary.load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.txt").write_text("not a template")
    with pytest.raises(TemplateError, match="no templates found"):
        TemplateLibrary.load(tmp_path / "empty")


def test_in_memory_library_checks_too() -> None:
    elbow = Template.model_validate(minimal())
    with pytest.raises(TemplateError, match="duplicate template id"):
        TemplateLibrary([elbow, elbow])
    bad = Template.model_validate(minimal(technique="{nope}"))
    with pytest.raises(TemplateError, match="unknown placeholder"):
        TemplateLibrary([bad])


# --------------------------------------------------------------------------- site overrides


def test_site_override_replaces_by_id(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(BUNDLED / "xr_chest_2v.yaml", site / "chest_local.yaml")
    doc = yaml.safe_load((site / "chest_local.yaml").read_text())
    doc["title"] = "Chest radiograph (site version)"
    doc["version"] = "1.1"
    write(site, "chest_local.yaml", doc)
    write(site, "xr_elbow.yaml", minimal())

    bundled = TemplateLibrary.load()
    merged = TemplateLibrary.load(BUNDLED, site)
    assert len(merged) == len(bundled) + 1
    chest = merged.get("xr_chest_2v")
    assert chest.title == "Chest radiograph (site version)"
    assert chest.version == "1.1"
    assert merged.source("xr_chest_2v").endswith("chest_local.yaml")
    assert merged.get("ct_head_wo") == bundled.get("ct_head_wo")
    code = Coding(system="http://loinc.org", code="36643-5", display="XR Chest 2 Views")
    assert merged.select(study(procedure=code, modality=Modality.XR)) is chest
    assert "xr_elbow" in merged
    assert "xr_elbow" not in bundled


def test_get_unknown_template() -> None:
    with pytest.raises(TemplateNotFoundError, match="unknown template 'xr_foot'; known: "):
        default_library().get("xr_foot")


# --------------------------------------------------------------------------- selection


@pytest.mark.parametrize(
    "pair",
    [(t, c) for t in default_library().all() for c in t.procedure_codes],
    ids=lambda p: f"{p[0].id}-{p[1].code}",
)
def test_select_by_every_listed_code(pair: tuple[Template, Coding]) -> None:
    template, code = pair
    # Deliberately misleading modality/body part: the code decides.
    chosen = default_library().select(study(procedure=code, modality=Modality.NM, body_part="x"))
    assert chosen.id == template.id


@pytest.mark.parametrize(
    "system",
    ["http://loinc.org", "http://loinc.org/", "LOINC", "LN", "urn:oid:2.16.840.1.113883.6.1"],
)
def test_code_system_spellings_are_folded(system: str) -> None:
    code = Coding(system=system, code="30799-1", display="CT Head WO contrast")
    assert default_library().select(study(procedure=code, body_part="x")).id == "ct_head_wo"


def test_code_in_another_system_does_not_match() -> None:
    code = Coding(system="urn:some:ris", code="30799-1", display="CT HEAD")
    # Falls through to modality + body part, which still finds the head CT.
    assert default_library().select(study(procedure=code, body_part="brain")).id == "ct_head_wo"
    with pytest.raises(TemplateNotFoundError):
        default_library().select(study(procedure=code, body_part="x"))


@pytest.mark.parametrize(
    ("modality", "body_part", "contrast", "expected"),
    [
        (Modality.CT, "HEAD", Contrast.NONE, "ct_head_wo"),
        (Modality.CT, "Chest", Contrast.WITH, "ct_chest"),
        (Modality.CT, "pulmonary arteries", Contrast.WITH, "cta_chest_pe"),
        (Modality.CT, "Abdomen/Pelvis", Contrast.WITH, "ct_abd_pelvis_w"),
        (Modality.CT, "head and neck", Contrast.WITH, "cta_head_neck"),
        (Modality.CT, "C-SPINE", Contrast.NONE, "ct_cspine_wo"),
        (Modality.MR, "brain", Contrast.WITHOUT_AND_WITH, "mr_brain_wwo"),
        (Modality.MR, "RIGHT KNEE", Contrast.NONE, "mr_knee"),
        (Modality.MR, "lumbar spine", Contrast.NONE, "mr_lspine"),
        (Modality.US, "ABDOMEN", Contrast.NONE, "us_abd_complete"),
        (Modality.US, "scrotum", Contrast.NONE, "us_scrotum"),
        (Modality.US, "pelvis", Contrast.NONE, "us_pelvis"),
        (Modality.MG, "BREAST", Contrast.NONE, "mg_screening_bilat"),
        (Modality.XR, "chest", Contrast.NONE, "xr_chest_2v"),
        (Modality.XR, "abdomen", Contrast.NONE, "xr_abdomen"),
    ],
)
def test_select_by_modality_and_body_part(
    modality: Modality, body_part: str, contrast: Contrast, expected: str
) -> None:
    chosen = default_library().select(
        study(modality=modality, body_part=body_part, contrast=contrast)
    )
    assert chosen.id == expected


def _variant(tid: str, contrast: str, code: str, parts: list[str] | None = None) -> Template:
    return Template.model_validate(
        minimal(
            id=tid,
            modality="CT",
            contrast=contrast,
            body_parts=parts or ["elbow"],
            technique="CT of the elbow {contrast}.",
            procedure_codes=[{"system": "urn:x", "code": code, "display": tid}],
        )
    )


def test_contrast_preference() -> None:
    library = TemplateLibrary(
        [
            _variant("ct_elbow_wo", "none", "1"),
            _variant("ct_elbow_w", "with", "2"),
            _variant("ct_elbow_any", "any", "3"),
        ]
    )
    assert library.select(study(body_part="elbow", contrast=Contrast.NONE)).id == "ct_elbow_wo"
    assert library.select(study(body_part="elbow", contrast=Contrast.WITH)).id == "ct_elbow_w"
    assert (
        library.select(study(body_part="elbow", contrast=Contrast.WITHOUT_AND_WITH)).id
        == "ct_elbow_any"
    )
    two = TemplateLibrary(
        [_variant("ct_elbow_wo", "none", "1"), _variant("ct_elbow_w", "with", "2")]
    )
    # A mismatch is still better than no template: the ids break the tie deterministically.
    assert two.select(study(body_part="elbow", contrast=Contrast.WITHOUT_AND_WITH)).id == (
        "ct_elbow_w"
    )


def test_exact_body_part_beats_contained_one() -> None:
    library = TemplateLibrary(
        [
            _variant("ct_head_generic", "any", "1", ["head"]),
            _variant("ct_head_neck", "any", "2", ["head and neck"]),
        ]
    )
    assert library.select(study(body_part="head and neck")).id == "ct_head_neck"
    assert library.select(study(body_part="Head")).id == "ct_head_generic"
    assert library.select(study(body_part="left head region")).id == "ct_head_generic"
    with pytest.raises(TemplateNotFoundError):
        library.select(study(body_part="forehead"))  # word boundaries, not substrings


def test_not_found_message_says_what_was_looked_for() -> None:
    wanted = study(
        procedure=Coding(system="http://loinc.org", code="12345-6", display="X"),
        modality=Modality.CT,
        body_part="elbow",
    )
    with pytest.raises(TemplateNotFoundError) as info:
        default_library().select(wanted)
    message = str(info.value)
    assert message.startswith(
        "no template for procedure LOINC 12345-6 'X' nor for modality CT + body part 'elbow' "
        "(contrast none); known: "
    )
    assert "ct_head_wo" in message
    assert "xr_chest_2v" not in message
    assert isinstance(info.value, InputError)
    assert info.value.code == "template_not_found"
    assert info.value.http_status == 422


# --------------------------------------------------------------------------- routing

ROUTES: dict[str, list[tuple[str, str]]] = {
    "ct_lspine": [
        ("Burst fracture of L1 with retropulsion.", "vertebrae"),
        ("Disc bulge at L4-L5 with canal stenosis.", "discs"),
        ("Loosening around the pedicle screws.", "hardware"),
        ("Grade 1 anterolisthesis.", "alignment"),
    ],
    "us_carotid": [
        ("Plaque in the right carotid bulb.", "right_carotid"),
        ("Left ICA occlusion.", "left_carotid"),
        ("Retrograde flow in the left vertebral artery.", "vertebral"),
        ("Peak systolic velocity 125 cm/s.", "velocities"),
    ],
    "nm_bone_scan": [
        ("Focal uptake in the T10 vertebral body.", "axial_skeleton"),
        ("Increased activity in the left distal femur.", "appendicular_skeleton"),
        ("Superscan pattern.", "pattern"),
        ("Right hydronephrosis.", "soft_tissues_urinary"),
    ],
    "nm_hida": [
        ("The gallbladder is not visualized at 4 hours.", "gallbladder"),
        ("Activity in the small bowel by 20 minutes.", "ducts_bowel"),
        ("Delayed hepatic uptake.", "liver_uptake"),
    ],
    "nm_vq": [
        ("Mismatched segmental defect in the right lower lobe.", "perfusion"),
        ("Central deposition of aerosol.", "ventilation"),
        ("Small left pleural effusion on the radiograph.", "radiograph"),
    ],
    "rf_swallow": [
        ("Silent aspiration with thin liquids.", "pharyngeal_phase"),
        ("Premature spillage.", "oral_phase"),
        ("Cricopharyngeal bar.", "pharyngeal_phase"),
        ("Esophageal residue.", "esophagus"),
    ],
    "rf_ugi": [
        ("Small sliding hiatal hernia.", "gej_reflux"),
        ("Schatzki ring.", "esophagus"),
        ("Malrotation with the duodenojejunal junction to the right of the spine.", "duodenum"),
        ("Gastric outlet obstruction.", "stomach"),
    ],
    "bmd_dexa": [
        ("Left femoral neck T-score -1.9.", "hips"),
        ("Z-score -0.5.", "scores"),
        ("L3 excluded.", "lumbar_spine"),
        ("Degenerative change.", "artifacts"),
    ],
    "cta_abd_runoff": [
        ("Infrarenal aneurysm measuring 5 cm.", "aorta"),
        ("Occluded superficial femoral artery.", "lower_extremity_arteries"),
        ("Celiac axis stenosis.", "visceral_arteries"),
        ("Common iliac stenosis.", "iliac_arteries"),
        ("Simple renal cyst in the kidney.", "nonvascular"),
    ],
    "ct_liver": [
        ("2 cm observation in segment 8 with washout.", "liver"),
        ("Portal vein thrombosis.", "vessels"),
        ("Splenomegaly.", "spleen_abdomen"),
    ],
    "ct_pancreas": [
        ("Hypoenhancing mass in the uncinate process.", "pancreas"),
        ("Tumor contact with the superior mesenteric vein.", "vessels"),
        ("Liver metastases.", "liver_biliary"),
    ],
    "ct_renal": [
        ("Bosniak 2F cyst.", "kidneys"),
        ("Filling defect in the left ureter.", "ureters_bladder"),
        ("Tumor thrombus in the renal vein.", "renal_vessels"),
    ],
    "mr_liver": [
        ("Hepatic steatosis with fat fraction 18 percent.", "liver"),
        ("Portal vein thrombosis.", "vessels"),
        ("Cholelithiasis.", "biliary_gallbladder"),
    ],
    "mr_mrcp": [
        ("Choledocholithiasis.", "biliary"),
        ("Side-branch IPMN.", "pancreas"),
        ("Gallbladder sludge.", "gallbladder"),
    ],
    "mr_cspine": [
        ("At C5-C6 there is a disc osteophyte complex.", "c5_c6"),
        ("Cord signal abnormality.", "cord"),
        ("Reversal of the cervical lordosis.", "alignment"),
    ],
    "mr_tspine": [
        ("Compression fracture of T12.", "vertebrae"),
        ("T7-T8 disc protrusion.", "mid_levels"),
        ("Epidural abscess.", "cord"),
    ],
    "mr_shoulder": [
        ("Full-thickness supraspinatus tear.", "rotator_cuff"),
        ("Medial dislocation of the biceps tendon.", "biceps"),
        ("SLAP tear.", "labrum"),
        ("Hill-Sachs lesion.", "bones_joints"),
    ],
    "mr_hip": [
        ("Avascular necrosis of the femoral head.", "bones"),
        ("Anterosuperior labral tear.", "joint"),
        ("Gluteus medius tendon tear.", "tendons_muscles"),
    ],
    "mr_ankle": [
        ("Achilles tendon rupture.", "tendons"),
        ("Anterior talofibular ligament tear.", "ligaments"),
        ("Osteochondral lesion of the talar dome.", "bones_joints"),
        ("Plantar fasciitis.", "soft_tissues"),
    ],
    "us_renal": [
        ("Moderate right hydronephrosis.", "right_kidney"),
        ("The left kidney measures 11 cm.", "left_kidney"),
        ("Postvoid residual of 200 mL.", "bladder"),
    ],
    "us_venous_le": [
        ("Occlusive thrombus in the popliteal vein.", "femoral_popliteal"),
        ("Peroneal vein thrombus.", "calf_veins"),
        ("Superficial thrombophlebitis of the great saphenous vein.", "superficial"),
        ("Baker cyst.", "soft_tissues"),
    ],
    "us_ob_first_trimester": [
        ("Crown-rump length 1.2 cm.", "gestation"),
        ("Corpus luteum in the left ovary.", "adnexa"),
        ("Small amount of free fluid.", "free_fluid"),
        ("Fibroid in the uterus.", "uterus"),
    ],
    "xr_extremity": [
        ("Nondisplaced scaphoid fracture.", "bones"),
        ("Anterior dislocation.", "joints"),
        ("Intact plate and screws.", "hardware"),
        ("Radiopaque foreign body.", "soft_tissues"),
    ],
    "xr_spine": [
        ("Grade 1 anterolisthesis.", "alignment"),
        ("Compression deformity of L1.", "vertebrae"),
        ("Disc space narrowing at L5-S1.", "discs_joints"),
        ("Posterior spinal fusion hardware.", "soft_tissues"),
    ],
    "mg_diagnostic": [
        ("Heterogeneously dense breasts.", "composition"),
        ("Spiculated mass at 2 o'clock.", "area_of_concern"),
        ("Axillary lymph node with cortical thickening.", "skin_axilla"),
        ("Biopsy clip in the left breast.", "other"),
    ],
    "generic": [("Tracer uptake in the right femur.", "other"), ("Findings are normal.", "other")],
    "xr_chest_2v": [
        ("A 5 mm nodule in the right upper lobe.", "lungs"),
        ("Small left pleural effusion.", "pleura"),
        ("Heart size is normal.", "heart_mediastinum"),
        ("Right IJ central venous catheter tip in the SVC.", "devices"),
        ("Healing fractures of the left 6th and 7th ribs.", "bones_soft_tissues"),
        ("Free air under the right hemidiaphragm.", "upper_abdomen"),
        ("Bibasilar opacities, likely atelectasis.", "lungs"),
    ],
    "ct_head_wo": [
        (
            "Acute right parietal intraparenchymal hemorrhage measuring 3.4 cm with edema.",
            "brain",
        ),
        ("Thin subdural hematoma along the left convexity.", "extra_axial"),
        ("Intraventricular extension into the right lateral ventricle.", "ventricles"),
        ("Mucosal thickening in the left maxillary sinus.", "sinuses_mastoids"),
        ("Left frontal scalp hematoma without underlying fracture.", "soft_tissues"),
        ("Nondisplaced fracture of the right temporal bone.", "calvarium"),
        ("Hyperdense left MCA.", "vessels"),
        ("Bilateral lens replacements.", "orbits"),
    ],
    "ct_cspine_wo": [
        ("Type II odontoid fracture.", "vertebrae"),
        ("Grade 1 anterolisthesis of C4 on C5.", "alignment"),
        ("Multilevel disc osteophyte complexes with mild foraminal narrowing.", "discs"),
        ("Prevertebral soft tissue swelling.", "soft_tissues"),
        ("Partially imaged thyroid nodule.", "included_structures"),
    ],
    "ct_chest": [
        ("A 6 mm solid nodule in the right upper lobe.", "lungs"),
        ("Small left pleural effusion.", "pleura"),
        ("Enlarged subcarinal lymph node measuring 14 mm.", "mediastinum"),
        ("Mild coronary artery calcification.", "heart_vessels"),
        ("Hepatic steatosis.", "upper_abdomen"),
        ("Healed right rib fractures.", "bones_soft_tissues"),
        ("Thyroid nodule in the right lobe of the thyroid gland.", "lower_neck"),
    ],
    "cta_chest_pe": [
        (
            "Filling defects in the right lower lobe segmental pulmonary arteries.",
            "pulmonary_arteries",
        ),
        ("Embolus within a right lower lobe segmental artery.", "pulmonary_arteries"),
        ("The RV/LV ratio is 1.3 with leftward septal bowing.", "heart"),
        ("Wedge-shaped opacity in the right lower lobe, likely infarct.", "lungs"),
        ("No aortic dissection.", "aorta"),
        ("Small right pleural effusion.", "pleura"),
    ],
    "ct_abd_pelvis_w": [
        (
            "Large volume pneumoperitoneum with free air beneath the anterior abdominal wall.",
            "peritoneum",
        ),
        ("Nonobstructing 6 mm stone in the lower pole of the left kidney.", "kidneys"),
        ("Dilated small bowel loops with a transition point in the right lower quadrant.", "bowel"),
        ("The appendix is dilated to 12 mm with periappendiceal fat stranding.", "bowel"),
        ("2.3 cm hypodense lesion in the liver, likely a cyst.", "liver"),
        ("Infrarenal abdominal aortic aneurysm measuring 3.4 cm.", "vessels"),
        ("Enlarged retroperitoneal lymph nodes.", "lymph_nodes"),
        ("Small fat-containing umbilical hernia.", "abdominal_wall"),
        ("Cholelithiasis without gallbladder wall thickening.", "biliary"),
        ("Bibasilar atelectasis.", "lower_chest"),
    ],
    "cta_head_neck": [
        ("Occlusion of the left M1 segment.", "anterior_circulation"),
        ("Basilar artery occlusion.", "posterior_circulation"),
        (
            "70% stenosis of the right cervical internal carotid artery by NASCET criteria.",
            "carotids",
        ),
        ("Dissection of the left vertebral artery in the V2 segment.", "vertebral"),
        ("Bovine aortic arch.", "aortic_arch"),
        ("Multinodular thyroid.", "neck_soft_tissues"),
    ],
    "mr_brain_wwo": [
        (
            "Restricted diffusion in the left corona radiata compatible with acute infarct.",
            "parenchyma",
        ),
        ("Dural-based enhancing mass along the falx, likely meningioma.", "ventricles_extra_axial"),
        ("Pituitary microadenoma.", "sella"),
        ("Left mastoid effusion.", "sinuses_mastoids"),
        ("Normal flow voids.", "vessels"),
    ],
    "mr_knee": [
        ("Complex tear of the posterior horn of the medial meniscus.", "medial_meniscus"),
        ("Radial tear of the posterior horn of the lateral meniscus.", "lateral_meniscus"),
        ("Complete tear of the anterior cruciate ligament.", "acl"),
        (
            "Bone marrow edema in the lateral femoral condyle and posterolateral tibial plateau.",
            "bones",
        ),
        ("Moderate joint effusion with a small Baker cyst.", "joint_fluid"),
        ("Grade 2 sprain of the MCL.", "mcl"),
        ("Partial-thickness chondral fissuring of the patellar cartilage.", "cartilage"),
    ],
    "mr_lspine": [
        (
            "At L5-S1 there is a left paracentral disc extrusion contacting the S1 nerve root.",
            "l5_s1",
        ),
        ("L4-5: mild disc bulge and facet arthropathy.", "l4_l5"),
        ("At L3/4 there is no stenosis.", "l3_l4"),
        ("Grade 1 anterolisthesis of L4 on L5.", "alignment"),
        ("The conus medullaris terminates at L1.", "conus"),
        ("Acute compression fracture of L2.", "vertebrae"),
        ("Multilevel degenerative disc disease.", "other"),
    ],
    "us_abd_complete": [
        ("Multiple gallstones with a positive sonographic Murphy sign.", "gallbladder"),
        ("The common bile duct measures 4 mm.", "bile_ducts"),
        ("Echogenic liver consistent with steatosis.", "liver"),
        ("Mild right hydronephrosis.", "kidneys"),
        ("The pancreas is obscured by bowel gas.", "pancreas"),
        ("Small volume ascites.", "peritoneum"),
    ],
    "us_scrotum": [
        ("The left testis is enlarged with absent color Doppler flow.", "left_testis"),
        ("Normal right testicular flow.", "right_testis"),
        ("Small left hydrocele.", "scrotal_sac"),
        ("Twisted left spermatic cord with a whirlpool sign.", "epididymides"),
        ("Both testes are normal in size.", "testes"),
    ],
    "us_thyroid": [
        ("1.6 cm solid hypoechoic nodule in the right lobe.", "right_lobe"),
        ("The left thyroid lobe measures 4.5 cm.", "left_lobe"),
        ("5 mm spongiform nodule in the isthmus.", "isthmus"),
        ("The thyroid gland is heterogeneous with increased vascularity.", "thyroid"),
        ("No abnormal cervical lymph nodes.", "lymph_nodes"),
    ],
    "us_pelvis": [
        ("The endometrial stripe measures 6 mm.", "endometrium"),
        ("2.1 cm simple cyst in the right ovary.", "right_ovary"),
        ("Enlarged left ovary with absent flow.", "left_ovary"),
        ("Intramural fibroid measuring 3 cm.", "uterus"),
        ("Small amount of free fluid in the cul-de-sac.", "cul_de_sac"),
    ],
    "mg_screening_bilat": [
        ("The breasts are heterogeneously dense, which may obscure small masses.", "composition"),
        ("There is a 1 cm mass in the right breast at 10 o'clock.", "right_breast"),
        ("Grouped amorphous calcifications in the left breast.", "left_breast"),
        ("No suspicious masses, calcifications, or architectural distortion.", "breasts"),
    ],
    "xr_abdomen": [
        ("Multiple dilated small bowel loops with air-fluid levels.", "bowel_gas"),
        ("Free air under the diaphragm.", "free_air"),
        ("Pelvic phleboliths.", "calcifications"),
        ("Enteric tube tip in the stomach.", "devices"),
    ],
}


def test_routing_table_covers_every_bundled_template() -> None:
    assert set(ROUTES) == {t.id for t in default_library().all()}


@pytest.mark.parametrize(
    ("template_id", "sentence", "expected"),
    [(tid, s, k) for tid, rows in ROUTES.items() for s, k in rows],
)
def test_route_sentence(template_id: str, sentence: str, expected: str) -> None:
    template = default_library().get(template_id)
    assert template.subsection(expected) is not None
    assert route_sentence(template, sentence) == expected


def test_routing_falls_back_to_catch_all_and_respects_word_boundaries() -> None:
    chest = default_library().get("xr_chest_2v")
    assert route_sentence(chest, "Discussed with the referring clinician.") == "other"
    assert route_sentence(chest, "") == "other"
    # "rib" must not match inside "contribution", "lung" not inside "lunge".
    assert route_sentence(chest, "Contribution of the lunge maneuver is uncertain.") == "other"
    # Catch-all terms never beat a specific subsection.
    assert route_sentence(chest, "Incidental calcified granuloma.") == "lungs"


def test_routing_is_case_insensitive_and_handles_plurals_and_line_breaks() -> None:
    chest = default_library().get("ct_chest")
    assert route_sentence(chest, "PLEURAL EFFUSIONS bilaterally.") == "pleura"
    assert route_sentence(chest, "Innumerable NODULES.") == "lungs"
    assert route_sentence(chest, "Pleural\n  effusion on the left.") == "pleura"
    cta = default_library().get("cta_chest_pe")
    assert route_sentence(cta, "Bilateral pulmonary arteries are patent.") == "pulmonary_arteries"


def test_router_is_per_template_object() -> None:
    chest = default_library().get("xr_chest_2v")
    subsections = [
        FindingsSubsection(
            key=s.key,
            title=s.title,
            default=s.default,
            terms=[*s.terms, "widget"] if s.key == "devices" else list(s.terms),
        )
        for s in chest.findings
    ]
    changed = chest.model_copy(update={"findings": subsections})
    assert route_sentence(chest, "A widget is present.") == "other"
    assert route_sentence(changed, "A widget is present.") == "devices"
    assert route_sentence(chest, "A widget is present.") == "other"
