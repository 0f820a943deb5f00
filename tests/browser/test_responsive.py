"""Every verdict in view on a phone (390 px) and a laptop (1280 px), without scrolling sideways.

Pair pages put the verdict right after the row's name; matrices (model page, home) stack into
"format: verdict" cells below 100rem. Screenshots of both widths go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOTS, NewPage

pytestmark = pytest.mark.browser

#: Page → the elements that must be in view: verdict badges and verdict cells of every row.
PAGES = {
    "pair": (
        "/models/llama-3.3-70b/on/rtx-3090/",
        "#pair-table tbody .verdict, #count-table tbody .verdict, #offload-table tbody .verdict",
    ),
    "pair-mac": (
        "/models/llama-3.1-8b/on/apple-m3-max-128gb/",
        "#pair-table tbody .verdict, #count-table tbody .verdict",
    ),
    "model": (
        "/models/llama-3.3-70b/",
        "#compat tbody td, details.quant-detail[open] tbody .verdict",
    ),
    "home": ("/", "table.matrix tbody td"),
    "gpus": ("/gpus/", "#gpus-multi tbody th, #gpus-single tbody th"),
}

#: The elements of ``selector`` that are rendered, and those that leave the viewport sideways.
OUT_OF_VIEW = """(selector) => {
  const shown = [...document.querySelectorAll(selector)].filter((e) => e.getClientRects().length);
  const width = document.documentElement.clientWidth;
  const out = shown.filter((e) => {
    const r = e.getBoundingClientRect();
    return r.left < -0.5 || r.right > width + 0.5;
  }).map((e) => e.closest("tr").innerText.replace(/\\s+/g, " ").slice(0, 80));
  return {shown: shown.length, out, scrollWidth: document.documentElement.scrollWidth, width};
}"""


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_verdict_is_in_view_without_scrolling_sideways(
    new_page: NewPage, name: str, viewport: str
) -> None:
    path, selector = PAGES[name]
    page = new_page(viewport=viewport)
    page.goto(path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"verdicts-{name}-{viewport}.png"), full_page=True)
    found = page.evaluate(OUT_OF_VIEW, selector)
    assert found["shown"] >= 5, found  # the page really has the rows this test is about
    assert found["out"] == [], f"{len(found['out'])} out of view: {found['out'][:5]}"
    assert found["scrollWidth"] <= found["width"]  # the page itself never scrolls sideways
