"""Helpers for site tests: build a project copy, hash trees, walk links."""

from __future__ import annotations

import hashlib
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixture_project"


def copy_project(target: Path, source: Path = ROOT, templates: Path = ROOT / "templates") -> Path:
    """A buildable copy of ``source`` (catalog, content, site.yaml) with ``templates``."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in ("catalog", "content"):
        shutil.copytree(source / folder, target / folder)
    shutil.copytree(templates, target / "templates")
    shutil.copy(source / "site.yaml", target / "site.yaml")
    return target


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class LinkParser(HTMLParser):
    """Collects link targets and element ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for key in ("href", "src"):
            if values.get(key) and not (tag == "link" and values.get("rel") == "canonical"):
                self.links.append(str(values[key]))


def parse_page(path: Path) -> LinkParser:
    parser = LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def resolve(site: Path, page: Path, link: str, prefix: str) -> tuple[Path, str] | None:
    """The file and fragment an internal link points to, or None for external links."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:")):
        return None
    target, fragment = urldefrag(unquote(link))
    if not target:
        return page, fragment
    if target.startswith("/"):
        if not target.startswith(prefix):
            raise AssertionError(f"{page}: link {link!r} escapes the base path {prefix!r}")
        path = site / target[len(prefix) :].lstrip("/")
    else:
        path = (page.parent / target).resolve()
    if link.split("#")[0].endswith("/") or path.is_dir():
        path = path / "index.html"
    return path, fragment


def broken_links(site: Path, prefix: str = "/") -> list[str]:
    """Every internal link, asset or #anchor in ``site`` that does not resolve."""
    parsed = {p: parse_page(p) for p in sorted(site.rglob("*.html"))}
    problems = []
    for page, parser in parsed.items():
        for link in parser.links:
            found = resolve(site, page, link, prefix)
            if found is None:
                continue
            path, fragment = found
            if not path.exists():
                problems.append(f"{page.relative_to(site)}: missing {link}")
            elif fragment and path.suffix == ".html":
                ids = parsed[path].ids if path in parsed else parse_page(path).ids
                if fragment not in ids:
                    problems.append(f"{page.relative_to(site)}: missing anchor {link}")
    return problems
