"""The model families a Hugging Face config may come from, and how each lays out its weights.

No I/O. One ``Family`` per ``model_type``, read from that type's modeling code in transformers;
generator/catalog/hf_config.py reads a config by its family's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

WindowRule = Literal["none", "all", "qwen", "alternate", "pattern", "chunked"]
MoERule = Literal["none", "mixtral", "qwen", "deepseek", "llama4"]
BiasRule = Literal["none", "qkv", "config", "config_qkv"]


@dataclass(frozen=True)
class Family:
    """How one model_type lays out its weights (transformers' modeling code for that type)."""

    label: str
    tie_default: bool  # transformers' default when the config omits tie_word_embeddings
    bias: BiasRule = "none"  # qkv: Q/K/V always; config: attention_bias on Q/K/V/O; config_qkv
    qk_norm: Literal["none", "always", "config"] = "none"
    norms_per_layer: int = 2
    window: WindowRule = "none"
    moe: MoERule = "none"
    router_bias: bool = False  # DeepSeek-V3 / GLM e_score_correction_bias, gpt-oss router bias
    shared_gate: bool = False  # Qwen's sigmoid gate on the shared expert (hidden → 1)
    gpt_oss: bool = False  # expert biases and per-head attention sinks
    hybrid: bool = False  # Gated DeltaNet layers between full-attention layers
    output_gate: bool = False  # Q projection twice as wide: the attention output gate
    mla: bool = False
    defaults: tuple[tuple[str, Any], ...] = ()  # transformers' defaults that released configs omit


_QWEN35 = Family(
    "Qwen3.5", False, qk_norm="always", hybrid=True, output_gate=True, moe="qwen",
    shared_gate=True,
)  # fmt: skip
_DEEPSEEK_V3 = Family("DeepSeek-V3", False, moe="deepseek", router_bias=True, mla=True)
#: Gemma3TextConfig defaults (transformers src/transformers/models/gemma3/configuration_gemma3.py
#: @008f5c8c): the released multimodal configs leave these out of text_config.
_GEMMA3_DEFAULTS = (
    ("vocab_size", 262208), ("max_position_embeddings", 131072), ("head_dim", 256),
    ("sliding_window_pattern", 6),
)  # fmt: skip
_GEMMA3 = Family(
    "Gemma 3", True, qk_norm="always", norms_per_layer=4, window="pattern",
    defaults=_GEMMA3_DEFAULTS,
)  # fmt: skip
_LLAMA4 = Family("Llama 4", False, bias="config", window="chunked", moe="llama4")

#: Families by model_type (the text model_type where a multimodal config nests one).
FAMILIES: dict[str, Family] = {
    "llama": Family("Llama", False, bias="config"),
    "mistral": Family("Mistral", False, window="all"),
    "mixtral": Family("Mixtral", False, window="all", moe="mixtral"),
    "qwen2": Family("Qwen2", False, bias="qkv", window="qwen"),
    "qwen2_moe": Family("Qwen2 MoE", False, bias="qkv", window="qwen", moe="qwen",
                        shared_gate=True),
    "qwen3": Family("Qwen3", False, bias="config", qk_norm="always", window="qwen"),
    "qwen3_moe": Family("Qwen3 MoE", False, bias="config", qk_norm="always", window="qwen",
                        moe="qwen"),
    "qwen3_next": _QWEN35,
    "qwen3_5": _QWEN35,
    "qwen3_5_text": _QWEN35,
    "qwen3_5_moe": _QWEN35,
    "qwen3_5_moe_text": _QWEN35,
    "gemma2": Family("Gemma 2", True, norms_per_layer=4, window="alternate"),
    "gemma3": _GEMMA3,
    "gemma3_text": _GEMMA3,
    # The catalog's Phi-3 rows treat Phi-3's sliding_window as unused (reference/README.md).
    "phi3": Family("Phi-3", False),
    "deepseek_v2": Family("DeepSeek-V2", False, moe="deepseek", mla=True),
    "deepseek_v3": _DEEPSEEK_V3,
    "kimi_k2": _DEEPSEEK_V3,
    "gpt_oss": Family("gpt-oss", False, bias="config", window="alternate", moe="mixtral",
                      router_bias=True, gpt_oss=True),
    "glm4_moe": Family("GLM-4 MoE", False, bias="config_qkv", qk_norm="config", moe="deepseek",
                       router_bias=True),
    "llama4": _LLAMA4,
    "llama4_text": _LLAMA4,
}  # fmt: skip
