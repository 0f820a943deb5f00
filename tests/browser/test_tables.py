"""Sorting and filtering the GPU catalog, the models index and a model's compatibility table."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from generator.catalog.schema import Catalog
from tests.browser.conftest import NewPage

pytestmark = pytest.mark.browser


def column(table: Locator, index: int, attribute: str | None = "data-sort") -> list[str | None]:
    """The cells of one column (1-based, as :nth-child counts), visible rows only."""
    return table.evaluate(
        "(t, [i, a]) => [...t.tBodies[0].rows].filter(r => !r.hidden)"
        ".map(r => r.cells[i - 1]).map(c => a ? c.getAttribute(a) : c.textContent.trim())",
        [index, attribute],
    )


def header(page: Page, table: str, name: str) -> Locator:
    return page.locator(
        f"#{table} thead th", has=page.get_by_role("button", name=name, exact=False)
    )


def test_the_gpu_catalog_sorts_by_vram_as_numbers_with_the_mouse(page: Page) -> None:
    page.goto("/gpus/")
    table = page.locator("#gpus-multi")
    page.locator("#gpus-multi").get_by_role("button", name="VRAM per GPU").click()
    values = [float(v) for v in column(table, 3) if v is not None]
    assert values == sorted(values) and len(set(values)) > 3
    expect(header(page, "gpus-multi", "VRAM per GPU")).to_have_attribute("aria-sort", "ascending")
    page.locator("#gpus-multi").get_by_role("button", name="VRAM per GPU").click()
    values = [float(v) for v in column(table, 3) if v is not None]
    assert values == sorted(values, reverse=True)
    expect(header(page, "gpus-multi", "VRAM per GPU")).to_have_attribute("aria-sort", "descending")


def test_sorting_by_price_from_the_keyboard_is_announced(page: Page) -> None:
    page.goto("/gpus/")
    button = page.locator("#gpus-multi").get_by_role("button", name="Price per card")
    button.focus()
    page.keyboard.press("Enter")
    expect(header(page, "gpus-multi", "Price per card")).to_have_attribute("aria-sort", "ascending")
    expect(page.get_by_role("status").filter(has_text="Sorted by")).to_have_text(
        "Cards that scale across a node, with effective memory at their maximum count: "
        "sorted by Price per card, ascending."
    )
    prices = column(page.locator("#gpus-multi"), 10)
    known = [float(p) for p in prices if p is not None]
    assert known == sorted(known)
    # Cards without a price come last, whichever way the column is sorted.
    assert prices[len(known) :] == [None] * (len(prices) - len(known))
    page.keyboard.press("Space")
    expect(header(page, "gpus-multi", "Price per card")).to_have_attribute(
        "aria-sort", "descending"
    )
    prices = column(page.locator("#gpus-multi"), 10)
    known = [float(p) for p in prices if p is not None]
    assert known == sorted(known, reverse=True)
    assert prices[len(known) :] == [None] * (len(prices) - len(known))


def natural(text: str | None) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(text).lower())]


def test_a_text_column_sorts_alphabetically_with_numbers_in_order(page: Page) -> None:
    page.goto("/gpus/")
    page.locator("#gpus-multi").get_by_role("button", name="GPU", exact=True).click()
    names = column(page.locator("#gpus-multi"), 1, None)
    assert names == sorted(names, key=natural)
    assert names.index("NVIDIA A30") < names.index("NVIDIA A100 PCIe 80GB")


def test_the_gpu_catalog_filters_by_name_vendor_and_class(page: Page, catalog: Catalog) -> None:
    page.goto("/gpus/")
    rows = page.locator("#gpus-multi tbody tr:not([hidden]), #gpus-single tbody tr:not([hidden])")
    expect(rows).to_have_count(len(catalog.gpus))
    page.get_by_label("Name contains").fill("h100")
    expect(rows).to_have_count(sum("h100" in g.name.lower() for g in catalog.gpus.values()))
    page.get_by_label("Name contains").fill("")
    page.get_by_label("Vendor").select_option("AMD")
    expect(rows).to_have_count(sum(g.vendor == "AMD" for g in catalog.gpus.values()))
    page.get_by_label("Class").select_option("consumer")
    expected = sum(g.vendor == "AMD" and g.gpu_class == "consumer" for g in catalog.gpus.values())
    expect(rows).to_have_count(expected)
    expect(page.locator(".filter-count")).to_have_text(
        f"Showing {expected} of {len(catalog.gpus)} rows."
    )


def test_a_models_compatibility_table_filters_to_consumer_cards_that_hold_it_alone(
    page: Page, catalog: Catalog
) -> None:
    page.goto("/models/qwen3-32b/")
    page.get_by_label("Class").select_option("consumer")
    page.get_by_label("Fits on 1 card").check()
    rows = page.locator("#compat tbody tr:not([hidden])")
    consumer = [g for g in catalog.gpus.values() if g.gpu_class == "consumer"]
    assert 0 < rows.count() < len(consumer) + 1
    for row in rows.all():
        assert row.get_attribute("data-class") == "consumer"
        expect(row.locator("td", has_text="1×").first).to_be_visible()
    hidden = page.locator("#compat tbody tr[hidden]")
    assert rows.count() + hidden.count() == len(catalog.gpus)
    # Sorting by a quantization's card count keeps the filter.
    page.locator("#compat").get_by_role("button", name="GGUF Q4_K_M").click()
    expect(page.locator("#compat tbody tr:not([hidden])")).to_have_count(rows.count())


def test_the_models_index_sorts_by_parameters_and_filters_to_single_card_models(
    page: Page, catalog: Catalog
) -> None:
    page.goto("/models/")
    table = page.locator("#models-table")
    table.get_by_role("button", name="Parameters").click()
    table.get_by_role("button", name="Parameters").click()
    params = [float(v) for v in column(table, 2) if v is not None]
    assert params == sorted(params, reverse=True) and len(params) == len(catalog.models)
    page.get_by_label("Mixture of experts").check()
    moe = [m for m in catalog.models.values() if m.active_params_b]
    expect(table.locator("tbody tr:not([hidden])")).to_have_count(len(moe))
    page.get_by_label("Fits on 1 card of some GPU").check()
    assert all(v != "0" for v in column(table, 7))
    expect(page.locator(".filter-count")).to_contain_text(f"of {len(catalog.models)} rows")


def test_without_javascript_the_full_tables_are_there_and_no_controls(
    new_page: NewPage, catalog: Catalog
) -> None:
    page = new_page(javascript=False)
    page.goto("/gpus/")
    expect(page.locator("#gpus-multi tbody tr, #gpus-single tbody tr")).to_have_count(
        len(catalog.gpus)
    )
    expect(page.locator("[data-filters]")).to_be_hidden()
    expect(page.locator("th button")).to_have_count(0)
    expect(page.locator("#site-search")).to_be_hidden()
    page.goto("/models/llama-3.1-8b/")
    expect(page.locator("#compat tbody tr")).to_have_count(len(catalog.gpus))
