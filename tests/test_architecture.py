"""The import rules of docs/architecture.md and the one-place rules of issue 15, checked on the
source itself."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from generator import contexts

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "generator"
#: The catalog modules that define the types the engine reads.
SCHEMA = ("generator.catalog.schema", "generator.catalog.architecture",
          "generator.catalog.measurement", "generator.catalog.fields")  # fmt: skip
#: What each part of the generator may import from the rest of it (prefixes of module names).
ALLOWED = {
    "generator.fit": ("generator.fit", *SCHEMA),
    "generator.catalog": ("generator.catalog", "generator.errors"),
    "generator.urls": (),
    "generator.verdicts": ("generator.fit",),
    "generator.filters": ("generator.fit", "generator.verdicts"),
    "generator.columns": ("generator.fit", "generator.filters", "generator.verdicts"),
    "generator.contexts": ("generator.fit", "generator.catalog.schema"),
    "generator.pages": (
        "generator.pages", "generator.contexts", "generator.fit", "generator.catalog.schema",
        "generator.urls", "generator.content", "generator.settings",
    ),
    "generator.shortcodes": (
        "generator.shortcodes", "generator.fit", "generator.catalog.schema", "generator.errors",
        "generator.filters", "generator.verdicts", "generator.urls", "generator.pages.common",
    ),
}  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def generator_imports(path: Path) -> set[str]:
    """Modules of the generator that ``path`` imports, at any level, type-checking included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found |= {n for n in names if n.startswith("generator")}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("generator")}
    return found


def rule_for(module: str) -> tuple[str, ...] | None:
    matches = [key for key in ALLOWED if module == key or module.startswith(key + ".")]
    return ALLOWED[max(matches, key=len)] if matches else None


SOURCES = sorted(GENERATOR.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_imports_only_what_its_layer_may(path: Path) -> None:
    module = module_name(path)
    allowed = rule_for(module)
    if allowed is None:
        return  # the stages (build, render, site_plan, cli, …) may import any layer
    own_package = module.rsplit(".", 1)[0]
    wrong = sorted(
        name for name in generator_imports(path)
        if not name.startswith(allowed) and not name.startswith(own_package + ".")
        and name != "generator" and not (own_package == "generator" and name == module)
    )  # fmt: skip
    # "from generator import urls" names a module: judge it by that module.
    wrong = [n for n in wrong if rule_for(n) is None or not n.startswith(allowed)]
    assert not wrong, f"{module} imports {wrong}; allowed: {allowed}"


def test_the_fit_engine_imports_nothing_of_the_site() -> None:
    for path in (GENERATOR / "fit").rglob("*.py"):
        site = {
            n for n in generator_imports(path)
            if not n.startswith(("generator.fit", *SCHEMA))
        }  # fmt: skip
        assert not site, f"{path.name} imports {sorted(site)}"


def test_template_helpers_do_not_import_the_planner_or_the_build() -> None:
    helpers = ["templating", "filters", "columns", "verdicts", "seo", "urls"]
    for name in helpers:
        imports = generator_imports(GENERATOR / f"{name}.py")
        bad = {n for n in imports if n.startswith(("generator.site_plan", "generator.build",
                                                    "generator.pages"))}  # fmt: skip
        assert not bad, f"{name}.py imports {sorted(bad)}"


def test_no_module_has_more_than_300_lines_or_a_function_longer_than_50() -> None:
    long_modules, long_functions = [], []
    for path in SOURCES:
        text = path.read_text()
        if text.count("\n") > 300:
            long_modules.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 50:
                    long_functions.append(f"{path.name}:{node.lineno} {node.name} ({length})")
    assert long_modules == [] and long_functions == []


SYMBOLS = re.compile('[✓✗]|aria-hidden="true">[!–]<')


def test_verdict_symbols_are_written_only_in_the_verdicts_module() -> None:
    places = [*GENERATOR.rglob("*.py"), *(ROOT / "templates").rglob("*.*")]
    found = [
        str(p.relative_to(ROOT)) for p in places
        if p.suffix in (".py", ".html", ".js", ".xml", ".txt") and p.name != "verdicts.py"
        and SYMBOLS.search(p.read_text(encoding="utf-8"))
    ]  # fmt: skip
    assert found == []


CONTEXT_CLASSES = [
    obj for obj in vars(contexts).values()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj)
    and obj.__module__ == contexts.__name__
]  # fmt: skip


def documented_fields(cls: type) -> dict[str, str]:
    """Field name → its comment: the trailing ``# …`` on the field's line in contexts.py."""
    source = Path(contexts.__file__).read_text().splitlines()
    tree = ast.parse("\n".join(source))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    notes = {}
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            line = source[item.lineno - 1]
            notes[item.target.id] = line.split("  # ", 1)[1] if "  # " in line else ""
    return notes


@pytest.mark.parametrize("cls", CONTEXT_CLASSES, ids=lambda c: c.__name__)
def test_every_context_field_is_documented(cls: type) -> None:
    undocumented = [name for name, note in documented_fields(cls).items() if not note.strip()]
    assert undocumented == [], f"{cls.__name__}: {undocumented} have no comment"


def uses() -> str:
    """Every template and every module outside contexts.py, where fields are read."""
    texts = [p.read_text() for p in (ROOT / "templates").rglob("*.html")]
    texts += [p.read_text() for p in GENERATOR.rglob("*.py") if p.name != "contexts.py"]
    return "\n".join(texts)


@pytest.mark.parametrize("cls", CONTEXT_CLASSES, ids=lambda c: c.__name__)
def test_every_context_field_is_read_somewhere(cls: type) -> None:
    text = uses()
    unread = [
        f.name for f in dataclasses.fields(cls)
        if not re.search(rf"\.{f.name}\b|'{f.name}'|\b{f.name}=", text)
    ]  # fmt: skip
    assert unread == [], f"{cls.__name__}: {unread} are never read"
