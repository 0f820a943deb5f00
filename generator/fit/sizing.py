"""Fit engine, sizing: a setup's memory worked out once, then searched over cards and context. Pure.

The matrix asks each setup about several card counts of every GPU. ``Sizing`` holds what those
questions share — weight bytes, the cache layout, the pooled memory on 1, 2, … cards and the
runtime's per-card ``Layout`` for each card count — so most answers are a lookup or a few
integer operations. Nothing here depends on which GPU is asked about: only the card's usable
bytes (its limit) does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.catalog.architecture import Architecture
from generator.catalog.schema import Runtime
from generator.fit.memory import (
    KVLayout,
    MemoryBreakdown,
    card_fixed_overhead_bytes,
    compute_kv_layout,
    estimate_overhead_bytes,
)
from generator.fit.placement import Layout
from generator.fit.setup import Setup
from generator.fit.shapes import Shapes, make_shapes
from generator.fit.splits import plan_layer_split, plan_tensor_parallel
from generator.fit.weights import estimate_weights


@dataclass(frozen=True, slots=True)
class MemoryOnCards:
    """A setup's pooled memory on one card count, in bytes (the planning margin's figures)."""

    memory: MemoryBreakdown  # at the setup's context
    shortest: int  # the total with one token of context
    longest: int  # the total at the model's longest context


@dataclass(eq=False, slots=True)
class Sizing:
    """What a setup needs on any card, in bytes; ``compute_sizing`` makes one.

    A plain class that fills caches: pooled memory, layouts and searches are worked out the
    first time a card count (or limit) is asked for, then kept. The figures never change.
    """

    weights: int  # all weights, every expert of a MoE included
    active_weights: int  # the weights one decode step reads (only the active experts)
    kv: KVLayout  # the cache of one sequence
    batch: int  # sequences decoded together
    runtime: Runtime  # its split, per-card and per-token overhead
    context: int  # the setup's context, tokens
    max_context: int  # the model's longest context, tokens
    kv_cache: int  # the whole batch's cache at ``context``
    kv_cache_shortest: int  # the same with one token of context
    kv_cache_longest: int  # the same at ``max_context``
    kv_read: int  # the cache one decode step reads for one sequence at ``context``
    kv_read_at_start: int  # the same with one token in the cache
    arch: Architecture
    shapes: Shapes  # the weights split into embeddings, layers and output head
    _on: dict[int, MemoryOnCards] = field(default_factory=dict, repr=False)
    _layouts: dict[int, Layout | None] = field(default_factory=dict, repr=False)
    _needs: dict[int, int | None] = field(default_factory=dict, repr=False)
    _fewest: dict[tuple[int, int], int | None] = field(default_factory=dict, repr=False)
    _longest: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)

    def on(self, cards: int) -> MemoryOnCards:
        """The pooled memory on ``cards`` cards."""
        found = self._on.get(cards)
        if found is None:
            found = self._on[cards] = self._work_out(cards)
        return found

    def memory(self, cards: int) -> MemoryBreakdown:
        """The pooled memory on ``cards`` cards at the setup's context."""
        return self.on(cards).memory

    def memory_at(self, cards: int, context: int) -> MemoryBreakdown:
        """Weights + KV cache + runtime overhead on ``cards`` cards at ``context`` tokens."""
        kv_cache = self.kv.cache_bytes(context, self.batch)
        overhead = estimate_overhead_bytes(self.runtime, cards, context)
        return MemoryBreakdown(self.weights, kv_cache, overhead)

    def layout(self, cards: int) -> Layout | None:
        """The runtime's layout on ``cards`` cards, or None when it cannot shard that way
        (a runtime without pipeline stages needs the cards to divide the attention heads)."""
        if cards in self._layouts:
            return self._layouts[cards]
        found = self._layouts[cards] = self._plan(cards)
        return found

    def need(self, cards: int) -> int | None:
        """Bytes the fullest of ``cards`` cards holds at the setup's context (None: no layout)."""
        if cards in self._needs:
            return self._needs[cards]
        layout = self.layout(cards)
        found = self._needs[cards] = None if layout is None else layout.need(self.context)
        return found

    def fewest_cards(self, limit: int, most: int) -> int | None:
        """The smallest card count (1 … ``most``) whose fullest card stays within ``limit``
        bytes; None if none does. Kept per limit: cards of the same size share the answer."""
        key = (limit, most)
        if key in self._fewest:
            return self._fewest[key]
        found = None
        for cards in range(1, most + 1):
            need = self.need(cards)
            if need is not None and need <= limit:
                found = cards
                break
        self._fewest[key] = found
        return found

    def longest_context(self, cards: int, limit: int) -> int:
        """The longest context (tokens, up to the model's maximum) whose fullest card stays
        within ``limit`` bytes on ``cards`` cards; 0 if none or the runtime cannot lay it out.
        Kept per card count and limit: cards of the same size share the answer."""
        key = (cards, limit)
        found = self._longest.get(key)
        if found is None:
            layout = self.layout(cards)
            found = 0 if layout is None else layout.max_context(limit, self.max_context)
            self._longest[key] = found
        return found

    def _plan(self, cards: int) -> Layout | None:
        rt = self.runtime
        fixed = card_fixed_overhead_bytes(rt)
        per_token = rt.compute_buffer_bytes_per_token
        if rt.split == "layer":
            return plan_layer_split(self.shapes, self.kv, self.batch, cards, fixed, per_token)
        layout = plan_tensor_parallel(
            self.arch, self.shapes, self.kv, self.batch, cards, fixed, per_token
        )
        if layout.pipeline > 1 and not rt.pipeline_parallel:
            return None
        return layout

    def _work_out(self, cards: int) -> MemoryOnCards:
        """The pooled memory on ``cards`` cards, from the KV caches worked out ahead."""

        def overhead(context: int) -> int:
            return estimate_overhead_bytes(self.runtime, cards, context)

        memory = MemoryBreakdown(self.weights, self.kv_cache, overhead(self.context))
        shortest = self.weights + self.kv_cache_shortest + overhead(1)
        longest = self.weights + self.kv_cache_longest + overhead(self.max_context)
        return MemoryOnCards(memory, shortest, longest)


def compute_sizing(setup: Setup) -> Sizing:
    """The setup's memory figures that no card changes."""
    model = setup.model
    arch = model.architecture
    weights = estimate_weights(model, setup.quant, gguf=setup.runtime.launcher == "llama-cpp")
    kv = compute_kv_layout(arch, setup.kv.bits_per_element, setup.honours_window)
    return Sizing(
        weights=weights.total,
        active_weights=weights.active(arch.experts, arch.experts_per_token),
        kv=kv,
        batch=setup.batch,
        runtime=setup.runtime,
        context=setup.context,
        max_context=model.max_context,
        kv_cache=kv.cache_bytes(setup.context, setup.batch),
        kv_cache_shortest=kv.cache_bytes(1, setup.batch),
        kv_cache_longest=kv.cache_bytes(model.max_context, setup.batch),
        kv_read=kv.cache_bytes(setup.context, 1),
        kv_read_at_start=kv.cache_bytes(1, 1),
        arch=model.architecture,
        shapes=make_shapes(weights, arch.tie_word_embeddings),
    )
