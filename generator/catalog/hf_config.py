"""Bring your own model: a Hugging Face ``config.json`` (as a dict) → the catalog's shapes. Pure.

No I/O here: the caller reads the file. ``read_config`` checks the fields one family needs
(the families: hf_families.py) and returns ``ConfigShapes``; ``make_architecture`` gives the
catalog's ``Architecture``; the parameter count from the same shapes is in
generator/catalog/params.py. Every problem raises ``ConfigError`` (hf_fields.py) naming the
field (``num_hidden_layers: missing``), never a bare ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from generator.catalog.architecture import MLA, Architecture, LinearAttention, SlidingWindow
from generator.catalog.hf_families import FAMILIES, Family
from generator.catalog.hf_fields import ConfigError, ConfigFields

#: Catalog field → config key, so a schema complaint names the key the user wrote.
_CONFIG_KEYS = {
    "layers": "num_hidden_layers", "hidden_size": "hidden_size",
    "attention_heads": "num_attention_heads", "kv_heads": "num_key_value_heads",
    "head_dim": "head_dim", "vocab_size": "vocab_size", "experts": "num_experts",
    "experts_per_token": "num_experts_per_tok",
}  # fmt: skip


@dataclass(frozen=True)
class MoE:
    """The mixture-of-experts part of a config; ``layers[i]`` says whether layer i has experts."""

    experts: int
    top_k: int
    width: int  # one expert's FFN width
    shared: int  # shared experts per MoE layer
    shared_width: int  # FFN width of all shared experts together
    layers: tuple[bool, ...]
    first_dense: int | None  # leading dense layers (DeepSeek, GLM)
    step: int | None  # every step-th layer is MoE (Llama 4, Qwen decoder_sparse_step)


@dataclass(frozen=True)
class ConfigShapes:
    """Every shape the parameter count and the catalog's Architecture need, read from a config."""

    model_type: str
    family: Family
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tie: bool
    max_context: int
    dense_width: int | None  # FFN width of dense layers (None when every layer is MoE)
    qkv_bias: bool
    o_bias: bool
    qk_norm: bool
    mla: MLA | None
    window: SlidingWindow | None
    linear: LinearAttention | None
    moe: MoE | None
    native_dtype: str
    name_or_path: str | None


