"""The ``fitatlas fit --json`` object (DESIGN.md's contract), built here only. Pure.

``answer_fields`` holds the contract's keys for one answer; each result of the JSON API's
/api/models/<id>.json is exactly that, and ``fit_payload`` builds the command line's whole object
around it: the same keys with the details only the command line prints, then the runtime's
per-card layout and any offload plan.
"""

from __future__ import annotations

from typing import Any

from generator.catalog.schema import Catalog
from generator.fit.answers import (
    compute_max_context,
    compute_max_sequences,
    compute_placement,
    kv_growth_per_token,
    render_commands,
)
from generator.fit.commands import render_offload_command
from generator.fit.offload import Offload, compute_offload
from generator.fit.placement import Placement
from generator.fit.result import FitResult, compute_fit
from generator.fit.setup import Setup

#: The keys of ``fit_payload``'s first part, in the order the command line prints them:
#: ``answer_fields``'s keys with the command line's details among them.
FIT_KEYS = (
    "model", "quant", "gpu", "count", "context", "batch", "kv_dtype", "runtime",
    "weights_bytes", "kv_cache_bytes", "overhead_bytes", "total_bytes", "raw_vram_bytes",
    "effective_vram_bytes", "scaling_factor", "fits", "verdict", "headroom_bytes",
    "fullest_card_bytes", "card_limit_bytes", "planning_fits", "planning_headroom_bytes",
    "within_recommended_cards", "min_gpus", "max_gpus", "node_max_gpus", "max_context",
    "kv_bytes_per_token", "decode_tokens_per_s", "decode_tokens_per_s_at_start",
    "prefill_tokens_per_s", "prompt", "time_to_first_token_s", "aggregate_tokens_per_s",
    "cost_per_hour_usd", "cost_per_million_tokens_usd", "command", "commands",
)  # fmt: skip


def answer_fields(result: FitResult, min_gpus: int | None, max_context: int) -> dict[str, Any]:
    """The contract's keys for one answer, ``model`` aside (the API names it once per file)."""
    s, r = result.setup, result
    return {
        "quant": s.quant.id, "gpu": s.gpu.id, "count": r.cards, "context": s.context,
        "batch": s.batch, "kv_dtype": s.kv.id, "runtime": s.runtime.id,
        "weights_bytes": r.memory.weights, "kv_cache_bytes": r.memory.kv_cache,
        "overhead_bytes": r.memory.overhead, "total_bytes": r.memory.total,
        "raw_vram_bytes": r.capacity.raw, "effective_vram_bytes": r.capacity.effective,
        "scaling_factor": r.capacity.scaling_factor, "fits": r.fits, "verdict": r.verdict.value,
        "headroom_bytes": r.headroom, "min_gpus": min_gpus, "max_context": max_context,
        "decode_tokens_per_s": r.decode_tokens_per_s, "cost_per_hour_usd": r.cost_per_hour_usd,
    }  # fmt: skip


def fit_payload(setup: Setup, cards: int, min_gpus: int | None, catalog: Catalog) -> dict[str, Any]:
    """The whole ``fitatlas fit --json`` object for ``setup`` on ``cards`` cards."""
    result = compute_fit(setup, cards)
    answer = answer_fields(result, min_gpus, compute_max_context(setup, cards))
    details = detail_fields(result, catalog)
    payload = {key: answer[key] if key in answer else details[key] for key in FIT_KEYS}
    payload["max_concurrent_sequences"] = compute_max_sequences(setup, cards)
    payload.update(placement_payload(compute_placement(setup, cards)))
    payload["offload"] = offload_payload(compute_offload(setup, cards), setup, cards)
    if payload["offload"] and payload["offload"]["fits_in_ram"]:
        payload["runtime_verdict"] = "offload"
    return payload


def detail_fields(result: FitResult, catalog: Catalog) -> dict[str, Any]:
    """The keys of FIT_KEYS that ``answer_fields`` leaves out."""
    s = result.setup
    commands = render_commands(result, catalog) if result.fits else {}
    return {
        "model": s.model.id,
        "fullest_card_bytes": result.need,
        "card_limit_bytes": s.card_limit,
        "planning_fits": result.planning_fits,
        "planning_headroom_bytes": result.planning_headroom,
        "within_recommended_cards": result.within_recommended_cards,
        "max_gpus": s.gpu.max_gpus,
        "node_max_gpus": s.gpu.node_max_gpus,
        "kv_bytes_per_token": kv_growth_per_token(s),
        "decode_tokens_per_s_at_start": result.decode_tokens_per_s_at_start,
        "prefill_tokens_per_s": result.prefill_tokens_per_s,
        "prompt": s.prompt,
        "time_to_first_token_s": result.time_to_first_token_s,
        "aggregate_tokens_per_s": result.aggregate_tokens_per_s,
        "cost_per_million_tokens_usd": result.cost_per_million_tokens_usd,
        "command": commands.get(s.runtime.id),
        "commands": commands,
    }


def placement_payload(placement: Placement | None) -> dict[str, Any]:
    """The runtime-true layout: what each card holds, and whether the fullest card fits."""
    if placement is None:
        return {"runtime_fits": False, "runtime_verdict": "unsupported-layout", "per_card": []}
    return {
        "runtime_fits": placement.fits,
        "runtime_verdict": "fits" if placement.fits else "does-not-fit",
        "card_capacity_bytes": placement.card_capacity,
        "fullest_card_headroom_bytes": placement.headroom,
        "tensor_parallel": placement.tensor,
        "pipeline_parallel": placement.pipeline,
        "host_weights_bytes": placement.host_weights,
        "kv_pool_tokens": placement.kv_pool_tokens,
        "per_card": [
            {"card": c.index, "layers": c.layers, "weights_bytes": c.weights,
             "kv_cache_bytes": c.kv_cache, "overhead_bytes": c.overhead,
             "reserved_bytes": c.reserved, "total_bytes": c.total}
            for c in placement.cards
        ],
    }  # fmt: skip


def offload_payload(offload: Offload | None, setup: Setup, cards: int) -> dict[str, Any] | None:
    """A llama.cpp plan that keeps part of the model in system RAM, when one is needed."""
    if offload is None:
        return None
    command = render_offload_command(
        setup.model, setup.quant, setup.runtime, setup.kv.id, cards, setup.context, setup.batch,
        offload.gpu_layers, offload.cpu_moe_layers,
    )  # fmt: skip
    return {
        "kind": offload.kind,
        "gpu_layers": offload.gpu_layers,
        "cpu_moe_layers": offload.cpu_moe_layers,
        "gpu_bytes": offload.gpu_bytes,
        "ram_bytes": offload.ram_bytes,
        "fits_in_ram": offload.fits,
        "decode_tokens_per_s": offload.decode_tokens_per_s,
        "command": command,
    }
