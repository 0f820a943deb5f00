"""Inline shortcodes: one number or verdict in a sentence, checkable with ``expect=``."""

from __future__ import annotations

from markupsafe import Markup, escape

from generator.catalog.schema import suggest
from generator.filters import factor, gib, money, pct, tokens_per_s
from generator.shortcodes.base import (
    ShortcodeContext,
    ShortcodeError,
    _capacity,
    _expect,
    _price,
    _probe_gpu,
    _result,
    shortcode,
)
from generator.verdicts import verdict_badge


@shortcode
def fits(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int, expect: bool | None = None
) -> Markup:
    """Inline verdict for ``model`` at ``quant`` on ``cards`` × ``gpu`` under the format's
    runtime, with what the fullest card holds and what the runtime lets it use.
    ``expect=True``/``False`` states the claim your sentence makes; the build fails if the
    engine disagrees.
    Example: ``{{ fits("llama-3.1-405b", "q4_k_m", "h100-sxm", 2, expect=False) }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    _expect(expect, r.fits, f"whether {cards}× {gpu} holds {model} at {quant}")
    if r.need is None:
        detail = f"{r.setup.runtime.name} cannot split it over {cards} cards"
    else:
        detail = f"fullest card {gib(r.need)} of {gib(r.setup.card_limit)}"
    return Markup(f"{verdict_badge(r.verdict.value)} ({escape(detail)})")


@shortcode
def planning_fits(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int, expect: bool | None = None
) -> str:
    """Whether the seed's conservative planning rule accepts the configuration: the pooled
    requirement within effective VRAM (cards × VRAM × scaling factor) and the card count within
    the recommended maximum. Words and figures, e.g. "yes (43.8 GiB of 72.0 GiB)". ``expect``
    checks the claim. Example:
    ``{{ planning_fits("llama-3.3-70b", "q4_k_m", "rtx-3090", 2, expect=False) }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    ok = r.planning_fits and r.within_recommended_cards
    _expect(expect, ok, f"whether the planning rule accepts {cards}× {gpu} for {model} at {quant}")
    detail = f"{gib(r.memory.total)} of {gib(r.capacity.effective)} effective"
    if not r.within_recommended_cards:
        detail += f", past the recommended {r.setup.gpu.max_gpus} cards"
    return f"{'yes' if ok else 'no'} ({detail})"


@shortcode
def min_cards(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, expect: int | None = None
) -> str:
    """The fewest cards of ``gpu`` that hold ``model`` at ``quant`` (at the site's default
    context), or "none" when even the card's maximum is too small. ``expect`` checks a number
    your sentence states. Example: ``{{ min_cards("deepseek-r1", "q4_k_m", "a100-80gb-sxm",
    expect=6) }}``."""
    m = ctx.model(model)
    cell = ctx.matrix.cell(m, ctx.quant(m, quant), ctx.gpu(gpu))
    _expect(expect, cell.min_gpus, f"the fewest {gpu} cards for {model} at {quant}")
    return "none" if cell.min_gpus is None else str(cell.min_gpus)


@shortcode
def memory(
    ctx: ShortcodeContext, model: str, quant: str, part: str = "total", gpu: str | None = None,
    cards: int = 1,
) -> str:  # fmt: skip
    """Memory ``model`` needs at ``quant`` in GiB: ``part`` is "weights", "kv_cache",
    "overhead" or "total" (runtime overhead counts per card, so ``gpu``/``cards`` matter only
    for "overhead" and "total"; without ``gpu``, the first card that runs the format).
    Example: ``{{ memory("llama-3.1-405b", "bf16", "weights") }}``."""
    parts = ("weights", "kv_cache", "overhead", "total")
    if part not in parts:
        raise ShortcodeError(f"part must be one of {', '.join(parts)}, not {part!r}")
    m = ctx.model(model)
    q = ctx.quant(m, quant)
    breakdown = _result(ctx, m, q, gpu or _probe_gpu(ctx, q), cards).memory
    return gib(getattr(breakdown, part))


@shortcode
def effective_vram(ctx: ShortcodeContext, gpu: str, cards: int, expect: float | None = None) -> str:
    """Effective memory of ``cards`` × ``gpu``: n × VRAM × the card's scaling factor (one card:
    its VRAM), in GiB. ``expect`` (GiB, one decimal) checks a figure your sentence states.
    Example: ``{{ effective_vram("h100-sxm", 2, expect=147.2) }}``."""
    capacity = _capacity(ctx, gpu, cards)
    _expect(
        expect, round(capacity.effective / (1 << 30), 1), f"the effective VRAM of {cards}× {gpu}"
    )
    return gib(capacity.effective)


@shortcode
def raw_vram(ctx: ShortcodeContext, gpu: str, cards: int) -> str:
    """Plain sum of the memory of ``cards`` × ``gpu``, in GiB.
    Example: ``{{ raw_vram("l40s", 2) }}``."""
    return gib(_capacity(ctx, gpu, cards).raw)


@shortcode
def scaling(ctx: ShortcodeContext, gpu: str) -> str:
    """The scaling factor ``gpu`` gets when two or more cards pool memory, as "0.92×".
    Example: ``{{ scaling("mi300x") }}``."""
    return factor(_capacity(ctx, gpu, 2).scaling_factor)


@shortcode
def cost(ctx: ShortcodeContext, gpu: str, cards: int) -> str:
    """Cloud price of ``cards`` × ``gpu`` per hour, or "—" when the catalog has no price.
    Example: ``{{ cost("h100-sxm", 2) }}``."""
    g = ctx.gpu(gpu)
    price = ctx.matrix.catalog.gpus[g].price_per_hour_usd
    return money(None if price is None else price * ctx.cards(g, cards))


@shortcode
def cost_ratio(ctx: ShortcodeContext, gpu_a: str, cards_a: int, gpu_b: str, cards_b: int) -> str:
    """How much more (or less) ``cards_a`` × ``gpu_a`` costs per hour than ``cards_b`` ×
    ``gpu_b``, as "44% more" / "10% less". Example: ``{{ cost_ratio("h100-sxm", 2, "h200-sxm",
    1) }}``."""
    a = _price(ctx, gpu_a, cards_a)
    b = _price(ctx, gpu_b, cards_b)
    ratio = a / b - 1
    return f"{pct(abs(ratio))} {'more' if ratio >= 0 else 'less'}"


@shortcode
def speed(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int) -> str:
    """Estimated single-stream decode speed, as "23.4 tokens/s".
    Example: ``{{ speed("llama-3.3-70b", "q4_k_m", "rtx-4090", 2) }}``."""
    return f"{tokens_per_s(_result(ctx, model, quant, gpu, cards).decode_tokens_per_s)} tokens/s"


@shortcode
def verdict(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int, expect: str | None = None
) -> Markup:
    """Verdict in words with the headroom: what is left on the fullest card, and which share of
    the card it is. ``expect`` is one of "fits", "tight", "does-not-fit" or "over-card-limit"
    and fails the build when the engine disagrees.
    Example: ``{{ verdict("llama-3.3-70b", "q8_0", "h100-sxm", 1, expect="does-not-fit") }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    _expect(expect, r.verdict.value, f"the verdict for {cards}× {gpu} with {model} at {quant}")
    card = r.setup.card_capacity
    if r.headroom is None:
        left = f"{r.setup.runtime.name} cannot lay the model out on {cards} cards"
    elif r.headroom < 0:
        left = f"the fullest card is {gib(-r.headroom)} short of its {gib(card)}"
    else:
        share = pct(r.headroom / card)
        left = f"{gib(r.headroom)} left on the fullest card, {share} of {gib(card)}"
    return Markup(f"{verdict_badge(r.verdict.value)} ({escape(left)})")


@shortcode
def max_context(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, expect: int | None = None
) -> str:
    """The longest context (tokens, up to the model's maximum) that fits on the fewest cards of
    ``gpu`` that hold ``model`` at ``quant``, or "none". ``expect`` checks a token count.
    Example: ``{{ max_context("llama-3.1-405b", "q4_k_m", "mi350x") }}``."""
    m = ctx.model(model)
    cell = ctx.matrix.cell(m, ctx.quant(m, quant), ctx.gpu(gpu))
    value = cell.max_context if cell.fits else None
    _expect(expect, value, f"the longest context of {model} at {quant} on {gpu}")
    return "none" if value is None else f"{value:,} tokens"


@shortcode
def max_cards(ctx: ShortcodeContext, gpu: str, expect: int | None = None) -> str:
    """The seed's recommended largest count of ``gpu`` cards (past it, each card adds less; it
    is the planning margin, not a limit). ``expect`` checks the number your sentence states.
    Example: ``{{ max_cards("l40s", expect=2) }}``."""
    limit = ctx.matrix.catalog.gpus[ctx.gpu(gpu)].max_gpus
    _expect(expect, limit, f"the recommended card count of {gpu}")
    return str(limit)


@shortcode
def node_cards(ctx: ShortcodeContext, gpu: str, expect: int | None = None) -> str:
    """The physical limit: how many ``gpu`` cards one server, rig or NVLink domain holds.
    Example: ``{{ node_cards("l40s", expect=8) }}``."""
    limit = ctx.matrix.catalog.gpus[ctx.gpu(gpu)].node_max_gpus
    _expect(expect, limit, f"the physical card limit of {gpu}")
    return str(limit)


@shortcode
def cost_per_million(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int) -> str:
    """Dollars per million generated tokens for one stream at the estimated decode speed, or
    "—" when the card has no price. Example:
    ``{{ cost_per_million("llama-3.3-70b", "fp8", "h100-sxm", 2) }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    return money(r.cost_per_million_tokens_usd, " per million tokens")


@shortcode
def parallel_layout(
    ctx: ShortcodeContext, model: str, cards: int, expect: list[int] | None = None
) -> str:
    """How vLLM spreads ``model`` over ``cards`` cards: the widest tensor-parallel size that
    divides the card count and the attention heads, the rest as pipeline stages. ``expect`` is
    [tensor, pipeline]. Example: ``{{ parallel_layout("llama-3.3-70b", 6, expect=[2, 3]) }}``."""
    from generator.fit.splits import plan_parallel_layout

    m = ctx.matrix.catalog.models[ctx.model(model)]
    if not isinstance(cards, int) or isinstance(cards, bool) or cards < 1:
        raise ShortcodeError(f"card count must be a whole number ≥ 1, not {cards!r}")
    layout = plan_parallel_layout(m.architecture, cards)
    claim = None if expect is None else list(expect)
    _expect(claim, [layout.tensor, layout.pipeline], f"the layout of {model} on {cards} cards")
    if layout.pipeline == 1:
        return f"tensor-parallel size {layout.tensor}, without pipeline stages"
    return f"tensor-parallel size {layout.tensor} × {layout.pipeline} pipeline stages"


@shortcode
def setting(ctx: ShortcodeContext, name: str) -> str:
    """An engine constant, so prose never restates it by hand: "default_context" (tokens every
    table assumes), "tight_share" (headroom below this share of capacity is "tight").
    Example: ``{{ setting("tight_share") }}``."""
    from generator.fit.setup import DEFAULT_CONTEXT
    from generator.fit.verdict import TIGHT_SHARE

    values = {"default_context": f"{DEFAULT_CONTEXT:,} tokens", "tight_share": pct(TIGHT_SHARE)}
    if name not in values:
        raise ShortcodeError(f"unknown setting {name!r}{suggest(str(name), values)}")
    return values[name]


@shortcode
def default_runtime(ctx: ShortcodeContext, quant: str) -> str:
    """The runtime the site assumes for ``quant`` (the first the catalog lists for it), by name.
    Example: ``{{ default_runtime("q4_k_m") }}``."""
    table = ctx.matrix.catalog.quantizations
    q = ctx._check(quant, table, "quantization", ctx.deps.quants)
    return ctx.matrix.catalog.runtimes[table[q].runtimes[0]].name


@shortcode
def first_token(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int) -> str:
    """Estimated prefill speed and time to first token for a prompt as long as the default
    context, as "9,800 tokens/s, 0.9 s to the first token" ("unknown" when the catalog has no
    TFLOPS figure for the card). Example: ``{{ first_token("llama-3.1-8b", "q4_k_m",
    "rtx-4090", 1) }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    if r.prefill_tokens_per_s is None or r.time_to_first_token_s is None:
        return "unknown (no TFLOPS figure for this card)"
    return (
        f"{r.prefill_tokens_per_s:,.0f} tokens/s, "
        f"{r.time_to_first_token_s:,.1f} s to the first token"
    )


@shortcode
def offload_plan(ctx: ShortcodeContext, model: str, quant: str, gpu: str) -> str:
    """llama.cpp's best plan for running ``model`` at ``quant`` on one ``gpu`` with the site's
    default system RAM when it does not fit in VRAM: which part stays on the card, how much
    goes to RAM and the decode speed. Example: ``{{ offload_plan("llama-3.3-70b", "q4_k_m",
    "rtx-4090") }}``."""
    from generator.fit.offload import compute_offload

    r = _result(ctx, model, quant, gpu, 1)
    plan = compute_offload(r.setup, 1)
    if plan is None:
        raise ShortcodeError(f"{model} at {quant} needs no offload plan on one {gpu}, or has none")
    where = (
        f"{plan.gpu_layers} of {r.setup.model.architecture.layers} layers on the card"
        if plan.kind == "layers"
        else "the routed experts in system RAM and the rest on the card"
    )
    room = "fits" if plan.fits else "does not fit"
    return (
        f"{where}, {gib(plan.ram_bytes)} in system RAM ({room}), about "
        f"{tokens_per_s(plan.decode_tokens_per_s)} tokens/s"
    )
