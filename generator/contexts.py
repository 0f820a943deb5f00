"""Template contexts: one frozen dataclass per page kind, built from the matrix. No I/O.

Templates receive exactly these fields (and render with StrictUndefined), so a renamed field
fails the build instead of printing nothing. Numbers stay raw; templates format them with the
theme filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.catalog.schema import GPU, Model, Quantization
from generator.fit.accuracy import Comparison
from generator.fit.answers import compute_placement, render_commands
from generator.fit.matrix import Cell, FitMatrix, Recommendation
from generator.fit.offload import Offload
from generator.fit.placement import Placement
from generator.fit.result import FitResult, compute_fit
from generator.fit.setup import Options, resolve_setup
from generator.fit.verdict import Capacity, compute_capacity

#: Contexts the model pages tabulate besides the default, in tokens (capped at the model's).
LONGER_CONTEXTS = (32768, 131072)


@dataclass(frozen=True)
class Crumb:
    """One step of the breadcrumb trail."""

    title: str
    path: str


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

    quant: Quantization
    weights: int  # bytes
    kv_cache: int  # bytes at the default context
    totals: tuple[tuple[int, int], ...]  # (context tokens, total bytes on one card)
    runtimes: tuple[str, ...]  # runtime names that load it


@dataclass(frozen=True)
class CompatRow:
    """One GPU on a model page: the cell for each of the model's quantizations."""

    gpu: GPU
    cells: tuple[Cell, ...]  # in the model's quantization order

    @property
    def one_card(self) -> bool:
        """Whether one card holds the model at some quantization."""
        return any(cell.min_gpus == 1 for cell in self.cells)


@dataclass(frozen=True)
class Launch:
    """A recommended configuration with its commands per runtime."""

    recommendation: Recommendation
    commands: dict[str, str]  # runtime name → command line


@dataclass(frozen=True)
class ChartBar:
    """One bar of the memory chart: a quantization's total at the default context."""

    label: str
    total: int  # bytes


@dataclass(frozen=True)
class ModelPage:
    """/models/<id>/: facts, quantization options, compatibility, recommendation, commands."""

    meta: PageMeta
    model: Model
    context: int  # default context of the tables, tokens
    quant_rows: tuple[QuantRow, ...]
    compat: tuple[CompatRow, ...]  # every GPU in catalog order
    launches: tuple[Launch, ...]  # one per quantization that fits anywhere
    chart: tuple[ChartBar, ...]
    chart_lines: tuple[tuple[str, int], ...]  # (card label, capacity bytes) reference lines
    pair_paths: dict[str, str]  # gpu id → pair page path
    more_quant_rows: tuple[QuantRow, ...]  # the formats not marked common, behind a disclosure


@dataclass(frozen=True)
class CountRow:
    """What n cards of one GPU hold: each model at its best quantization."""

    cards: int
    capacity: Capacity
    fits: tuple[FitResult, ...]  # best quantization per model that fits, largest model first


@dataclass(frozen=True)
class GPUPage:
    """/gpus/<id>/: the card's facts and what runs on 1 … max cards."""

    meta: PageMeta
    gpu: GPU
    link_name: str | None  # interconnect name
    link_bandwidth: float | None  # GB/s
    scaling_factor: float
    counts: tuple[CountRow, ...]


@dataclass(frozen=True)
class GPUListRow:
    """A row of the GPU catalog."""

    gpu: GPU
    link_name: str | None
    link_bandwidth: float | None
    scaling_factor: float
    max_capacity: Capacity  # at the card's maximum count


@dataclass(frozen=True)
class GPUsIndexPage:
    """/gpus/: the seed's multi-GPU table and every other card."""

    meta: PageMeta
    multi: tuple[GPUListRow, ...]
    single: tuple[GPUListRow, ...]


@dataclass(frozen=True)
class PairRow:
    """One quantization on a model × GPU page."""

    cell: Cell
    commands: dict[str, str]  # runtime name → command line, when it fits
    placement: Placement | None  # per-card layout of the cell's runtime at the cell's card count
    measured: tuple[Comparison, ...]  # published measurements of this quantization on this GPU
    offload: Offload | None  # llama.cpp plan for one card plus system RAM, when it does not fit
    measured_speed: tuple[Comparison, ...]  # measured decode speeds of this row's setup


@dataclass(frozen=True)
class CountAnswer:
    """A pair page's answer for one card count: the best quantization that runs there."""

    cards: int
    result: FitResult | None  # the best quantization's result on this many cards; None: none fits
    max_context: int  # the longest context that quantization fits on this many cards, tokens
    measured_speed: tuple[Comparison, ...]  # measured decode speeds of that setup
    offload: PairRow | None  # one card, nothing fits: the best plan that runs from system RAM


@dataclass(frozen=True)
class PairPage:
    """/models/<model>/on/<gpu>/: can this GPU run this model, per quantization."""

    meta: PageMeta
    model: Model
    gpu: GPU
    context: int  # the tables' context, tokens
    rows: tuple[PairRow, ...]  # the common formats that run here
    best: Cell | None  # highest-quality quantization that fits with room to spare, fewest cards
    fewest: Cell | None  # the configuration with the fewest cards (best quality among those)
    best_single: Cell | None  # highest-quality quantization that fits on one card
    speed_error: float | None  # median relative error of decode estimates against measurements
    measured: tuple[Comparison, ...]  # every published measurement of this model on this GPU
    ram_gib: float  # system RAM the offload plans assume
    layout: PairRow | None  # the best row when it spans several cards: what each card holds
    by_cards: tuple[CountAnswer, ...]  # one card first, then each count the GPU supports
    unavailable: tuple[Quantization, ...]  # formats no runtime on the card's platform loads
    more_rows: tuple[PairRow, ...]  # formats not marked common, behind a disclosure
    fewer: Cell | None  # a less common file that fits on fewer cards than the answer's
    offloads: tuple[PairRow, ...]  # llama.cpp plans with part of the model in system RAM


