"""Calculator data: the engine's coefficients, exported for the in-browser calculator. Pure.

All modelling stays in Python. The page's script only does the arithmetic this module spells
out, on numbers computed here, in the engine's own order of operations:

- per GPU: its platform, the bytes one card offers before rounding (``card_bytes``: VRAM ×
  usable share × GiB; the card's capacity is its round(), raw and effective VRAM of n cards are
  round(card_bytes × n) and round(card_bytes × n × factor), the factor being 1 for one card),
  the seed's recommended card count (``max_gpus``) and the physical limit (``node_max_gpus``);
- per runtime: the platforms it runs on, the share of each card it uses, whether it has
  pipeline stages, its per-card fixed bytes and compute buffer per context token;
- per model: the cache facts (KV elements per token of the growing and of the sliding-window
  layers, the window, the linear-attention state, KV heads, MLA) and the tensor-parallel width
  per card count (``tensor[n − 1]``; the rest of n are pipeline stages);
- per model × quantization, the weights as ``fit.tensors.estimate_weights`` sizes them:
  ``w`` for every runtime, ``g`` when llama.cpp (GGUF files only) sizes them otherwise. Each is
  ``[embedding, head, layers, routed]``: the token embeddings, what ``placement.make_shapes``
  puts with the output (the output projection, or the embeddings when tied, plus the rest),
  the repeating layers in order as ``[values, pattern]`` (layer i holds
  ``values[int(pattern[i], 36)]`` bytes; a bare number when every layer holds the same), and
  the routed experts' bytes (0 for a dense model). The total is the layers plus the head, plus
  the embeddings when they are not tied; the active weights follow ``WeightSizes.active``;
- per quantization × runtime, the launch command before its flags, with ``%o`` and ``%b`` for
  the owner and name of the model's Hugging Face repository;
- under ``own``, the tables the "your own model" mode (templates/static/calc-own.js) reads a
  Hugging Face config.json with, as ``fitatlas fit --config`` does: the families
  (``hf_config.FAMILIES``), the ggml block sizes, fallbacks and file types, the type sets
  llama.cpp's rules name (``fit.tensors``), each quantization's recipe, and the sizes of the
  linear-attention state. The rules that choose between them are code in that script.

``tests/browser/test_calculator_parity.py`` checks the page against ``fitatlas fit --json``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from generator.catalog.hf_families import FAMILIES
from generator.catalog.hf_fields import _OUTER_KEYS
from generator.catalog.schema import SAFETENSORS_RECIPES, Catalog, Model, Quantization
from generator.fit.commands import KV_FLAGS, TGI_QUANT_FLAGS, VLLM_QUANT_FLAGS, render_base_command
from generator.fit.gguf_types import (
    _ATTN_OUT_Q5K_8E,
    _IQ2_FAMILY,
    _OUTPUT_Q5K,
    BLOCKS,
    FALLBACK,
    FTYPE_DEFAULT,
)
from generator.fit.memory import (
    GIB,
    LINEAR_CONV_STATE_BYTES,
    LINEAR_RECURRENT_STATE_BYTES,
    MIB,
    attention_layer_counts,
    estimate_linear_state_bytes,
    kv_elements_per_layer_token,
)
from generator.fit.setup import DEFAULT_CONTEXT
from generator.fit.shapes import make_shapes
from generator.fit.splits import plan_parallel_layout
from generator.fit.verdict import TIGHT_SHARE, link_bandwidth_of, scaling_factor_of
from generator.fit.weights import (
    GGUF_CONVERSION,
    GGUF_METADATA_BYTES_PER_TOKEN,
    WeightSizes,
    estimate_weights,
)
from generator.verdicts import verdict_labels

#: Bumped whenever a field changes meaning, so a cached page never misreads new data.
FORMAT_VERSION = 3

#: Digits of a layer pattern: value indices in base 36.
PATTERN_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def make_calculator_data(catalog: Catalog) -> dict[str, Any]:
    """Everything the calculator needs, as plain JSON values."""
    most_cards = max(g.node_max_gpus for g in catalog.gpus.values())
    return {
        "version": FORMAT_VERSION,
        "default_context": DEFAULT_CONTEXT,
        "tight_share": TIGHT_SHARE,
        "verdicts": verdict_labels(),
        "models": [_model(catalog, m, most_cards) for m in catalog.models.values()],
        "quantizations": [
            {"id": q.id, "name": q.name, "runtimes": list(q.runtimes), "format": q.format,
             # Values of --quantization (vLLM) / --quantize (TGI), when the launcher needs one.
             "quant_flags": _quant_flags(q.id), "commands": _commands(catalog, q)}
            for q in catalog.quantizations.values()
        ],
        "kv_dtypes": [
            {"id": k.id, "name": k.name, "bits": k.bits_per_element}
            for k in catalog.kv_dtypes.values()
        ],
        "runtimes": [
            {"id": r.id, "name": r.name, "split": r.split, "kv_dtypes": list(r.kv_dtypes),
             "default_kv_dtype": r.default_kv_dtype, "launcher": r.launcher,
             "platforms": list(r.platforms), "memory_utilization": r.memory_utilization,
             "pipeline_parallel": r.pipeline_parallel,
             # Pooled overhead on n cards: round(per_card_bytes × n + buffer_bytes +
             # buffer_bytes_per_token × context); on each card: fixed_bytes +
             # round(buffer_bytes_per_token × context) (sizing.Sizing._plan).
             "per_card_bytes": r.per_gpu_overhead_mib * MIB,
             "buffer_bytes": r.compute_buffer_mib * MIB,
             "fixed_bytes": round(r.per_gpu_overhead_mib * MIB) + round(r.compute_buffer_mib * MIB),
             "buffer_bytes_per_token": r.compute_buffer_bytes_per_token,
             "efficiency": r.decode_efficiency, "step_overhead_ms": r.decode_step_overhead_ms,
             # False: windowed layers are cached at full length, so the page adds a model's
             # windowed_layers to its growing_layers (memory.attention_layer_counts).
             "sliding_window_cache": r.sliding_window_cache,
             "kv_flags": dict(KV_FLAGS.get(r.launcher, {}))}
            for r in catalog.runtimes.values()
        ],
        "gpus": [_gpu(catalog, g_id) for g_id in catalog.gpus],
        "own": _own_model_tables(catalog),
    }  # fmt: skip


def _own_model_tables(catalog: Catalog) -> dict[str, Any]:
    """What calc-own.js needs to size a pasted config.json as ``fit --config`` does."""
    # Families once each (several model types share one), then each model type's index.
    distinct = list(dict.fromkeys(FAMILIES.values()))
    families = [{**dataclasses.asdict(f), "defaults": dict(f.defaults)} for f in distinct]
    return {
        "families": families,
        "model_types": {name: distinct.index(f) for name, f in FAMILIES.items()},
        "outer_keys": list(_OUTER_KEYS),
        "blocks": BLOCKS,
        "fallback": FALLBACK,
        "ftype_default": FTYPE_DEFAULT,
        "conversion": GGUF_CONVERSION,
        "safetensors": list(SAFETENSORS_RECIPES),
        "header_bytes_per_token": GGUF_METADATA_BYTES_PER_TOKEN,
        "iq2_family": sorted(_IQ2_FAMILY),
        "output_q5k": sorted(_OUTPUT_Q5K),
        "attn_out_q5k_8e": sorted(_ATTN_OUT_Q5K_8E),
        "state_bytes": [LINEAR_CONV_STATE_BYTES, LINEAR_RECURRENT_STATE_BYTES],
        # Per quantization: [recipe (None: bits spread evenly), embed_output_type, bits].
        "quants": {
            q.id: [q.recipe, q.embed_output_type, q.bits_per_weight]
            for q in catalog.quantizations.values()
        },
    }


def _quant_flags(quant_id: str) -> dict[str, str]:
    flags = {"vllm": VLLM_QUANT_FLAGS.get(quant_id), "tgi": TGI_QUANT_FLAGS.get(quant_id)}
    return {launcher: flag for launcher, flag in flags.items() if flag}


def _commands(catalog: Catalog, quant: Quantization) -> dict[str, str]:
    """Each runtime's command before its flags, for a model whose repository is ``%o/%b``."""
    model = next(iter(catalog.models.values())).model_copy(update={"hf_repo": "%o/%b"})
    return {r: render_base_command(model, quant, catalog.runtimes[r]) for r in quant.runtimes}


