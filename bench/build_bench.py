"""Build benchmark: wall time, pages/s, peak memory and bytes written at several catalog sizes.

For each scale it writes a project (a catalog with ``scale`` times the models, made by
``make_catalog.py``, plus the repo's content, templates and site.yaml), runs ``fitatlas build``
in a subprocess under GNU ``/usr/bin/time -v`` (``apt-get install time`` if it is missing),
writing the site to /dev/shm when there is one so the disk does not dominate, and counts what
was written. Results go into the table of ``bench/RESULTS.md`` (rows of other scales are kept).
``--profile`` also runs one build under cProfile and writes the top entries to
``bench/PROFILE.md``. Nothing here asserts a time: it measures and reports.

    .venv/bin/python bench/build_bench.py                 # scales 1 10 100, then the profile
    .venv/bin/python bench/build_bench.py --scales 1 10 --no-profile
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import json
import os
import platform
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from make_catalog import write_catalog  # bench/ is sys.path[0] when run as a script

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "RESULTS.md"
PROFILE = BENCH / "PROFILE.md"
GNU_TIME = Path("/usr/bin/time")
START, END = "<!-- results:start -->", "<!-- results:end -->"
PROFILE_START, PROFILE_END = "<!-- profile:start -->", "<!-- profile:end -->"


@dataclass(frozen=True)
class Run:
    """One measured build (or why it has no measurement)."""

    scale: int
    models: int
    pages: int = 0
    files: int = 0
    wall_s: float = 0.0
    peak_rss_kib: int = 0
    peak_total_kib: int = 0
    bytes_written: int = 0
    stages: tuple[tuple[str, float], ...] = ()
    outcome: str = "ok"
    load: float = 0.0

    def row(self, date: str, commit: str, machine: str) -> str:
        """This run as a Markdown table row."""
        if self.outcome != "ok":
            cells = [str(self.scale), f"{self.models:,}", *["—"] * 6, self.outcome]
        else:
            stage_text = ", ".join(f"{name} {sec:.1f}" for name, sec in self.stages)
            cells = [
                str(self.scale),
                f"{self.models:,}",
                f"{self.pages:,}",
                f"{self.wall_s:.1f}",
                f"{self.pages / self.wall_s:,.0f}",
                f"{self.peak_rss_kib / 1024:,.0f}",
                f"{self.peak_total_kib / 1024:,.0f}",
                f"{self.bytes_written / 1e6:,.1f}",
                stage_text,
            ]
        return "| " + " | ".join([*cells, f"{self.load:.1f}", date, commit, machine]) + " |"


def make_project(work: Path, scale: int) -> tuple[Path, int]:
    """A project folder with a scaled catalog and the repo's content; returns (folder, models)."""
    project = work / f"project-{scale}x"
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    models = write_catalog(ROOT / "catalog", project / "catalog", scale)
    for folder in ("content", "templates"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copyfile(ROOT / "site.yaml", project / "site.yaml")
    return project, models


def pick_output_root() -> Path:
    """A scratch folder for built sites: in RAM (/dev/shm) when there is one."""
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="fitatlas-bench-", dir=parent))


def fitatlas_command() -> list[str]:
    """The ``fitatlas`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "fitatlas"
    return [str(script)] if script.exists() else [sys.executable, "-m", "generator"]


def run_build(project: Path, out: Path, limit_s: float, limit_gib: float) -> tuple[int, str, int]:
    """Run one build under /usr/bin/time -v, stopped past the limits.

    Returns (exit status or -1 when stopped, its log or why it was stopped, peak total KiB).
    """
    command = [str(GNU_TIME), "-v", *fitatlas_command()]
    command += ["--debug", "--project", str(project), "build", "--out", str(out)]
    log = out.parent / f"{out.name}.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen(command, stdout=stderr, stderr=stderr)
        reason, peak = watch_limits(proc, limit_s, limit_gib)
    text = log.read_text(encoding="utf-8", errors="replace")
    if reason:
        return -1, reason, peak
    return proc.returncode, text, peak


def watch_limits(
    proc: subprocess.Popen[bytes], limit_s: float, limit_gib: float
) -> tuple[str, int]:
    """Wait for ``proc``, sampling the memory of its process tree every second.

    Past a limit, kill the build and its workers by PID and say why. Returns (why or '', peak
    KiB of the whole tree).
    """
    started = time.monotonic()
    peak = 0
    while proc.poll() is None:
        elapsed = time.monotonic() - started
        family = [proc.pid, *iter_descendants(proc.pid)]
        total = sum(read_pss_kib(pid) for pid in family)
        peak = max(peak, total)
        if elapsed > limit_s or total > limit_gib * 1024 * 1024:
            for pid in reversed(family):  # the build and its workers, then GNU time
                _kill(pid)
            proc.wait()
            reason = (
                f"stopped after {elapsed / 60:.1f} min, peak {peak / 1024 / 1024:.1f} GiB "
                f"(limits {limit_s / 60:.0f} min, {limit_gib:g} GiB)"
            )
            return reason, peak
        time.sleep(1)
    return "", peak


def iter_descendants(pid: int) -> Iterator[int]:
    """Children of ``pid``, their children, and so on."""
    for child in child_pids(pid):
        yield child
        yield from iter_descendants(child)


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def read_pss_kib(pid: int) -> int:
    """Proportional memory of ``pid`` in KiB (pages shared with forked workers split between
    them, so a tree's sum is its real footprint); 0 once it is gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
    return int(match.group(1)) if match else 0


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def parse_time_report(text: str) -> tuple[float, int]:
    """(wall seconds, peak RSS KiB) from GNU time's verbose report."""
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if not wall or not rss:
        raise RuntimeError(f"no GNU time report in:\n{text[-2000:]}")
    seconds = 0.0
    for part in wall.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    return seconds, int(rss.group(1))


def parse_stages(text: str) -> tuple[tuple[str, float], ...]:
    """Seconds per build stage from the ``--debug`` log line ``stages: {...}``."""
    match = re.search(r"^stages: (\{.*\})$", text, re.M)
    return tuple(ast.literal_eval(match.group(1)).items()) if match else ()


def count_output(out: Path) -> tuple[int, int, int]:
    """(HTML pages, files, bytes) actually present in the output folder."""
    pages = files = size = 0
    for root, _, names in os.walk(out):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(root, name))
            pages += name.endswith(".html")
    return pages, files, size


