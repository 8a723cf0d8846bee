"""Batch runs: many cities, one job per (city, district), mapped over Dask.

A province checks dozens of cities and hundreds of districts. Each (city, district) job loads
that district with its context margin (so facilities and routes across the district line still
count), runs the analysis into ``<out>/<city>/<district>/`` and returns its coverage table; the
tables are gathered into one summary. Dask schedules the jobs: a LocalCluster by default, or
any scheduler address for a real cluster. A failed job is reported in the summary; the others
still complete.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geoplan._io import ensure_writable_dir, write_csv
from geoplan.config import AnalysisConfig
from geoplan.layers.districts import read_districts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One (city, district) analysis."""

    city: str
    district: str
    config: AnalysisConfig
    out: Path


def district_jobs(configs: Sequence[AnalysisConfig], out: Path) -> list[Job]:
    """One job per district of each config (the config's ``include`` list, else all districts)."""
    jobs = []
    for config in configs:
        names = config.districts.include or sorted(read_districts(config.districts)["district"])
        city = config.city or config.name
        for name in names:
            districts = config.districts.model_copy(update={"include": [name]})
            job_config = config.model_copy(update={"districts": districts})
            jobs.append(Job(city, name, job_config, out / _safe(city) / _safe(name)))
    return jobs


def _safe(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "_" for c in text).strip("_")
    return keep or "x"


def run_job(job: Job, steps: tuple[str, ...]) -> pd.DataFrame:
    """Run one job; return its coverage table (or one row saying why it failed)."""
    from geoplan.pipeline import run_analysis

    try:
        result = run_analysis(job.config, job.out, steps=steps)
    except Exception as exc:  # a failed district is reported; the batch goes on
        logger.warning("%s / %s failed: %s", job.city, job.district, exc)
        return pd.DataFrame([{"city": job.city, "district": job.district, "status": "failed",
                              "error": f"{type(exc).__name__}: {exc}",
                              "detail": traceback.format_exc(limit=3)}])
    table = result.coverage.table.copy() if result.coverage is not None else pd.DataFrame()
    if table.empty:
        return pd.DataFrame([{"city": job.city, "district": job.district, "status": "no data"}])
    table = table.loc[table["district"] == job.district]
    table.insert(0, "city", job.city)
    table["status"] = "ok"
    return table


def run_batch(
    configs: Sequence[AnalysisConfig],
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    steps: tuple[str, ...] = ("layers", "coverage", "sites", "deadends", "report"),
    progress: bool = False,
) -> pd.DataFrame:
    """Run every (city, district) job of ``configs`` over Dask and write ``batch_summary.csv``.

    Parameters
    ----------
    configs
        Validated analysis configs, one per city.
    out
        Output folder; each job writes into ``<out>/<city>/<district>/``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); default: a LocalCluster
        on this machine.
    workers
        Worker processes of the LocalCluster (default: one per core).
    steps
        Pipeline steps per job (see :data:`geoplan.pipeline.STEPS`).
    progress
        Show a progress bar over jobs.

    Returns
    -------
    pandas.DataFrame
        All jobs' coverage rows, with ``city`` and ``status`` columns.
    """
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared extra
        raise ImportError("geoplan batch needs Dask: pip install 'geoplan[batch]'") from exc
    from tqdm.auto import tqdm

    out = ensure_writable_dir(out)
    jobs = district_jobs(configs, out)
    logger.info("batch: %d jobs over %d config(s)", len(jobs), len(configs))
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(run_job, job, steps, key=f"{job.city}-{job.district}-{i}", pure=False)
                   for i, job in enumerate(jobs)]
        tables: list[pd.DataFrame] = []
        for future in tqdm(as_completed(futures), total=len(futures), disable=not progress,
                           desc="districts"):
            tables.append(future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    summary = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    write_csv(summary, out / "batch_summary.csv")
    return summary


def summarise(summary: pd.DataFrame) -> pd.DataFrame:
    """One line per job: status and how many standards meet their target."""
    if summary.empty:
        return summary
    rows: list[dict[str, Any]] = []
    for (city, district), part in summary.groupby(["city", "district"], sort=False):
        ok = part["status"].eq("ok").all()
        row: dict[str, Any] = {"city": city, "district": district, "status": part["status"].iloc[0]}
        if ok and "meets_target" in part:
            row["standards met"] = f"{int(part['meets_target'].sum())}/{len(part)}"
        elif "error" in part:
            row["standards met"] = str(part["error"].iloc[0])[:80]
        rows.append(row)
    return pd.DataFrame(rows)
