"""The small exception hierarchy geoplan raises.

Every error subclasses a built-in so callers can catch ``ValueError`` or ``OSError`` as usual,
and every message says what is wrong and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable


class GeoplanError(Exception):
    """Base class of every error geoplan raises on purpose."""


class ConfigError(GeoplanError, ValueError):
    """An analysis configuration is invalid; ``problems`` lists every problem found.

    Parameters
    ----------
    source
        The file (or "command line") the configuration came from.
    problems
        One line per problem, each starting with the key path it concerns.
    """

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"{source}: {n} problem{'s' if n != 1 else ''} in the configuration:\n{lines}")


class InputDataError(GeoplanError, ValueError):
    """An input file or layer cannot be used (missing, corrupt, empty, wrong place)."""


class CRSError(GeoplanError, ValueError):
    """A coordinate reference system is unknown, or does not fit the coordinates given."""


class StandardError(GeoplanError, ValueError):
    """A standard id is unknown, or a standard's parameters are invalid."""


class OfflineError(GeoplanError, ConnectionError):
    """An operation needed the internet and the machine is offline."""


class OutputError(GeoplanError, OSError):
    """An output folder or file cannot be written."""


class ResultSchemaError(GeoplanError, ValueError):
    """A result table does not have its documented shape; ``problems`` lists every difference.

    Parameters
    ----------
    problems
        One line per problem, each naming the table and the column.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"result does not match its documented columns:\n{lines}")
