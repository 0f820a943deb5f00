"""Fit engine, sizing: a setup's memory worked out once, then searched over cards and context. Pure.

The matrix asks each setup about several card counts of every GPU. ``Sizing`` holds what those
questions share (weight bytes, the cache layout, the memory on 1, 2, … cards), so most answers
are a lookup or a few integer operations; the figures are those of ``memory``, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from generator.catalog.schema import Runtime
from generator.fit.memory import KVLayout, MemoryBreakdown, estimate_overhead_bytes
from generator.fit.verdict import Capacity


@dataclass(frozen=True, slots=True)
class MemoryOnCards:
    """A setup's memory on one card count, in bytes."""

    memory: MemoryBreakdown  # at the setup's context
    shortest: int  # the total with one token of context
    longest: int  # the total at the model's longest context


@dataclass(frozen=True, slots=True)
class Sizing:
    """What a setup needs on any card, in bytes; see ``compute_sizing`` in ``engine``.

    The memory on each card count is worked out the first time it is asked for, then kept.
    """

    weights: int  # all weights, every expert of a MoE included
    active_weights: int  # the weights one decode step reads (only the active experts)
    kv: KVLayout  # the cache of one sequence
    batch: int  # sequences decoded together
    runtime: Runtime  # its per-card and per-token overhead
    context: int  # the setup's context, tokens
    max_context: int  # the model's longest context, tokens
    kv_cache: int  # the whole batch's cache at ``context``
    kv_cache_shortest: int  # the same with one token of context
    kv_cache_longest: int  # the same at ``max_context``
    kv_read: int  # the cache one decode step reads for one sequence at ``context``
    kv_read_at_start: int  # the same with one token in the cache
    _on: dict[int, MemoryOnCards] = field(default_factory=dict, repr=False, compare=False)

    def on(self, cards: int) -> MemoryOnCards:
        """The memory on ``cards`` cards."""
        found = self._on.get(cards)
        if found is None:
            found = self._on[cards] = self._work_out(cards)
        return found

    def memory(self, cards: int) -> MemoryBreakdown:
        """The memory on ``cards`` cards at the setup's context."""
        return self.on(cards).memory

    def memory_at(self, cards: int, context: int) -> MemoryBreakdown:
        """Weights + KV cache + runtime overhead on ``cards`` cards at ``context`` tokens."""
        kv_cache = self.kv.cache_bytes(context, self.batch)
        overhead = estimate_overhead_bytes(self.runtime, cards, context)
        return MemoryBreakdown(self.weights, kv_cache, overhead)

    def total_at(self, cards: int, context: int) -> int:
        """``memory_at(cards, context).total`` without building the breakdown."""
        kv_cache = self.kv.cache_bytes(context, self.batch)
        return self.weights + kv_cache + estimate_overhead_bytes(self.runtime, cards, context)

    def _work_out(self, cards: int) -> MemoryOnCards:
        """The memory on ``cards`` cards, from the KV caches worked out ahead."""

        def overhead(context: int) -> int:
            return estimate_overhead_bytes(self.runtime, cards, context)

        memory = MemoryBreakdown(self.weights, self.kv_cache, overhead(self.context))
        shortest = self.weights + self.kv_cache_shortest + overhead(1)
        longest = self.weights + self.kv_cache_longest + overhead(self.max_context)
        return MemoryOnCards(memory, shortest, longest)


def find_min_cards(sizing: Sizing, capacities: Sequence[Capacity]) -> int | None:
    """The smallest card count whose capacity holds the setup, or None.

    ``capacities[n - 1]`` is the capacity of n cards, up to the card's maximum.
    """
    for cards, capacity in enumerate(capacities, start=1):
        if sizing.memory(cards).total <= capacity.effective:
            return cards
    return None


def find_max_context(sizing: Sizing, cards: int, capacity: int) -> int:
    """The longest context (tokens, up to the model's maximum) that fits in ``capacity`` bytes
    on ``cards`` cards; 0 if none.

    Memory never shrinks as context grows and is linear between the sliding-window kink points,
    so an interpolation search (with bisection when interpolation stalls) finds the exact
    boundary in a handful of evaluations. Invariant: ``low`` fits, ``high`` does not.
    """
    ends = sizing.on(cards)
    low, high = 1, sizing.max_context
    need_low, need_high = ends.shortest, ends.longest
    if need_low > capacity:
        return 0
    if need_high <= capacity:
        return high
    bisect = False
    while high - low > 1:
        width = high - low
        slope = (need_high - need_low) / width
        if bisect or slope <= 0:
            guess = (low + high) // 2
        else:
            guess = min(max(low + int((capacity - need_low) / slope), low + 1), high - 1)
        need_guess = sizing.total_at(cards, guess)
        if need_guess <= capacity:
            low, need_low = guess, need_guess
        else:
            high, need_high = guess, need_guess
        # Interpolation can crawl on a bent curve: bisect next whenever it gained too little.
        bisect = not bisect and (high - low) * 2 > width
    return low
