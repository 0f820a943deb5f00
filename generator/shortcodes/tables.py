"""Block shortcodes: computed tables, worked examples, commands and links."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from generator.catalog.schema import suggest
from generator.filters import margin_reason
from generator.fit.answers import compute_placement
from generator.fit.setup import Options, resolve_setup
from generator.shortcodes.base import (
    ShortcodeContext,
    ShortcodeError,
    _capacity,
    _held,
    _list,
    _probe_gpu,
    _result,
    shortcode,
)
from generator.urls import gpu_path, model_path


@shortcode
def config_table(
    ctx: ShortcodeContext, configs: list[str], models: list[str], quant: str | None = None
) -> Markup:
    """Table of configurations ("2x h100-sxm") with raw VRAM, scaling factor, effective VRAM and
    which of ``models`` each one holds, at ``quant`` or, when omitted, at each model's best
    quantization that fits. Example: ``{{ config_table(["2x h100-sxm", "8x mi300x"],
    ["llama-3.1-405b", "deepseek-r1"], "q4_k_m") }}``."""
    model_ids = [ctx.model(m) for m in _list(models, "models")]
    rows = []
    for gpu, cards in (ctx.config(c) for c in _list(configs, "configs")):
        capacity = _capacity(ctx, gpu, cards)
        held: list[tuple[str, Any]] = []
        missed: list[tuple[str, Any]] = []
        for m in model_ids:
            cell = _held(ctx, m, quant, gpu, cards)
            (held if cell is not None else missed).append((m, cell))
        rows.append({"gpu": ctx.matrix.catalog.gpus[gpu], "cards": cards, "capacity": capacity,
                     "held": held, "missed": missed})  # fmt: skip
    return ctx.render("config_table", rows=rows, quant=quant, catalog=ctx.matrix.catalog)


@shortcode
def margin_table(ctx: ShortcodeContext, rows: list[list[Any]]) -> Markup:
    """Table setting the seed's planning rule beside what the runtime's placement needs, one
    row per ``["2x h100-sxm", model, quant]``: pooled requirement against effective VRAM, the
    fullest card against what the runtime lets a card use, both answers, and why they differ.
    Example: ``{{ margin_table([["2x rtx-3090", "llama-3.3-70b", "q4_k_m"]]) }}``."""
    out = []
    for item in _list(rows, "rows"):
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise ShortcodeError(f"each row is [configuration, model, quant], not {item!r}")
        gpu, cards = ctx.config(item[0])
        r = _result(ctx, item[1], item[2], gpu, cards)
        out.append({"r": r, "planning_ok": r.planning_fits and r.within_recommended_cards,
                    "why": margin_reason(r)})  # fmt: skip
    return ctx.render("margin_table", rows=out)


@shortcode
def cost_table(
    ctx: ShortcodeContext, configs: list[str], models: list[str], quant: str | None = None
) -> Markup:
    """Table of configurations with raw and effective VRAM, price per hour, the price relative to
    the first row, and which of ``models`` each holds at ``quant`` or, when omitted, at each
    model's best quantization that fits. Example:
    ``{{ cost_table(["1x h200-sxm", "2x h100-sxm"], ["llama-3.3-70b"], "q8_0") }}``."""
    model_ids = [ctx.model(m) for m in _list(models, "models")]
    rows = []
    for gpu, cards in (ctx.config(c) for c in _list(configs, "configs")):
        price = ctx.matrix.catalog.gpus[gpu].price_per_hour_usd
        held = [(m, c) for m in model_ids if (c := _held(ctx, m, quant, gpu, cards)) is not None]
        rows.append({"gpu": ctx.matrix.catalog.gpus[gpu], "cards": cards, "held": held,
                     "capacity": _capacity(ctx, gpu, cards),
                     "price": None if price is None else price * cards})  # fmt: skip
    first = rows[0]["price"] if rows else None
    return ctx.render("cost_table", rows=rows, first=first, quant=quant)


@shortcode
def gpu_table(ctx: ShortcodeContext, multi_gpu_only: bool = True) -> Markup:
    """The GPU catalog as a table: maximum cards, interconnect and its bandwidth, VRAM per card
    and scaling factor; ``multi_gpu_only`` keeps the cards that pool memory over two or more.
    Example: ``{{ gpu_table() }}``."""
    ctx.deps.every_gpu = True  # which cards, in which order: any card's change may show
    gpus = [g for g in ctx.matrix.catalog.gpus.values() if g.max_gpus > 1 or not multi_gpu_only]
    rows = [(g, _capacity(ctx, g.id, 2 if g.max_gpus > 1 else 1)) for g in gpus]
    return ctx.render("gpu_table", rows=rows, catalog=ctx.matrix.catalog)


@shortcode
def worked_example(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int) -> Markup:
    """A worked fit check with every number substituted: effective VRAM, weights, KV cache,
    overhead, total, verdict and the fewest cards that fit. Example:
    ``{{ worked_example("deepseek-r1", "q4_k_m", "a100-80gb-sxm", 4) }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    cell = ctx.matrix.cell(r.setup.model.id, r.setup.quant.id, r.setup.gpu.id)
    return ctx.render("worked_example", r=r, cell=cell)


@shortcode
def quant_table(ctx: ShortcodeContext, model: str) -> Markup:
    """Table of ``model``'s quantizations: bits per weight, weights, KV cache at the default
    context, the default runtime's overhead on one card, and the total. Example:
    ``{{ quant_table("llama-3.3-70b") }}``."""
    m = ctx.model(model)
    rows = [ctx.matrix.result_at(m, ctx.quant(m, q), _probe_gpu(ctx, q), 1)
            for q in ctx.matrix.catalog.models[m].quantizations]  # fmt: skip
    return ctx.render("quant_table", rows=rows, model=ctx.matrix.catalog.models[m])


@shortcode
def launch_command(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int, runtime: str
) -> Markup:
    """The exact command ``runtime`` is launched with for ``model`` at ``quant`` on ``cards`` ×
    ``gpu`` (at the default context), as a code block. Fails when the configuration does not
    fit or the runtime cannot run it. Example:
    ``{{ launch_command("llama-3.3-70b", "fp8", "h100-sxm", 2, "vllm") }}``."""
    from generator.fit.answers import render_commands

    r = _result(ctx, model, quant, gpu, cards)
    runtimes = ctx.matrix.catalog.runtimes
    if runtime not in runtimes:
        raise ShortcodeError(f"unknown runtime id {runtime!r}{suggest(str(runtime), runtimes)}")
    if not r.fits:
        raise ShortcodeError(f"{cards}× {gpu} does not hold {model} at {quant}: no command")
    command = render_commands(r, ctx.matrix.catalog).get(runtime)
    if command is None:
        loaders = ", ".join(r.setup.quant.runtimes)
        raise ShortcodeError(f"{runtime} cannot run {model} at {quant} on {cards} cards "
                             f"(runtimes for {quant}: {loaders})")  # fmt: skip
    return Markup(f'<pre class="command"><code>{escape(command)}</code></pre>')


@shortcode
def model_link(ctx: ShortcodeContext, model: str) -> Markup:
    """A link to a model's page, labelled with its name.
    Example: ``{{ model_link("deepseek-r1") }}``."""
    m = ctx.matrix.catalog.models[ctx.model(model)]
    return Markup(f'<a href="{escape(ctx.url(model_path(m.id)))}">{escape(m.name)}</a>')


@shortcode
def gpu_link(ctx: ShortcodeContext, gpu: str) -> Markup:
    """A link to a GPU's page, labelled with its name. Example: ``{{ gpu_link("mi300x") }}``."""
    g = ctx.matrix.catalog.gpus[ctx.gpu(gpu)]
    return Markup(f'<a href="{escape(ctx.url(gpu_path(g.id)))}">{escape(g.name)}</a>')


#: A site path: folders ending in "/", or a file such as "/api/catalog.json"; an optional anchor.
SITE_PATH = re.compile(r"/([a-z0-9._-]+/)*([a-z0-9_-]+\.[a-z]+)?(#[a-z0-9_-]+)?")


@shortcode
def link(ctx: ShortcodeContext, path: str, text: str) -> Markup:
    """A link to another page of the site by its site path, so it keeps working when the site
    is served from a sub-path (a plain Markdown link to "/methodology/" would not). Example:
    ``{{ link("/methodology/", "the methodology") }}``."""
    if not isinstance(path, str) or not SITE_PATH.fullmatch(path):
        raise ShortcodeError(f"a site path reads like '/guides/how-much-vram/', not {path!r}")
    if not isinstance(text, str) or not text.strip():
        raise ShortcodeError("link text must be a non-empty string")
    return Markup(f'<a href="{escape(ctx.url(path))}">{escape(text)}</a>')


@shortcode
def measurement_exceptions(ctx: ShortcodeContext) -> Markup:
    """List of the measurements the engine's verdict is allowed to disagree with, each with its
    published outcome, the engine's verdict and the reason recorded in the catalog; "none" when
    no row carries an exception. Example: ``{{ measurement_exceptions() }}``."""
    report = ctx.matrix.accuracy
    rows = report.exceptions if report else ()
    return ctx.render("measurement_exceptions", rows=rows)


@shortcode
def accuracy_table(ctx: ShortcodeContext) -> Markup:
    """Table of the estimator's error against every published measurement in
    measurements.yaml: per metric and runtime, the count, median and worst relative error, and
    the worst case. Computed at build time. Example: ``{{ accuracy_table() }}``."""
    report = ctx.matrix.accuracy
    if report is None or not report.errors:
        raise ShortcodeError("the catalog has no measurements to compare with")
    return ctx.render("accuracy_table", report=report, catalog=ctx.matrix.catalog)


@shortcode
def fit_agreement_table(ctx: ShortcodeContext) -> Markup:
    """Table of how often the fit verdicts matched real runs (ran / out of memory), for the
    per-card runtime layout and for the pooled effective-VRAM rule, with the dangerous
    direction (said "fits", ran out of memory) counted apart. Example:
    ``{{ fit_agreement_table() }}``."""
    report = ctx.matrix.accuracy
    if report is None or not report.fits or not report.fits[0].count:
        raise ShortcodeError("the catalog has no fit measurements to compare with")
    return ctx.render("fit_agreement_table", fits=report.fits)


@shortcode
def per_card_table(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int, runtime: str
) -> Markup:
    """Table of what each card holds when ``runtime`` runs ``model`` at ``quant`` on ``cards`` ×
    ``gpu``: layers, weights, KV cache, overhead and memory held back, per card. Example:
    ``{{ per_card_table("llama-3.3-70b", "q4_k_m", "rtx-4090", 2, "llama-cpp") }}``."""
    m = ctx.model(model)
    q = ctx.quant(m, quant)
    g = ctx.gpu(gpu)
    catalog = ctx.matrix.catalog
    if runtime not in catalog.runtimes or runtime not in catalog.quantizations[q].runtimes:
        raise ShortcodeError(
            f"runtime {runtime!r} does not load {q}{suggest(runtime, catalog.runtimes)}"
        )
    setup = resolve_setup(catalog, m, q, g, Options(runtime=runtime))
    placement = compute_placement(setup, ctx.cards(g, cards))
    if placement is None:
        raise ShortcodeError(f"{runtime} cannot shard {m} over {cards} cards")
    return ctx.render("per_card_table", p=placement, setup=setup, cards=cards)
