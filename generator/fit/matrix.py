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


@dataclass(frozen=True)
class FitMatrix:
    """Cells by (model id, quantization id, GPU id), in catalog order.

    ``sizings`` (by model and quantization id) and ``capacities`` (by GPU id) are what the
    cells were computed from; ``result_at`` reuses them for other card counts.
    """

    catalog: Catalog
    cells: dict[tuple[str, str, str], Cell] = field(repr=False)
    context: int | None = None
    accuracy: AccuracyReport | None = None
    sizings: dict[tuple[str, str], Sizing] = field(default_factory=dict, repr=False, compare=False)
    capacities: dict[str, tuple[Capacity, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _extra: dict[tuple[str, str, str, int], FitResult] = field(
        default_factory=dict, repr=False, compare=False
    )
    _ranked: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)

    def cell(self, model: str, quant: str, gpu: str) -> Cell:
        return self.cells[(model, quant, gpu)]

    def result_at(self, model: str, quant: str, gpu: str, cards: int) -> FitResult:
        """The result for ``cards`` cards at the matrix's options (computed once, then kept)."""
        key = (model, quant, gpu, cards)
        result = self._extra.get(key)
        if result is None:
            cell = self.cells[(model, quant, gpu)]
            result = cell.result if cell.result.cards == cards else self._compute_fit(cell, cards)
            self._extra[key] = result
        return result

    def _compute_fit(self, cell: Cell, cards: int) -> FitResult:
        setup = cell.setup
        capacities = self.capacities.get(setup.gpu.id, ())
        capacity = capacities[cards - 1] if 1 <= cards <= len(capacities) else None
        return compute_fit(
            setup, cards, self.sizings.get((setup.model.id, setup.quant.id)), capacity
        )

    def fits_at(self, model: str, quant: str, gpu: str, cards: int) -> bool:
        """Whether ``cards`` cards hold the model: fitting is monotonic in the card count."""
        min_gpus = self.cells[(model, quant, gpu)].min_gpus
        return min_gpus is not None and min_gpus <= cards <= self.catalog.gpus[gpu].max_gpus

    def iter_model_cells(self, model: str, quant: str) -> list[Cell]:
        """The cells of one model and quantization over every GPU, in catalog order."""
        return [self.cells[(model, quant, g)] for g in self.catalog.gpus]

    def best_quant(self, model: str, gpu: str, cards: int) -> Cell | None:
        """The highest-quality quantization of ``model`` that fits on ``cards`` of ``gpu``."""
        for quant in self._quants_by_quality(model):
            cell = self.cells[(model, quant, gpu)]
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


def compute_matrix(catalog: Catalog, options: Options | None = None) -> FitMatrix:
    """Every model × quantization × GPU at ``options`` (the site's defaults when None)."""
    opts = options or Options()
    gpus = catalog.gpus.values()
    links = {g.id: catalog.interconnect_of(g) for g in gpus}
    capacities = {g.id: compute_capacities(g, links[g.id]) for g in gpus}
    cells = {}
    sizings = {}
    for model in catalog.models.values():
        for quant in model.quantizations:
            setups = _resolve_row(catalog, model.id, quant, opts, links)
            if not setups:  # a catalog without GPUs
                continue
            # Only the card differs along the row: the sizing is the same for all of it.
            sizing = sizings[(model.id, quant)] = compute_sizing(setups[0])
            for setup in setups:
                gpu = setup.gpu.id
                cells[(model.id, quant, gpu)] = compute_cell(setup, sizing, capacities[gpu])
    return FitMatrix(catalog, cells, opts.context, compute_accuracy(catalog), sizings, capacities)


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
