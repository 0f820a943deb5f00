"""Partial offload, unified memory, prefill, decode as the context fills, and batching."""

from __future__ import annotations

import pytest

from generator.catalog.schema import Catalog
from generator.fit.answers import compute_max_sequences, compute_placement
from generator.fit.memory import GIB
from generator.fit.offload import compute_offload
from generator.fit.result import compute_fit
from generator.fit.setup import Options, resolve_setup
from generator.fit.shapes import without_experts
from generator.fit.sizing import compute_sizing
from generator.fit.splits import plan_layer_split
from generator.payload import offload_payload


def test_a_70b_model_on_one_4090_offloads_about_half_its_layers(catalog: Catalog) -> None:
    setup = resolve_setup(catalog, "llama-3.3-70b", "q4_k_m", "rtx-4090", Options())
    placement = compute_placement(setup, 1)
    assert placement is not None and not placement.fits
    plan = compute_offload(setup, 1)
    assert plan is not None and plan.kind == "layers" and plan.fits
    assert 30 < plan.gpu_layers < 60
    assert plan.gpu_bytes < 24 * GIB < plan.gpu_bytes + plan.ram_bytes
    assert plan.decode_tokens_per_s < compute_fit(setup, 3).decode_tokens_per_s / 3


def test_an_offload_plan_needs_the_system_ram_to_hold_its_part(catalog: Catalog) -> None:
    small = resolve_setup(catalog, "llama-3.3-70b", "q4_k_m", "rtx-4090", Options(ram_gib=8))
    plan = compute_offload(small, 1)
    assert plan is not None and not plan.fits


def test_moe_experts_in_ram_beat_offloading_whole_layers(catalog: Catalog) -> None:
    setup = resolve_setup(catalog, "qwen3-235b-a22b", "q4_k_m", "rtx-4090", Options(ram_gib=192))
    plan = compute_offload(setup, 1)
    assert plan is not None and plan.kind == "experts" and plan.fits
    # Most of the experts go to RAM, but the card is filled first: not every layer's experts.
    assert plan.ram_bytes > 4 * plan.gpu_bytes
    assert 0 < plan.cpu_moe_layers < setup.model.architecture.layers


def test_n_cpu_moe_is_the_fewest_layers_whose_experts_must_leave_the_card(
    catalog: Catalog,
) -> None:
    """Qwen3-30B-A3B at Q8_0 on one RTX 3060 12GB with 64 GiB of RAM: N fits, N - 1 does not."""
    setup = resolve_setup(catalog, "qwen3-30b-a3b", "q8_0", "rtx-3060-12gb", Options(ram_gib=64))
    plan = compute_offload(setup, 1)
    assert plan is not None and plan.kind == "experts" and plan.fits
    n = plan.cpu_moe_layers
    sizing = compute_sizing(setup)
    rt = setup.runtime
    fixed = round(rt.per_gpu_overhead_mib * 2**20) + round(rt.compute_buffer_mib * 2**20)

    def fullest(layers: int) -> int:
        shapes = without_experts(sizing.shapes, layers)
        layout = plan_layer_split(shapes, sizing.kv, 1, 1, fixed, 0)
        return sum(
            c.weights + c.kv_cache + c.overhead
            for c in layout.place(setup.context, setup.card_capacity, 1.0).cards
        )

    assert 0 < n < setup.model.architecture.layers
    assert fullest(n) <= setup.card_limit < fullest(n - 1)
    command = offload_payload(plan, setup, 1)["command"]  # type: ignore[index]
    assert f"--n-cpu-moe {n}" in command and "-ngl 999" in command


def test_nothing_is_offloaded_on_unified_memory_or_when_it_fits(catalog: Catalog) -> None:
    mac = resolve_setup(catalog, "llama-3.1-405b", "q4_k_m", "apple-m4-max-128gb", Options())
    assert compute_offload(mac, 1) is None
    fits = resolve_setup(catalog, "llama-3.1-8b", "q4_k_m", "rtx-4090", Options())
    assert compute_offload(fits, 1) is None


