"""Theme environment: the one place Jinja is configured and numbers become text. No I/O.

Display convention for the whole site: memory in GiB (2^30 bytes) with one decimal, labelled
"GiB"; bandwidth in decimal GB/s; speed in tokens/s; prices in US dollars.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from generator.fit.memory import GIB
from generator.fit.result import FitResult
from generator.fit.verdict import Verdict
from generator.site_plan import gpu_path, model_path, pair_path

VERDICT_WORDS = {
    "fits": "Fits",
    "tight": "Fits, tight",
    "does-not-fit": "Does not fit",
    "over-card-limit": "More cards than one node holds",
    "no-runtime": "No runtime on this platform",
}
VERDICT_SYMBOLS = {
    "fits": "✓", "tight": "!", "does-not-fit": "✗", "over-card-limit": "✗", "no-runtime": "–",
}  # fmt: skip


def gib(value: float | None, digits: int = 1) -> str:
    """Bytes as GiB with one decimal: 158054120243 → '147.2 GiB'."""
    if value is None:
        return "—"
    return f"{value / GIB:,.{digits}f} GiB"


def gib_number(value: float) -> str:
    """Bytes as a bare GiB number for data attributes: '147.2'."""
    return f"{value / GIB:.1f}"


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
    planning_ok = r.planning_fits and r.within_recommended_cards
    if r.verdict is Verdict.OVER_CARD_LIMIT:
        return f"one node holds at most {s.gpu.node_max_gpus} of these cards"
    if r.need is None:
        return f"{s.runtime.name} cannot split the model's attention heads over {n} cards"
    set_aside = r.capacity.raw - r.capacity.effective
    extra = max(0, r.need - r.memory.total // n)
    reserved = s.card_capacity - s.card_limit
    if not planning_ok and r.fits:
        if not r.within_recommended_cards and r.planning_fits:
            return (
                f"only the card count: past the recommended {s.gpu.max_gpus} cards each card "
                "adds less speed, but the memory is there"
            )
        return (
            f"the rule sets {gib(set_aside)} aside for the interconnect; the runtime's uneven "
            f"split and per-card buffers put only {gib(extra)} more than an even share on the "
            "fullest card"
        )
    if planning_ok and not r.fits:
        why = f"the fullest card holds {gib(extra)} more than an even share"
        if reserved:
            util = f"{s.runtime.memory_utilization:g}"
            why += f", and {s.runtime.name} keeps {gib(reserved)} of each card free ({util} use)"
        return why
    return "they agree" + ("" if r.fits else f": short by {gib(-(r.headroom or 0))} per card")


def verdict_badge(verdict: str) -> Markup:
    """The verdict in words, with a symbol and a class for colour (never colour alone)."""
    return _BADGES[verdict]


_BADGES = {
    verdict: Markup(
        f'<span class="verdict verdict-{verdict}"><span aria-hidden="true">{symbol}</span> '
        f"{VERDICT_WORDS[verdict]}</span>"
    )
    for verdict, symbol in VERDICT_SYMBOLS.items()
}


# Table cells: the text a person reads and the raw number a sort script reads. Filters rather
# than template macros because the big tables call them thousands of times per page; the row
# functions below join the plain-text versions (``_td_*``) and mark the row safe once.


def td_gib(value: float, col: str | None = None) -> Markup:
    return Markup(_td_gib(value, col))


def td_speed(value: float, col: str | None = None) -> Markup:
    return Markup(_td_speed(value, col))


def td_money(value: float | None) -> Markup:
    return Markup(_td_money(value))


def _td_gib(value: float, col: str | None = None) -> str:
    return f'<td data-sort="{value}"{_col(col)}>{gib(value)}</td>'


def _td_speed(value: float, col: str | None = None) -> str:
    return f'<td data-sort="{value:.1f}"{_col(col)}>{tokens_per_s(value)}</td>'


def _td_money(value: float | None) -> str:
    return "<td>—</td>" if value is None else f'<td data-sort="{value:.2f}">{money(value)}</td>'


def _td_context(value: int) -> str:
    return (
        f'<td data-sort="{value}">{tokens(value)}</td>' if value else '<td data-sort="0">none</td>'
    )


def _col(col: str | None) -> str:
    """A ``data-col`` attribute naming a cell's column for scripts and tests (a fixed word)."""
    return "" if col is None else f' data-col="{col}"'


def _td_cards(cell: Any) -> str:
    """Fewest cards of one model × quantization × GPU, with its verdict's symbol and class; the
    format's name rides along as ``data-label`` for the stacked layout of narrow screens."""
    label = f' data-label="{escape(cell.setup.quant.name)}"'
    if not cell.fits:
        if cell.result.verdict == "no-runtime":
            return f'<td class="verdict-no-runtime"{label}>– n/a</td>'
        return f'<td class="verdict-does-not-fit"{label}>✗ —</td>'
    verdict = cell.result.verdict  # a StrEnum: formats and compares as its value
    symbol = "!" if verdict == "tight" else "✓"
    return (
        f'<td class="verdict-{verdict}" data-sort="{cell.min_gpus}"{label}>'
        f"{symbol} {cell.min_gpus}×</td>"
    )


