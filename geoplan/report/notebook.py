"""Helpers for the planners' notebooks (``notebooks/*.ipynb``, run with papermill)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from geoplan.report._labels import labels


def as_list(value: Any) -> list[str] | None:
    """A papermill list parameter as a list of strings, however it was passed.

    ``None`` or ``""`` gives None (use the config's choice); a list or tuple is kept; a string
    is read as JSON when it looks like a list (``'["park_500", "bus_stop_500"]'``) and otherwise
    split at commas (``"park_500, bus_stop_500"``, also Chinese ``，``), never letter by letter.

    Raises
    ------
    ValueError
        For a string that starts like a JSON list but is not one.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"cannot read {value!r} as a list: {exc.msg}; write it as "
                                 '["park_500", "bus_stop_500"] or park_500,bus_stop_500') from None
            return as_list(parsed)
        parts = text.replace("，", ",").split(",")
        return [p.strip() for p in parts if p.strip()] or None
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value if str(v).strip()] or None
    return [str(value)]


def column_labels(columns: Iterable[str], lang: str = "zh") -> dict[str, str]:
    """Readable column headers in ``lang`` for a results table (unknown columns kept)."""
    lab = labels(lang)
    extra = {"name_zh": "名称" if lang == "zh" else "Name", "area_ha": lab["area_ha"]}
    return {c: lab.get(c) or extra.get(c, c) for c in columns}


__all__ = ["as_list", "column_labels"]
