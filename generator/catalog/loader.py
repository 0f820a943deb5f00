"""Catalog loading: read catalog/*.yaml, validate every entry, cross-check ids.

Every problem is collected and raised once as a ``CatalogError`` whose lines read
``catalog/gpus.yaml:42: gpus[3].vram_gib: Input should be greater than 0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from generator.catalog.measurement import Measurement
from generator.catalog.schema import (
    GPU,
    Catalog,
    Interconnect,
    KVDtype,
    Model,
    Quantization,
    Runtime,
    suggest,
)
from generator.errors import not_utf8

E = TypeVar("E", bound=BaseModel)

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


@dataclass(frozen=True)
class Problem:
    """One located catalog problem."""

    path: str
    line: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return (
            f"{where}: {self.location}: {self.message}"
            if self.location
            else f"{where}: {self.message}"
        )


class CatalogError(Exception):
    """Raised with every problem found in a catalog, one per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def load_catalog(folder: Path) -> Catalog:
    """Read and validate every catalog file under ``folder``; raise CatalogError on any problem."""
    problems: list[Problem] = []
    parsed: dict[str, list[tuple[BaseModel, str, _Lines]]] = {}
    # Ids of entries that failed validation still resolve, so one mistake gives one message.
    invalid_ids: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, schema in KINDS.items():
        path = folder / f"{kind}.yaml"
        parsed[kind] = list(_load_kind(path, kind, schema, problems, invalid_ids[kind]))
    for kind, entries in parsed.items():
        problems.extend(_check_duplicates(kind, entries))
    problems.extend(_check_references(parsed, invalid_ids))
    if problems:
        raise CatalogError(problems)
    tables = {kind: {e.id: e for e, _, _ in entries} for kind, entries in parsed.items()}  # type: ignore[attr-defined]
    locations = {
        (kind, entity.id): lines.where((kind, _index(label)))  # type: ignore[attr-defined]
        for kind, entries in parsed.items()
        for entity, label, lines in entries
    }
    return Catalog(**tables, locations=locations)  # type: ignore[arg-type]


class _Lines:
    """Line numbers of the nodes of one YAML document, by path of keys and indexes."""

    def __init__(self, display: str, lines: Mapping[tuple[str | int, ...], int]) -> None:
        self.display = display
        self._lines = lines

    def at(self, path: tuple[str | int, ...]) -> int:
        """The line of the deepest known node on ``path``."""
        for end in range(len(path), -1, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return 1  # an empty document: its first line

    def where(self, path: tuple[str | int, ...]) -> str:
        """'catalog/gpus.yaml:42' for the node at ``path`` (line 1 in an empty document)."""
        line = self.at(path)
        return f"{self.display}:{line}" if line else self.display

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        return Problem(self.display, self.at(path), _format_path(path), message)


def _format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _node_lines(node: yaml.Node, path: tuple[str | int, ...] = ()) -> Iterator[tuple[Any, int]]:
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


def _read_yaml(path: Path, problems: list[Problem]) -> tuple[Any, _Lines] | None:
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
    return data, _Lines(display, lines)


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
    path: Path, kind: str, schema: type[E], problems: list[Problem], invalid_ids: set[str]
) -> Iterator[tuple[E, str, _Lines]]:
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
            yield schema.model_validate(raw), f"{kind}[{index}]", lines
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


def _check_duplicates(kind: str, entries: list[tuple[BaseModel, str, _Lines]]) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for entity, label, lines in entries:
        ident: str = entity.id  # type: ignore[attr-defined]
        if ident in seen:
            yield lines.problem(
                (kind, _index(label), "id"), f"duplicate id {ident!r} (first at {seen[ident]})"
            )
        else:
            seen[ident] = label


def _index(label: str) -> int:
    return int(label.rsplit("[", 1)[1].rstrip("]"))


def _check_references(
    parsed: dict[str, list[tuple[Any, str, _Lines]]], invalid_ids: dict[str, set[str]]
) -> Iterator[Problem]:
    ids = {kind: [e.id for e, _, _ in entries] for kind, entries in parsed.items()}
    known = {kind: set(ids[kind]) | invalid_ids[kind] for kind in ids}
    # Entries with a broken reference: measurements built on them are not checked further,
    # so one mistake gives one message.
    faulty: set[str] = set().union(*invalid_ids.values())

    def ref(
        kind: str, label: str, lines: _Lines, key: tuple[str | int, ...], value: str, target: str
    ) -> Iterator[Problem]:
        if value not in known[target]:
            noun = target.rstrip("s").replace("_", " ")
            msg = f"unknown {noun} {value!r}{suggest(value, ids[target])}"
            faulty.add(ids[kind][_index(label)])
            yield lines.problem((kind, _index(label), *key), msg)

    for gpu, label, lines in parsed["gpus"]:
        if gpu.interconnect:
            yield from ref(
                "gpus", label, lines, ("interconnect",), gpu.interconnect, "interconnects"
            )
    for model, label, lines in parsed["models"]:
        for i, quant in enumerate(model.quantizations):
            yield from ref("models", label, lines, ("quantizations", i), quant, "quantizations")
    for quant, label, lines in parsed["quantizations"]:
        for i, runtime in enumerate(quant.runtimes):
            yield from ref("quantizations", label, lines, ("runtimes", i), runtime, "runtimes")
    for runtime, label, lines in parsed["runtimes"]:
        for i, kv in enumerate(runtime.kv_dtypes):
            yield from ref("runtimes", label, lines, ("kv_dtypes", i), kv, "kv_dtypes")
    tables = {
        kind: {e.id: e for e, _, _ in parsed[kind]}
        for kind in ("models", "quantizations", "runtimes")
    }
    for m, label, lines in parsed["measurements"]:
        for key, target in MEASUREMENT_REFS.items():
            yield from ref("measurements", label, lines, (key,), getattr(m, key), target)
        if not faulty & {m.model, m.quant, m.runtime, m.kv_dtype}:
            yield from _check_measurement(m, label, lines, tables)


MEASUREMENT_REFS = {
    "model": "models", "quant": "quantizations", "gpu": "gpus", "runtime": "runtimes",
    "kv_dtype": "kv_dtypes",
}  # fmt: skip


def _check_measurement(
    m: Measurement, label: str, lines: _Lines, tables: dict[str, dict[str, Any]]
) -> Iterator[Problem]:
    """A measurement must be a configuration the engine can estimate (tables: valid entries by
    kind and id)."""
    models, quants, runtimes = tables["models"], tables["quantizations"], tables["runtimes"]
    where = ("measurements", _index(label))
    model = models.get(m.model)
    if model is not None and m.quant not in model.quantizations:
        yield lines.problem((*where, "quant"), f"{m.model} does not list quantization {m.quant!r}")
    if model is not None and m.context > model.max_context:
        yield lines.problem((*where, "context"), f"exceeds {m.model}'s maximum {model.max_context}")
    quant = quants.get(m.quant)
    if quant is not None and m.runtime not in quant.runtimes:
        yield lines.problem((*where, "runtime"), f"{m.runtime} does not load {m.quant}")
    runtime = runtimes.get(m.runtime)
    if runtime is not None and m.kv_dtype not in runtime.kv_dtypes:
        yield lines.problem((*where, "kv_dtype"), f"{m.runtime} has no {m.kv_dtype} KV cache")