def td_cards_row(cells: Any) -> Markup:
    """``td_cards`` of each cell, one per line: a whole row of a model page's matrix."""
    return Markup("\n".join(_td_cards(cell) for cell in cells))


def measured_speeds(measured: Any) -> str:
    """'measured 16.57 at 512 tokens, 14.34 at 8K': published speeds of the same setup."""
    if not measured:
        return ""
    runs = ", ".join(
        f"{c.measurement.value:,.2f} at {tokens(c.measurement.context)} tokens" for c in measured
    )
    return f'<span class="measured-label">measured</span> {runs}'


def _td_speed_measured(value: float, measured: Any, col: str | None = None) -> str:
    """Estimated tokens/s, with the measured figures of the same setup beside it."""
    if not measured:
        return _td_speed(value, col)
    shown = f"{tokens_per_s(value)}; {measured_speeds(measured)}"
    return f'<td data-sort="{value:.1f}"{_col(col)}>{shown}</td>'


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


def _td_verdict(result: Any) -> str:
    note = verdict_note(result)
    extra = f' <span class="verdict-note">{escape(note)}</span>' if note else ""
    return f'<td data-col="verdict">{_BADGES[result.verdict]}{extra}</td>'


def _fullest(result: Any) -> str:
    """'22.0 of 24.0 GiB': the fullest card against what the runtime lets a card use."""
    if result.need is None:
        if result.setup.runs_here:
            return f"{escape(result.setup.runtime.name)} cannot split it over {result.cards}"
        return "—"
    return f"{gib(result.need)} of {gib(result.setup.card_limit)}"


def pair_row(row: Any, node_max: int) -> Markup:
    """One quantization's row on a model × GPU page: its name, the verdict (second, so it stays
    in view on narrow screens), then cards, memory needed, planning margin (effective VRAM),
    the fullest card, longest context, speed, cost and runtime. Written here rather than in
    pair.html because every pair page has one per quantization, and the site has thousands of
    pair pages."""
    cell = row.cell
    result = cell.result
    quant = cell.setup.quant
    if cell.fits:
        cards = f'<td data-sort="{cell.min_gpus}" data-col="cards">{cell.min_gpus}×</td>'
        tail = (
            f"{_td_context(cell.max_context)}\n"
            f"{_td_speed_measured(result.decode_tokens_per_s, row.measured_speed, 'speed')}\n"
            f"{_td_money(result.cost_per_hour_usd)}"
        )
    else:
        cards = f'<td class="t" data-col="cards">does not fit on {node_max}</td>'
        tail = "<td>—</td>\n<td>—</td>\n<td>—</td>"
    return Markup(
        f'<tr id="q-{escape(quant.id)}" data-quant="{escape(quant.id)}">\n'
        f'<th scope="row">{escape(quant.name)}</th>\n{_td_verdict(result)}\n'
        f"{cards}\n{_td_gib(result.memory.total, 'total')}\n"
        f"{_td_gib(result.capacity.effective, 'effective')}\n"
        f'<td data-col="fullest">{_fullest(result)}</td>\n{tail}\n'
        f'<td class="t">{escape(cell.setup.runtime.name)}</td>\n</tr>'
    )


def detail_cells(cell: Any) -> Markup:
    """The cells of one GPU's row in a model page's per-quantization details, after the GPU's
    name: verdict (first, so it stays in view on narrow screens), cards, effective VRAM, speed,
    cost, longest context. Python for the same reason as ``pair_row``: a model page has one row
    per GPU and quantization."""
    result = cell.result
    verdict = _td_verdict(result)
    effective = _td_gib(result.capacity.effective)
    if not cell.fits:
        return Markup(f"{verdict}\n<td>—</td>\n{effective}\n<td>—</td>\n<td>—</td>\n<td>—</td>")
    return Markup(
        f'{verdict}\n<td data-sort="{cell.min_gpus}">{cell.min_gpus}×</td>\n{effective}\n'
        f"{_td_speed(result.decode_tokens_per_s)}\n{_td_money(result.cost_per_hour_usd)}\n"
        f"{_td_context(cell.max_context)}"
    )


def gpu_rows(
    model_url: Callable[[str], str],
    pair_url: Callable[[str, str], str],
    results: Any,
    gpu_id: str,
) -> Markup:
    """The rows of a GPU page's table for one card count: each model that fits (linked), its
    best quantization (linked to the pair page), memory, speed and cost. Python because at ten
    times the catalog a GPU page has thousands of rows. A filter bound to the site's links by
    ``make_theme_env``."""
    rows = []
    for result in results:
        model = result.setup.model
        rows.append(
            f'<tr>\n<th scope="row"><a href="{escape(model_url(model.id))}">{escape(model.name)}'
            f'</a></th>\n<td class="t"><a href="{escape(pair_url(model.id, gpu_id))}">'
            f"{escape(result.setup.quant.name)}</a></td>\n{_td_gib(result.memory.total)}\n"
            f"{_td_speed(result.decode_tokens_per_s)}\n{_td_money(result.cost_per_hour_usd)}\n</tr>"
        )
    return Markup("\n".join(rows))


