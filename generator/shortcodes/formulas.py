"""Formula shortcodes: the engine's formulas with a model's real numbers substituted."""

from __future__ import annotations

from generator.filters import gib, tokens_per_s
from generator.shortcodes.base import (
    ShortcodeContext,
    ShortcodeError,
    _bytes_text,
    _capacity,
    _expect,
    _kv_dtype,
    _probe_gpu,
    _result,
    shortcode,
)


@shortcode
def weights_formula(ctx: ShortcodeContext, model: str, quant: str) -> str:
    """The weights as the engine sizes them, tensor by tensor at the types the format gives
    each one, with the average bits per weight that works out to. Example:
    ``{{ weights_formula("llama-3.1-405b", "bf16") }}`` → "811,706,000,000 bytes = 756.0 GiB,
    16.00 bits per weight on average over 405.853 B parameters"."""
    r = _result(ctx, model, quant, _probe_gpu(ctx, quant), 1)
    m = r.setup.model
    bits = r.memory.weights * 8 / (m.params_b * 1e9)
    return (
        f"{r.memory.weights:,} bytes = {gib(r.memory.weights)}, {bits:.2f} bits per weight on "
        f"average over {m.params_b:g} B parameters"
    )


@shortcode
def kv_per_token(
    ctx: ShortcodeContext,
    model: str,
    kv_dtype: str | None = None,
    unit: str = "KiB",
    expect: int | None = None,
) -> str:
    """KV-cache bytes each further token adds to one sequence (the layers whose cache keeps
    growing: full attention and MLA; sliding-window layers stop at their window and
    linear-attention layers keep a fixed state). ``unit`` is "KiB" ("128.0 KiB") or "bytes"
    ("131,072 bytes"); ``expect`` checks the exact byte count; without ``kv_dtype``, the
    catalog's widest KV cache type (unquantized). Example:
    ``{{ kv_per_token("llama-3.1-8b", unit="bytes", expect=131072) }}``."""
    from generator.fit.memory import kv_bytes_per_token

    arch = ctx.matrix.catalog.models[ctx.model(model)].architecture
    kv = _kv_dtype(ctx, kv_dtype)
    value = kv_bytes_per_token(arch, kv.bits_per_element)
    _expect(expect, value, f"the KV bytes per token of {model} at {kv.id}")
    return _bytes_text(value, unit)


@shortcode
def kv_formula(ctx: ShortcodeContext, model: str, kv_dtype: str | None = None) -> str:
    """The per-token KV arithmetic for the model's attention type, numbers filled in: GQA/MHA
    "2 × KV heads × head dim", MLA "(latent rank + RoPE dim)", times the growing layers and the
    element size (without ``kv_dtype``, the catalog's widest KV cache type). Example:
    ``{{ kv_formula("deepseek-r1") }}`` → "(512 + 64) elements × 61
    layers × 16 bits ÷ 8 = 70,272 bytes per token"."""
    from generator.fit.memory import attention_layer_counts, kv_bytes_per_token

    arch = ctx.matrix.catalog.models[ctx.model(model)].architecture
    bits = _kv_dtype(ctx, kv_dtype).bits_per_element
    growing, windowed = attention_layer_counts(arch)
    if arch.mla is not None:
        shape = f"({arch.mla.kv_lora_rank} + {arch.mla.qk_rope_head_dim}) elements"
    else:
        shape = f"2 × {arch.kv_heads} KV heads × {arch.head_dim} dims"
    text = (
        f"{shape} × {growing} layers × {bits:g} bits ÷ 8 = "
        f"{kv_bytes_per_token(arch, bits):,} bytes per token"
    )
    if windowed and arch.sliding_window:
        text += f", plus {windowed} layers capped at {arch.sliding_window.window:,} tokens"
    if arch.linear_attention:
        text += f", plus a fixed state in {arch.linear_attention.layers} linear-attention layers"
    return text


