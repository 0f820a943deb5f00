"""Fit engine, answers about one setup beyond its result: fewest cards, most sequences,
longest context, what each card holds, KV growth and launch commands. Pure.

Each takes the setup's ``Sizing`` when the caller has it (the matrix keeps one per model,
quantization and runtime) and works it out otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from generator.catalog.schema import Catalog
from generator.fit.commands import render_command
from generator.fit.memory import kv_bytes_per_token
from generator.fit.placement import Placement
from generator.fit.result import FitResult
from generator.fit.setup import Setup, runtimes_on
from generator.fit.sizing import Sizing, compute_sizing


def compute_min_gpus(setup: Setup, sizing: Sizing | None = None) -> int | None:
    """The smallest card count (1 … the physical limit) whose every card holds its share."""
    if not setup.runs_here:
        return None
    sizing = compute_sizing(setup) if sizing is None else sizing
    return sizing.fewest_cards(setup.card_limit, setup.gpu.node_max_gpus)


def compute_max_sequences(setup: Setup, cards: int, sizing: Sizing | None = None) -> int:
    """The most concurrent sequences of the setup's context that ``cards`` cards hold."""
    if not setup.runs_here or cards > setup.gpu.node_max_gpus:
        return 0
    sizing = compute_sizing(setup) if sizing is None else sizing
    layout = sizing.layout(cards)
    return 0 if layout is None else layout.max_sequences(setup.context, setup.card_limit)


def compute_max_context(setup: Setup, cards: int, sizing: Sizing | None = None) -> int:
    """The longest context (tokens, up to the model's maximum) that fits on ``cards``; 0 if none."""
    if cards > setup.gpu.node_max_gpus or not setup.runs_here:
        return 0
    sizing = compute_sizing(setup) if sizing is None else sizing
    return sizing.longest_context(cards, setup.card_limit)


def compute_placement(setup: Setup, cards: int, sizing: Sizing | None = None) -> Placement | None:
    """What each card holds under the setup's runtime at the setup's context, or None when it
    cannot shard this way (a runtime without pipeline stages needs the cards to divide the
    attention heads) or does not run on the card."""
    if not setup.runs_here:
        return None
    sizing = compute_sizing(setup) if sizing is None else sizing
    layout = sizing.layout(cards)
    if layout is None:
        return None
    return layout.place(setup.context, setup.card_capacity, setup.runtime.memory_utilization)


def kv_growth_per_token(setup: Setup) -> int:
    """KV bytes each token adds past any sliding window, for one sequence."""
    return kv_bytes_per_token(
        setup.model.architecture, setup.kv.bits_per_element, setup.honours_window
    )


def render_commands(
    result: FitResult, catalog: Catalog, sizing_of: Callable[[Setup], Sizing] = compute_sizing
) -> dict[str, str]:
    """Launch commands by runtime id, for every runtime that loads this quantization, runs on
    the card's platform and fits under its own layout. ``sizing_of`` may serve sizings from a
    cache (``FitMatrix.sizing_for``)."""
    s = result.setup
    commands = {}
    for runtime in runtimes_on(catalog, s.quant, s.gpu):
        kv = s.kv.id if s.kv.id in runtime.kv_dtypes else runtime.default_kv_dtype
        setup = s if runtime is s.runtime else s.with_runtime(runtime, catalog.kv_dtypes[kv])
        placement = compute_placement(setup, result.cards, sizing_of(setup))
        if placement is None or not placement.fits:
            continue
        shares = tuple(c.weights + c.kv_cache for c in placement.cards)
        text = render_command(
            s.model, s.quant, runtime, kv, result.cards, s.context, s.batch, shares
        )
        if text is not None:
            commands[runtime.id] = text
    return commands
