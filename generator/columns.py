"""The site's big tables, each declared once as a list of columns. Pure.

A ``Column`` is a header and a cell function; the cell function writes the row's ``<td>`` (or
the row's ``<th scope="row">``), with the raw number a sort script reads in ``data-sort`` — the
column's sort key — beside the text a person reads. A ``Table`` makes both its head and its rows
from the same columns, so the two cannot drift apart. Cells are plain strings joined once per
row because the largest pages have thousands of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from markupsafe import Markup, escape

from generator.filters import gib, measured_speeds, money, tokens, tokens_per_s, verdict_note
from generator.fit.matrix import Cell
from generator.fit.result import FitResult
from generator.verdicts import cards_mark, verdict_badge

Row = TypeVar("Row")
NONE = "<td>—</td>"
NUMERIC = ' class="num"'


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One column: its header, whether it holds numbers (right-aligned, sorted as numbers) and
    the function that writes a row's cell."""

    header: str
    cell: Callable[[Row], str]
    numeric: bool = False


@dataclass(frozen=True)
class Table(Generic[Row]):
    """A table's columns and the opening tag of each row."""

    columns: tuple[Column[Row], ...]
    row_open: Callable[[Row], str] = lambda row: "<tr>"

    def head(self) -> Markup:
        """``<thead>`` with one ``<th scope="col">`` per column."""
        cells = "\n".join(
            f'<th scope="col"{NUMERIC if c.numeric else ""}>{escape(c.header)}</th>'
            for c in self.columns
        )
        return Markup(f"<thead>\n<tr>\n{cells}\n</tr>\n</thead>")

    def row(self, row: Row) -> str:
        """One row's ``<tr>`` … ``</tr>``, a cell per line."""
        cells = "\n".join(c.cell(row) for c in self.columns)
        return f"{self.row_open(row)}\n{cells}\n</tr>"

    def body(self, rows: Iterable[Row]) -> Markup:
        """Every row, each on its own line."""
        return Markup("".join(self.row(r) + "\n" for r in rows))


def td(text: str, sort: object = None, col: str | None = None, cls: str | None = None,
       label: str | None = None) -> str:  # fmt: skip
    """A cell: ``<td class data-sort data-col data-label>`` (attributes in that order, each only
    when given) around text that is already HTML."""
    attrs = f' class="{cls}"' if cls else ""
    if sort is not None:
        attrs += f' data-sort="{sort}"'
    if col:
        attrs += f' data-col="{col}"'
    if label is not None:
        attrs += f' data-label="{label}"'
    return f"<td{attrs}>{text}</td>"


def td_gib(value: float, col: str | None = None) -> str:
    return td(gib(value), value, col)


def td_speed(value: float, col: str | None = None) -> str:
    return td(tokens_per_s(value), f"{value:.1f}", col)


def td_money(value: float | None) -> str:
    return NONE if value is None else td(money(value), f"{value:.2f}")


#: Single cells for the smaller tables written in their templates.
CELL_FILTERS = {
    "td_gib": lambda value: Markup(td_gib(value)),
    "td_speed": lambda value: Markup(td_speed(value)),
    "td_money": lambda value: Markup(td_money(value)),
}


def td_context(value: int) -> str:
    return td(tokens(value), value) if value else td("none", 0)


def td_verdict(result: FitResult) -> str:
    """The verdict badge, with a note where the planning margin disagrees."""
    note = verdict_note(result)
    extra = f' <span class="verdict-note">{escape(note)}</span>' if note else ""
    return td(f"{verdict_badge(result.verdict)}{extra}", col="verdict")


def td_cards(cell: Cell) -> str:
    """Fewest cards with the verdict's symbol and colour; the format's name rides along as
    ``data-label`` for the stacked layout of narrow screens."""
    cls, text = cards_mark(cell)
    sort = cell.min_gpus if cell.fits else None
    return td(text, sort, cls=cls, label=str(escape(cell.setup.quant.name)))


def fullest_card(result: FitResult) -> str:
    """'22.0 of 24.0 GiB': the fullest card against what the runtime lets a card use."""
    if result.need is None:
        if result.setup.runs_here:
            return f"{escape(result.setup.runtime.name)} cannot split it over {result.cards}"
        return "—"
    return f"{gib(result.need)} of {gib(result.setup.card_limit)}"


def row_header(text: str) -> str:
    return f'<th scope="row">{text}</th>'


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{text}</a>'


# --- the format table of a model-on-GPU page: rows are contexts.PairRow -----------------------


def _pair_cards(row: Any) -> str:
    cell = row.cell
    if cell.fits:
        return td(f"{cell.min_gpus}×", cell.min_gpus, "cards")
    return td(f"does not fit on {cell.setup.gpu.node_max_gpus}", col="cards", cls="t")


