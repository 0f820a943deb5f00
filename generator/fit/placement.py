"""Fit engine, runtime-true placement: what each card holds under a given runtime. Pure.

The seed's effective-VRAM rule (verdict.py) pools n cards into one number. Runtimes do not pool:
each card must hold its own share. This module splits the same weights, KV cache and overhead
across cards the way each runtime does:

- **Layer split** (llama.cpp, ExLlamaV2): whole layers per card, evenly; the token embeddings
  stay in system RAM; the output layer sits on the last card; every card carries its own CUDA
  context and compute buffer. KV cache lives with its layer.
- **Tensor parallel** (vLLM, TGI): every layer is sharded over ``tensor`` cards and stages of
  layers over ``pipeline`` groups. Weights divide by the shard count; KV heads divide too, but
  are replicated when there are fewer KV heads than shards; an MLA latent is replicated on every
  shard. Each card holds the full activation buffer. vLLM claims ``memory_utilization`` of each
  card and fills what its weights and buffers leave with KV cache.

Sources: llama.cpp ``src/llama-model.cpp`` (layer assignment, output on the last device) and
``src/llama-context.cpp``; vLLM ``gpu_worker.py`` memory profiling and ``config.py`` (KV heads
per rank = max(1, kv_heads // tp)); see runtimes.yaml and docs/research/runtime-calibration.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from generator.catalog.schema import Architecture
from generator.fit.commands import plan_parallel_layout
from generator.fit.memory import (
    MemoryBreakdown,
    attention_layer_counts,
    estimate_linear_state_bytes,
    kv_elements_per_layer_token,
)
from generator.fit.verdict import TIGHT_SHARE, Verdict


@dataclass(frozen=True)
class CardLoad:
    """What one card holds, in bytes."""

    index: int
    layers: int  # transformer layers placed on this card
    weights: int
    kv_cache: int
    overhead: int  # CUDA context, runtime state and compute/activation buffers
    reserved: int  # memory the runtime leaves unused on purpose (vLLM's 1 − utilization)

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead + self.reserved


@dataclass(frozen=True)
class Placement:
    """A configuration as the runtime lays it out: one load per card, and the verdict."""

    split: str  # "layer" or "tensor"
    tensor: int  # shards per layer (1 for layer split)
    pipeline: int  # groups of layers in sequence (cards for layer split)
    cards: tuple[CardLoad, ...]
    card_capacity: int  # bytes one card offers (its VRAM, or the GPU's share of unified memory)
    host_weights: int  # weights the runtime keeps in system RAM (layer split's embeddings)
    kv_pool_tokens: int | None  # tokens of KV cache the leftover memory holds (vLLM), per card

    @cached_property
    def fullest(self) -> CardLoad:
        """The card with the most to hold (the first of equals); pages ask for it often."""
        return max(self.cards, key=lambda c: (c.total, -c.index))

    @property
    def fits(self) -> bool:
        return self.fullest.total <= self.card_capacity

    @property
    def headroom(self) -> int:
        return self.card_capacity - self.fullest.total

    @property
    def verdict(self) -> Verdict:
        """Fits / tight / does not fit, judged on the fullest card."""
        if self.headroom < 0:
            return Verdict.TOO_BIG
        return Verdict.TIGHT if self.headroom < TIGHT_SHARE * self.card_capacity else Verdict.FITS


@dataclass(frozen=True)
class Shapes:
    """The parts of a model a placement moves around, in bytes at the chosen precisions."""

    layers: int
    layer_weights: float  # one transformer layer
    embed_weights: float  # token embeddings
    head_weights: float  # output projection (the embeddings again when tied)
    tied: bool


def split_weights(arch: Architecture, params_b: float, bits: float) -> Shapes:
    """Embeddings, output head and per-layer weights; layers share what remains evenly."""
    embed = arch.vocab_size * arch.hidden_size
    head = 0 if arch.tie_word_embeddings else embed
    per_layer = (params_b * 1e9 - embed - head) / arch.layers
    scale = bits / 8
    return Shapes(
        arch.layers, per_layer * scale, embed * scale, embed * scale, arch.tie_word_embeddings
    )


def even_layers(layers: int, groups: int) -> list[int]:
    """Layers per group when ``layers`` are split evenly in order (earlier groups get fewer)."""
    bounds = [layers * i // groups for i in range(groups + 1)]
    return [bounds[i + 1] - bounds[i] for i in range(groups)]


def llama_cpp_layers(layers: int, cards: int) -> list[int]:
    """Layers per card under llama.cpp's even --tensor-split.

    It splits ``layers + 1`` slots (the output layer counts as one) in proportion, so layer i
    goes to card floor(i × cards ÷ (layers + 1)) and the last card, which also holds the output
    layer, gets fewer repeating layers (llama.cpp src/llama-model.cpp, load_tensors). Card c
    so starts at layer ceil(c × (layers + 1) ÷ cards).
    """
    starts = [min(layers, -(-card * (layers + 1) // cards)) for card in range(cards + 1)]
    return [starts[card + 1] - starts[card] for card in range(cards)]


def place_layer_split(
    shapes: Shapes, memory: MemoryBreakdown, cards: int, card_capacity: int,
    per_card_overhead: int, buffer: int,
) -> Placement:  # fmt: skip
    """llama.cpp / ExLlamaV2: whole layers per card, the output layer on the last."""
    counts = llama_cpp_layers(shapes.layers, cards)
    kv_per_layer = memory.kv_cache / shapes.layers
    loads = []
    for index, layers in enumerate(counts):
        last = index == cards - 1
        weights = layers * shapes.layer_weights + (shapes.head_weights if last else 0)
        # Every device gets its own compute buffer (588 MiB on each of two devices in the
        # llama.cpp log of docs/research/placement-logs.md).
        overhead = per_card_overhead + buffer
        kv = round(kv_per_layer * layers)
        loads.append(CardLoad(index, layers, round(weights), kv, overhead, 0))
    return Placement(
        "layer", 1, cards, tuple(loads), card_capacity, round(shapes.embed_weights), None
    )


def shard_elements_per_layer_token(arch: Architecture, tensor: int) -> int:
    """KV elements one shard keeps per layer and token.

    GQA: each shard keeps max(1, kv_heads // tensor) heads, so heads are replicated when the
    shards outnumber them. MLA: the latent cannot be split by head and is kept whole on every
    shard.
    """
    if arch.mla is not None:
        return kv_elements_per_layer_token(arch)
    return 2 * max(1, arch.kv_heads // tensor) * arch.head_dim


def place_tensor_parallel(
    arch: Architecture, shapes: Shapes, cards: int, context: int, batch: int, kv_bits: float,
    card_capacity: int, per_card_overhead: int, buffer: int, utilization: float,
    honour_window: bool,
) -> Placement:  # fmt: skip
    """vLLM / TGI: layers sharded over ``tensor`` cards, stages of layers over ``pipeline``."""
    layout = plan_parallel_layout(arch, cards)
    t, p = layout.tensor, layout.pipeline
    kv_cache_card = _kv_per_shard(arch, context, batch, kv_bits, t, honour_window)
    reserved = round(card_capacity * (1 - utilization))
    loads = []
    for stage, layers in enumerate(even_layers(shapes.layers, p)):
        weights = layers * shapes.layer_weights
        if stage == 0:
            weights += shapes.embed_weights
        if stage == p - 1 and (not shapes.tied or p > 1):
            weights += shapes.head_weights
        kv = round(kv_cache_card * layers / shapes.layers)
        for shard in range(t):
            index = stage * t + shard
            loads.append(
                CardLoad(
                    index, layers, round(weights / t), kv, per_card_overhead + buffer, reserved
                )
            )
    placement = Placement("tensor", t, p, tuple(loads), card_capacity, 0, None)
    fullest = placement.fullest
    free = card_capacity - reserved - fullest.weights - fullest.overhead
    growing, windowed = attention_layer_counts(arch, honour_window)
    elements = shard_elements_per_layer_token(arch, t) * (growing + windowed)
    per_token = elements * kv_bits / 8 * fullest.layers / shapes.layers
    pool = max(0, int(free / per_token)) if per_token > 0 else None
    return Placement("tensor", t, p, tuple(loads), card_capacity, 0, pool)


def _kv_per_shard(
    arch: Architecture, context: int, batch: int, kv_bits: float, tensor: int, honour_window: bool
) -> float:
    """One shard's KV cache over all layers, windows and linear-attention state included."""
    per_layer = shard_elements_per_layer_token(arch, tensor)
    growing, windowed = attention_layer_counts(arch, honour_window)
    window = arch.sliding_window.window if arch.sliding_window else 0
    tokens = growing * context + windowed * min(context, window)
    state = (
        estimate_linear_state_bytes(arch.linear_attention) / tensor if arch.linear_attention else 0
    )
    return (tokens * per_layer * kv_bits / 8 + state) * batch
