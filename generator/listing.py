"""What fits: the command line's listings when ``fit`` is asked without a model or a format.

``fitatlas fit --gpu rtx-3090 --count 2`` lists every model that runs on two cards with its best
quantization; ``fitatlas fit --model llama-3.3-70b --gpu rtx-3090`` lists every quantization of
the model. Both read the fit matrix at the given options, as the site's pages do. No I/O.
"""

from __future__ import annotations

from typing import Any

from generator.catalog.schema import Catalog, suggest
from generator.fit.matrix import FitMatrix, plan_matrix
from generator.fit.memory import GIB
from generator.fit.result import FitResult
from generator.fit.setup import FitQueryError, Options


def list_models(catalog: Catalog, gpu: str, cards: int, options: Options) -> dict[str, Any]:
    """Every model that runs on ``cards`` × ``gpu``, each at its best quantization there."""
    matrix = _matrix(catalog, gpu, cards, options)
    rows = []
    for model in catalog.models:
        cell = matrix.best_quant(model, gpu, cards)
        if cell is not None:
            rows.append(_row(matrix.result_at(model, cell.setup.quant.id, gpu, cards), matrix))
    return {"gpu": gpu, "count": cards, "context": options.context, "models": rows}


def list_quants(
    catalog: Catalog, model: str, gpu: str, cards: int | None, options: Options
) -> dict[str, Any]:
    """Every quantization of ``model`` on ``gpu``: at ``cards`` cards, or at the fewest that
    fit (the most one node holds when none does)."""
    matrix = _matrix(catalog, gpu, cards or 1, options)
    rows = []
    for quant in catalog.models[model].quantizations:
        cell = matrix.cell(model, quant, gpu)
        result = cell.result if cards is None else matrix.result_at(model, quant, gpu, cards)
        rows.append(_row(result, matrix) | {"min_gpus": cell.min_gpus})
    return {"model": model, "gpu": gpu, "count": cards, "quantizations": rows}


def render_listing(listing: dict[str, Any]) -> str:
    """The listing as aligned text lines."""
    rows = listing.get("models", listing.get("quantizations", []))
    if "models" in listing:
        head = f"models that run on {listing['count']}× {listing['gpu']}, best quantization each:"
    else:
        head = f"{listing['model']} on {listing['gpu']}, every quantization:"
    lines = [head]
    for r in rows:
        speed = f"{r['decode_tokens_per_s']:,.1f} tok/s" if r["fits"] else "—"
        need = "—" if r["fullest_card_bytes"] is None else f"{r['fullest_card_bytes'] / GIB:,.1f}"
        lines.append(
            f"  {r['model'] if 'models' in listing else r['quant']:<28} "
            f"{r['quant'] if 'models' in listing else str(r['count']) + '×':<12} "
            f"{r['verdict']:<15} {need:>7} GiB/card  {speed:>14}  {r['runtime']}"
        )
    if not rows:
        lines.append("  none")
    return "\n".join(lines)


def _matrix(catalog: Catalog, gpu: str, cards: int, options: Options) -> FitMatrix:
    found = catalog.gpus.get(gpu)
    if found is None:
        raise FitQueryError(f"unknown GPU {gpu!r}{suggest(gpu, catalog.gpus)}")
    if not 1 <= cards <= found.node_max_gpus:
        raise FitQueryError(
            f"--count must be 1 … {found.node_max_gpus} for {found.name}, not {cards}"
        )
    return plan_matrix(catalog, options)


def _row(r: FitResult, matrix: FitMatrix) -> dict[str, Any]:
    s = r.setup
    max_context = matrix.max_context_at(s.model.id, s.quant.id, s.gpu.id, r.cards)
    return {
        "model": s.model.id, "quant": s.quant.id, "runtime": s.runtime.id, "count": r.cards,
        "fits": r.fits, "verdict": r.verdict.value, "fullest_card_bytes": r.need,
        "card_limit_bytes": s.card_limit, "planning_fits": r.planning_fits,
        "decode_tokens_per_s": r.decode_tokens_per_s, "max_context": max_context,
        "cost_per_hour_usd": r.cost_per_hour_usd,
    }  # fmt: skip
