"""The seed article's figures, reproduced by the engine over the real catalog."""

from __future__ import annotations

import pytest

from generator.catalog.schema import Catalog
from generator.fit.answers import compute_min_gpus
from generator.fit.memory import GIB
from generator.fit.result import compute_fit
from generator.fit.setup import Options, resolve_setup
from generator.fit.verdict import compute_capacity

SEED_EFFECTIVE_VRAM = [
    ("h100-sxm", 2, 147.2),
    ("a100-80gb-sxm", 4, 288.0),
    ("mi300x", 8, 1351.68),
    ("l40s", 2, 72.0),
    ("h100-sxm", 8, 588.8),
    ("mi350x", 8, 2073.6),
    ("a100-80gb-sxm", 6, 432.0),
]


@pytest.mark.parametrize(
    ("gpu", "cards", "effective_gib"),
    SEED_EFFECTIVE_VRAM,
    ids=[f"{n}x-{g}" for g, n, _ in SEED_EFFECTIVE_VRAM],
)
def test_effective_vram_matches_the_seed_table(
    catalog: Catalog, gpu: str, cards: int, effective_gib: float
) -> None:
    card = catalog.gpus[gpu]
    capacity = compute_capacity(card, catalog.interconnect_of(card), cards)
    assert capacity.effective / GIB == pytest.approx(effective_gib, abs=1e-6)
    assert capacity.raw == cards * card.vram_gib * GIB


def test_8x_mi300x_rounds_to_the_seeds_1351_7(catalog: Catalog) -> None:
    card = catalog.gpus["mi300x"]
    capacity = compute_capacity(card, catalog.interconnect_of(card), 8)
    assert f"{capacity.effective / GIB:.1f}" == "1351.7"


def test_one_card_uses_its_whole_vram_without_a_scaling_factor(catalog: Catalog) -> None:
    card = catalog.gpus["h100-sxm"]
    capacity = compute_capacity(card, catalog.interconnect_of(card), 1)
    assert capacity.effective == capacity.raw == 80 * GIB
    assert capacity.scaling_factor == 1.0


def test_deepseek_r1_at_q4_needs_six_a100_80gb(catalog: Catalog) -> None:
    setup = resolve_setup(catalog, "deepseek-r1", "q4_k_m", "a100-80gb-sxm", Options())
    assert compute_min_gpus(setup) == 6
    assert not compute_fit(setup, 5).fits
    assert compute_fit(setup, 6).fits


def test_two_h100_cost_6_50_an_hour_44_percent_above_one_h200(catalog: Catalog) -> None:
    pair = resolve_setup(catalog, "llama-3.3-70b", "q8_0", "h100-sxm", Options())
    single = resolve_setup(catalog, "llama-3.3-70b", "q8_0", "h200-sxm", Options())
    pair_cost = compute_fit(pair, 2).cost_per_hour_usd
    single_cost = compute_fit(single, 1).cost_per_hour_usd
    assert pair_cost == pytest.approx(6.50)
    assert single_cost == pytest.approx(4.50)
    assert assert_percent(pair_cost, single_cost) == 44


def assert_percent(a: float | None, b: float | None) -> int:
    assert a is not None and b is not None
    return round((a / b - 1) * 100)


def test_llama_405b_at_q4_does_not_fit_two_h100_contrary_to_the_seed_table(
    catalog: Catalog,
) -> None:
    setup = resolve_setup(catalog, "llama-3.1-405b", "q4_k_m", "h100-sxm", Options())
    assert not compute_fit(setup, 2).fits


def test_llama_405b_at_bf16_does_not_fit_8x_h100_contrary_to_the_seed_table(
    catalog: Catalog,
) -> None:
    setup = resolve_setup(catalog, "llama-3.1-405b", "bf16", "h100-sxm", Options())
    result = compute_fit(setup, 8)
    assert result.memory.weights > 810e9
    assert not result.fits
