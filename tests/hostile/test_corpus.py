"""Run the hostile-input corpus (``tests/hostile/cases.py``): one parametrised test.

Each case must end with its documented exit code (0 ok, 1 bad input data, 2 bad usage or
configuration), say its message fragment, never fall through to "unexpected error" or a
traceback, and leave no partial output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from geoplan.cli import main
from tests.conftest import ROOT
from tests.hostile.cases import CASES, Case

ENV = {**os.environ, "GEOPLAN_NO_PROGRESS": "1", "PYTHONPATH": str(ROOT),
       "GEOPLAN_PYTHON": sys.executable}
ENV.pop("GEOPLAN_DEBUG", None)


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


def _run(case: Case, argv: list[str], cwd: Path, capsys: pytest.CaptureFixture[str]
         ) -> tuple[int, str]:
    if argv[0] == "__unshare__":
        if not _unshare_works():
            pytest.skip("needs unprivileged user namespaces (unshare) to mount a tiny tmpfs")
        done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                               argv[1]], cwd=cwd, env=ENV, capture_output=True, text=True,
                              timeout=300)
        return done.returncode, done.stdout + done.stderr
    if case.subprocess:
        done = subprocess.run([sys.executable, "-m", "geoplan", *argv], cwd=cwd, env=ENV,
                              capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout + done.stderr
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GEOPLAN_DEBUG", raising=False)
    argv = case.build(tmp_path)
    code, text = _run(case, argv, tmp_path, capsys)
    assert "unexpected error" not in text, text
    assert "Traceback" not in text, text
    assert code == case.code, text
    assert case.fragment in text, text
    assert "pwned" not in text
    out = tmp_path / "out"
    if code != 0:  # no partial output: the folder is absent or empty (a file stays a file)
        assert not out.is_dir() or not any(out.iterdir()), sorted(out.iterdir())
    else:
        assert (out / "run.json").is_file()
    leftovers = [p.name for p in tmp_path.rglob(".*") if ".staging-" in p.name or
                 p.name.endswith(".lock") or ".tmp-" in p.name]
    assert not leftovers


def test_corpus_size_and_codes() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.code for c in CASES} == {0, 1, 2}
    assert sum(c.subprocess for c in CASES) >= 3
