"""Fit engine, placement: what each card holds, before and at a chosen context. Pure.

Whether a configuration loads is decided card by card: each card must hold its own share. A
``Layout`` is the context-free part of a runtime's plan (who holds which layers and weights,
made by ``fit.splits``); ``Layout.need`` gives the fullest card's bytes at any context, and
``Layout.place`` the per-card loads as a ``Placement``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from generator.catalog.schema import SplitMode
from generator.fit.memory import KVLayout


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


@dataclass(eq=False)
class Placement:
    """A configuration as the runtime lays it out at one context: one load per card.

    A plain class: ``fullest`` is worked out on first read and kept.
    """

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
