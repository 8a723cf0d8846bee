"""School levels (primary, junior, senior) from tags and from Chinese names.

The rules come from the catalog's ``schools.levels`` section: ``isced:level`` wins when it is
tagged, then the ordered name rules (九年一贯制, 完全中学, 小学, 初中, 中学 …), then ``school=*``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from geoplan.layers.rules import names_of

_ORDER = ("primary", "junior", "senior")


def classify_school(tags: Mapping[str, str], level_rules: Mapping[str, Any]) -> tuple[list[str], str]:
    """Return the levels a school teaches and where they were read from.

    Parameters
    ----------
    tags
        The feature's tags (for a planner's file: at least ``name``, optionally ``isced:level``).
    level_rules
        The catalog's ``schools.levels`` mapping.

    Returns
    -------
    levels, source
        Levels in order (subset of primary, junior, senior) and one of ``"isced"``,
        ``"name"``, ``"school_tag"`` or ``"unknown"``.

    Examples
    --------
    >>> from geoplan.layers.rules import load_catalog
    >>> rules = load_catalog()["layers"]["schools"]["levels"]
    >>> classify_school({"name": "成都市实验小学"}, rules)
    (['primary'], 'name')
    >>> classify_school({"name": "某某九年一贯制学校"}, rules)
    (['primary', 'junior'], 'name')
    """
    isced = tags.get("isced:level", "").strip()
    if isced:
        levels = _isced_levels(isced, level_rules.get("isced", {}))
        if levels:
            return levels, "isced"
    names = names_of(tags)
    for rule in level_rules.get("names", ()):
        words = rule.get("match", ())
        for name in names:
            if any(word in name for word in words) or (
                "regex" in rule and re.search(rule["regex"], name)
            ):
                return _ordered(rule["levels"]), "name"
    school = tags.get("school", "")
    for value, levels in (level_rules.get("school_tag") or {}).items():
        if value in school.split(";"):
            return _ordered(levels), "school_tag"
    return [], "unknown"


def _isced_levels(value: str, table: Mapping[str, list[str]]) -> list[str]:
    found: set[str] = set()
    for part in re.split(r"[;,]", value):
        part = part.strip()
        if "-" in part:  # a range such as "1-2"
            lo, _, hi = part.partition("-")
            if lo.isdigit() and hi.isdigit():
                for code in range(int(lo), int(hi) + 1):
                    found.update(table.get(str(code), ()))
                continue
        found.update(table.get(part, ()))
    return _ordered(found)


def _ordered(levels: Any) -> list[str]:
    return [lv for lv in _ORDER if lv in set(levels)]
