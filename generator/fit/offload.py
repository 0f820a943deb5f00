"""Fit engine, partial offload: when VRAM alone is too small but VRAM plus system RAM is not. Pure.

Two plans, both llama.cpp's:

- **Layers** (``-ngl`` below the layer count): as many whole layers as fit stay on the cards,
  the rest — with their KV cache — run on the CPU from system RAM.
- **Experts** (``--n-cpu-moe`` / ``-ot exps=CPU``, mixture-of-experts only): attention, shared
  experts and the KV cache stay on the cards; the routed experts live in system RAM, and each
  token reads only the experts it is routed to.

A token then costs the bytes read from each tier divided by that tier's bandwidth, plus the
runtime's fixed step cost. Unified-memory machines have one pool, so nothing is offloaded there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
