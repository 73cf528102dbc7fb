"""``reportdraft render`` verifies signatures first and renders unsigned drafts only as previews.

Every test here fails on the base commit (473b706), where ``render`` printed "Electronically
signed by ..." and OBR-25 ``F`` for a report whose text was changed after signing, had no
``--trust`` / ``--preview`` and refused every draft. Probe, from the worktree root::

    python -c "
    import json; from click.testing import CliRunner
    from reportdraft.cli.render import render_command; from reportdraft.io import dump_json
    from tests.render.signed_examples import signed_example
    d = json.loads(dump_json(signed_example('us_abd_cholecystitis')))
    d['versions'][-1]['content'][-1]['statements'][0]['text'] = 'No acute abnormality.'
    open('/tmp/t.json', 'w').write(json.dumps(d))
    print(CliRunner().invoke(render_command, ['/tmp/t.json', '--out', '/tmp/o']).output)"

Base: exit 0 and three files written; now: exit 1, ``error [signature_invalid]: ...``.
"""

from __future__ import annotations

import io
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import hl7
import pypdf
import pytest
from click.testing import CliRunner, Result

from reportdraft.attest import SignOff, edit, generate_signing_key, load_trusted_keys
from reportdraft.cli.render import render_command, validate_group
from reportdraft.errors import ConfigurationError, RenderError
from reportdraft.io import dump_json
from reportdraft.models import Report, SectionKind
from reportdraft.render import (
    NotSignedError,
    check_us_core,
    render_fhir,
    render_hl7,
    render_pdf,
    report_lines,
)
from tests.render.conftest import pdf_text
from tests.render.signed_examples import (
    corrected,
    load_case,
    open_report,
    sign_case,
    signed_at,
    signed_example,
    signing_key,
)

NO_ENV = {"REPORTDRAFT_TRUSTED_KEYS": None}
"""CliRunner env that removes the trusted-keys variable (the tests set their own keys)."""


def _write(tmp_path: Path, report: Report | dict[str, Any], name: str = "report.json") -> Path:
    path = tmp_path / name
    text = dump_json(report) if isinstance(report, Report) else json.dumps(report)
    path.write_text(text, encoding="utf-8")
    return path


def _stored(report: Report) -> dict[str, Any]:
    """The report as its file stores it (what render reads)."""
    data: dict[str, Any] = json.loads(dump_json(report))
    return data


def _public_key(tmp_path: Path, name: str = "trusted.pub.pem") -> Path:
    path = tmp_path / name
    path.write_bytes(signing_key().verify_key.public_pem())
    return path


