"""The search box: a Pagefind index built with the site, served by any static host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from generator.build import build_site
from tests.browser.conftest import NewPage, serve_folder, stop
from tests.site_helpers import FIXTURE, copy_project

pytestmark = pytest.mark.browser

RESULTS = "#site-search-results"


def search(page: Page, query: str) -> list[str]:
    """Type a query into the header's box; the result links' paths, best first."""
    page.locator("#site-search-q").fill(query)
    page.wait_for_selector(f"{RESULTS}:not([hidden]) .search-count:text-matches('for “{query}”')")
    return page.locator(f"{RESULTS} li a").evaluate_all(
        "as => as.map(a => new URL(a.href).pathname)"
    )


def test_searching_a_card_name_finds_its_gpu_page_first_and_enter_opens_it(page: Page) -> None:
    page.goto("/")
    found = search(page, "4090")
    assert found[0] == "/gpus/rtx-4090/"
    assert not any("/on/" in path for path in found), "model × GPU pages are not indexed"
    page.locator("#site-search-q").press("Enter")
    expect(page).to_have_url("/gpus/rtx-4090/")
    expect(page.locator("h1")).to_contain_text("RTX 4090")


def test_search_finds_models_and_guides_with_their_section(page: Page) -> None:
    page.goto("/gpus/")
    assert "/models/deepseek-r1/" in search(page, "deepseek")
    guides = search(page, "NVLink")
    assert "/guides/multi-gpu-inference/" in guides
    tag = page.locator(f"{RESULTS} li:has(a[href$='/guides/multi-gpu-inference/']) .tag")
    expect(tag).to_have_text("Guides")
    expect(page.locator(f"{RESULTS} li mark").first).to_be_visible()


def test_a_query_without_results_says_so_and_escape_closes_the_panel(page: Page) -> None:
    page.goto("/models/")
    assert search(page, "zzzqqqxx") == []
    expect(page.locator(f"{RESULTS} .search-count")).to_have_text("Nothing found for “zzzqqqxx”.")
    page.locator("#site-search-q").press("Escape")
    expect(page.locator(RESULTS)).to_be_hidden()


def test_the_index_is_published_without_pagefinds_own_interfaces(built_site: Path) -> None:
    bundle = built_site / "pagefind"
    assert (bundle / "pagefind.js").is_file() and (bundle / "pagefind-entry.json").is_file()
    assert not list(bundle.glob("pagefind-*ui*")), "the site's own box replaces Pagefind's UIs"


@pytest.fixture(scope="module")
def sub_path_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fixture project built for /atlas/ and served from the folder above it."""
    base = tmp_path_factory.mktemp("search-subpath")
    project = copy_project(base / "project", FIXTURE)
    build_site(project, out=base / "root" / "atlas", base_url="https://fixture.example/atlas/")
    server, url = serve_folder(base / "root")
    yield url
    stop(server)


def test_search_and_the_calculator_work_under_a_sub_path(
    new_page: NewPage, sub_path_url: str
) -> None:
    page = new_page(origin=sub_path_url)
    page.goto("/atlas/")
    found = search(page, "H100")
    assert found and all(path.startswith("/atlas/") for path in found)
    assert "/atlas/gpus/h100-sxm/" in found
    page.goto("/atlas/calculator/?model=deepseek-r1&quant=q4_k_m&gpu=h100-sxm")
    page.wait_for_selector("#calc-result:not([hidden])")
    expect(page.locator("[data-out=min_gpus]")).to_contain_text("H100")
