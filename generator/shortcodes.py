"""Shortcodes: computed tables and checked claims inside Markdown pages. No disk access.

A page calls a shortcode as a Jinja expression, ``{{ fits("llama-3.1-405b", "q4_k_m",
"h100-sxm", 2, expect=False) }}``, inline or on a line of its own. Expressions run in a
sandboxed environment whose only globals are the functions registered here; each reads the
precomputed FitMatrix, records which catalog entries it used, and raises ``ShortcodeError`` on
an unknown id or a claim the engine contradicts. ``render_page_body`` attaches file and line.

Every shortcode's docstring is its documentation for authors (``docs/shortcodes.md`` is
generated from them, and a test keeps the two in step).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from generator.catalog.schema import suggest
from generator.errors import SiteError
from generator.fit.engine import FitResult
from generator.fit.matrix import FitMatrix
from generator.templating import factor, gib, money, pct, tokens_per_s, verdict_badge

EXPRESSION = re.compile(r"\{\{(.*?)\}\}")
STATEMENT = re.compile(r"\{%|\{#")
CONFIG = re.compile(r"^\s*(\d+)\s*[x×]\s*([a-z0-9][a-z0-9._-]*)\s*$")


class ShortcodeError(SiteError):
    """A shortcode could not render: bad argument, unknown id, or a contradicted claim."""


@dataclass
class Dependencies:
    """Catalog entries one page read, by kind: what incremental rebuilds key on."""

    models: set[str] = field(default_factory=set)
    gpus: set[str] = field(default_factory=set)
    quants: set[str] = field(default_factory=set)


@dataclass
class ShortcodeContext:
    """What a shortcode may read: the matrix, the theme (for table partials), a link maker."""

    matrix: FitMatrix
    theme: Environment
    url: Callable[[str], str]
    deps: Dependencies = field(default_factory=Dependencies)

    def model(self, ident: str) -> str:
        return self._check(ident, self.matrix.catalog.models, "model", self.deps.models)

    def gpu(self, ident: str) -> str:
        return self._check(ident, self.matrix.catalog.gpus, "GPU", self.deps.gpus)

    def quant(self, model: str, ident: str) -> str:
        self._check(ident, self.matrix.catalog.quantizations, "quantization", self.deps.quants)
        published = self.matrix.catalog.models[model].quantizations
        if ident not in published:
            raise ShortcodeError(
                f"{model} is not published as {ident!r}{suggest(ident, published)}"
            )
        return ident

    def cards(self, gpu: str, count: Any) -> int:
        limit = self.matrix.catalog.gpus[gpu].max_gpus
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ShortcodeError(f"card count must be a whole number ≥ 1, not {count!r}")
        if count > limit:
            raise ShortcodeError(f"{gpu} allows at most {limit} cards, not {count}")
        return count

    def config(self, text: Any) -> tuple[str, int]:
        """'2x h100-sxm' → ('h100-sxm', 2)."""
        match = CONFIG.match(text) if isinstance(text, str) else None
        if not match:
            raise ShortcodeError(f"a configuration reads like '2x h100-sxm', not {text!r}")
        gpu = self.gpu(match.group(2))
        return gpu, self.cards(gpu, int(match.group(1)))

    def render(self, template: str, **values: Any) -> Markup:
        html = self.theme.get_template(f"shortcodes/{template}.html").render(url=self.url, **values)
        return Markup(html.strip())

    @staticmethod
    def _check(ident: Any, table: dict[str, Any], noun: str, seen: set[str]) -> str:
        if not isinstance(ident, str) or ident not in table:
            raise ShortcodeError(f"unknown {noun} id {ident!r}{suggest(str(ident), table)}")
        seen.add(ident)
        return ident


Shortcode = Callable[..., Markup | str]
REGISTRY: dict[str, Shortcode] = {}


def shortcode(function: Shortcode) -> Shortcode:
    """Register ``function`` under its name; its docstring documents it for authors."""
    if not (function.__doc__ or "").strip():
        raise TypeError(f"shortcode {function.__name__} needs a docstring")
    REGISTRY[function.__name__] = function
    return function


def _result(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: Any) -> FitResult:
    m = ctx.model(model)
    q = ctx.quant(m, quant)
    g = ctx.gpu(gpu)
    return ctx.matrix.result_at(m, q, g, ctx.cards(g, cards))


def _expect(claim: Any, actual: Any, what: str) -> None:
    if claim is not None and claim != actual:
        raise ShortcodeError(f"the text claims {what} is {claim!r}, but the engine says {actual!r}")


@shortcode
def fits(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int, expect: bool | None = None
) -> Markup:
    """Inline verdict for ``model`` at ``quant`` on ``cards`` × ``gpu``, with the memory it needs
    and the memory there is. ``expect=True``/``False`` states the claim your sentence makes; the
    build fails if the engine disagrees.
    Example: ``{{ fits("llama-3.1-405b", "q4_k_m", "h100-sxm", 2, expect=False) }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    _expect(expect, r.fits, f"whether {cards}× {gpu} holds {model} at {quant}")
    detail = f"needs {gib(r.memory.total)} of {gib(r.capacity.effective)}"
    return Markup(f"{verdict_badge(r.verdict.value)} ({escape(detail)})")


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
    ctx: ShortcodeContext, model: str, quant: str, part: str = "total", gpu: str = "h100-sxm",
    cards: int = 1,
) -> str:  # fmt: skip
    """Memory ``model`` needs at ``quant`` in GiB: ``part`` is "weights", "kv_cache",
    "overhead" or "total" (runtime overhead counts per card, so ``gpu``/``cards`` matter only
    for "overhead" and "total"). Example: ``{{ memory("llama-3.1-405b", "bf16", "weights") }}``."""
    parts = ("weights", "kv_cache", "overhead", "total")
    if part not in parts:
        raise ShortcodeError(f"part must be one of {', '.join(parts)}, not {part!r}")
    breakdown = _result(ctx, model, quant, gpu, cards).memory
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
def model_link(ctx: ShortcodeContext, model: str) -> Markup:
    """A link to a model's page, labelled with its name.
    Example: ``{{ model_link("deepseek-r1") }}``."""
    m = ctx.matrix.catalog.models[ctx.model(model)]
    return Markup(f'<a href="{escape(ctx.url(f"/models/{m.id}/"))}">{escape(m.name)}</a>')


