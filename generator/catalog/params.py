"""Parameter counts from a config's shapes (reference/README.md, "How parameters were computed").

Pure. Token embedding, an untied LM head and the final norm; per layer Q/K/V/O sized with the
explicit head_dim (QKV bias, q/k norms, attention sinks where the family has them) or MLA's
low-rank projections or a Gated DeltaNet block; a gated FFN of 3 × hidden × width, or the MoE
layer's experts, shared experts and router; the norms. Vision towers and MTP layers are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.catalog.hf_config import ConfigShapes, MoE


@dataclass(frozen=True)
class ParamCounts:
    """Parameters of the whole model and of one token's path (MoE), as integers."""

    total: int
    active: int


def compute_param_counts(s: ConfigShapes) -> ParamCounts:
    """Total and per-token parameters from the shapes (reference/README.md method)."""
    h = s.hidden
    outside = s.vocab * h * (1 if s.tie else 2) + h  # embedding, untied head, final norm
    linear_layers = s.linear.layers if s.linear else 0
    attention = (s.layers - linear_layers) * _attention_params(s)
    attention += linear_layers * _linear_attention_params(s) if s.linear else 0
    norms = s.layers * s.family.norms_per_layer * h
    moe_layers = sum(s.moe.layers) if s.moe else 0
    dense = (s.layers - moe_layers) * 3 * h * (s.dense_width or 0)
    total = outside + attention + norms + dense
    active = total
    if s.moe:
        every, used = _moe_layer_params(s, s.moe)
        total += moe_layers * every
        active += moe_layers * used
    return ParamCounts(total, active)


def _attention_params(s: ConfigShapes) -> int:
    """One attention layer: Q/K/V/O with their biases, q/k norms and sinks where present."""
    if s.mla:
        return _mla_params(s)
    h, heads = s.hidden, s.heads
    q_out = heads * s.head_dim * (2 if s.family.output_gate else 1)
    kv_out = s.kv_heads * s.head_dim
    params = h * (q_out + 2 * kv_out) + heads * s.head_dim * h
    params += (q_out + 2 * kv_out) if s.qkv_bias else 0
    params += h if s.o_bias else 0
    params += 2 * s.head_dim if s.qk_norm else 0
    params += heads if s.family.gpt_oss else 0  # attention sinks: one logit per head
    return params


def _mla_params(s: ConfigShapes) -> int:
    """One MLA layer: q_a/q_b (or a direct Q), kv_a with the shared RoPE key, kv_b, their two
    norms, and o_proj (DeepSeek V2/V3)."""
    m, h, heads = s.mla, s.hidden, s.heads
    assert m is not None
    nope, v = m.qk_nope_head_dim or 0, m.v_head_dim or 0
    q_out = heads * (nope + m.qk_rope_head_dim)
    q = m.q_lora_rank * (h + 1 + q_out) if m.q_lora_rank else h * q_out
    kv = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
    kv += m.kv_lora_rank * heads * (nope + v)
    return q + kv + heads * v * h


def _linear_attention_params(s: ConfigShapes) -> int:
    """One Gated DeltaNet layer: in_proj_qkv/z/b/a, depthwise conv, A_log, dt_bias, gated norm,
    out_proj (Qwen3-Next / Qwen3.5)."""
    la = s.linear
    assert la is not None
    key, value = la.key_heads * la.key_head_dim, la.value_heads * la.value_head_dim
    conv_channels = 2 * key + value
    projections = s.hidden * (conv_channels + value + 2 * la.value_heads)
    conv = conv_channels * la.conv_kernel  # depthwise, no bias
    per_head = 2 * la.value_heads  # A_log and dt_bias
    return projections + conv + per_head + la.value_head_dim + value * s.hidden


def _moe_layer_params(s: ConfigShapes, moe: MoE) -> tuple[int, int]:
    """(every parameter, one token's parameters) of one MoE layer's FFN."""
    h = s.hidden
    expert = 3 * h * moe.width + ((2 * moe.width + h) if s.family.gpt_oss else 0)
    router = h * moe.experts + (moe.experts if s.family.router_bias else 0)
    shared = 3 * h * moe.shared_width + (h if s.family.shared_gate and moe.shared_width else 0)
    return router + shared + moe.experts * expert, router + shared + moe.top_k * expert
