"""Launch commands per runtime, including a valid vLLM layout when cards do not divide heads."""

from __future__ import annotations

import pytest

from generator.catalog.schema import Catalog
from generator.fit.answers import render_commands
from generator.fit.result import compute_fit
from generator.fit.setup import Options, resolve_setup
from generator.fit.splits import ParallelLayout, plan_parallel_layout

LAYOUTS = [
    ("llama-3.3-70b", 8, ParallelLayout(8, 1)),  # 64 heads, 8 KV heads
    ("llama-3.3-70b", 6, ParallelLayout(2, 3)),  # 6 does not divide 64: TP 2 × PP 3
    ("llama-3.3-70b", 3, ParallelLayout(1, 3)),
    ("qwen3.5-122b-a10b", 4, ParallelLayout(4, 1)),  # 2 KV heads replicated over 4 shards
    ("phi-4", 4, ParallelLayout(2, 2)),  # 40 heads, 10 KV heads: 4 divides neither
]


@pytest.mark.parametrize(
    ("model", "cards", "layout"), LAYOUTS, ids=[f"{m}-{n}" for m, n, _ in LAYOUTS]
)
def test_vllm_layout_divides_heads_and_multiplies_to_the_card_count(
    catalog: Catalog, model: str, cards: int, layout: ParallelLayout
) -> None:
    arch = catalog.models[model].architecture
    found = plan_parallel_layout(arch, cards)
    assert found == layout
    assert found.tensor * found.pipeline == cards
    assert arch.attention_heads % found.tensor == 0


def commands(catalog: Catalog, model: str, quant: str, gpu: str, cards: int) -> dict[str, str]:
    setup = resolve_setup(catalog, model, quant, gpu, Options())
    return render_commands(compute_fit(setup, cards), catalog)


def test_vllm_command_on_six_cards_adds_pipeline_stages(catalog: Catalog) -> None:
    vllm = commands(catalog, "llama-3.3-70b", "bf16", "a100-80gb-sxm", 6)["vllm"]
    assert vllm.startswith("vllm serve meta-llama/Llama-3.3-70B-Instruct")
    assert "--tensor-parallel-size 2 --pipeline-parallel-size 3" in vllm
    assert "--max-model-len 8192" in vllm


def test_tgi_has_no_command_when_shards_cannot_divide_the_heads(catalog: Catalog) -> None:
    assert "tgi" not in commands(catalog, "llama-3.3-70b", "bf16", "a100-80gb-sxm", 6)
    tgi = commands(catalog, "llama-3.3-70b", "bf16", "a100-80gb-sxm", 4)["tgi"]
    assert "--num-shard 4" in tgi and "--max-total-tokens 8192" in tgi


def test_llama_cpp_command_offloads_all_layers_and_splits_evenly(catalog: Catalog) -> None:
    cmd = commands(catalog, "llama-3.1-405b", "q4_k_m", "h100-sxm", 4)["llama-cpp"]
    assert cmd.startswith("llama-server -m Llama-3.1-405B-Instruct-Q4_K_M.gguf")
    assert "-ngl 999" in cmd and "--tensor-split 1,1,1,1" in cmd and "-c 8192" in cmd


def test_single_card_llama_cpp_command_has_no_split(catalog: Catalog) -> None:
    cmd = commands(catalog, "llama-3.1-8b", "q4_k_m", "rtx-4090", 1)["llama-cpp"]
    assert "--tensor-split" not in cmd


def test_quantized_kv_cache_turns_on_flash_attention_in_llama_cpp(catalog: Catalog) -> None:
    setup = resolve_setup(catalog, "llama-3.1-8b", "q4_k_m", "rtx-4090", Options(kv_dtype="q8_0"))
    cmd = render_commands(compute_fit(setup, 1), catalog)["llama-cpp"]
    assert "-fa on --cache-type-k q8_0 --cache-type-v q8_0" in cmd


def test_exllamav2_split_gives_gigabytes_per_card(catalog: Catalog) -> None:
    model = next(m for m in catalog.models.values() if "exl2-4.0bpw" in m.quantizations)
    cmd = commands(catalog, model.id, "exl2-4.0bpw", "rtx-3090", 2)["exllamav2"]
    split = cmd.split("-gs ", 1)[1].split()[0].split(",")
    assert len(split) == 2 and all(float(x) > 0 for x in split)
