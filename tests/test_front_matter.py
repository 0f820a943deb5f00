"""Front matter is split by one function, for the content loader and the incremental rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.content import FenceError, split_front_matter
from generator.incremental import diff_content
from generator.site_plan import CONTENT_META

PAGE = "---\ntitle: Before --- after\npublished: 2026-01-01\n---\n# Heading\n\nBody ---\n"


def test_the_front_matter_ends_at_the_first_fence_line_not_at_a_dash_run_inside_it() -> None:
    front, body, body_line = split_front_matter(PAGE)
    assert front == "title: Before --- after\npublished: 2026-01-01"
    assert body == "# Heading\n\nBody ---\n"
    assert body_line == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [("title: x\n---\n", "a page starts with '---'"), ("---\ntitle: x\n", "no closing '---'")],
    ids=["no opening fence", "no closing fence"],
)
def test_a_missing_fence_is_named(text: str, message: str) -> None:
    with pytest.raises(FenceError, match=message):
        split_front_matter(text)


def test_an_edit_after_dashes_inside_the_front_matter_counts_as_a_front_matter_edit(
    tmp_path: Path,
) -> None:
    page = tmp_path / "guide.md"
    page.write_text(PAGE, encoding="utf-8")
    old_front = {"guide.md": split_front_matter(PAGE)[0]}
    page.write_text(PAGE.replace("after", "later"), encoding="utf-8")
    keys = diff_content(tmp_path, {"guide.md": "old"}, {"guide.md": "new"}, old_front)
    assert keys == {"content:guide.md", CONTENT_META}
