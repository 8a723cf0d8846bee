"""Download OpenStreetMap data for an analysis' districts (the only module that goes online).

The download uses osmnx's Overpass settings (endpoint, user agent, timeout) and saves the raw
OSM XML of the districts' buffered bounding box, with a ``<bounds>`` element, to the config's
``osm.path``; every later run reads that file offline, so results are reproducible.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from urllib.parse import urlparse

import shapely

from geoplan._errors import InputDataError, OfflineError
from geoplan._io import atomic_path
from geoplan.config import AnalysisConfig
from geoplan.layers.districts import read_districts

logger = logging.getLogger(__name__)


def _overpass_url() -> str:
    import osmnx as ox

    return str(ox.settings.overpass_url).rstrip("/")


def is_online(url: str | None = None, timeout: float = 3.0) -> bool:
    """Whether the Overpass server (osmnx's setting) can be reached on its port."""
    parsed = urlparse(url or _overpass_url())
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def fetch_osm(config: AnalysisConfig, target: Path | None = None, *, buffer_m: float = 1000.0) -> Path:
    """Download the OSM data around the config's districts into an OSM XML file.

    Parameters
    ----------
    config
        The analysis; its districts (buffered by ``buffer_m``) define the area.
    target
        Where to write; default: ``osm.path`` of the config, else ``<config dir>/<districts>.osm``.
    buffer_m
        Margin around the districts, so routes and facilities across the edge are included.

    Raises
    ------
    OfflineError
        At once, when the Overpass server cannot be reached.
    """
    url = _overpass_url()
    if not is_online(url):
        raise OfflineError(
            f"cannot reach the Overpass server {urlparse(url).hostname}: this machine is offline. "
            "Download an extract of the area elsewhere (for example a .osm.pbf of the province) "
            "and set osm.path in the config."
        )
    import osmnx as ox
    import requests

    districts = read_districts(config.districts)
    utm = districts.estimate_utm_crs()
    area = shapely.union_all(districts.to_crs(utm).buffer(buffer_m).to_numpy())
    west, south, east, north = districts.__class__(geometry=[area], crs=utm).to_crs(4326).total_bounds
    target = Path(target or config.osm.path or config.base_dir / f"{config.districts.path.stem}.osm")
    query = (f"[out:xml][timeout:{int(ox.settings.requests_timeout)}];"
             f"(nwr({south},{west},{north},{east}););(._;>;);out body;")
    logger.info("downloading OSM data for %s (%.0f km² with margin)", config.name, area.area / 1e6)
    response = requests.post(f"{url}/interpreter", data={"data": query},
                             headers={"User-Agent": ox.settings.http_user_agent},
                             timeout=ox.settings.requests_timeout, stream=True)
    if response.status_code != 200:
        raise InputDataError(f"the Overpass server answered {response.status_code}: {response.text[:300]}")
    bounds = f'<bounds minlat="{south}" minlon="{west}" maxlat="{north}" maxlon="{east}"/>'
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        head_done = False
        for chunk in response.iter_content(1 << 16):
            if not head_done:
                text = chunk.decode("utf-8", errors="ignore")
                cut = text.find(">", text.find("<osm"))
                if cut > 0:
                    chunk = (text[: cut + 1] + "\n " + bounds + text[cut + 1:]).encode("utf-8")
                    head_done = True
            fh.write(chunk)
    logger.info("wrote %s", target)
    return target
