"""The dev server: rebuilds on change, prints the located error, keeps serving the last good site.

``fitatlas serve`` runs in a subprocess on a copy of the project (livereload is never imported
into this test session, whose warnings are errors). One server is started for the module; each
test edits a different file and polls the served pages with generous timeouts.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

STARTUP_TIMEOUT_S = 120.0  # the first build of the whole site
REBUILD_TIMEOUT_S = 60.0


@dataclass
class DevServer:
    """A running ``fitatlas serve`` on a scratch copy of the project."""

    project: Path
    url: str
    proc: subprocess.Popen[bytes]
    stderr_path: Path

    def get(self, path: str) -> str:
        """The body of ``path``; the server answers only between rebuilds, so wait long."""
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=60) as response:
            return str(response.read().decode("utf-8"))

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float) -> None:
        """Poll ``condition`` until it holds; fail with the server's log when it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited ({self.proc.returncode}):\n{self.stderr()}")
            try:
                if condition():
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # not listening yet, or busy rebuilding
            time.sleep(0.5)
        pytest.fail(f"timed out after {timeout:.0f} s waiting until {what}:\n{self.stderr()}")

    def page_contains(self, path: str, text: str) -> Callable[[], bool]:
        return lambda: text in self.get(path)

    def count_rebuilds(self) -> int:
        return self.stderr().count("Rebuilt ")


def find_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_project(target: Path) -> Path:
    """What a site is built from, copied out of the repo."""
    for folder in ("catalog", "content", "templates"):
        shutil.copytree(ROOT / folder, target / folder)
    shutil.copy2(ROOT / "site.yaml", target / "site.yaml")
    return target


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server by its PID: terminate, then kill if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One ``python -m generator serve`` for the module, stopped by PID afterwards."""
    scratch = tmp_path_factory.mktemp("serve")
    project = copy_project(scratch / "project")
    port = find_free_port()
    stderr_path = scratch / "serve.stderr"
    command = [sys.executable, "-m", "generator", "--project", str(project), "serve"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    running = DevServer(project, f"http://127.0.0.1:{port}/", proc, stderr_path)
    try:
        running.wait_for("the home page answers", lambda: bool(running.get("/")), STARTUP_TIMEOUT_S)
        yield running
    finally:
        stop(proc)


def edit(path: Path, old: str, new: str) -> str:
    """Replace the first ``old`` in ``path`` by ``new``; return the original text."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not found in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text


def replace_line(path: Path, number: int, line: str) -> str:
    """Replace line ``number`` (1-based) of ``path`` by ``line``; return the original text."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    lines[number - 1] = line + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return text


def first_gpu(project: Path) -> dict[str, object]:
    gpus: list[dict[str, object]] = yaml.safe_load(
        (project / "catalog" / "gpus.yaml").read_text(encoding="utf-8")
    )["gpus"]
    return gpus[0]


def line_of(path: Path, pattern: str, after: str) -> int:
    """The 1-based number of the first line matching ``pattern`` after the line ``after``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index(after)
    return next(i for i in range(start, len(lines)) if re.match(pattern, lines[i])) + 1


def test_served_pages_carry_the_live_reload_script(server: DevServer) -> None:
    home = server.get("/")
    assert "livereload.js" in home
    assert "Traceback" not in server.stderr()


def test_editing_a_guide_heading_shows_on_the_served_guide(server: DevServer) -> None:
    guide = sorted((server.project / "content" / "guides").glob("*.md"))[0]
    heading = next(
        line
        for line in guide.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ") and "{" not in line
    )
    edit(guide, heading, "## Heading edited while serving")
    server.wait_for(
        "the guide shows the new heading",
        server.page_contains(f"/guides/{guide.stem}/", "Heading edited while serving"),
        REBUILD_TIMEOUT_S,
    )


def test_renaming_a_gpu_in_the_catalog_shows_on_its_served_page(server: DevServer) -> None:
    gpu = first_gpu(server.project)
    gpus_yaml = server.project / "catalog" / "gpus.yaml"
    number = line_of(gpus_yaml, r"\s+name: ", f"  - id: {gpu['id']}")
    replace_line(gpus_yaml, number, "    name: Renamed Accelerator 9000")
    server.wait_for(
        "the GPU page shows the new name",
        server.page_contains(f"/gpus/{gpu['id']}/", "Renamed Accelerator 9000"),
        REBUILD_TIMEOUT_S,
    )


def test_a_broken_catalog_prints_its_location_and_the_last_good_site_stays(
    server: DevServer,
) -> None:
    gpu = first_gpu(server.project)
    gpus_yaml = server.project / "catalog" / "gpus.yaml"
    page = f"/gpus/{gpu['id']}/"
    before = server.get(page)
    number = line_of(gpus_yaml, r"\s+vram_gib: ", f"  - id: {gpu['id']}")
    original = replace_line(gpus_yaml, number, "    vram_gib: -80")
    try:
        server.wait_for(
            "the located error is printed",
            lambda: f"gpus.yaml:{number}: gpus[0].vram_gib" in server.stderr(),
            REBUILD_TIMEOUT_S,
        )
        assert server.get(page) == before
        assert "Traceback" not in server.stderr()
        rebuilds = server.count_rebuilds()
    finally:
        gpus_yaml.write_text(original, encoding="utf-8")
    server.wait_for(
        "the fixed catalog is rebuilt",
        lambda: server.count_rebuilds() > rebuilds,
        REBUILD_TIMEOUT_S,
    )
    assert server.get(page) == before
