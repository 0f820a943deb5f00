"""Live-reload benchmark: from saving a file to the browser showing the change, in ``serve``.

Starts ``fitatlas serve`` on a scratch copy of the project (the default catalog), opens a guide
in Debian's Chromium through Playwright, then repeatedly appends a new sentence to the guide's
Markdown and measures, in this process, from the moment the file is written to the moment the
reloaded page in the browser contains the sentence: rebuild, livereload's notice and the page
load together. The same for one catalog entry (a GPU's name, checked on one of its pair pages).
Writes the figures into bench/RESULTS.md between the serve markers.

    .venv/bin/python bench/serve_bench.py [--edits 10]
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: bench/ is sys.path[0]
from build_bench import describe_source  # noqa: E402  (bench/build_bench.py)

from tests.site_helpers import copy_project  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
CHROMIUM = Path("/usr/bin/chromium")
GUIDE = Path("content/guides/how-much-vram.md")
GUIDE_URL = "guides/how-much-vram/"
START, END = "<!-- serve:start -->", "<!-- serve:end -->"
#: livereload 2.7.1 drops a reload that comes within 3 s of the previous one (or of its start),
#: so edits are spaced further apart than that, as a person's would be.
PAUSE_S = 3.5
TITLE = "## Live reload in `fitatlas serve`"
INTRO = f"""{TITLE}

Written by `bench/serve_bench.py` (`.venv/bin/python bench/serve_bench.py`): `fitatlas serve` on a
scratch copy of the project with the default catalog, the page open in Debian's Chromium through
Playwright. Each edit is timed from the moment the file is written to the moment the page in the
browser shows it: the rebuild of the pages that depend on the file, livereload's notice and the
reload together. *server* is the rebuild as the server logs it.

"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"fitatlas serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("fitatlas serve did not answer")


def timed_edit(page: Page, path: Path, change: tuple[str, str], marker: str) -> float:
    """Apply ``change`` (old, new) to ``path``; seconds until the open page shows ``marker``."""
    text = path.read_text(encoding="utf-8")
    old, new = change
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    written = time.perf_counter()
    page.wait_for_function(
        "marker => document.body && document.body.textContent.includes(marker)",
        arg=marker, polling="raf", timeout=60_000,
    )  # fmt: skip
    return time.perf_counter() - written


def server_seconds(log: Path) -> list[float]:
    """The rebuild times the server logged ('Rebuilt N pages in S s')."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return [float(s) for s in re.findall(r"Rebuilt \d+ pages in ([\d.]+) s", text)]


def describe(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"{statistics.median(ms):.0f} ms ({ms[0]:.0f}–{ms[-1]:.0f})"


def measure(edits: int) -> dict[str, str]:
    scratch = Path(tempfile.mkdtemp(prefix="fitatlas-serve-bench-"))
    project = copy_project(scratch / "project")
    port = free_port()
    log = scratch / "serve.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "generator", "--project", str(project), "serve"]
    with log.open("wb") as stderr:
        proc = subprocess.Popen([*command, "--port", str(port)], cwd=project, env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
    base = f"http://127.0.0.1:{port}/"
    results: dict[str, str] = {}
    try:
        wait_until_up(base, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(base + GUIDE_URL)
            time.sleep(PAUSE_S)
            guide = project / GUIDE
            times = []
            for n in range(edits):
                marker = f"Benchmark edit {n} of the guide."
                times.append(timed_edit(page, guide, ("\n## ", f"\n{marker}\n\n## "), marker))
                time.sleep(PAUSE_S)
            logged = server_seconds(log)
            results["guide"] = describe(times)
            results["guide_server"] = describe(logged[-edits:]) if logged else "—"
            gpus = project / "catalog" / "gpus.yaml"
            name = re.search(r"^    name: (.+)$", gpus.read_text(encoding="utf-8"), re.M)
            gpu_id = re.search(r"^  - id: (.+)$", gpus.read_text(encoding="utf-8"), re.M)
            assert name and gpu_id, "gpus.yaml: no first GPU name and id"
            page.goto(base + f"models/llama-3.1-8b/on/{gpu_id.group(1).strip()}/")
            time.sleep(PAUSE_S)
            times = []
            current = name.group(1)
            for n in range(max(3, edits // 3)):
                renamed = f"{current.rstrip()} bench {n}"
                times.append(timed_edit(page, gpus, (f"name: {current}", f"name: {renamed}"),
                                        renamed.strip('"')))  # fmt: skip
                current = renamed
                time.sleep(PAUSE_S)
            logged = server_seconds(log)
            results["gpu"] = describe(times)
            results["gpu_server"] = describe(logged[-len(times) :]) if logged else "—"
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    return results


def write(results: dict[str, str], edits: int) -> None:
    load = os.getloadavg()[0]
    rows = (
        f"Run of {datetime.date.today().isoformat()}, commit {describe_source()}, "
        f"{os.cpu_count()} CPUs, 1-minute load {load:.1f} at the end. Median (min–max).\n\n"
        "| edit | times | save → page shows it | server's rebuild |\n|---|---:|---:|---:|\n"
        f"| a guide's Markdown (a new sentence) | {edits} | {results['guide']} "
        f"| {results['guide_server']} |\n"
        f"| one GPU's name in catalog/gpus.yaml (checked on a pair page) | {max(3, edits // 3)} "
        f"| {results['gpu']} | {results['gpu_server']} |"
    )
    text = RESULTS.read_text(encoding="utf-8")
    if START in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        head = head[: head.rindex(TITLE)] if TITLE in head else head
        text = f"{head}{INTRO}{START}\n{rows}\n{END}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{INTRO}{START}\n{rows}\n{END}\n"
    RESULTS.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = measure(args.edits)
    print(results)
    if not args.no_write:
        write(results, args.edits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
