"""Content loading: Markdown pages with YAML front matter under content/. Reads disk only.

A page is ``content/<section>/<slug>.md`` (guides) or ``content/<slug>.md`` (standalone pages
such as the methodology). Front matter is validated like the catalog: strict, every problem at
once, each with file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generator.errors import SiteError, not_utf8

FENCE = "---"


class FrontMatter(BaseModel):
    """What a page declares about itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=20, max_length=300, description="For search results")
    published: date
    updated: date | None = None
    summary: str | None = Field(None, description="One paragraph for index pages and the feed")


@dataclass(frozen=True)
class Page:
    """One Markdown page: where it came from, its metadata and its unrendered body."""

    source: Path
    display_path: str
    section: str
    slug: str
    meta: FrontMatter
    body: str
    first_body_line: int


class ContentError(SiteError):
    """Every content problem found, one ``path:line: message`` per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(problems))


def load_pages(content_dir: Path, root: Path) -> list[Page]:
    """Every ``*.md`` under ``content_dir``, sorted by path; raise ContentError on any problem."""
    problems: list[str] = []
    pages = []
    for path in sorted(content_dir.rglob("*.md")):
        page = _load_page(path, content_dir, _display(path, root), problems)
        if page is not None:
            pages.append(page)
    if problems:
        raise ContentError(problems)
    return pages


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _load_page(path: Path, content_dir: Path, display: str, problems: list[str]) -> Page | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, _, message = not_utf8(data, exc)
        problems.append(f"{display}:{line}: {message}")
        return None
    try:
        front, body, body_line = split_front_matter(text)
    except FenceError as exc:
        problems.append(f"{display}:1: {exc}")
        return None
    meta = _parse_front_matter(front, display, problems)
    if meta is None:
        return None
    rel = path.relative_to(content_dir)
    section = rel.parent.as_posix() if rel.parent != Path(".") else ""
    return Page(path, display, section, path.stem, meta, body, body_line)


class FenceError(ValueError):
    """A page whose front matter is not fenced by '---' lines; the message says which is missing."""


def split_front_matter(text: str) -> tuple[str, str, int]:
    """A page's front matter text, its body, and the line the body starts on.

    The front matter lies between a first line '---' and the next line '---' (spaces around
    either ignored); FenceError when either is missing.
    """
    lines = text.split("\n")
    if lines[0].strip() != FENCE:
        raise FenceError("a page starts with '---' and YAML front matter")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if end is None:
        raise FenceError("front matter has no closing '---'")
    return "\n".join(lines[1:end]), "\n".join(lines[end + 1 :]), end + 2


def _parse_front_matter(text: str, display: str, problems: list[str]) -> FrontMatter | None:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problems.append(f"{display}:{line}: malformed front matter: {getattr(exc, 'problem', exc)}")
        return None
    try:
        return FrontMatter.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "front matter"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{display}:{_key_line(text, key)}: {key}: {msg}")
        return None


def _key_line(text: str, key: str) -> int:
    """Line of ``key:`` in the file (front matter starts on line 2), else the fence line."""
    for number, line in enumerate(text.split("\n"), start=2):
        if line.startswith(f"{key}:"):
            return number
    return 1
