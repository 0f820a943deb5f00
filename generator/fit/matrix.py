"""Fit engine, the whole matrix: every model × quantization × GPU at the default options. Pure.

Computed once per build; pages, shortcodes and the JSON API read it and never call the engine
with options of their own, so every page agrees with every other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.catalog.schema import Catalog
from generator.fit.accuracy import AccuracyReport, compute_accuracy
from generator.fit.engine import (
    FitResult,
    Options,
    Setup,
    compute_fit,
    compute_max_context,
    compute_min_gpus,
    resolve_setup,
)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Recommendation:
    """The seed's rule of thumb: one card if any fits, else the cheapest multi-GPU setup."""

    quant: str
    cell: Cell
    reason: str


@dataclass(frozen=True)
class FitMatrix:
    """Cells by (model id, quantization id, GPU id), in catalog order."""

    catalog: Catalog
    cells: dict[tuple[str, str, str], Cell] = field(repr=False)
    context: int | None = None
    accuracy: AccuracyReport | None = None
    _extra: dict[tuple[str, str, str, int], FitResult] = field(
        default_factory=dict, repr=False, compare=False
    )

    def cell(self, model: str, quant: str, gpu: str) -> Cell:
        return self.cells[(model, quant, gpu)]

    def result_at(self, model: str, quant: str, gpu: str, cards: int) -> FitResult:
        """The result for ``cards`` cards at the matrix's options (computed once, then kept)."""
        key = (model, quant, gpu, cards)
        if key not in self._extra:
            cell = self.cells[(model, quant, gpu)]
            self._extra[key] = (
                cell.result if cell.result.cards == cards else compute_fit(cell.setup, cards)
            )
        return self._extra[key]

    def fits_at(self, model: str, quant: str, gpu: str, cards: int) -> bool:
        """Whether ``cards`` cards hold the model: fitting is monotonic in the card count."""
        min_gpus = self.cells[(model, quant, gpu)].min_gpus
        return min_gpus is not None and min_gpus <= cards <= self.catalog.gpus[gpu].max_gpus

    def iter_model_cells(self, model: str, quant: str) -> list[Cell]:
        """The cells of one model and quantization over every GPU, in catalog order."""
        return [self.cells[(model, quant, g)] for g in self.catalog.gpus]

    def best_quant(self, model: str, gpu: str, cards: int) -> Cell | None:
        """The highest-quality quantization of ``model`` that fits on ``cards`` of ``gpu``."""
        quants = self.catalog.models[model].quantizations
        fitting = [self.cell(model, q, gpu) for q in quants]
        fitting = [c for c in fitting if c.min_gpus is not None and c.min_gpus <= cards]
        return min(fitting, key=_quality_key, default=None)

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
    cells = {}
    for model in catalog.models.values():
        for quant in model.quantizations:
            for gpu in catalog.gpus:
                setup = resolve_setup(catalog, model.id, quant, gpu, opts)
                cells[(model.id, quant, gpu)] = compute_cell(setup)
    return FitMatrix(catalog, cells, opts.context, compute_accuracy(catalog))


def compute_cell(setup: Setup) -> Cell:
    """Minimum cards, the result there (or at the card limit) and the longest context."""
    min_gpus = compute_min_gpus(setup)
    cards = min_gpus or setup.gpu.max_gpus
    return Cell(setup, min_gpus, compute_fit(setup, cards), compute_max_context(setup, cards))


def _quality_key(cell: Cell) -> tuple[int, float]:
    return (cell.setup.quant.quality_rank, -cell.setup.quant.bits_per_weight)
