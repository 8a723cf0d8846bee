"""The 7th national census (2020) as package data: residents per district and school-age shares.

``geoplan/data/census_2020_districts.csv`` holds the resident population (常住人口) of
2020-11-01 per district (区/县/县级市) with the 2010 figure beside it: exact figures for all 20
Chengdu and 22 Shijiazhuang units, city totals only for Xiamen (and 思明区), Quanzhou, Fuzhou,
Anyang and Hebi. Source: citypopulation.de's China pages, which cite the National Bureau of
Statistics and the provincial statistics bureaus (page addresses in the ``source`` column); see
``geoplan/data/census_2020_districts.md``.

School-age shares (:func:`age_shares`) come from the census's 0–14 share of the city (or the
nation) and the assumption that the 15 single years of 0–14 are equally large, so ages 6–11
(primary, 6 years) are 6/15 of it and 12–14 (junior, 3 years) 3/15. The census bulletins publish
only the 0–14 band; single-year counts are in the census yearbook, which is not shipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["AGE_0_14", "UNITS_NOTE_START", "UNIT_OUTSIDE", "UNIT_SOURCE_PREFIX", "AgeShares", "age_shares",
           "census_table", "district_census", "unit_shares"]

UNITS_NOTE_START = ("2020 census residents of each 区县 shared among the analysis units by "
                    "residential land")
"""How the population note starts when the analysis units got their residents from the census's
区县 polygons (``demand.census_districts``), not by name."""

UNIT_SOURCE_PREFIX = "2020 census by 区县: "
"""How a unit's ``census_source`` starts; the 区县 and their shares of its figure follow."""

UNIT_OUTSIDE = "; {share} of the unit lies in no 区县 with a census figure"
"""How a unit's ``census_source`` ends when part of it lies in no 区县 the census counts."""


def unit_shares(source: object) -> tuple[str, str | None] | None:
    """The 区县 and shares of a unit's ``census_source``, and the share of the unit in no
    counted 区县 (None: all of it is); None for a district the census names.

    Examples
    --------
    >>> unit_shares("2020 census by 区县: 青羊区 78%、武侯区 22%")
    ('青羊区 78%、武侯区 22%', None)
    >>> unit_shares("2020 census by 区县: 青羊区 100%; 12% of the unit lies in no 区县 with a "
    ...             "census figure")
    ('青羊区 100%', '12%')
    >>> unit_shares("成都市第七次全国人口普查公报") is None
    True
    """
    text = str(source)
    if not text.startswith(UNIT_SOURCE_PREFIX):
        return None
    parts, _, outside = text[len(UNIT_SOURCE_PREFIX):].partition("; ")
    return parts, outside.split(" ", 1)[0] if outside else None


CENSUS_FILE = "census_2020_districts.csv"
"""File name of the census table inside ``geoplan/data``."""

AGE_0_14: dict[str, tuple[float, int, str]] = {
    "成都": (0.1328, 2_780_800, "成都市第七次全国人口普查公报 (2021-05-26)"),
    "四川": (0.1610, 13_471_000, "四川省第七次全国人口普查公报 (2021-05-26)"),
    "全国": (0.1795, 253_383_938, "国家统计局 第七次全国人口普查公报(第五号) (2021-05-11)"),
}
"""Share and number of residents aged 0–14 at the 2020 census, with the bulletin that gives
them, by place."""

PRIMARY_YEARS = 6
"""Ages 6–11: six single years of the 15 in 0–14."""
JUNIOR_YEARS = 3
"""Ages 12–14: three single years of the 15 in 0–14."""


@dataclass(frozen=True)
class AgeShares:
    """Share of residents of primary (6–11) and junior middle school age (12–14).

    Attributes
    ----------
    primary, junior
        Shares of all residents (0–1).
    source
        Where the figures come from and how they were derived.
    source_zh
        The same in Chinese (reports in Chinese).
    """

    primary: float
    junior: float
    source: str
    source_zh: str = ""

    def share(self, level: str) -> float:
        """The share for ``'primary'`` or ``'junior'``."""
        if level == "primary":
            return self.primary
        if level == "junior":
            return self.junior
        raise ValueError(f"no age share for school level {level!r} (primary or junior)")


def _bare(city: str | None) -> str:
    name = (city or "").strip()
    return name[:-1] if name.endswith("市") and len(name) > 2 else name