def _model(catalog: Catalog, model: Model, most_cards: int) -> dict[str, Any]:
    arch = model.architecture
    growing, windowed = attention_layer_counts(arch)
    per_layer = kv_elements_per_layer_token(arch)
    quants = {}
    for q_id in model.quantizations:
        quant = catalog.quantizations[q_id]
        plain = estimate_weights(model, quant)
        sizes = {"w": _sizes(plain, arch.tie_word_embeddings)}
        if any(catalog.runtimes[r].launcher == "llama-cpp" for r in quant.runtimes):
            gguf = estimate_weights(model, quant, gguf=True)
            if gguf != plain:
                sizes["g"] = _sizes(gguf, arch.tie_word_embeddings)
        quants[q_id] = sizes
    entry: dict[str, Any] = {
        "id": model.id,
        "name": model.name,
        "hf_repo": model.hf_repo,
        "max_context": model.max_context,
        "layers": arch.layers,
        "attention_heads": arch.attention_heads,
        "tied": arch.tie_word_embeddings,
        "quants": quants,
        "kv": {
            # Elements per token over the layers that keep every token, and over the
            # sliding-window layers (cached at full length by a runtime that ignores windows).
            "growing": growing * per_layer,
            "windowed": windowed * per_layer,
            "window": arch.sliding_window.window if arch.sliding_window else 0,
            "state_bytes": (
                estimate_linear_state_bytes(arch.linear_attention) if arch.linear_attention else 0
            ),
            "kv_heads": arch.kv_heads,
            "mla": arch.mla is not None,
        },
        "tensor": [plan_parallel_layout(arch, n).tensor for n in range(1, most_cards + 1)],
    }
    if arch.experts and arch.experts_per_token:
        # WeightSizes.active: the routed experts a token is not sent to are not read.
        entry["idle_expert_share"] = 1 - arch.experts_per_token / arch.experts
    return entry


