"""What a file says of its datum: coordinate columns named for one (``bd_lng``, ``lon_gcj02``).

Light on purpose (no other layer module): the file reader asks it while reading a table.
"""

from __future__ import annotations

import re

__all__ = ["DATUM_NAMES", "READ_AS", "datum_named_by_columns"]

DATUM_NAMES = {"wgs84": "WGS 84", "gcj02": "GCJ-02", "bd09": "BD-09"}
"""How messages write each datum label."""

READ_AS = "geoplan_read_as"
"""Key of ``GeoDataFrame.attrs`` of a loaded file layer: the CRS it was read in (declared, or
named by its coordinate columns; None: the file's own, else WGS 84)."""

_WORDS = {
    "bd09": ("bd", "bd09", "baidu", "百度"),
    "gcj02": ("gcj", "gcj02", "mars", "amap", "gaode", "高德", "火星"),
    "wgs84": ("wgs", "wgs84", "gps"),
}


def _datum_of_name(name: str) -> str | None:
    """The datum a column's name says (``bd_lng`` → ``bd09``), or None."""
    text = str(name).lower()
    tokens = set(re.split(r"[^0-9a-z]+", text)) - {""}
    found = {datum for datum, words in _WORDS.items()
             if any(w in tokens or (not w.isascii() and w in text) for w in words)}
    return found.pop() if len(found) == 1 else None


def datum_named_by_columns(lon: str, lat: str) -> str | None:
    """The datum both coordinate columns' names agree on, or None.

    >>> datum_named_by_columns("bd_lng", "bd_lat"), datum_named_by_columns("lon_gcj02", "lat")
    ('bd09', 'gcj02')
    >>> datum_named_by_columns("百度经度", "百度纬度"), datum_named_by_columns("lon", "lat")
    ('bd09', None)
    >>> datum_named_by_columns("lon_gcj02", "lat_bd09") is None
    True
    """
    named = {d for d in (_datum_of_name(lon), _datum_of_name(lat)) if d is not None}
    return named.pop() if len(named) == 1 else None
