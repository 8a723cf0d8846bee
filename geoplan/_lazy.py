"""Public names of a package imported on first use (PEP 562).

A package's ``__init__`` lists where each public name lives; ``import geoplan`` and the
commands that need only part of a package do not pay for the rest (geopandas, folium, …).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(package: str, exports: Mapping[str, str], namespace: dict[str, Any],
               *, subpackages: bool = False
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose globals are ``namespace``.

    ``exports`` maps each public name to the module that defines it. With ``subpackages``,
    any other name that is a module of the package (``geoplan.coverage``) is imported too.
    A name, once imported, is kept in ``namespace``.
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
        elif (subpackages and not name.startswith("__")
              and importlib.util.find_spec(f"{package}.{name}") is not None):
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
