"""Text read from planners' files, made into clean one-line values."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "NAME_COLUMNS",
    "WARNING_SEP",
    "area_text",
    "as_text",
    "columns_of",
    "cut_to_columns",
    "first_named",
    "share_text",
    "warnings_in",
]

NAME_COLUMNS = 48
"""Terminal columns a name from the data takes at most in a table (CJK characters count two);
longer names are cut with "…" (:func:`cut_to_columns`), so that one long name does not push
the other columns off the screen."""

WARNING_SEP = " | "
"""Between the warnings of one job in the ``warnings`` column of a batch's rows."""


def warnings_in(rows: pd.DataFrame, column: str) -> Iterator[str]:
    """Each warning of column ``column`` of a batch's rows, cell after cell (:data:`WARNING_SEP`
    between a cell's warnings; none when the column is absent), repeats kept."""
    if column in rows.columns:
        for text in rows[column].dropna().astype(str):
            yield from filter(None, text.split(WARNING_SEP))

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# The text-direction marks and overrides that can make a name read backwards, and the
# zero-width space, word joiner and byte-order mark, which show nothing (a name of them alone
# looked empty in every table).
_DIRECTION = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def as_text(value: Any) -> str:
    """A name or code read from a file as one clean line of text.

    Missing values give ``""``; whole numbers read as floats lose their ``.0`` (a code column
    with a gap is read as floats); line breaks, tabs and runs of spaces become one space;
    control, text-direction and zero-width characters are dropped.

    Examples
    --------
    >>> as_text(510104.0), as_text(None), as_text(float("nan")), as_text("锦江\\n区 ")
    ('510104', '', '', '锦江 区')
    """
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating))
                                           and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = _DIRECTION.sub("", _CONTROL.sub(" ", str(value)))
    return " ".join(text.split())


def share_text(share: float) -> str:
    """A 0–1 share as a whole percentage, or with one decimal where that would read 100 % of
    something that is not all (a district 99.6 % inside the data is partly outside).

    Examples
    --------
    >>> share_text(0.4), share_text(0.996), share_text(1.0)
    ('40%', '99.6%', '100%')
    """
    return f"{share:.1%}" if 0.995 <= share < 1.0 else f"{share:.0%}"


def area_text(m2: float, lang: str = "en") -> str:
    """An area in km² with two decimals, or in whole m² where that would read 0.00 km².

    Examples
    --------
    >>> area_text(4_246_228), area_text(2_124), area_text(2_124, "zh")
    ('4.25 km²', '2,124 m²', '2,124 平方米')
    """
    if m2 >= 5_000:
        return f"{m2 / 1e6:.2f} " + ("平方公里" if lang == "zh" else "km²")
    return f"{m2:,.0f} " + ("平方米" if lang == "zh" else "m²")


def first_named(items: Sequence[object], at_most: int, sep: str = ", ") -> str:
    """The first ``at_most`` of ``items`` joined by ``sep``, and how many more there are.

    Examples
    --------
    >>> first_named(["a", "b", "c"], 2), first_named(["a"], 2), first_named(list("abc"), 2, "; ")
    ('a, b and 1 more', 'a', 'a; b and 1 more')
    """
    shown = sep.join(str(i) for i in items[:at_most])
    return shown + (f" and {len(items) - at_most} more" if len(items) > at_most else "")


def columns_of(text: str) -> int:
    """Terminal columns ``text`` takes: two for a CJK (or other wide) character, else one."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def cut_to_columns(text: str, columns: int) -> str:
    """``text`` cut to ``columns`` terminal columns (CJK characters count two), ending in "…"
    where it was cut.

    Examples
    --------
    >>> cut_to_columns("成都市锦江区", 8), cut_to_columns("abc", 8)
    ('成都市…', 'abc')
    """
    used = 0
    for i, ch in enumerate(text):
        used += columns_of(ch)
        if used > columns:
            kept = text[:i]
            while kept and columns_of(kept) > columns - 1:
                kept = kept[:-1]
            return kept + "…"
    return text
