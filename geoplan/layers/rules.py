"""The layer catalog: tag rules, kept as data in ``layers/catalog.yaml``.

A rule is a mapping of tag key to allowed values (see the catalog's header for the syntax).
This module loads and checks the catalog and evaluates rules against tag dicts.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from geoplan._errors import ConfigError
from geoplan._io import load_yaml
from geoplan.vocab import LAYER_KINDS

Rule = Mapping[str, Any]



NAME_KEYS = ("name:zh", "name:zh-Hans", "name:zh-CN", "name", "official_name", "alt_name",
             "old_name")
"""Tags a feature's name may sit in, Chinese first: the first present one is displayed, and
rules on ``name`` look at all of them (a school tagged ``name=Changjiang Road Primary School``
with ``name:zh=长江路小学`` is a primary school)."""


def names_of(tags: Mapping[str, str]) -> list[str]:
    """Every name of a feature, in :data:`NAME_KEYS` order, without repeats or blanks."""
    out: list[str] = []
    for key in NAME_KEYS:
        value = (tags.get(key) or "").strip()
        if value and value not in out:
            out.append(value)
    return out


def display_name(tags: Mapping[str, str]) -> str:
    """The name to show: the Chinese one when tagged, else ``name``, then the others."""
    found = names_of(tags)
    return found[0] if found else ""


def default_catalog_path() -> Path:
    """The catalog shipped with geoplan.

    In a source checkout it is ``layers/catalog.yaml``; in an installed wheel the same file is
    package data (``geoplan/data/layer_catalog.yaml``).
    """
    packaged = resources.files("geoplan") / "data" / "layer_catalog.yaml"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "layers" / "catalog.yaml"


@functools.lru_cache(maxsize=8)
def load_catalog(path: str | None = None) -> dict[str, Any]:
    """Load and check a layer catalog (the default one when ``path`` is None).

    Raises
    ------
    ConfigError
        Listing every problem in the catalog at once.
    """
    catalog_path = Path(path) if path else default_catalog_path()
    try:
        text = catalog_path.read_text(encoding="utf-8")
        data = load_yaml(text)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(catalog_path), [f"cannot read the layer catalog: {exc}"]) from exc
    problems = _check_catalog(data)
    if problems:
        raise ConfigError(str(catalog_path), problems)
    data["_hash"] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    data["_path"] = str(catalog_path)
    return data


def _check_catalog(data: Any) -> list[str]:
    if not isinstance(data, dict) or not isinstance(data.get("layers"), dict):
        return ["the catalog must be a mapping with a `layers:` mapping"]
    problems: list[str] = []
    for kind in LAYER_KINDS:
        spec = data["layers"].get(kind)
        if spec is None:
            problems.append(f"layers.{kind}: missing")
        elif not isinstance(spec, dict):
            problems.append(f"layers.{kind}: must be a mapping (geometry, include, …), "
                            f"not {type(spec).__name__}")
        else:
            try:
                problems += _check_kind(kind, spec)
            except (AttributeError, TypeError) as exc:  # a part of the wrong shape further in
                problems.append(f"layers.{kind}: not in the catalog's shape ({exc}); compare "
                                f"it with the default catalog, {default_catalog_path()}")
    return problems


def _check_kind(kind: str, spec: dict[str, Any]) -> list[str]:
    """The problems of one layer kind's entry in the catalog."""
    problems: list[str] = []
    if spec.get("geometry") not in ("point", "line", "area"):
        problems.append(f"layers.{kind}.geometry: must be point, line or area")
    if spec.get("reached_from") not in (None, *REACHED_FROM):
        problems.append(f"layers.{kind}.reached_from: must be outline or point")
    if spec.get("reached_from") and not spec.get("reached_from_why"):
        problems.append(f"layers.{kind}.reached_from_why: say why")
    for sub, entry in (spec.get("kinds_reached_from") or {}).items():
        where = f"layers.{kind}.kinds_reached_from.{sub}"
        if sub not in (spec.get("kinds") or {}):
            problems.append(f"{where}: not a kind of this layer")
        if not isinstance(entry, dict) or entry.get("reached_from") not in REACHED_FROM:
            problems.append(f"{where}.reached_from: must be outline or point")
        elif not str(entry.get("why") or "").strip():
            problems.append(f"{where}.why: say why")
    for other in spec.get("exclude_inside") or ():
        if other not in LAYER_KINDS:
            problems.append(f"layers.{kind}.exclude_inside: unknown layer kind {other!r}")
    groups = [("include", spec.get("include")), ("exclude", spec.get("exclude"))]
    if kind == "services":
        groups += [(f"kinds.{k}", v) for k, v in (spec.get("kinds") or {}).items()]
    elif not spec.get("include"):
        problems.append(f"layers.{kind}.include: at least one rule is needed")
    for where, rules in groups:
        for i, rule in enumerate(rules or []):
            if not isinstance(rule, dict) or not rule:
                problems.append(f"layers.{kind}.{where}[{i}]: a rule is a non-empty mapping")
                continue
            for key, allowed in rule.items():
                if allowed != "*" and not isinstance(allowed, list):
                    problems.append(
                        f"layers.{kind}.{where}[{i}].{key}: give a list of values or \"*\""
                    )
    return problems


