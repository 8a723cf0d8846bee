"""The batch's own page (``<out>/index.html``): every job of a ``geoplan batch`` run in one
table per config, each district's straight-line shares coloured against their targets as in
its own report's index, with links to its report page, workbook and map; failed jobs with
their message and log; each config's warnings (which its workers logged where nobody reads).

Names come from data: the template escapes every one, and links are relative paths the batch
made itself (never a name).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from geoplan._io import atomic_path
from geoplan._text import warnings_in
from geoplan._version import __version__
from geoplan.report._data import coverage_class, fmt_share, plain
from geoplan.report._labels import labels, standard_name, warning_label
from geoplan.report.html import WORKBOOK_NAME, template_environment


class Job(Protocol):
    """What this page reads of a :class:`geoplan.batch.Job` (the report does not import the
    batch, which writes this page)."""

    @property
    def city(self) -> str: ...
    @property
    def district(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def config_key(self) -> str: ...
    @property
    def out(self) -> Path: ...
    @property
    def config(self) -> Any: ...


__all__ = ["BATCH_INDEX", "warning_counts", "write_batch_index"]

BATCH_INDEX = "index.html"
"""The batch's page, beside ``batch_summary.csv``."""

_WORDS = {
    "title": "geoplan 批量分析", "config": "配置文件夹", "warnings": "警告", "status": "状态",
    "files": "成果", "log": "日志", "report": "报告", "workbook": "Excel", "map": "地图",
    "note": "各标准为直线覆盖率（官方口径），颜色相对目标：",
    "unread": "无法读取区县的配置", "ok": "完成", "skipped": "未变（沿用上次）", "failed": "失败",
    "no data": "无数据", "outside": "不在数据范围内", "errors": "错误", "see": "见错误",
    "outside_why": "这些{unit}在数据范围内的部分太小（districts.min_inside_km2、min_overlap_share），"
                   "geoplan run 也不分析它们：",
}


def warning_counts(rows: pd.DataFrame) -> tuple[list[str], dict[str, int], int]:
    """One config's warnings: its city task's (each once), each of its jobs' own with the
    number of jobs that logged it (a job's warning the city also said is the city's), in the
    order first said, and the number of jobs measured (a district outside the data is no
    job that could say anything)."""
    jobs = rows.drop_duplicates("district") if "district" in rows.columns else rows
    if "status" in jobs.columns:
        jobs = jobs.loc[jobs["status"] != "outside"]

    city = list(dict.fromkeys(warnings_in(jobs, "city_warnings")))
    counts: dict[str, int] = {}
    for said in warnings_in(jobs, "warnings"):
        if said not in city:
            counts[said] = counts.get(said, 0) + 1
    return city, counts, len(jobs)


def _relative(path: Path, out: Path) -> str:
    return Path(os.path.relpath(path, out)).as_posix()


def _report_page(folder: Path) -> Path | None:
    """The job's district page (its reports hold that one page and their index)."""
    pages = sorted(p for p in (folder / "reports").glob("*.html") if p.name != "index.html")
    return pages[0] if pages else None


def _job_entry(job: Job, rows: pd.DataFrame, order: Sequence[str], out: Path,
               errors: list[dict[str, Any]]) -> dict[str, Any]:
    """One job's row; a failure's message goes to ``errors`` (each message once, numbered),
    the row naming its number."""
    first = rows.iloc[0]
    status = str(first.get("status", ""))
    entry: dict[str, Any] = {"name": job.district, "status": status.replace(" ", "-"),
                             "status_text": _WORDS.get(status, status), "report": None,
                             "links": [], "cells": [], "note": None}
    if status == "failed":
        log = plain(first.get("log"))
        error = {"text": str(first.get("error", "")),
                 "log": _relative(Path(str(log)), out) if log else None}
        # one config's jobs failing alike (its city task failed) say it once
        same = next((e for e in errors if e["text"] == error["text"]), None)
        if same is None:
            same = {**error, "n": len(errors) + 1, "jobs": 0}
            errors.append(same)
        same["jobs"] += 1
        entry["note"] = f"{_WORDS['see']} {same['n']}"
        return entry
    if status == "outside":
        entry["note"] = "—"
        return entry
    page = _report_page(job.out)
    if page is not None:
        entry["report"] = _relative(page, out)
        entry["links"].append((_WORDS["report"], entry["report"]))
    for name, word in ((WORKBOOK_NAME, "workbook"), ("map.html", "map")):
        if (job.out / name).is_file():
            entry["links"].append((_WORDS[word], _relative(job.out / name, out)))
    by_std = {str(r["standard"]): r for r in rows.to_dict("records") if "standard" in r}
    for sid in order:
        r = by_std.get(sid, {})
        cls = coverage_class(r.get("share_buffer"), r.get("target"))
        entry["cells"].append({"text": fmt_share(r.get("share_buffer")),
                               "status": "na" if cls == "nodata" else cls})
    return entry


