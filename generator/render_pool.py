"""The render stage: every page rendered into the staging folder by worker processes, with the
process and garbage-collector settings that keep it fast."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import groupby
from typing import TYPE_CHECKING

from generator.fit.matrix import FitMatrix
from generator.render import render_spec
from generator.site_plan import PageSpec
from generator.writer import Staging

if TYPE_CHECKING:
    from generator.build import Prepared

#: Models whose cells a render worker keeps: it renders one model's pages after another.
MODELS_PER_WORKER = 2
#: How much render workers defer to the process apart and to Pagefind (Unix niceness, 0–19).
WORKER_NICENESS = 5
#: Garbage collector thresholds while pages render (CPython's default is 700, 10, 10).
RENDER_GC_THRESHOLDS = (50_000, 20, 100)


@contextmanager
def paused_collector() -> Iterator[None]:
    """No cyclic garbage collection inside: loading and planning make hundreds of thousands of
    objects and no reference cycles, and every full collection would walk them all again
    (bench/RESULTS.md has what that costs)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    # What is loaded so far lives until the end: the collector does not re-walk it while
    # thousands of pages render (the forked workers inherit the frozen heap), and it runs less
    # often: rendering makes few reference cycles, while the matrix grows to hundreds of
    # thousands of objects in the process apart and makes every full collection slower.
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