REACHED_FROM = ("outline", "point")
"""Where a facility drawn as an area is buffered and walked to from (see the catalog header)."""


def reached_from(spec: Mapping[str, Any], kind: str | None = None) -> str:
    """Where a facility of a layer ``spec`` (and, for services, of ``kind``) is reached from.

    ``'outline'`` or ``'point'``: the kind's entry in ``kinds_reached_from`` when given, else
    the layer's ``reached_from``, else ``'point'`` for point layers and ``'outline'`` for
    area layers.
    """
    per_kind = spec.get("kinds_reached_from") or {}
    if kind is not None and kind in per_kind:
        return str(per_kind[kind]["reached_from"])
    default = "outline" if spec.get("geometry") == "area" else "point"
    return str(spec.get("reached_from") or default)


def reached_from_why(spec: Mapping[str, Any], kind: str | None = None) -> str:
    """The catalog's one-line reason for :func:`reached_from` (empty when none is given)."""
    per_kind = spec.get("kinds_reached_from") or {}
    if kind is not None and kind in per_kind:
        return " ".join(str(per_kind[kind].get("why") or "").split())
    return " ".join(str(spec.get("reached_from_why") or "").split())


def outline_kinds(spec: Mapping[str, Any]) -> frozenset[str]:
    """The kinds of a services-like layer ``spec`` reached from their outline."""
    return frozenset(k for k in spec.get("kinds") or {} if reached_from(spec, k) == "outline")


def catalog_keys(catalog: Mapping[str, Any]) -> frozenset[str]:
    """Every tag key the catalog's include rules look at: what the OSM reader must keep."""
    keys: set[str] = set(NAME_KEYS)
    for spec in catalog["layers"].values():
        rule_lists = [spec.get("include") or []]
        rule_lists += list((spec.get("kinds") or {}).values())
        for rules in rule_lists:
            for rule in rules:
                keys.update(k.rstrip("~").rstrip("!") for k in rule)
    keys.update(("entrance", "noexit", "isced:level"))
    return frozenset(keys)


def _value_matches(value: str | None, allowed: Any, contains: bool) -> bool:
    if allowed == "*":
        return value is not None
    if value is None:
        return None in allowed
    if contains:
        return any(s is not None and s in value for s in allowed)
    # OSM allows "a;b" multi-values; match any part
    parts = value.split(";") if ";" in value else (value,)
    return any(p.strip() in allowed for p in parts)


def rule_matches(rule: Rule, tags: Mapping[str, str]) -> bool:
    """Whether every key condition of ``rule`` holds for ``tags``.

    ``key~`` matches values containing one of the strings; ``key!~`` values containing none.
    Conditions on ``name`` look at every name of the feature (:data:`NAME_KEYS`): ``name~``
    holds when any name contains a string, ``name!~`` when none does.
    """
    for key, allowed in rule.items():
        if key.endswith("!~"):
            base = key[:-2]
            values = names_of(tags) if base == "name" else [tags.get(base) or ""]
            if any(s in text for text in values for s in allowed):
                return False
            continue
        contains = key.endswith("~")
        base = key[:-1] if contains else key
        if base == "name" and allowed != [None]:
            found = names_of(tags)
            if not any(_value_matches(v, allowed, contains) for v in found) and not (
                not found and _value_matches(None, allowed, contains)
            ):
                return False
            continue
        if not _value_matches(tags.get(base), allowed, contains):
            return False
    return True


def any_rule_matches(rules: Sequence[Rule] | None, tags: Mapping[str, str]) -> bool:
    """Whether any of ``rules`` matches ``tags`` (False when there are no rules).

    The same answer as :func:`rule_matches` for each rule, from the rules compiled once
    (value lists as sets, suffixes parsed, the names read once per feature).
    """
    if not rules:
        return False
    return _compiled(rules)(tags)


