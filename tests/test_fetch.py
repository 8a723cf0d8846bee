"""`geoplan fetch`: offline it fails at once; online (marked web) it saves a usable OSM file."""

from __future__ import annotations

import json
import socket

import pytest
import requests

from geoplan._errors import OfflineError
from geoplan.config import config_from_dict
from geoplan.fetch import fetch_osm
from geoplan.layers.osm import read_osm


def _tiny_config(tmp_path):
    # a 600 m square around 人民公园, Chengdu (WGS84)
    square = {"type": "Polygon", "coordinates": [[[104.055, 30.655], [104.061, 30.655],
                                                   [104.061, 30.661], [104.055, 30.661],
                                                   [104.055, 30.655]]]}
    path = tmp_path / "d.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "测试区"}, "geometry": square}]}), encoding="utf-8")
    return config_from_dict({"name": "tiny", "districts": {"path": str(path)},
                             "osm": {"path": str(tmp_path / "tiny.osm")}},
                            base_dir=tmp_path, check_files=False)


def test_offline_fails_at_once_with_a_clear_message(tmp_path, monkeypatch):
    import osmnx as ox  # here, not at import: it takes 2 s to load in each test worker

    monkeypatch.setattr(ox.settings, "overpass_url", "http://127.0.0.1:9/api")  # nothing listens
    # "at once": one short connection probe, never the download with osmnx's request timeout
    # (180 s by default); asserted on what is called, not on the clock
    probes: list[tuple[tuple, float | None]] = []
    real = socket.create_connection

    def probe(address, timeout=None, *args, **kwargs):
        probes.append((address, timeout))
        return real(address, timeout, *args, **kwargs)

    def no_download(*args, **kwargs):
        raise AssertionError("an offline fetch must not start the download")

    monkeypatch.setattr(socket, "create_connection", probe)
    monkeypatch.setattr(requests, "post", no_download)
    with pytest.raises(OfflineError, match=r"offline.*osm\.path"):
        fetch_osm(_tiny_config(tmp_path))
    assert probes == [(("127.0.0.1", 9), 3.0)]
    assert not (tmp_path / "tiny.osm").exists()


@pytest.mark.web
def test_fetch_downloads_a_file_geoplan_reads(tmp_path):
    path = fetch_osm(_tiny_config(tmp_path), buffer_m=100)
    data = read_osm(path, {"highway", "leisure"})
    assert len(data.lines) > 10
    assert data.bounds.contains(data.bounds.centroid)