def measure(scale: int, work: Path, out_root: Path, limits: tuple[float, float]) -> Run:
    """Make the project for ``scale``, build it once, measure, and delete the output."""
    project, models = make_project(work, scale)
    out = out_root / f"site-{scale}x"
    load = os.getloadavg()[0]
    print(f"[{scale}x] {models} models: building into {out} …", file=sys.stderr, flush=True)
    status, text, peak = run_build(project, out, *limits)
    if status != 0:
        outcome = text if status == -1 else f"build failed (exit {status}): {_last_line(text)}"
        return Run(scale, models, outcome=outcome, load=load)
    wall, rss = parse_time_report(text)
    pages, files, size = count_output(out)
    shutil.rmtree(out)
    return Run(scale, models, pages, files, wall, rss, peak, size, parse_stages(text), load=load)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("\t")]
    return lines[-1][:200] if lines else "no output"


def describe_source() -> str:
    """The commit measured, '+changes' when the working tree differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "generator", "templates", "content", "site.yaml")
    return f"{commit}+changes" if dirty else commit


def describe_machine() -> str:
    """'2 CPUs (AMD EPYC), 23 GiB RAM, Python 3.11.7' for the results table."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    match = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
    cpu = match.group(1).strip() if match else platform.processor() or "unknown CPU"
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPUs ({cpu}), {ram:.0f} GiB RAM, Python {platform.python_version()}"


RESULTS_HEADER = """# Build benchmark

Written by `bench/build_bench.py` (`.venv/bin/python bench/build_bench.py --scales 1 10 100`);
each run replaces the rows of the scales it measured. A scale-N catalog holds N times the real
models (variants with slightly different parameter counts, see `bench/make_catalog.py`); GPUs,
quantizations and runtimes are the real ones. One `fitatlas build` (production settings) per
row, in a subprocess under GNU `time -v`, output written to `/dev/shm`.

- *pages*: `.html` files in the output; *MB written*: every output file, decimal MB.
- *wall s*: GNU time's elapsed time.
- *stages s*: the build's own timers (`--debug` prints them). Since commit 830b96c pages are
  not minified; since the lazy matrix the fit matrix has no stage of its own (each model's cells
  are computed by the process that renders its pages) and the search index is built while the
  workers finish (*render and search*); *write* is only the final swap into place.
- *peak MiB*: GNU time's maximum resident set size, which is that of the largest single
  process. Pages render in forked worker processes (one per core, plus one for the pages that
  read every model), so *total MiB* adds up the proportional set size (shared copy-on-write
  pages split between processes) of the build and all its workers, sampled once a second: the
  real footprint.
- *load*: the machine's 1-minute load average when the build started; with 2 cores, anything
  above about 0.5 means other work competed for the CPU and the times are inflated.
- *commit*: what was measured; `+changes` when generator/templates/content differed from it.

"""
TABLE_HEAD = (
    "| scale | models | pages | wall s | pages/s | peak MiB | total MiB | MB written "
    "| stages s | load | date | commit | machine |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|---|"
)


