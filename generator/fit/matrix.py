"""Fit engine, the whole matrix: every model × quantization × GPU at one set of options. Pure.

The site builds one matrix at the default options, and its pages, shortcodes and JSON API read
their cells from it, so a figure agrees from page to page. Answers that are not cells call the
engine with options of their own: a model page's memory at other context lengths, the shortcode
table for a named runtime, the accuracy report (each measurement at its own settings) and the
command line (at the reader's options; its matrix comes from ``plan_matrix`` with them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from generator.catalog.schema import Catalog, Interconnect, Quantization
from generator.fit.accuracy import AccuracyReport, compute_accuracy
from generator.fit.answers import compute_max_context, compute_min_gpus
from generator.fit.memory import MemoryBreakdown
from generator.fit.result import FitResult, compute_fit
from generator.fit.setup import Options, Setup, resolve_row, runtimes_on
from generator.fit.sizing import Sizing, compute_sizing
from generator.fit.verdict import TIGHT_SHARE, Capacity, compute_capacities


@dataclass(frozen=True, slots=True)
class Cell:
    """One model × quantization × GPU at the matrix's options.

    ``result`` is at the smallest card count that fits, or at the card's maximum when none does.
    """

    setup: Setup
    min_gpus: int | None
    result: FitResult
    max_context: int

    @property
    def fits(self) -> bool:
        return self.min_gpus is not None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The seed's rule of thumb: one card if any fits, else the cheapest multi-GPU setup."""

    quant: str
    cell: Cell
    reason: str