def age_shares(city: str | None) -> AgeShares:
    """School-age shares for a city from the 2020 census's 0–14 share (national when unknown).

    Parameters
    ----------
    city
        The city's Chinese name (with or without 市).

    Returns
    -------
    AgeShares
        Ages 6–11 as 6/15 and 12–14 as 3/15 of the 0–14 share (single years assumed equal).

    Examples
    --------
    >>> round(age_shares("成都").primary, 5)
    0.05312
    >>> round(age_shares("鹤壁").junior, 5)
    0.0359
    """
    key = _bare(city)
    where = key if key in AGE_0_14 else "全国"
    share, people, bulletin = AGE_0_14[where]
    note = "" if where == key else f" (no census age figure for {city or 'this city'}: national)"
    cite = f"{bulletin}: ages 0–14 {people:,} people, {share:.2%}"
    cite_zh = f"{bulletin}: 0–14岁 {people:,} 人, {share:.2%}"
    return AgeShares(
        primary=share * PRIMARY_YEARS / 15, junior=share * JUNIOR_YEARS / 15,
        source=f"{cite}{note}; 6–11 = 6/15 and 12–14 = 3/15 of 0–14 (single years assumed equal)",
        source_zh=(f"{cite_zh}{'' if where == key else '（本市无普查年龄数据，用全国数）'}；"
                   "6–11岁按0–14岁人口的6/15、12–14岁按3/15计（假定各单岁人数相等）"),
    )


def _rejoin_source(fields: list[str]) -> list[str]:
    """A row with too many fields: the extra commas belong to the last (source) column."""
    return [*fields[:6], ",".join(fields[6:])]


@lru_cache(maxsize=1)
def census_table() -> pd.DataFrame:
    """The shipped census table (one row per district or city total).

    Returns
    -------
    pandas.DataFrame
        Columns ``city, district_zh, district_pinyin, status, pop_census_2010,
        pop_census_2020, source``; city totals have ``district_zh == '(全市)'``.
    """
    path = resources.files("geoplan") / "data" / CENSUS_FILE
    with resources.as_file(path) as p:
        # the last column (source) may hold an unquoted comma (a page address): rejoin it
        df = pd.read_csv(p, encoding="utf-8-sig", dtype={"district_zh": str, "city": str},
                         engine="python", on_bad_lines=_rejoin_source)
    return df.drop_duplicates(subset=["city", "district_zh"]).reset_index(drop=True)


def district_census(city: str | None, districts: list[str],
                    advise: bool = True) -> dict[str, tuple[float, str]]:
    """2020 census residents of the named districts of a city.

    Parameters
    ----------
    city
        The city's Chinese name (with or without 市); None finds nothing.
    districts
        District names as the districts layer spells them.
    advise
        Warn, with the ways out, when the city is in the table but none of ``districts`` is
        named as it names its districts (False: the caller says it its own way).

    Returns
    -------
    dict
        District name -> (residents, source) for the districts the table has; districts it
        lacks are left out.

    Examples
    --------
    >>> district_census("成都", ["成华区", "没有区"])["成华区"][0]
    1381894.0
    """
    key = _bare(city)
    if not key:
        return {}
    df = census_table()
    mine = df[df["city"].map(_bare) == key]
    mine = mine[mine["district_zh"] != "(全市)"]
    pop = pd.to_numeric(mine["pop_census_2020"], errors="coerce").to_numpy(dtype=float)
    by_name = {str(name).strip(): (float(p), str(src))
               for name, p, src in zip(mine["district_zh"], pop, mine["source"], strict=True)
               if p == p}  # NaN: no figure
    found = {d: by_name[d.strip()] for d in districts if d.strip() in by_name}
    missing = [d for d in districts if d.strip() not in by_name]
    if found and missing:
        logger.warning("2020 census: no figure for %s in %s", ", ".join(missing), city)
    elif missing and by_name and advise:  # the city is known, none of its districts so named
        known = list(by_name)
        logger.warning(
            "2020 census: none of the %d districts is named as the census names %s's districts "
            "(%s%s), so no residents are counted and people are weighted by land or buildings. "
            "The census counts people by 区县: name the districts that way; for smaller "
            "units (街道, 社区) give the census's 区县 polygons as demand.census_districts "
            "(geoplan ships them as layers/boundaries/<adcode>_districts_gcj02.geojson, crs "
            "gcj02), or a population raster as demand.population_raster",
            len(districts), city, "、".join(known[:5]), "…" if len(known) > 5 else "")
    return found
