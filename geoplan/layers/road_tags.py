"""Road ``width`` and ``lanes`` tags read robustly (for 人均道路面积, road area per person).

OpenStreetMap's ``width`` is the carriageway width in metres, written by hand: ``7``,
``7.5``, ``7,5``, ``7 m``, ``7m``, ``7 metres``, ``23 ft``, ``7'6"``, or several values
``12;8`` where a way's width changes. ``lanes`` is the number of traffic lanes, both
directions. A value that cannot be read (``wide``, ``-3``, ``500``) gives NaN and is flagged,
so the caller falls back to the class default and counts it.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["MAX_LANES", "MAX_WIDTH_M", "parse_lanes", "parse_width"]

MAX_WIDTH_M = 100.0
"""Widths above this (metres) are taken for mistakes (the widest urban boulevards are ~80 m)."""

MAX_LANES = 20.0
"""Lane counts above this are taken for mistakes."""

_FOOT_M = 0.3048
_NUMBER = r"(\d+(?:[.,]\d+)?|[.,]\d+)"
_METRES = re.compile(rf"^{_NUMBER}\s*(m|meters?|metres?|米)?$", re.IGNORECASE)
_FEET = re.compile(rf"^{_NUMBER}\s*(ft|feet|foot|')$", re.IGNORECASE)
_FEET_INCHES = re.compile(r"^(\d+)\s*'\s*(\d+(?:\.\d+)?)\s*(\"|'')?$")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _one_width(text: str) -> float:
    text = text.strip()
    if not text:
        return np.nan
    m = _METRES.match(text)
    if m:
        return _number(m.group(1))
    m = _FEET.match(text)
    if m:
        return _number(m.group(1)) * _FOOT_M
    m = _FEET_INCHES.match(text)
    if m:
        return (float(m.group(1)) + float(m.group(2)) / 12.0) * _FOOT_M
    return np.nan


def parse_width(value: str | None) -> tuple[float, bool]:
    """A ``width`` tag in metres, and whether a value was given but could not be read.

    Several ``;``-separated values (a way whose width changes) give their mean.

    Examples
    --------
    >>> [parse_width(v)[0] for v in ["7", "7.5 m", "7,5", "12;8", "10 ft"]]
    [7.0, 7.5, 7.5, 10.0, 3.048]
    >>> parse_width("wide"), parse_width(""), parse_width(None)
    ((nan, True), (nan, False), (nan, False))
    """
    if value is None or not str(value).strip():
        return np.nan, False
    parts = [_one_width(p) for p in str(value).split(";") if p.strip()]
    if not parts or not all(0.0 < p <= MAX_WIDTH_M for p in parts):
        return np.nan, True
    return float(np.mean(parts)), False


def parse_lanes(value: str | None) -> tuple[float, bool]:
    """A ``lanes`` tag as a number of lanes, and whether it was given but unreadable.

    Several ``;``-separated values give their mean; ``2.5`` is refused (lanes are counted).

    Examples
    --------
    >>> parse_lanes("4"), parse_lanes("2;3"), parse_lanes(" 6 ")
    ((4.0, False), (2.5, False), (6.0, False))
    >>> parse_lanes("two"), parse_lanes("0"), parse_lanes("1.5")
    ((nan, True), (nan, True), (nan, True))
    """
    if value is None or not str(value).strip():
        return np.nan, False
    parts = [p.strip() for p in str(value).split(";") if p.strip()]
    if not parts or not all(p.isdigit() and 0 < int(p) <= MAX_LANES for p in parts):
        return np.nan, True
    return float(np.mean([int(p) for p in parts])), False
