"""Template contexts: one frozen dataclass per page kind, built from the matrix. No I/O.

Templates receive exactly these fields (and render with StrictUndefined), so a renamed field
fails the build instead of printing nothing. Numbers stay raw; templates format them with the
theme filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.catalog.schema import GPU, Model, Quantization
from generator.fit.accuracy import Comparison
from generator.fit.matrix import Cell, Recommendation
from generator.fit.offload import Offload
from generator.fit.placement import Placement
from generator.fit.result import FitResult
from generator.fit.verdict import Capacity


@dataclass(frozen=True)
class Crumb:
    """One step of the breadcrumb trail."""

    title: str  # the link text
    path: str  # site path of the step


@dataclass(frozen=True)
class PageMeta:
    """What every page has: title, description, canonical path, breadcrumbs."""

    title: str  # <title> and <h1>
    description: str  # meta description and OpenGraph
    path: str  # site path, '/models/llama-3.1-8b/'
    crumbs: tuple[Crumb, ...]  # from the home page down to this page


@dataclass(frozen=True)
class QuantRow:
    """A quantization of one model, with memory at several contexts on one card."""

    quant: Quantization  # the format
    weights: int  # bytes
    kv_cache: int  # bytes at the default context
    totals: tuple[tuple[int, int], ...]  # (context tokens, total bytes on one card)
    runtimes: tuple[str, ...]  # runtime names that load it


@dataclass(frozen=True)
class CompatRow:
    """One GPU on a model page: the cell for each of the model's quantizations."""

    gpu: GPU  # the row's GPU
    cells: tuple[Cell, ...]  # in the model's quantization order

    @property
    def one_card(self) -> bool:
        """Whether one card holds the model at some quantization."""
        return any(cell.min_gpus == 1 for cell in self.cells)


@dataclass(frozen=True)
class Launch:
    """A recommended configuration with its commands per runtime."""

    recommendation: Recommendation  # the fewest cards and longest context at one format
    commands: dict[str, str]  # runtime name → command line


@dataclass(frozen=True)
class ChartBar:
    """One bar of the memory chart: a quantization's total at the default context."""

    label: str  # the format's name
    total: int  # bytes
    y: int  # top of the bar's label row, SVG units
    width: str  # bar length in SVG units, one decimal


@dataclass(frozen=True)
class ChartLine:
    """A reference line of the memory chart at a common card size."""

    label: str  # '24 GiB card'
    x: str  # position in SVG units, one decimal
    label_y: int  # baseline of its label, SVG units


@dataclass(frozen=True)
class Chart:
    """The memory chart of a model page, laid out in SVG user units (400 wide)."""

    height: int  # of the whole drawing, SVG units
    lines: tuple[ChartLine, ...]  # reference card sizes within the scale, smallest first
    bars: tuple[ChartBar, ...]  # one per common format, in the model's order


@dataclass(frozen=True)
class ModelPage:
    """/models/<id>/: facts, quantization options, compatibility, recommendation, commands."""

    meta: PageMeta  # title, description, path, breadcrumbs
    model: Model  # the catalog entry
    context: int  # default context of the tables, tokens
    quant_rows: tuple[QuantRow, ...]  # memory per common format on one card
    compat: tuple[CompatRow, ...]  # every GPU in catalog order
    launches: tuple[Launch, ...]  # one per quantization that fits anywhere
    chart: Chart  # memory per common format, drawn
    more_quant_rows: tuple[QuantRow, ...]  # the formats not marked common, behind a disclosure


@dataclass(frozen=True)
class CountRow:
    """What n cards of one GPU hold: each model at its best quantization."""

    cards: int  # how many cards
    capacity: Capacity  # raw and effective memory of that many cards
    results: tuple[FitResult, ...]  # best quantization per model that fits, largest model first


@dataclass(frozen=True)
class GPUPage:
    """/gpus/<id>/: the card's facts and what runs on 1 … max cards."""

    meta: PageMeta  # title, description, path, breadcrumbs
    gpu: GPU  # the catalog entry
    link_name: str | None  # interconnect name
    link_bandwidth: float | None  # GB/s
    scaling_factor: float  # the interconnect's share of pooled memory that counts (seed)
    by_cards: tuple[CountRow, ...]  # 1 card first, then each count the card answers for


@dataclass(frozen=True)
class GPUListRow:
    """A row of the GPU catalog."""

    gpu: GPU  # the catalog entry
    link_name: str | None  # interconnect name, None without one
    link_bandwidth: float | None  # interconnect GB/s, None without one
    scaling_factor: float  # the interconnect's share of pooled memory that counts (seed)
    max_capacity: Capacity  # at the card's maximum count


@dataclass(frozen=True)
class GPUsIndexPage:
    """/gpus/: the seed's multi-GPU table and every other card."""

    meta: PageMeta  # title, description, path, breadcrumbs
    multi: tuple[GPUListRow, ...]  # cards that pool over an interconnect
    single: tuple[GPUListRow, ...]  # cards used one at a time (unified memory, no link)


