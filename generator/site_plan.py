"""Site plan: every output the build writes, declared before anything renders. Pure.

URL rules live only here. Each ``PageSpec`` names its path, its template (None for JSON and
plain-text outputs) and a function that builds its context when the page renders, so contexts
are made one page at a time instead of all at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from generator.calculator import make_calculator_data
from generator.catalog.schema import GPU
from generator.content import Page
from generator.contexts import (
    CalculatorPage,
    ChartBar,
    CompatRow,
    ContentPage,
    CountAnswer,
    CountRow,
    Crumb,
    GPUListRow,
    GPUPage,
    GPUsIndexPage,
    GuideLink,
    GuidesIndexPage,
    HomeCell,
    HomePage,
    Launch,
    ModelListRow,
    ModelPage,
    ModelsIndexPage,
    PageMeta,
    PairPage,
    PairRow,
    RowCache,
    make_capacity,
    make_commands,
    make_quant_rows,
)
from generator.errors import SiteError
from generator.fit.accuracy import Comparison
from generator.fit.matrix import Cell, FitMatrix
from generator.fit.offload import compute_offload
from generator.fit.setup import DEFAULT_CONTEXT, DEFAULT_RAM_GIB, Setup
from generator.fit.verdict import link_bandwidth_of, scaling_factor_of
from generator.settings import SiteSettings

CALCULATOR_DATA = "/api/calculator.json"
HOME = Crumb("Home", "/")
MODELS = Crumb("Models", "/models/")
GPUS = Crumb("GPUs", "/gpus/")
GUIDES = Crumb("Guides", "/guides/")
#: Card capacities drawn as reference lines on every model chart (GiB).
CHART_LINES = (("24 GiB card", 24), ("48 GiB card", 48), ("80 GiB card", 80), ("141 GiB card", 141),
               ("192 GiB card", 192))  # fmt: skip


#: Dependency keys. Specific: "model:<id>", "gpu:<id>", "content:<path>"; any of a kind:
#: "model:*", "gpu:*"; SHARED: quantizations, KV dtypes, runtimes, measurements (read by
#: nearly every number); CONTENT_META: the set of pages and their front matter. Templates,
#: static files and site.yaml are not keys: a change there rebuilds everything.
SHARED = "shared"
CONTENT_META = "content-meta"


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
            (k[6:] for k in sorted(self.deps) if k.startswith("model:") and k != "model:*"), None
        )

    @property
    def reads_every_model(self) -> bool:
        """Whether this output reads every model (GPU pages, indexes): the build renders those
        in its own process, so the render workers each touch only their own models' data."""
        return "model:*" in self.deps

    @property
    def file(self) -> str:
        """Relative output file: '/gpus/' → 'gpus/index.html'."""
        return (
            self.path.lstrip("/") + "index.html"
            if self.path.endswith("/")
            else self.path.lstrip("/")
        )


def model_path(model: str) -> str:
    return f"/models/{model}/"


def gpu_path(gpu: str) -> str:
    return f"/gpus/{gpu}/"


def pair_path(model: str, gpu: str) -> str:
    return f"/models/{model}/on/{gpu}/"


def content_key(page: Page) -> str:
    """The dependency key of a Markdown page."""
    return f"content:{page.display_path}"


def guide_path(page: Page) -> str:
    return f"/{page.section}/{page.slug}/" if page.section else f"/{page.slug}/"