def command_list(commands: dict[str, str]) -> Markup:
    """Launch commands as a definition list: each runtime's name, then its command line."""
    items = "".join(
        f"<dt>{escape(runtime)}</dt>\n<dd><pre><code>{escape(line)}</code></pre></dd>\n"
        for runtime, line in commands.items()
    )
    return Markup(f'<dl class="commands">\n{items}</dl>\n')


FILTERS = {
    "gib": gib,
    "gib_number": gib_number,
    "money": money,
    "tokens_per_s": tokens_per_s,
    "tokens": tokens,
    "pct": pct,
    "num": num,
    "factor": factor,
    "verdict_badge": verdict_badge,
    "td_gib": td_gib,
    "td_speed": td_speed,
    "td_money": td_money,
    "td_cards_row": td_cards_row,
    "command_list": command_list,
    "pair_row": pair_row,
    "verdict_note": verdict_note,
    "measured_speeds": lambda m: Markup(measured_speeds(m)),
    "detail_cells": detail_cells,
}


def make_shell_globals(env: Environment) -> dict[str, Any]:
    """``site_header(spec_path)`` and ``site_footer()`` for base.html: the page shell's fixed
    parts, each rendered once per build (the header once per navigation state) and reused, so
    thousands of pages do not each rebuild the same links."""
    rendered: dict[tuple[str, str, bool], Markup] = {}

    def render_once(name: str, section: str = "", exact: bool = False) -> Markup:
        key = (name, section, exact)
        if key not in rendered:
            text = env.get_template(name).render(section=section, exact=exact)
            rendered[key] = Markup(text.rstrip("\n"))  # base.html puts it on its own line
        return rendered[key]

    def site_header(spec_path: str) -> Markup:
        parts = spec_path.split("/")  # '/models/x/' → ['', 'models', 'x', '']
        section = f"/{parts[1]}/" if len(parts) > 2 else spec_path
        return render_once("_header.html", section, spec_path == section)

    def site_footer() -> Markup:
        return render_once("_footer.html")

    return {"site_header": site_header, "site_footer": site_footer}


def make_url_for(base_url: str) -> Callable[[str], str]:
    """A function mapping a site path ('/gpus/') to a link under the base URL's path."""
    prefix = urlsplit(base_url).path.rstrip("/")

    def url_for(path: str) -> str:
        if not path.startswith("/"):
            raise ValueError(f"site paths start with '/': {path!r}")
        return prefix + path

    return url_for


#: Indentation at the start of a template line: it only shapes the source, never the page.
_INDENT = re.compile(r"\n[ \t]+")


class CompactLoader(FileSystemLoader):
    """HTML templates as written, minus each line's indentation, removed once when one loads.

    Pages come out compact without minifying every rendered page (which cost about a third of
    rendering a model-on-GPU page). Indentation is safe to drop because no template holds
    multi-line ``<pre>`` or ``<textarea>`` text; rendered values (Markdown, commands) are not
    touched.
    """

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        if template.endswith(".html"):  # _headers and the like read their indentation
            source = _INDENT.sub("\n", source)
        return source, filename, uptodate


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory for the life of the process, keyed by template and
    checked against a checksum of its source: ``serve`` makes a new environment for every
    rebuild, and without this each one compiled every template again."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = MemoryBytecodeCache()


def make_theme_env(templates: Path, base_url: str, assets: dict[str, str]) -> Environment:
    """The Jinja environment for page templates: autoescaped, strict about missing names."""
    env = Environment(
        loader=CompactLoader(templates),
        bytecode_cache=_BYTECODE,
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    url_for = make_url_for(base_url)
    env.globals["url"] = url_for
    env.globals["asset"] = lambda name: url_for("/assets/" + assets[name])

    def model_url(model: str) -> str:
        return url_for(model_path(model))

    def pair_url(model: str, gpu: str) -> str:
        return url_for(pair_path(model, gpu))

    env.globals.update(
        model_url=model_url, pair_url=pair_url, gpu_url=lambda gpu: url_for(gpu_path(gpu))
    )
    env.filters["gpu_rows"] = partial(gpu_rows, model_url, pair_url)

    def absolute_url(path: str) -> str:
        return base_url.rstrip("/") + path

    env.globals["absolute_url"] = absolute_url

    def breadcrumb_list(crumbs: Any) -> dict[str, Any]:
        """schema.org BreadcrumbList of the visible trail, for _seo.html's JSON-LD."""
        steps = [
            {"@type": "ListItem", "position": position, "name": crumb.title,
             "item": absolute_url(crumb.path)}
            for position, crumb in enumerate(crumbs, start=1)
        ]  # fmt: skip
        return {"@context": "https://schema.org", "@type": "BreadcrumbList",
                "itemListElement": steps}  # fmt: skip

    env.globals["breadcrumb_list"] = breadcrumb_list
    return env
