"""Incremental rebuilds (serve): only dependent pages re-render, and the result equals a clean
build."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.build import build_site
from generator.incremental import IncrementalBuilder
from tests.site_helpers import FIXTURE, copy_project, tree_digest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project", FIXTURE)


@pytest.fixture
def builder(project: Path) -> IncrementalBuilder:
    builder = IncrementalBuilder(project, project / "site")
    builder.build()
    return builder


def without_search(tree: dict[str, str]) -> dict[str, str]:
    """Full builds index the site for search; incremental ones leave the index alone."""
    return {path: digest for path, digest in tree.items() if not path.startswith("pagefind/")}


def assert_equals_clean_build(project: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    build_site(project, out=clean)
    assert without_search(tree_digest(project / "site")) == without_search(tree_digest(clean))


def edit_entry(project: Path, kind: str, ident: str, **changes: object) -> None:
    path = project / "catalog" / f"{kind}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(e for e in data[kind] if e["id"] == ident).update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_a_second_build_with_no_change_writes_nothing(builder: IncrementalBuilder) -> None:
    report = builder.build()
    assert report.files == 0 and report.pages == 0


def test_a_guide_edit_rerenders_only_that_guide(
    builder: IncrementalBuilder, project: Path, tmp_path: Path
) -> None:
    guide = project / "content/guides/fixture-guide.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("## Two cards", "## A pair"))
    report = builder.build()
    assert report.pages == 1 and report.files == 1
    assert "A pair" in (project / "site/guides/fixture-guide/index.html").read_text()
    assert_equals_clean_build(project, tmp_path)


def test_a_front_matter_edit_also_updates_the_lists_of_guides(
    builder: IncrementalBuilder, project: Path, tmp_path: Path
) -> None:
    guide = project / "content/guides/fixture-guide.md"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(text.replace("title: A fixture guide", "title: A renamed guide"))
    report = builder.build()
    assert 1 < report.pages < 10
    assert "A renamed guide" in (project / "site/guides/index.html").read_text()
    assert_equals_clean_build(project, tmp_path)


def test_a_gpu_edit_rerenders_its_pages_but_not_other_pairs(
    builder: IncrementalBuilder, project: Path, tmp_path: Path
) -> None:
    other_pair = project / "site/models/llama-3.1-8b/on/rtx-4090/index.html"
    before = other_pair.stat().st_mtime_ns
    edit_entry(project, "gpus", "l40s", name="NVIDIA L40S (renamed)")
    report = builder.build()
    assert report.files > 0
    assert "NVIDIA L40S (renamed)" in (project / "site/gpus/l40s/index.html").read_text()
    assert other_pair.stat().st_mtime_ns == before
    assert_equals_clean_build(project, tmp_path)


def test_a_runtime_edit_rerenders_every_number_that_reads_it(
    builder: IncrementalBuilder, project: Path, tmp_path: Path
) -> None:
    edit_entry(project, "runtimes", "llama-cpp", decode_efficiency=0.7)
    builder.build()
    assert_equals_clean_build(project, tmp_path)


def test_removing_a_model_removes_its_pages(
    builder: IncrementalBuilder, project: Path, tmp_path: Path
) -> None:
    path = project / "catalog/models.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["models"] = [m for m in data["models"] if m["id"] != "gemma-2-9b"]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    guide = project / "content/guides/fixture-guide.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace(', "gemma-2-9b"', ""))
    builder.build()
    assert not (project / "site/models/gemma-2-9b/index.html").exists()
    assert_equals_clean_build(project, tmp_path)


def test_a_template_edit_falls_back_to_a_full_build(
    builder: IncrementalBuilder, project: Path, tmp_path: Path
) -> None:
    template = project / "templates/404.html"
    template.write_text(template.read_text(encoding="utf-8") + "{# edited #}\n")
    report = builder.build()
    assert report.pages == len(list((project / "site").rglob("*.html")))
    assert_equals_clean_build(project, tmp_path)
