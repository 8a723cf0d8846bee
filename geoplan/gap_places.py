"""Gap places: the places that are gaps, each once, with every standard it fails.

Land far from every kind of facility is a gap of several standards, each with the same
polygon: on the embedded extract the 1,516 straight-line gaps of the 13 standards are 391
places, and the largest, 11 ha in 金牛区, is a gap of six. A planner deciding what to build
first reads the places, not the gaps: the blocks missing most standards are where one site
(a 社区综合服务设施 holding several items) does most.

Two gaps are one place when they lie in the same district and measure, with the same area and
the same point inside them (:func:`geoplan.locate.locate`): the same polygon gives the same
answers, and no geometry is read again (a city's gaps are held on disk). Different polygons
that happened to agree on both would be joined; on the embedded extract the grouping equals
grouping by the polygons themselves (391 and 484 places in the two measures, either way).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = ["PLACE_COLUMNS", "gap_places"]

PLACE_COLUMNS = ["district", "view", "rank", "n_standards", "standards", "area_m2",
                 "population"]
"""Columns of :func:`gap_places` (then ``street`` and the coordinates of ``where``)."""


def gap_places(gaps: pd.DataFrame, where: pd.DataFrame, names: Mapping[str, str] | None = None,
               lang: str = "zh") -> pd.DataFrame:
    """One row per place that is a gap, naming the standards it is a gap of.

    Parameters
    ----------
    gaps
        Gap rows (``coverage.gaps`` or its attributes): ``district``, ``standard``, ``view``,
        ``area_m2`` and, when known, ``population``.
    where
        :func:`geoplan.locate.locate` of the same rows (same index): ``street`` and
        ``lon_``/``lat_`` columns in WGS 84, GCJ-02 and BD-09.
    names
        A name per standard id, in the order to list them (default: the ids, in the gaps'
        order).
    lang
        'zh' joins the names with 、, 'en' with commas.

    Returns
    -------
    pandas.DataFrame
        :data:`PLACE_COLUMNS`, then ``where``'s columns. Sorted by district and measure, the
        places failing most standards first, then the largest; ``rank`` counts from 1 in that
        order within each district and measure.

    Examples
    --------
    >>> gaps = pd.DataFrame({"district": ["甲", "甲", "甲"], "standard": ["park_500", "bus_500",
    ...                      "park_500"], "view": "buffer", "area_m2": [900.0, 900.0, 4000.0]})
    >>> where = pd.DataFrame({"street": ["人民路", "人民路", "北街"], "lon_wgs84": [104.1, 104.1, 104.2],
    ...                       "lat_wgs84": [30.6, 30.6, 30.7]})
    >>> gap_places(gaps, where)[["rank", "n_standards", "standards", "area_m2"]].to_numpy().tolist()
    [[1, 2, 'park_500、bus_500', 900.0], [2, 1, 'park_500', 4000.0]]
    """
    columns = [*PLACE_COLUMNS, *where.columns]
    if len(gaps) == 0:
        return pd.DataFrame(columns=columns)
    rows = gaps.join(where[[c for c in where.columns if c not in gaps.columns]])
    point = [c for c in ("lon_wgs84", "lat_wgs84") if c in rows.columns]
    keys = ["district", "view", "area_m2", *point]
    rows = rows.assign(area_m2=rows["area_m2"].round(6))
    if "population" not in rows:
        rows = rows.assign(population=float("nan"))
    order = {sid: i for i, sid in enumerate(names or {})}
    joiner = "、" if lang == "zh" else ", "
    group = rows.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    sid = rows["standard"].astype(str)
    # each place's standards once, in the names' order (then as first met), joined
    named = pd.DataFrame({"g": group, "sid": sid.to_numpy(),
                          "o": sid.map({s: order.get(s, len(order)) for s in sid.unique()}).to_numpy(),
                          "at": range(len(rows))}).drop_duplicates(["g", "sid"])
    named = named.sort_values(["g", "o", "at"], kind="stable")
    named["name"] = named["sid"].map({s: str((names or {}).get(s, s)) for s in named["sid"].unique()})
    by_place = named.groupby("g", sort=True)["name"]
    first = pd.Series(range(len(rows))).groupby(group, sort=True).min().to_numpy()
    places = rows.iloc[first].copy()
    places["standards"] = by_place.agg(joiner.join).to_numpy()
    places["n_standards"] = by_place.size().to_numpy()
    places = places.sort_values(
        ["district", "view", "n_standards", "area_m2"], ascending=[True, True, False, False],
        kind="stable")
    places["rank"] = places.groupby(["district", "view"]).cumcount() + 1
    return places[columns].reset_index(drop=True)
