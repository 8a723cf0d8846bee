"""School seats: 2SFCA and the 学位缺口 by hand and against pysal's ``access`` package; children
beyond the school radius and seats on the embedded Chengdu data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from geoplan.coverage.seats import school_seats, seat_gap, two_step_fca

access = pytest.importorskip("access")

# Three homes, two schools, catchment 500 m (walking metres; pairs beyond are listed too):
#   home 0 (100 children): school 0 at 300 m, school 1 at 700 m
#   home 1 ( 50 children): school 0 at 450 m, school 1 at 200 m
#   home 2 (200 children): school 0 at 900 m, school 1 at 400 m
# Step 1: R0 = 120 / (100 + 50) = 0.8;  R1 = 60 / (50 + 200) = 0.24
# Step 2: A0 = 0.8;  A1 = 0.8 + 0.24 = 1.04;  A2 = 0.24
# Seats reached: 100·0.8 + 50·1.04 + 200·0.24 = 80 + 52 + 48 = 180 = 120 + 60 (none twice)
# 学位缺口: 100·0.2 + 50·0 + 200·0.76 = 20 + 0 + 152 = 172 (homes 0, 1 in district 0; 2 in 1)
CHILDREN = np.array([100.0, 50.0, 200.0])
SEATS = np.array([120.0, 60.0])
PI = np.array([0, 0, 1, 1, 2, 2])
PJ = np.array([0, 1, 0, 1, 0, 1])
PC = np.array([300.0, 700.0, 450.0, 200.0, 900.0, 400.0])


def test_two_step_fca_by_hand():
    ratio, acc = two_step_fca(CHILDREN, SEATS, PI, PJ, PC, max_cost=500.0)
    assert ratio == pytest.approx([0.8, 0.24])
    assert acc == pytest.approx([0.8, 1.04, 0.24])
    total, reached, gap = seat_gap(CHILDREN, acc, [0, 0, 1], 2)
    assert total.tolist() == [150.0, 200.0]
    assert reached == pytest.approx([132.0, 48.0])
    assert reached.sum() == pytest.approx(SEATS.sum())  # no seat counted twice
    assert gap == pytest.approx([20.0, 152.0])


def test_two_step_fca_with_the_children_of_other_districts_by_hand():
    # district 0 (homes 0 and 1) measured alone, told each school's children in the whole city
    # (150 and 250 above): the same ratios and access as the whole run, for its homes
    ratio, acc = two_step_fca(CHILDREN[:2], SEATS, PI[:4], PJ[:4], PC[:4], max_cost=500.0,
                              catchment=[150.0, 250.0])
    assert ratio == pytest.approx([0.8, 0.24])
    assert acc == pytest.approx([0.8, 1.04])
    # alone, school 1 would give its 60 seats to home 1's 50 children: 1.2 each
    _, alone = two_step_fca(CHILDREN[:2], SEATS, PI[:4], PJ[:4], PC[:4], max_cost=500.0)
    assert alone == pytest.approx([0.8, 2.0])
    # not known elsewhere (NaN): these pairs' own children
    ratio, _ = two_step_fca(CHILDREN[:2], SEATS, PI[:4], PJ[:4], PC[:4], max_cost=500.0,
                            catchment=[np.nan, 250.0])
    assert ratio == pytest.approx([0.8, 0.24])


def test_two_step_fca_edges():
    # a school nobody reaches shares nothing (ratio NaN); a home reaching nothing has 0
    ratio, acc = two_step_fca([10.0, 5.0], [30.0, 7.0], [0], [0], [100.0], max_cost=500.0)
    assert ratio[0] == pytest.approx(3.0) and np.isnan(ratio[1])
    assert acc.tolist() == [3.0, 0.0]
    # one catchment per school; a decay weight (enhanced 2SFCA) halves the far pair
    ratio, acc = two_step_fca(CHILDREN, SEATS, PI, PJ, PC, max_cost=[400.0, 500.0])
    assert ratio == pytest.approx([120 / 100, 60 / 250])
    _, acc_w = two_step_fca([10.0], [10.0], [0], [0], [400.0], max_cost=500.0,
                            weight=lambda c: np.where(c > 300, 0.5, 1.0))
    assert acc_w == pytest.approx([1.0])  # R = 10 / (0.5·10) = 2, A = 0.5·2
    with pytest.raises(ValueError, match="differ in length"):
        two_step_fca([1.0], [1.0], [0, 0], [0], [1.0], max_cost=1.0)


def _pysal_2sfca(children, seats, pi, pj, pc, max_cost):
    demand = pd.DataFrame({"id": np.arange(len(children)), "children": children})
    supply = pd.DataFrame({"id": np.arange(len(seats)), "seats": seats})
    cost = pd.DataFrame({"origin": pi, "dest": pj, "cost": pc})
    with warnings.catch_warnings():  # the package uses pandas idioms pandas now warns about
        warnings.simplefilter("ignore")
        a = access.Access(demand_df=demand, demand_index="id", demand_value="children",
                          supply_df=supply, supply_index="id", supply_value="seats",
                          cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost")
        out = a.two_stage_fca(name="2sfca", max_cost=max_cost)
    return out.iloc[:, 0].reindex(np.arange(len(children))).fillna(0.0).to_numpy()


def test_two_step_fca_equals_pysal_access_on_the_hand_case():
    _, acc = two_step_fca(CHILDREN, SEATS, PI, PJ, PC, max_cost=500.0)
    theirs = _pysal_2sfca(CHILDREN, SEATS, PI, PJ, PC, 500.0)
    assert theirs == pytest.approx([0.8, 1.04, 0.24])
    assert acc == pytest.approx(theirs)


def test_two_step_fca_equals_pysal_access_on_random_pairs():
    rng = np.random.default_rng(7)
    n, m, k = 60, 8, 200
    children = rng.uniform(0, 50, n)
    seats = rng.uniform(100, 600, m)
    flat = rng.choice(n * m, size=k, replace=False)
    pi, pj = flat // m, flat % m
    pc = rng.uniform(0, 1500, k)
    _, acc = two_step_fca(children, seats, pi, pj, pc, max_cost=1000.0)
    assert acc == pytest.approx(_pysal_2sfca(children, seats, pi, pj, pc, 1000.0))


def test_school_seats_order_and_sources():
    df = pd.DataFrame({
        "capacity": [1800.0, np.nan, np.nan, np.nan],
        "classes": [np.nan, 18.0, np.nan, np.nan],
        "site_area_m2": [np.nan, np.nan, 20_000.0, np.nan],
        "levels": ["primary;junior", "primary", "primary", "primary"],
    })
    seats, src = school_seats(df, "primary", class_size=45, default_classes=24,
                              site_m2_per_pupil=20.0)
    # 九年一贯制 capacity split by years: 6 of 9 to primary
    assert seats.tolist() == [1200.0, 810.0, 1000.0, 1080.0]
    assert src == ["capacity", "classes × class size", "site area ÷ norm", "default size (assumed)"]
    seats, src = school_seats(df.drop(columns=["site_area_m2"]), "primary", class_size=45,
                              default_classes=24)
    assert seats[2] == 1080.0 and src[2] == "default size (assumed)"


def test_an_assumed_school_is_split_by_years_as_a_known_one():
    # a 完全中学 (junior;senior, 3 + 3 years) of 24 classes has 12 junior classes, whether its
    # file says 24 classes or nothing at all (the assumed size was once given whole: 1,200)
    df = pd.DataFrame({"classes": [24.0, np.nan, np.nan, np.nan],
                       "levels": ["junior;senior", "junior;senior", "junior", "primary;junior"]})
    seats, src = school_seats(df, "junior", class_size=50, default_classes=24)
    assert seats.tolist() == [600.0, 600.0, 1200.0, 24 * 50 * 3 / 9]
    assert src[1:] == ["default size (assumed)"] * 3
    seats, _ = school_seats(df, "primary", class_size=45, default_classes=24)
    assert seats[3] == 24 * 45 * 6 / 9  # 九年一贯制: 6 of its 9 years are primary


@pytest.mark.slow
def test_seats_on_chengdu_equal_pysal_access(chengdu_layers, chengdu_config):
    """The embedded data: children, the 学位缺口 and 2SFCA against the independent package."""
    from geoplan.coverage.context import CoverageContext, Timer, set_key
    from geoplan.coverage.people import _walking_pairs, measure_people, school_standards
    from geoplan.standards import resolve_standards

    stds = resolve_standards(["primary_school_500"])
    eng = CoverageContext(chengdu_layers, chengdu_config.demand, {"residential"}, Timer())
    assert eng.population is not None and eng.population.source == "census"
    std, fs, level = school_standards(stds)[0]
    assert level == "primary"
    layer = eng.layers["schools"]
    chosen = np.flatnonzero(fs.select(layer))
    rows = layer.iloc[chosen].reset_index(drop=True)
    pi, pj, pc = _walking_pairs(eng, set_key(fs, chosen), rows, 500.0)
    assert len(pi) > 100 and (pc <= 500.0).all()
    kids = eng.population.weights * 0.05312
    seats, _ = school_seats(rows, "primary", class_size=45, default_classes=24)
    _, acc = two_step_fca(kids, seats, pi, pj, pc, max_cost=500.0)
    theirs = _pysal_2sfca(kids, seats, pi, pj, pc, 500.0)
    assert acc == pytest.approx(theirs, rel=1e-9, abs=1e-12)
    # the whole step, as the run does it: every district has children and a gap
    dem = eng.demand["residential"]
    n = len(dem)
    covered = np.zeros(n, dtype=bool)
    people = measure_people(eng, stds, {std.id: (np.zeros(n), covered)})
    assert people is not None
    people.validate()
    c = people.children.set_index("district")
    # nothing covered: every child is beyond the radius both ways
    assert c["beyond_buffer"].to_numpy() == pytest.approx(c["children"].to_numpy())
    assert c["beyond_network"].to_numpy() == pytest.approx(c["children"].to_numpy())
    assert c["children"].sum() == pytest.approx(0.05312 * eng.population.residents[
        "residents_placed"].sum(), rel=1e-9)
    s = people.seats.set_index("district")
    assert s["seats_reached"].sum() <= seats.sum() + 1e-6
    assert ((s["seat_gap"] >= 0) & (s["seat_gap"] <= s["children"] + 1e-9)).all()