def plan_site(
    matrix: FitMatrix,
    pages: list[Page],
    settings: SiteSettings,
    render_content: Callable[[Page, PageMeta], ContentPage],
) -> list[PageSpec]:
    """Every output of the site, in a stable order; raises SiteError on a duplicate path."""
    catalog = matrix.catalog
    guides = [p for p in pages if p.section == "guides"]
    links = _guide_links(guides)
    every_model, every_gpu = "model:*", "gpu:*"
    row_cache = RowCache(matrix)
    catalog_wide = frozenset({every_model, every_gpu, SHARED})
    specs = [
        PageSpec("/", "home.html", partial(_home, matrix, settings, links), "index",
                 catalog_wide | {CONTENT_META}),
        PageSpec("/models/", "models_index.html",
                 partial(_models_index, matrix, settings.home_quant), "index", catalog_wide),
        PageSpec("/gpus/", "gpus_index.html", partial(_gpus_index, matrix), "index", catalog_wide),
        PageSpec("/guides/", "guides_index.html", partial(_guides_index, links), "index",
                 frozenset({CONTENT_META})),
        PageSpec("/calculator/", "calculator.html", partial(_calculator, matrix), "index",
                 catalog_wide),
    ]  # fmt: skip
    for model in catalog.models:  # a model's pages next to each other: see reads_every_model
        own = frozenset({f"model:{model}", SHARED})
        make_model = partial(_model, matrix, model)
        specs.append(
            PageSpec(model_path(model), "model.html", make_model, "model", own | {every_gpu})
        )
        for gpu in catalog.gpus:
            make = partial(_pair, matrix, model, gpu, row_cache)
            specs.append(
                PageSpec(pair_path(model, gpu), "pair.html", make, "pair", own | {f"gpu:{gpu}"})
            )
        specs.append(
            PageSpec(f"/api/models/{model}.json", None, partial(_api_model, matrix, model), "api",
                     own | {every_gpu})
        )  # fmt: skip
    for gpu in catalog.gpus:
        deps = frozenset({f"gpu:{gpu}", every_model, SHARED})
        specs.append(PageSpec(gpu_path(gpu), "gpu.html", partial(_gpu, matrix, gpu), "gpu", deps))
    for page in pages:
        meta = _content_meta(page)
        kind = "guide" if page.section == "guides" else "page"
        # Refined after rendering with what its shortcodes read (build.render_content_first).
        deps = catalog_wide | {content_key(page)}
        specs.append(
            PageSpec(meta.path, "content.html", partial(render_content, page, meta), kind, deps)
        )
    specs += [
        PageSpec("/404.html", "404.html", partial(_not_found), "meta"),
        PageSpec("/feed.xml", "feed.xml", partial(lambda: {"guides": links}), "meta",
                 frozenset({CONTENT_META})),
        PageSpec("/robots.txt", "robots.txt", partial(lambda: {}), "meta"),
        PageSpec("/_headers", "headers.txt", partial(lambda: {}), "meta"),
        PageSpec("/api/catalog.json", None,
                 partial(_api_catalog, matrix, settings.base_url), "api",
                 catalog_wide),
        PageSpec(CALCULATOR_DATA, None, partial(make_calculator_data, catalog), "api",
                 catalog_wide),
        PageSpec("/api/", "api_index.html", partial(_api_index, matrix), "index", catalog_wide),
    ]  # fmt: skip
    html_paths = tuple(s.path for s in specs if s.file.endswith(".html") and s.kind != "meta")
    page_set = frozenset({every_model, every_gpu, CONTENT_META})
    specs.append(
        PageSpec("/sitemap.xml", "sitemap.xml", partial(lambda: {"paths": html_paths}), "meta",
                 page_set)
    )  # fmt: skip
    _refuse_duplicates(specs)
    return specs


def _refuse_duplicates(specs: list[PageSpec]) -> None:
    seen: dict[str, PageSpec] = {}
    for spec in specs:
        if spec.file in seen:
            first = seen[spec.file]
            raise SiteError(
                f"two outputs write {spec.file}: a {first.kind} page and a {spec.kind} page"
            )
        seen[spec.file] = spec


def _content_meta(page: Page) -> PageMeta:
    crumbs = (HOME, GUIDES) if page.section == "guides" else (HOME,)
    path = guide_path(page)
    return PageMeta(
        page.meta.title, page.meta.description, path, (*crumbs, Crumb(page.meta.title, path))
    )


def _guide_links(guides: list[Page]) -> tuple[GuideLink, ...]:
    links = [
        GuideLink(
            g.meta.title, guide_path(g), g.meta.summary or g.meta.description,
            g.meta.published.isoformat(), (g.meta.updated or g.meta.published).isoformat(),
        )
        for g in guides
    ]  # fmt: skip
    return tuple(sorted(links, key=lambda g: (g.published, g.path), reverse=True))


def _home(matrix: FitMatrix, settings: SiteSettings, links: tuple[GuideLink, ...]) -> HomePage:
    catalog = matrix.catalog
    quant = catalog.quantizations[settings.home_quant]
    gpus = tuple(catalog.gpus[g] for g in settings.featured_gpus)
    rows = []
    for model_id in settings.featured_models:
        model = catalog.models[model_id]
        # A model not published at the headline format shows at the format it is released in.
        shown = quant.id if quant.id in model.quantizations else model.quantizations[0]
        cells = tuple(HomeCell(matrix.cell(model_id, shown, g.id)) for g in gpus)
        rows.append((model, cells))
    counts = {"models": len(catalog.models), "gpus": len(catalog.gpus),
              "quantizations": len(catalog.quantizations)}  # fmt: skip
    meta = PageMeta(
        settings.title,
        "Will this LLM run on this GPU? Memory, card counts, speed and cost for every open model "
        "on every common GPU, computed by one published engine.",
        "/",
        (HOME,),
    )
    return HomePage(meta, quant, gpus, tuple(rows), links[:5], counts)


