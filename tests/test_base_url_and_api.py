"""Links follow the base URL, the API included; `--base-url /` means it; no catalog id in code."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from tests.conftest import ROOT
from tests.site_helpers import FIXTURE, copy_project

CANONICAL = re.compile(r'<link rel="canonical" href="([^"]*)">')


def build(project: Path, out: Path, *base_url: str) -> Path:
    flags = ["--base-url", *base_url] if base_url else []
    assert main(["--project", str(project), "build", "--out", str(out), *flags]) == 0
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project", FIXTURE)


def test_catalog_json_links_every_page_under_the_base_path(project: Path, tmp_path: Path) -> None:
    site = build(project, tmp_path / "out", "https://example.org/atlas/")
    catalog = json.loads((site / "api" / "catalog.json").read_text(encoding="utf-8"))
    urls = [entry["url"] for kind in ("models", "gpus") for entry in catalog[kind]]
    assert urls and all(url.startswith("/atlas/") for url in urls), urls
    for url in urls:  # each names a page of the build
        assert (site / url.removeprefix("/atlas/") / "index.html").is_file(), url


def test_the_api_index_lists_every_json_file_with_what_it_holds(
    project: Path, tmp_path: Path
) -> None:
    site = build(project, tmp_path / "out", "https://example.org/atlas/")
    page = (site / "api" / "index.html").read_text(encoding="utf-8")
    published = sorted(p.relative_to(site).as_posix() for p in (site / "api").rglob("*.json"))
    listed = re.findall(
        r'<li><a href="/atlas/(api/[^"]+\.json)"><code>[^<]+</code></a>: (.+)</li>', page
    )
    assert sorted(path for path, _ in listed) == published
    assert all(len(line) > 30 for _, line in listed), "each file has a line on what it holds"


def test_base_url_slash_is_taken_as_given_and_no_flag_means_site_yaml(
    project: Path, tmp_path: Path
) -> None:
    configured = yaml.safe_load((project / "site.yaml").read_text(encoding="utf-8"))["base_url"]
    assert configured != "/"
    root = build(project, tmp_path / "root", "/")
    default = build(project, tmp_path / "default")
    gpus_page = Path("gpus") / "index.html"
    assert CANONICAL.findall((root / gpus_page).read_text(encoding="utf-8")) == ["/gpus/"]
    assert CANONICAL.findall((default / gpus_page).read_text(encoding="utf-8")) == [
        configured.rstrip("/") + "/gpus/"
    ]


#: Where quantization and KV cache ids may appear: they double as the names of file formats
#: and cache types, which the fit engine (flags, tensor recipes) and the catalog tools (schema
#: recipes, `fitatlas add`) speak. Model and GPU ids are named nowhere.
FORMAT_VOCABULARY = ("generator/fit/", "generator/catalog/")


def catalog_ids(*kinds: str) -> set[str]:
    ids = set()
    for kind in kinds:
        data = yaml.safe_load((ROOT / "catalog" / f"{kind}.yaml").read_text(encoding="utf-8"))
        ids |= {entry["id"] for entry in data[kind]}
    return ids


def strings_in_code(path: Path) -> list[tuple[int, str, bool]]:
    """Every string constant of ``path`` but its docstrings (which show examples), each with
    whether it is a parameter's default."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }  # fmt: skip
    defaults = {
        id(default)
        for node in ast.walk(tree)
        if isinstance(node, ast.arguments)
        for default in [*node.defaults, *node.kw_defaults]
        if default is not None
    }
    return [
        (node.lineno, node.value, id(node) in defaults)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]  # fmt: skip


def named_ids(ids: set[str], text: str) -> set[str]:
    """The ids ``text`` is, or names as a word ('at h100-sxm')."""
    distinctive = [i for i in ids if "-" in i or "_" in i]
    words = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, distinctive)) + r")(?![\w-])")
    return ({text} & ids) | set(words.findall(text))


def test_no_catalog_id_is_named_in_the_generator_code() -> None:
    pages = catalog_ids("models", "gpus")
    formats = catalog_ids("quantizations", "kv_dtypes")
    named = set()
    for path in sorted((ROOT / "generator").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for line, text, is_default in strings_in_code(path):
            found = named_ids(pages, text)
            if is_default or not rel.startswith(FORMAT_VOCABULARY):
                found |= named_ids(formats, text)
            named |= {(rel, line, ident) for ident in found}
    assert not named, f"catalog ids in code (take defaults from site.yaml or the catalog): {named}"
    # The check looks for the ids it should.
    assert {"h100-sxm", "llama-3.1-8b"} <= pages and {"q4_k_m", "f16"} <= formats
