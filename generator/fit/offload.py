"""Fit engine, partial offload: when VRAM alone is too small but VRAM plus system RAM is not. Pure.

Two plans, both llama.cpp's:

- **Layers** (``-ngl`` below the layer count): as many whole layers as fit stay on the cards,
  the rest — with their KV cache — run on the CPU from system RAM.
- **Experts** (``--n-cpu-moe`` / ``-ot exps=CPU``, mixture-of-experts only): attention, shared
  experts and the KV cache stay on the cards; the routed experts live in system RAM, and each
  token reads only the experts it is routed to.

A token then costs the bytes read from each tier divided by that tier's bandwidth, plus the
runtime's fixed step cost. Unified-memory machines have one pool, so nothing is offloaded there.
``compute_offload`` picks the faster plan for a setup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from generator.fit.answers import compute_placement
from generator.fit.memory import card_fixed_overhead_bytes
from generator.fit.placement import Layout, Placement
from generator.fit.setup import Setup
from generator.fit.shapes import without_experts
from generator.fit.sizing import Sizing, compute_sizing
from generator.fit.splits import plan_layer_split


@dataclass(frozen=True)
class Tiers:
    """The two memory tiers of a machine."""

    card_capacity: int  # bytes per card
    cards: int
    per_card_overhead: int  # bytes on every card
    last_card_extra: int  # bytes only the last card holds (compute buffer, output layer)
    gpu_bandwidth_gbps: float  # one card's (layer split runs the cards in turn)
    ram_bytes: int  # system RAM available for the model
    ram_bandwidth_gbps: float


@dataclass(frozen=True)
class Offload:
    """A plan that splits the model between the cards and system RAM."""

    kind: str  # "layers" or "experts"
    gpu_layers: int  # layers whose weights sit on the cards (all of them for "experts")
    gpu_bytes: int  # model bytes on the cards (weights and KV cache)
    ram_bytes: int  # model bytes in system RAM
    fits: bool  # whether system RAM holds its part
    decode_tokens_per_s: float
    cpu_moe_layers: int = 0  # "experts": layers whose routed experts stay in RAM (--n-cpu-moe)


def solve_cpu_moe_layers(fits: Callable[[int], bool], layers: int) -> int | None:
    """The fewest leading layers whose routed experts must stay in system RAM for the rest to
    fit the cards (``fits(n)`` never turns false as n grows); None when even all are not enough.
    """
    if not fits(layers):
        return None
    low, high = -1, layers  # fits(high) holds; fits(low) does not (low = -1: none tried yet)
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            high = mid
        else:
            low = mid
    return high


def plan_cpu_moe(
    n: int, gpu_bytes: int, ram_bytes: int, gpu_read: float, ram_read: float, tiers: Tiers,
    efficiency: float, step_ms: float, layers: int,
) -> Offload:  # fmt: skip
    """The ``--n-cpu-moe n`` plan: bytes per tier and the decode speed that follows."""
    seconds = (
        gpu_read / (efficiency * tiers.gpu_bandwidth_gbps * 1e9)
        + ram_read / (efficiency * tiers.ram_bandwidth_gbps * 1e9)
        + step_ms / 1000
    )
    return Offload(
        "experts", layers, gpu_bytes, ram_bytes, ram_bytes <= tiers.ram_bytes, 1 / seconds, n
    )


def plan_layer_offload(
    layers: int, layer_weights: float, layer_active: float, layer_kv: float, host_weights: int,
    tiers: Tiers, efficiency: float, step_ms: float,
) -> Offload | None:  # fmt: skip
    """Keep as many layers on the cards as fit; None when every layer fits already or none does."""
    per_layer = layer_weights + layer_kv
    on_cards = 0
    for card in range(tiers.cards):
        room = tiers.card_capacity - tiers.per_card_overhead
        if card == tiers.cards - 1:
            room -= tiers.last_card_extra
        on_cards += max(0, int(room // per_layer))
    if on_cards >= layers or on_cards == 0:
        return None
    cpu_layers = layers - on_cards
    gpu_read = on_cards * (layer_active + layer_kv)
    cpu_read = cpu_layers * (layer_active + layer_kv)
    seconds = (
        gpu_read / (efficiency * tiers.gpu_bandwidth_gbps * 1e9)
        + cpu_read / (efficiency * tiers.ram_bandwidth_gbps * 1e9)
        + step_ms / 1000
    )
    ram = round(cpu_layers * per_layer + host_weights)
    return Offload(
        "layers", on_cards, round(on_cards * per_layer), ram, ram <= tiers.ram_bytes, 1 / seconds
    )


def compute_offload(setup: Setup, cards: int, sizing: Sizing | None = None) -> Offload | None:
    """The faster llama.cpp plan that splits the model between the cards and system RAM, or
    None when it fits without one, the runtime cannot offload, or the memory is unified.

    ``sizing`` (``compute_sizing(setup)``), when the caller has it, saves working it out.
    """
    if setup.runtime.launcher != "llama-cpp" or setup.gpu.gpu_class == "unified":
        return None
    sizing = compute_sizing(setup) if sizing is None else sizing
    placement = compute_placement(setup, cards, sizing)
    if placement is None or placement.fits:
        return None
    shapes = sizing.shapes
    tiers = Tiers(
        placement.card_capacity, cards, placement.cards[0].overhead,
        round(shapes.head_weights),
        setup.gpu.memory_bandwidth_gbps, setup.ram_bytes, setup.ram_bandwidth_gbps,
    )  # fmt: skip
    plans = [_layer_plan(setup, sizing, cards, placement, tiers)]
    if shapes.routed_experts > 0:
        plans.append(_cpu_moe_plan(setup, sizing, cards, placement, tiers))
    usable = [p for p in plans if p is not None and p.fits]
    candidates = usable or [p for p in plans if p is not None]
    return max(candidates, key=lambda p: p.decode_tokens_per_s, default=None)


def _layer_plan(
    setup: Setup, sizing: Sizing, cards: int, placement: Placement, tiers: Tiers
) -> Offload | None:
    """llama.cpp's ``-ngl`` below the layer count: as many whole layers on the cards as fit."""
    arch, shapes, rt = setup.model.architecture, sizing.shapes, setup.runtime
    layer_active = shapes.layer_weights * sizing.active_weights / sizing.weights
    layer_kv = sizing.memory(cards).kv_cache / arch.layers
    return plan_layer_offload(
        arch.layers, shapes.layer_weights, layer_active, layer_kv, placement.host_weights, tiers,
        rt.decode_efficiency, rt.decode_step_overhead_ms,
    )  # fmt: skip


