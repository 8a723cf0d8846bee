"""One call that sets a notebook up: config, standards, layers and results of an analysis.

The planners' notebooks (``notebooks/coverage.ipynb``, ``notebooks/deadends.ipynb``) start from
the same papermill parameters (``config_path``, ``standards``, ``district``). Their setup cell is
one call::

    from geoplan.notebook import load_analysis

    run = load_analysis(config_path, standards, district=district)

which computes through :func:`geoplan.pipeline.compute_results`, the same function
``geoplan run``, ``map`` and ``report`` call, so a notebook shows the numbers the command line
writes. Nothing is written to disk.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from geoplan.config import load_config
from geoplan.layers.load import district_summary, load_layers
from geoplan.pipeline import compute_results
from geoplan.report._labels import labels
from geoplan.results import RunResult
from geoplan.standards import check_config_standards

__all__ = ["as_list", "column_labels", "find_config", "load_analysis", "summary_line"]

logger = logging.getLogger(__name__)

COMPUTE_STEPS = ("coverage", "sites", "deadends")
"""What :func:`load_analysis` computes by default: everything ``geoplan run`` computes."""


def find_config(config_path: str | Path) -> Path:
    """The config file a notebook parameter names, from the notebook's folder or the repository.

    A notebook's default ``config_path`` is relative to ``notebooks/``
    (``../analyses/chengdu_core.yaml``). Run from the repository root instead, the same path
    is tried without its leading ``..`` parts; a path relative to the repository
    (``analyses/chengdu_core.yaml``) is also found from ``notebooks/``.

    Parameters
    ----------
    config_path
        Path to an analysis config (absolute, or relative to the working folder).

    Returns
    -------
    pathlib.Path
        The first candidate that exists, else ``config_path`` unchanged (loading it then
        fails with a clear :class:`~geoplan._errors.ConfigError`).
    """
    path = Path(config_path).expanduser()
    if path.is_file() or path.is_absolute():
        return path
    parts = path.parts
    while parts and parts[0] == "..":
        parts = parts[1:]
    candidates = [Path(*parts)] if parts and len(parts) < len(path.parts) else []
    candidates.append(Path.cwd().parent / path)  # a repository-relative path, from notebooks/
    return next((c for c in candidates if c.is_file()), path)


def as_list(value: Any) -> list[str] | None:
    """A papermill list parameter as a list of strings, however it was passed.

    ``None`` or ``""`` gives None (use the config's choice); a list or tuple is kept; a string
    is read as JSON when it looks like a list (``'["park_500", "bus_stop_500"]'``) and otherwise
    split at commas (``"park_500, bus_stop_500"``, also Chinese ``，``), never letter by letter.

    Raises
    ------
    ValueError
        For a string that starts like a JSON list but is not one.
    TypeError
        For items that are not strings (a typo such as ``standards=500``).
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
    items = list(value) if isinstance(value, Iterable) else [value]
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        raise TypeError(f"give standard ids as strings (e.g. 'park_500'), not {bad!r}")
    return [item.strip() for item in items if item.strip()] or None


def column_labels(columns: Iterable[str], lang: str = "zh") -> dict[str, str]:
    """Readable column headers in ``lang`` for a results table (unknown columns kept)."""
    lab = labels(lang)
    extra = {"name_zh": "名称" if lang == "zh" else "Name", "area_ha": lab["area_ha"]}
    return {c: lab.get(c) or extra.get(c, c) for c in columns}


def load_analysis(
    config_path: str | Path,
    standards: str | Iterable[str] | None = None,
    *,
    district: str | None = None,
    steps: tuple[str, ...] = COMPUTE_STEPS,
    progress: bool = False,
) -> RunResult:
    """Load an analysis and compute its results in memory, as ``geoplan run`` does.

    Parameters
    ----------
    config_path
        The analysis config (see :func:`find_config` for relative paths).
    standards
        Standard ids to measure instead of the config's: a list or a comma-separated string.
    district
        A district the notebook will show; checked to exist (every district is still
        computed, so the figures equal those of the whole run).
    steps
        Which of ``coverage``, ``sites`` and ``deadends`` to compute; the others stay None.
    progress
        Show progress bars.

    Returns
    -------
    RunResult
        ``config``, ``layerset``, ``standards``, ``summary`` (per-district layer counts), and
        ``coverage`` / ``sites`` / ``deadends`` from :func:`geoplan.pipeline.compute_results`.
        ``out`` is the config's output folder; nothing is written there.

    Raises
    ------
    geoplan._errors.ConfigError
        If the config is missing or invalid, or a standard id is unknown (before any work).
    ValueError
        If ``district`` is not one of the analysis' districts (the message lists them), or a
        step is unknown.
    """
    unknown = set(steps) - set(COMPUTE_STEPS)
    if unknown:
        raise ValueError(f"unknown steps {sorted(unknown)}; choose from {COMPUTE_STEPS}")
    config = load_config(find_config(config_path))
    ids = as_list(standards)
    if ids is not None:
        config = config.model_copy(update={"standards": ids})
    chosen = check_config_standards(config)
    layerset = load_layers(config)
    names = [str(n) for n in layerset.districts["district"]]
    if district is not None and district not in names:
        raise ValueError(f"district {district!r} is not in the analysis {config.name!r}: "
                         f"choose from {names}")
    run = RunResult(config, config.output, layerset, chosen)
    run.summary = district_summary(layerset)
    run.coverage, run.deadends, run.sites = compute_results(
        config, layerset, standards=chosen, steps=steps, progress=progress,
        timings=run.timings)
    logger.info("%s: %d standards, %d districts", config.name, len(chosen), len(names))
    return run


def summary_line(run: RunResult) -> str:
    """One line naming the analysis and its standards, for a notebook's first output.

    Parameters
    ----------
    run
        From :func:`load_analysis`.

    Returns
    -------
    str
        For example ``成都中心城区 (…) · 2 standards: park_500, bus_stop_500``.
    """
    ids = ", ".join(s.id for s in run.standards)
    return f"{run.config.name} · {len(run.standards)} standards: {ids}"
