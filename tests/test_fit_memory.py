"""KV cache and weights, exact per architecture kind."""

from __future__ import annotations

import pytest

from generator.catalog.schema import Catalog
from generator.fit.memory import (
    estimate_kv_cache_bytes,
    estimate_linear_state_bytes,
    kv_bytes_per_token,
)
from generator.fit.weights import estimate_weights

KV_PER_TOKEN_FP16 = [
    ("llama-3.1-8b", 131_072),  # GQA: 32 layers × 2 × 8 KV heads × 128 × 2 B
    ("deepseek-r1", 70_272),  # MLA: 61 × (512 + 64) × 2 B
    ("qwen3-4b", 147_456),  # explicit head_dim 128, not hidden/heads = 80
    ("gemma-2-9b", 172_032),  # only the 21 global layers grow past the window
    ("qwen3.5-122b-a10b", 24_576),  # only the 12 full-attention layers of 48
]


@pytest.mark.parametrize(
    ("model", "expected"), KV_PER_TOKEN_FP16, ids=[m for m, _ in KV_PER_TOKEN_FP16]
)
def test_kv_bytes_per_token_at_fp16_are_exact(catalog: Catalog, model: str, expected: int) -> None:
    assert kv_bytes_per_token(catalog.models[model].architecture, 16) == expected


def test_sliding_window_layers_stop_growing_at_the_window(catalog: Catalog) -> None:
    arch = catalog.models["gemma-2-9b"].architecture  # 21 global + 21 local (4096) layers
    per_layer_token = 2 * 8 * 256 * 2
    expected = per_layer_token * (21 * 8192 + 21 * 4096)
    assert estimate_kv_cache_bytes(arch, 8192, 1, 16) == expected == 2_113_929_216
    below_window = estimate_kv_cache_bytes(arch, 2048, 1, 16)
    assert below_window == per_layer_token * 42 * 2048


def test_hybrid_model_adds_a_constant_state_per_sequence(catalog: Catalog) -> None:
    arch = catalog.models["qwen3.5-122b-a10b"].architecture
    assert arch.linear_attention is not None
    state = estimate_linear_state_bytes(arch.linear_attention)
    assert state == 153_649_152  # reference/architectures.csv, vLLM dtypes
    assert estimate_kv_cache_bytes(arch, 8192, 1, 16) == 24_576 * 8192 + state
    assert estimate_kv_cache_bytes(arch, 8192, 3, 16) == 3 * (24_576 * 8192 + state)


def test_quantized_kv_uses_its_block_size(catalog: Catalog) -> None:
    arch = catalog.models["llama-3.1-8b"].architecture
    assert kv_bytes_per_token(arch, 8.5) == 131_072 * 8.5 / 16
    assert kv_bytes_per_token(arch, 4.5) == 131_072 * 4.5 / 16
    assert estimate_kv_cache_bytes(arch, 1000, 2, 8.5) == 2 * 1000 * 69_632


def test_mla_cache_is_seventy_times_smaller_than_a_naive_per_head_cache(
    catalog: Catalog,
) -> None:
    arch = catalog.models["deepseek-r1"].architecture
    naive = (192 + 128) * 128 * 61 * 2  # full K and V per head, reference/README.md
    assert naive / kv_bytes_per_token(arch, 16) == pytest.approx(71.1, abs=0.1)


def test_weights_without_a_recipe_are_parameters_times_bits_over_eight(catalog: Catalog) -> None:
    model = catalog.models["llama-3.1-8b"]
    for quant_id in ("exl2-8.0bpw", "mlx-4bit"):
        quant = catalog.quantizations[quant_id]
        assert quant.recipe is None
        bits = model.bits_per_weight(quant)
        assert estimate_weights(model, quant).total == round(8.03e9 * bits / 8)


def test_sixteen_bit_weights_are_two_bytes_per_parameter(catalog: Catalog) -> None:
    model = catalog.models["llama-3.1-8b"]
    total = estimate_weights(model, catalog.quantizations["bf16"]).total
    assert total == pytest.approx(model.params_b * 1e9 * 2, rel=0.001)


def test_moe_weights_count_every_expert(catalog: Catalog) -> None:
    model = catalog.models["mixtral-8x22b"]
    assert model.active_params_b is not None
    assert model.params_b > 3 * model.active_params_b
    sizes = estimate_weights(model, catalog.quantizations["bf16"])
    assert sizes.total > 280e9
    arch = model.architecture
    assert sizes.active(arch.experts, arch.experts_per_token) < sizes.total / 3
