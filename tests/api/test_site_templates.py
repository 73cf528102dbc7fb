"""The API's drafting workers draft on the site's templates (``REPORTDRAFT_TEMPLATES``).

Until now the CLI and ``reportdraft eval`` read the site's directories but the service's
drafting workers used the bundled templates only, so a site override changed every
draft except the ones the workstations asked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reportdraft.errors import TemplateError
from reportdraft.resources import data_dir
from reportdraft.settings import Settings
from reportdraft.store import Database
from tests.api.conftest import make_api
from tests.api.helpers import a_case, create_drafted, seed_keys

SITE_TECHNIQUE = "Site protocol: {views} of the chest, upright."


def _settings(site: Path) -> Settings:
    return Settings(backend="rules", database_url="sqlite://", template_dirs=(site,))


def test_the_service_drafts_on_the_site_override(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    template = yaml.safe_load((data_dir("templates") / "xr_chest_2v.yaml").read_text())
    template["version"] = "9.9"
    template["technique"] = SITE_TECHNIQUE
    (site / "xr_chest_2v.yaml").write_text(yaml.safe_dump(template))
    db = Database(f"sqlite:///{tmp_path / 'site.db'}")
    client, keks = make_api(db, _settings(site))
    try:
        with client:
            keys = seed_keys(db, keks)
            body = create_drafted(client, keys["workstation"], a_case("ACC-SITE-1"))
    finally:
        db.dispose()
    draft = body["draft"]
    assert (draft["template_id"], draft["template_version"]) == ("xr_chest_2v", "9.9")
    technique = next(s for s in draft["sections"] if s["kind"] == "technique")
    assert technique["statements"][0]["text"].startswith("Site protocol:")


def test_a_broken_site_template_stops_the_service_from_starting(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "broken.yaml").write_text("id: broken\nversion: [\n")
    db = Database(f"sqlite:///{tmp_path / 'broken.db'}")
    client, _keks = make_api(db, _settings(site))
    try:
        with pytest.raises(TemplateError, match=r"broken\.yaml"), client:
            pass  # the app's startup (its drafting workers) loads the templates
    finally:
        db.dispose()