_Test = Callable[[Mapping[str, str], list[str]], bool]


class _CompiledRules:
    """A rule list turned into tests: what :func:`rule_matches` does, without re-parsing."""

    __slots__ = ("rules", "tests")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = rules  # kept alive: the cache knows it by id
        self.tests = [[_condition(key, allowed) for key, allowed in rule.items()]
                      for rule in rules]

    def __call__(self, tags: Mapping[str, str]) -> bool:
        names: list[str] | None = None
        for tests in self.tests:
            for uses_names, test in tests:
                if uses_names and names is None:
                    names = names_of(tags)
                if not test(tags, names or []):
                    break
            else:
                return True
        return False


_COMPILED: dict[int, _CompiledRules] = {}


def _compiled(rules: Sequence[Rule]) -> _CompiledRules:
    found = _COMPILED.get(id(rules))
    if found is None or found.rules is not rules:
        if len(_COMPILED) > 512:
            _COMPILED.clear()
        found = _COMPILED[id(rules)] = _CompiledRules(rules)
    return found


def _value_test(allowed: Any, contains: bool) -> Callable[[str | None], bool]:
    """:func:`_value_matches` for one ``allowed`` list, compiled."""
    if allowed == "*":
        return lambda value: value is not None
    none_ok = None in allowed
    if contains:
        parts = tuple(s for s in allowed if s is not None)
        return lambda value: none_ok if value is None else any(s in value for s in parts)
    try:
        pool: frozenset[Any] | tuple[Any, ...] = frozenset(allowed)
    except TypeError:  # an unhashable value in the list: compare one by one
        pool = tuple(allowed)

    def test(value: str | None) -> bool:
        if value is None:
            return none_ok
        if ";" in value:  # OSM allows "a;b" multi-values; match any part
            return any(p.strip() in pool for p in value.split(";"))
        return value.strip() in pool

    return test


def _condition(key: str, allowed: Any) -> tuple[bool, _Test]:
    """One condition of a rule as (reads the names, test(tags, names))."""
    if key.endswith("!~"):
        base = key[:-2]
        if base == "name":
            return True, lambda tags, names: not any(s in text for text in names
                                                     for s in allowed)
        return False, lambda tags, names: not any(s in (tags.get(base) or "") for s in allowed)
    contains = key.endswith("~")
    base = key[:-1] if contains else key
    value_test = _value_test(allowed, contains)
    if base == "name" and allowed != [None]:
        nameless = value_test(None)
        return True, lambda tags, names: (any(value_test(v) for v in names)
                                          or (not names and nameless))
    return False, lambda tags, names: value_test(tags.get(base))


def _required_keys(rule: Rule) -> frozenset[str] | None:
    """Keys of which a feature must carry one for ``rule`` to match it (None: no such keys).

    The first condition that fails on an absent key decides: a plain or ``~`` condition
    without ``null`` among its values (on ``name``: any of :data:`NAME_KEYS`). ``!~`` and
    conditions allowing ``null`` hold without their key.
    """
    for key, allowed in rule.items():
        if key.endswith("!~"):
            continue
        base = key[:-1] if key.endswith("~") else key
        if allowed != "*" and None in allowed:
            continue
        return frozenset(NAME_KEYS) if base == "name" else frozenset((base,))
    return None


def required_keys(rules: Sequence[Rule] | None) -> frozenset[str] | None:
    """Keys of which a feature must carry one for any of ``rules`` to match it.

    A quick test before :func:`any_rule_matches`: a feature with none of these keys matches
    no rule. None when some rule can match a feature without any particular key (then every
    feature must be tested); an empty set when there are no rules.
    """
    keys: set[str] = set()
    for rule in rules or ():
        found = _required_keys(rule)
        if found is None:
            return None
        keys |= found
    return frozenset(keys)


def select(spec: Mapping[str, Any], tags_list: Iterable[Mapping[str, str]]) -> list[bool]:
    """For each tag dict, whether the layer ``spec`` includes it and does not exclude it."""
    include, exclude = spec.get("include"), spec.get("exclude")
    needed = required_keys(include)
    return [
        (needed is None or not needed.isdisjoint(tags))
        and any_rule_matches(include, tags) and not any_rule_matches(exclude, tags)
        for tags in tags_list
    ]