@shortcode
def kv_cache(
    ctx: ShortcodeContext, model: str, context: int, kv_dtype: str | None = None, batch: int = 1
) -> str:
    """KV cache (and any linear-attention state) of ``batch`` sequences of ``context`` tokens,
    in GiB; sliding-window layers count at most their window; without ``kv_dtype``, the
    catalog's widest KV cache type. Example:
    ``{{ kv_cache("llama-3.1-70b", 131072) }}``."""
    from generator.fit.memory import estimate_kv_cache_bytes

    m = ctx.matrix.catalog.models[ctx.model(model)]
    for name, value, limit in (("context", context, m.max_context), ("batch", batch, 4096)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
            raise ShortcodeError(f"{name} must be a whole number 1 … {limit:,}, not {value!r}")
    bits = _kv_dtype(ctx, kv_dtype).bits_per_element
    return gib(estimate_kv_cache_bytes(m.architecture, context, batch, bits))


@shortcode
def linear_state(ctx: ShortcodeContext, model: str) -> str:
    """The fixed per-sequence state of a hybrid model's linear-attention layers, worked out:
    layers × (conv elements × 2 B + recurrent elements × 4 B). Example:
    ``{{ linear_state("qwen3.5-122b-a10b") }}``."""
    from generator.fit.memory import (
        LINEAR_CONV_STATE_BYTES,
        LINEAR_RECURRENT_STATE_BYTES,
        estimate_linear_state_bytes,
    )

    linear = ctx.matrix.catalog.models[ctx.model(model)].architecture.linear_attention
    if linear is None:
        raise ShortcodeError(f"{model} has no linear-attention layers")
    conv = (linear.conv_kernel - 1) * (
        2 * linear.key_heads * linear.key_head_dim + linear.value_heads * linear.value_head_dim
    )
    recurrent = linear.value_heads * linear.key_head_dim * linear.value_head_dim
    total = estimate_linear_state_bytes(linear)
    return (
        f"{linear.layers} layers × ({conv:,} conv elements × {LINEAR_CONV_STATE_BYTES} B + "
        f"{recurrent:,} recurrent elements × {LINEAR_RECURRENT_STATE_BYTES} B) = "
        f"{total:,} bytes ({_bytes_text(total, 'MiB')})"
    )


@shortcode
def overhead_formula(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int) -> str:
    """The runtime overhead of a configuration, worked out from the default runtime's profile:
    per-card MiB × cards + compute buffer + bytes per token × tokens. Example:
    ``{{ overhead_formula("llama-3.3-70b", "fp8", "h100-sxm", 2) }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    rt, s = r.setup.runtime, r.setup
    cards_word = "card" if r.cards == 1 else "cards"
    return (
        f"{rt.name}: {rt.per_gpu_overhead_mib:,g} MiB × {r.cards} {cards_word} + "
        f"{rt.compute_buffer_mib:,g} MiB + {rt.compute_buffer_bytes_per_token:,g} bytes × "
        f"{s.context * s.batch:,} tokens = {gib(r.memory.overhead, 2)}"
    )


@shortcode
def capacity_formula(ctx: ShortcodeContext, gpu: str, cards: int) -> str:
    """Effective memory worked out: one card is its VRAM; n ≥ 2 cards are n × VRAM per card ×
    scaling factor. Example: ``{{ capacity_formula("mi300x", 8) }}`` → "8 × 192.0 GiB × 0.88 =
    1,351.7 GiB"."""
    capacity = _capacity(ctx, gpu, cards)
    per_card = gib(capacity.raw / capacity.cards)
    if capacity.cards == 1:
        return f"1 card = {per_card}"
    return (
        f"{capacity.cards} × {per_card} × {capacity.scaling_factor:.2f} = {gib(capacity.effective)}"
    )


@shortcode
def speed_formula(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int) -> str:
    """Decode speed worked out: one step reads the active weights and the KV cache at the
    default context at efficiency × bandwidth, plus the runtime's fixed time per step;
    tokens/s = 1 ÷ that time. Tensor-parallel runtimes pool n × bandwidth × scaling factor;
    layer-split runtimes see one card's bandwidth. Example:
    ``{{ speed_formula("llama-3.3-70b", "awq-int4", "h100-sxm", 2) }}``."""
    from generator.fit.speed import effective_bandwidth_gbps

    r = _result(ctx, model, quant, gpu, cards)
    s, rt = r.setup, r.setup.runtime
    # The figures the engine's decode estimate read: the same sizing, not a second formula.
    sizing = ctx.matrix.sizing_for(s)
    active, kv = sizing.active_weights, sizing.kv_read
    bandwidth = effective_bandwidth_gbps(
        s.gpu.memory_bandwidth_gbps, r.cards, s.runtime.split, r.capacity.scaling_factor
    )
    return (
        f"1 ÷ (({active / 1e9:,.2f} GB of active weights + {kv / 1e9:,.2f} GB of KV cache) ÷ "
        f"({rt.decode_efficiency:g} × {bandwidth:,.0f} GB/s) + {rt.decode_step_overhead_ms:g} ms)"
        f" = {tokens_per_s(r.decode_tokens_per_s)} tokens/s"
    )
