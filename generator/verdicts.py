"""How a verdict looks: its words, its symbol and its colour class. The one place they are
defined; templates, the table columns and the calculator (through its data file) read them here.

A verdict is never shown by colour alone: every badge and table cell carries the symbol (hidden
from screen readers, which read the words) and the words or the card count.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from generator.fit.matrix import Cell

#: Verdict id → (symbol, words). "offload" is not an engine verdict: it marks a plan that runs
#: with part of the model in system RAM, drawn in the colours of "tight".
VERDICTS = {
    "fits": ("✓", "Fits"),
    "tight": ("!", "Fits, tight"),
    "does-not-fit": ("✗", "Does not fit"),
    "over-card-limit": ("✗", "More cards than one node holds"),
    "no-runtime": ("–", "No runtime on this platform"),
}
OFFLOAD = ("!", "Runs with offload")
#: The colour class each presentation borrows ("offload" looks like "tight").
CLASSES = {**{v: v for v in VERDICTS}, "offload": "tight"}


def _badge(verdict: str, symbol: str, words: str) -> Markup:
    return Markup(
        f'<span class="verdict verdict-{CLASSES[verdict]}"><span aria-hidden="true">{symbol}'
        f"</span> {words}</span>"
    )


_BADGES = {v: _badge(v, symbol, words) for v, (symbol, words) in VERDICTS.items()}
_BADGES["offload"] = _badge("offload", *OFFLOAD)


def verdict_badge(verdict: str) -> Markup:
    """The verdict in words, with its symbol and colour class; 'offload' for a RAM plan."""
    return _BADGES[verdict]


def legend_mark(verdict: str, text: str) -> Markup:
    """A legend's sample cell: the verdict's symbol and colour with ``text`` ('2×', 'n/a')."""
    symbol = VERDICTS[verdict][0]
    return _badge(verdict, symbol, str(escape(text)))


def cards_mark(cell: Cell) -> tuple[str, str]:
    """(colour class, text) of a compact matrix cell: '✓ 2×', '! 2×', '✗ —' or '– n/a'."""
    verdict = str(cell.result.verdict)
    if cell.fits:
        return f"verdict-{verdict}", f"{VERDICTS[verdict][0]} {cell.min_gpus}×"
    if verdict == "no-runtime":
        return "verdict-no-runtime", f"{VERDICTS['no-runtime'][0]} n/a"
    return "verdict-does-not-fit", f"{VERDICTS['does-not-fit'][0]} —"


def verdict_labels() -> dict[str, dict[str, str]]:
    """Every verdict's symbol and words, for the calculator's data file."""
    return {v: {"symbol": symbol, "word": words} for v, (symbol, words) in VERDICTS.items()}
