"""Site suggestions: the greedy cover against hand answers and against spopt's exact MCLP."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from geoplan.siting import greedy_max_cover


def test_hand_built_instance():
    # two clusters: 4 points of weight 1 around (0, 0), 2 of weight 3 around (1000, 0)
    demand = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [1000, 0], [1010, 0]], float)
    weights = np.array([1, 1, 1, 1, 3, 3], float)
    chosen, gains = greedy_max_cover(demand, demand, weights, 20.0, max_sites=3)
    assert gains.tolist() == [6.0, 4.0]           # the heavy cluster first, then the other
    assert set(chosen[:1]) <= {4, 5} and chosen[1] in {0, 1, 2, 3}
    # stop once the asked-for weight is covered
    chosen, _ = greedy_max_cover(demand, demand, weights, 20.0, max_sites=3, stop_at=5.0)
    assert len(chosen) == 1


def test_a_tie_within_rounding_goes_to_the_lowest_index():
    # candidates 0 and 1 each cover one point; their weights differ only in the last bits
    # (0.1 + 0.2 against 0.3), candidate 2 covers less: 0 wins whichever weight is larger
    demand = np.array([[0, 0], [1000, 0], [2000, 0]], float)
    for a, b in ((0.1 + 0.2, 0.3), (0.3, 0.1 + 0.2)):
        chosen, gains = greedy_max_cover(demand, demand, np.array([a, b, 0.2]), 10.0, max_sites=3)
        assert chosen.tolist() == [0, 1, 2]
        assert gains.tolist() == [a, b, 0.2]
    # a real difference above the tolerance still wins
    chosen, _ = greedy_max_cover(demand, demand, np.array([0.3, 0.3 * (1 + 1e-6), 0.2]), 10.0,
                                 max_sites=1)
    assert chosen.tolist() == [1]


def test_nothing_to_cover():
    empty = np.empty((0, 2))
    chosen, gains = greedy_max_cover(empty, empty, np.empty(0), 100.0, max_sites=3)
    assert len(chosen) == 0 and len(gains) == 0


def test_lazy_greedy_equals_plain_greedy():
    rng = np.random.default_rng(7)
    demand = rng.uniform(0, 2000, (400, 2))
    weights = rng.uniform(0.5, 2.0, 400)
    cand = rng.uniform(0, 2000, (120, 2))
    chosen, gains = greedy_max_cover(cand, demand, weights, 250.0, max_sites=8)
    covers = cdist(cand, demand) <= 250.0
    left = weights.copy()
    plain, plain_gains = [], []
    for _ in range(8):
        g = covers @ left
        best = int(np.argmax(g))
        plain.append(best)
        plain_gains.append(g[best])
        left[covers[best]] = 0
    assert list(chosen) == plain
    assert gains == pytest.approx(plain_gains)


def test_greedy_is_close_to_the_exact_optimum_of_spopt():
    spopt_locate = pytest.importorskip("spopt.locate")
    pulp = pytest.importorskip("pulp")
    rng = np.random.default_rng(3)
    demand = rng.uniform(0, 3000, (150, 2))
    weights = rng.integers(1, 10, 150).astype(float)
    cand = rng.uniform(0, 3000, (40, 2))
    radius, p = 400.0, 4
    cost = cdist(demand, cand)
    model = spopt_locate.MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    opened = [j for j, var in enumerate(model.fac_vars) if var.value() > 0.5]
    optimum = weights[(cost[:, opened] <= radius).any(axis=1)].sum()
    _, gains = greedy_max_cover(cand, demand, weights, radius, max_sites=p)
    assert gains.sum() <= optimum + 1e-9
    assert gains.sum() >= (1 - 1 / np.e) * optimum
    assert gains.sum() >= 0.9 * optimum  # in practice the greedy is near the optimum


def test_sites_along_an_uncovered_street():
    from geoplan.coverage import run_coverage
    from geoplan.siting import suggest_sites
    from geoplan.standards import resolve_standards
    from tests._synthetic import P, box, frame, layerset, line

    main = line((0, 0), (1000, 0))
    roads = frame("roads", [main], road_class=["main"], is_public=[True], highway=["primary"])
    ls = layerset({"A": box(-100, -100, 1100, 100)}, roads=roads, walkways=[main],
                  toilets=[P(5000, 5000)])  # one toilet, far away: nothing is covered
    standards = resolve_standards(["toilet_main_300"])
    coverage = run_coverage(ls, standards)
    sites = suggest_sites(coverage, standards).table
    # a 300 m radius covers at most 600 m of a straight street: two sites close the 1000 m gap
    assert sites["covered_length_m"].tolist() == pytest.approx([600.0, 400.0], abs=25.0)
    assert sites["share_after"].iloc[-1] == pytest.approx(1.0, abs=0.03)
    assert sites["covered_m2"].isna().all()


def test_no_site_is_suggested_for_a_sliver_of_homes():
    from geoplan.siting.cover import close_gap, min_site_gain

    # a district of 100 ha of homes, 90 % covered: a 9.9 ha block of gap and a 50 m² sliver
    # 3 km away; the target is 100 %, so both are gaps, but only the block is worth a site
    xy = np.array([[0.0, 0.0], [3000.0, 0.0]])
    area = np.array([99_000.0, 50.0])
    total = 1_000_000.0
    floor = min_site_gain(500, False, total)
    assert floor == pytest.approx(min(0.01 * np.pi * 500**2, 0.005 * total))  # 5,000 m²
    sites = close_gap(xy, area, 500, 0.9, total, 1.0, 5, floor)
    assert [(i, g) for i, g, _, _ in sites] == [(0, 99_000.0)]
    assert close_gap(xy, area, 500, 0.9, total, 1.0, 5)[1][:2] == (1, 50.0)  # without the floor
    # a small district (or the part of one inside the data): a 1.8 ha site lifts it 12 points,
    # less than 1 % of a 1000 m disc, and is kept
    small = close_gap(np.array([[0.0, 0.0]]), np.array([18_000.0]), 1000, 0.85, 150_000.0, 1.0,
                      5, min_site_gain(1000, False, 150_000.0))
    assert len(small) == 1 and small[0][3] == pytest.approx(0.97)


@pytest.mark.parametrize("batch", [1, 5, 64])
def test_lazy_greedy_on_a_grid_of_ties_equals_plain_greedy(monkeypatch, batch):
    # a 40 x 40 grid of cells of equal weight but for a few: most gains are exact ties, which
    # go to the lowest index whatever number of stale gains the greedy refreshes at once
    import geoplan.siting.cover as cover

    monkeypatch.setattr(cover, "REFRESH_BATCH", batch)
    xs, ys = np.meshgrid(np.arange(40) * 50.0 + 25, np.arange(40) * 50.0 + 25)
    xy = np.column_stack([xs.ravel(), ys.ravel()])
    weights = np.full(len(xy), 2500.0)
    weights[[17, 333, 1200]] = [900.0, 1234.5, 60.25]
    chosen, gains = greedy_max_cover(xy, xy, weights, 300.0, max_sites=12)
    covers = cdist(xy, xy) <= 300.0
    left = weights.copy()
    plain, plain_gains = [], []
    for _ in range(12):
        g = np.array([left[row].sum() for row in covers])  # each row's own pairwise sum
        best = int(np.flatnonzero(g >= g.max() - cover.TIE_RTOL * g.max())[0])
        plain.append(best)
        plain_gains.append(g[best])
        left[covers[best]] = 0
    assert chosen.tolist() == plain
    assert gains.tolist() == plain_gains  # bit for bit


def test_row_sums_of_no_rows_and_of_chosen_rows():
    from geoplan.siting.cover import row_sums

    values = np.array([1.0, 2.0, 4.0])
    assert row_sums(np.array([0]), np.array([], dtype=int), values).tolist() == []
    indptr, indices = np.array([0, 2, 2, 3]), np.array([0, 2, 1])
    assert row_sums(indptr, indices, values, np.array([], dtype=int)).tolist() == []
    assert row_sums(indptr, indices, values, [2, 1, 0]).tolist() == [2.0, 0.0, 5.0]  # a list too
