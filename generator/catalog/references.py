"""The checks between catalog entries, run by the loader once every entry passed its schema.

No I/O. Ids are unique within a kind; every id an entry names (a card's interconnect, a model's
quantizations, a format's runtimes, a runtime's KV cache types, a measurement's model,
quantization, card, runtime and KV cache type) is an entry of that kind; and a measurement is a
configuration the engine can estimate. An id whose entry failed its schema still resolves, and
nothing built on an entry with a broken reference is checked further, so one mistake gives one
message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from generator.catalog.measurement import Measurement
from generator.catalog.problems import Located, NodePath, Problem
from generator.catalog.schema import suggest

#: (kind, field, kind its ids name), checked in this order.
REFERENCES = (
    ("gpus", "interconnect", "interconnects"),
    ("models", "quantizations", "quantizations"),
    ("quantizations", "runtimes", "runtimes"),
    ("runtimes", "kv_dtypes", "kv_dtypes"),
)
#: A measurement's fields that name entries, and the kind each names.
MEASUREMENT_REFS = {
    "model": "models", "quant": "quantizations", "gpu": "gpus", "runtime": "runtimes",
    "kv_dtype": "kv_dtypes",
}  # fmt: skip


def check_duplicates(kind: str, entries: list[Located]) -> Iterator[Problem]:
    """A problem for every entry whose id an earlier entry of ``kind`` already has."""
    seen: dict[str, int] = {}
    for entry in entries:
        ident: str = entry.entity.id
        if ident in seen:
            message = f"duplicate id {ident!r} (first at {kind}[{seen[ident]}])"
            yield entry.lines.problem((kind, entry.index, "id"), message)
        else:
            seen[ident] = entry.index


def check_references(
    parsed: Mapping[str, list[Located]], invalid_ids: Mapping[str, set[str]]
) -> Iterator[Problem]:
    """A problem for every id that names no entry, then for every measurement the engine could
    not estimate (``invalid_ids``: ids of entries that failed their schema, by kind)."""
    resolver = _Resolver(parsed, invalid_ids)
    for kind, key, target in REFERENCES:
        for entry in parsed[kind]:
            for path, value in _named_ids(entry.entity, key):
                yield from resolver.resolve(kind, entry, path, value, target)
    tables = {
        kind: {e.entity.id: e.entity for e in parsed[kind]}
        for kind in ("models", "quantizations", "runtimes")
    }
    for entry in parsed["measurements"]:
        m: Measurement = entry.entity
        for key, target in MEASUREMENT_REFS.items():
            yield from resolver.resolve("measurements", entry, (key,), getattr(m, key), target)
        if not resolver.faulty & {m.model, m.quant, m.runtime, m.kv_dtype}:
            yield from check_measurement(m, entry, tables)


class _Resolver:
    """Looks ids up, and remembers the entries with a broken reference (``faulty``)."""

    def __init__(
        self, parsed: Mapping[str, list[Located]], invalid_ids: Mapping[str, set[str]]
    ) -> None:
        self.ids = {kind: [e.entity.id for e in entries] for kind, entries in parsed.items()}
        self.known = {kind: set(self.ids[kind]) | invalid_ids[kind] for kind in self.ids}
        self.faulty: set[str] = set().union(*invalid_ids.values())

    def resolve(
        self, kind: str, entry: Located, path: NodePath, value: str, target: str
    ) -> Iterator[Problem]:
        """A problem when ``value``, at ``path`` in ``entry`` of ``kind``, is no ``target`` id."""
        if value not in self.known[target]:
            noun = target.rstrip("s").replace("_", " ")
            self.faulty.add(self.ids[kind][entry.index])
            message = f"unknown {noun} {value!r}{suggest(value, self.ids[target])}"
            yield entry.lines.problem((kind, entry.index, *path), message)


def _named_ids(entity: Any, key: str) -> Iterator[tuple[NodePath, str]]:
    """(path, id) of each id ``entity`` names in ``key``: one optional id or a list of them."""
    value = getattr(entity, key)
    if isinstance(value, str):
        yield (key,), value
    elif value is not None:
        yield from (((key, i), item) for i, item in enumerate(value))


def check_measurement(
    m: Measurement, entry: Located, tables: Mapping[str, Mapping[str, Any]]
) -> Iterator[Problem]:
    """A measurement must be a configuration the engine can estimate (tables: valid entries by
    kind and id)."""
    models, quants, runtimes = tables["models"], tables["quantizations"], tables["runtimes"]
    where, lines = ("measurements", entry.index), entry.lines
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
