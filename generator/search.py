"""Site search: a Pagefind index of the staged pages, written into the site's pagefind/ folder.

Runs once the searched pages are staged (while the render workers finish the rest) and before
the swap, so a failed index fails the build and leaves ``site/`` as it was. Only pages a
visitor looks for are indexed: models, GPUs, guides and standalone pages, and the calculator.
Pagefind reads each page's ``<main data-pagefind-body>`` (base.html) without its tables, which
repeat every model and GPU name on every page and would bury the page a query is about, its
memory chart and its launch commands (see EXCLUDED); each page's section (Models, GPUs,
Guides …) rides along as ``data-pagefind-meta``, not as a filter, because Pagefind 1.5.2 writes
filter values in hash-map order, which differs from run to run. The Pagefind release is pinned
in pyproject.toml; its binary ships inside the ``pagefind_bin`` wheel, so indexing runs offline,
and identical pages give a byte-identical index. The search box's own script is
templates/static/search.js.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from generator.errors import SiteError
from generator.site_plan import PageSpec
from generator.writer import Staging

#: Page kinds (``PageSpec.kind``) the search box finds.
SEARCHED_KINDS = frozenset({"model", "gpu", "guide", "page"})
#: Other pages that are destinations in their own right.
SEARCHED_PATHS = frozenset({"/calculator/"})
#: Left out of the index, as (opening, closing) text: tables (numbers and names repeated on
#: every page), the memory chart's labels and launch commands (flags, not what people search).
EXCLUDED = (("<table", "</table>"), ('<figure class="chart"', "</figure>"),
            ('<dl class="commands"', "</dl>"))  # fmt: skip
#: The same as CSS selectors, for Pagefind.
EXCLUDED_SELECTORS = "table, figure.chart, dl.commands"
#: Where the index lives in the site.
FOLDER = "pagefind"
#: Pagefind's own search interfaces; the site's box is search.js, so they are not published.
UNUSED_PREFIXES = ("pagefind-ui.", "pagefind-component-ui.", "pagefind-modular-ui.",
                   "pagefind-highlight.")  # fmt: skip


def iter_searched_files(specs: Iterable[PageSpec]) -> Iterator[str]:
    """Output files (relative paths) of the pages the index covers, in plan order."""
    for spec in specs:
        if spec.kind in SEARCHED_KINDS or spec.path in SEARCHED_PATHS:
            yield spec.file


def write_search_index(staging: Staging, files: Iterable[str]) -> None:
    """Index the staged HTML ``files`` and stage the index under ``pagefind/``."""
    with tempfile.TemporaryDirectory(prefix="fitatlas-search-") as tmp:
        pages, index = Path(tmp) / "pages", Path(tmp) / "index"
        for rel in files:
            target = pages / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            page = (staging.root / rel).read_text(encoding="utf-8")
            target.write_text(empty_excluded(page), encoding="utf-8")
        _run_pagefind(pages, index)
        for path in sorted(p for p in index.rglob("*") if p.is_file()):
            if not path.name.startswith(UNUSED_PREFIXES):
                staging.write(f"{FOLDER}/{path.relative_to(index).as_posix()}", path.read_bytes())


def empty_excluded(html: str) -> str:
    """``html`` with the contents of every excluded element removed, its opening tag (and id)
    kept.

    Pagefind skips those elements anyway and records element ids as anchors, so the index comes
    out the same; model and GPU pages are mostly tables, so Pagefind parses about a tenth of
    the HTML. None of these elements nests inside one of its own kind on the site.
    """
    for opening, closing in EXCLUDED:
        parts = []
        start = 0
        while (found := html.find(opening, start)) != -1:
            body = html.index(">", found) + 1
            parts.append(html[start:body])
            start = html.index(closing, body)
        parts.append(html[start:])
        html = "".join(parts)
    return html


def _run_pagefind(pages: Path, index: Path) -> None:
    command = [
        sys.executable, "-m", "pagefind", "--site", str(pages), "--output-path", str(index),
        "--exclude-selectors", EXCLUDED_SELECTORS, "--silent",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (index / "pagefind.js").is_file():
        raise SiteError(f"search index: Pagefind failed: {(done.stderr or done.stdout).strip()}")
