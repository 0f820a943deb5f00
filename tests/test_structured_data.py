"""What crawlers and link previews read: canonical URL, description, OpenGraph, JSON-LD.

Checked on every index page, every model, GPU, guide and standalone page, the 404 page and a
fixed sample of model × GPU pages (they share one template). JSON-LD must say only what the page
shows: breadcrumbs match the visible trail, list items match the listed entries, article dates
match the guide's front matter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup, Tag

from tests.conftest import ROOT

#: Every how-many-th model × GPU page is checked (sorted by path, so the sample is stable).
PAIR_STRIDE = 60
ALLOWED_TYPES = {"WebSite", "BreadcrumbList", "TechArticle", "ItemList"}


def base_url() -> str:
    settings = yaml.safe_load((ROOT / "site.yaml").read_text(encoding="utf-8"))
    return str(settings["base_url"]).rstrip("/")


def sample_pages(site: Path) -> list[Path]:
    pages = sorted(site.rglob("*.html"))
    pairs = [p for p in pages if "/on/" in p.relative_to(site).as_posix()]
    others = [p for p in pages if p not in set(pairs)]
    return others + pairs[::PAIR_STRIDE]


def own_url(site: Path, page: Path) -> str:
    rel = page.relative_to(site).as_posix().removesuffix("index.html")
    return f"{base_url()}/{rel}"


#: Pages whose body the tests read; of the others only what precedes <main> is parsed (the head
#: and the breadcrumb trail), which keeps the big model and GPU pages cheap.
WHOLE = ("index.html", "models/index.html", "gpus/index.html", "guides/")


def soup_of(site: Path, page: Path) -> BeautifulSoup:
    text = page.read_text(encoding="utf-8")
    if not page.relative_to(site).as_posix().startswith(WHOLE):
        text = text[: text.find("<main")]
    return BeautifulSoup(text, "html.parser")


def meta_content(soup: BeautifulSoup, **attrs: str) -> str | None:
    found = soup.find_all("meta", attrs=attrs)
    assert len(found) <= 1, f"{attrs} appears {len(found)} times"
    return str(found[0]["content"]) if found else None


def json_ld(soup: BeautifulSoup) -> dict[str, dict[str, Any]]:
    """JSON-LD objects of a page by @type (each type at most once)."""
    found: dict[str, dict[str, Any]] = {}
    for script in soup.find_all("script", type="application/ld+json"):
        data = json.loads(script.string or "")
        assert data["@context"] == "https://schema.org"
        assert data["@type"] not in found, f"two {data['@type']} objects"
        found[data["@type"]] = data
    return found


def visible_links(container: Tag | None) -> list[tuple[str, str]]:
    """(text, absolute URL) of the links in ``container``, in order."""
    assert container is not None
    return [(a.get_text(strip=True), absolute(str(a["href"]))) for a in container.find_all("a")]


def absolute(href: str) -> str:
    assert href.startswith("/"), f"internal links are root-relative: {href!r}"
    return base_url() + href


def list_items(data: dict[str, Any], key: str) -> list[tuple[str, str]]:
    items = data["itemListElement"]
    assert [i["position"] for i in items] == list(range(1, len(items) + 1))
    assert all(i["@type"] == "ListItem" for i in items)
    return [(i["name"], i[key]) for i in items]


@pytest.fixture(scope="module")
def pages(built_site: Path) -> dict[str, BeautifulSoup]:
    """Parsed sample pages by path relative to the site."""
    return {
        p.relative_to(built_site).as_posix(): soup_of(built_site, p)
        for p in sample_pages(built_site)
    }


def test_the_sample_covers_every_kind_of_page(pages: dict[str, BeautifulSoup]) -> None:
    for rel in ("index.html", "models/index.html", "gpus/index.html", "guides/index.html",
                "methodology/index.html", "404.html"):  # fmt: skip
        assert rel in pages
    kinds = {rel.split("/")[0] for rel in pages}
    assert {"models", "gpus", "guides"} <= kinds
    assert sum("/on/" in rel for rel in pages) >= 10


def test_every_page_has_one_canonical_url_ending_with_its_own_path(
    built_site: Path, pages: dict[str, BeautifulSoup]
) -> None:
    for rel, soup in pages.items():
        canonical = soup.find_all("link", rel="canonical")
        if rel == "404.html":  # served at any missing address: it names none
            assert canonical == []
            continue
        assert len(canonical) == 1, rel
        assert canonical[0]["href"] == own_url(built_site, built_site / rel), rel


def test_every_page_has_a_description_and_opengraph_tags(
    built_site: Path, pages: dict[str, BeautifulSoup]
) -> None:
    for rel, soup in pages.items():
        description = meta_content(soup, name="description")
        assert description and len(description) >= 20, rel
        assert meta_content(soup, property="og:description") == description, rel
        assert meta_content(soup, property="og:title"), rel
        assert meta_content(soup, property="og:url") == own_url(built_site, built_site / rel), rel
        kind = "article" if rel.startswith("guides/") and rel != "guides/index.html" else "website"
        assert meta_content(soup, property="og:type") == kind, rel


def test_json_ld_parses_and_uses_only_types_that_fit(pages: dict[str, BeautifulSoup]) -> None:
    for rel, soup in pages.items():
        types = set(json_ld(soup))
        assert types <= ALLOWED_TYPES, rel
        if rel == "404.html":
            assert types == set()


def test_breadcrumbs_in_json_ld_match_the_visible_trail(pages: dict[str, BeautifulSoup]) -> None:
    for rel, soup in pages.items():
        trail = soup.find("nav", attrs={"aria-label": "Breadcrumb"})
        data = json_ld(soup)
        if rel in ("index.html", "404.html"):
            assert trail is None and "BreadcrumbList" not in data, rel
            continue
        assert trail is not None, f"{rel} shows no breadcrumb trail"
        assert list_items(data["BreadcrumbList"], "item") == visible_links(trail), rel


def test_the_home_page_describes_the_site(pages: dict[str, BeautifulSoup]) -> None:
    site = json_ld(pages["index.html"])["WebSite"]
    assert site["url"] == base_url() + "/"
    assert site["name"] == meta_content(pages["index.html"], property="og:site_name")


def front_matter(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8").split("---", 2)[1])
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    "guide", sorted(p.stem for p in (ROOT / "content/guides").glob("*.md")), ids=str
)
def test_a_guide_is_a_tech_article_dated_from_its_front_matter(
    guide: str, pages: dict[str, BeautifulSoup]
) -> None:
    soup = pages[f"guides/{guide}/index.html"]
    article = json_ld(soup)["TechArticle"]
    meta = front_matter(ROOT / f"content/guides/{guide}.md")
    h1 = soup.find("h1")
    assert h1 is not None and article["headline"] == h1.get_text(strip=True)
    assert article["description"] == meta["description"]
    assert article["datePublished"] == meta["published"].isoformat()
    assert article["dateModified"] == (meta.get("updated") or meta["published"]).isoformat()
    assert article["url"] == article["mainEntityOfPage"] == f"{base_url()}/guides/{guide}/"


def test_the_methodology_page_is_not_claimed_as_an_article(
    pages: dict[str, BeautifulSoup],
) -> None:
    assert "TechArticle" not in json_ld(pages["methodology/index.html"])


@pytest.mark.parametrize(
    ("rel", "rows"),
    [
        ("models/index.html", "table.data tbody th[scope=row]"),
        ("gpus/index.html", "table.data tbody th[scope=row]"),
        ("guides/index.html", ".guide-list h2"),
    ],
    ids=["models", "gpus", "guides"],
)
def test_a_catalog_index_lists_its_entries_as_an_item_list(
    rel: str, rows: str, pages: dict[str, BeautifulSoup]
) -> None:
    soup = pages[rel]
    shown = [visible_links(cell)[0] for cell in soup.select(rows)]
    assert shown, f"{rel} lists nothing"
    listed = json_ld(soup)["ItemList"]
    assert list_items(listed, "url") == shown
    assert listed["numberOfItems"] == len(shown)
