"""docs/shortcodes.md documents every registered shortcode, generated from their docstrings."""

from __future__ import annotations

from generator.shortcodes import REGISTRY, iter_shortcode_docs
from tests.conftest import ROOT

DOCS = ROOT / "docs" / "shortcodes.md"
INTRO = """# Shortcodes for authors

Guides and pages under `content/` call shortcodes as `{{ name(arguments) }}`, inline in a
sentence or on a line of their own; a call may span several lines. Nothing else of Jinja is
available: no `{% %}` statements, no other functions. Every number a shortcode prints comes from
the fit engine at the site's defaults (8192 tokens of context, one sequence, each
quantization's default runtime), so a guide cannot drift from the catalog.

Arguments that name the catalog use its ids (`fitatlas catalog` lists them); configurations are
written like `"2x h100-sxm"`. A claim your sentence makes can be checked with `expect=`: the
build fails with `file:line: message` when the engine disagrees. Unknown ids fail the same way,
with the closest ids suggested.

This file is generated from the shortcodes' docstrings: run
`.venv/bin/pytest tests/test_shortcode_docs.py --update-golden` after changing one.
"""


def render_docs() -> str:
    parts = [INTRO]
    for name, signature, doc in iter_shortcode_docs():
        parts.append(f"## `{name}`\n\n`{signature}`\n\n{doc}\n")
    return "\n".join(parts)


def test_every_registered_shortcode_is_documented(update_golden: bool) -> None:
    expected = render_docs()
    if update_golden:
        DOCS.write_text(expected, encoding="utf-8")
    assert DOCS.read_text(encoding="utf-8") == expected, "regenerate with --update-golden"
    for name in REGISTRY:
        assert f"## `{name}`" in expected


def test_every_shortcode_has_an_example_in_its_docstring() -> None:
    for name, _, doc in iter_shortcode_docs():
        assert "Example" in doc and f"{name}(" in doc, name
