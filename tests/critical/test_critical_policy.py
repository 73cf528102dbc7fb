"""The alert policy (data): which present or uncertain mentions alert, by category and time
course, and when expected post-operative findings stay silent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reportdraft.critical import configure, detect_text
from reportdraft.critical.detector import active_detector
from reportdraft.critical.policy import AlertPolicy, default_policy, load_policy, stated_days
from reportdraft.errors import ConfigurationError
from reportdraft.models.critical import Assertion, Category, Temporality

POLICY = default_policy()


@pytest.mark.parametrize(
    ("category", "temporality", "alerts"),
    [
        (1, None, True),
        (1, Temporality.NEW, True),
        (1, Temporality.WORSENING, True),
        (1, Temporality.UNCHANGED, True),
        (1, Temporality.KNOWN, True),
        (1, Temporality.IMPROVING, False),
        (1, Temporality.RESOLVED, False),
        (1, Temporality.CHRONIC, False),
        (2, Temporality.UNCHANGED, True),
        (2, Temporality.CHRONIC, False),
        (3, None, True),
        (3, Temporality.NEW, True),
        (3, Temporality.WORSENING, True),
        (3, Temporality.UNCHANGED, False),
        (3, Temporality.KNOWN, False),
        (3, Temporality.IMPROVING, False),
    ],
)
def test_bundled_policy_by_category_and_time_course(
    category: Category, temporality: Temporality | None, alerts: bool
) -> None:
    for assertion in (Assertion.PRESENT, Assertion.UNCERTAIN):
        got = POLICY.alerts(
            code="x_finding",
            category=category,
            assertion=assertion,
            temporality=temporality,
            expected=False,
        )
        assert got is alerts
    for assertion in (Assertion.NEGATED, Assertion.HISTORICAL, Assertion.HYPOTHETICAL):
        assert not POLICY.alerts(
            code="x_finding",
            category=category,
            assertion=assertion,
            temporality=temporality,
            expected=False,
        )


def test_expected_postoperative_silences_only_listed_codes_and_not_growth() -> None:
    def alerts(code: str, temporality: Temporality | None) -> bool:
        return POLICY.alerts(
            code=code,
            category=1,
            assertion=Assertion.PRESENT,
            temporality=temporality,
            expected=True,
        )

    assert not alerts("pneumoperitoneum", None)
    assert not alerts("pneumoperitoneum", Temporality.UNCHANGED)
    assert alerts("pneumoperitoneum", Temporality.WORSENING)
    assert alerts("pneumoperitoneum", Temporality.NEW)
    assert alerts("subdural_hematoma", None)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("expected after laparotomy 2 days ago", 2),
        ("laparotomy three weeks ago", 21),
        ("postoperative day 5", 5),
        ("POD #3", 3),
        ("status post laparotomy 1 month prior", 30),
        ("postoperative free air", None),
        ("2 cm collection", None),
    ],
)
def test_stated_days(text: str, days: int | None) -> None:
    assert stated_days(text) == days


def test_window_limit_comes_from_the_policy() -> None:
    assert POLICY.expected_postoperative.max_days == 10
    assert POLICY.within_window("after laparotomy 2 days ago")
    assert not POLICY.within_window("after laparotomy 3 weeks ago")
    assert POLICY.within_window("postoperative")


def _policy(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema": "reportdraft.critical.alert_policy/1",
        "alerting_assertions": ["present", "uncertain"],
        "categories": {1: {"silent_when": []}, 2: {"silent_when": []}, 3: {"silent_when": []}},
        "precedence": [t.value for t in Temporality],
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"categories": {1: {"silent_when": []}}}, "each of 1, 2 and 3"),
        ({"precedence": ["new", "worsening"]}, "every temporality"),
        ({"precedence": [*[t.value for t in Temporality][:-1], "new"]}, "every temporality"),
        ({"alerting_assertions": ["present", "negated"]}, "only present/uncertain"),
        ({"categories": {1: {"silent_when": ["someday"]}}}, "silent_when"),
        ({"expected_postoperative": {"codes": ["pneumoperitoneum"], "max_hours": 2}}, "max_hours"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_policy_files_are_rejected(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(_policy(**changes)))
    with pytest.raises(ConfigurationError, match=message):
        load_policy(path)


def test_a_site_policy_through_configure(tmp_path: Path) -> None:
    """A site that wants unchanged Category 1-2 findings silent says so in its own file."""
    strict = _policy(
        categories={
            1: {"silent_when": ["unchanged", "improving", "resolved", "chronic"]},
            2: {"silent_when": ["unchanged", "improving", "resolved", "chronic"]},
            3: {"silent_when": ["unstated", "unchanged"]},
        }
    )
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(strict))
    assert isinstance(load_policy(path), AlertPolicy)
    (before,) = detect_text("Stable small left pneumothorax.")
    assert before.alert
    previous = active_detector()
    try:
        configure(policy=path)
        (after,) = detect_text("Stable small left pneumothorax.")
        assert (after.assertion, after.temporality, after.alert) == (
            Assertion.PRESENT,
            Temporality.UNCHANGED,
            False,
        )
        assert after.triggers[-1].rule_id == "policy:category_2_unchanged"
        (nodule,) = detect_text("8 mm right upper lobe pulmonary nodule.")
        assert not nodule.alert
    finally:
        import reportdraft.critical.detector as module

        module._active = previous


def test_silenced_mentions_say_why() -> None:
    (improving,) = detect_text("Decreasing small left pneumothorax.")
    assert not improving.alert
    assert [t.rule_id for t in improving.triggers] == [
        "temp_improving",
        "policy:category_2_improving",
    ]
    assert improving.triggers[0].category == "temporal:improving"
    (postop,) = detect_text("Postoperative pneumoperitoneum.")
    assert not postop.alert
    assert postop.triggers[-1].rule_id == "policy:expected_postoperative"
    assert postop.triggers[-1].text == "Postoperative"
