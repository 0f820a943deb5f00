"""Shared fixtures: the real catalog, scratch projects written from a dict of files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.catalog.loader import load_catalog
from generator.catalog.schema import Catalog

ROOT = Path(__file__).resolve().parent.parent

MakeProject = Callable[..., Path]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The default catalog shipped in catalog/."""
    return load_catalog(ROOT / "catalog")


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write a project into tmp_path: the real catalog/content/templates unless replaced.

    ``files`` maps relative paths to text; ``copy`` names folders to copy from the repo.
    """

    def make(files: dict[str, str] | None = None, copy: tuple[str, ...] = ("catalog",)) -> Path:
        project = tmp_path / "project"
        project.mkdir(exist_ok=True)
        for folder in copy:
            if (ROOT / folder).exists() and not (project / folder).exists():
                shutil.copytree(ROOT / folder, project / folder)
        for rel, text in (files or {}).items():
            path = project / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return project

    return make


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ and docs/shortcodes.md from the current code",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real project built once per test session (as published)."""
    from generator.build import build_site

    out = tmp_path_factory.mktemp("site") / "site"
    build_site(ROOT, out=out)
    return out
