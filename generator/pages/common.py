"""What several page kinds share: breadcrumbs, the formats shown first, the card counts a page
answers for, measured speeds of a setup, launch commands and capacities. Pure."""

from __future__ import annotations

from generator import urls
from generator.catalog.schema import GPU
from generator.contexts import Crumb
from generator.fit.accuracy import Comparison
from generator.fit.answers import render_commands
from generator.fit.matrix import Cell, FitMatrix
from generator.fit.setup import Setup
from generator.fit.verdict import Capacity, compute_capacity

HOME = Crumb("Home", urls.HOME)
MODELS = Crumb("Models", urls.MODELS)
GPUS = Crumb("GPUs", urls.GPUS)
GUIDES = Crumb("Guides", urls.GUIDES)


def common_quants(matrix: FitMatrix, model_id: str) -> tuple[str, ...]:
    """The model's formats that pages show first (all of them when none is marked common)."""
    quants = matrix.catalog.models[model_id].quantizations
    table = matrix.catalog.quantizations
    common = tuple(q for q in quants if table[q].common)
    return common or quants


def card_counts(gpu: GPU) -> list[int]:
    """The card counts a page answers for: 1 … 8, then powers of two and the node's limit."""
    most = gpu.node_max_gpus
    counts = list(range(1, min(most, 8) + 1))
    counts += [n for n in (16, 32, 64) if 8 < n < most]
    return counts + ([most] if most > 8 else [])


def measured_speed(
    measured: tuple[Comparison, ...], setup: Setup, cards: int
) -> tuple[Comparison, ...]:
    """Published single-stream decode speeds of this setup (runtime and card count), shortest
    context first."""
    same = [
        c for c in measured
        if c.measurement.metric == "decode_tokens_per_s" and c.measurement.cards == cards
        and c.measurement.batch == 1 and c.measurement.runtime == setup.runtime.id
    ]  # fmt: skip
    return tuple(sorted(same, key=lambda c: (c.measurement.context, c.measurement.id)))


def make_commands(matrix: FitMatrix, cell: Cell) -> dict[str, str]:
    """Commands by runtime name for a cell that fits; empty when it does not."""
    if not cell.fits:
        return {}
    runtimes = matrix.catalog.runtimes
    commands = render_commands(cell.result, matrix.catalog, matrix.sizing_for)
    return {runtimes[k].name: v for k, v in commands.items()}


def make_capacity(matrix: FitMatrix, gpu: GPU, cards: int) -> Capacity:
    """Capacity of ``cards`` × ``gpu``."""
    return compute_capacity(gpu, matrix.catalog.interconnect_of(gpu), cards)
