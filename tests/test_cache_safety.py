"""Item 3 of issue 10: the layer cache holds data only; anything unexpected is a miss."""

from __future__ import annotations

import json
import os
import pickle
from collections import OrderedDict
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geoplan.layers import cache
from geoplan.layers.load import _parse_osm
from geoplan.layers.osm import BOUNDARY_KEYS
from geoplan.layers.rules import load_catalog
from tests.hostile.world import make_world


class _Plant:
    """Unpickling this runs ``touch <path>``: proof that a cache file was executed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.path}",))


@pytest.fixture()
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GEOPLAN_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "DISK_MIN_BYTES", 0)  # the small world's entries go to disk too
    # and none kept in memory by an earlier test of the same world (the same content, one key)
    monkeypatch.setattr(cache, "_kept", OrderedDict())
    make_world(tmp_path / "city")
    return tmp_path / "city" / "city.osm", tmp_path


def _key(osm: Path) -> str:
    return cache.cache_key(osm, load_catalog(None)["_hash"])


def _frames_equal(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for kind in a:
        x, y = a[kind], b[kind]
        pd.testing.assert_frame_equal(pd.DataFrame(x.drop(columns=x.geometry.name)),
                                      pd.DataFrame(y.drop(columns=y.geometry.name)))
        assert len(x) == 0 or x.geometry.geom_equals_exact(y.geometry, 0).all()
        assert x.crs == y.crs


def test_cache_round_trip_is_exact_and_data_only(world: tuple[Path, Path]) -> None:
    osm, tmp = world
    catalog = load_catalog(None)
    fresh = _parse_osm(osm, catalog, None)
    files = sorted(p.name for p in (tmp / "cache").iterdir())
    # the layers, and the datum check's boundaries read in the same pass
    boundaries = cache.osm_cache_key(osm, BOUNDARY_KEYS)
    assert files == sorted([f"{_key(osm)}.gpkg", f"{_key(osm)}.json",
                            f"{boundaries}.gpkg", f"{boundaries}.json"])
    meta = json.loads((tmp / "cache" / f"{_key(osm)}.json").read_text(encoding="utf-8"))
    assert meta["format"] == cache.FORMAT_NAME and meta["version"] == cache.CACHE_FORMAT
    assert meta["key"] == _key(osm)
    cached = _parse_osm(osm, catalog, None)
    _frames_equal(fresh.layers, cached.layers)
    assert fresh.extent.equals(cached.extent) and fresh.bounds_note == cached.bounds_note
    assert (fresh.cut_points == cached.cut_points).all() and fresh.issues == cached.issues


def _small() -> dict[str, gpd.GeoDataFrame]:
    return {"nodes": gpd.GeoDataFrame(
        {"osm_id": ["n1", "n2"], "tags": [{"name": "=1+1", "amenity": "toilets"}, {}],
         "flag": [True, False], "n": [1, 2]},
        geometry=[Point(104.0, 30.6), Point(104.1, 30.7)], crs="EPSG:4326")}


@pytest.mark.parametrize("plant", ["pickle_old_name", "pickle_as_gpkg", "pickle_as_json",
                                   "garbage_json", "other_key", "old_version", "tampered_gpkg"])
def test_planted_or_damaged_entry_never_runs_and_is_a_miss(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plant: str,
        caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "cache"
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(folder))
    monkeypatch.delenv("GEOPLAN_NO_CACHE", raising=False)
    key = "0123456789abcdef01234567-osm-x-0.1.0-f3"
    proof = tmp_path / "pwned"
    payload = pickle.dumps(_Plant(proof))
    cache.store_frames(key, _small(), {"note": "x"})
    gpkg, meta = folder / f"{key}.gpkg", folder / f"{key}.json"
    if plant == "pickle_old_name":  # the names the pickle cache used
        for name in (f"{key}.pickle", f"{key.rsplit('-f', 1)[0]}-f2.pickle"):
            (folder / name).write_bytes(payload)
    elif plant == "pickle_as_gpkg":
        gpkg.write_bytes(payload)
    elif plant == "pickle_as_json":
        meta.write_bytes(payload)
    elif plant == "garbage_json":
        meta.write_text("{not json", encoding="utf-8")
    else:
        data = json.loads(meta.read_text(encoding="utf-8"))
        if plant == "other_key":
            data["key"] = "0" * 24
        elif plant == "old_version":
            data["version"] = 2
        else:
            raw = bytearray(gpkg.read_bytes())
            raw[-100:] = bytes(b ^ 0xFF for b in raw[-100:])
            gpkg.write_bytes(bytes(raw))
        meta.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level("INFO", logger="geoplan"):
        got = cache.load_frames(key)
    assert not proof.exists()
    if plant == "pickle_old_name":
        assert got is not None  # the planted pickles are simply never opened
        _frames_equal(_small(), got[0])
        return
    assert got is None
    assert any("will be rewritten" in r.message for r in caplog.records)
    assert not meta.exists()  # removed, so the next run rewrites it
    cache.store_frames(key, _small(), {"note": "x"})
    again = cache.load_frames(key)
    assert again is not None and again[1] == {"note": "x"}
    _frames_equal(_small(), again[0])
    assert "import pickle" not in Path(cache.__file__).read_text(encoding="utf-8")


def test_read_osm_cached_round_trip(world: tuple[Path, Path]) -> None:
    from geoplan.deadends.osm_extras import _KEYS

    osm, _ = world
    first = cache.read_osm_cached(osm, _KEYS)
    second = cache.read_osm_cached(osm, _KEYS)
    for name in ("nodes", "lines", "areas"):
        x, y = getattr(first, name), getattr(second, name)
        pd.testing.assert_frame_equal(pd.DataFrame(x.drop(columns="geometry")),
                                      pd.DataFrame(y.drop(columns="geometry")))
    assert isinstance(second.nodes["tags"].iloc[0], dict)
    assert first.bounds.equals(second.bounds) and first.bounds_note == second.bounds_note


def test_an_entry_read_again_in_the_same_process_comes_from_memory_as_a_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GEOPLAN_NO_CACHE", raising=False)
    reads: list[str] = []
    real = cache._read_entry

    def counted(key: str, *args: Path) -> object:
        reads.append(key)
        return real(key, *args)

    monkeypatch.setattr(cache, "_read_entry", counted)
    key = "0123456789abcdef01234567-osm-memo-0.1.0-f7"
    cache.store_frames(key, _small(), {"note": ["x"]})
    first = cache.load_frames(key)
    assert first is not None and len(reads) == 1
    first[0]["nodes"]["osm_id"] = "changed"  # what one caller does to its frames ...
    first[1]["note"].append("y")
    second = cache.load_frames(key)
    assert second is not None and len(reads) == 1  # ... the next one, from memory, never sees
    _frames_equal(_small(), second[0])
    assert second[1] == {"note": ["x"]}
    # an entry written again is read again: the memory is keyed by the files as they are
    bigger = {"nodes": pd.concat([_small()["nodes"]] * 3, ignore_index=True)}
    cache.store_frames(key, bigger, {"note": ["z"]})
    third = cache.load_frames(key)
    assert third is not None and len(reads) == 2 and len(third[0]["nodes"]) == 6
    # an entry larger than KEEP_MAX_BYTES is read from the file every time
    monkeypatch.setattr(cache, "KEEP_MAX_BYTES", 0)
    other = key.replace("memo", "large")
    cache.store_frames(other, _small())
    cache.load_frames(other)
    cache.load_frames(other)
    assert reads[-2:] == [other, other]


def test_an_entry_without_its_geopackage_is_said_and_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("GEOPLAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GEOPLAN_NO_CACHE", raising=False)
    key = "0123456789abcdef01234567-osm-gone-0.1.0-f7"
    cache.store_frames(key, _small())
    (tmp_path / "cache" / f"{key}.gpkg").unlink()
    with caplog.at_level("INFO", logger="geoplan"):
        assert cache.load_frames(key) is None
    assert any("will be rewritten" in r.message for r in caplog.records)
    assert not (tmp_path / "cache" / f"{key}.json").exists()


def test_a_small_file_is_parsed_again_by_each_process_and_kept_in_memory(
        world: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # reading a small file's entry back took longer than parsing the file (DISK_MIN_BYTES)
    from geoplan.layers import load as load_module

    osm, tmp = world
    monkeypatch.setattr(cache, "DISK_MIN_BYTES", osm.stat().st_size + 1)
    parses: list[Path] = []
    real = load_module.read_osm_sets

    def counted(path: Path, *args: object, **kwargs: object) -> object:
        parses.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(load_module, "read_osm_sets", counted)
    catalog = load_catalog(None)
    first = _parse_osm(osm, catalog, None)
    assert parses == [osm] and not (tmp / "cache").exists()  # nothing written
    first.layers["roads"]["name"] = "changed"  # a caller's own copy ...
    again = _parse_osm(osm, catalog, None)
    assert parses == [osm]  # ... from memory, unchanged
    with monkeypatch.context() as m:
        m.setenv("GEOPLAN_NO_CACHE", "1")
        fresh = _parse_osm(osm, catalog, None)
    _frames_equal(fresh.layers, again.layers)
    assert fresh.extent.equals(again.extent) and fresh.issues == again.issues
    # the datum check's boundaries, read in the same pass, are kept beside them
    assert cache.load_frames(cache.osm_cache_key(osm, BOUNDARY_KEYS)) is not None
    # a file of DISK_MIN_BYTES goes to disk
    monkeypatch.setattr(cache, "DISK_MIN_BYTES", osm.stat().st_size)
    cache._kept.clear()
    _parse_osm(osm, catalog, None)
    assert (tmp / "cache" / f"{_key(osm)}.json").is_file()
