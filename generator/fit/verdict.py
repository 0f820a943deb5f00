"""Fit engine, capacity and verdicts: the seed's effective-VRAM rule and card limits. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from generator.catalog.schema import GPU, Interconnect
from generator.fit.memory import GIB

#: Headroom below this share of capacity makes a fit "tight": activation spikes, a longer
#: prompt or a driver update can push it over.
TIGHT_SHARE = 0.05


class Verdict(StrEnum):
    """The answer for one configuration, as shown in words on every page."""

    FITS = "fits"
    TIGHT = "tight"
    TOO_BIG = "does-not-fit"
    OVER_CARD_LIMIT = "over-card-limit"

    @property
    def fits(self) -> bool:
        return self in (Verdict.FITS, Verdict.TIGHT)


@dataclass(frozen=True, slots=True)
class Capacity:
    """Memory of n identical cards, in bytes."""

    cards: int
    raw: int
    effective: int
    scaling_factor: float


def scaling_factor_of(gpu: GPU, link: Interconnect | None) -> float:
    """The card's own factor (seed table) when given, else its interconnect's default."""
    if gpu.scaling_factor is not None:
        return gpu.scaling_factor
    return link.scaling_factor if link else 1.0


def link_bandwidth_of(gpu: GPU, link: Interconnect | None) -> float | None:
    """Interconnect bandwidth in GB/s for this card (its override, else the link's)."""
    if gpu.interconnect_bandwidth_gbps is not None:
        return gpu.interconnect_bandwidth_gbps
    return link.bandwidth_gbps if link else None


def compute_capacity(gpu: GPU, link: Interconnect | None, cards: int) -> Capacity:
    """Raw and effective memory of ``cards`` cards, in bytes.

    One card: its VRAM (for unified memory, only the share the GPU may use).
    n ≥ 2 (seed rule): effective = n × VRAM per card × the card's scaling factor;
    2× H100 SXM = 2 × 80 GiB × 0.92 = 147.2 GiB.
    """
    per_card = gpu.vram_gib * gpu.usable_vram_fraction * GIB
    factor = scaling_factor_of(gpu, link) if cards > 1 else 1.0
    raw = round(per_card * cards)
    return Capacity(cards, raw, round(per_card * cards * factor), factor)


def compute_capacities(gpu: GPU, link: Interconnect | None) -> tuple[Capacity, ...]:
    """``compute_capacity`` for 1 … the card's maximum: item n − 1 is for n cards."""
    return tuple(compute_capacity(gpu, link, cards) for cards in range(1, gpu.max_gpus + 1))


def decide_verdict(required: int, capacity: Capacity, max_cards: int) -> Verdict:
    """Fits iff the requirement is within effective memory and the count within the card limit."""
    if capacity.cards > max_cards:
        return Verdict.OVER_CARD_LIMIT
    headroom = capacity.effective - required
    if headroom < 0:
        return Verdict.TOO_BIG
    return Verdict.TIGHT if headroom < TIGHT_SHARE * capacity.effective else Verdict.FITS