def _render(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(render_command, args, env={**NO_ENV, **(env or {})})


def _refused(result: Result, out: Path, code: str, exit_code: int) -> None:
    """Refused with ``code`` on stderr, and nothing written (the out dir not even created)."""
    assert result.exit_code == exit_code, result.output
    assert result.stderr.startswith(f"error [{code}]: "), result.stderr
    assert not out.exists()


def _draft() -> Report:
    """An unsigned draft, as the review UI holds it before sign-off."""
    return open_report(load_case("xr_chest_normal"))


# --- signed reports: verified against trusted keys before anything is written -----------


def test_tampered_statement_text_is_refused_and_nothing_written(tmp_path: Path) -> None:
    data = _stored(signed_example("us_abd_cholecystitis"))
    statement = data["versions"][-1]["content"][-1]["statements"][0]
    statement["text"] = "No acute abnormality."
    out = tmp_path / "out"
    result = _render(
        [str(_write(tmp_path, data)), "--out", str(out), "--trust", str(_public_key(tmp_path))]
    )
    _refused(result, out, "signature_invalid", 1)
    assert "signed bytes changed" in result.stderr


def test_broken_version_link_is_refused(tmp_path: Path) -> None:
    """Version 1 replaced by a different, validly signed version 1: each signature verifies,
    the link from version 2 (sha256 of the version it corrects) does not."""
    report = corrected(
        signed_example("ct_chest_nodule"), new_text="Corrected impression.", reason="Typo fixed."
    )
    case = load_case("ct_chest_nodule")
    first = open_report(case).current.section(SectionKind.IMPRESSION)[0]
    other_v1 = sign_case(case, extra_edits=[{"id": first.id, "text": "A different first read."}])
    data = _stored(report)
    data["versions"][0] = _stored(other_v1)["versions"][0]
    out = tmp_path / "out"
    args = [str(_write(tmp_path, data)), "--out", str(out), "--trust", str(_public_key(tmp_path))]
    result = _render(args)
    _refused(result, out, "signature_invalid", 1)
    assert "[chain_broken]" in result.stderr
    assert "previous-version hash differs" in result.stderr


def test_untrusted_key_is_refused(tmp_path: Path) -> None:
    stranger = tmp_path / "stranger.pub.pem"
    stranger.write_bytes(generate_signing_key().verify_key.public_pem())
    out = tmp_path / "out"
    report_file = _write(tmp_path, signed_example("mr_knee"))
    result = _render([str(report_file), "--out", str(out), "--trust", str(stranger)])
    _refused(result, out, "signature_invalid", 1)
    assert "not trusted" in result.stderr


def test_signed_status_without_signature_is_refused(tmp_path: Path) -> None:
    data = _stored(signed_example("mr_knee"))
    data["versions"][-1]["signature"] = None
    out = tmp_path / "out"
    args = [str(_write(tmp_path, data)), "--out", str(out), "--trust", str(_public_key(tmp_path))]
    result = _render(args)
    _refused(result, out, "signature_invalid", 1)
    assert "no signature" in result.stderr


def test_signed_report_without_any_trusted_key_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _render([str(_write(tmp_path, signed_example("mr_knee"))), "--out", str(out)])
    _refused(result, out, "no_trusted_keys", 2)


def test_preview_flag_does_not_skip_verification(tmp_path: Path) -> None:
    data = _stored(signed_example("us_abd_cholecystitis"))
    data["versions"][-1]["content"][-1]["statements"][0]["text"] = "No acute abnormality."
    out = tmp_path / "out"
    report_file = str(_write(tmp_path, data))
    _refused(_render([report_file, "--out", str(out), "--preview"]), out, "no_trusted_keys", 2)
    trusted = ["--trust", str(_public_key(tmp_path))]
    result = _render([report_file, "--out", str(out), "--preview", *trusted])
    _refused(result, out, "signature_invalid", 1)


@pytest.mark.parametrize("trust_dir", [False, True], ids=["pem-file", "directory"])
def test_good_report_with_trust_is_rendered_with_its_signature_block(
    tmp_path: Path, trust_dir: bool
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    pem = _public_key(keys)
    out = tmp_path / "out"
    trust = str(keys if trust_dir else pem)
    report = signed_example("us_abd_cholecystitis")
    result = _render([str(_write(tmp_path, report)), "--out", str(out), "--trust", trust])
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("*.pdf"))) == 1
    assert len(list(out.glob("*.fhir.json"))) == 1
    assert len(list(out.glob("*.hl7"))) == 1
    text = pdf_text(next(out.glob("*.pdf")).read_bytes())
    assert "Electronically signed by" in text
    assert "NOT FOR CLINICAL USE" not in text
    message = hl7.parse(next(out.glob("*.hl7")).read_bytes().decode("utf-8"))
    assert str(message.segment("OBR")[25]) == "F"


def test_trusted_keys_from_the_environment(tmp_path: Path) -> None:
    """``REPORTDRAFT_TRUSTED_KEYS`` holds os.pathsep-separated files and directories."""
    unrelated = tmp_path / "unrelated.pub.pem"
    unrelated.write_bytes(generate_signing_key().verify_key.public_pem())
    keys = tmp_path / "keys"
    keys.mkdir()
    _public_key(keys)
    out = tmp_path / "out"
    env = {"REPORTDRAFT_TRUSTED_KEYS": os.pathsep.join([str(unrelated), str(keys)])}
    result = _render([str(_write(tmp_path, signed_example("mr_knee"))), "--out", str(out)], env)
    assert result.exit_code == 0, result.output
    assert "Electronically signed by" in pdf_text(next(out.glob("*.pdf")).read_bytes())
    # --trust replaces the environment: the unrelated key alone does not verify the report.
    out2 = tmp_path / "out2"
    args = [str(tmp_path / "report.json"), "--out", str(out2), "--trust", str(unrelated)]
    _refused(_render(args, env), out2, "signature_invalid", 1)