def _cpu_moe_plan(
    setup: Setup, sizing: Sizing, cards: int, placement: Placement, tiers: Tiers
) -> Offload | None:
    """llama.cpp's ``--n-cpu-moe N`` with the smallest N whose remaining layers fit each card."""
    rt, shapes, limit = setup.runtime, sizing.shapes, setup.card_limit
    fixed = card_fixed_overhead_bytes(rt)

    def layout(n: int) -> Layout:
        lighter = without_experts(shapes, n)
        return plan_layer_split(
            lighter, sizing.kv, sizing.batch, cards, fixed, rt.compute_buffer_bytes_per_token
        )

    n = solve_cpu_moe_layers(lambda n: layout(n).need(setup.context) <= limit, shapes.layers)
    if n is None:
        return None
    in_ram = shapes.routed_prefix[n]
    arch = setup.model.architecture
    share = (arch.experts_per_token or 0) / (arch.experts or 1)
    gpu_bytes = sizing.weights - in_ram - placement.host_weights + sizing.kv_cache
    return plan_cpu_moe(
        n, gpu_bytes, in_ram + placement.host_weights, sizing.active_weights - in_ram * share
        + sizing.kv_read, in_ram * share, tiers, rt.decode_efficiency, rt.decode_step_overhead_ms,
        shapes.layers,
    )  # fmt: skip
