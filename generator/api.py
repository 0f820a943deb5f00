"""JSON API payloads: /api/catalog.json and /api/models/<id>.json, built from the matrix, and the
/api/ page listing them. Pure.

Each model's results are the ``fitatlas fit --json`` contract's fields (generator/payload.py), so
scripts can use either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from generator.contexts import Crumb, PageMeta
from generator.fit.matrix import Cell, FitMatrix
from generator.payload import answer_fields


def make_catalog_json(matrix: FitMatrix, base_url: str) -> dict[str, Any]:
    """Ids, names and key facts of every catalog entry, with links under ``base_url``'s path
    (a site published at https://host/atlas/ links /atlas/models/<id>/)."""
    c = matrix.catalog
    prefix = urlsplit(base_url).path.rstrip("/")

    def url(path: str) -> str:
        return prefix + path

    return {
        "models": [
            {"id": m.id, "name": m.name, "params_b": m.params_b,
             "active_params_b": m.active_params_b,
             "max_context": m.max_context, "quantizations": list(m.quantizations),
             "hf_repo": m.hf_repo, "license": m.license, "url": url(f"/models/{m.id}/")}
            for m in c.models.values()
        ],
        "gpus": [
            {"id": g.id, "name": g.name, "vendor": g.vendor, "class": g.gpu_class,
             "vram_gib": g.vram_gib, "usable_vram_fraction": g.usable_vram_fraction,
             "memory_bandwidth_gbps": g.memory_bandwidth_gbps, "max_gpus": g.max_gpus,
             "interconnect": g.interconnect, "price_per_hour_usd": g.price_per_hour_usd,
             "url": url(f"/gpus/{g.id}/")}
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
            _answer(matrix.cell(m.id, q, g)) for q in m.quantizations for g in matrix.catalog.gpus
        ],
    }


@dataclass(frozen=True)
class ApiFile:
    """One JSON file of the API and a line on what it holds."""

    path: str  # site path, '/api/catalog.json'
    holds: str


@dataclass(frozen=True)
class ApiIndexPage:
    """/api/: every JSON file the site publishes."""

    meta: PageMeta
    files: tuple[ApiFile, ...]


def make_api_index(matrix: FitMatrix, calculator_data: str) -> ApiIndexPage:
    """The index of the JSON API: the catalog, the calculator's data and one file per model."""
    files = [
        ApiFile("/api/catalog.json", "Every model, GPU, quantization, runtime and KV cache type: "
                "ids, names, key figures and the link to each model's and GPU's page."),
        ApiFile(calculator_data, "What the calculator computes with: the figures of every model, "
                "GPU, quantization, runtime and KV cache type that its formulas read."),
    ]  # fmt: skip
    files += [
        ApiFile(f"/api/models/{m.id}.json", f"{m.name}: its facts and its result at the site's "
                "defaults on every GPU at every published quantization.")
        for m in matrix.catalog.models.values()
    ]  # fmt: skip
    meta = PageMeta(
        "JSON API", "The site's data as JSON files: the catalog, the calculator's data and every "
        "model's results on every GPU, in the field names of fitatlas fit --json.", "/api/",
        (Crumb("Home", "/"), Crumb("API", "/api/")),
    )  # fmt: skip
    return ApiIndexPage(meta, tuple(files))


def _answer(cell: Cell) -> dict[str, Any]:
    """One model × quantization × GPU at the site's defaults, in the contract's field names."""
    return answer_fields(cell.result, cell.min_gpus, cell.max_context)