@shortcode
def gpu_link(ctx: ShortcodeContext, gpu: str) -> Markup:
    """A link to a GPU's page, labelled with its name. Example: ``{{ gpu_link("mi300x") }}``."""
    g = ctx.matrix.catalog.gpus[ctx.gpu(gpu)]
    return Markup(f'<a href="{escape(ctx.url(f"/gpus/{g.id}/"))}">{escape(g.name)}</a>')


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
def cost_table(
    ctx: ShortcodeContext, configs: list[str], models: list[str], quant: str = "q4_k_m"
) -> Markup:
    """Table of configurations with raw and effective VRAM, price per hour, the price relative to
    the first row, and which of ``models`` each holds at ``quant``. Example:
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
    gpus = [g for g in ctx.matrix.catalog.gpus.values() if g.max_gpus > 1 or not multi_gpu_only]
    for g in gpus:
        ctx.deps.gpus.add(g.id)
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


def _capacity(ctx: ShortcodeContext, gpu: str, cards: Any) -> Any:
    from generator.fit.verdict import compute_capacity

    g = ctx.matrix.catalog.gpus[ctx.gpu(gpu)]
    return compute_capacity(g, ctx.matrix.catalog.interconnect_of(g), ctx.cards(g.id, cards))


def _price(ctx: ShortcodeContext, gpu: str, cards: int) -> float:
    g = ctx.gpu(gpu)
    price = ctx.matrix.catalog.gpus[g].price_per_hour_usd
    if price is None:
        raise ShortcodeError(f"{g} has no price in the catalog")
    return price * ctx.cards(g, cards)


def _held(ctx: ShortcodeContext, model: str, quant: str | None, gpu: str, cards: int) -> Any:
    """The cell that fits ``cards`` × ``gpu`` (at ``quant``, else the best quant), or None."""
    if quant is None:
        return ctx.matrix.best_quant(model, gpu, cards)
    q = ctx.quant(model, quant)
    return ctx.matrix.cell(model, q, gpu) if ctx.matrix.fits_at(model, q, gpu, cards) else None


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list | tuple) or not value:
        raise ShortcodeError(f"{name} must be a non-empty list, not {value!r}")
    return list(value)


# --- rendering a page body -------------------------------------------------------------------


def make_sandbox() -> SandboxedEnvironment:
    """A sandbox with no globals at all: shortcodes are passed in per page, nothing else."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
    env.globals.clear()
    return env