@dataclass(frozen=True)
class ModelListRow:
    """A row of the models index."""

    model: Model
    q4_weights: int | None  # bytes at the page's quantization (site.yaml), when published
    single_cards: int  # how many GPUs hold it on one card at some quantization


@dataclass(frozen=True)
class ModelsIndexPage:
    """/models/: every model."""

    meta: PageMeta
    rows: tuple[ModelListRow, ...]
    quant: Quantization  # whose weights the table shows (site.yaml's home_quant)


@dataclass(frozen=True)
class ContentPage:
    """A Markdown page rendered to HTML: a guide or a standalone page (methodology)."""

    meta: PageMeta
    html: str  # rendered body, shortcodes included
    toc: tuple[tuple[int, str, str], ...]  # (level, anchor id, title)
    published: str  # ISO date
    updated: str | None  # ISO date
    reads: frozenset[str] = frozenset()  # dependency keys its shortcodes read (site_plan keys)


@dataclass(frozen=True)
class GuideLink:
    """A guide in lists and the feed."""

    title: str
    path: str
    summary: str
    published: str
    updated: str


@dataclass(frozen=True)
class GuidesIndexPage:
    """/guides/: every guide, newest first."""

    meta: PageMeta
    guides: tuple[GuideLink, ...]


@dataclass(frozen=True)
class HomeCell:
    """Fewest cards of one GPU for one model at the home table's quantization (at the format
    the model is released in when it is not published in that one)."""

    cell: Cell


@dataclass(frozen=True)
class HomePage:
    """/: what the site answers, a headline table, where to go next."""

    meta: PageMeta
    quant: Quantization  # the headline table's quantization
    gpus: tuple[GPU, ...]
    rows: tuple[tuple[Model, tuple[HomeCell, ...]], ...]
    guides: tuple[GuideLink, ...]
    counts: dict[str, int]  # models, gpus, quantizations, pages


@dataclass(frozen=True)
class CalculatorPage:
    """/calculator/: the form, pre-filled from the catalog; its script reads the data file."""

    meta: PageMeta
    data_path: str  # site path of the engine coefficients (JSON)
    models: tuple[Model, ...]
    gpus: tuple[GPU, ...]
    default_context: int  # tokens


def make_quant_rows(matrix: FitMatrix, model: Model, context: int) -> tuple[QuantRow, ...]:
    """Memory per quantization on one card at the default and longer contexts."""
    catalog = matrix.catalog
    contexts = [context] + [c for c in LONGER_CONTEXTS if context < c <= model.max_context]
    rows = []
    for quant_id in model.quantizations:
        probe = matrix.probe_gpu(quant_id)
        cell = matrix.cell(model.id, quant_id, probe)
        # contexts[0] is the cell's own context, so its breakdown gives weights and KV cache too.
        memories = [
            compute_fit(
                resolve_setup(catalog, model.id, quant_id, probe, Options(context=c)), 1
            ).memory
            for c in contexts
        ]
        totals = tuple((c, m.total) for c, m in zip(contexts, memories, strict=True))
        names = tuple(catalog.runtimes[r].name for r in cell.setup.quant.runtimes)
        first = memories[0]
        rows.append(QuantRow(cell.setup.quant, first.weights, first.kv_cache, totals, names))
    return tuple(rows)


@dataclass
class RowCache:
    """Launch commands and per-card placements of the matrix's cells, each made once per
    quantization and card count (placements also per card size) of a model: at the matrix's
    options nothing else changes them, and a model's pair pages share most of them. Holds one
    model at a time, since pages are rendered model by model."""

    matrix: FitMatrix
    model: str | None = None
    commands: dict[tuple[str, int, int, str, bool], dict[str, str]] = field(default_factory=dict)
    placements: dict[tuple[str, str, int, int, bool], Placement | None] = field(
        default_factory=dict
    )

    def commands_for(self, cell: Cell) -> dict[str, str]:
        self._hold(cell.setup.model.id)
        s = cell.setup
        key = (s.quant.id, cell.result.cards, s.card_capacity, s.gpu.platform, cell.fits)
        if key not in self.commands:
            self.commands[key] = make_commands(self.matrix, cell)
        return self.commands[key]

    def placement_for(self, cell: Cell) -> Placement | None:
        """The cell's runtime layout at its card count."""
        self._hold(cell.setup.model.id)
        setup, cards = cell.setup, cell.result.cards
        key = (setup.quant.id, setup.runtime.id, cards, setup.card_capacity, setup.runs_here)
        if key not in self.placements:
            self.placements[key] = compute_placement(
                setup, cards, self.matrix.sizing_for(cell.setup)
            )
        return self.placements[key]

    def _hold(self, model: str) -> None:
        if model != self.model:
            self.model = model
            self.commands.clear()
            self.placements.clear()


def make_commands(matrix: FitMatrix, cell: Cell) -> dict[str, str]:
    """Commands by runtime name for a cell that fits; empty when it does not."""
    if not cell.fits:
        return {}
    runtimes = matrix.catalog.runtimes
    commands = render_commands(cell.result, matrix.catalog, matrix.sizing_for)
    return {runtimes[k].name: v for k, v in commands.items()}


def make_capacity(matrix: FitMatrix, gpu: GPU, cards: int) -> Capacity:
    """Capacity of ``cards`` × ``gpu``."""
    return compute_capacity(gpu, matrix.catalog.interconnect_of(gpu), cards)
