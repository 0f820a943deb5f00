"""Fit engine, speed and cost: decode tokens/s from memory bandwidth, $/hour, $/million tokens.

Pure. Decode is memory-bandwidth bound: each generated token reads the active weights once and
the KV cache of its sequence once.
"""

from __future__ import annotations

from generator.catalog.schema import SplitMode


def effective_bandwidth_gbps(
    per_card_gbps: float, cards: int, split: SplitMode, scaling_factor: float
) -> float:
    """Memory bandwidth one decode step can draw on, GB/s.

    Tensor parallel: every card reads its shard at once, so n × bandwidth × scaling factor.
    Layer split: cards take turns on one token, so a single stream sees one card's bandwidth.
    """
    if split == "tensor" and cards > 1:
        return per_card_gbps * cards * scaling_factor
    return per_card_gbps


def estimate_decode_tokens_per_s(
    active_weight_bytes: int,
    kv_read_bytes_per_seq: int,
    bandwidth_gbps: float,
    efficiency: float,
    step_overhead_ms: float,
    batch: int = 1,
) -> float:
    """Tokens/s of each sequence: 1 ÷ (bytes read per step ÷ (efficiency × bandwidth) + fixed).

    One step reads the active weights once (only the experts a token uses, for MoE) and the KV
    cache of every sequence in the batch, and yields one token per sequence. ``efficiency`` and
    the fixed ``step_overhead_ms`` are the runtime's calibration (runtimes.yaml names the
    measurements); the fixed part is why small or sparse models fall short of bandwidth ÷ size.
    """
    step_bytes = active_weight_bytes + kv_read_bytes_per_seq * batch
    seconds = step_bytes / (efficiency * bandwidth_gbps * 1e9) + step_overhead_ms / 1000
    return 1 / seconds


def compute_cost_per_hour(price_per_card_hour: float | None, cards: int) -> float | None:
    """Dollars per hour for ``cards`` cards, or None when the card has no price."""
    return None if price_per_card_hour is None else price_per_card_hour * cards


def compute_cost_per_million_tokens(
    cost_per_hour: float | None, tokens_per_s: float
) -> float | None:
    """Dollars per million generated tokens at a steady ``tokens_per_s``."""
    if cost_per_hour is None or tokens_per_s <= 0:
        return None
    return cost_per_hour / (tokens_per_s * 3600) * 1e6


def estimate_prefill_tokens_per_s(
    active_params_b: float, tflops: float, efficiency: float
) -> float:
    """Prompt tokens/s: prefill is compute bound, about 2 FLOPs per active parameter per token.

    ``tflops`` is the dense tensor rate at the precision the card accelerates for these weights
    (FP8 for FP8 weights where the card has it, else FP16/BF16), summed over the cards that
    work on one prompt at once; attention's own FLOPs are left out (small below ~8K tokens).
    """
    return efficiency * tflops * 1e12 / (2 * active_params_b * 1e9)


def estimate_time_to_first_token_s(
    prompt_tokens: int, prefill_tokens_per_s: float, decode_tokens_per_s: float
) -> float:
    """Seconds until the first generated token: the whole prompt, then one decode step."""
    return prompt_tokens / prefill_tokens_per_s + 1 / decode_tokens_per_s