def render_shortcodes(
    body: str, first_line: int, display_path: str, ctx: ShortcodeContext, sandbox: Environment
) -> tuple[str, dict[str, str]]:
    """Replace every ``{{ … }}`` in ``body`` by a placeholder; return text and placeholder HTML.

    Placeholders survive Markdown untouched and are swapped back after it, so a table shortcode
    never meets Markdown's rules for raw HTML. Errors carry ``path:line:``.
    """
    bound = {name: _bind(function, ctx) for name, function in REGISTRY.items()}
    pieces: dict[str, str] = {}
    out_lines = []
    for offset, line in enumerate(body.split("\n")):
        where = f"{display_path}:{first_line + offset}"
        if STATEMENT.search(line):
            raise ShortcodeError(f"{where}: only {{{{ shortcode(...) }}}} expressions are allowed")

        def substitute(match: re.Match[str], where: str = where) -> str:
            html = _evaluate(match.group(1), where, sandbox, bound)
            key = f"FITATLASSHORTCODE{len(pieces):05d}X"
            pieces[key] = html
            return key

        out_lines.append(EXPRESSION.sub(substitute, line))
    return "\n".join(out_lines), pieces


def _bind(function: Shortcode, ctx: ShortcodeContext) -> Callable[..., Markup | str]:
    def call(*args: Any, **kwargs: Any) -> Markup | str:
        try:
            inspect.signature(function).bind(ctx, *args, **kwargs)
        except TypeError as exc:
            raise ShortcodeError(f"{function.__name__}(): {exc}") from None
        return function(ctx, *args, **kwargs)

    return call


def _evaluate(source: str, where: str, sandbox: Environment, bound: dict[str, Any]) -> str:
    try:
        value = sandbox.compile_expression(source.strip(), undefined_to_none=False)(**bound)
    except ShortcodeError as exc:
        raise ShortcodeError(f"{where}: {exc}") from None
    except UndefinedError as exc:
        name = re.search(r"'(\w+)' is undefined", str(exc))
        hint = suggest(name.group(1), REGISTRY) if name else ""
        raise ShortcodeError(f"{where}: unknown shortcode: {exc}{hint}") from None
    except (TemplateError, TypeError, ValueError) as exc:
        raise ShortcodeError(f"{where}: {type(exc).__name__}: {exc}") from None
    if not isinstance(value, str):
        raise ShortcodeError(f"{where}: {source.strip()!r} is not a shortcode call")
    return str(value) if isinstance(value, Markup) else str(escape(value))


def iter_shortcode_docs() -> list[tuple[str, str, str]]:
    """(name, signature, docstring) of every registered shortcode, for the authors' guide."""
    docs = []
    for name, function in sorted(REGISTRY.items()):
        params = list(inspect.signature(function).parameters.values())[1:]
        signature = f"{name}({', '.join(str(p) for p in params)})"
        docs.append((name, signature, inspect.cleandoc(function.__doc__ or "")))
    return docs


# --- shortcodes for the guides and the methodology: formulas with the numbers filled in ------


