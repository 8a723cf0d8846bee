"""The share maths on plain arrays (geoplan.coverage.shares), against answers worked out by hand.

No geometry here: each case is a few demand pieces with an amount, a district index and a
covered fraction, and the expected shares are written out in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geoplan.coverage.shares import (
    district_shares,
    district_totals,
    uncovered_amount,
    within_radius,
)

# --------------------------------------------------------------------------------------------
# district_totals
# --------------------------------------------------------------------------------------------


def test_totals_sum_per_district_and_nan_counts_as_zero():
    # district 0: 100 + 300 = 400; district 1: 50 + NaN(→0) = 50; district 2: no piece → 0
    got = district_totals([100.0, 300.0, 50.0, np.nan], [0, 0, 1, 1], 3)
    assert got.tolist() == [400.0, 50.0, 0.0]
    assert got.dtype == np.float64


def test_totals_of_no_pieces_are_zeros():
    assert district_totals([], [], 2).tolist() == [0.0, 0.0]


# --------------------------------------------------------------------------------------------
# district_shares
# --------------------------------------------------------------------------------------------


def test_shares_by_hand_with_a_district_without_demand():
    # district 0: pieces 100 m² half covered and 300 m² covered -> (50 + 300) / 400 = 0.875
    # district 1: one piece of 50 m², not covered -> 0
    # district 2: no demand at all -> NaN (undefined, not 0 and not 1)
    got = district_shares([100.0, 300.0, 50.0], [0, 0, 1], [0.5, 1.0, 0.0], 3)
    assert got[0] == pytest.approx(0.875, abs=1e-15)
    assert got[1] == 0.0
    assert math.isnan(got[2])


def test_shares_of_a_district_whose_pieces_weigh_nothing_are_nan():
    # two pieces of 0 people: the share of nobody is undefined
    got = district_shares([0.0, 0.0, 10.0], [0, 0, 1], [1.0, 0.0, 1.0], 2)
    assert math.isnan(got[0]) and got[1] == 1.0


def test_covered_fractions_outside_0_1_are_clipped():
    # 1.5 counts as 1, -0.2 as 0: (10 × 1 + 30 × 0) / 40 = 0.25 (unclipped it would be 0.225)
    got = district_shares([10.0, 30.0], [0, 0], [1.5, -0.2], 1)
    assert got[0] == pytest.approx(0.25, abs=1e-15)


def test_boolean_covered_is_within_the_radius():
    # pieces of 1, 2 and 3 people, the first and last reached: (1 + 3) / 6 = 2/3
    got = district_shares([1.0, 2.0, 3.0], [0, 0, 0], np.array([True, False, True]), 1)
    assert got[0] == pytest.approx(2 / 3, abs=1e-15)


def test_nan_amount_counts_as_zero_in_shares():
    # a piece with an unknown amount adds nothing: 20 / (20 + 0) covered = 1
    got = district_shares([20.0, np.nan], [0, 0], [1.0, 0.0], 1)
    assert got[0] == 1.0


def test_shares_agree_with_a_plain_loop():
    rng = np.random.default_rng(11)
    n, k = 500, 7
    amount = rng.uniform(0, 1000, n)
    district = rng.integers(0, k - 1, n)  # the last district gets no piece
    covered = rng.uniform(-0.1, 1.1, n)
    got = district_shares(amount, district, covered, k)
    for d in range(k):
        total = part = 0.0
        for a, di, c in zip(amount, district, covered, strict=True):
            if di == d:
                total += a
                part += a * min(max(c, 0.0), 1.0)
        if total == 0:
            assert math.isnan(got[d])
        else:
            assert got[d] == pytest.approx(part / total, rel=1e-12)
    assert district_totals(amount, district, k) == pytest.approx(
        [amount[district == d].sum() for d in range(k)], rel=1e-12)


@pytest.mark.parametrize(("amount", "district", "covered", "n", "message"), [
    ([1.0, 2.0], [0], [1.0, 1.0], 1, "amount and district differ in length"),
    ([1.0, 2.0], [0, 0], [1.0], 1, "covered and amount differ in length"),
    ([1.0, 2.0], [0, 2], [1.0, 1.0], 2, r"district index outside 0\.\.1"),
    ([1.0, 2.0], [-1, 0], [1.0, 1.0], 2, r"district index outside 0\.\.1"),
])
def test_bad_input_is_a_clear_error(amount, district, covered, n, message):
    with pytest.raises(ValueError, match=message):
        district_shares(amount, district, covered, n)


def test_totals_reject_a_bad_district_index():
    with pytest.raises(ValueError, match=r"district index outside 0\.\.2"):
        district_totals([1.0], [3], 3)


# --------------------------------------------------------------------------------------------
# uncovered_amount
# --------------------------------------------------------------------------------------------


def test_uncovered_amount_by_hand():
    # 400 × (1 − 0.875) = 50; 50 × (1 − 0) = 50; no demand -> 0 (not NaN)
    got = uncovered_amount([400.0, 50.0, 0.0], [0.875, 0.0, np.nan])
    assert got.tolist() == [50.0, 50.0, 0.0]


def test_uncovered_amount_chains_with_shares():
    amount, district, covered = [100.0, 300.0, 50.0], [0, 0, 1], [0.5, 1.0, 0.0]
    total = district_totals(amount, district, 3)
    left = uncovered_amount(total, district_shares(amount, district, covered, 3))
    # district 0: 100 × 0.5 uncovered = 50; district 1: 50; district 2: nothing
    assert left.tolist() == [50.0, 50.0, 0.0]


# --------------------------------------------------------------------------------------------
# within_radius
# --------------------------------------------------------------------------------------------


def test_within_radius_edges_nan_and_inf():
    dist = [0.0, 299.9, 300.0, 300.0001, np.nan, np.inf, -np.inf]
    # exactly at the radius is reached; NaN and ±inf (no facility reached) are not
    assert within_radius(dist, 300.0).tolist() == [True, True, True, False, False, False, False]


def test_within_radius_one_radius_per_piece():
    # park_service_coverage: 500 m for large parks, 300 m for small ones
    got = within_radius([400.0, 400.0, np.nan], np.array([500.0, 300.0, 500.0]))
    assert got.tolist() == [True, False, False]
    assert got.dtype == np.bool_


def test_within_radius_raises_no_warning_on_nan(recwarn):
    within_radius(np.array([np.nan, 1.0]), 5.0)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
