"""Located catalog problems: what the loader and the reference checks report. No I/O.

Every problem names its file, line and key path, and all of them are raised at once as one
``CatalogError`` whose lines read
``catalog/gpus.yaml:42: gpus[3].vram_gib: Input should be greater than 0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: A node's place in a YAML document: keys and list indexes from the top, ("gpus", 3, "vram_gib").
NodePath = tuple[str | int, ...]


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


class Lines:
    """Line numbers of the nodes of one YAML document, by path of keys and indexes."""

    def __init__(self, display: str, lines: Mapping[NodePath, int]) -> None:
        self.display = display
        self._lines = lines

    def at(self, path: NodePath) -> int:
        """The line of the deepest known node on ``path``."""
        for end in range(len(path), -1, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return 1  # an empty document: its first line

    def where(self, path: NodePath) -> str:
        """'catalog/gpus.yaml:42' for the node at ``path`` (line 1 in an empty document)."""
        line = self.at(path)
        return f"{self.display}:{line}" if line else self.display

    def problem(self, path: NodePath, message: str) -> Problem:
        """A problem at the node on ``path``, its location written ``gpus[3].vram_gib``."""
        return Problem(self.display, self.at(path), format_path(path), message)


def format_path(path: NodePath) -> str:
    """``gpus[3].vram_gib`` for ("gpus", 3, "vram_gib")."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True, slots=True)
class Located:
    """A validated catalog entry, its index in its file's list, and that file's lines."""

    entity: Any
    index: int
    lines: Lines
