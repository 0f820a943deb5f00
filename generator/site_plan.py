"""Site plan: every output the build writes, declared before anything renders. Pure.

Each ``PageSpec`` names its path (from ``generator.urls``), its template (None for JSON and
plain-text outputs), a function that builds its context when the page renders (from
``generator.pages``) and the inputs it reads, so contexts are made one page at a time and
``serve`` rebuilds only what an edit touches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from generator import api, urls
from generator.calculator import make_calculator_data
from generator.content import Page
from generator.contexts import ContentPage, GuideLink, PageMeta
from generator.errors import SiteError
from generator.fit.matrix import FitMatrix
from generator.pages.gpu import make_gpu_page, make_gpus_index
from generator.pages.indexes import (
    make_calculator_page,
    make_content_meta,
    make_guide_links,
    make_guides_index,
    make_home,
    make_models_index,
    make_not_found,
)
from generator.pages.model import make_model_page
from generator.pages.pair import RowCache, make_pair_page
from generator.settings import SiteSettings

#: Dependency keys. Specific: "model:<id>", "gpu:<id>", "content:<path>"; any of a kind:
#: "model:*", "gpu:*"; SHARED: quantizations, KV dtypes, runtimes, measurements (read by
#: nearly every number); CONTENT_META: the set of pages and their front matter. Templates,
#: static files and site.yaml are not keys: a change there rebuilds everything.
SHARED = "shared"
CONTENT_META = "content-meta"
EVERY_MODEL = "model:*"
EVERY_GPU = "gpu:*"
CATALOG_WIDE = frozenset({EVERY_MODEL, EVERY_GPU, SHARED})
T = TypeVar("T")


@dataclass(frozen=True)
class PageSpec:
    """One output file: site path, template (None: context is written as-is) and context maker."""

    path: str
    template: str | None
    make_context: Callable[[], Any]
    kind: str  # 'model', 'gpu', 'pair', 'guide', 'page', 'index', 'api', 'meta'
    deps: frozenset[str] = frozenset()  # inputs besides templates and settings, see SHARED

    def depends_on(self, changed: set[str]) -> bool:
        """Whether any changed input key is one this output reads."""
        if self.deps & changed:
            return True
        kinds = {key.split(":", 1)[0] + ":*" for key in changed if ":" in key}
        return bool(self.deps & kinds)

    @property
    def model(self) -> str | None:
        """The model this output is about (its model page, pair pages and JSON), if any."""
        return next(
            (k[6:] for k in sorted(self.deps) if k.startswith("model:") and k != EVERY_MODEL), None
        )

    @property
    def reads_every_model(self) -> bool:
        """Whether this output reads every model (GPU pages, indexes): the build renders those
        in its own process, so the render workers each touch only their own models' data."""
        return EVERY_MODEL in self.deps

    @property
    def file(self) -> str:
        """Relative output file: '/gpus/' → 'gpus/index.html'."""
        return (
            self.path.lstrip("/") + "index.html"
            if self.path.endswith("/")
            else self.path.lstrip("/")
        )


def content_key(page: Page) -> str:
    """The dependency key of a Markdown page."""
    return f"content:{page.display_path}"


def plan_site(
    matrix: FitMatrix,
    pages: list[Page],
    settings: SiteSettings,
    render_content: Callable[[Page, PageMeta], ContentPage],
) -> list[PageSpec]:
    """Every output of the site, in a stable order; raises SiteError on a duplicate path."""
    links = make_guide_links([p for p in pages if p.section == "guides"])
    specs = _indexes(matrix, settings, links)
    cache = RowCache(matrix)  # holds one model at a time: pages render model by model
    pair_gpus = [g for g in matrix.catalog.gpus if settings.has_pair_pages(g)]
    for model in matrix.catalog.models:  # a model's pages side by side: see reads_every_model
        specs += _model_outputs(matrix, model, pair_gpus, cache)
    for gpu in matrix.catalog.gpus:
        deps = frozenset({f"gpu:{gpu}", EVERY_MODEL, SHARED})
        specs.append(PageSpec(urls.gpu_path(gpu), "gpu.html", partial(make_gpu_page, matrix, gpu),
                              "gpu", deps))  # fmt: skip
    for page in pages:
        meta = make_content_meta(page)
        kind = "guide" if page.section == "guides" else "page"
        # Refined after rendering with what its shortcodes read (build.render_content_first).
        deps = CATALOG_WIDE | {content_key(page)}
        specs.append(
            PageSpec(meta.path, "content.html", partial(render_content, page, meta), kind, deps)
        )
    specs += _files(matrix, settings, links)
    html_paths = tuple(s.path for s in specs if s.file.endswith(".html") and s.kind != "meta")
    page_set = frozenset({EVERY_MODEL, EVERY_GPU, CONTENT_META})
    specs.append(PageSpec("/sitemap.xml", "sitemap.xml", partial(constant, {"paths": html_paths}),
                          "meta", page_set))  # fmt: skip
    _refuse_duplicates(specs)
    return specs