def read_config(raw: Mapping[str, Any]) -> ConfigShapes:
    """Check ``raw`` (a parsed config.json) and read its shapes; raise ConfigError on a problem."""
    cfg = ConfigFields.of(raw)
    family = FAMILIES[cfg.model_type]
    layers = cfg.positive("num_hidden_layers")
    heads = cfg.positive("num_attention_heads")
    hidden = cfg.positive("hidden_size")
    mla = _read_mla(cfg) if family.mla else None
    head_dim = (
        mla.qk_rope_head_dim + (mla.qk_nope_head_dim or 0)
        if mla
        else cfg.positive("head_dim", hidden // heads if hidden % heads == 0 else None)
    )
    moe = _read_moe(cfg, family, layers)
    needs_dense = moe is None or not all(moe.layers)
    return ConfigShapes(
        model_type=cfg.model_type,
        family=family,
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=cfg.positive("num_key_value_heads", heads),
        head_dim=head_dim,
        vocab=cfg.positive("vocab_size"),
        tie=cfg.boolean("tie_word_embeddings", family.tie_default),
        max_context=cfg.positive("max_position_embeddings"),
        dense_width=_dense_width(cfg, family) if needs_dense else None,
        qkv_bias=family.bias == "qkv" or (family.bias != "none" and cfg.flag("attention_bias")),
        o_bias=family.bias == "config" and cfg.flag("attention_bias"),
        qk_norm=family.qk_norm == "always" or (
            family.qk_norm == "config" and cfg.flag("use_qk_norm")
        ),
        mla=mla,
        window=_read_window(cfg, family, layers),
        linear=_read_linear(cfg, layers) if family.hybrid else None,
        moe=moe,
        native_dtype=_native_dtype(cfg),
        name_or_path=cfg.text("_name_or_path"),
    )  # fmt: skip


def _dense_width(cfg: ConfigFields, family: Family) -> int:
    # Llama 4 names its dense FFN width intermediate_size_mlp; intermediate_size is an expert's.
    return cfg.positive("intermediate_size_mlp" if family.moe == "llama4" else "intermediate_size")


def _read_mla(cfg: ConfigFields) -> MLA:
    q_rank = cfg.get("q_lora_rank")
    return MLA(
        kv_lora_rank=cfg.positive("kv_lora_rank"),
        qk_rope_head_dim=cfg.positive("qk_rope_head_dim"),
        q_lora_rank=None if q_rank is None else cfg.positive("q_lora_rank"),
        qk_nope_head_dim=cfg.positive("qk_nope_head_dim"),
        v_head_dim=cfg.positive("v_head_dim"),
    )


def _read_linear(cfg: ConfigFields, layers: int) -> LinearAttention:
    types = cfg.layer_types(layers)
    if types is not None:
        count = types.count("linear_attention")
    else:
        count = layers - layers // cfg.positive("full_attention_interval", 4)
    if count == 0:
        raise cfg.error("layer_types", "names no linear_attention layer")
    return LinearAttention(
        layers=count,
        conv_kernel=cfg.positive("linear_conv_kernel_dim"),
        key_heads=cfg.positive("linear_num_key_heads"),
        value_heads=cfg.positive("linear_num_value_heads"),
        key_head_dim=cfg.positive("linear_key_head_dim"),
        value_head_dim=cfg.positive("linear_value_head_dim"),
    )


def _read_window(cfg: ConfigFields, family: Family, layers: int) -> SlidingWindow | None:
    """Layers whose cache stops at a window (sliding or chunked attention), from the family's
    rule or an explicit layer_types list."""
    if family.window == "none":
        return None
    if family.window == "chunked":
        return _chunked_window(cfg, layers)
    types = cfg.layer_types(layers)
    if types is not None:
        windowed = types.count("sliding_attention")
    elif family.window == "all":
        windowed = layers
    elif family.window == "qwen":
        # Qwen2/3: layers from max_window_layers on use the window, only with use_sliding_window.
        windowed = (
            layers - cfg.count("max_window_layers", layers) if cfg.flag("use_sliding_window") else 0
        )
    elif family.window == "alternate":
        windowed = (layers + 1) // 2  # even-indexed layers slide (Gemma 2, gpt-oss)
    else:  # pattern: every n-th layer is global (Gemma 3, sliding_window_pattern)
        windowed = layers - layers // cfg.positive("sliding_window_pattern")
    size = cfg.get("sliding_window")
    if windowed <= 0 or size is None:
        return None
    window = cfg.positive("sliding_window")
    if window >= cfg.positive("max_position_embeddings"):
        return None  # a window as long as the context never caps anything
    return SlidingWindow(window=window, layers=windowed)


def _chunked_window(cfg: ConfigFields, layers: int) -> SlidingWindow | None:
    """Llama 4: RoPE layers attend within attention_chunk_size tokens; every n-th is global."""
    if cfg.get("attention_chunk_size") is None:
        return None
    chunk = cfg.positive("attention_chunk_size")
    types = cfg.layer_types(layers)
    flags = cfg.get("no_rope_layers")
    if types is not None:
        chunked = types.count("chunked_attention")
    elif isinstance(flags, list) and flags:
        if len(flags) != layers:
            raise cfg.error("no_rope_layers", f"lists {len(flags)} layers, not {layers}")
        chunked = sum(1 for f in flags if f)  # 1 = this layer uses RoPE and the chunk mask
    else:
        chunked = layers - layers // cfg.positive("no_rope_layer_interval", 4)
    return SlidingWindow(window=chunk, layers=chunked) if chunked else None


def _read_moe(cfg: ConfigFields, family: Family, layers: int) -> MoE | None:
    if family.moe == "none":
        return None
    if family.moe == "mixtral":  # Mixtral, gpt-oss: every layer, experts as wide as the FFN
        experts, width = cfg.positive("num_local_experts"), cfg.positive("intermediate_size")
        return MoE(experts, cfg.positive("num_experts_per_tok"), width, 0, 0,
                   (True,) * layers, None, None)  # fmt: skip
    if family.moe == "llama4":
        step = cfg.positive("interleave_moe_layer_step", 1)
        width = cfg.positive("intermediate_size")
        flags = tuple((i + 1) % step == 0 for i in range(layers))
        return MoE(cfg.positive("num_local_experts"), cfg.positive("num_experts_per_tok"), width,
                   1, width, flags, None, step if step > 1 else None)  # fmt: skip
    if family.moe == "deepseek":
        return _deepseek_moe(cfg, layers)
    if family.hybrid and cfg.get("num_experts") is None:
        return None  # dense Qwen3.5 (qwen3_5_text): no experts
    return _qwen_moe(cfg, family, layers)


def _deepseek_moe(cfg: ConfigFields, layers: int) -> MoE:
    """DeepSeek V2/V3, Kimi K2, GLM-4 MoE: dense leading layers, then every freq-th layer."""
    experts = cfg.positive("n_routed_experts")
    first = cfg.count("first_k_dense_replace", 0)
    freq = cfg.positive("moe_layer_freq", 1)
    flags = tuple(i >= first and i % freq == 0 for i in range(layers))
    width = cfg.positive("moe_intermediate_size")
    shared = cfg.count("n_shared_experts", 0)
    return MoE(experts, cfg.positive("num_experts_per_tok"), width, shared, shared * width, flags,
               first, freq if freq > 1 else None)  # fmt: skip


def _qwen_moe(cfg: ConfigFields, family: Family, layers: int) -> MoE:
    """Qwen2/3 MoE, Qwen3-Next, Qwen3.5: every decoder_sparse_step-th layer not in
    mlp_only_layers; Qwen2-MoE, Qwen3-Next and Qwen3.5 add one gated shared expert."""
    step = cfg.positive("decoder_sparse_step", 1)
    only_dense = cfg.get("mlp_only_layers") or []
    if not isinstance(only_dense, list):
        raise cfg.error("mlp_only_layers", "expected a list of layer indexes")
    flags = tuple(i not in only_dense and (i + 1) % step == 0 for i in range(layers))
    shared_width = cfg.positive("shared_expert_intermediate_size") if family.shared_gate else 0
    return MoE(cfg.positive("num_experts"), cfg.positive("num_experts_per_tok"),
               cfg.positive("moe_intermediate_size"), 1 if shared_width else 0, shared_width,
               flags, None, step if step > 1 else None)  # fmt: skip


def _native_dtype(cfg: ConfigFields) -> str:
    """The released weights' format: the quantization method if any, else the dtype."""
    quant = cfg.get("quantization_config")
    if isinstance(quant, Mapping) and isinstance(quant.get("quant_method"), str):
        return str(quant["quant_method"])
    dtype = cfg.text("torch_dtype") or cfg.text("dtype") or "bfloat16"
    return {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}.get(dtype, dtype)


def _shared_width(moe: MoE | None) -> int | None:
    """One shared expert's width, when it differs from a routed expert's (else None)."""
    if moe is None or not moe.shared:
        return None
    one = moe.shared_width // moe.shared
    return None if one == moe.width else one


def make_architecture(s: ConfigShapes) -> Architecture:
    """The catalog's Architecture for the shapes; schema problems name the config key."""
    moe = s.moe
    try:
        return Architecture(
            attention="mla" if s.mla else "gqa",
            layers=s.layers,
            hidden_size=s.hidden,
            attention_heads=s.heads,
            kv_heads=s.kv_heads,
            head_dim=s.head_dim,
            vocab_size=s.vocab,
            tie_word_embeddings=s.tie,
            mla=s.mla,
            sliding_window=s.window,
            linear_attention=s.linear,
            experts=moe.experts if moe else None,
            experts_per_token=moe.top_k if moe else None,
            intermediate_size=s.dense_width,
            moe_intermediate_size=moe.width if moe else None,
            shared_experts=moe.shared if moe else None,
            shared_expert_intermediate_size=_shared_width(moe),
            first_dense_layers=moe.first_dense if moe and moe.first_dense else None,
            moe_layer_step=moe.step if moe else None,
            attention_output_gate=s.family.output_gate,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _CONFIG_KEYS.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else "config"
        raise ConfigError(key, str(err["msg"]).removeprefix("Value error, ")) from None
