"""Model pages (/models/<id>/): memory per format, the chart, every GPU's cells, launch commands.
Pure."""

from __future__ import annotations

from generator import urls
from generator.catalog.schema import Model
from generator.contexts import (
    Chart,
    ChartBar,
    ChartLine,
    CompatRow,
    Crumb,
    Launch,
    ModelPage,
    PageMeta,
    QuantRow,
)
from generator.fit.matrix import FitMatrix
from generator.fit.result import compute_fit
from generator.fit.setup import Options, resolve_setup
from generator.pages.common import HOME, MODELS, common_quants, make_commands

#: Contexts the model pages tabulate besides the default, in tokens (capped at the model's).
LONGER_CONTEXTS = (32768, 131072)
#: Card capacities drawn as reference lines on every model chart (GiB).
CHART_LINES = (("24 GiB card", 24), ("48 GiB card", 48), ("80 GiB card", 80), ("141 GiB card", 141),
               ("192 GiB card", 192))  # fmt: skip
#: Chart geometry in SVG user units: the plot's width, the first bar's offset below each
#: reference-line label row, and the height of one bar with its label.
PLOT_WIDTH = 328
LINE_ROW = 14
BAR_ROW = 33


def make_model_page(matrix: FitMatrix, model_id: str) -> ModelPage:
    """The context of one model's page."""
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
    path = urls.model_path(model_id)
    meta = PageMeta(
        f"{model.name}: GPU requirements and compatibility",
        f"How much memory {model.name} needs at each quantization, which GPUs run it, on how many "
        "cards, how fast and at what cost.",
        path,
        (HOME, MODELS, Crumb(model.name, path)),
    )
    chart = make_chart([(r.quant.name, r.totals[0][1]) for r in quant_rows])
    return ModelPage(meta, model, context, quant_rows, compat, tuple(launches), chart, more_rows)


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


def make_chart(bars: list[tuple[str, int]]) -> Chart:
    """A horizontal bar chart of (label, bytes) against the reference card sizes.

    The scale runs to the largest bar, or to the smallest reference card when every bar is below
    it, so at least one reference line is drawn; lines past the scale are left out. Each line
    gets its own label row above the bars, so labels never collide.
    """
    capacities = [(label, gib << 30) for label, gib in CHART_LINES]
    scale = max(max(total for _, total in bars), min(c for _, c in capacities))
    shown = [(label, c) for label, c in capacities if c <= scale]
    top = 8 + len(shown) * LINE_ROW
    lines = tuple(
        ChartLine(label, f"{c / scale * PLOT_WIDTH:.1f}", 11 + i * LINE_ROW)
        for i, (label, c) in enumerate(shown)
    )
    rows = tuple(
        ChartBar(label, total, top + i * BAR_ROW, f"{total / scale * PLOT_WIDTH:.1f}")
        for i, (label, total) in enumerate(bars)
    )
    return Chart(top + len(bars) * BAR_ROW, lines, rows)