def _sizes(sizes: WeightSizes, tied: bool) -> list[Any]:
    """[embedding, head, layers, routed] as the module docstring describes them."""
    shapes = make_shapes(sizes, tied)
    values = list(dict.fromkeys(sizes.layers))
    layers: Any = values[0]
    if len(values) > 1:
        if len(values) > len(PATTERN_DIGITS):
            raise ValueError(f"{len(values)} different layer sizes; the pattern has 36 digits")
        layers = [values, "".join(PATTERN_DIGITS[values.index(b)] for b in sizes.layers)]
    return [shapes.embed_weights, shapes.head_weights, layers, shapes.routed_experts]


def _gpu(catalog: Catalog, gpu_id: str) -> dict[str, Any]:
    gpu = catalog.gpus[gpu_id]
    link = catalog.interconnect_of(gpu)
    return {
        "id": gpu.id,
        "name": gpu.name,
        "vendor": gpu.vendor,
        "class": gpu.gpu_class,
        "platform": gpu.platform,
        "max_gpus": gpu.max_gpus,
        "node_max_gpus": gpu.node_max_gpus,
        "bandwidth_gbps": gpu.memory_bandwidth_gbps,
        "link_gbps": link_bandwidth_of(gpu, link),
        "price_per_hour_usd": gpu.price_per_hour_usd,
        # verdict.compute_capacity's per_card, and the factor it applies from two cards on.
        "card_bytes": gpu.vram_gib * gpu.usable_vram_fraction * GIB,
        "factor": scaling_factor_of(gpu, link),
    }
