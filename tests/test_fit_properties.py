"""Properties of the engine over the real catalog: monotonic in cards (layer split), VRAM and
context; the fewest cards and the longest context are exact boundaries of the per-card verdict."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.catalog.loader import load_catalog
from generator.catalog.schema import Catalog
from generator.fit.answers import compute_max_context, compute_min_gpus
from generator.fit.result import compute_fit, compute_memory
from generator.fit.setup import Options, Setup, resolve_setup, runtimes_on
from generator.fit.sizing import compute_sizing
from tests.conftest import ROOT

CATALOG: Catalog = load_catalog(ROOT / "catalog")
PAIRS = [(m.id, q) for m in CATALOG.models.values() for q in m.quantizations]
#: Every model × quantization × GPU with a runtime for the format on the card's platform.
RUNNABLE = [
    (m, q, g.id)
    for m, q in PAIRS
    for g in CATALOG.gpus.values()
    if runtimes_on(CATALOG, CATALOG.quantizations[q], g)
]


@st.composite
def setups(draw: st.DrawFn) -> Setup:
    model, quant, gpu = draw(st.sampled_from(RUNNABLE))
    max_context = CATALOG.models[model].max_context
    context = draw(st.integers(1, min(max_context, 1 << 20)))
    batch = draw(st.integers(1, 8))
    return resolve_setup(CATALOG, model, quant, gpu, Options(context, batch))


@settings(max_examples=300, deadline=None)
@given(setups())
def test_with_a_layer_split_more_cards_never_turn_a_fit_into_a_miss(setup: Setup) -> None:
    # Tensor-parallel runtimes are left out on purpose: TGI cannot use a count that does not
    # divide the heads, so 3 cards can fail where 2 fit.
    if setup.runtime.split != "layer":
        return
    fits = [compute_fit(setup, n).fits for n in range(1, setup.gpu.node_max_gpus + 1)]
    first = fits.index(True) if True in fits else len(fits)
    assert all(fits[first:])


@settings(max_examples=300, deadline=None)
@given(setups(), st.floats(1.01, 4.0))
def test_more_vram_never_turns_a_fit_into_a_miss(setup: Setup, factor: float) -> None:
    bigger_gpu = setup.gpu.model_copy(update={"vram_gib": setup.gpu.vram_gib * factor})
    bigger = Setup(**{**setup.__dict__, "gpu": bigger_gpu})
    for cards in range(1, setup.gpu.node_max_gpus + 1):
        if compute_fit(setup, cards).fits:
            assert compute_fit(bigger, cards).fits


@settings(max_examples=300, deadline=None)
@given(setups(), st.integers(1, 1 << 16))
def test_more_context_never_needs_less_memory(setup: Setup, extra: int) -> None:
    longer = min(setup.context + extra, setup.model.max_context)
    assert compute_memory(setup, 1, longer).total >= compute_memory(setup, 1).total
    sizing = compute_sizing(setup)
    for cards in (1, 2, setup.gpu.node_max_gpus):
        layout = sizing.layout(cards)
        if layout is not None:
            assert layout.need(longer) >= layout.need(setup.context)


@settings(max_examples=300, deadline=None)
@given(setups())
def test_min_gpus_is_the_smallest_count_that_fits(setup: Setup) -> None:
    found = compute_min_gpus(setup)
    counts = range(1, setup.gpu.node_max_gpus + 1)
    expected = next((n for n in counts if compute_fit(setup, n).fits), None)
    assert found == expected


@settings(max_examples=150, deadline=None)
@given(setups())
def test_max_context_fits_and_one_token_more_does_not(setup: Setup) -> None:
    cards = compute_min_gpus(setup) or 1
    longest = compute_max_context(setup, cards)
    if longest == 0:
        return
    at_longest = Setup(**{**setup.__dict__, "context": longest})
    assert compute_fit(at_longest, cards).fits
    if longest < setup.model.max_context:
        beyond = Setup(**{**setup.__dict__, "context": longest + 1})
        assert not compute_fit(beyond, cards).fits


def binary_search_max_context(setup: Setup, cards: int) -> int:
    def fits(context: int) -> bool:
        return compute_fit(Setup(**{**setup.__dict__, "context": context}), cards).fits

    if not fits(1):
        return 0
    low, high = 1, setup.model.max_context
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    return low


def test_max_context_equals_a_plain_binary_search_for_every_model() -> None:
    for model, quant, gpu in RUNNABLE:
        if gpu in ("rtx-3060-12gb", "rtx-4090", "h100-sxm", "apple-m2-ultra-192gb"):
            setup = resolve_setup(CATALOG, model, quant, gpu, Options(batch=2))
            for cards in (1, 2, setup.gpu.node_max_gpus):
                assert compute_max_context(setup, cards) == binary_search_max_context(
                    setup, cards
                ), (model, quant, gpu, cards)