def _indexes(
    matrix: FitMatrix, settings: SiteSettings, links: tuple[GuideLink, ...]
) -> list[PageSpec]:
    return [
        PageSpec(urls.HOME, "home.html", partial(make_home, matrix, settings, links), "index",
                 CATALOG_WIDE | {CONTENT_META}),
        PageSpec(urls.MODELS, "models_index.html",
                 partial(make_models_index, matrix, settings.home_quant), "index", CATALOG_WIDE),
        PageSpec(urls.GPUS, "gpus_index.html", partial(make_gpus_index, matrix), "index",
                 CATALOG_WIDE),
        PageSpec(urls.GUIDES, "guides_index.html", partial(make_guides_index, links), "index",
                 frozenset({CONTENT_META})),
        PageSpec(urls.CALCULATOR, "calculator.html", partial(make_calculator_page, matrix),
                 "index", CATALOG_WIDE),
    ]  # fmt: skip


def _model_outputs(
    matrix: FitMatrix, model: str, pair_gpus: list[str], cache: RowCache
) -> list[PageSpec]:
    """A model's page, its page on each GPU that has them, and its JSON file."""
    own = frozenset({f"model:{model}", SHARED})
    specs = [PageSpec(urls.model_path(model), "model.html", partial(make_model_page, matrix, model),
                      "model", own | {EVERY_GPU})]  # fmt: skip
    for gpu in pair_gpus:
        make = partial(make_pair_page, matrix, model, gpu, cache)
        specs.append(
            PageSpec(urls.pair_path(model, gpu), "pair.html", make, "pair", own | {f"gpu:{gpu}"})
        )
    make_json = partial(api.make_model_json, matrix, model)
    specs.append(PageSpec(urls.api_model_path(model), None, make_json, "api", own | {EVERY_GPU}))
    return specs


def _files(
    matrix: FitMatrix, settings: SiteSettings, links: tuple[GuideLink, ...]
) -> list[PageSpec]:
    """The 404 page, feed, robots.txt, hosting headers and the JSON API."""
    catalog_json = partial(api.make_catalog_json, matrix, settings.base_url)
    return [
        PageSpec("/404.html", "404.html", make_not_found, "meta"),
        PageSpec("/feed.xml", "feed.xml", partial(constant, {"guides": links}), "meta",
                 frozenset({CONTENT_META})),
        PageSpec("/robots.txt", "robots.txt", partial(constant, {}), "meta"),
        PageSpec("/_headers", "headers.txt", partial(constant, {}), "meta"),
        PageSpec(urls.API_CATALOG, None, catalog_json, "api", CATALOG_WIDE),
        PageSpec(urls.CALCULATOR_DATA, None, partial(make_calculator_data, matrix.catalog), "api",
                 CATALOG_WIDE),
        PageSpec(urls.API, "api_index.html", partial(_api_index, matrix), "index", CATALOG_WIDE),
    ]  # fmt: skip


def constant(value: T) -> T:
    """``value`` itself: with ``partial``, a context maker for a context known in advance."""
    return value


def _api_index(matrix: FitMatrix) -> dict[str, Any]:
    return {"page": api.make_api_index(matrix, urls.CALCULATOR_DATA)}


def _refuse_duplicates(specs: list[PageSpec]) -> None:
    seen: dict[str, PageSpec] = {}
    for spec in specs:
        if spec.file in seen:
            first = seen[spec.file]
            raise SiteError(
                f"two outputs write {spec.file}: a {first.kind} page and a {spec.kind} page"
            )
        seen[spec.file] = spec