def test_unified_memory_counts_only_the_share_the_gpu_may_use(catalog: Catalog) -> None:
    mac = catalog.gpus["apple-m2-ultra-192gb"]
    setup = resolve_setup(catalog, "llama-3.1-8b", "q4_k_m", mac.id, Options())
    result = compute_fit(setup, 1)
    assert result.capacity.effective == round(192 * mac.usable_vram_fraction * GIB)
    assert mac.usable_vram_fraction < 1


def test_fp8_weights_prefill_at_the_cards_fp8_rate(catalog: Catalog) -> None:
    fp8 = compute_fit(resolve_setup(catalog, "llama-3.1-8b", "fp8", "h100-sxm", Options()), 1)
    bf16 = compute_fit(resolve_setup(catalog, "llama-3.1-8b", "bf16", "h100-sxm", Options()), 1)
    assert fp8.prefill_tokens_per_s and bf16.prefill_tokens_per_s
    assert fp8.prefill_tokens_per_s == pytest.approx(2 * bf16.prefill_tokens_per_s, rel=0.01)


def test_time_to_first_token_grows_with_the_prompt(catalog: Catalog) -> None:
    def ttft(prompt: int) -> float:
        options = Options(context=32768, prompt=prompt)
        value = compute_fit(
            resolve_setup(catalog, "llama-3.1-8b", "q4_k_m", "rtx-4090", options), 1
        )
        assert value.time_to_first_token_s is not None
        return value.time_to_first_token_s

    assert ttft(1024) < ttft(8192) < ttft(32768)


def test_a_card_without_a_tflops_figure_gives_no_prefill_estimate(catalog: Catalog) -> None:
    gpu = next(g for g in catalog.gpus.values() if g.fp16_tflops is None)
    result = compute_fit(resolve_setup(catalog, "llama-3.1-8b", "q4_k_m", gpu.id, Options()), 1)
    assert result.prefill_tokens_per_s is None and result.time_to_first_token_s is None


def test_decode_slows_as_the_context_fills(catalog: Catalog) -> None:
    setup = resolve_setup(catalog, "llama-3.1-8b", "q4_k_m", "rtx-4090", Options(context=131072))
    result = compute_fit(setup, 1)
    assert result.decode_tokens_per_s < 0.7 * result.decode_tokens_per_s_at_start


def test_batching_raises_throughput_and_lowers_each_sequences_speed(catalog: Catalog) -> None:
    def fit(batch: int):  # type: ignore[no-untyped-def]
        options = Options(context=4096, batch=batch, runtime="vllm")
        return compute_fit(resolve_setup(catalog, "llama-3.1-8b", "bf16", "h100-sxm", options), 1)

    one, eight = fit(1), fit(8)
    assert eight.aggregate_tokens_per_s > 4 * one.aggregate_tokens_per_s
    assert eight.decode_tokens_per_s < one.decode_tokens_per_s


@pytest.mark.parametrize(
    ("model", "quant", "gpu", "cards"),
    [
        ("llama-3.1-8b", "bf16", "h100-sxm", 1),
        ("llama-3.3-70b", "fp8", "h100-sxm", 2),
        ("llama-3.3-70b", "q4_k_m", "rtx-3090", 2),
        ("qwen3-30b-a3b", "q4_k_m", "rtx-4090", 1),
        ("deepseek-r1", "fp8", "h200-sxm", 8),
    ],
    ids=["8b-bf16-h100", "70b-fp8-2xh100", "70b-q4-2x3090", "30b-moe-4090", "r1-8xh200"],
)
def test_max_concurrent_sequences_fit_and_one_more_does_not(
    catalog: Catalog, model: str, quant: str, gpu: str, cards: int
) -> None:
    setup = resolve_setup(catalog, model, quant, gpu, Options(context=8192))
    most = compute_max_sequences(setup, cards)
    assert most >= 1

    def fits(batch: int) -> bool:
        return compute_fit(
            resolve_setup(catalog, model, quant, gpu, Options(8192, batch)), cards
        ).fits

    assert fits(most) and not fits(most + 1)
