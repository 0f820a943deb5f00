"""JSON API payloads: /api/catalog.json and /api/models/<id>.json, built from the matrix. Pure.

Field names follow the ``fitatlas fit --json`` contract, so scripts can use either.
"""

from __future__ import annotations

from typing import Any

from generator.fit.matrix import Cell, FitMatrix


def make_catalog_json(matrix: FitMatrix) -> dict[str, Any]:
    """Ids, names and key facts of every catalog entry."""
    c = matrix.catalog
    return {
        "models": [
            {"id": m.id, "name": m.name, "params_b": m.params_b,
             "active_params_b": m.active_params_b,
             "max_context": m.max_context, "quantizations": list(m.quantizations),
             "hf_repo": m.hf_repo, "license": m.license, "url": f"/models/{m.id}/"}
            for m in c.models.values()
        ],
        "gpus": [
            {"id": g.id, "name": g.name, "vendor": g.vendor, "class": g.gpu_class,
             "vram_gib": g.vram_gib, "usable_vram_fraction": g.usable_vram_fraction,
             "memory_bandwidth_gbps": g.memory_bandwidth_gbps, "max_gpus": g.max_gpus,
             "interconnect": g.interconnect, "price_per_hour_usd": g.price_per_hour_usd,
             "url": f"/gpus/{g.id}/"}
            for g in c.gpus.values()
        ],
        "quantizations": [
            {"id": q.id, "name": q.name, "bits_per_weight": q.bits_per_weight,
             "runtimes": list(q.runtimes)}
            for q in c.quantizations.values()
        ],
        "runtimes": [{"id": r.id, "name": r.name, "split": r.split} for r in c.runtimes.values()],
        "kv_dtypes": [
            {"id": k.id, "name": k.name, "bits_per_element": k.bits_per_element}
            for k in c.kv_dtypes.values()
        ],
    }  # fmt: skip


def cell_json(cell: Cell) -> dict[str, Any]:
    """One model × quantization × GPU at the site's defaults, in contract field names."""
    r = cell.result
    s = cell.setup
    return {
        "gpu": s.gpu.id, "quant": s.quant.id, "count": r.cards, "context": s.context,
        "batch": s.batch, "kv_dtype": s.kv.id, "runtime": s.runtime.id,
        "weights_bytes": r.memory.weights, "kv_cache_bytes": r.memory.kv_cache,
        "overhead_bytes": r.memory.overhead, "total_bytes": r.memory.total,
        "raw_vram_bytes": r.capacity.raw, "effective_vram_bytes": r.capacity.effective,
        "scaling_factor": r.capacity.scaling_factor, "fits": r.fits, "verdict": r.verdict.value,
        "headroom_bytes": r.headroom, "min_gpus": cell.min_gpus, "max_context": cell.max_context,
        "decode_tokens_per_s": r.decode_tokens_per_s, "cost_per_hour_usd": r.cost_per_hour_usd,
    }  # fmt: skip


def make_model_json(matrix: FitMatrix, model_id: str) -> dict[str, Any]:
    """A model's facts and its result on every GPU at every quantization."""
    m = matrix.catalog.models[model_id]
    return {
        "id": m.id,
        "name": m.name,
        "params_b": m.params_b,
        "active_params_b": m.active_params_b,
        "max_context": m.max_context,
        "results": [
            cell_json(matrix.cell(m.id, q, g)) for q in m.quantizations for g in matrix.catalog.gpus
        ],
    }
