"""Pair pages answer the question they ask: per card count, one verdict per row, measured
speeds beside the estimate (BeautifulSoup on the built site)."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup


def soup(site: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path / "index.html").read_text(encoding="utf-8"), "html.parser")


def test_two_rtx_3090s_answer_llama_3_3_70b_at_q4_k_m_with_the_measured_speed(
    built_site: Path,
) -> None:
    page = soup(built_site, "models/llama-3.3-70b/on/rtx-3090")
    answer = page.select_one("p.answer")
    assert answer is not None and answer["data-answer"] == "yes"
    assert "on 2 cards" in answer.get_text()
    row = page.select_one("#q-q4_k_m")
    assert row is not None
    assert row.select_one('[data-col="cards"]').get_text(strip=True) == "2×"  # type: ignore[union-attr]
    speed = row.select_one('[data-col="speed"]').get_text(" ", strip=True)  # type: ignore[union-attr]
    assert "measured" in speed and "16.57" in speed
    one, two = page.select("#count-table tbody tr")[:2]
    assert "Does not fit" in one.get_text() or "offload" in one.get_text()
    assert "Q4_K_M" in two.get_text() and "16.57" in two.get_text()


def test_no_row_of_a_pair_page_carries_two_verdict_badges(built_site: Path) -> None:
    pages = sorted(built_site.glob("models/*/on/*/index.html"))
    assert len(pages) > 1000
    for path in pages[::25]:
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for row in page.select("#pair-table tbody tr, #more-table tbody tr, #count-table tbody tr"):
            assert len(row.select(".verdict")) == 1, (path, row.get_text(" ", strip=True))
