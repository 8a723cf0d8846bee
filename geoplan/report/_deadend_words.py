"""How a dead end without a rank or a detour is worded: the map, the district pages and the
workbook say the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from geoplan.report._data import plain

__all__ = ["rank_text", "unreachable_text"]

_UNRANKED = {
    "zh": ("未排名：附近没有值得打通的道路", "未排名：疑似数据问题（请核对地图数据）",
           "未排名：小区或单位内部道路（不作打通）"),
    "en": ("not ranked: no road nearby worth linking", "not ranked: likely a mapping gap",
           "not ranked: inside a gated compound (not for opening)"),
}
_UNREACHABLE = {"zh": "无法到达（位于路网孤岛）", "en": "unreachable (network island)"}


def rank_text(row: Mapping[Any, Any], lang: str, ranks: Mapping[str, Any]) -> str:
    """A dead end's rank, or why it has none; ``ranks``: every dead end's rank by id."""
    rank = plain(row.get("rank"))
    if rank is not None:
        return str(int(rank))
    unranked = _UNRANKED["en" if lang == "en" else "zh"]
    if bool(plain(row.get("data_check"))):
        return unranked[1]
    if plain(row.get("category")) == "private_compound":  # ranked only among public roads
        return unranked[2]
    partner = str(plain(row.get("pairs_with")) or "")
    partner_rank = plain(ranks.get(partner)) if partner else None
    if partner_rank is not None:  # one link opens both ends: ranked at the other
        return (f"not ranked: one link opens it and {partner}, ranked there (#{int(partner_rank)})"
                if lang == "en" else
                f"未排名：与 {partner} 由同一条连线打通，已在 {partner} 排名（第 {int(partner_rank)} 名）")
    return unranked[0]


def unreachable_text(reachable: Any, lang: str) -> str | None:
    """Why a dead end has no detour: its end lies on a network island (``reachable`` False);
    None otherwise."""
    return _UNREACHABLE["en" if lang == "en" else "zh"] if plain(reachable) is False else None
