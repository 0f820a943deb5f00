"""Fit engine, the whole matrix: every model × quantization × GPU at the default options. Pure.

Computed once per build; pages, shortcodes and the JSON API read it and never call the engine
with options of their own, so every page agrees with every other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from generator.catalog.schema import Catalog, Interconnect, Quantization
from generator.fit.accuracy import AccuracyReport, compute_accuracy
from generator.fit.engine import (
    FitResult,
    Options,
    Setup,
    compute_fit,
    compute_sizing,
    resolve_setup,
)
from generator.fit.memory import MemoryBreakdown
from generator.fit.sizing import Sizing, find_max_context, find_min_cards
from generator.fit.verdict import Capacity, compute_capacities


@dataclass(frozen=True, slots=True)
class Cell:
    """One model × quantization × GPU at the default options.

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


@dataclass
class _Blocks:
    """Cells computed so far, one block of (quantization id, GPU id) → cell per model, oldest
    first; at most ``limit`` blocks are kept (None: every one)."""

    by_model: dict[str, dict[tuple[str, str], Cell]] = field(default_factory=dict)
    limit: int | None = None


@dataclass(frozen=True)
class FitMatrix:
    """Cells by (model id, quantization id, GPU id), each model's block computed when first
    read (``compute_matrix`` computes them all up front).

    Lazy so that a build can hand models to processes that each compute only their own, and so
    that an incremental rebuild computes only the models it renders. ``sizings`` (by model and
    quantization id) and ``capacities`` (by GPU id) are what the cells are computed from;
    ``result_at`` reuses them for other card counts.
    """

    catalog: Catalog
    options: Options = field(default_factory=Options)
    accuracy: AccuracyReport | None = None
    sizings: dict[tuple[str, str], Sizing] = field(default_factory=dict, repr=False, compare=False)
    capacities: dict[str, tuple[Capacity, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    links: dict[str, Interconnect | None] = field(default_factory=dict, repr=False, compare=False)
    _blocks: _Blocks = field(default_factory=_Blocks, repr=False, compare=False)
    _extra: dict[tuple[str, str, str, int], FitResult] = field(
        default_factory=dict, repr=False, compare=False
    )
    _ranked: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def context(self) -> int | None:
        """The context the matrix assumes (None: each model's default)."""
        return self.options.context

    def cell(self, model: str, quant: str, gpu: str) -> Cell:
        block = self._blocks.by_model.get(model)
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
        self._blocks.limit = models
        self._trim(models)

    def cell_block(self, model: str) -> dict[tuple[str, str], Cell]:
        """One model's cells by (quantization id, GPU id)."""
        block = self._blocks.by_model.get(model)
        return self._compute_block(model) if block is None else block

    def _compute_block(self, model: str) -> dict[tuple[str, str], Cell]:
        if self._blocks.limit is not None:
            self._trim(self._blocks.limit - 1)
        block = {}
        for quant in self.catalog.models[model].quantizations:
            setups = _resolve_row(self.catalog, model, quant, self.options, self._links())
            if not setups:  # a catalog without GPUs
                continue
            # Only the card differs along the row: the sizing is the same for all of it.
            sizing = self.sizings[(model, quant)] = compute_sizing(setups[0])
            for setup in setups:
                gpu = setup.gpu.id
                block[(quant, gpu)] = compute_cell(setup, sizing, self._capacities(gpu))
        self._blocks.by_model[model] = block
        return block

    def _trim(self, models: int) -> None:
        blocks = self._blocks.by_model
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
        """The memory of a model and quantization on ``cards`` cards of any GPU."""
        self.cell_block(model)
        return self.sizings[(model, quant)].memory(cards)

    def _compute_fit(self, cell: Cell, cards: int) -> FitResult:
        setup = cell.setup
        capacities = self.capacities.get(setup.gpu.id, ())
        capacity = capacities[cards - 1] if 1 <= cards <= len(capacities) else None
        return compute_fit(
            setup, cards, self.sizings.get((setup.model.id, setup.quant.id)), capacity
        )

    def fits_at(self, model: str, quant: str, gpu: str, cards: int) -> bool:
        """Whether ``cards`` cards hold the model: fitting is monotonic in the card count."""
        min_gpus = self.cell(model, quant, gpu).min_gpus
        return min_gpus is not None and min_gpus <= cards <= self.catalog.gpus[gpu].max_gpus

    def iter_model_cells(self, model: str, quant: str) -> list[Cell]:
        """The cells of one model and quantization over every GPU, in catalog order."""
        return [self.cell(model, quant, g) for g in self.catalog.gpus]

    def best_quant(self, model: str, gpu: str, cards: int) -> Cell | None:
        """The highest-quality quantization of ``model`` that fits on ``cards`` of ``gpu``."""
        for quant in self._quants_by_quality(model):
            cell = self.cell(model, quant, gpu)
            if cell.min_gpus is not None and cell.min_gpus <= cards:
                return cell
        return None

    def _quants_by_quality(self, model: str) -> tuple[str, ...]:
        """The model's quantization ids, best first; ties keep catalog order (a stable sort)."""
        ranked = self._ranked.get(model)
        if ranked is None:
            table = self.catalog.quantizations
            quants = self.catalog.models[model].quantizations
            ranked = tuple(sorted(quants, key=lambda q: _quality_key(table[q])))
            self._ranked[model] = ranked
        return ranked

    def cheapest(self, model: str, quant: str) -> Cell | None:
        """The priced configuration with the lowest $/hour that fits, fewest cards on ties."""
        priced = [
            c for c in self.iter_model_cells(model, quant) if c.fits and c.result.cost_per_hour_usd
        ]
        return min(priced, key=lambda c: (c.result.cost_per_hour_usd, c.result.cards), default=None)

    def recommend(self, model: str, quant: str) -> Recommendation | None:
        """One card when any card holds the model (cheapest priced, else smallest); else the
        cheapest multi-GPU configuration (else the one with the least memory)."""
        fitting = [c for c in self.iter_model_cells(model, quant) if c.fits]
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
    """Minimum cards, the result there (or at the card limit) and the longest context.

    ``sizing`` (``compute_sizing`` of the setup) and ``capacities`` (``compute_capacities`` of
    its GPU), when given, save working them out again: the matrix does so once per row or column.
    """
    sizing = compute_sizing(setup) if sizing is None else sizing
    if capacities is None:
        capacities = compute_capacities(setup.gpu, setup.link)
    min_gpus = find_min_cards(sizing, capacities)
    cards = min_gpus or setup.gpu.max_gpus
    capacity = capacities[cards - 1]
    result = compute_fit(setup, cards, sizing, capacity)
    return Cell(setup, min_gpus, result, find_max_context(sizing, cards, capacity.effective))


def _resolve_row(
    catalog: Catalog, model: str, quant: str, opts: Options, links: dict[str, Interconnect | None]
) -> list[Setup]:
    """``resolve_setup`` on each GPU in catalog order, checking the options only once."""
    gpus = list(catalog.gpus.values())
    if not gpus:
        return []
    first = resolve_setup(catalog, model, quant, gpus[0].id, opts)
    return [first.with_gpu(g, links[g.id]) for g in gpus]


def _quality_key(quant: Quantization) -> tuple[int, float]:
    return (quant.quality_rank, -quant.bits_per_weight)
