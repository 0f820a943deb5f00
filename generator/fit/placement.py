"""Fit engine, runtime-true placement: what each card holds under a given runtime. Pure.

Whether a configuration loads is decided card by card: each card must hold its own share. This
module lays the same weights, KV cache and overhead out over cards the way each runtime does:

- **Layer split** (llama.cpp, ExLlamaV2, MLX): whole layers per card, evenly; the token
  embeddings stay in system RAM; the output layer sits on the last card; every card carries its
  own CUDA context and compute buffer. KV cache lives with its layer.
- **Tensor parallel** (vLLM, TGI): every layer is sharded over ``tensor`` cards and stages of
  layers over ``pipeline`` groups. Weights divide by the shard count; KV heads divide too, but
  are replicated when there are fewer KV heads than shards; an MLA latent is replicated on every
  shard. Each card holds the full activation buffer. vLLM claims ``memory_utilization`` of each
  card and fills what its weights and buffers leave with KV cache.

A ``Layout`` is the context-free part (who holds which layers and weights); ``Layout.need``
gives the fullest card's bytes at any context, and ``Layout.place`` the per-card loads.

Sources: llama.cpp ``src/llama-model.cpp`` (layer assignment, output on the last device) and
``src/llama-context.cpp``; vLLM ``gpu_worker.py`` memory profiling and ``config.py`` (KV heads
per rank = max(1, kv_heads // tp)); see runtimes.yaml and docs/research/runtime-calibration.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from generator.catalog.architecture import Architecture
from generator.catalog.schema import SplitMode
from generator.fit.commands import plan_parallel_layout
from generator.fit.memory import KVLayout
from generator.fit.tensors import WeightSizes


@dataclass(frozen=True, slots=True)
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
    """A configuration as the runtime lays it out at one context: one load per card."""

    split: SplitMode
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


@dataclass(frozen=True, slots=True)
class Shapes:
    """The parts of a model a placement moves around, in bytes at the chosen precisions."""

    layers: int
    prefix: tuple[int, ...]  # prefix[i]: bytes of repeating layers 0 … i − 1 (layers + 1 items)
    embed_weights: int  # token embeddings
    head_weights: int  # output projection (the embeddings again when tied)
    tied: bool
    routed_experts: int  # bytes of every routed expert, all layers
    routed_prefix: tuple[int, ...] = (0,)  # routed_prefix[i]: routed experts of layers 0 … i − 1

    @property
    def layer_weights(self) -> float:
        """The average repeating layer, bytes."""
        return self.prefix[-1] / self.layers

    def span(self, start: int, count: int) -> int:
        """Bytes of ``count`` repeating layers from ``start``."""
        return self.prefix[start + count] - self.prefix[start]


def make_shapes(sizes: WeightSizes, tied: bool) -> Shapes:
    """A placement's view of a checkpoint's tensor sizes (``fit.tensors``)."""
    head = sizes.embedding if tied else sizes.output
    return Shapes(
        len(sizes.layers), _prefix(sizes.layers), sizes.embedding, head + sizes.other, tied,
        sizes.routed_total, _prefix(sizes.routed_experts),
    )  # fmt: skip


def without_experts(shapes: Shapes, layers: int) -> Shapes:
    """The shapes with the routed experts of the first ``layers`` layers kept off the cards
    (llama.cpp's ``--n-cpu-moe N``): those layers stay on their cards, lighter."""
    routed = shapes.routed_prefix
    prefix = tuple(p - routed[min(i, layers)] for i, p in enumerate(shapes.prefix))
    return Shapes(
        shapes.layers, prefix, shapes.embed_weights, shapes.head_weights, shapes.tied,
        shapes.routed_experts - routed[layers], routed,
    )  # fmt: skip


def _prefix(values: tuple[int, ...]) -> tuple[int, ...]:
    sums = [0]
    for value in values:
        sums.append(sums[-1] + value)
    return tuple(sums)


@dataclass(frozen=True, slots=True)
class CardShare:
    """The context-free part of one card's load: its layers and weights, in bytes."""

    index: int
    layers: int
    weights: int


@dataclass(frozen=True, slots=True)
class Layout:
    """How a runtime lays one model out on n cards, before the context is chosen.

    Each card holds ``weights`` plus its layers' share of ``kv`` (one shard's cache over every
    layer) plus the same overhead: ``fixed`` bytes and ``buffer_per_token`` per context token.
    """

    split: SplitMode
    tensor: int
    pipeline: int
    cards: tuple[CardShare, ...]
    layers: int  # the model's transformer layers
    kv: KVLayout  # one shard's cache of one sequence over all layers
    batch: int  # sequences whose cache every card holds its share of
    fixed: int  # per-card overhead and fixed compute buffer, bytes
    buffer_per_token: float  # compute buffer growth per context token, bytes
    host_weights: int  # weights kept in system RAM
    candidates: tuple[CardShare, ...]  # the cards that can be the fullest at some context

    def overhead(self, context: int) -> int:
        """Runtime bytes on every card at ``context`` tokens."""
        return self.fixed + round(self.buffer_per_token * context)

    def need(self, context: int) -> int:
        """Bytes the fullest card holds at ``context`` tokens (before any reserved share)."""
        kv = self.kv.cache_bytes(context, self.batch)
        most = max(c.weights + round(kv * c.layers / self.layers) for c in self.candidates)
        return most + self.overhead(context)

    def max_sequences(self, context: int, limit: int) -> int:
        """How many sequences of ``context`` tokens the cards' KV room holds at once: what is
        left of ``limit`` on each card after weights and overhead, over one sequence's share
        there (vLLM's "maximum concurrency", llama.cpp's --parallel slots); 0 if not one."""
        one = self.kv.cache_bytes(context, 1)
        overhead = self.overhead(context)
        most = None
        for c in self.candidates:
            share = round(one * c.layers / self.layers)
            room = limit - c.weights - overhead
            fits = room // share if share > 0 else None
            if fits is not None:
                most = fits if most is None else min(most, fits)
        return max(0, most) if most is not None else 0

    def max_context(self, limit: int, longest: int) -> int:
        """The longest context (≤ ``longest``) whose fullest card stays within ``limit`` bytes."""
        return find_max_context(self.need, longest, limit)

    def place(self, context: int, card_capacity: int, utilization: float) -> Placement:
        """Every card's load at ``context`` tokens on cards of ``card_capacity`` bytes."""
        kv = self.kv.cache_bytes(context, self.batch)
        overhead = self.overhead(context)
        reserved = round(card_capacity * (1 - utilization))
        loads = tuple(
            CardLoad(c.index, c.layers, c.weights, round(kv * c.layers / self.layers), overhead,
                     reserved)
            for c in self.cards
        )  # fmt: skip
        pool = None
        if self.split == "tensor":
            fullest = max(self.candidates, key=lambda c: (c.weights, c.layers))
            free = card_capacity - reserved - fullest.weights - overhead
            per_token = (self.kv.growing + self.kv.windowed) * self.kv.bits / 8
            per_token *= fullest.layers / self.layers
            pool = max(0, int(free / per_token)) if per_token > 0 else None
        return Placement(
            self.split, self.tensor, self.pipeline, loads, card_capacity, self.host_weights, pool
        )


def find_max_context(need: Callable[[int], int], longest: int, limit: int) -> int:
    """The largest context in 1 … ``longest`` with ``need(context) <= limit``; 0 if none.

    ``need`` never shrinks as context grows and is linear between the sliding-window kink
    points, so an interpolation search (bisecting when interpolation stalls) finds the exact
    boundary in a handful of evaluations. Invariant: ``low`` fits, ``high`` does not.
    """
    low, high = 1, longest
    need_low, need_high = need(low), need(high)
    if need_low > limit:
        return 0
    if need_high <= limit:
        return high
    bisect = False
    while high - low > 1:
        width = high - low
        slope = (need_high - need_low) / width
        if bisect or slope <= 0:
            guess = (low + high) // 2
        else:
            guess = min(max(low + int((limit - need_low) / slope), low + 1), high - 1)
        need_guess = need(guess)
        if need_guess <= limit:
            low, need_low = guess, need_guess
        else:
            high, need_high = guess, need_guess
        # Interpolation can crawl on a bent curve: bisect next whenever it gained too little.
        bisect = not bisect and (high - low) * 2 > width
    return low


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


def plan_layer_split(
    shapes: Shapes, kv: KVLayout, batch: int, cards: int, fixed: int, buffer_per_token: float
) -> Layout:
    """llama.cpp / ExLlamaV2 / MLX: whole layers per card, the output layer on the last.

    Every device gets its own compute buffer (588 MiB on each of two devices in the llama.cpp
    log of docs/research/placement-logs.md).
    """
    shares = []
    start = 0
    for index, layers in enumerate(llama_cpp_layers(shapes.layers, cards)):
        head = shapes.head_weights if index == cards - 1 else 0
        shares.append(CardShare(index, layers, shapes.span(start, layers) + head))
        start += layers
    return _layout("layer", 1, cards, shares, shapes, kv, batch, fixed, buffer_per_token,
                   round(shapes.embed_weights))  # fmt: skip


def plan_tensor_parallel(
    arch: Architecture, shapes: Shapes, kv: KVLayout, batch: int, cards: int, fixed: int,
    buffer_per_token: float,
) -> Layout:  # fmt: skip
    """vLLM / TGI: layers sharded over ``tensor`` cards, stages of layers over ``pipeline``.

    ``kv`` is the cache of one whole sequence; each shard keeps its heads (see
    ``shard_kv_layout``).
    """
    plan = plan_parallel_layout(arch, cards)
    t, p = plan.tensor, plan.pipeline
    shares = []
    start = 0
    for stage, layers in enumerate(even_layers(shapes.layers, p)):
        weights = shapes.span(start, layers)
        start += layers
        if stage == 0:
            weights += shapes.embed_weights
        if stage == p - 1 and (not shapes.tied or p > 1):
            weights += shapes.head_weights
        shares += [CardShare(stage * t + s, layers, round(weights / t)) for s in range(t)]
    shard = shard_kv_layout(arch, kv, t)
    return _layout("tensor", t, p, shares, shapes, shard, batch, fixed, buffer_per_token, 0)


def shard_kv_layout(arch: Architecture, kv: KVLayout, tensor: int) -> KVLayout:
    """One tensor-parallel shard's cache: GQA heads divided (replicated when the shards
    outnumber them); an MLA latent kept whole on every shard; linear-attention state divided."""
    if tensor == 1:
        return kv
    ratio = 1.0
    if arch.mla is None:
        ratio = max(1, arch.kv_heads // tensor) / arch.kv_heads
    return KVLayout(
        round(kv.growing * ratio), round(kv.windowed * ratio), kv.window, kv.bits,
        round(kv.state / tensor),
    )  # fmt: skip


def _layout(
    split: SplitMode, tensor: int, pipeline: int, shares: list[CardShare], shapes: Shapes,
    kv: KVLayout, batch: int, fixed: int, buffer_per_token: float, host: int,
) -> Layout:  # fmt: skip
    # A card can be the fullest only if no other card holds at least as many weights and layers.
    candidates = tuple(
        c for c in shares
        if not any(o is not c and o.weights >= c.weights and o.layers >= c.layers
                   and (o.weights, o.layers, -o.index) > (c.weights, c.layers, -c.index)
                   for o in shares)
    )  # fmt: skip
    return Layout(split, tensor, pipeline, tuple(shares), shapes.layers, kv, batch, fixed,
                  buffer_per_token, host, candidates)  # fmt: skip