@shortcode
def verdict(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int, expect: str | None = None
) -> Markup:
    """Verdict in words with the headroom: what is left of the effective memory, and which share
    of it. ``expect`` is one of "fits", "tight", "does-not-fit" or "over-card-limit" and fails
    the build when the engine disagrees (``fits`` can only tell fitting from not fitting).
    Example: ``{{ verdict("llama-3.3-70b", "q8_0", "h100-sxm", 1, expect="does-not-fit") }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    _expect(expect, r.verdict.value, f"the verdict for {cards}× {gpu} with {model} at {quant}")
    share = r.headroom / r.capacity.effective
    left = f"{gib(r.headroom)} left, {pct(share)} of {gib(r.capacity.effective)}"
    if r.headroom < 0:
        left = f"{gib(-r.headroom)} short of {gib(r.capacity.effective)}"
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
def setting(ctx: ShortcodeContext, name: str) -> str:
    """An engine constant, so prose never restates it by hand: "default_context" (tokens every
    table assumes), "tight_share" (headroom below this share of capacity is "tight").
    Example: ``{{ setting("tight_share") }}``."""
    from generator.fit.engine import DEFAULT_CONTEXT
    from generator.fit.verdict import TIGHT_SHARE

    values = {"default_context": f"{DEFAULT_CONTEXT:,} tokens", "tight_share": pct(TIGHT_SHARE)}
    if name not in values:
        raise ShortcodeError(f"unknown setting {name!r}{suggest(str(name), values)}")
    return values[name]


@shortcode
def weights_formula(ctx: ShortcodeContext, model: str, quant: str) -> str:
    """The weight arithmetic with the catalog's figures: parameters × bits per weight ÷ 8.
    Example: ``{{ weights_formula("llama-3.1-405b", "bf16") }}`` → "405.853 B parameters ×
    16 bits ÷ 8 = 811,706,000,000 bytes = 756.0 GiB"."""
    r = _result(ctx, model, quant, _any_gpu(ctx), 1)
    m, q = r.setup.model, r.setup.quant
    return (
        f"{m.params_b:g} B parameters × {q.bits_per_weight:g} bits ÷ 8 = "
        f"{r.memory.weights:,} bytes = {gib(r.memory.weights)}"
    )


@shortcode
def kv_per_token(
    ctx: ShortcodeContext,
    model: str,
    kv_dtype: str = "f16",
    unit: str = "KiB",
    expect: int | None = None,
) -> str:
    """KV-cache bytes each further token adds to one sequence (the layers whose cache keeps
    growing: full attention and MLA; sliding-window layers stop at their window and
    linear-attention layers keep a fixed state). ``unit`` is "KiB" ("128.0 KiB") or "bytes"
    ("131,072 bytes"); ``expect`` checks the exact byte count. Example:
    ``{{ kv_per_token("llama-3.1-8b", unit="bytes", expect=131072) }}``."""
    from generator.fit.memory import kv_bytes_per_token

    arch = ctx.matrix.catalog.models[ctx.model(model)].architecture
    value = kv_bytes_per_token(arch, _kv_dtype(ctx, kv_dtype).bits_per_element)
    _expect(expect, value, f"the KV bytes per token of {model} at {kv_dtype}")
    return _bytes_text(value, unit)


@shortcode
def kv_formula(ctx: ShortcodeContext, model: str, kv_dtype: str = "f16") -> str:
    """The per-token KV arithmetic for the model's attention type, numbers filled in: GQA/MHA
    "2 × KV heads × head dim", MLA "(latent rank + RoPE dim)", times the growing layers and the
    element size. Example: ``{{ kv_formula("deepseek-r1") }}`` → "(512 + 64) elements × 61
    layers × 16 bits ÷ 8 = 70,272 bytes per token"."""
    from generator.fit.memory import attention_layer_counts, kv_bytes_per_token

    arch = ctx.matrix.catalog.models[ctx.model(model)].architecture
    bits = _kv_dtype(ctx, kv_dtype).bits_per_element
    growing, windowed = attention_layer_counts(arch)
    if arch.mla is not None:
        shape = f"({arch.mla.kv_lora_rank} + {arch.mla.qk_rope_head_dim}) elements"
    else:
        shape = f"2 × {arch.kv_heads} KV heads × {arch.head_dim} dims"
    text = (
        f"{shape} × {growing} layers × {bits:g} bits ÷ 8 = "
        f"{kv_bytes_per_token(arch, bits):,} bytes per token"
    )
    if windowed and arch.sliding_window:
        text += f", plus {windowed} layers capped at {arch.sliding_window.window:,} tokens"
    if arch.linear_attention:
        text += f", plus a fixed state in {arch.linear_attention.layers} linear-attention layers"
    return text


