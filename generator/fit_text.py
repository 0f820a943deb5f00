"""The ``fitatlas fit`` answer as text: a fit payload (generator/payload.py) laid out for reading.

Pure; GiB are 2^30 bytes.
"""

from __future__ import annotations

from typing import Any

from generator.fit.memory import GIB


def render_fit_text(p: dict[str, Any]) -> str:
    """The human-readable breakdown of a fit payload."""

    def gib(key: str) -> str:
        return f"{p[key] / GIB:,.1f} GiB"

    cost = p["cost_per_hour_usd"]
    lines = [
        f"{p['model']} · {p['quant']} on {p['count']}× {p['gpu']} ({p['runtime']}, "
        f"{p['context']:,} tokens × {p['batch']}, KV {p['kv_dtype']})",
        f"  weights        {gib('weights_bytes'):>14}",
        f"  KV cache       {gib('kv_cache_bytes'):>14}",
        f"  overhead       {gib('overhead_bytes'):>14}",
        f"  total          {gib('total_bytes'):>14}",
        f"  raw VRAM       {gib('raw_vram_bytes'):>14}",
        f"  effective VRAM {gib('effective_vram_bytes'):>14}  (× {p['scaling_factor']:g}; "
        f"planning rule: {_planning_words(p)})",
        f"  verdict        {p['verdict']} ({_headroom_words(p)})",
        f"  fewest cards   {p['min_gpus'] or 'none up to ' + str(p['node_max_gpus'])}",
        f"  longest context {p['max_context']:,} tokens",
        f"  concurrent     {p['max_concurrent_sequences']:,} sequences of {p['context']:,} tokens",
        f"  decode         {p['decode_tokens_per_s']:,.1f} tokens/s per sequence "
        f"({p['decode_tokens_per_s_at_start']:,.1f} with an empty cache)",
        f"  first token    {_seconds(p['time_to_first_token_s'])} ({p['prompt']:,}-token prompt)",
        f"  cost           {'$' + format(cost, ',.2f') + '/h' if cost is not None else 'no price'}",
    ]
    lines.append(f"  {p['runtime']} per card: {p['runtime_verdict']}")
    lines += [
        f"    card {c['card']}: {c['layers']} layers, {c['total_bytes'] / GIB:,.1f} GiB "
        f"(weights {c['weights_bytes'] / GIB:,.1f}, KV {c['kv_cache_bytes'] / GIB:,.1f})"
        for c in p["per_card"]
    ]
    if p["offload"]:
        lines += _offload_lines(p["offload"])
    lines += [f"  {rt}: {cmd}" for rt, cmd in p["commands"].items()]
    return "\n".join(lines)


def _offload_lines(o: dict[str, Any]) -> list[str]:
    """The offload plan: where the layers go, the RAM it needs, its speed and its command."""
    plan = (
        f"{o['gpu_layers']} layers on the cards, the rest in system RAM"
        if o["kind"] == "layers"
        else f"--n-cpu-moe {o['cpu_moe_layers']}: the routed experts of the first "
        f"{o['cpu_moe_layers']} layers in system RAM, the rest on the cards"
    )
    room = "fits" if o["fits_in_ram"] else "more than the RAM"
    return [
        f"  offload        {plan}: {o['ram_bytes'] / GIB:,.1f} GiB in RAM ({room}), "
        f"{o['decode_tokens_per_s']:,.1f} tokens/s",
        f"  offload command: {o['command']}",
    ]


def _planning_words(p: dict[str, Any]) -> str:
    words = "accepts" if p["planning_fits"] else "rejects"
    if not p["within_recommended_cards"]:
        words += f", past the recommended {p['max_gpus']} cards (diminishing returns)"
    return words


def _headroom_words(p: dict[str, Any]) -> str:
    if p["headroom_bytes"] is None:
        return "the runtime cannot split the model over this many cards"
    need, limit = p["fullest_card_bytes"] / GIB, p["card_limit_bytes"] / GIB
    return f"fullest card {need:,.1f} of {limit:,.1f} GiB"


def _seconds(value: float | None) -> str:
    return "unknown (no TFLOPS figure)" if value is None else f"{value:,.2f} s"
