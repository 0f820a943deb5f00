"""The matrix's shortcuts (per-setup sizing, per-GPU capacities, each layout's fullest-card
candidates) agree exactly with the plain formulas and with every card's load on every cell of
the real catalog."""

from __future__ import annotations

import math

import pytest

from generator.catalog.architecture import Architecture
from generator.catalog.schema import Catalog
from generator.fit.answers import compute_placement
from generator.fit.matrix import Cell, FitMatrix, compute_matrix
from generator.fit.memory import (
    estimate_kv_cache_bytes,
    estimate_linear_state_bytes,
    estimate_overhead_bytes,
)
from generator.fit.result import FitResult, compute_fit
from generator.fit.setup import Setup
from generator.fit.speed import effective_bandwidth_gbps, estimate_decode_tokens_per_s
from generator.fit.verdict import compute_capacity
from generator.fit.weights import WeightSizes, estimate_weights


@pytest.fixture(scope="module")
def matrix(catalog: Catalog) -> FitMatrix:
    return compute_matrix(catalog)


def per_layer_kv_bytes(arch: Architecture, context: int, bits: float, honour: bool) -> int:
    """The KV cache of one sequence summed layer by layer, as the docstrings state it."""
    per_token = (
        arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim
        if arch.mla
        else 2 * arch.kv_heads * arch.head_dim
    )
    linear = arch.linear_attention.layers if arch.linear_attention else 0
    windowed = arch.sliding_window.layers if arch.sliding_window and honour else 0
    window = arch.sliding_window.window if arch.sliding_window else context
    tokens = (arch.layers - linear - windowed) * context + windowed * min(context, window)
    state = estimate_linear_state_bytes(arch.linear_attention) if arch.linear_attention else 0
    return math.ceil(tokens * per_token * bits / 8) + state


def plain_weights(setup: Setup) -> WeightSizes:
    """The checkpoint's tensor sizes, as the engine's sizing module gives them."""
    return estimate_weights(setup.model, setup.quant, gguf=setup.runtime.launcher == "llama-cpp")


def plain_total(setup: Setup, cards: int, context: int) -> int:
    """Weights + KV cache + overhead from the memory formulas, with nothing precomputed."""
    model = setup.model
    weights = plain_weights(setup).total
    kv = estimate_kv_cache_bytes(
        model.architecture, context, setup.batch, setup.kv.bits_per_element, setup.honours_window
    )
    return weights + kv + estimate_overhead_bytes(setup.runtime, cards, context)


def plain_decode(setup: Setup, cards: int, context: int) -> float:
    """Decode tokens/s from the speed formulas, with nothing precomputed."""
    model, runtime = setup.model, setup.runtime
    arch = model.architecture
    active = plain_weights(setup).active(arch.experts, arch.experts_per_token)
    kv_read = estimate_kv_cache_bytes(
        model.architecture, context, 1, setup.kv.bits_per_element, setup.honours_window
    )
    capacity = compute_capacity(setup.gpu, setup.link, cards)
    bandwidth = effective_bandwidth_gbps(
        setup.gpu.memory_bandwidth_gbps, cards, runtime.split, capacity.scaling_factor
    )
    return estimate_decode_tokens_per_s(
        active, kv_read, bandwidth, runtime.decode_efficiency,
        runtime.decode_step_overhead_ms, setup.batch,
    )  # fmt: skip


def plain_fits(setup: Setup, cards: int, context: int) -> bool:
    """Every card's whole load (not the fullest-card shortcut) within the card."""
    if cards > setup.gpu.node_max_gpus:
        return False
    placement = compute_placement(Setup(**{**setup.__dict__, "context": context}), cards)
    return placement is not None and all(
        c.total <= placement.card_capacity for c in placement.cards
    )


def assert_result_is_plain(result: FitResult, setup: Setup, cards: int) -> None:
    assert result.cards == cards
    assert result.memory.total == plain_total(setup, cards, setup.context)
    assert result.capacity == compute_capacity(setup.gpu, setup.link, cards)
    assert result.decode_tokens_per_s == plain_decode(setup, cards, setup.context)
    assert result.decode_tokens_per_s_at_start == plain_decode(setup, cards, 1)
    assert result == compute_fit(setup, cards)  # the one-off path: no tables, fresh capacity


def test_kv_layout_matches_the_per_layer_sum_for_every_model(catalog: Catalog) -> None:
    for model in catalog.models.values():
        arch = model.architecture
        window = arch.sliding_window.window if arch.sliding_window else 4096
        contexts = {1, window - 1, window, window + 1, 8192, model.max_context}
        for bits in {kv.bits_per_element for kv in catalog.kv_dtypes.values()}:
            for honour in (True, False):
                for context in sorted(c for c in contexts if 1 <= c <= model.max_context):
                    expected = per_layer_kv_bytes(arch, context, bits, honour)
                    got = estimate_kv_cache_bytes(arch, context, 3, bits, honour)
                    assert got == 3 * expected, (model.id, bits, honour, context)


def test_every_cell_equals_the_plain_formulas(matrix: FitMatrix) -> None:
    for key, cell in matrix.all_cells().items():
        setup = cell.setup
        counts = range(1, setup.gpu.node_max_gpus + 1)
        expected_min = next((n for n in counts if plain_fits(setup, n, setup.context)), None)
        if not setup.runs_here:
            expected_min = None
        assert cell.min_gpus == expected_min, key
        assert_result_is_plain(cell.result, setup, expected_min or setup.gpu.node_max_gpus)


def test_every_max_context_is_the_exact_boundary(matrix: FitMatrix) -> None:
    for key, cell in matrix.all_cells().items():
        setup, cards, longest = cell.setup, cell.result.cards, cell.max_context
        if longest == 0:
            assert not setup.runs_here or not plain_fits(setup, cards, 1), key
            continue
        assert plain_fits(setup, cards, longest), key
        if longest < setup.model.max_context:
            assert not plain_fits(setup, cards, longest + 1), key


def test_result_at_every_card_count_equals_the_plain_formulas(matrix: FitMatrix) -> None:
    for (model, quant, gpu), cell in list(matrix.all_cells().items())[::7]:
        for cards in range(1, cell.setup.gpu.node_max_gpus + 2):  # one past the limit too
            result = matrix.result_at(model, quant, gpu, cards)
            assert_result_is_plain(result, cell.setup, cards)


def test_best_quant_prefers_common_formats_then_quality_then_room_on_the_fullest_card(
    matrix: FitMatrix,
) -> None:
    def rank(cell: Cell) -> tuple[bool, int, float]:
        q = cell.setup.quant
        return (not q.common, q.quality_rank, -q.bits_per_weight)

    def roomy(cell: Cell, cards: int) -> bool:
        result = matrix.result_at(
            cell.setup.model.id, cell.setup.quant.id, cell.setup.gpu.id, cards
        )
        return not result.little_headroom

    catalog = matrix.catalog
    for model in list(catalog.models.values())[::3]:
        for gpu in list(catalog.gpus.values())[::2]:
            for cards in range(1, gpu.node_max_gpus + 1):
                cells = [matrix.cell(model.id, q, gpu.id) for q in model.quantizations]
                fitting = sorted(
                    (
                        c
                        for c in cells
                        if matrix.result_at(model.id, c.setup.quant.id, gpu.id, cards).fits
                    ),
                    key=rank,
                )
                expected = next(
                    (c for c in fitting if roomy(c, cards)), fitting[0] if fitting else None
                )
                assert matrix.best_quant(model.id, gpu.id, cards) is expected, (
                    model.id,
                    gpu.id,
                    cards,
                )