def _models_index(matrix: FitMatrix, quant: str) -> ModelsIndexPage:
    """Every model, with its weights at ``quant`` (site.yaml's home_quant) where published."""
    rows = []
    for model in matrix.catalog.models.values():
        q4 = None
        if quant in model.quantizations:
            q4 = matrix.memory_at(model.id, quant, 1).weights
        singles = sum(
            1 for g in matrix.catalog.gpus
            if any(matrix.fits_at(model.id, q, g, 1) for q in model.quantizations)
        )  # fmt: skip
        rows.append(ModelListRow(model, q4, singles))
    meta = PageMeta(
        "Models", "Every open model in the catalog with its size, context and license, and how "
        "many GPUs hold it on a single card.", "/models/", (HOME, MODELS),
    )  # fmt: skip
    return ModelsIndexPage(meta, tuple(rows), matrix.catalog.quantizations[quant])


def _model(matrix: FitMatrix, model_id: str) -> ModelPage:
    catalog = matrix.catalog
    model = catalog.models[model_id]
    first = model.quantizations[0]
    context = matrix.cell(model_id, first, matrix.probe_gpu(first)).setup.context
    common = common_quants(matrix, model_id)
    compat = tuple(
        CompatRow(gpu, tuple(matrix.cell(model_id, q, gpu.id) for q in common))
        for gpu in catalog.gpus.values()
    )
    launches = []
    for quant in common:
        rec = matrix.recommend(model_id, quant)
        if rec is not None:
            launches.append(Launch(rec, make_commands(matrix, rec.cell)))
    all_rows = make_quant_rows(matrix, model, context)
    quant_rows = tuple(r for r in all_rows if r.quant.id in common)
    more_rows = tuple(r for r in all_rows if r.quant.id not in common)
    chart = tuple(ChartBar(r.quant.name, r.totals[0][1]) for r in quant_rows)
    lines = tuple((label, gib << 30) for label, gib in CHART_LINES)
    meta = PageMeta(
        f"{model.name}: GPU requirements and compatibility",
        f"How much memory {model.name} needs at each quantization, which GPUs run it, on how many "
        "cards, how fast and at what cost.",
        model_path(model_id),
        (HOME, MODELS, Crumb(model.name, model_path(model_id))),
    )
    pairs = {g: pair_path(model_id, g) for g in catalog.gpus}
    return ModelPage(
        meta, model, context, quant_rows, compat, tuple(launches), chart, lines, pairs, more_rows
    )


def common_quants(matrix: FitMatrix, model_id: str) -> tuple[str, ...]:
    """The model's formats that pages show first (all of them when none is marked common)."""
    quants = matrix.catalog.models[model_id].quantizations
    table = matrix.catalog.quantizations
    common = tuple(q for q in quants if table[q].common)
    return common or quants


