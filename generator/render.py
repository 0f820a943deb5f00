"""Rendering: PageSpec → bytes. Content pages go shortcodes → Markdown → HTML. No disk writes.

Production builds minify HTML; ``serve`` does not, because livereload injects its script before
a literal ``</head>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import markdown
import minify_html
from jinja2 import Environment
from markupsafe import Markup

from generator.content import Page
from generator.contexts import ContentPage, PageMeta
from generator.shortcodes import ShortcodeContext, make_sandbox, render_shortcodes
from generator.site_plan import PageSpec

BLOCK_TAGS = ("<div", "<table", "<figure", "<pre", "<section", "<ol", "<ul", "<dl", "<p>", "<p ")
MARKDOWN_EXTENSIONS = [
    "tables",
    "toc",
    "attr_list",
    "footnotes",
    "admonition",
    "sane_lists",
    "abbr",
]


def make_markdown() -> markdown.Markdown:
    """The Markdown converter for guides: tables, heading anchors, footnotes, admonitions."""
    return markdown.Markdown(
        extensions=MARKDOWN_EXTENSIONS,
        extension_configs={"toc": {"permalink": False, "toc_depth": "2-3"}},
        output_format="html",
    )


def make_content_renderer(
    make_context: Callable[[], ShortcodeContext],
) -> Callable[[Page, PageMeta], ContentPage]:
    """A function rendering one Markdown page with a fresh shortcode context per page."""
    sandbox = make_sandbox()
    md = make_markdown()

    def render_content(page: Page, meta: PageMeta) -> ContentPage:
        ctx = make_context()
        text, pieces = render_shortcodes(
            page.body, page.first_body_line, page.display_path, ctx, sandbox
        )
        md.reset()
        html = md.convert(text)
        for key, piece in pieces.items():
            if piece.startswith(BLOCK_TAGS):  # a table on its own line is not a paragraph
                html = html.replace(f"<p>{key}</p>", piece)
            html = html.replace(key, piece)
        toc = tuple(_flatten_toc(getattr(md, "toc_tokens", [])))
        updated = page.meta.updated.isoformat() if page.meta.updated else None
        reads = frozenset(
            [f"model:{m}" for m in ctx.deps.models] + [f"gpu:{g}" for g in ctx.deps.gpus]
        )
        return ContentPage(meta, html, toc, page.meta.published.isoformat(), updated, reads)

    return render_content


def _flatten_toc(tokens: list[dict[str, Any]]) -> list[tuple[int, str, Markup]]:
    out = []
    for token in tokens:
        # toc_tokens names are already HTML-escaped by Markdown: mark them safe, not escaped twice.
        out.append((int(token["level"]), str(token["id"]), Markup(token["name"])))
        out.extend(_flatten_toc(token.get("children", [])))
    return out


def render_spec(spec: PageSpec, env: Environment, minify: bool) -> bytes:
    """The bytes of one output."""
    context = spec.make_context()
    if spec.template is None:
        return (json.dumps(context, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    values = context if isinstance(context, dict) else {"page": context}
    text = env.get_template(spec.template).render(**values, spec_path=spec.path)
    if minify and spec.file.endswith(".html"):
        text = minify_html.minify(
            text,
            minify_css=True,
            minify_js=True,
            keep_closing_tags=True,
            keep_html_and_head_opening_tags=True,
        )
    return text.encode("utf-8")
