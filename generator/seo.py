"""What search engines and link previews read: schema.org JSON-LD for a page, built from the
page's own context. Pure.

Only where a schema.org type fits the page and every value comes from the page itself: WebSite on
the home page; BreadcrumbList wherever the visible breadcrumb trail is shown (the same steps);
TechArticle on guides; ItemList on the model, GPU and guide indexes (their entries, in the order
shown). No author, image or rating is claimed that the site does not have. The 404 page is served
at any missing address, so it carries none.
"""

from __future__ import annotations

from typing import Any

from generator import urls
from generator.contexts import Crumb, PageMeta
from generator.settings import SiteSettings

SCHEMA = "https://schema.org"


def absolute_url(settings: SiteSettings, path: str) -> str:
    """A site path as a full URL under the base URL."""
    return settings.base_url.rstrip("/") + path


def is_guide(spec_path: str) -> bool:
    """Whether the output at ``spec_path`` is a guide (an article)."""
    return spec_path.startswith(urls.GUIDES) and spec_path != urls.GUIDES


def structured_data(
    settings: SiteSettings, meta: PageMeta, page: Any, spec_path: str
) -> list[dict[str, Any]]:
    """The JSON-LD objects of one page, in the order they are written."""
    if meta.path == "/404.html":
        return []
    page_url = absolute_url(settings, meta.path)
    graph: list[dict[str, Any]] = []
    if meta.path == urls.HOME:
        graph.append({"@context": SCHEMA, "@type": "WebSite", "name": settings.title,
                      "url": page_url, "description": meta.description})  # fmt: skip
    if len(meta.crumbs) > 1:
        graph.append(_breadcrumbs(settings, meta.crumbs))
    if is_guide(spec_path):
        graph.append(_article(settings, meta, page, page_url))
    entries = _entries(meta.path, page)
    if entries:
        items = [
            {"@type": "ListItem", "position": i, "name": name,
             "url": absolute_url(settings, path)}
            for i, (name, path) in enumerate(entries, start=1)
        ]  # fmt: skip
        graph.append({"@context": SCHEMA, "@type": "ItemList", "name": meta.title,
                      "numberOfItems": len(items), "itemListElement": items})  # fmt: skip
    return graph


def _breadcrumbs(settings: SiteSettings, crumbs: tuple[Crumb, ...]) -> dict[str, Any]:
    steps = [
        {"@type": "ListItem", "position": position, "name": crumb.title,
         "item": absolute_url(settings, crumb.path)}
        for position, crumb in enumerate(crumbs, start=1)
    ]  # fmt: skip
    return {"@context": SCHEMA, "@type": "BreadcrumbList", "itemListElement": steps}


def _article(settings: SiteSettings, meta: PageMeta, page: Any, page_url: str) -> dict[str, Any]:
    return {
        "@context": SCHEMA, "@type": "TechArticle", "headline": meta.title,
        "description": meta.description, "url": page_url, "mainEntityOfPage": page_url,
        "inLanguage": "en", "datePublished": page.published,
        "dateModified": page.updated or page.published,
        "isPartOf": {"@type": "WebSite", "name": settings.title,
                     "url": absolute_url(settings, urls.HOME)},
    }  # fmt: skip


def _entries(path: str, page: Any) -> list[tuple[str, str]]:
    """(name, site path) of each entry an index lists, in the order shown."""
    if path == urls.MODELS:
        return [(row.model.name, urls.model_path(row.model.id)) for row in page.rows]
    if path == urls.GPUS:
        return [(row.gpu.name, urls.gpu_path(row.gpu.id)) for row in page.multi + page.single]
    if path == urls.GUIDES:
        return [(guide.title, guide.path) for guide in page.guides]
    return []