def _pair_speed(row: Any) -> str:
    if not row.cell.fits:
        return NONE
    value = row.cell.result.decode_tokens_per_s
    if not row.measured_speed:
        return td_speed(value, "speed")
    return td(f"{tokens_per_s(value)}; {measured_speeds(row.measured_speed)}", f"{value:.1f}",
              "speed")  # fmt: skip


PAIR_TABLE: Table[Any] = Table(
    (
        Column("Quantization", lambda r: row_header(str(escape(r.cell.setup.quant.name)))),
        Column("Verdict", lambda r: td_verdict(r.cell.result)),
        Column("Cards", _pair_cards, numeric=True),
        Column("Memory needed", lambda r: td_gib(r.cell.result.memory.total, "total"), True),
        Column("Effective VRAM (planning)",
               lambda r: td_gib(r.cell.result.capacity.effective, "effective"), True),
        Column("Fullest card", lambda r: td(fullest_card(r.cell.result), col="fullest")),
        Column("Longest context",
               lambda r: td_context(r.cell.max_context) if r.cell.fits else NONE, True),
        Column("Tokens/s (est.)", _pair_speed, numeric=True),
        Column("Cost", lambda r: td_money(r.cell.result.cost_per_hour_usd) if r.cell.fits
               else NONE, True),
        Column("Runtime", lambda r: td(str(escape(r.cell.setup.runtime.name)), cls="t")),
    ),
    lambda r: '<tr id="q-{0}" data-quant="{0}">'.format(escape(r.cell.setup.quant.id)),
)  # fmt: skip


# --- a model page's per-format details: one row per GPU, rows are fit.matrix.Cell ------------


def _if_fits(write: Callable[[Cell], str]) -> Callable[[Cell], str]:
    return lambda cell: write(cell) if cell.fits else NONE


DETAILS_TABLE: Table[Cell] = Table(
    (
        Column("GPU", lambda c: row_header(str(escape(c.setup.gpu.name)))),
        Column("Verdict", lambda c: td_verdict(c.result)),
        Column("Cards", _if_fits(lambda c: td(f"{c.min_gpus}×", c.min_gpus)), True),
        Column("Effective VRAM (planning)", lambda c: td_gib(c.result.capacity.effective), True),
        Column("Tokens/s", _if_fits(lambda c: td_speed(c.result.decode_tokens_per_s)), True),
        Column("Cost", _if_fits(lambda c: td_money(c.result.cost_per_hour_usd)), True),
        Column("Longest context", _if_fits(lambda c: td_context(c.max_context)), True),
    )
)  # fmt: skip


# --- tables whose cells link to other pages: made once per theme with the site's links ------


def make_gpu_table(
    model_url: Callable[[str], str], pair_url: Callable[[str, str], str]
) -> Table[FitResult]:
    """A GPU page's table for one card count: each model that fits (linked), its best
    quantization (linked to the pair page), memory, speed and cost."""

    def model(r: FitResult) -> str:
        return row_header(_link(model_url(r.setup.model.id), str(escape(r.setup.model.name))))

    def quant(r: FitResult) -> str:
        link = _link(pair_url(r.setup.model.id, r.setup.gpu.id), str(escape(r.setup.quant.name)))
        return td(link, cls="t")

    return Table((
        Column("Model", model),
        Column("Quantization", quant),
        Column("Memory needed", lambda r: td_gib(r.memory.total), True),
        Column("Tokens/s", lambda r: td_speed(r.decode_tokens_per_s), True),
        Column("Cost", lambda r: td_money(r.cost_per_hour_usd), True),
    ))  # fmt: skip


def make_compat_table(
    gpu_url: Callable[[str], str], pair_url: Callable[[str, str], str], quant_names: Sequence[str]
) -> Table[Any]:
    """A model page's matrix: a row per GPU (rows are contexts.CompatRow), a column per common
    format with the fewest cards and the verdict's mark."""

    def gpu(row: Any) -> str:
        g, model = row.gpu, row.cells[0].setup.model.id
        name = str(escape(g.name))
        specs = (
            f'<a class="aside" href="{escape(gpu_url(g.id))}" aria-label="{name} specs">specs</a>'
        )
        return row_header(f"{_link(pair_url(model, g.id), name)} {specs}")

    def cards(index: int, row: Any) -> str:
        return td_cards(row.cells[index])

    def row_open(row: Any) -> str:
        g = row.gpu
        return (f'<tr data-vendor="{escape(g.vendor)}" data-class="{escape(g.gpu_class)}" '
                f'data-one="{1 if row.one_card else 0}">')  # fmt: skip

    columns = [Column("GPU", gpu)]
    columns += [Column(name, partial(cards, i), True) for i, name in enumerate(quant_names)]
    return Table(tuple(columns), row_open)
