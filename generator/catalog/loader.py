"""Catalog loading: read catalog/*.yaml, validate every entry, then check the ids between
entries (generator/catalog/references.py). Reads disk.

Every problem is collected and raised once as a ``CatalogError`` (generator/catalog/problems.py)
whose lines read ``catalog/gpus.yaml:42: gpus[3].vram_gib: Input should be greater than 0``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from generator.catalog.measurement import Measurement
from generator.catalog.problems import CatalogError, Lines, Located, NodePath, Problem
from generator.catalog.references import check_duplicates, check_references
from generator.catalog.schema import (
    GPU,
    Catalog,
    Interconnect,
    KVDtype,
    Model,
    Quantization,
    Runtime,
)
from generator.errors import not_utf8

#: libyaml's safe loader when PyYAML was built with it (several times faster), else Python's.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KINDS: dict[str, type[BaseModel]] = {
    "interconnects": Interconnect,
    "gpus": GPU,
    "models": Model,
    "quantizations": Quantization,
    "kv_dtypes": KVDtype,
    "runtimes": Runtime,
    "measurements": Measurement,
}


def load_catalog(folder: Path) -> Catalog:
    """Read and validate every catalog file under ``folder``; raise CatalogError on any problem."""
    problems: list[Problem] = []
    parsed: dict[str, list[Located]] = {}
    # Ids of entries that failed validation still resolve, so one mistake gives one message.
    invalid_ids: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, schema in KINDS.items():
        path = folder / f"{kind}.yaml"
        parsed[kind] = list(_load_kind(path, kind, schema, problems, invalid_ids[kind]))
    for kind, entries in parsed.items():
        problems.extend(check_duplicates(kind, entries))
    problems.extend(check_references(parsed, invalid_ids))
    if problems:
        raise CatalogError(problems)
    tables = {kind: {e.entity.id: e.entity for e in entries} for kind, entries in parsed.items()}
    locations = {
        (kind, e.entity.id): e.lines.where((kind, e.index))
        for kind, entries in parsed.items()
        for e in entries
    }
    return Catalog(**tables, locations=locations)


def _node_lines(node: yaml.Node, path: NodePath = ()) -> Iterator[tuple[NodePath, int]]:
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _node_lines(value, (*path, str(key.value)))
            yield (*path, str(key.value)), key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _node_lines(item, (*path, index))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, problems: list[Problem]) -> tuple[Any, Lines] | None:
    display = _display(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(display, None, "", f"cannot read: {exc.strerror}"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(display, *not_utf8(raw, exc)))
        return None
    try:
        loader = SAFE_LOADER(text)  # parsed once: the node tree gives lines, then the data
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        problems.append(Problem(display, _yaml_error_line(exc, text), "", _yaml_message(exc)))
        return None
    except RecursionError:  # aliases nested beyond Python's stack
        problems.append(Problem(display, 1, "", "malformed YAML: nested too deeply"))
        return None
    lines = dict(_node_lines(node)) if node is not None else {}
    return data, Lines(display, lines)


def _yaml_error_line(exc: yaml.YAMLError, text: str) -> int:
    """The line a YAML error points at: its mark, or for a reader error its character offset."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    if isinstance(exc, yaml.reader.ReaderError):
        return text.count("\n", 0, exc.position) + 1
    return 1


def _yaml_message(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        char = exc.character  # a code point from libyaml, a one-letter string from Python's
        code = char if isinstance(char, int) else ord(char)
        return f"malformed YAML: character U+{code:04X} is not allowed in a YAML file"
    return f"malformed YAML: {getattr(exc, 'problem', None) or exc}"


def _load_kind(
    path: Path, kind: str, schema: type[BaseModel], problems: list[Problem], invalid_ids: set[str]
) -> Iterator[Located]:
    read = _read_yaml(path, problems)
    if read is None:
        return
    data, lines = read
    if not isinstance(data, dict) or set(data) != {kind} or not isinstance(data[kind], list):
        problems.append(
            lines.problem((), f"expected a mapping with one key '{kind}' holding a list")
        )
        return
    for index, raw in enumerate(data[kind]):
        try:
            yield Located(schema.model_validate(raw), index, lines)
        except ValidationError as exc:
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                invalid_ids.add(raw["id"])
            for err in exc.errors():
                where = (kind, index, *err["loc"])
                problems.append(lines.problem(where, _message(err)))


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "string_pattern_mismatch" and err["loc"] and err["loc"][-1] == "id":
        return f"{err['input']!r} is not a slug (lowercase letters, digits, '-', '.', '_')"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg
