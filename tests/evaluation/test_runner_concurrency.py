"""``run_system`` drafting cases concurrently: bounded, in the cases' order, same cache."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from reportdraft.errors import BackendError
from reportdraft.evaluation.runner import Drafter, OutputCache, default_concurrency, run_system
from reportdraft.evaluation.suite import SystemSpec
from reportdraft.models import Case, Draft
from tests.evaluation.helpers import echo_drafter, make_item

ITEMS = [make_item(f"ACC-{i}", f"Finding number {i}. No effusion.", None) for i in range(12)]


class Counting:
    """A drafter that counts cases in flight and finishes them in reverse order."""

    def __init__(self, fail: str | None = None) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.fail = fail

    def __call__(self, case: Case) -> Draft:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            number = int(case.study.accession_number.split("-")[1])
            time.sleep(0.02 * (12 - number))  # later cases finish first
            if case.study.accession_number == self.fail:
                raise BackendError("model server fell over")
            return echo_drafter(case)
        finally:
            with self.lock:
                self.now -= 1


def _run(tmp_path: Path, drafter: Counting, workers: int | None, **spec: object):  # type: ignore[no-untyped-def]
    def factory(_: SystemSpec) -> Drafter:
        return drafter

    return run_system(
        SystemSpec.model_validate({"name": "sys", "backend": "rules", **spec}),
        ITEMS,
        factory,
        cache=OutputCache(tmp_path / "cache"),
        prompt_version="p",
        code_version="c",
        progress=False,
        concurrency=workers,
    )


@pytest.mark.parametrize("concurrency", [1, 4])
def test_outputs_in_case_order_and_bound_kept(tmp_path: Path, concurrency: int) -> None:
    drafter = Counting(fail="ACC-5")
    outputs = _run(tmp_path, drafter, concurrency)
    assert drafter.peak == concurrency
    assert [o.case_id for o in outputs] == [item.case_id for item in ITEMS]
    assert [o.error_code for o in outputs] == [None] * 5 + ["backend_error"] + [None] * 6
    for output, item in zip(outputs, ITEMS, strict=True):
        if output.draft is not None:
            assert output.draft.accession_number == item.case.study.accession_number
    # the cache holds the successes; a re-run drafts only the failed case
    again = Counting()
    rerun = _run(tmp_path, again, concurrency)
    assert [o.cached for o in rerun] == [True] * 5 + [False] + [True] * 6
    assert again.peak == 1


def test_same_outputs_at_any_concurrency(tmp_path: Path) -> None:
    one = _run(tmp_path / "a", Counting(), 1)
    many = _run(tmp_path / "b", Counting(), 8)
    assert [o.draft for o in one] == [o.draft for o in many]


def test_system_setting_and_backend_default(tmp_path: Path) -> None:
    drafter = Counting()
    _run(tmp_path, drafter, None, concurrency=3)
    assert drafter.peak == 3
    assert default_concurrency(SystemSpec(name="a", backend="vllm")) == 8
    assert default_concurrency(SystemSpec(name="b", backend="llamacpp")) == 1
    assert default_concurrency(SystemSpec(name="c", backend="no-such-backend")) == 1


def test_replica_urls_as_a_list() -> None:
    spec = SystemSpec.model_validate(
        {"name": "s", "backend": "vllm", "base_url": ["http://a:1", "http://b:2"]}
    )
    assert spec.base_url == "http://a:1,http://b:2"


def test_concurrency_below_one_is_refused(tmp_path: Path) -> None:
    from reportdraft.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="at least 1"):
        _run(tmp_path, Counting(), 0)
