"""The dev server: rebuilds on change, prints the located error, keeps serving the last good site.

``fitatlas serve`` runs in a subprocess on a copy of the project (livereload is never imported
into this test session, whose warnings are errors). One server is started for the module; each
test edits a different file and polls the served pages with generous timeouts. The copy holds a
deployable build in site/ made before the server started; the last test stops the server and
checks that site/ is exactly as it was.
"""

from __future__ import annotations

import hashlib
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

from generator.build import build_site
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

    site_digest: dict[str, str]  # site/ as built before the server started

    def get(self, path: str) -> str:
        """The body of ``path``; the server answers only between rebuilds, so wait long."""
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=60) as response:
            return str(response.read().decode("utf-8"))

    def get_status(self, path: str) -> tuple[int, str, str]:
        """Status, content type and body of ``path``, error statuses included."""
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=60) as response:
                return response.status, response.headers["Content-Type"], response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], exc.read().decode()

    @property
    def preview(self) -> Path:
        return self.project / ".fitatlas-preview" / "site"

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


def digest(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file under ``folder`` (but those under the ``skip`` folders) with its SHA-256."""
    return {
        rel: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not (rel := p.relative_to(folder).as_posix()).startswith(skip)
    }


#: The deployable build made before the server starts.
DEPLOY_URL = "https://example.org/atlas/"


#: The banner a failed rebuild adds to every served page.
BANNER = re.compile(r'<div id="fitatlas-build-error" role="alert".*?</pre></div>', re.DOTALL)


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
    build_site(project, base_url=DEPLOY_URL)
    site_digest = digest(project / "site")
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
    running = DevServer(project, f"http://127.0.0.1:{port}/", proc, stderr_path, site_digest)
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
    located = f"gpus.yaml:{number}: gpus[0].vram_gib"
    try:
        server.wait_for(
            "the located error is printed",
            lambda: located in server.stderr(),
            REBUILD_TIMEOUT_S,
        )
        # The browser shows the last good page with the error on top (live reload fetches it).
        shown = server.get(page)
        assert BANNER.search(shown) and located in BANNER.search(shown)[0]  # type: ignore[index]
        assert BANNER.sub("", shown) == before
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


def test_unknown_paths_get_the_sites_404_page_and_api_its_index(server: DevServer) -> None:
    not_found = (server.preview / "404.html").read_text(encoding="utf-8")
    for path in ("/no/such/page/", "/api/nothing.json", "/models/not-a-model/"):
        status, kind, body = server.get_status(path)
        assert status == 404 and kind.startswith("text/html")
        assert "livereload.js" in body
        assert body.replace(LIVERELOAD_SCRIPT.search(body)[0], "") == not_found  # type: ignore[index]
    status, kind, body = server.get_status("/api/")
    assert status == 200 and kind.startswith("text/html")
    assert "/api/catalog.json" in body and "/api/calculator.json" in body


#: The script livereload adds before </head>.
LIVERELOAD_SCRIPT = re.compile(r'<script type="text/javascript">\(function\(\)\{.*?</script>')


def wait_for_rebuild(server: DevServer, count: int) -> None:
    server.wait_for(
        "the catalog edit is rebuilt", lambda: server.count_rebuilds() > count, REBUILD_TIMEOUT_S
    )


def gpu_for_edits(project: Path, gpus: list[dict[str, object]]) -> list[str]:
    """Multi-GPU cards no guide, setting or measurement names: free to remove or change."""
    named = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [*(project / "content").rglob("*.md"), project / "site.yaml",
                  project / "catalog" / "measurements.yaml"]
    )  # fmt: skip
    return [
        str(g["id"])
        for g in gpus
        if int(str(g.get("max_gpus", 1))) > 1
        and not re.search(rf"\b{re.escape(str(g['id']))}\b", named)
    ]


def test_reordering_removing_and_editing_a_gpu_during_serve_matches_a_clean_build(
    server: DevServer, tmp_path: Path
) -> None:
    gpus_yaml = server.project / "catalog" / "gpus.yaml"
    original = gpus_yaml.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    gpus = data["gpus"]
    free = gpu_for_edits(server.project, gpus)
    assert len(free) >= 2, "two multi-GPU cards named nowhere"
    removed, edited = free[0], free[1]
    steps = [
        ("swap the first two cards", lambda g: g.insert(0, g.pop(1))),
        (f"remove {removed}", lambda g: g.remove(next(x for x in g if x["id"] == removed))),
        (
            f"{edited} down to one card",
            lambda g: next(x for x in g if x["id"] == edited).update(max_gpus=1),
        ),
    ]
    try:
        for number, (what, change) in enumerate(steps):
            rebuilds = server.count_rebuilds()
            change(gpus)
            gpus_yaml.write_text(
                yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
            )
            wait_for_rebuild(server, rebuilds)
            clean = tmp_path / f"clean-{number}"
            build_site(server.project, out=clean, base_url=server.url)
            # The search index is rebuilt by full builds only.
            served, expected = digest(server.preview, ("pagefind/",)), digest(clean, ("pagefind/",))
            differ = sorted(
                k for k in served.keys() | expected.keys() if served.get(k) != expected.get(k)
            )
            assert not differ, (
                f"after '{what}' the preview differs from a clean build: {differ[:10]}"
            )
    finally:
        rebuilds = server.count_rebuilds()
        gpus_yaml.write_text(original, encoding="utf-8")
        wait_for_rebuild(server, rebuilds)


def test_after_the_server_stops_site_is_as_built_without_the_dev_servers_url(
    server: DevServer,
) -> None:
    """The preview lives in .fitatlas-preview/; the deployable site/ is never touched."""
    assert "127.0.0.1" in (server.preview / "index.html").read_text(encoding="utf-8")
    stop(server.proc)
    site = server.project / "site"
    assert digest(site) == server.site_digest
    assert not [p for p in site.rglob("*") if p.is_file() and b"127.0.0.1" in p.read_bytes()]
