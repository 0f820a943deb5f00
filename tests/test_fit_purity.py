"""The fit engine is pure: it imports no I/O, clock, environment or logging module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

FIT = ROOT / "generator" / "fit"
FORBIDDEN = {
    "os", "io", "sys", "pathlib", "logging", "time", "random", "shutil", "subprocess", "socket",
    "tempfile", "glob", "json", "yaml", "urllib", "http", "requests", "threading",
    "multiprocessing", "datetime", "jinja2", "markdown",
}  # fmt: skip
#: The catalog modules the engine reads its types from; they are held to the same rule.
SCHEMA_MODULES = ("generator.catalog.schema", "generator.catalog.architecture",
                  "generator.catalog.measurement", "generator.catalog.fields")  # fmt: skip
ALLOWED_PROJECT_MODULES = ("generator.fit", *SCHEMA_MODULES)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def called_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


@pytest.mark.parametrize("path", sorted(FIT.glob("*.py")), ids=lambda p: p.name)
def test_fit_module_imports_no_io_module(path: Path) -> None:
    roots = {name.split(".")[0] for name in imported_modules(path)}
    assert not roots & FORBIDDEN


@pytest.mark.parametrize("path", sorted(FIT.glob("*.py")), ids=lambda p: p.name)
def test_fit_module_reaches_only_pure_project_modules(path: Path) -> None:
    project = {n for n in imported_modules(path) if n.startswith("generator")}
    assert all(n.startswith(ALLOWED_PROJECT_MODULES) for n in project), project


@pytest.mark.parametrize("path", sorted(FIT.glob("*.py")), ids=lambda p: p.name)
def test_fit_module_calls_no_builtin_io(path: Path) -> None:
    assert not called_names(path) & {"open", "print", "input", "exec", "eval"}


@pytest.mark.parametrize("module", SCHEMA_MODULES)
def test_the_schema_the_engine_reads_is_pure_too(module: str) -> None:
    path = ROOT / (module.replace(".", "/") + ".py")
    imported = imported_modules(path)
    roots = {n.split(".")[0] for n in imported}
    assert not roots & (FORBIDDEN - {"datetime"})  # datetime.date is a field type only
    project = {n for n in imported if n.startswith("generator")}
    assert all(n.startswith(SCHEMA_MODULES) for n in project), project


def test_the_purity_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os.path\nfrom pathlib import Path\n", encoding="utf-8")
    roots = {name.split(".")[0] for name in imported_modules(bad)}
    assert roots & FORBIDDEN == {"os", "pathlib"}
