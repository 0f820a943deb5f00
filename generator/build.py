"""The build orchestrator: one call per stage, timed, nothing else.

load catalog → compute matrix → load settings and content → theme → plan → render → write.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import groupby
from pathlib import Path

import rjsmin  # type: ignore[import-untyped]
from jinja2 import Environment

from generator.catalog.loader import load_catalog
from generator.content import ContentError, load_pages
from generator.errors import SiteError
from generator.fit.accuracy import describe_contradiction
from generator.fit.matrix import FitMatrix, plan_matrix
from generator.render import make_content_renderer, render_spec
from generator.search import iter_searched_files, write_search_index
from generator.settings import load_settings
from generator.shortcodes import ShortcodeContext
from generator.site_plan import SHARED, PageSpec, plan_site
from generator.templating import make_theme_env, make_url_for
from generator.writer import OutputLock, Staging

log = logging.getLogger(__name__)

#: Models whose cells a render worker keeps: it renders one model's pages after another.
MODELS_PER_WORKER = 2
#: How much render workers defer to the process apart and to Pagefind (Unix niceness, 0–19).
WORKER_NICENESS = 5
#: Garbage collector thresholds while pages render (CPython's default is 700, 10, 10).
RENDER_GC_THRESHOLDS = (50_000, 20, 100)


@dataclass
class BuildReport:
    """What a build did: pages, bytes, seconds per stage."""

    pages: int = 0
    files: int = 0
    bytes_written: int = 0
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.stages.values())

    def summary(self) -> str:
        return (
            f"Built {self.pages} pages ({self.files} files, {self.bytes_written / 1e6:.1f} MB) "
            f"in {self.seconds:.2f} s"
        )


class _Timer:
    def __init__(self, report: BuildReport) -> None:
        self.report = report
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.report.stages[stage] = now - self.last
        self.last = now


@dataclass(frozen=True)
class Prepared:
    """Everything gathered before the first page renders."""

    matrix: FitMatrix
    theme: Environment
    specs: list[PageSpec]
    assets: dict[str, Asset]
    pages: int


def prepare_site(
    project: Path,
    base_url: str | None,
    timer: _Timer | None = None,
    matrix: FitMatrix | None = None,
) -> Prepared:
    """Load, validate and compute everything, and declare every output; write nothing.

    A ``matrix`` for the current catalog (incremental rebuilds) is reused. The matrix computes
    each model's cells when a page first reads them, so its cost falls in the render stage.
    """
    with paused_collector():
        return _prepare_site(project, base_url, timer, matrix)


@contextmanager
def paused_collector() -> Iterator[None]:
    """No cyclic garbage collection inside: loading and planning make hundreds of thousands of
    objects and no reference cycles, and each full collection walked them all again (at 100x
    the catalog, two thirds of the time spent loading it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_measurements(matrix: FitMatrix) -> None:
    """Raise SiteError when a verdict denies a recorded measurement of the same setup."""
    report = matrix.accuracy
    found = report.contradictions if report else ()
    if found:
        where = matrix.catalog.locations
        raise SiteError(
            "\n".join(
                f"{where.get(('measurements', c.measurement.id), 'measurements.yaml')}: "
                + describe_contradiction(c)
                for c in found
            )
        )


def _prepare_site(
    project: Path, base_url: str | None, timer: _Timer | None, matrix: FitMatrix | None
) -> Prepared:
    lap = timer.lap if timer else (lambda stage: None)
    if matrix is None:
        catalog = load_catalog(project / "catalog")
        lap("catalog")
        matrix = plan_matrix(catalog)
    check_measurements(matrix)
    catalog = matrix.catalog
    settings = load_settings(project / "site.yaml", catalog)
    pages = load_pages(project / "content", project)
    lap("content")
    # The command line's URL wins over site.yaml's (None: not given); links, the API included,
    # read it from the settings.
    url = base_url if base_url is not None else settings.base_url
    settings = settings.model_copy(update={"base_url": url})
    assets = load_assets(project / "templates" / "static")
    theme = make_theme_env(
        project / "templates", settings, {n: a.hashed for n, a in assets.items()}
    )
    url_for = make_url_for(url)
    renderer = make_content_renderer(lambda: ShortcodeContext(matrix, theme, url_for))
    specs = render_content_first(plan_site(matrix, pages, settings, renderer))
    lap("plan")
    return Prepared(matrix, theme, specs, assets, len(pages))


def render_content_first(specs: list[PageSpec]) -> list[PageSpec]:
    """Render every Markdown page now, so all their problems are reported together."""
    problems: list[str] = []
    done = []
    for spec in specs:
        if spec.kind in ("guide", "page"):
            try:
                context = spec.make_context()
            except SiteError as exc:
                problems.append(str(exc))
                continue
            # Its own file, what its shortcodes read, and the shared tables every number uses.
            own = {key for key in spec.deps if key.startswith("content:")}
            deps = frozenset(own | set(context.reads) | {SHARED})
            spec = PageSpec(spec.path, spec.template, partial(_constant, context), spec.kind, deps)
        done.append(spec)
    if problems:
        raise ContentError(problems)
    return done


def _constant(value: object) -> object:
    return value


def build_site(
    project: Path,
    out: Path | None = None,
    base_url: str | None = None,
    jobs: int | None = None,
) -> BuildReport:
    """Build the whole site into ``out`` (default ``project/site``); all or nothing.

    ``jobs`` processes render pages in parallel (default: one per CPU core).
    """
    out = out or project / "site"
    with unwritable_as_site_error(out), OutputLock(out):
        return _build_site(project, out, base_url, jobs)


@contextmanager
def unwritable_as_site_error(out: Path) -> Iterator[None]:
    """A write the system refuses (disk full, quota, read-only, permissions) is a located
    problem, not a crash; the build never swapped, so ``out`` is as it was."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        what = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
        where = f" at {exc.filename}" if exc.filename else ""
        raise SiteError(
            f"{out}: build failed{where}: {what} ({errno.errorcode.get(exc.errno, exc.errno)}); "
            f"the previous {out.name}/ is unchanged"
        ) from None


def _build_site(project: Path, out: Path, base_url: str | None, jobs: int | None) -> BuildReport:
    report = BuildReport()
    timer = _Timer(report)
    prepared = prepare_site(project, base_url, timer)
    staging = Staging(out)
    searched = list(iter_searched_files(prepared.specs))
    report.pages = sum(1 for s in prepared.specs if s.file.endswith(".html"))
    try:
        # The search index is built while the workers are still rendering pair pages.
        def index() -> None:
            started = time.perf_counter()
            write_search_index(staging, searched)
            log.debug(
                "searched pages rendered after %.1f s; search index in %.1f s",
                started - timer.last, time.perf_counter() - started,
            )  # fmt: skip

        render_pages(prepared, staging, jobs or os.cpu_count() or 1, set(searched), index)
        timer.lap("render and search")
        staging.swap_into_place()
    except BaseException:
        staging.discard()
        raise
    timer.lap("write")
    report.files = len(staging.written)
    report.bytes_written = staging.bytes_written
    log.debug("stages: %s", {k: round(v, 3) for k, v in report.stages.items()})
    return report


def setup_render_worker(matrix: FitMatrix) -> None:
    """A render worker keeps only the cells of the models it is rendering, and gives way to the
    process apart: the searched pages it renders, then the search index, are the build's
    longest chain, while the workers' pair pages can fill whatever CPU is left."""
    matrix.keep_only(MODELS_PER_WORKER)
    os.nice(WORKER_NICENESS)


def render_pages(
    prepared: Prepared,
    staging: Staging,
    jobs: int,
    searched: set[str] | None = None,
    then: Callable[[], None] | None = None,
) -> None:
    """Render every page and static file into ``staging``; call ``then`` once the pages whose
    files are in ``searched`` are written.

    Render workers take one model's pages at a time and compute only that model's cells. One
    more process meanwhile renders the searched pages and those that read every model (it
    computes the whole matrix, and frees it when it ends); ``then`` runs after it.
    """
    theme = prepared.theme

    def render(spec: PageSpec) -> tuple[str, bytes]:
        return spec.file, render_spec(spec, theme)

    def goes_apart(spec: PageSpec) -> bool:
        return spec.reads_every_model or (searched is not None and spec.file in searched)

    local = [spec for spec in prepared.specs if not goes_apart(spec)]
    runs = [list(run) for _, run in groupby(local, key=lambda spec: spec.model)]
    apart = [spec for spec in prepared.specs if goes_apart(spec)]
    # What is loaded so far lives until the end: stop the collector re-walking it while
    # thousands of pages render (the forked workers inherit the frozen heap), and let it run
    # less often: rendering makes few reference cycles, and the matrix, growing to hundreds of
    # thousands of objects in the process apart, made each full collection slower (a quarter
    # of the matrix's time at 10x).
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*RENDER_GC_THRESHOLDS)
    try:
        staging.write_all(
            runs, render, jobs, apart=apart, then=then,
            setup_worker=partial(setup_render_worker, prepared.matrix),
        )  # fmt: skip
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()  # a long-running serve must not keep every old build frozen
    for asset in prepared.assets.values():
        staging.write(f"assets/{asset.hashed}", asset.data)