def write_results(runs: list[Run], commit: str, machine: str) -> None:
    """Put the runs' rows into RESULTS.md's table, keeping rows of scales not measured now."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if START not in text:
        text = f"{RESULTS_HEADER}{START}\n{END}\n{text}"
    before, rest = text.split(START, 1)
    table, after = rest.split(END, 1)
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^\| (\d+) \|.*$", table, re.M)}
    today = datetime.date.today().isoformat()
    rows.update({run.scale: run.row(today, commit, machine) for run in runs})
    body = "\n".join([TABLE_HEAD, *(rows[s] for s in sorted(rows))])
    RESULTS.write_text(f"{before}{START}\n{body}\n{END}{after}", encoding="utf-8")


#: Run in a subprocess: one build in a single process (jobs=1, so the profiler sees the
#: rendering too), under cProfile; prints the stage timings as JSON.
PROFILE_CODE = """
import cProfile, json, sys
from pathlib import Path
from generator.build import build_site
project, out, stats = sys.argv[1:4]
profiler = cProfile.Profile()
report = profiler.runcall(build_site, Path(project), out=Path(out), jobs=1)
profiler.dump_stats(stats)
print(json.dumps(report.stages))
"""


def profile_build(scale: int, work: Path, out_root: Path, top: int) -> tuple[str, str]:
    """Build ``scale`` once under cProfile; return (tables of top entries, stage line)."""
    project, models = make_project(work, scale)
    out = out_root / f"profile-{scale}x"
    stats_file = out_root / "build.prof"
    command = [sys.executable, "-c", PROFILE_CODE, str(project), str(out), str(stats_file)]
    print(f"[profile {scale}x] {models} models under cProfile …", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    shutil.rmtree(out)
    stats = pstats.Stats(str(stats_file))
    stages: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    total = sum(stages.values()) or 1.0
    split = ", ".join(f"{name} {sec:.1f} s ({sec / total:.0%})" for name, sec in stages.items())
    tables = (
        f"By cumulative time:\n\n{render_top(stats, top, key=3)}\n\n"
        f"By own time (where the CPU actually goes):\n\n{render_top(stats, top, key=2)}"
    )
    return tables, f"{models} models, one process; stages under the profiler: {split}."


def render_top(stats: pstats.Stats, top: int, key: int) -> str:
    """The ``top`` entries by cumulative (key 3) or own (key 2) time as a Markdown table."""
    entries = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(entries.items(), key=lambda item: item[1][key], reverse=True)[:top]
    lines = [
        "| # | cumulative s | own s | calls | function |",
        "|---:|---:|---:|---:|---|",
    ]
    for rank, ((filename, line, name), (_, calls, own, cumulative, _)) in enumerate(ranked, 1):
        where = _short_path(filename)
        label = f"`{where}:{line}({name})`" if line else f"`{name}`"
        lines.append(f"| {rank} | {cumulative:.2f} | {own:.2f} | {calls:,} | {label} |")
    return "\n".join(lines)


def _short_path(filename: str) -> str:
    """A path as a reader knows it: 'jinja2/runtime.py', 'templates/model.html'."""
    project = re.search(r"/project-\d+x/(.+)$", filename)
    if project:
        return project.group(1)
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return Path(filename).name


PROFILE_HEADER = """# Build profile

Written by `bench/build_bench.py` (`--profile-only` to redo just this) between the markers
below: one production build of the 10× catalog under cProfile, in a single process
(`build_site(..., jobs=1)`, since the profiler does not follow forked render workers), with the
top entries by cumulative and by own time. cProfile adds overhead to every Python call, so
absolute seconds are larger than in RESULTS.md; the shares are what matter.

"""


def write_profile(table: str, stage_line: str, machine: str) -> None:
    """Put the profile into PROFILE.md between its markers, keeping the text around them."""
    text = PROFILE.read_text(encoding="utf-8") if PROFILE.exists() else ""
    if PROFILE_START not in text:
        text = f"{PROFILE_HEADER}{PROFILE_START}\n{PROFILE_END}\n{text}"
    before, rest = text.split(PROFILE_START, 1)
    _, after = rest.split(PROFILE_END, 1)
    today = datetime.date.today().isoformat()
    body = f"{today}, {machine}. {stage_line}\n\n{table}"
    PROFILE.write_text(f"{before}{PROFILE_START}\n{body}\n{PROFILE_END}{after}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--work", type=Path, default=BENCH / "out", help="project folders")
    parser.add_argument("--limit-minutes", type=float, default=15.0, help="stop a build after")
    parser.add_argument("--limit-gib", type=float, default=12.0, help="stop a build above RSS")
    parser.add_argument("--profile-scale", type=int, default=10)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--profile-only", action="store_true")
    parser.add_argument("--top", type=int, default=15, help="profile entries to keep")
    args = parser.parse_args(argv)
    if not GNU_TIME.exists():
        parser.error("GNU time is missing: apt-get install -y time")
    machine, commit = describe_machine(), describe_source()
    out_root = pick_output_root()
    try:
        if not args.profile_only:
            limits = (args.limit_minutes * 60, args.limit_gib)
            for scale in args.scales:
                run = measure(scale, args.work, out_root, limits)
                print(run.row("", commit, machine), file=sys.stderr, flush=True)
                write_results([run], commit, machine)
        if not args.no_profile:
            table, stage_line = profile_build(args.profile_scale, args.work, out_root, args.top)
            write_profile(table, stage_line, f"commit {commit}, {machine}")
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
