"""The site's fixed pages: home, the models index, the guides index, the calculator, the 404
page, and the metadata of Markdown pages. Pure."""

from __future__ import annotations

from generator import urls
from generator.content import Page
from generator.contexts import (
    CalculatorPage,
    Crumb,
    GuideLink,
    GuidesIndexPage,
    HomePage,
    ModelListRow,
    ModelsIndexPage,
    PageMeta,
)
from generator.fit.matrix import FitMatrix
from generator.fit.setup import DEFAULT_CONTEXT
from generator.pages.common import GUIDES, HOME, MODELS
from generator.settings import SiteSettings


def make_home(matrix: FitMatrix, settings: SiteSettings, links: tuple[GuideLink, ...]) -> HomePage:
    """The home page: the headline table of featured models on featured GPUs."""
    catalog = matrix.catalog
    quant = catalog.quantizations[settings.home_quant]
    gpus = tuple(catalog.gpus[g] for g in settings.featured_gpus)
    rows = []
    for model_id in settings.featured_models:
        model = catalog.models[model_id]
        # A model not published at the headline format shows at the format it is released in.
        shown = quant.id if quant.id in model.quantizations else model.quantizations[0]
        cells = tuple(matrix.cell(model_id, shown, g.id) for g in gpus)
        rows.append((model, cells))
    sizes = {"models": len(catalog.models), "gpus": len(catalog.gpus),
             "quantizations": len(catalog.quantizations)}  # fmt: skip
    meta = PageMeta(
        settings.title,
        "Will this LLM run on this GPU? Memory, card counts, speed and cost for every open model "
        "on every common GPU, computed by one published engine.",
        urls.HOME,
        (HOME,),
    )
    return HomePage(meta, quant, gpus, tuple(rows), links[:5], sizes)


def make_models_index(matrix: FitMatrix, quant: str) -> ModelsIndexPage:
    """Every model, with its weights at ``quant`` (site.yaml's home_quant) where published."""
    rows = []
    for model in matrix.catalog.models.values():
        weights = None
        if quant in model.quantizations:
            weights = matrix.memory_at(model.id, quant, 1).weights
        singles = sum(
            1 for g in matrix.catalog.gpus
            if any(matrix.fits_at(model.id, q, g, 1) for q in model.quantizations)
        )  # fmt: skip
        rows.append(ModelListRow(model, weights, singles))
    meta = PageMeta(
        "Models", "Every open model in the catalog with its size, context and license, and how "
        "many GPUs hold it on a single card.", urls.MODELS, (HOME, MODELS),
    )  # fmt: skip
    return ModelsIndexPage(meta, tuple(rows), matrix.catalog.quantizations[quant])


def make_guide_links(guides: list[Page]) -> tuple[GuideLink, ...]:
    """Every guide for lists and the feed, newest first."""
    links = [
        GuideLink(
            g.meta.title, guide_path(g), g.meta.summary or g.meta.description,
            g.meta.published.isoformat(), (g.meta.updated or g.meta.published).isoformat(),
        )
        for g in guides
    ]  # fmt: skip
    return tuple(sorted(links, key=lambda g: (g.published, g.path), reverse=True))


def make_guides_index(links: tuple[GuideLink, ...]) -> GuidesIndexPage:
    """The guides index."""
    meta = PageMeta(
        "Guides", "Articles on running LLMs: multi-GPU setups, memory, speed and cost, with "
        "tables computed by the fit engine.", urls.GUIDES, (HOME, GUIDES),
    )  # fmt: skip
    return GuidesIndexPage(meta, links)


def make_calculator_page(matrix: FitMatrix) -> CalculatorPage:
    """The calculator's form, pre-filled from the catalog."""
    meta = PageMeta(
        "VRAM calculator", "Pick a model, quantization, context, GPU and card count: memory, "
        "verdict, speed, cost and the launch command, computed in your browser from the same "
        "numbers as every page.", urls.CALCULATOR, (HOME, Crumb("Calculator", urls.CALCULATOR)),
    )  # fmt: skip
    catalog = matrix.catalog
    return CalculatorPage(
        meta, urls.CALCULATOR_DATA, tuple(catalog.models.values()), tuple(catalog.gpus.values()),
        DEFAULT_CONTEXT,
    )  # fmt: skip


def make_not_found() -> PageMeta:
    """The 404 page's metadata."""
    return PageMeta("Page not found", "This page does not exist on fitatlas.", "/404.html", (HOME,))


def guide_path(page: Page) -> str:
    """A Markdown page's site path."""
    return urls.content_path(page.section, page.slug)


def make_content_meta(page: Page) -> PageMeta:
    """A Markdown page's metadata; guides sit under the guides index in the breadcrumbs."""
    crumbs = (HOME, GUIDES) if page.section == "guides" else (HOME,)
    path = guide_path(page)
    return PageMeta(
        page.meta.title, page.meta.description, path, (*crumbs, Crumb(page.meta.title, path))
    )