@dataclass(frozen=True)
class Asset:
    """A static file as published, under its content-hashed name."""

    hashed: str  # 'site.3f2a9c1b.css'
    data: bytes


def load_assets(static: Path) -> dict[str, Asset]:
    """Static files by name, each read once, so the name's hash always matches the bytes."""
    assets = {}
    for path in sorted(p for p in static.glob("*") if p.is_file()):
        data = read_asset(path)
        digest = hashlib.sha256(data).hexdigest()[:10]
        assets[path.name] = Asset(f"{path.stem}.{digest}{path.suffix}", data)
    return assets


def read_asset(path: Path) -> bytes:
    """A static file as published: scripts minified (comments and spaces out), others as is."""
    data = path.read_bytes()
    return bytes(rjsmin.jsmin(data)) if path.suffix == ".js" else data


def check_project(project: Path) -> str:
    """Validate catalog, settings and content (shortcodes included) without writing anything;
    every cell of the matrix is computed, as a build would."""
    prepared = prepare_site(project, None)
    prepared.matrix.all_cells()
    c = prepared.matrix.catalog
    return (
        f"catalog: {len(c.models)} models, {len(c.gpus)} GPUs, {len(c.quantizations)} "
        f"quantizations, {len(c.runtimes)} runtimes; content: {prepared.pages} pages; no problems"
    )