def _config_entry(key: str, jobs: Sequence[Job], summary: pd.DataFrame,
                  out: Path) -> dict[str, Any]:
    part = summary.loc[summary["config"].astype(str) == key]
    unit = jobs[0].config.districts.unit
    lab = labels("zh", unit)
    order: list[str] = []
    names: dict[str, dict[str, Any]] = {}
    if "standard" in part.columns:
        for rec in part.dropna(subset=["standard"]).to_dict("records"):
            r = {str(k): v for k, v in rec.items()}
            sid = str(r["standard"])
            if sid not in names:
                order.append(sid)
                names[sid] = {"name": standard_name(r, "zh"), "target": fmt_share(r.get("target"))}
    city, counts, n_jobs = warning_counts(part)
    said = [f"{warning_label(text, 'zh', unit)}（全市数据）" for text in city]
    said += [f"{warning_label(text, 'zh', unit)}（{n}/{n_jobs} 项任务）" for text, n in counts.items()]
    entries: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for job in sorted(jobs, key=lambda j: j.district):
        rows = part.loc[part["district"].astype(str) == job.district]
        if len(rows):
            entries.append(_job_entry(job, rows, order, out, errors))
    outside = [e["name"] for e in entries if e["status"] == "outside"]
    return {"key": key, "city": jobs[0].city, "name": jobs[0].config.name, "lab": lab,
            "standards": [names[s] for s in order], "said": said, "errors": errors,
            "folder": key + "/" if (out / key).is_dir() else None,
            "jobs": [e for e in entries if e["status"] != "outside"], "outside": outside,
            "outside_why": _WORDS["outside_why"].format(unit=unit)}


def write_batch_index(summary: pd.DataFrame, jobs: Sequence[Job], out: str | os.PathLike[str]
                      ) -> Path:
    """Write the batch's page into ``out`` (atomically) and return its path.

    Parameters
    ----------
    summary
        The batch's rows (:func:`geoplan.batch.run_batch`): coverage rows of every job, and
        one row per failed job or config.
    jobs
        The batch's jobs (those run and those skipped as unchanged).
    out
        The batch's output folder.

    Returns
    -------
    Path
        ``<out>/index.html``.
    """
    out = Path(out)
    by_config: dict[str, list[Job]] = {}
    for job in jobs:
        by_config.setdefault(job.config_key, []).append(job)
    configs = [_config_entry(key, group, summary, out) for key, group in sorted(by_config.items())]
    unread = []  # configs whose districts could not be read: no jobs, one failed row each
    if "config" in summary.columns:
        for r in summary.loc[~summary["config"].astype(str).isin(list(by_config))].to_dict("records"):
            log = plain(r.get("log"))
            unread.append({"key": str(r["config"]), "city": str(r.get("city", "")),
                           "error": str(r.get("error", "")),
                           "log": _relative(Path(str(log)), out) if log else None})
    counts = ""
    if "status" in summary.columns and len(summary):
        per_job = summary.drop_duplicates(["config", "district"])["status"].value_counts()
        counts = "，".join(f"{_WORDS.get(str(k), str(k))} {int(n)}" for k, n in per_job.items())
    lab = labels("zh")
    html = template_environment().get_template("batch.html.j2").render(
        lang="zh", lab=lab, version=__version__,
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"), words=_WORDS, configs=configs,
        counts=counts, unread=unread,
        classes=[(k, lab[f"legend_{k}"]) for k in ("pass", "near", "low", "poor")])
    target = out / BATCH_INDEX
    with atomic_path(target) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return target
