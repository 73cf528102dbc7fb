"""`reportdraft templates import`: IHE MRRT (RadReport HTML) files into template data.

The fixtures in ``mrrt/`` were written for these tests (none is a published template);
each exercises one part of the format. Every written file is read back with the project's
loader and loaded beside the bundled templates.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reportdraft import drafting
from reportdraft.backends import BackendOptions, create_backend
from reportdraft.cli import main
from reportdraft.errors import TemplateError
from reportdraft.models import Case, FlagKind, Modality, SectionKind
from reportdraft.resources import data_dir
from reportdraft.templates import TemplateLibrary, default_library
from reportdraft.templates.mrrt import ImportResult, import_mrrt, import_path
from tests.factories import case_dict

FIXTURES = Path(__file__).parent / "mrrt"


def _import(name: str, out: Path, **kwargs: object) -> ImportResult:
    return import_mrrt(FIXTURES / name, out, existing=default_library(), **kwargs)  # type: ignore[arg-type]


def test_nested_sections_with_normals_and_codes(tmp_path: Path) -> None:
    result = _import("ct_abdomen_sections.html", tmp_path)
    assert result.error is None
    template = result.template
    assert template is not None
    assert template.modality is Modality.CT
    assert "abdomen" in template.body_parts
    assert [(c.system, c.code) for c in template.procedure_codes] == [
        ("http://loinc.org", "99901-1")
    ]
    assert template.technique.startswith("Axial CT images of the abdomen")
    assert template.comparison_default == "None."
    subs = {s.key: s.default for s in template.findings}
    assert subs == {
        "liver": "The liver is normal in size. No focal hepatic lesion.",
        "spleen": "The spleen is normal in size.",
        "kidneys": "No hydronephrosis.",
        "bowel": None,  # an empty field: no normal text, so absent unless dictated
        "other": None,
    }
    assert template.impression_default == "No acute abnormality in the abdomen."
    assert any("'Bowel' has no normal text" in u for u in result.unmapped)
    assert any("Clinical Information" in m and "from the case" in m for m in result.mapped)
    # The written file is a template the library loads beside the bundled ones.
    library = TemplateLibrary.load(data_dir("templates"), tmp_path)
    assert template.id in library


def test_picklists_selected_option_is_the_default_else_a_blank_field(tmp_path: Path) -> None:
    result = _import("xr_knee_picklists.html", tmp_path)
    template = result.template
    assert template is not None
    assert template.modality is Modality.XR
    assert template.body_parts[0] == "knee"
    assert [c.code for c in template.procedure_codes] == ["RPID99999"]
    bones, effusion, _other = template.findings
    assert bones.default == "No acute fracture."
    assert effusion.default is None
    assert "lipohemarthrosis" in effusion.terms  # option names route dictation here
    assert "none" not in effusion.terms
    assert "small" not in effusion.terms
    assert template.impression_default == "No acute osseous abnormality."
    blank = [u for u in result.unmapped if u.startswith("[ ]")]
    assert blank == [
        "[ ] pick-list 'Joint effusion' has no selected option: No joint effusion. | "
        "Small joint effusion. | Lipohemarthrosis."
    ]
    header = result.written.read_text() if result.written else ""
    assert "# Pick-lists without a selected option" in header


def test_inputs_unknown_section_and_unmapped_scheme_are_reported(tmp_path: Path) -> None:
    result = _import("mr_brain_inputs.html", tmp_path)
    template = result.template
    assert template is not None
    assert template.modality is Modality.MR
    defaults = {s.key: s.default for s in template.findings}
    assert defaults["ventricles"] == "The ventricles are normal in size."
    assert defaults["parenchyma"] == "No acute infarct. No mass."
    assert defaults["restricted_diffusion"] is None  # an unchecked box asserts nothing
    assert template.impression_default is None
    assert template.technique == "{procedure}."
    unmapped = "\n".join(result.unmapped)
    assert "code SNOMEDCT 12738006 (Brain structure): scheme not mapped" in unmapped
    assert "section 'Recommendation': no report section" in unmapped
    assert "impression: no normal text" in unmapped


def test_title_gives_modality_and_body_part_when_nothing_is_coded(tmp_path: Path) -> None:
    result = _import("us_liver_text_only.html", tmp_path)
    template = result.template
    assert template is not None
    assert template.modality is Modality.US
    assert template.body_parts == ["liver elastography test"]
    assert template.findings[0].default == "The liver is normal in echotexture."


def test_no_modality_is_refused_unless_given(tmp_path: Path) -> None:
    refused = _import("no_modality.html", tmp_path)
    assert refused.written is None
    assert refused.error is not None
    assert "no modality" in refused.error
    assert not list(tmp_path.iterdir())
    given = _import("no_modality.html", tmp_path, modality=Modality.NM)
    assert given.template is not None
    assert given.template.modality is Modality.NM


def test_code_already_claimed_by_a_bundled_template_is_left_out(tmp_path: Path) -> None:
    page = (FIXTURES / "ct_abdomen_sections.html").read_text()
    clash = tmp_path / "clash.html"
    clash.write_text(page.replace("99901-1", "24627-2"))  # CT Chest, claimed by ct_chest
    result = import_mrrt(clash, tmp_path / "out", existing=default_library())
    assert result.template is not None
    assert result.template.procedure_codes == []
    assert any("already claimed by template 'ct_chest'" in u for u in result.unmapped)
    TemplateLibrary.load(data_dir("templates"), tmp_path / "out")  # still loads


def test_existing_file_is_not_overwritten_without_the_flag(tmp_path: Path) -> None:
    assert _import("xr_knee_picklists.html", tmp_path).written is not None
    again = _import("xr_knee_picklists.html", tmp_path)
    assert again.error is not None
    assert "exists" in again.error
    assert _import("xr_knee_picklists.html", tmp_path, overwrite=True).written is not None


def test_directory_import_and_cli_report(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["templates", "import", str(FIXTURES), "--out", str(out)])
    assert result.exit_code == 1  # two fixtures cannot be imported
    lines = result.output.splitlines()
    assert lines[-1] == "4 imported, 2 not imported"
    assert any("no_findings.html: NOT IMPORTED: no Findings section" in line for line in lines)
    assert any("no_modality.html: NOT IMPORTED: no modality" in line for line in lines)
    assert any("not mapped: section 'Recommendation'" in line for line in lines)
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 4
    for path in out.iterdir():
        assert yaml.safe_load(path.read_text())["id"] == path.stem
    library = TemplateLibrary.load(data_dir("templates"), out)
    assert len(library) == len(default_library()) + 4


def test_missing_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError):
        import_path(tmp_path / "nope.html", tmp_path)
    with pytest.raises(TemplateError, match=r"no \.html files"):
        import_path(tmp_path, tmp_path / "out")


def test_imported_template_drafts_only_what_it_knows(tmp_path: Path) -> None:
    """A pick-list with no selected option is a blank: the draft says nothing there unless
    it was dictated, and the normal text of the template stands elsewhere."""
    _import("xr_knee_picklists.html", tmp_path)
    library = TemplateLibrary.load(data_dir("templates"), tmp_path)
    doc = case_dict(
        procedure={"system": "RadLex", "code": "RPID99999", "display": "XR knee 3 views"},
        body_part="knee",
    )
    doc["dictation"] = "Mild medial compartment narrowing."
    rules = create_backend("rules", BackendOptions())
    result = drafting.draft_case(Case.model_validate(doc), rules, library=library)
    assert result.template.id == "mrrt_xr_knee_test"
    findings = {st.subsection: st.text for st in result.draft.section(SectionKind.FINDINGS)}
    assert findings["bones"] == "No acute fracture."
    assert "effusion" not in findings  # blank pick-list, nothing dictated: absent
    kinds = {f.kind for f in result.draft.flags}
    assert FlagKind.GENERIC_TEMPLATE not in kinds
    assert FlagKind.DEFAULT_CONFLICT not in kinds
