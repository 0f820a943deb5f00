"""A model's architecture: the shapes its KV cache, weights and launch commands are sized from.

No I/O. The fields follow a Hugging Face ``config.json`` (generator/catalog/hf_config.py reads
one into an ``Architecture``); each block checks only its own consistency.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from generator.catalog.fields import Entity, Flag, NonNegativeInt, PositiveInt

Attention = Literal["gqa", "mla"]


class SlidingWindow(Entity):
    """Layers that attend only to the last ``window`` tokens (their cache stops growing)."""

    window: PositiveInt
    layers: PositiveInt = Field(description="How many layers use the window")


class LinearAttention(Entity):
    """Hybrid linear-attention layers (Gated DeltaNet): a fixed state per sequence, no KV cache."""

    layers: PositiveInt
    conv_kernel: PositiveInt
    key_heads: PositiveInt
    value_heads: PositiveInt
    key_head_dim: PositiveInt
    value_head_dim: PositiveInt


class MLA(Entity):
    """DeepSeek-style multi-head latent attention: one compressed latent per layer and token."""

    kv_lora_rank: PositiveInt
    qk_rope_head_dim: PositiveInt
    q_lora_rank: PositiveInt | None = Field(None, description="None: Q is projected directly")
    qk_nope_head_dim: PositiveInt | None = None
    v_head_dim: PositiveInt | None = None


class Architecture(Entity):
    """The shapes the KV cache and the launch commands need (as in the HF config)."""

    attention: Attention
    layers: PositiveInt = Field(description="num_hidden_layers")
    hidden_size: PositiveInt
    attention_heads: PositiveInt
    kv_heads: PositiveInt = Field(description="num_key_value_heads")
    head_dim: PositiveInt = Field(description="Explicit head_dim, never hidden/heads")
    vocab_size: PositiveInt
    tie_word_embeddings: Flag
    mla: MLA | None = None
    sliding_window: SlidingWindow | None = None
    linear_attention: LinearAttention | None = None
    experts: PositiveInt | None = None
    experts_per_token: PositiveInt | None = None
    intermediate_size: PositiveInt | None = Field(
        None, description="Dense FFN width (config intermediate_size); None when every layer is MoE"
    )
    moe_intermediate_size: PositiveInt | None = Field(None, description="Width of one expert")
    shared_experts: NonNegativeInt | None = Field(
        None, description="Always-active shared experts per MoE layer"
    )
    shared_expert_intermediate_size: PositiveInt | None = Field(
        None, description="Width of ONE shared expert when it differs from a routed expert's"
    )
    first_dense_layers: NonNegativeInt | None = Field(
        None, description="Leading layers with a dense FFN instead of experts (DeepSeek, GLM)"
    )
    moe_layer_step: PositiveInt | None = Field(
        None, description="Every n-th layer is MoE, the rest dense (Llama 4 Maverick: 2)"
    )
    attention_output_gate: Flag = Field(
        False,
        description="The Q projection also carries a sigmoid output gate, so it is twice as "
        "wide (Qwen3.5's full-attention layers); weight sizes only",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Architecture:
        if (self.attention == "mla") != (self.mla is not None):
            raise ValueError("attention 'mla' and the mla block go together")
        attn_layers = self.layers - (self.linear_attention.layers if self.linear_attention else 0)
        if attn_layers < 0:
            raise ValueError("linear_attention.layers exceeds layers")
        if self.sliding_window and self.sliding_window.layers > attn_layers:
            raise ValueError("sliding_window.layers exceeds the attention layers")
        if (self.experts is None) != (self.experts_per_token is None):
            raise ValueError("experts and experts_per_token go together")
        return self
