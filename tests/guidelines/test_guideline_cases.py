"""The guideline test set: every item of ``tests/guidelines/*.yaml`` through the engine.

At least 150 items across the six guidelines, boundaries included (5.6 mm rounds to 6 for
Fleischner, 8 x 6 mm is 7, exactly 8 mm is 6-8; Lung-RADS' tenths of a millimetre; the
TI-RADS size thresholds at exactly 1.0 / 1.5 / 2.5 cm ...).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from reportdraft.guidelines import recommend
from tests.guidelines.cases import build_case, load_items, problems

ITEMS = load_items()


@pytest.mark.parametrize("item", ITEMS, ids=[f"{i['guideline']}:{i['id']}" for i in ITEMS])
def test_guideline_item(item: dict[str, Any]) -> None:
    result = recommend(build_case(item))
    assert problems(item, result) == []


def test_the_set_is_large_enough() -> None:
    counts = Counter(i["guideline"] for i in ITEMS)
    assert sum(counts.values()) >= 150, counts
    assert set(counts) == {
        "fleischner-2017",
        "lung-rads-2022",
        "acr-tirads-2017",
        "acr-adrenal-2017",
        "bosniak-2019",
        "bi-rads-2013",
    }
    ids = [(i["guideline"], i["id"]) for i in ITEMS]
    assert len(ids) == len(set(ids)), "item ids repeat"
