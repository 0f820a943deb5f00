"""Incremental rebuilds for ``fitatlas serve``: re-render only what an edit can change.

The first build is a full one. Afterwards each rebuild hashes the input files, and:

- templates, static files or site.yaml changed → a full build (every page reads them);
- catalog files changed → the catalog is reloaded, compared entry by entry, and the matrix
  recomputed; the changed entries become dependency keys (``model:<id>``, ``gpu:<id>``, or
  ``shared`` for quantizations, KV dtypes, runtimes and measurements);
- Markdown pages changed → ``content:<path>`` keys, plus ``content-meta`` when front matter or
  the set of pages changed.

Only outputs whose declared dependencies (``PageSpec.deps``) meet a changed key are rendered,
each written only if its bytes differ, and outputs that no longer exist are removed. The search
index is built by full builds only. Disk is touched here: this is a writing stage.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from generator.build import BuildReport, build_site, prepare_site, unwritable_as_site_error
from generator.catalog.loader import load_catalog
from generator.catalog.schema import Catalog
from generator.content import FenceError, split_front_matter
from generator.fit.matrix import FitMatrix, plan_matrix
from generator.render import render_spec
from generator.site_plan import CONTENT_META, SHARED
from generator.writer import OutputLock


@dataclass(frozen=True)
class Inputs:
    """Content hashes of every input file, by kind."""

    catalog: dict[str, str]
    content: dict[str, str]
    theme: dict[str, str]  # templates, static files and site.yaml


def snapshot_inputs(project: Path) -> Inputs:
    """Hash every catalog, content, template and settings file."""

    def digests(folder: Path, pattern: str) -> dict[str, str]:
        return {
            p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob(pattern))
            if p.is_file()
        }

    theme = digests(project / "templates", "**/*") | digests(project, "site.yaml")
    return Inputs(
        digests(project / "catalog", "*.yaml"), digests(project / "content", "**/*.md"), theme
    )


def diff_catalog(old: Catalog, new: Catalog) -> set[str]:
    """Dependency keys of the catalog entries that differ between ``old`` and ``new``."""
    keys: set[str] = set()
    for kind, prefix in (("models", "model"), ("gpus", "gpu")):
        before, after = getattr(old, kind), getattr(new, kind)
        keys |= {f"{prefix}:{i}" for i in before.keys() ^ after.keys()}
        keys |= {f"{prefix}:{i}" for i in before.keys() & after.keys() if before[i] != after[i]}
        if [i for i in before if i in after] != [i for i in after if i in before]:
            keys.add(f"{prefix}:__order__")  # every page listing this kind changes
    changed_links = {i for i in old.interconnects.keys() | new.interconnects.keys()
                     if old.interconnects.get(i) != new.interconnects.get(i)}  # fmt: skip
    keys |= {f"gpu:{g.id}" for g in new.gpus.values() if g.interconnect in changed_links}
    for kind in ("quantizations", "kv_dtypes", "runtimes", "measurements"):
        if getattr(old, kind) != getattr(new, kind):
            keys.add(SHARED)
    return keys


def diff_content(
    project: Path, old: dict[str, str], new: dict[str, str], old_front: dict[str, str]
) -> set[str]:
    """Dependency keys of the Markdown pages that changed; front matter changes add meta.

    ``old`` and ``new`` hash each page; ``old_front`` holds each page's front matter as of
    ``old``.
    """
    changed = {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}
    keys = {f"content:{path}" for path in changed}
    if old.keys() != new.keys():
        keys.add(CONTENT_META)
    for path in changed & old.keys() & new.keys():
        if _front_matter(project / path) != old_front.get(path):
            keys.add(CONTENT_META)
    return keys


def _front_matter(path: Path) -> str:
    """A page's front matter text, '' when it has none (the content loader reports that)."""
    # Undecodable bytes are replaced: the content loader reports such a file, located.
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return split_front_matter(text)[0]
    except FenceError:
        return ""


def read_front_matter(project: Path, content: dict[str, str]) -> dict[str, str]:
    """Each page's front matter text, by the paths of ``content``."""
    return {p: _front_matter(project / p) for p in content}


@dataclass
class IncrementalBuilder:
    """Keeps what the last good build knew, and rebuilds only what changed since."""

    project: Path
    out: Path
    base_url: str | None = None
    inputs: Inputs | None = None
    catalog: Catalog | None = None
    matrix: FitMatrix | None = None
    files: set[str] = field(default_factory=set)
    front_matter: dict[str, str] = field(default_factory=dict)

    def build(self) -> BuildReport:
        """Rebuild after an edit; a full build the first time or when the theme changed."""
        inputs = snapshot_inputs(self.project)
        if self.inputs is None or self.catalog is None or inputs.theme != self.inputs.theme:
            return self._full(inputs)
        started = time.perf_counter()
        changed: set[str] = set()
        catalog, matrix = self.catalog, self.matrix
        if inputs.catalog != self.inputs.catalog:
            catalog = load_catalog(self.project / "catalog")
            changed |= diff_catalog(self.catalog, catalog)
            matrix = plan_matrix(catalog)
        changed |= diff_content(
            self.project, self.inputs.content, inputs.content, self.front_matter
        )
        report = self._write_changed(changed, catalog, matrix) if changed else BuildReport()
        self.inputs, self.catalog, self.matrix = inputs, catalog, matrix
        self.front_matter = read_front_matter(self.project, inputs.content)
        report.stages["incremental"] = time.perf_counter() - started
        return report

    def _full(self, inputs: Inputs) -> BuildReport:
        report = build_site(self.project, out=self.out, base_url=self.base_url)
        self.inputs = inputs
        self.catalog = load_catalog(self.project / "catalog")
        self.matrix = plan_matrix(self.catalog)
        self.files = {
            p.relative_to(self.out).as_posix() for p in self.out.rglob("*") if p.is_file()
        }
        self.front_matter = read_front_matter(self.project, inputs.content)
        return report

    def _write_changed(
        self, changed: set[str], catalog: Catalog | None, matrix: FitMatrix | None
    ) -> BuildReport:
        """Render the outputs that depend on ``changed``; write those whose bytes differ."""
        assert catalog is not None and matrix is not None
        prepared = prepare_site(self.project, self.base_url, matrix=matrix)
        rendered = {
            spec.file: render_spec(spec, prepared.theme)
            for spec in prepared.specs
            if spec.depends_on(changed)
        }
        with unwritable_as_site_error(self.out), OutputLock(self.out):
            return self._write(rendered, {spec.file for spec in prepared.specs})

    def _write(self, rendered: dict[str, bytes], planned: set[str]) -> BuildReport:
        report = BuildReport(pages=sum(1 for f in rendered if f.endswith(".html")))
        for rel, data in rendered.items():
            target = self.out / rel
            if target.exists() and target.read_bytes() == data:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            report.files += 1
            report.bytes_written += len(data)
        stale = {
            f for f in self.files if f.endswith((".html", ".json", ".xml")) and not _is_static(f)
        }
        for rel in sorted(stale - planned):
            (self.out / rel).unlink(missing_ok=True)
            report.files += 1
        self.files = (self.files - (stale - planned)) | planned
        return report


def _is_static(rel: str) -> bool:
    return rel.startswith(("assets/", "pagefind/"))
