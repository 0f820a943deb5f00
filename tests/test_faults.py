"""Faults a build survives: killed at any moment, started twice at once, a full disk.

Each leaves ``site/`` as it was (or, killed after its swap, the new site, whole): never a mix,
never missing. Builds run as ``python -m generator`` subprocesses in their own session, so a
kill reaches the render workers too; the full disk is a writer whose ``write`` raises ENOSPC.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

import generator.writer as writer
from generator.build import build_site
from generator.cli import main
from generator.writer import OutputLock
from tests.conftest import ROOT
from tests.site_helpers import copy_project, tree_digest

KILLS = 6  # kill moments, spread over one build's duration


def start_build(project: Path) -> subprocess.Popen[str]:
    """``fitatlas build`` in a session of its own (its render workers included)."""
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "--project", str(project), "build"],
        cwd=project, env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str]) -> int:
    """Wait for a build; print its output (shown when the test fails)."""
    out, err = proc.communicate(timeout=300)
    print(out, err)
    return proc.returncode


def leftovers(project: Path) -> list[str]:
    return sorted(p.name for p in project.glob(".site.*") if p.is_dir())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch project with a good build in site/."""
    project = copy_project(tmp_path / "project")
    build_site(project, jobs=1)
    return project


def test_a_build_killed_at_random_moments_leaves_the_old_site_or_the_whole_new_one(
    project: Path, tmp_path: Path
) -> None:
    site = project / "site"
    old = tree_digest(site)
    kept = tmp_path / "old-site"
    shutil.copytree(site, kept)
    settings = project / "site.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("title: fitatlas", "title: fitatlas two"),
        encoding="utf-8",
    )
    started = time.monotonic()
    assert finish(start_build(project)) == 0
    duration = time.monotonic() - started
    new = tree_digest(site)
    assert new != old
    outcomes = []
    for delay in sorted(random.Random(14).uniform(0.05, 1.2 * duration) for _ in range(KILLS)):
        shutil.rmtree(site)
        shutil.copytree(kept, site)
        proc = start_build(project)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its render workers
        proc.communicate(timeout=60)
        now = tree_digest(site)
        assert now in (old, new), f"killed after {delay:.2f} s: site/ is neither build"
        outcomes.append("old" if now == old else "new")
    # The next build cleans up whatever the killed ones left next to site/.
    assert finish(start_build(project)) == 0
    assert tree_digest(site) == new
    assert leftovers(project) == []
    print("kill outcomes:", outcomes)
    assert "old" in outcomes, f"no kill landed before the swap: {outcomes}"


def test_a_second_build_while_one_runs_stops_with_a_clear_message(project: Path) -> None:
    site = project / "site"
    reference = tree_digest(site)
    lock = project / ".site.lock"
    first = start_build(project)
    deadline = time.monotonic() + 60
    while f"pid {first.pid}" not in (lock.read_text(encoding="utf-8") if lock.exists() else ""):
        assert time.monotonic() < deadline and first.poll() is None, "the first build never locked"
        time.sleep(0.02)
    second = start_build(project)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 1
    assert f"another fitatlas build (pid {first.pid}) is writing {site}" in err
    assert "lock file" in err and "Traceback" not in err and out == ""
    assert finish(first) == 0
    assert tree_digest(site) == reference  # the first build wrote it whole, alone
    assert leftovers(project) == []


class FullDisk:
    """``open`` for the writer: files open, but writing fails once ``files`` were written."""

    def __init__(self, files: int) -> None:
        self.files = files

    def __call__(self, path: str, mode: str = "r", *args: Any, **kwargs: Any) -> IO[Any]:
        handle = open(path, mode, *args, **kwargs)  # noqa: SIM115 (returned to the caller)
        self.files -= 1
        if self.files < 0:
            handle.write = self._full  # type: ignore[method-assign]
        return handle

    @staticmethod
    def _full(data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# Budgets count per process: the render workers are forked with their own copy.
@pytest.mark.parametrize("files", [0, 200, 700])
def test_a_full_disk_fails_the_build_with_a_clear_message_and_site_intact(
    files: int, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = project / "site"
    before = tree_digest(site)
    monkeypatch.setattr(writer, "open", FullDisk(files), raising=False)
    code = main(["--project", str(project), "build"])
    err = capsys.readouterr().err
    assert code == 1
    assert "the disk is full (ENOSPC); the previous site/ is unchanged" in err
    assert err.startswith(f"{site}: build failed") and "Traceback" not in err
    assert tree_digest(site) == before
    assert leftovers(project) == []


def test_a_swap_cut_between_its_two_renames_is_put_back_by_the_next_lock(tmp_path: Path) -> None:
    """Where the system cannot swap folders atomically, a kill between the renames leaves the
    old site beside the missing one; the next build restores it before doing anything."""
    out = tmp_path / "site"
    (tmp_path / ".site.old-4242").mkdir()
    (tmp_path / ".site.old-4242" / "index.html").write_text("old", encoding="utf-8")
    (tmp_path / ".site.tmp-abc").mkdir()
    with OutputLock(out):
        assert (out / "index.html").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "site"]
