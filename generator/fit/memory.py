"""Fit engine, memory: KV cache, linear-attention state, runtime overhead and their sum. Pure.

Every function returns bytes as an integer. No I/O, clock, environment or logging here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generator.catalog.architecture import Architecture, LinearAttention
from generator.catalog.schema import Runtime

MIB = 1 << 20
GIB = 1 << 30

#: Byte widths of the Gated DeltaNet state as vLLM keeps it: conv state in the model dtype
#: (bf16), recurrent state in fp32 (Qwen3.5 configs set mamba_ssm_dtype: float32).
#: Source: reference/README.md, "Hybrid linear attention".
LINEAR_CONV_STATE_BYTES = 2
LINEAR_RECURRENT_STATE_BYTES = 4


@dataclass(frozen=True, slots=True)
class MemoryBreakdown:
    """What one configuration needs, in bytes, summed over all its cards."""

    weights: int
    kv_cache: int
    overhead: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead


def kv_elements_per_layer_token(arch: Architecture) -> int:
    """Cache elements one attention layer stores per token.

    GQA/MHA: K and V, each kv_heads × head_dim. MLA: one latent (kv_lora_rank) plus the shared
    RoPE key (qk_rope_head_dim); the head count does not enter (DeepSeek-V3 paper, §2.1.1).
    """
    if arch.mla is not None:
        return arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim
    return 2 * arch.kv_heads * arch.head_dim


def attention_layer_counts(arch: Architecture, honour_window: bool = True) -> tuple[int, int]:
    """(layers whose cache grows with context, layers capped at the sliding window).

    A runtime that does not honour sliding windows keeps every attention layer at full length.
    """
    linear = arch.linear_attention.layers if arch.linear_attention else 0
    windowed = arch.sliding_window.layers if arch.sliding_window and honour_window else 0
    return arch.layers - linear - windowed, windowed


def kv_bytes_per_token(arch: Architecture, kv_bits: float, honour_window: bool = True) -> int:
    """KV bytes each further token adds once past the sliding window (full-attention layers).

    Llama 3.1 8B at 16 bits: 32 layers × 2 × 8 × 128 × 2 B = 131,072 B.
    """
    growing, _ = attention_layer_counts(arch, honour_window)
    return _bytes(growing * kv_elements_per_layer_token(arch), kv_bits)


@dataclass(frozen=True, slots=True)
class KVLayout:
    """How one sequence's KV cache grows with context, for one model and cache dtype.

    Worked out once per setup, so each context asked about costs a few integer operations.
    """

    growing: int  # elements per token over the layers that keep every token
    windowed: int  # elements per token over the sliding-window layers, up to ``window`` tokens
    window: int  # tokens a sliding-window layer keeps (0 when the model has none)
    bits: float  # per element, block scales included
    state: int  # fixed linear-attention state per sequence, bytes

    def cache_bytes(self, context: int, batch: int) -> int:
        """KV cache for ``batch`` sequences of ``context`` tokens, in bytes."""
        elements = self.growing * context + self.windowed * min(context, self.window)
        return (_bytes(elements, self.bits) + self.state) * batch


def compute_kv_layout(arch: Architecture, kv_bits: float, honour_window: bool = True) -> KVLayout:
    """The cache layout of ``arch`` at ``kv_bits`` per element (see estimate_kv_cache_bytes)."""
    growing, windowed = attention_layer_counts(arch, honour_window)
    per_layer = kv_elements_per_layer_token(arch)
    window = arch.sliding_window.window if arch.sliding_window else 0
    state = estimate_linear_state_bytes(arch.linear_attention) if arch.linear_attention else 0
    return KVLayout(growing * per_layer, windowed * per_layer, window, kv_bits, state)


def estimate_kv_cache_bytes(
    arch: Architecture, context: int, batch: int, kv_bits: float, honour_window: bool = True
) -> int:
    """KV cache for ``batch`` sequences of ``context`` tokens, in bytes.

    Full-attention layers hold every token; sliding-window layers hold min(context, window)
    when the runtime honours the window (else every token); linear-attention layers hold a
    fixed state instead (``estimate_linear_state_bytes``). Quantized caches use their real
    block size (q8_0 = 8.5 bits, q4_0 = 4.5 bits per element).
    """
    return compute_kv_layout(arch, kv_bits, honour_window).cache_bytes(context, batch)


def estimate_linear_state_bytes(linear: LinearAttention) -> int:
    """Fixed Gated DeltaNet state of one sequence, in bytes (independent of context).

    conv = (kernel − 1) × (2 × key_heads × key_dim + value_heads × value_dim) elements;
    recurrent = value_heads × key_dim × value_dim elements; in vLLM's dtypes (bf16 / fp32).
    Qwen3.5-122B-A10B: 36 × (36,864 × 2 + 1,048,576 × 4) = 153,649,152 B.
    """
    conv = (linear.conv_kernel - 1) * (
        2 * linear.key_heads * linear.key_head_dim + linear.value_heads * linear.value_head_dim
    )
    recurrent = linear.value_heads * linear.key_head_dim * linear.value_head_dim
    per_layer = conv * LINEAR_CONV_STATE_BYTES + recurrent * LINEAR_RECURRENT_STATE_BYTES
    return linear.layers * per_layer


def card_fixed_overhead_bytes(runtime: Runtime) -> int:
    """Bytes every card carries at any context: the runtime's per-card state (CUDA context)
    and its fixed compute buffer, each rounded to a whole byte (runtimes.yaml)."""
    return round(runtime.per_gpu_overhead_mib * MIB) + round(runtime.compute_buffer_mib * MIB)


def estimate_overhead_bytes(runtime: Runtime, cards: int, context: int) -> int:
    """Runtime memory beyond weights and cache, in bytes, over all cards.

    A fixed amount per card (CUDA context, runtime state), one compute/activation buffer, and
    buffer growth with the context the runtime plans for (vLLM profiles its activations at
    max_model_len); the figures and their sources are in runtimes.yaml.
    """
    per_card = runtime.per_gpu_overhead_mib * MIB * cards
    buffers = runtime.compute_buffer_mib * MIB
    growth = runtime.compute_buffer_bytes_per_token * context
    return round(per_card + buffers + growth)


def _bytes(elements: int, bits: float) -> int:
    """Bytes for ``elements`` values of ``bits`` each, rounded up to a whole byte."""
    return math.ceil(elements * bits / 8)