def _pair(matrix: FitMatrix, model_id: str, gpu_id: str, cache: RowCache) -> PairPage:
    catalog = matrix.catalog
    model = catalog.models[model_id]
    gpu = catalog.gpus[gpu_id]
    report = matrix.accuracy
    rows = []
    unavailable = []
    common = common_quants(matrix, model_id)
    for quant in model.quantizations:
        cell = matrix.cell(model_id, quant, gpu_id)
        if not cell.setup.runs_here:
            unavailable.append(cell.setup.quant)
            continue
        measured = report.for_config(model_id, quant, gpu_id) if report else ()
        placement = cache.placement_for(cell)
        # Launch commands and offload plans are shown for the common formats only.
        is_common = quant in common
        offload = None
        if not cell.fits and is_common:
            offload = compute_offload(cell.setup, 1, matrix.sizing_for(cell.setup))
        commands = cache.commands_for(cell) if is_common else {}
        speed = measured_speed(measured, cell.setup, cell.result.cards)
        rows.append(PairRow(cell, commands, placement, measured, offload, speed))
    # The answer speaks of the common formats (of any format when no common one fits); a
    # smaller file among the others that needs fewer cards is mentioned beside it.
    fitting = [r.cell for r in rows if r.cell.fits and r.cell.setup.quant.id in common]
    others = [r.cell for r in rows if r.cell.fits and r.cell.setup.quant.id not in common]
    fewest = _fewest(fitting or others)
    best = None
    if fewest is not None:
        best = min((c for c in fitting or others if c.min_gpus == fewest.min_gpus), key=_best_key)
    single = [c for c in fitting if c.min_gpus == 1]
    best_single = min(single, key=lambda c: c.setup.quant.quality_rank, default=None)
    fewer = _fewest(others) if fitting else None
    if fewer is not None and fewest is not None and (fewer.min_gpus or 0) >= (fewest.min_gpus or 0):
        fewer = None
    error = report.error("decode_tokens_per_s") if report else None
    meta = PageMeta(
        f"Can {gpu.name} run {model.name}?",
        f"{model.name} on {gpu.name}: the verdict for each quantization, cards needed, longest "
        "context, speed, cost and the command to launch it.",
        pair_path(model_id, gpu_id),
        (HOME, MODELS, Crumb(model.name, model_path(model_id)),
         Crumb(f"On {gpu.name}", pair_path(model_id, gpu_id))),
    )  # fmt: skip
    context = matrix.cell(model_id, model.quantizations[0], gpu_id).setup.context
    median = error.median_abs if error else None
    measured = tuple(c for r in rows for c in r.measured)
    layout = next(
        (r for r in rows if r.cell is best and r.placement and r.cell.result.cards > 1), None
    )
    shown = tuple(r for r in rows if r.cell.setup.quant.id in common)
    more = tuple(r for r in rows if r.cell.setup.quant.id not in common)
    by_cards = [_count_answer(matrix, model_id, gpu_id, n, list(shown)) for n in card_counts(gpu)]
    if by_cards[0].result is None and by_cards[0].offload is None:
        by_cards[0] = _one_card_offload(matrix, by_cards)
    offloads = [r for r in rows if r.offload is not None]
    one = by_cards[0].offload
    if one is not None and all(r.cell is not one.cell for r in offloads):
        offloads.insert(0, one)
    return PairPage(
        meta, model, gpu, context, shown, best, fewest, best_single, median, measured,
        DEFAULT_RAM_GIB, layout, tuple(by_cards), tuple(unavailable), more, fewer,
        tuple(offloads),
    )  # fmt: skip


def card_counts(gpu: GPU) -> list[int]:
    """The card counts a page answers for: 1 … 8, then powers of two and the node's limit."""
    most = gpu.node_max_gpus
    counts = list(range(1, min(most, 8) + 1))
    counts += [n for n in (16, 32, 64) if 8 < n < most]
    return counts + ([most] if most > 8 else [])


def measured_speed(
    measured: tuple[Comparison, ...], setup: Setup, cards: int
) -> tuple[Comparison, ...]:
    """Published single-stream decode speeds of this setup (runtime and card count), shortest
    context first."""
    same = [
        c for c in measured
        if c.measurement.metric == "decode_tokens_per_s" and c.measurement.cards == cards
        and c.measurement.batch == 1 and c.measurement.runtime == setup.runtime.id
    ]  # fmt: skip
    return tuple(sorted(same, key=lambda c: (c.measurement.context, c.measurement.id)))


def _count_answer(
    matrix: FitMatrix, model_id: str, gpu_id: str, cards: int, rows: list[PairRow]
) -> CountAnswer:
    fitting = [
        r.cell for r in rows if matrix.fits_at(model_id, r.cell.setup.quant.id, gpu_id, cards)
    ]
    cell = min(
        fitting,
        key=lambda c: (
            matrix.little_headroom_at(model_id, c.setup.quant.id, gpu_id, cards),
            c.setup.quant.quality_rank,
        ),
        default=None,
    )
    if cell is None:
        plans = [r for r in rows if r.offload is not None and r.offload.fits]
        plan = min(plans, key=lambda r: r.cell.setup.quant.quality_rank, default=None)
        return CountAnswer(cards, None, 0, (), plan if cards == 1 else None)
    quant = cell.setup.quant.id
    result = matrix.result_at(model_id, quant, gpu_id, cards)
    row = next(r for r in rows if r.cell.setup.quant.id == quant)
    return CountAnswer(
        cards, result, matrix.max_context_at(model_id, quant, gpu_id, cards),
        measured_speed(row.measured, cell.setup, cards), None,
    )  # fmt: skip


def _one_card_offload(matrix: FitMatrix, answers: list[CountAnswer]) -> CountAnswer:
    """One card that holds nothing: the format the fewest cards do run, with part of it in
    system RAM (llama.cpp's plan), when the RAM holds that part."""
    first = next((a.result for a in answers if a.result is not None), None)
    if first is None:
        return answers[0]
    cell = matrix.cell(first.setup.model.id, first.setup.quant.id, first.setup.gpu.id)
    plan = compute_offload(cell.setup, 1, matrix.sizing_for(cell.setup))
    if plan is None or not plan.fits:
        return answers[0]
    return CountAnswer(1, None, 0, (), PairRow(cell, {}, None, (), plan, ()))


