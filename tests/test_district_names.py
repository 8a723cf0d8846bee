"""District names and codes read from a file become clean, one-line text keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from geoplan._errors import InputDataError
from geoplan.config import DistrictsSource
from geoplan.layers.districts import read_districts


def _write(tmp_path: Path, properties: list[dict[str, object]]) -> Path:
    features = []
    for k, props in enumerate(properties):
        x = 104.0 + 0.01 * k
        ring = [[x, 30.6], [x + 0.01, 30.6], [x + 0.01, 30.61], [x, 30.61], [x, 30.6]]
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path = tmp_path / "d.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def test_numeric_names_and_codes_keep_no_float_tail(tmp_path):
    # A code column with a gap is read as floats: 510104.0 must stay the code 510104.
    path = _write(tmp_path, [{"name": 1, "adcode": 510104}, {"name": 2.5, "adcode": None},
                             {"name": 3, "adcode": 510106}])
    frame = read_districts(DistrictsSource(path=path))
    assert frame["district"].tolist() == ["1", "2.5", "3"]
    assert frame["code"].tolist() == ["510104", "", "510106"]


def test_line_breaks_and_direction_marks_are_not_kept(tmp_path):
    path = _write(tmp_path, [{"name": "锦江\r\n区"}, {"name": "\u202e青羊区\t "}])
    frame = read_districts(DistrictsSource(path=path))
    assert frame["district"].tolist() == ["锦江 区", "青羊区"]


def test_unnamed_districts_are_refused_by_feature(tmp_path):
    path = _write(tmp_path, [{"name": "锦江区"}, {"name": None}, {"name": "  "}])
    with pytest.raises(InputDataError, match=r"2 of 3 features have no name in field 'name' "
                                             r"\(features 2, 3\)"):
        read_districts(DistrictsSource(path=path))


def test_unnamed_districts_left_out_by_include_are_no_error(tmp_path):
    path = _write(tmp_path, [{"name": "锦江区"}, {"name": None}])
    frame = read_districts(DistrictsSource(path=path, include=["锦江区"]))
    assert frame["district"].tolist() == ["锦江区"]


def test_a_repeated_name_is_included_by_the_name_and_code_it_is_given(tmp_path):
    # `geoplan run` calls the two 东区 "东区 (c2)" and "东区 (c3)"; a batch job includes one of
    # them by that name and must read that feature alone, under the same name
    path = _write(tmp_path, [{"name": "西区", "code": "c1"}, {"name": "东区", "code": "c2"},
                             {"name": "东区", "code": "c3"}])
    whole = read_districts(DistrictsSource(path=path, code_field="code"))
    assert whole["district"].tolist() == ["西区", "东区 (c2)", "东区 (c3)"]
    one = read_districts(DistrictsSource(path=path, code_field="code", include=["东区 (c3)"]))
    assert one["district"].tolist() == ["东区 (c3)"]
    assert one["source_id"].tolist() == ["2"]
    assert one.geometry.iloc[0].equals(whole.geometry.iloc[2])
    both = read_districts(DistrictsSource(path=path, code_field="code", include=["东区"]))
    assert both["district"].tolist() == ["东区 (c2)", "东区 (c3)"]
    with pytest.raises(InputDataError, match=r"include names \['东区 \(c9\)'\]"):
        read_districts(DistrictsSource(path=path, code_field="code", include=["东区 (c9)"]))


def test_batch_jobs_of_a_repeated_name_each_read_their_own_district(tmp_path):
    from geoplan.batch import district_jobs
    from geoplan.config import load_config
    from tests.conftest import CHENGDU_CONFIG

    path = _write(tmp_path, [{"name": "东区", "code": "c2"}, {"name": "东区", "code": "c3"}])
    config = load_config(CHENGDU_CONFIG)
    config = config.model_copy(update={"districts": DistrictsSource(path=path, code_field="code")})
    jobs, failed = district_jobs([config], tmp_path / "out")
    assert failed.empty
    assert [j.district for j in jobs] == ["东区 (c2)", "东区 (c3)"]
    read = [read_districts(j.config.districts)["district"].tolist() for j in jobs]
    assert read == [["东区 (c2)"], ["东区 (c3)"]]


def _shapes(tmp_path: Path, rings: dict[str, list[list[float]]]) -> Path:
    features = [{"type": "Feature", "properties": {"name": name},
                 "geometry": {"type": "Polygon", "coordinates": [ring]}}
                for name, ring in rings.items()]
    path = tmp_path / "shapes.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


SQUARE = [[104.0, 30.6], [104.01, 30.6], [104.01, 30.61], [104.0, 30.61], [104.0, 30.6]]


def test_a_district_that_encloses_no_area_is_refused_by_name(tmp_path):
    # a ring along a line was left out of every table without a word; alone, the error said
    # the district did not overlap the data
    flat = [[104.09, 30.66], [104.125, 30.66], [104.09, 30.66]]
    path = _shapes(tmp_path, {"好区": SQUARE, "退化区": flat})
    with pytest.raises(InputDataError, match=r"1 of 2 districts enclose no area \(退化区\)"):
        read_districts(DistrictsSource(path=path))


def test_a_repaired_district_shape_is_said(tmp_path, caplog):
    bowtie = [[104.0, 30.6], [104.01, 30.61], [104.01, 30.6], [104.0, 30.61], [104.0, 30.6]]
    path = _shapes(tmp_path, {"好区": SQUARE, "蝴蝶区": bowtie})
    with caplog.at_level("INFO", logger="geoplan.layers.districts"):
        frame = read_districts(DistrictsSource(path=path))
    assert frame.geometry.is_valid.all() and (shapely.area(frame.geometry.to_numpy()) > 0).all()
    (record,) = caplog.records
    assert "repaired 1 invalid district shape(s)" in record.getMessage()
    assert record.getMessage().count("蝴蝶区") == 1 and "好区" not in record.getMessage()


def test_an_empty_file_is_said_to_be_empty(tmp_path):
    path = tmp_path / "d.geojson"
    path.write_bytes(b"")
    with pytest.raises(InputDataError, match=r"is empty \(0 bytes\)"):
        read_districts(DistrictsSource(path=path))


def test_a_name_of_invisible_characters_only_is_no_name(tmp_path):
    # it was read as a lone zero-width space: a district that looked unnamed in every table
    path = _write(tmp_path, [{"name": "锦江区"}, {"name": "\x1b\x07\u200b\u202e\ufeff"}])
    with pytest.raises(InputDataError, match=r"1 of 2 features have no name in field 'name' "
                                             r"\(features 2\)"):
        read_districts(DistrictsSource(path=path))


def test_names_made_unique_by_code_that_clash_with_another_name_are_refused(tmp_path):
    # "dup (c1)" made from a repeated "dup" was another district's name: the run failed later
    # with "unexpected error: TypeError"
    path = _write(tmp_path, [{"name": "dup", "code": "c1"}, {"name": "dup", "code": "c2"},
                             {"name": "dup (c1)", "code": "c9"}, {"name": "x", "code": "c4"}])
    with pytest.raises(InputDataError, match=r"would repeat another district's name: "
                                             r"\['dup \(c1\)'\]"):
        read_districts(DistrictsSource(path=path, code_field="code"))


def test_a_coordinate_that_is_no_number_is_said_so(tmp_path):
    # it was reported as "字区 (empty)": a file that plainly has a polygon
    ring = [[104.1, 30.66], ["104.12", 30.66], [104.12, 30.68], [104.1, 30.66]]
    good = [[104.0, 30.6], [104.01, 30.6], [104.01, 30.61], [104.0, 30.6]]
    path = tmp_path / "d.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "甲区"},
         "geometry": {"type": "Polygon", "coordinates": [good]}},
        {"type": "Feature", "properties": {"name": "字区"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}, ensure_ascii=False),
        encoding="utf-8")
    with pytest.raises(InputDataError, match=r"字区 \(no geometry, or one that could not be "
                                             r"read: a coordinate that is not a number\?\)"):
        read_districts(DistrictsSource(path=path))
