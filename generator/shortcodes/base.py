"""Shortcode machinery: the context a shortcode reads, the registry, shared argument checks.

No disk access: shortcodes read the precomputed FitMatrix and record which catalog entries they
used (``Dependencies``), which is what incremental rebuilds key on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from generator.catalog.schema import suggest
from generator.errors import SiteError
from generator.fit.matrix import FitMatrix
from generator.fit.result import FitResult
from generator.fit.verdict import Capacity
from generator.pages.common import make_capacity

EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
UNCLOSED = re.compile(r"\{\{")


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
    #: The page read the GPU table as a whole (its order, or every card's figures to pick
    #: some): any GPU added, removed, reordered or edited changes it.
    every_gpu: bool = False


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
        limit = self.matrix.catalog.gpus[gpu].node_max_gpus
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ShortcodeError(f"card count must be a whole number ≥ 1, not {count!r}")
        if count > limit:
            raise ShortcodeError(f"one node holds at most {limit} {gpu} cards, not {count}")
        return count

    def config(self, text: Any) -> tuple[str, int]:
        """'2x h100-sxm' → ('h100-sxm', 2)."""
        match = CONFIG.match(text) if isinstance(text, str) else None
        if not match:
            example = next(iter(self.matrix.catalog.gpus), "gpu-id")
            raise ShortcodeError(f"a configuration reads like '2x {example}', not {text!r}")
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


def _capacity(ctx: ShortcodeContext, gpu: str, cards: Any) -> Capacity:
    g = ctx.matrix.catalog.gpus[ctx.gpu(gpu)]
    return make_capacity(ctx.matrix, g, ctx.cards(g.id, cards))


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


def _probe_gpu(ctx: ShortcodeContext, quant: str) -> str:
    """A GPU id for memory questions about ``quant``, which do not depend on the card (only on
    the count and the runtime the format runs with)."""
    ctx.deps.every_gpu = True  # the first card that runs it: the catalog's order decides
    return ctx.matrix.probe_gpu(quant)


def _kv_dtype(ctx: ShortcodeContext, ident: str | None) -> Any:
    """The KV cache type ``ident``; None: the catalog's widest (an unquantized cache)."""
    table = ctx.matrix.catalog.kv_dtypes
    if ident is None:
        return max(table.values(), key=lambda kv: kv.bits_per_element)
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