def test_pades_key_must_be_the_signing_key(tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(generate_signing_key().private_pem())
    out = tmp_path / "out"
    args = [
        str(_write(tmp_path, signed_example("mr_knee"))),
        "--out",
        str(out),
        "--trust",
        str(_public_key(tmp_path)),
        "--pades-key",
        str(other),
    ]
    _refused(_render(args), out, "pades_key_mismatch", 2)


# --- trusted key loading ------------------------------------------------------------------


def test_trust_paths_refuse_private_keys_empty_dirs_and_missing_files(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    with pytest.raises(ConfigurationError, match=r"holds no \.pem"):
        load_trusted_keys(keys)
    with pytest.raises(ConfigurationError, match="not found"):
        load_trusted_keys(tmp_path / "missing.pem")
    (keys / "signing_key.pem").write_bytes(signing_key().private_pem())
    with pytest.raises(ConfigurationError, match="private key") as caught:
        load_trusted_keys(keys)
    assert caught.value.code == "trusted_key_invalid"
    (keys / "signing_key.pem").unlink()
    (keys / "a.pub.pem").write_bytes(signing_key().verify_key.public_pem())
    (keys / "b.pub.pem").write_bytes(generate_signing_key().verify_key.public_pem())
    assert signing_key().key_id in load_trusted_keys(keys)
    assert len(load_trusted_keys(keys)) == 2


# --- unsigned drafts: previews only ---------------------------------------------------------


def test_unsigned_draft_without_preview_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _refused(_render([str(_write(tmp_path, _draft())), "--out", str(out)]), out, "not_signed", 2)


def _long_draft() -> Report:
    """A draft long enough for several pages (the watermark must be on each)."""
    sentence = "Structure number {n} is within normal limits without focal abnormality or mass."
    edits = [{"section": "findings", "text": sentence.format(n=n)} for n in range(90)]
    draft = _draft()
    at = signed_at(draft.current.case) - timedelta(minutes=10)
    return edit(draft, SignOff.model_validate({"statement_edits": edits}), by="dr-rivera", at=at)


def test_preview_of_an_unsigned_draft(tmp_path: Path) -> None:
    draft = _long_draft()
    out = tmp_path / "out"
    result = _render([str(_write(tmp_path, draft)), "--out", str(out), "--preview"])
    assert result.exit_code == 0, result.output

    pdf = next(out.glob("*.pdf")).read_bytes()
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    for page in pages:
        lines = page.extract_text().splitlines()
        # The diagonal watermark (its two lines), the banner and the footer, on every page.
        assert "DRAFT" in lines
        assert "NOT FOR CLINICAL USE" in lines
        assert "DRAFT - NOT FOR CLINICAL USE - UNSIGNED PREVIEW" in lines
        assert lines[-2].endswith("| DRAFT - NOT FOR CLINICAL USE")
    whole = pdf_text(pdf)
    assert "Electronically signed" not in whole
    assert "SIGNATURE" not in whole

    message = next(out.glob("*.hl7")).read_bytes().decode("utf-8")
    parsed = hl7.parse(message)
    assert str(parsed.segment("OBR")[25]) == "R"
    assert {str(obx[11]) for obx in parsed.segments("OBX")} == {"R"}
    assert "NOT FOR CLINICAL USE" in str(parsed.segment("NTE")[3])
    tx = [parsed.unescape(str(s[5])) for s in parsed.segments("OBX") if str(s[2]) == "TX"]
    assert tx == [line.text for line in report_lines(draft)]
    assert tx[0] == "DRAFT - NOT FOR CLINICAL USE:"
    assert not any(line.startswith("Electronically signed") for line in tx)

    bundle_file = next(out.glob("*.fhir.json"))
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert "Provenance" not in kinds
    assert "Practitioner" not in kinds
    (dr,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DiagnosticReport"
    ]
    assert dr["status"] == "partial"
    assert [t["code"] for t in dr["meta"]["tag"]] == ["draft-preview"]
    assert [t["code"] for t in bundle["meta"]["tag"]] == ["draft-preview"]
    assert "resultsInterpreter" not in dr
    assert check_us_core(bundle) == []
    ok = CliRunner().invoke(validate_group, ["fhir", str(bundle_file)])
    assert ok.exit_code == 0, ok.output


# --- the renderers themselves (the API calls them directly) -------------------------------


@pytest.mark.parametrize(
    "render",
    [render_pdf, lambda r, **kw: render_fhir(r, pdf=b"%PDF-", **kw), render_hl7],
    ids=["pdf", "fhir", "hl7"],
)
def test_renderers_refuse_a_draft_unless_asked_for_a_preview(render: Any) -> None:
    draft = _draft()
    with pytest.raises(NotSignedError) as caught:
        render(draft)
    assert isinstance(caught.value, RenderError)
    assert caught.value.code == "not_signed"
    assert render(draft, preview=True)


def test_a_signed_report_renders_as_signed_even_when_a_preview_is_allowed() -> None:
    report = signed_example("mr_knee")
    assert render_pdf(report, preview=True) == render_pdf(report)
    assert "Electronically signed by" in pdf_text(render_pdf(report, preview=True))


# --- the demo renders through the same verified path ---------------------------------------


def _one_example_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point the demo at one example case (the whole set takes too long for a unit test)."""
    import reportdraft.cli.core as core

    examples = tmp_path / "examples"
    examples.mkdir()
    source = Path(__file__).resolve().parents[2] / "examples" / "xr_chest_normal.json"
    (examples / source.name).write_bytes(source.read_bytes())
    bundled = core.data_dir
    monkeypatch.setattr(
        core, "data_dir", lambda name: examples if name == "examples" else bundled(name)
    )
    return tmp_path / "demo-out"


def test_demo_writes_its_public_key_and_renders_verified(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from reportdraft.cli.core import demo

    out = _one_example_demo(monkeypatch, tmp_path)
    result = CliRunner().invoke(demo, ["--backend", "rules", "--out", str(out)], env=NO_ENV)
    assert result.exit_code == 0, result.output
    assert "signature ok" in result.output
    case_dir = out / "xr_chest_normal"
    assert "Electronically signed by" in pdf_text((case_dir / "report.pdf").read_bytes())
    # The key file the demo wrote verifies the report it stored, through `render --trust`.
    rendered = tmp_path / "rendered"
    args = [str(case_dir / "report.json"), "--out", str(rendered), "--trust", str(out)]
    assert _render(args).exit_code == 0
    assert "Electronically signed by" in pdf_text(next(rendered.glob("*.pdf")).read_bytes())


def test_demo_does_not_render_a_report_that_fails_verification(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A signed report changed after signing (here by a patched sign-off) gets no PDF/FHIR/HL7."""
    from reportdraft import demo as simulated
    from reportdraft.cli.core import demo

    original = simulated.review_and_sign

    def tampered(*args: Any, **kwargs: Any) -> Report:
        data = _stored(original(*args, **kwargs))
        data["versions"][-1]["content"][-1]["statements"][0]["text"] = "Changed after signing."
        return Report.model_validate(data)

    monkeypatch.setattr(simulated, "review_and_sign", tampered)
    out = _one_example_demo(monkeypatch, tmp_path)
    result = CliRunner().invoke(demo, ["--backend", "rules", "--out", str(out)], env=NO_ENV)
    assert result.exit_code == 1, result.output
    assert "error [signature_invalid]" in result.stderr
    case_dir = out / "xr_chest_normal"
    assert (case_dir / "report.json").is_file()
    assert not (case_dir / "report.pdf").exists()
    assert not (case_dir / "report.hl7").exists()