@dataclass(eq=False)
class FitMatrix:
    """Cells by (model id, quantization id, GPU id), each model's block computed when first
    read (``compute_matrix`` computes them all up front).

    A plain class that fills caches. Lazy so that a build can hand models to processes that
    each compute only their own, and so that an incremental rebuild computes only the models it
    renders. ``sizings`` (by model, quantization and runtime id) and ``capacities`` (by GPU id)
    are what the cells are computed from; ``result_at`` reuses them for other card counts.
    """

    catalog: Catalog
    options: Options = field(default_factory=Options)
    accuracy: AccuracyReport | None = None
    sizings: dict[tuple[str, str, str], Sizing] = field(default_factory=dict, repr=False)
    capacities: dict[str, tuple[Capacity, ...]] = field(default_factory=dict, repr=False)
    links: dict[str, Interconnect | None] = field(default_factory=dict, repr=False)
    #: One block of (quantization id, GPU id) → cell per model, oldest first.
    _blocks: dict[str, dict[tuple[str, str], Cell]] = field(default_factory=dict, repr=False)
    _block_limit: int | None = field(default=None, repr=False)  # blocks kept; None: all
    _extra: dict[tuple[str, str, str, int], FitResult] = field(default_factory=dict, repr=False)
    _ranked: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _probes: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def context(self) -> int | None:
        """The context the matrix assumes (None: each model's default)."""
        return self.options.context

    def cell(self, model: str, quant: str, gpu: str) -> Cell:
        block = self._blocks.get(model)
        if block is None:
            block = self._compute_block(model)
        return block[(quant, gpu)]

    def all_cells(self) -> dict[tuple[str, str, str], Cell]:
        """Every cell, in catalog order (computing what is not yet)."""
        return {
            (model, quant, gpu): self.cell(model, quant, gpu)
            for model, entry in self.catalog.models.items()
            for quant in entry.quantizations
            for gpu in self.catalog.gpus
        }

    def keep_only(self, models: int) -> None:
        """From now on hold the cells of at most ``models`` models, dropping the oldest: for a
        process that renders one model's pages after another."""
        self._block_limit = models
        self._trim(models)

    def cell_block(self, model: str) -> dict[tuple[str, str], Cell]:
        """One model's cells by (quantization id, GPU id)."""
        block = self._blocks.get(model)
        return self._compute_block(model) if block is None else block

    def _compute_block(self, model: str) -> dict[tuple[str, str], Cell]:
        if self._block_limit is not None:
            self._trim(self._block_limit - 1)
        block = {}
        for quant in self.catalog.models[model].quantizations:
            if not self.catalog.gpus:
                continue
            for setup in resolve_row(self.catalog, model, quant, self.options):
                # Only the card and its runtime differ along the row: one sizing per runtime.
                sizing = self.sizing_for(setup)
                gpu = setup.gpu.id
                block[(quant, gpu)] = compute_cell(setup, sizing, self._capacities(gpu))
        self._blocks[model] = block
        return block

    def sizing_for(self, setup: Setup) -> Sizing:
        """The sizing of a setup at the matrix's options (kept per model, format and runtime)."""
        key = (setup.model.id, setup.quant.id, setup.runtime.id)
        sizing = self.sizings.get(key)
        if sizing is None:
            sizing = self.sizings[key] = compute_sizing(setup)
        return sizing

    def _trim(self, models: int) -> None:
        blocks = self._blocks
        while len(blocks) > max(models, 0):
            del blocks[next(iter(blocks))]

    def _links(self) -> dict[str, Interconnect | None]:
        """Each GPU's interconnect by GPU id, looked up once per matrix."""
        if not self.links:
            self.links.update(
                {g.id: self.catalog.interconnect_of(g) for g in self.catalog.gpus.values()}
            )
        return self.links

    def _capacities(self, gpu: str) -> tuple[Capacity, ...]:
        capacities = self.capacities.get(gpu)
        if capacities is None:
            entry = self.catalog.gpus[gpu]
            capacities = compute_capacities(entry, self._links()[gpu])
            self.capacities[gpu] = capacities
        return capacities

    def result_at(self, model: str, quant: str, gpu: str, cards: int) -> FitResult:
        """The result for ``cards`` cards at the matrix's options (computed once, then kept)."""
        key = (model, quant, gpu, cards)
        result = self._extra.get(key)
        if result is None:
            cell = self.cell(model, quant, gpu)
            result = cell.result if cell.result.cards == cards else self._compute_fit(cell, cards)
            self._extra[key] = result
        return result

    def memory_at(self, model: str, quant: str, cards: int) -> MemoryBreakdown:
        """The pooled memory of a model and quantization on ``cards`` cards on the probe GPU
        (``probe_gpu``), so under the format's first runtime where a card runs it."""
        setup = self.cell(model, quant, self.probe_gpu(quant)).setup
        return self.sizing_for(setup).memory(cards)

    def _compute_fit(self, cell: Cell, cards: int) -> FitResult:
        setup = cell.setup
        capacities = self._capacities(setup.gpu.id)
        capacity = capacities[cards - 1] if 1 <= cards <= len(capacities) else None
        return compute_fit(setup, cards, self.sizing_for(setup), capacity)

    def fits_at(self, model: str, quant: str, gpu: str, cards: int) -> bool:
        """Whether every one of ``cards`` cards holds its share (not monotonic in the count: a
        runtime without pipeline stages cannot use a count that does not divide the heads)."""
        cell = self.cell(model, quant, gpu)
        setup = cell.setup
        if not setup.runs_here or not 1 <= cards <= setup.gpu.node_max_gpus:
            return False
        if cell.min_gpus is None or cards < cell.min_gpus:
            return False
        need = self.sizing_for(setup).need(cards)
        return need is not None and need <= setup.card_limit

    def probe_gpu(self, quant: str) -> str:
        """A GPU to ask card-independent questions about ``quant`` (weights, KV cache, one
        card's overhead): the first whose platform runs the format's first runtime, else the
        first that runs any of its runtimes, else the first GPU."""
        found = self._probes.get(quant)
        if found is None:
            q = self.catalog.quantizations[quant]
            gpus = list(self.catalog.gpus.values())
            runs = [g for g in gpus if runtimes_on(self.catalog, q, g)]
            first = [g for g in runs if runtimes_on(self.catalog, q, g)[0].id == q.runtimes[0]]
            found = self._probes[quant] = (first or runs or gpus)[0].id
        return found

    def max_context_at(self, model: str, quant: str, gpu: str, cards: int) -> int:
        """The longest context that fits ``cards`` cards at the matrix's options; 0 if none."""
        cell = self.cell(model, quant, gpu)
        if cards == cell.result.cards:
            return cell.max_context
        return compute_max_context(cell.setup, cards, self.sizing_for(cell.setup))

    def model_cells(self, model: str, quant: str) -> list[Cell]:
        """The cells of one model and quantization over every GPU, in catalog order."""
        return [self.cell(model, quant, g) for g in self.catalog.gpus]

    def best_quant(self, model: str, gpu: str, cards: int) -> Cell | None:
        """The best quantization of ``model`` that fits on ``cards`` of ``gpu``: common formats
        before the rest, then quality; one that leaves the fullest card room to spare wins over
        a better one that does not."""
        fitting = [q for q in self._quants_by_quality(model) if self.fits_at(model, q, gpu, cards)]
        roomy = (q for q in fitting if not self.little_headroom_at(model, q, gpu, cards))
        best = next(roomy, fitting[0] if fitting else None)
        return None if best is None else self.cell(model, best, gpu)

    def little_headroom_at(self, model: str, quant: str, gpu: str, cards: int) -> bool:
        """Whether ``cards`` cards leave the fullest one under the tight share of a card (or
        cannot hold the layout at all)."""
        setup = self.cell(model, quant, gpu).setup
        need = self.sizing_for(setup).need(cards)
        return need is None or setup.card_limit - need < TIGHT_SHARE * setup.card_capacity

    def _quants_by_quality(self, model: str) -> tuple[str, ...]:
        """The model's quantization ids, common formats first, then best first; ties keep
        catalog order (a stable sort)."""
        ranked = self._ranked.get(model)
        if ranked is None:
            table = self.catalog.quantizations
            quants = self.catalog.models[model].quantizations
            ranked = tuple(
                sorted(quants, key=lambda q: (not table[q].common, *_quality_key(table[q])))
            )
            self._ranked[model] = ranked
        return ranked

    def recommend(self, model: str, quant: str) -> Recommendation | None:
        """One card when any card holds the model (cheapest priced, else smallest); else the
        cheapest multi-GPU configuration (else the one with the least memory)."""
        fitting = [c for c in self.model_cells(model, quant) if c.fits]
        single = [c for c in fitting if c.min_gpus == 1]
        pool, reason = (single, "single card") if single else (fitting, "multi-GPU")
        if not pool:
            return None
        priced = [c for c in pool if c.result.cost_per_hour_usd is not None]
        if priced:
            best = min(priced, key=lambda c: (c.result.cost_per_hour_usd, c.result.capacity.raw))
            return Recommendation(quant, best, f"cheapest {reason} configuration with a price")
        best = min(pool, key=lambda c: (c.result.capacity.raw, c.result.cards))
        return Recommendation(quant, best, f"smallest {reason} configuration that fits")


