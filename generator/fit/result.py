"""Fit engine, results: memory, verdict, speed and cost of one setup on n cards. Pure.

``compute_fit`` is what ``fitatlas fit`` prints and what every cell of the matrix holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.fit.memory import MemoryBreakdown
from generator.fit.setup import Setup
from generator.fit.sizing import Sizing, compute_sizing
from generator.fit.speed import (
    compute_cost_per_hour,
    compute_cost_per_million_tokens,
    effective_bandwidth_gbps,
    estimate_decode_tokens_per_s,
    estimate_prefill_tokens_per_s,
    estimate_time_to_first_token_s,
)
from generator.fit.verdict import (
    TIGHT_SHARE,
    Capacity,
    Verdict,
    compute_capacity,
    decide_verdict,
)


@dataclass(frozen=True, slots=True)
class FitResult:
    """The engine's answer for a setup on ``cards`` cards. Bytes are integers."""

    setup: Setup
    cards: int
    memory: MemoryBreakdown
    capacity: Capacity
    verdict: Verdict
    decode_tokens_per_s: float
    cost_per_hour_usd: float | None
    decode_tokens_per_s_at_start: float  # with an empty cache: decode slows as context fills
    prefill_tokens_per_s: float | None  # None when the catalog has no TFLOPS for the card
    need: int | None  # bytes the fullest card holds; None when the runtime cannot lay it out

    @property
    def fits(self) -> bool:
        return self.verdict.fits

    @property
    def headroom(self) -> int | None:
        """Bytes the fullest card has to spare within what the runtime may use."""
        return None if self.need is None else self.setup.card_limit - self.need

    @property
    def little_headroom(self) -> bool:
        """Whether the fullest card keeps less than the tight share of the card to spare."""
        return self.headroom is not None and self.headroom < TIGHT_SHARE * self.setup.card_capacity

    @property
    def planning_headroom(self) -> int:
        """The seed's rule: effective VRAM minus the pooled requirement, in bytes."""
        return self.capacity.effective - self.memory.total

    @property
    def planning_fits(self) -> bool:
        """Whether the seed's pooled rule accepts the configuration."""
        return self.planning_headroom >= 0

    @property
    def within_recommended_cards(self) -> bool:
        """Whether the card count is within the seed's recommended maximum."""
        return self.cards <= self.setup.gpu.max_gpus

    @property
    def time_to_first_token_s(self) -> float | None:
        """Seconds to read the prompt and produce the first token."""
        if self.prefill_tokens_per_s is None:
            return None
        return estimate_time_to_first_token_s(
            self.setup.prompt, self.prefill_tokens_per_s, self.decode_tokens_per_s_at_start
        )

    @property
    def aggregate_tokens_per_s(self) -> float:
        return self.decode_tokens_per_s * self.setup.batch

    @property
    def cost_per_million_tokens_usd(self) -> float | None:
        return compute_cost_per_million_tokens(self.cost_per_hour_usd, self.aggregate_tokens_per_s)


def compute_memory(setup: Setup, cards: int, context: int | None = None) -> MemoryBreakdown:
    """Weights + KV cache + runtime overhead for ``cards`` cards, in bytes."""
    return compute_sizing(setup).memory_at(cards, setup.context if context is None else context)


def compute_fit(
    setup: Setup, cards: int, sizing: Sizing | None = None, capacity: Capacity | None = None
) -> FitResult:
    """Everything the site shows for one setup on ``cards`` identical cards.

    ``sizing`` (``compute_sizing(setup)``) and ``capacity`` (of ``cards`` cards), when the
    caller already has them, save working them out again.
    """
    sizing = compute_sizing(setup) if sizing is None else sizing
    if capacity is None:
        capacity = compute_capacity(setup.gpu, setup.link, cards)
    memory = sizing.memory(cards)
    need = sizing.need(cards) if setup.runs_here else None
    verdict = _verdict(setup, cards, need, memory.total <= capacity.effective)
    decode, decode_at_start = _decode_speeds(setup, sizing, cards, capacity)
    cost = compute_cost_per_hour(setup.gpu.price_per_hour_usd, cards)
    prefill = _prefill_speed(setup, cards, capacity)
    # Positional, in field order: this runs once per cell, and keywords cost more.
    return FitResult(
        setup, cards, memory, capacity, verdict, decode, cost, decode_at_start, prefill, need
    )


def _verdict(setup: Setup, cards: int, need: int | None, pooled_ok: bool) -> Verdict:
    if not setup.runs_here:
        return Verdict.NO_RUNTIME
    gpu = setup.gpu
    headroom = None if need is None else setup.card_limit - need
    planning_ok = pooled_ok and cards <= gpu.max_gpus
    return decide_verdict(headroom, setup.card_capacity, cards, gpu.node_max_gpus, planning_ok)


def _decode_speeds(
    setup: Setup, sizing: Sizing, cards: int, capacity: Capacity
) -> tuple[float, float]:
    """Tokens/s of each sequence at the setup's context and with an empty cache."""
    runtime = setup.runtime
    bandwidth = effective_bandwidth_gbps(
        setup.gpu.memory_bandwidth_gbps, cards, runtime.split, capacity.scaling_factor
    )
    rest = (bandwidth, runtime.decode_efficiency, runtime.decode_step_overhead_ms, setup.batch)
    return (
        estimate_decode_tokens_per_s(sizing.active_weights, sizing.kv_read, *rest),
        estimate_decode_tokens_per_s(sizing.active_weights, sizing.kv_read_at_start, *rest),
    )


def _prefill_speed(setup: Setup, cards: int, capacity: Capacity) -> float | None:
    gpu = setup.gpu
    fp8 = setup.quant.id == "fp8" and gpu.fp8_tflops is not None
    tflops = gpu.fp8_tflops if fp8 else gpu.fp16_tflops
    if tflops is None:
        return None
    if setup.runtime.split == "tensor" and cards > 1:
        tflops *= cards * capacity.scaling_factor
    active_b = setup.model.active_params_b or setup.model.params_b
    return estimate_prefill_tokens_per_s(active_b, tflops, setup.runtime.prefill_efficiency)
