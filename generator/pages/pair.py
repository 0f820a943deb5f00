"""Model-on-GPU pages (/models/<model>/on/<gpu>/): the verdict per format, the answer per card
count, offload plans and measurements. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator import urls
from generator.catalog.schema import Quantization
from generator.contexts import CountAnswer, Crumb, PageMeta, PairPage, PairRow
from generator.fit.answers import compute_placement
from generator.fit.matrix import Cell, FitMatrix
from generator.fit.offload import compute_offload
from generator.fit.setup import DEFAULT_RAM_GIB
from generator.pages.common import (
    HOME,
    MODELS,
    card_counts,
    common_quants,
    make_commands,
    measured_speed,
)


@dataclass(eq=False)
class RowCache:
    """Launch commands of the matrix's cells, each made once per quantization, card count, card
    size and platform of a model: at the matrix's options nothing else changes them, and a
    model's pair pages share most of them. Holds one model at a time, since pages are rendered
    model by model."""

    matrix: FitMatrix
    model: str | None = None
    commands: dict[tuple[str, int, int, str, bool], dict[str, str]] = field(default_factory=dict)

    def commands_for(self, cell: Cell) -> dict[str, str]:
        """The cell's launch commands by runtime name."""
        if cell.setup.model.id != self.model:
            self.model = cell.setup.model.id
            self.commands.clear()
        s = cell.setup
        key = (s.quant.id, cell.result.cards, s.card_capacity, s.gpu.platform, cell.fits)
        if key not in self.commands:
            self.commands[key] = make_commands(self.matrix, cell)
        return self.commands[key]


def make_pair_page(matrix: FitMatrix, model_id: str, gpu_id: str, cache: RowCache) -> PairPage:
    """The context of one model-on-GPU page."""
    model = matrix.catalog.models[model_id]
    gpu = matrix.catalog.gpus[gpu_id]
    report = matrix.accuracy
    common = common_quants(matrix, model_id)
    rows, unavailable = _rows(matrix, model_id, gpu_id, common, cache)
    shown = tuple(r for r in rows if r.cell.setup.quant.id in common)
    more = tuple(r for r in rows if r.cell.setup.quant.id not in common)
    best, best_single, fewer = _answers(rows, common)
    error = report.error("decode_tokens_per_s") if report else None
    path, model_page = urls.pair_path(model_id, gpu_id), urls.model_path(model_id)
    meta = PageMeta(
        f"Can {gpu.name} run {model.name}?",
        f"{model.name} on {gpu.name}: the verdict for each quantization, cards needed, longest "
        "context, speed, cost and the command to launch it.",
        path,
        (HOME, MODELS, Crumb(model.name, model_page), Crumb(f"On {gpu.name}", path)),
    )
    context = matrix.cell(model_id, model.quantizations[0], gpu_id).setup.context
    measured = tuple(c for r in rows for c in r.measured)
    layout_row = next((r for r in rows if r.cell is best and r.cell.result.cards > 1), None)
    layout = None
    if layout_row is not None:
        best_setup = layout_row.cell.setup
        layout = compute_placement(best_setup, layout_row.cell.result.cards,
                                   matrix.sizing_for(best_setup))  # fmt: skip
        layout_row = layout_row if layout is not None else None
    by_cards = _by_cards(matrix, model_id, gpu_id, list(shown))
    offloads = [r for r in rows if r.offload is not None]
    one = by_cards[0].offload
    if one is not None and all(r.cell is not one.cell for r in offloads):
        offloads.insert(0, one)
    return PairPage(
        meta, model, gpu, context, shown, best, best_single,
        error.median_abs if error else None, measured, DEFAULT_RAM_GIB, layout, layout_row,
        by_cards, tuple(unavailable), more, fewer, tuple(offloads),
    )  # fmt: skip


def _rows(
    matrix: FitMatrix, model_id: str, gpu_id: str, common: tuple[str, ...], cache: RowCache
) -> tuple[list[PairRow], list[Quantization]]:
    """A row per format a runtime on the card's platform loads, and the formats none does.
    Launch commands and offload plans are made for the common formats only."""
    report = matrix.accuracy
    rows: list[PairRow] = []
    unavailable: list[Quantization] = []
    for quant in matrix.catalog.models[model_id].quantizations:
        cell = matrix.cell(model_id, quant, gpu_id)
        if not cell.setup.runs_here:
            unavailable.append(cell.setup.quant)
            continue
        measured = report.for_config(model_id, quant, gpu_id) if report else ()
        is_common = quant in common
        offload = None
        if not cell.fits and is_common:
            offload = compute_offload(cell.setup, 1, matrix.sizing_for(cell.setup))
        commands = cache.commands_for(cell) if is_common else {}
        speed = measured_speed(measured, cell.setup, cell.result.cards)
        rows.append(PairRow(cell, commands, measured, offload, speed))
    return rows, unavailable


def _answers(
    rows: list[PairRow], common: tuple[str, ...]
) -> tuple[Cell | None, Cell | None, Cell | None]:
    """The best configuration (among those on the fewest cards), the best on one card, and a less
    common file that needs fewer cards than the answer. The answer speaks of the common formats
    (of any format when no common one fits)."""
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
    return best, best_single, fewer


def _by_cards(
    matrix: FitMatrix, model_id: str, gpu_id: str, rows: list[PairRow]
) -> tuple[CountAnswer, ...]:
    gpu = matrix.catalog.gpus[gpu_id]
    answers = [_count_answer(matrix, model_id, gpu_id, n, rows) for n in card_counts(gpu)]
    if answers[0].result is None and answers[0].offload is None:
        answers[0] = _one_card_offload(matrix, answers)
    return tuple(answers)


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
    return CountAnswer(1, None, 0, (), PairRow(cell, {}, (), plan, ()))


def _fewest(cells: list[Cell]) -> Cell | None:
    """The cell on the fewest cards, the best quality among equals."""
    return min(cells, key=lambda c: (c.min_gpus or 0, c.setup.quant.quality_rank), default=None)


def _best_key(cell: Cell) -> tuple[bool, int, int]:
    """Room to spare on the fullest card first, then quality, then fewer cards."""
    return (cell.result.little_headroom, cell.setup.quant.quality_rank, cell.min_gpus or 0)