def _fewest(cells: list[Cell]) -> Cell | None:
    """The cell on the fewest cards, the best quality among equals."""
    return min(cells, key=lambda c: (c.min_gpus or 0, c.setup.quant.quality_rank), default=None)


def _best_key(cell: Cell) -> tuple[bool, int, int]:
    """Room to spare on the fullest card first, then quality, then fewer cards."""
    return (cell.result.little_headroom, cell.setup.quant.quality_rank, cell.min_gpus or 0)


def _gpu_row(matrix: FitMatrix, gpu_id: str) -> GPUListRow:
    gpu = matrix.catalog.gpus[gpu_id]
    link = matrix.catalog.interconnect_of(gpu)
    return GPUListRow(
        gpu, link.name if link else None, link_bandwidth_of(gpu, link),
        scaling_factor_of(gpu, link), make_capacity(matrix, gpu, gpu.max_gpus),
    )  # fmt: skip


def _gpus_index(matrix: FitMatrix) -> GPUsIndexPage:
    rows = [_gpu_row(matrix, g) for g in matrix.catalog.gpus]
    meta = PageMeta(
        "GPUs", "Every GPU in the catalog: memory, bandwidth, interconnect, how many cards pool "
        "together and how much of their memory counts.", "/gpus/", (HOME, GPUS),
    )  # fmt: skip
    multi = tuple(r for r in rows if r.gpu.max_gpus > 1)
    single = tuple(r for r in rows if r.gpu.max_gpus == 1)
    return GPUsIndexPage(meta, multi, single)


def _gpu(matrix: FitMatrix, gpu_id: str) -> GPUPage:
    row = _gpu_row(matrix, gpu_id)
    gpu = row.gpu
    counts = []
    for cards in card_counts(gpu):
        fits = []
        for model in matrix.catalog.models:
            best = matrix.best_quant(model, gpu_id, cards)
            if best is not None:
                fits.append(matrix.result_at(model, best.setup.quant.id, gpu_id, cards))
        fits.sort(key=lambda r: (-r.setup.model.params_b, r.setup.model.id))
        counts.append(CountRow(cards, make_capacity(matrix, gpu, cards), tuple(fits)))
    meta = PageMeta(
        f"{gpu.name}: which LLMs it runs",
        f"What fits on 1 to {gpu.node_max_gpus} × {gpu.name}: every model at its best "
        "quantization, with speed.",
        gpu_path(gpu_id),
        (HOME, GPUS, Crumb(gpu.name, gpu_path(gpu_id))),
    )
    return GPUPage(meta, gpu, row.link_name, row.link_bandwidth, row.scaling_factor, tuple(counts))


def _guides_index(links: tuple[GuideLink, ...]) -> GuidesIndexPage:
    meta = PageMeta(
        "Guides", "Articles on running LLMs: multi-GPU setups, memory, speed and cost, with "
        "tables computed by the fit engine.", "/guides/", (HOME, GUIDES),
    )  # fmt: skip
    return GuidesIndexPage(meta, links)


def _calculator(matrix: FitMatrix) -> CalculatorPage:
    meta = PageMeta(
        "VRAM calculator", "Pick a model, quantization, context, GPU and card count: memory, "
        "verdict, speed, cost and the launch command, computed in your browser from the same "
        "numbers as every page.", "/calculator/", (HOME, Crumb("Calculator", "/calculator/")),
    )  # fmt: skip
    catalog = matrix.catalog
    return CalculatorPage(
        meta, CALCULATOR_DATA, tuple(catalog.models.values()), tuple(catalog.gpus.values()),
        DEFAULT_CONTEXT,
    )  # fmt: skip


def _not_found() -> dict[str, Any]:
    meta = PageMeta("Page not found", "This page does not exist on fitatlas.", "/404.html", (HOME,))
    return {"page": meta}


def _api_catalog(matrix: FitMatrix, base_url: str) -> dict[str, Any]:
    from generator.api import make_catalog_json

    return make_catalog_json(matrix, base_url)


def _api_index(matrix: FitMatrix) -> dict[str, Any]:
    from generator.api import make_api_index

    return {"page": make_api_index(matrix, CALCULATOR_DATA)}


def _api_model(matrix: FitMatrix, model_id: str) -> dict[str, Any]:
    from generator.api import make_model_json

    return make_model_json(matrix, model_id)
