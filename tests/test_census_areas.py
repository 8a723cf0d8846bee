"""Census residents for units the census does not name, shared from its 区县 polygons."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from geoplan._errors import ConfigError, InputDataError
from geoplan.config import CensusDistrictsSource, DemandSettings, config_from_dict
from geoplan.coverage import run_coverage
from geoplan.coverage.census_areas import census_unit_figures, share_among_units, unit_figures
from geoplan.coverage.chunked import run_coverage_chunked
from geoplan.coverage.demand import residential_grid
from geoplan.coverage.population import population_weights
from geoplan.report._labels import population_note
from geoplan.report.people_html import people_section
from geoplan.report.tables import write_workbook
from geoplan.results._spill import GeometryStore
from geoplan.standards import resolve_standards
from tests._synthetic import CRS, P, box, frame, grid_lines, layerset
from tests.conftest import ROOT
from tests.test_chunked import _compare

JINJIANG, CHENGHUA = 902_933.0, 1_381_894.0  # 2020 census, the shipped table


def test_residents_shared_by_land_and_by_area_where_none_is_mapped():
    # 区县 0: land 30 / 10 m²; 区县 1: no land, areas 200 / 100 m²; 区县 2: no figure
    per_unit, per_pair = share_among_units([1000.0, 600.0, np.nan], [0, 0, 1, 1, 2],
                                           [0, 1, 1, 2, 3], [30.0, 10.0, 0.0, 0.0, 5.0],
                                           [50.0, 50.0, 200.0, 100.0, 10.0], 5)
    assert per_pair.tolist() == [750.0, 250.0, 400.0, 200.0, 0.0]
    assert per_unit[:3].tolist() == [750.0, 650.0, 200.0]
    # a unit only in a 区县 without a figure, and one in none: no people, not zero
    assert math.isnan(per_unit[3]) and math.isnan(per_unit[4])
    assert np.nansum(per_unit) == pytest.approx(1600.0)


def _zones_and_units():
    # 锦江区 [0, 2.5] km × [-1, 1] km (5 km²), 成华区 [2.5, 4] × [-1, 1] (3 km²); four 1 km
    # units in a row along y in [0, 1] km cover half of each
    zones = frame("districts", [box(0, -1000, 2500, 1000), box(2500, -1000, 4000, 1000)],
                  district=["锦江区", "成华区"])
    units = {n: box(i * 1000, 0, i * 1000 + 1000, 1000) for i, n in enumerate("ABCD")}
    # residential land: all of A, half of B, C's lower half, nothing in D
    land = [box(0, 0, 1000, 1000), box(1000, 0, 1500, 1000), box(2000, 0, 3000, 500)]
    return zones, units, land


def test_unit_figures_on_paper():
    zones, units, land = _zones_and_units()
    ls = layerset(units, residential=land)
    lands = np.array([land[0], land[1], land[2], box(0, 0, 0, 0)], dtype=object)
    out = unit_figures(zones, {"锦江区": (JINJIANG, "s"), "成华区": (CHENGHUA, "s")},
                       ls.districts, lands)
    # each 区县 half covered: half its residents, an estimate
    jj, ch = JINJIANG / 2, CHENGHUA / 2
    z = out.zones.set_index("census_district")
    assert z["covered_km2"].tolist() == pytest.approx([2.5, 1.5])
    assert z["residents_shared"].tolist() == pytest.approx([jj, ch])
    assert z["is_estimate"].all()
    # 锦江区's land: A 1.0, B 0.5, C 0.25 km² (C's part west of 2.5 km); 成华区's: C 0.25
    f = {k: v[0] for k, v in out.figures.items()}
    assert f["A"] == pytest.approx(jj * 1.0 / 1.75)
    assert f["B"] == pytest.approx(jj * 0.5 / 1.75)
    assert f["C"] == pytest.approx(jj * 0.25 / 1.75 + ch)
    assert f["D"] == 0.0  # in 成华区, no residential land: nobody lives there
    assert "锦江区" in out.figures["C"][1] and "成华区" in out.figures["C"][1]
    assert sum(f.values()) == pytest.approx(jj + ch)


def _zones_file(tmp_path, zones):
    path = tmp_path / "census_districts.geojson"
    zones[["district", "geometry"]].rename(columns={"district": "name"}).to_file(path)
    return CensusDistrictsSource(path=path, crs=CRS)


def test_a_city_in_chunks_gives_the_units_the_whole_runs_residents(tmp_path, caplog):
    zones, units, land = _zones_and_units()
    ways = grid_lines(0, 0, 4000, 1000, 100)
    ls = layerset(units, residential=land, walkways=ways, bus_stops=[P(500, 500), P(3500, 500)])
    settings = DemandSettings(census_city="成都", census_districts=_zones_file(tmp_path, zones))
    stds = resolve_standards(["bus_stop_500"])
    with caplog.at_level("INFO", logger="geoplan.coverage.census"):
        whole = run_coverage(ls, stds, settings, store=GeometryStore(tmp_path))
    # a unit's log line gives no "census density" of its own (it has none: its 区县's share)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("census 2020 A")]
    assert said and all("its share of its 区县's residents" in t and "census " not in t[12:]
                        for t in said)
    chunked = run_coverage_chunked(ls, stds, settings, GeometryStore(tmp_path), budget=1)
    assert chunked is not None and chunked.meta["chunks"] >= 2
    _compare(whole, chunked)
    assert whole.meta["population_source"] == "census"
    r = whole.people.residents.set_index("district")
    jj = JINJIANG / 2
    assert r.loc["A", "residents_placed"] == pytest.approx(jj / 1.75)
    assert r.loc["C", "residents_placed"] == pytest.approx(jj * 0.25 / 1.75 + CHENGHUA / 2)
    assert r["is_estimate"].all() and "成华区" in r.loc["C", "census_source"]
    # D has no residential land: no demand pieces, no one placed
    assert r.loc["D", "residents_placed"] == 0.0
    # the district page and the population note say where a unit's people come from
    zh = people_section(whole, "C", "zh")["residents"]
    assert "按居住用地分摊" in zh and "成华区" in zh and "锦江区" in zh and "全区 2020" not in zh
    en = people_section(whole, "C", "en")["residents"]
    assert en.startswith(f"Residents: {r.loc['C', 'residents_inside']:,.0f}") and "区县" in en
    # D has no residential land: the page says why it has nobody
    assert "没有标注居住用地" in people_section(whole, "D", "zh")["residents"]
    # the workbook's residents sheet: the units' headers and where each figure comes from
    book = tmp_path / "book.xlsx"
    write_workbook(whole, None, book, title="t")
    sheet = next(ws for ws in openpyxl.load_workbook(book).worksheets if "常住人口" in ws.title)
    head = [c.value for c in sheet[1]]
    assert head[:3] == ["分析单元", "由所在区县普查人口分摊（估算）", "所在区县及分摊比例"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["C"][2].startswith("成华区") and "锦江区" in rows["C"][2]
    note = whole.meta["population_note"]
    assert note.startswith("2020 census residents of each 区县 shared among the analysis units")
    assert "分摊到各分析单元" in population_note(note, "census", "zh")


def test_units_equal_to_the_census_districts_get_the_named_districts_people(chengdu_layers,
                                                                             chengdu_config):
    # the sample's districts are the shipped 区县 file itself: shared or looked up by name,
    # every home piece gets the same people
    demand = residential_grid(chengdu_layers["residential"], chengdu_layers.districts)
    by_name = population_weights(demand, chengdu_layers, chengdu_config.demand)
    zones = CensusDistrictsSource(path=chengdu_config.districts.path, crs="gcj02")
    settings = chengdu_config.demand.model_copy(update={"census_districts": zones})
    shared = population_weights(demand, chengdu_layers, settings)
    assert by_name.source == shared.source == "census"
    assert np.allclose(shared.weights, by_name.weights, rtol=1e-9, atol=0, equal_nan=True)
    assert np.nansum(shared.weights) > 800_000
    r = shared.residents.set_index("district")
    assert r["census_source"].str.contains("2020 census by 区县").all()


def test_a_census_districts_file_the_census_does_not_name_is_said(tmp_path, caplog):
    zones, units, land = _zones_and_units()
    zones["district"] = ["第一片区", "第二片区"]
    ls = layerset(units, residential=land)
    settings = DemandSettings(census_city="成都", census_districts=_zones_file(tmp_path, zones))
    with caplog.at_level("WARNING"):
        assert census_unit_figures(ls, settings) is None
    assert any("names none of the 2 districts of census_districts.geojson" in r.getMessage()
               for r in caplog.records)
    # its own warning only: the general advice to give census_districts is not repeated
    assert not any("give the census's 区县 polygons" in r.getMessage() for r in caplog.records)
    demand = residential_grid(ls["residential"], ls.districts)
    assert population_weights(demand, ls, settings).source in ("area", "buildings")


def test_units_outside_every_census_district_are_named(tmp_path, caplog):
    zones, units, land = _zones_and_units()
    # E lies beyond both 区县; F half in 成华区 (x 3–4 km), half beyond it
    extra = {"E": box(9000, 0, 10_000, 1000), "F": box(3000, -1000, 5000, 0)}
    ls = layerset({**units, **extra}, residential=land)
    settings = DemandSettings(census_city="成都", census_districts=_zones_file(tmp_path, zones))
    with caplog.at_level("WARNING"):
        out = census_unit_figures(ls, settings)
    assert out is not None and "E" not in out.figures and len(out.figures) == 5
    said = [r.getMessage() for r in caplog.records]
    assert any("1 of 6 units lie in no 区县" in m and "E" in m for m in said)
    assert out.outside == pytest.approx({"F": 0.5})
    assert out.figures["F"][1].endswith("; 50% of the unit lies in no 区县 with a census figure")
    assert any("units partly in no 区县" in m and "(1): F (50%)" in m for m in said)
    assert "D" not in out.outside  # wholly in 成华区


def test_config_checks_the_census_districts_file(tmp_path):
    raw = {"name": "x", "city": "成都", "districts": {"path": str(tmp_path / "d.geojson")},
           "demand": {"census_districts": {"path": "zones.geojson", "crs": "gcj02"}}}
    cfg = config_from_dict(raw, base_dir=tmp_path, check_files=False)
    assert cfg.demand.census_districts is not None
    assert cfg.demand.census_districts.path == (tmp_path / "zones.geojson").resolve()
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw, base_dir=tmp_path)
    assert "demand.census_districts.path: file not found" in str(err.value)
    raw["demand"]["census_districts"]["crs"] = "no such datum"
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw, base_dir=tmp_path, check_files=False)
    assert "demand.census_districts.crs" in str(err.value)
    no_city = {**raw, "city": None}
    no_city["demand"] = {"census_districts": {"path": "zones.geojson"}}
    with pytest.raises(ConfigError) as err:
        config_from_dict(no_city, base_dir=tmp_path, check_files=False)
    assert "no city to look the census up" in str(err.value)


def test_a_census_districts_file_without_the_name_field_names_its_key(tmp_path):
    zones, units, land = _zones_and_units()
    path = tmp_path / "z.geojson"
    zones[["district", "geometry"]].rename(columns={"district": "NAME_ZH"}).to_file(path)
    ls = layerset(units, residential=land)
    settings = DemandSettings(census_city="成都",
                              census_districts=CensusDistrictsSource(path=path, crs=CRS))
    with pytest.raises(InputDataError) as err:
        census_unit_figures(ls, settings)
    assert "demand.census_districts.name_field" in str(err.value) and "NAME_ZH" in str(err.value)
    # points instead of areas, and a file without features: the key is named too
    zones.set_geometry(zones.centroid)[["district", "geometry"]].rename(
        columns={"district": "name"}).to_file(path)
    settings = DemandSettings(census_city="成都",
                              census_districts=CensusDistrictsSource(path=path, crs=CRS))
    with pytest.raises(InputDataError) as err:
        census_unit_figures(ls, settings)
    assert str(err.value).startswith("demand.census_districts: district file")
    assert "not polygons" in str(err.value)
    # a file GDAL cannot read (cut short): the key, the file and the reason, without GDAL's
    # advice to prefix the path with a driver name
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Fea', encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        census_unit_figures(ls, settings)
    said = str(err.value)
    assert said.startswith(f"demand.census_districts: cannot read {path}")
    assert "DRIVER" not in said and ".." not in said


def test_units_shares_agree_with_tobler_area_interpolation(chengdu_layers, chengdu_config):
    # independent: tobler's area-weighted interpolation from each 区县's residential land
    # (inside the units) onto a 1 km grid gives every cell the share census_areas gives it
    tobler = pytest.importorskip("tobler.area_weighted")
    from geoplan.census import district_census
    from geoplan.coverage.demand import residential_land
    from geoplan.layers.districts import read_districts

    data = shapely.union_all(chengdu_layers.districts.geometry.to_numpy())
    x0, y0, x1, y1 = data.bounds
    cells = [shapely.intersection(shapely.box(x, y, x + 1000, y + 1000), data)
             for x in np.arange(x0, x1, 1000) for y in np.arange(y0, y1, 1000)]
    cells = [c for c in cells if c.area > 0]
    units = frame("districts", cells, district=[f"网格{i}" for i in range(len(cells))])
    units = units.set_crs(chengdu_layers.crs, allow_override=True)
    zones = read_districts(CensusDistrictsSource(path=chengdu_config.districts.path,
                                                 crs="gcj02").as_districts())
    zones = zones.to_crs(chengdu_layers.crs)
    census = district_census("成都", zones["district"].tolist())
    land = residential_land(chengdu_layers["residential"].to_crs(chengdu_layers.crs), units)
    ours = unit_figures(zones, census, units, land)
    assert len(cells) > 60 and len(ours.figures) > 50
    # the source: each 区县's residential land inside the units, holding its shared residents
    shared = ours.zones.set_index("census_district")["residents_shared"]
    all_land = shapely.union_all(land)
    source = gpd.GeoDataFrame(
        {"residents": [shared[n] for n in zones["district"]]},
        geometry=shapely.intersection(zones.geometry.to_numpy(), all_land), crs=units.crs)
    source = source[source.area > 0]
    theirs = tobler.area_interpolate(source, units, extensive_variables=["residents"])
    expected = dict(zip(units["district"], theirs["residents"], strict=True))
    got = {n: v for n, (v, _) in ours.figures.items()}
    for name, value in got.items():
        # the two cut land and units in another order: areas agree to about 1e-7
        assert value == pytest.approx(expected[name], rel=1e-6, abs=1e-6), name
    assert sum(got.values()) == pytest.approx(source["residents"].sum(), rel=1e-9)


def test_census_districts_in_the_wrong_datum_are_caught(chengdu_layers, chengdu_config, caplog):
    # the shipped 区县 are GCJ-02: declared WGS 84 they lie ~360 m off OSM's boundaries
    from geoplan.layers.datum import check_datum

    def config_with(crs):
        zones = CensusDistrictsSource(path=chengdu_config.districts.path, crs=crs)
        return chengdu_config.model_copy(update={"demand": chengdu_config.demand.model_copy(
            update={"census_districts": zones})})

    with caplog.at_level("INFO", logger="geoplan.layers.datum"):
        district_check = check_datum(config_with("wgs84"), chengdu_layers)
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(said) == 1 and "DEMAND.CENSUS_DISTRICTS LOOK LIKE GCJ02" in said[0]
    assert "Fix: demand.census_districts.crs: gcj02" in said[0]
    assert district_check is not None and not district_check["suspect"]  # the districts are right
    caplog.clear()
    with caplog.at_level("INFO", logger="geoplan.layers.datum"):
        check_datum(config_with("gcj02"), chengdu_layers)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert any("census district edges lie a median" in r.getMessage() for r in caplog.records)
    # another city's 区县 (Shijiazhuang's) meet nothing here: said, never a crash
    caplog.clear()
    other = CensusDistrictsSource(path=ROOT / "layers/boundaries/130100_districts_gcj02.geojson",
                                  crs="gcj02")
    elsewhere = chengdu_config.model_copy(update={"demand": chengdu_config.demand.model_copy(
        update={"census_districts": other})})
    with caplog.at_level("INFO", logger="geoplan.layers.datum"):
        check_datum(elsewhere, chengdu_layers)
    assert any("census district edges could not be compared" in r.getMessage()
               for r in caplog.records)
