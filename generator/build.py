"""The build orchestrator: one call per stage, timed, nothing else.

load catalog → compute matrix → load settings and content → theme → plan → render → write.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from jinja2 import Environment

from generator.assets import Asset, load_assets
from generator.catalog.loader import load_catalog
from generator.content import ContentError, load_pages
from generator.errors import SiteError
from generator.fit.accuracy import describe_contradiction
from generator.fit.matrix import FitMatrix, plan_matrix
from generator.render import make_content_renderer
from generator.render_pool import paused_collector, render_pages
from generator.search import iter_searched_files, write_search_index
from generator.settings import load_settings
from generator.shortcodes import ShortcodeContext
from generator.site_plan import SHARED, PageSpec, constant, plan_site
from generator.templating import make_theme_env, make_url_for
from generator.writer import OutputLock, Staging

log = logging.getLogger(__name__)


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
            spec = PageSpec(spec.path, spec.template, partial(constant, context), spec.kind, deps)
        done.append(spec)
    if problems:
        raise ContentError(problems)
    return done


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
