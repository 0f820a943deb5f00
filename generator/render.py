"""Rendering: PageSpec → bytes. Content pages go shortcodes → Markdown → HTML. No disk writes.

Pages are not minified after rendering: templates lose their indentation when they load
(templating.CompactLoader), which leaves pages 2–3 % larger than minify-html's output once
compressed, at none of its cost per page. ``serve`` and ``build`` write the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import markdown
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
            + (["gpu:*"] if ctx.deps.every_gpu else [])
        )  # fmt: skip
        return ContentPage(meta, html, toc, page.meta.published.isoformat(), updated, reads)

    return render_content


def _flatten_toc(tokens: list[dict[str, Any]]) -> list[tuple[int, str, Markup]]:
    out = []
    for token in tokens:
        # toc_tokens names are already HTML-escaped by Markdown: mark them safe, not escaped twice.
        out.append((int(token["level"]), str(token["id"]), Markup(token["name"])))
        out.extend(_flatten_toc(token.get("children", [])))
    return out


def render_spec(spec: PageSpec, env: Environment) -> bytes:
    """The bytes of one output."""
    context = spec.make_context()
    if spec.template is None:
        return (json.dumps(context, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    values = context if isinstance(context, dict) else {"page": context}
    text = env.get_template(spec.template).render(**values, spec_path=spec.path)
    return text.encode("utf-8")
