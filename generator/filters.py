"""Numbers as the site writes them: the theme's text filters. Pure.

Display convention for the whole site: memory in GiB (2^30 bytes) with one decimal, labelled
"GiB"; bandwidth in decimal GB/s; speed in tokens/s; prices in US dollars.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from generator.fit.memory import GIB
from generator.fit.result import FitResult
from generator.fit.verdict import Verdict
from generator.verdicts import verdict_badge


def gib(value: float | None, digits: int = 1) -> str:
    """Bytes as GiB with one decimal: 158054120243 → '147.2 GiB'."""
    if value is None:
        return "—"
    return f"{value / GIB:,.{digits}f} GiB"


def money(value: float | None, suffix: str = "/h") -> str:
    """Dollars with cents: 6.5 → '$6.50/h'; None → '—'."""
    return "—" if value is None else f"${value:,.2f}{suffix}"


def tokens_per_s(value: float | None) -> str:
    """Tokens/s with one decimal below 100, none above."""
    if value is None:
        return "—"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def tokens(value: int) -> str:
    """Token counts the way model cards write them: 8192 → '8K', 131072 → '128K'."""
    if value >= 1024 * 1024 and value % (1024 * 1024) == 0:
        return f"{value // (1024 * 1024)}M"
    if value >= 1024 and value % 1024 == 0:
        return f"{value // 1024}K"
    return f"{value:,}"


def num(value: float | None, digits: int = 0) -> str:
    """A plain number with thousands separators: 3350 → '3,350'."""
    return "—" if value is None else f"{value:,.{digits}f}"


def pct(value: float, digits: int = 0) -> str:
    """A share as a percentage: 0.444 → '44%'."""
    return f"{value * 100:.{digits}f}%"


def factor(value: float) -> str:
    """A scaling factor as the seed writes it: 0.92 → '0.92×'."""
    return f"{value:.2f}×"


def margin_reason(r: FitResult) -> str:
    """Why the seed's planning rule and the runtime's placement agree or differ, with figures."""
    s, n = r.setup, r.cards
    if r.verdict is Verdict.OVER_CARD_LIMIT:
        return f"one node holds at most {s.gpu.node_max_gpus} of these cards"
    if r.need is None:
        return f"{s.runtime.name} cannot split the model's attention heads over {n} cards"
    extra = max(0, r.need - r.memory.total // n)
    planning_ok = r.planning_fits and r.within_recommended_cards
    if not planning_ok and r.fits:
        if not r.within_recommended_cards and r.planning_fits:
            return (
                f"only the card count: past the recommended {s.gpu.max_gpus} cards each card "
                "adds less speed, but the memory is there"
            )
        set_aside = r.capacity.raw - r.capacity.effective
        return (
            f"the rule sets {gib(set_aside)} aside for the interconnect; the runtime's uneven "
            f"split and per-card buffers put only {gib(extra)} more than an even share on the "
            "fullest card"
        )
    if planning_ok and not r.fits:
        why = f"the fullest card holds {gib(extra)} more than an even share"
        reserved = s.card_capacity - s.card_limit
        if reserved:
            util = f"{s.runtime.memory_utilization:g}"
            why += f", and {s.runtime.name} keeps {gib(reserved)} of each card free ({util} use)"
        return why
    return "they agree" + ("" if r.fits else f": short by {gib(-(r.headroom or 0))} per card")


def measured_speeds(measured: Any) -> str:
    """'measured 16.57 at 512 tokens, 14.34 at 8K': published speeds of the same setup."""
    if not measured:
        return ""
    runs = ", ".join(
        f"{c.measurement.value:,.2f} at {tokens(c.measurement.context)} tokens" for c in measured
    )
    return f'<span class="measured-label">measured</span> {runs}'


def verdict_note(result: Any) -> str:
    """Words for where the seed's planning margin and the placement differ ('' when they agree
    or nothing fits)."""
    if not result.fits:
        return ""
    if not result.within_recommended_cards:
        return f"past the {result.setup.gpu.max_gpus} cards the guide recommends"
    if not result.planning_fits:
        return "the guide's pooled rule would say no"
    return ""


def command_list(commands: dict[str, str]) -> Markup:
    """Launch commands as a definition list: each runtime's name, then its command line."""
    items = "".join(
        f"<dt>{escape(runtime)}</dt>\n<dd><pre><code>{escape(line)}</code></pre></dd>\n"
        for runtime, line in commands.items()
    )
    return Markup(f'<dl class="commands">\n{items}</dl>\n')


FILTERS = {
    "gib": gib,
    "money": money,
    "tokens_per_s": tokens_per_s,
    "tokens": tokens,
    "pct": pct,
    "num": num,
    "factor": factor,
    "verdict_badge": verdict_badge,
    "command_list": command_list,
    "verdict_note": verdict_note,
    "measured_speeds": lambda m: Markup(measured_speeds(m)),
}