@shortcode
def kv_cache(
    ctx: ShortcodeContext, model: str, context: int, kv_dtype: str = "f16", batch: int = 1
) -> str:
    """KV cache (and any linear-attention state) of ``batch`` sequences of ``context`` tokens,
    in GiB; sliding-window layers count at most their window. Example:
    ``{{ kv_cache("llama-3.1-70b", 131072) }}``."""
    from generator.fit.memory import estimate_kv_cache_bytes

    m = ctx.matrix.catalog.models[ctx.model(model)]
    for name, value, limit in (("context", context, m.max_context), ("batch", batch, 4096)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
            raise ShortcodeError(f"{name} must be a whole number 1 … {limit:,}, not {value!r}")
    bits = _kv_dtype(ctx, kv_dtype).bits_per_element
    return gib(estimate_kv_cache_bytes(m.architecture, context, batch, bits))


@shortcode
def linear_state(ctx: ShortcodeContext, model: str) -> str:
    """The fixed per-sequence state of a hybrid model's linear-attention layers, worked out:
    layers × (conv elements × 2 B + recurrent elements × 4 B). Example:
    ``{{ linear_state("qwen3.5-122b-a10b") }}``."""
    from generator.fit.memory import (
        LINEAR_CONV_STATE_BYTES,
        LINEAR_RECURRENT_STATE_BYTES,
        estimate_linear_state_bytes,
    )

    linear = ctx.matrix.catalog.models[ctx.model(model)].architecture.linear_attention
    if linear is None:
        raise ShortcodeError(f"{model} has no linear-attention layers")
    conv = (linear.conv_kernel - 1) * (
        2 * linear.key_heads * linear.key_head_dim + linear.value_heads * linear.value_head_dim
    )
    recurrent = linear.value_heads * linear.key_head_dim * linear.value_head_dim
    total = estimate_linear_state_bytes(linear)
    return (
        f"{linear.layers} layers × ({conv:,} conv elements × {LINEAR_CONV_STATE_BYTES} B + "
        f"{recurrent:,} recurrent elements × {LINEAR_RECURRENT_STATE_BYTES} B) = "
        f"{total:,} bytes ({_bytes_text(total, 'MiB')})"
    )


@shortcode
def overhead_formula(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int) -> str:
    """The runtime overhead of a configuration, worked out from the default runtime's profile:
    per-card MiB × cards + compute buffer + bytes per token × tokens. Example:
    ``{{ overhead_formula("llama-3.3-70b", "fp8", "h100-sxm", 2) }}``."""
    r = _result(ctx, model, quant, gpu, cards)
    rt, s = r.setup.runtime, r.setup
    cards_word = "card" if r.cards == 1 else "cards"
    return (
        f"{rt.name}: {rt.per_gpu_overhead_mib:,g} MiB × {r.cards} {cards_word} + "
        f"{rt.compute_buffer_mib:,g} MiB + {rt.compute_buffer_bytes_per_token:,g} bytes × "
        f"{s.context * s.batch:,} tokens = {gib(r.memory.overhead, 2)}"
    )


@shortcode
def capacity_formula(ctx: ShortcodeContext, gpu: str, cards: int) -> str:
    """Effective memory worked out: one card is its VRAM; n ≥ 2 cards are n × VRAM per card ×
    scaling factor. Example: ``{{ capacity_formula("mi300x", 8) }}`` → "8 × 192.0 GiB × 0.88 =
    1,351.7 GiB"."""
    capacity = _capacity(ctx, gpu, cards)
    per_card = gib(capacity.raw / capacity.cards)
    if capacity.cards == 1:
        return f"1 card = {per_card}"
    return (
        f"{capacity.cards} × {per_card} × {capacity.scaling_factor:.2f} = {gib(capacity.effective)}"
    )


@shortcode
def speed_formula(ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int) -> str:
    """Decode speed worked out: one step reads the active weights and the KV cache at the
    default context at efficiency × bandwidth, plus the runtime's fixed time per step;
    tokens/s = 1 ÷ that time. Tensor-parallel runtimes pool n × bandwidth × scaling factor;
    layer-split runtimes see one card's bandwidth. Example:
    ``{{ speed_formula("llama-3.3-70b", "awq-int4", "h100-sxm", 2) }}``."""
    from generator.fit.memory import estimate_kv_cache_bytes, estimate_weight_bytes
    from generator.fit.speed import effective_bandwidth_gbps

    r = _result(ctx, model, quant, gpu, cards)
    s, rt = r.setup, r.setup.runtime
    active = estimate_weight_bytes(s.model.active_params_b or s.model.params_b,
                                   s.quant.bits_per_weight)  # fmt: skip
    kv = estimate_kv_cache_bytes(s.model.architecture, s.context, 1, s.kv.bits_per_element)
    bandwidth = effective_bandwidth_gbps(
        s.gpu.memory_bandwidth_gbps, r.cards, s.runtime.split, r.capacity.scaling_factor
    )
    return (
        f"1 ÷ (({active / 1e9:,.2f} GB of active weights + {kv / 1e9:,.2f} GB of KV cache) ÷ "
        f"({rt.decode_efficiency:g} × {bandwidth:,.0f} GB/s) + {rt.decode_step_overhead_ms:g} ms)"
        f" = {tokens_per_s(r.decode_tokens_per_s)} tokens/s"
    )


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
    from generator.fit.commands import plan_parallel_layout

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
def launch_command(
    ctx: ShortcodeContext, model: str, quant: str, gpu: str, cards: int, runtime: str
) -> Markup:
    """The exact command ``runtime`` is launched with for ``model`` at ``quant`` on ``cards`` ×
    ``gpu`` (at the default context), as a code block. Fails when the configuration does not
    fit or the runtime cannot run it. Example:
    ``{{ launch_command("llama-3.3-70b", "fp8", "h100-sxm", 2, "vllm") }}``."""
    from generator.fit.engine import render_commands

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
def quant_table(ctx: ShortcodeContext, model: str) -> Markup:
    """Table of ``model``'s quantizations: bits per weight, weights, KV cache at the default
    context, the default runtime's overhead on one card, and the total. Example:
    ``{{ quant_table("llama-3.3-70b") }}``."""
    m = ctx.model(model)
    gpu = _any_gpu(ctx)
    rows = [ctx.matrix.result_at(m, ctx.quant(m, q), gpu, 1)
            for q in ctx.matrix.catalog.models[m].quantizations]  # fmt: skip
    return ctx.render("quant_table", rows=rows, model=ctx.matrix.catalog.models[m])


def _any_gpu(ctx: ShortcodeContext) -> str:
    """A GPU id for memory questions, which do not depend on the card (only on the count)."""
    return next(iter(ctx.matrix.catalog.gpus))


def _kv_dtype(ctx: ShortcodeContext, ident: str) -> Any:
    table = ctx.matrix.catalog.kv_dtypes
    if not isinstance(ident, str) or ident not in table:
        raise ShortcodeError(f"unknown KV cache type {ident!r}{suggest(str(ident), table)}")
    return table[ident]


def _bytes_text(value: float, unit: str) -> str:
    """Bytes as exact bytes, KiB or MiB, labelled."""
    scale = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20}
    if unit not in scale:
        raise ShortcodeError(f"unit must be one of {', '.join(scale)}, not {unit!r}")
    if unit == "bytes":
        return f"{value:,.0f} bytes"
    return f"{value / scale[unit]:,.1f} {unit}"


@shortcode
def max_cards(ctx: ShortcodeContext, gpu: str, expect: int | None = None) -> str:
    """The most cards of ``gpu`` one configuration may have (the catalog's node limit).
    ``expect`` checks the number your sentence states. Example:
    ``{{ max_cards("l40s", expect=2) }}``."""
    limit = ctx.matrix.catalog.gpus[ctx.gpu(gpu)].max_gpus
    _expect(expect, limit, f"the card limit of {gpu}")
    return str(limit)


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
def default_runtime(ctx: ShortcodeContext, quant: str) -> str:
    """The runtime the site assumes for ``quant`` (the first the catalog lists for it), by name.
    Example: ``{{ default_runtime("q4_k_m") }}``."""
    table = ctx.matrix.catalog.quantizations
    q = ctx._check(quant, table, "quantization", ctx.deps.quants)
    return ctx.matrix.catalog.runtimes[table[q].runtimes[0]].name
