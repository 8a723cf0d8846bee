"""Basket maths (all items, at least k of n, items without data): answers worked on paper."""

from __future__ import annotations

import numpy as np
import pytest

from geoplan.coverage.baskets import basket_flags, default_min_items
from geoplan.coverage.shares import district_shares


def test_all_of_and_k_of_n_by_hand() -> None:
    # 4 items × 6 pieces; item 3 has no facility at all ("no data").
    reached = np.array([
        [1, 1, 1, 0, 1, 0],
        [1, 1, 0, 0, 1, 0],
        [1, 0, 1, 0, 1, 1],
        [0, 0, 0, 0, 0, 0],
    ], dtype=bool)
    res = basket_flags(reached, [True, True, True, False], k=2)
    # counts over the 3 items with data: 3, 2, 2, 0, 3, 1
    assert res.n_reached.tolist() == [3, 2, 2, 0, 3, 1]
    assert res.all_of.tolist() == [True, False, False, False, True, False]
    assert res.at_least_k.tolist() == [True, True, True, False, True, False]
    assert (res.n_with_data, res.k) == (3, 2)
    # district shares on top: pieces of 10, 20, 30, 40 m² in district 0 and 50, 60 in district 1
    amount = np.array([10.0, 20, 30, 40, 50, 60])
    district = np.array([0, 0, 0, 0, 1, 1])
    np.testing.assert_allclose(district_shares(amount, district, res.all_of, 2), [0.1, 50 / 110])
    np.testing.assert_allclose(district_shares(amount, district, res.at_least_k, 2),
                               [0.6, 50 / 110])


def test_k_larger_than_items_with_data_is_lowered() -> None:
    reached = np.array([[1, 0], [0, 0]], dtype=bool)
    res = basket_flags(reached, [True, False], k=2)
    assert res.k == 1 and res.all_of.tolist() == [True, False]
    assert res.at_least_k.tolist() == [True, False]


def test_no_item_with_data_reaches_nothing() -> None:
    res = basket_flags(np.zeros((2, 3), dtype=bool), [False, False], k=1)
    assert not res.all_of.any() and not res.at_least_k.any() and res.n_with_data == 0
    # "at least 1 of 2", none reached: not "at least 0" (which every home meets), as the
    # coverage table said of a toilet standard with no toilet in the data
    assert res.k == 1


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        basket_flags(np.zeros(3, dtype=bool), [True], k=1)
    with pytest.raises(ValueError):
        basket_flags(np.zeros((2, 3), dtype=bool), [True], k=1)
    with pytest.raises(ValueError):
        basket_flags(np.zeros((2, 3), dtype=bool), [True, True], k=0)


def test_default_min_items() -> None:
    assert [default_min_items(n) for n in (0, 1, 2, 6)] == [0, 1, 1, 5]


def test_the_one_item_of_a_standard_is_named_as_the_standard(chengdu_results):
    # coverage_items.csv named park_500's item 'parks' and green_300's 'green_space'
    coverage = chengdu_results[0]
    items = coverage.items
    park = items.loc[items["standard"] == "park_500"].iloc[0]
    assert (park["name_zh"], park["name_en"]) == ("500米见园", "A park within 500 m")
    toilet = items.loc[(items["standard"] == "life_circle_5min") & (items["item"] == "toilet")]
    assert toilet["name_zh"].iloc[0] == "公共厕所"  # a life circle's items keep their own names
