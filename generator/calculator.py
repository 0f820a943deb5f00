"""Calculator data: the engine's coefficients, exported for the in-browser calculator. Pure.

All modelling stays in Python. The page's script only does the arithmetic this module spells
out, on numbers computed here: weights and active weights per model × quantization (bytes), KV
elements per token and layer counts, linear-attention state, runtime overheads (bytes), capacity
per GPU × card count (bytes), bandwidths, prices, and the parallel layouts per card count.
``tests/browser/test_calculator_parity.py`` checks the page against ``fitatlas fit --json``.
"""

from __future__ import annotations

from typing import Any

from generator.catalog.schema import Catalog, Model
from generator.fit.commands import (
    KV_FLAGS,
    TGI_QUANT_FLAGS,
    VLLM_QUANT_FLAGS,
    plan_parallel_layout,
    render_base_command,
)
from generator.fit.engine import DEFAULT_CONTEXT
from generator.fit.memory import (
    MIB,
    attention_layer_counts,
    estimate_linear_state_bytes,
    estimate_weight_bytes,
    kv_elements_per_layer_token,
)
from generator.fit.verdict import TIGHT_SHARE, compute_capacity, link_bandwidth_of

#: Bumped whenever a field changes meaning, so a cached page never misreads new data.
FORMAT_VERSION = 1


def make_calculator_data(catalog: Catalog) -> dict[str, Any]:
    """Everything the calculator needs, as plain JSON values."""
    return {
        "version": FORMAT_VERSION,
        "default_context": DEFAULT_CONTEXT,
        "tight_share": TIGHT_SHARE,
        "models": [_model(catalog, m) for m in catalog.models.values()],
        "quantizations": [
            {"id": q.id, "name": q.name, "bits_per_weight": q.bits_per_weight,
             "runtimes": list(q.runtimes), "format": q.format,
             # Values of --quantization (vLLM) / --quantize (TGI), when the launcher needs one.
             "quant_flags": _quant_flags(q.id)}
            for q in catalog.quantizations.values()
        ],
        "kv_dtypes": [
            {"id": k.id, "name": k.name, "bits": k.bits_per_element}
            for k in catalog.kv_dtypes.values()
        ],
        "runtimes": [
            {"id": r.id, "name": r.name, "split": r.split, "kv_dtypes": list(r.kv_dtypes),
             "default_kv_dtype": r.default_kv_dtype, "launcher": r.launcher,
             "per_card_bytes": r.per_gpu_overhead_mib * MIB,
             "buffer_bytes": r.compute_buffer_mib * MIB,
             "buffer_bytes_per_token": r.compute_buffer_bytes_per_token,
             "efficiency": r.decode_efficiency, "step_overhead_ms": r.decode_step_overhead_ms,
             # False: windowed layers are cached at full length, so the page adds a model's
             # windowed_layers to its growing_layers (memory.attention_layer_counts).
             "sliding_window_cache": r.sliding_window_cache,
             "kv_flags": dict(KV_FLAGS.get(r.launcher, {}))}
            for r in catalog.runtimes.values()
        ],
        "gpus": [_gpu(catalog, g_id) for g_id in catalog.gpus],
    }  # fmt: skip


def _quant_flags(quant_id: str) -> dict[str, str]:
    flags = {"vllm": VLLM_QUANT_FLAGS.get(quant_id), "tgi": TGI_QUANT_FLAGS.get(quant_id)}
    return {launcher: flag for launcher, flag in flags.items() if flag}


def _model(catalog: Catalog, model: Model) -> dict[str, Any]:
    arch = model.architecture
    growing, windowed = attention_layer_counts(arch)
    active_b = model.active_params_b or model.params_b
    quants = {}
    for q_id in model.quantizations:
        quant = catalog.quantizations[q_id]
        bits = model.bits_per_weight(quant)
        quants[q_id] = {
            "weights_bytes": estimate_weight_bytes(model.params_b, bits),
            "active_weights_bytes": estimate_weight_bytes(active_b, bits),
            "commands": {
                r: render_base_command(model, quant, catalog.runtimes[r]) for r in quant.runtimes
            },
        }
    most_cards = max(g.max_gpus for g in catalog.gpus.values())
    layouts = {}
    for cards in range(1, most_cards + 1):
        layout = plan_parallel_layout(arch, cards)
        layouts[str(cards)] = [layout.tensor, layout.pipeline]
    return {
        "id": model.id,
        "name": model.name,
        "hf_repo": model.hf_repo,
        "max_context": model.max_context,
        "attention_heads": arch.attention_heads,
        "quants": quants,
        "kv": {
            "elements_per_layer_token": kv_elements_per_layer_token(arch),
            "growing_layers": growing,
            "windowed_layers": windowed,
            "window": arch.sliding_window.window if arch.sliding_window else 0,
            "state_bytes": (
                estimate_linear_state_bytes(arch.linear_attention) if arch.linear_attention else 0
            ),
        },
        "layouts": layouts,
    }


def _gpu(catalog: Catalog, gpu_id: str) -> dict[str, Any]:
    gpu = catalog.gpus[gpu_id]
    link = catalog.interconnect_of(gpu)
    capacities = []
    for cards in range(1, gpu.max_gpus + 1):
        c = compute_capacity(gpu, link, cards)
        capacities.append({"raw": c.raw, "effective": c.effective, "factor": c.scaling_factor})
    return {
        "id": gpu.id,
        "name": gpu.name,
        "vendor": gpu.vendor,
        "class": gpu.gpu_class,
        "max_gpus": gpu.max_gpus,
        "bandwidth_gbps": gpu.memory_bandwidth_gbps,
        "link_gbps": link_bandwidth_of(gpu, link),
        "price_per_hour_usd": gpu.price_per_hour_usd,
        "capacities": capacities,
    }
