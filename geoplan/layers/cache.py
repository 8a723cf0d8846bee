"""Cache of parsed OSM layers, keyed by the source file's content hash.

Parsing a city's OSM file is the slow part of loading; the cache makes the second run skip it.
The key also covers the layer catalog and geoplan's version, so a change to either re-parses.
Set ``GEOPLAN_CACHE_DIR`` to move the cache, or ``GEOPLAN_NO_CACHE=1`` to bypass it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from pathlib import Path
from typing import Any

from geoplan import __version__
from geoplan._io import atomic_path

logger = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where cached layers live (``$GEOPLAN_CACHE_DIR`` or ``~/.cache/geoplan``)."""
    return Path(os.environ.get("GEOPLAN_CACHE_DIR") or Path.home() / ".cache" / "geoplan")


def file_hash(path: Path) -> str:
    """SHA-256 of a file's content (first 24 hex digits)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:24]


CACHE_FORMAT = 3
"""Bumped whenever what is cached changes shape, so old entries are never misread."""


def cache_key(path: Path, catalog_hash: str) -> str:
    """The cache key of ``path`` parsed with a catalog whose hash is ``catalog_hash``."""
    return f"{file_hash(path)}-{catalog_hash}-{__version__}-f{CACHE_FORMAT}"


def load(key: str) -> Any | None:
    """The cached object for ``key``, or None when absent, disabled or unreadable."""
    if os.environ.get("GEOPLAN_NO_CACHE"):
        return None
    path = cache_dir() / f"{key}.pickle"
    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            value = pickle.load(fh)
    except Exception as exc:  # a stale or broken cache entry is just a miss
        logger.info("ignoring unreadable cache entry %s: %s", path, exc)
        return None
    logger.info("layers loaded from cache %s", path.name)
    return value


def store(key: str, value: Any) -> None:
    """Cache ``value`` under ``key`` (best effort: a failure is logged, not raised)."""
    if os.environ.get("GEOPLAN_NO_CACHE"):
        return
    path = cache_dir() / f"{key}.pickle"
    try:
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        logger.warning("could not write the layer cache %s: %s", path, exc)


def read_osm_cached(path: Path, keys: frozenset[str] | set[str],
                    bounds: tuple[float, ...] | None = None) -> Any:
    """:func:`geoplan.layers.osm.read_osm`, cached by the file's content and the keys asked for."""
    from geoplan.layers.osm import read_osm

    wanted = hashlib.sha256(",".join(sorted(keys)).encode("utf-8")).hexdigest()[:12]
    key = cache_key(Path(path), f"osm-{wanted}") + ("-" + "_".join(map(str, bounds)) if bounds else "")
    data = load(key)
    if data is None:
        data = read_osm(path, keys, bounds)
        store(key, data)
    return data
