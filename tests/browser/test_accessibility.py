"""axe-core on the key pages at desktop and phone widths; screenshots of each for review.

axe-core is the pinned npm package in tools/ (``make test`` runs ``npm ci`` there). The
screenshots go to test-artifacts/screenshots/, which CI keeps as an artifact.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import AXE, SCREENSHOTS, NewPage, open_calculator

pytestmark = pytest.mark.browser


def settle_calculator(page: Page) -> None:
    open_calculator(page, "?model=llama-3.3-70b&quant=q4_k_m&gpu=rtx-4090&count=2")


def settle_gpus(page: Page) -> None:
    page.goto("/gpus/")
    page.locator("#gpus-multi").get_by_role("button", name="VRAM per GPU").click()


def settle_search(page: Page) -> None:
    page.goto("/")
    page.locator("#site-search-q").fill("llama")
    page.wait_for_selector("#site-search-results:not([hidden]) li")


PAGES: dict[str, Callable[[Page], object]] = {
    "home": lambda page: page.goto("/"),
    "model": lambda page: page.goto("/models/llama-3.1-8b/"),
    "gpus": settle_gpus,
    "calculator": settle_calculator,
    "calculator-error": lambda page: open_calculator(page, "?context=-5"),
    "search": settle_search,
}
SEVERE = ("serious", "critical")


def run_axe(page: Page) -> list[dict[str, object]]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test` (it runs npm ci in tools/)")
    page.add_script_tag(path=str(AXE))
    result: dict[str, list[dict[str, object]]] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return result["violations"]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_or_critical_violations(
    new_page: NewPage, name: str, viewport: str
) -> None:
    page = new_page(viewport=viewport)
    PAGES[name](page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"), full_page=True)
    severe = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(n["target"]) for n in v["nodes"][:5])  # type: ignore[index]
        for v in run_axe(page)
        if v["impact"] in SEVERE
    ]
    assert severe == []