def plan_matrix(catalog: Catalog, options: Options | None = None) -> FitMatrix:
    """The matrix at ``options`` (the site's defaults when None), computing each model's cells
    when they are first read."""
    return FitMatrix(catalog, options or Options(), compute_accuracy(catalog))


def compute_matrix(catalog: Catalog, options: Options | None = None) -> FitMatrix:
    """Every model × quantization × GPU at ``options``, computed now."""
    matrix = plan_matrix(catalog, options)
    for model in catalog.models:
        matrix.cell_block(model)
    return matrix


def compute_cell(
    setup: Setup, sizing: Sizing | None = None, capacities: Sequence[Capacity] | None = None
) -> Cell:
    """Minimum cards, the result there (or at the physical card limit) and the longest context.

    ``sizing`` (``compute_sizing`` of the setup) and ``capacities`` (``compute_capacities`` of
    its GPU), when given, save working them out again: the matrix does so once per row or column.
    """
    sizing = compute_sizing(setup) if sizing is None else sizing
    if capacities is None:
        capacities = compute_capacities(setup.gpu, setup.link)
    min_gpus = compute_min_gpus(setup, sizing)
    cards = min_gpus or setup.gpu.node_max_gpus
    result = compute_fit(setup, cards, sizing, capacities[cards - 1])
    return Cell(setup, min_gpus, result, compute_max_context(setup, cards, sizing))


def _quality_key(quant: Quantization) -> tuple[int, float]:
    return (quant.quality_rank, -quant.bits_per_weight)
