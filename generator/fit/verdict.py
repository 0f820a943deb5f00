"""Fit engine, verdicts: the runtime's per-card placement decides; the seed's pooled rule advises.

Pure. ``decide_verdict`` turns the fullest card's headroom into the answer; ``compute_capacity``
is the seed's effective-VRAM rule (n × VRAM × scaling factor), kept as the planning margin.
"""

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
    OVER_CARD_LIMIT = "over-card-limit"  # more cards than one server, rig or NVLink domain holds
    NO_RUNTIME = "no-runtime"  # no runtime that loads the format runs on the card's platform

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
    """``compute_capacity`` for 1 … the physical card limit: item n − 1 is for n cards."""
    return tuple(compute_capacity(gpu, link, cards) for cards in range(1, gpu.node_max_gpus + 1))


def decide_verdict(
    headroom: int | None, card_capacity: int, cards: int, node_max: int, planning_ok: bool
) -> Verdict:
    """The answer from the fullest card's ``headroom`` (None: the runtime cannot lay the model
    out on this many cards).

    Physical limits stay hard; a fit with under 5 % of a card to spare, or one the seed's
    conservative planning rule would not accept (``planning_ok``), is tight.
    """
    if cards > node_max:
        return Verdict.OVER_CARD_LIMIT
    if headroom is None or headroom < 0:
        return Verdict.TOO_BIG
    if headroom < TIGHT_SHARE * card_capacity or not planning_ok:
        return Verdict.TIGHT
    return Verdict.FITS


def decide_planning_verdict(required: int, capacity: Capacity, recommended_cards: int) -> Verdict:
    """The seed's rule alone: pooled requirement against effective VRAM, within the seed's
    recommended card count. Shown beside the verdict as the planning margin; never decides."""
    if capacity.cards > recommended_cards:
        return Verdict.OVER_CARD_LIMIT
    headroom = capacity.effective - required
    if headroom < 0:
        return Verdict.TOO_BIG
    return Verdict.TIGHT if headroom < TIGHT_SHARE * capacity.effective else Verdict.FITS
