"""GPU pages (/gpus/<id>/) and the GPU catalog (/gpus/): each card's facts, its interconnect and
what runs on 1 … n cards. Pure."""

from __future__ import annotations

from generator import urls
from generator.contexts import CountRow, Crumb, GPUListRow, GPUPage, GPUsIndexPage, PageMeta
from generator.fit.matrix import FitMatrix
from generator.fit.verdict import link_bandwidth_of, scaling_factor_of
from generator.pages.common import GPUS, HOME, card_counts, make_capacity


def make_gpu_row(matrix: FitMatrix, gpu_id: str) -> GPUListRow:
    """One card's row in the GPU catalog."""
    gpu = matrix.catalog.gpus[gpu_id]
    link = matrix.catalog.interconnect_of(gpu)
    return GPUListRow(
        gpu, link.name if link else None, link_bandwidth_of(gpu, link),
        scaling_factor_of(gpu, link), make_capacity(matrix, gpu, gpu.max_gpus),
    )  # fmt: skip


def make_gpus_index(matrix: FitMatrix) -> GPUsIndexPage:
    """The GPU catalog: cards that pool over an interconnect first, then the rest."""
    rows = [make_gpu_row(matrix, g) for g in matrix.catalog.gpus]
    meta = PageMeta(
        "GPUs", "Every GPU in the catalog: memory, bandwidth, interconnect, how many cards pool "
        "together and how much of their memory counts.", urls.GPUS, (HOME, GPUS),
    )  # fmt: skip
    multi = tuple(r for r in rows if r.gpu.max_gpus > 1)
    single = tuple(r for r in rows if r.gpu.max_gpus == 1)
    return GPUsIndexPage(meta, multi, single)


def make_gpu_page(matrix: FitMatrix, gpu_id: str) -> GPUPage:
    """The context of one GPU's page: every model that fits on each card count."""
    row = make_gpu_row(matrix, gpu_id)
    gpu = row.gpu
    counts = []
    for cards in card_counts(gpu):
        fits = []
        for model in matrix.catalog.models:
            best = matrix.best_quant(model, gpu_id, cards)
            if best is not None:
                fits.append(matrix.result_at(model, best.setup.quant.id, gpu_id, cards))
        fits.sort(key=lambda r: (-r.setup.model.params_b, r.setup.model.id))
        counts.append(CountRow(cards, make_capacity(matrix, gpu, cards), tuple(fits)))
    path = urls.gpu_path(gpu_id)
    meta = PageMeta(
        f"{gpu.name}: which LLMs it runs",
        f"What fits on 1 to {gpu.node_max_gpus} × {gpu.name}: every model at its best "
        "quantization, with speed.",
        path,
        (HOME, GPUS, Crumb(gpu.name, path)),
    )
    return GPUPage(meta, gpu, row.link_name, row.link_bandwidth, row.scaling_factor, tuple(counts))