@dataclass(frozen=True)
class PairRow:
    """One quantization on a model × GPU page."""

    cell: Cell  # the format on this GPU at the fewest cards that fit
    commands: dict[str, str]  # runtime name → command line, when it fits
    measured: tuple[Comparison, ...]  # published measurements of this quantization on this GPU
    offload: Offload | None  # llama.cpp plan for one card plus system RAM, when it does not fit
    measured_speed: tuple[Comparison, ...]  # measured decode speeds of this row's setup


@dataclass(frozen=True)
class CountAnswer:
    """A pair page's answer for one card count: the best quantization that runs there."""

    cards: int  # how many cards
    result: FitResult | None  # the best quantization's result on this many cards; None: none fits
    max_context: int  # the longest context that quantization fits on this many cards, tokens
    measured_speed: tuple[Comparison, ...]  # measured decode speeds of that setup
    offload: PairRow | None  # one card, nothing fits: the best plan that runs from system RAM


@dataclass(frozen=True)
class PairPage:
    """/models/<model>/on/<gpu>/: can this GPU run this model, per quantization."""

    meta: PageMeta  # title, description, path, breadcrumbs
    model: Model  # the catalog entry
    gpu: GPU  # the catalog entry
    context: int  # the tables' context, tokens
    rows: tuple[PairRow, ...]  # the common formats that run here
    best: Cell | None  # highest-quality quantization that fits with room to spare, fewest cards
    best_single: Cell | None  # highest-quality quantization that fits on one card
    speed_error: float | None  # median relative error of decode estimates against measurements
    measured: tuple[Comparison, ...]  # every published measurement of this model on this GPU
    ram_gib: float  # system RAM the offload plans assume
    layout: Placement | None  # what each card holds in the best configuration, when it spans
    # several cards
    layout_row: PairRow | None  # the best row when it spans several cards: what each card holds
    by_cards: tuple[CountAnswer, ...]  # one card first, then each count the GPU supports
    unavailable: tuple[Quantization, ...]  # formats no runtime on the card's platform loads
    more_rows: tuple[PairRow, ...]  # formats not marked common, behind a disclosure
    fewer: Cell | None  # a less common file that fits on fewer cards than the answer's
    offloads: tuple[PairRow, ...]  # llama.cpp plans with part of the model in system RAM


@dataclass(frozen=True)
class ModelListRow:
    """A row of the models index."""

    model: Model  # the catalog entry
    q4_weights: int | None  # bytes at the page's quantization (site.yaml), when published
    single_cards: int  # how many GPUs hold it on one card at some quantization


@dataclass(frozen=True)
class ModelsIndexPage:
    """/models/: every model."""

    meta: PageMeta  # title, description, path, breadcrumbs
    rows: tuple[ModelListRow, ...]  # every model in catalog order
    quant: Quantization  # whose weights the table shows (site.yaml's home_quant)


@dataclass(frozen=True)
class ContentPage:
    """A Markdown page rendered to HTML: a guide or a standalone page (methodology)."""

    meta: PageMeta  # title, description, path, breadcrumbs
    html: str  # rendered body, shortcodes included
    toc: tuple[tuple[int, str, str], ...]  # (level, anchor id, title)
    published: str  # ISO date
    updated: str | None  # ISO date
    reads: frozenset[str] = frozenset()  # dependency keys its shortcodes read (site_plan keys)


@dataclass(frozen=True)
class GuideLink:
    """A guide in lists and the feed."""

    title: str  # the guide's title
    path: str  # site path
    summary: str  # one or two sentences for lists
    published: str  # ISO date
    updated: str  # ISO date, the published date when never updated


@dataclass(frozen=True)
class GuidesIndexPage:
    """/guides/: every guide, newest first."""

    meta: PageMeta  # title, description, path, breadcrumbs
    guides: tuple[GuideLink, ...]  # newest first


@dataclass(frozen=True)
class HomePage:
    """/: what the site answers, a headline table, where to go next."""

    meta: PageMeta  # title, description, path, breadcrumbs
    quant: Quantization  # the headline table's quantization
    gpus: tuple[GPU, ...]  # the headline table's columns (site.yaml)
    rows: tuple[tuple[Model, tuple[Cell, ...]], ...]  # a cell per featured GPU
    guides: tuple[GuideLink, ...]  # the newest five
    sizes: dict[str, int]  # how many models, gpus and quantizations the catalog holds


@dataclass(frozen=True)
class CalculatorPage:
    """/calculator/: the form, pre-filled from the catalog; its script reads the data file."""

    meta: PageMeta  # title, description, path, breadcrumbs
    data_path: str  # site path of the engine coefficients (JSON)
    models: tuple[Model, ...]  # the form's model choices
    gpus: tuple[GPU, ...]  # the form's GPU choices
    default_context: int  # tokens
