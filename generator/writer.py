"""Writing: put rendered files into a fresh folder, then swap it into place. Touches disk.

A build that fails at any stage never reaches ``swap_into_place``, so the previous output stays
exactly as it was. Writes outside the staging folder, or to one path twice, are refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from generator.errors import SiteError


class Staging:
    """A temporary sibling of the output folder that files are written into."""

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=self.out.parent))
        self.written: set[str] = set()
        self.bytes_written = 0

    def write(self, rel: str, data: bytes) -> None:
        """Write one file at ``rel`` (a relative POSIX path) inside the staging folder."""
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root) or rel.startswith("/"):
            raise SiteError(f"refusing to write outside the output folder: {rel}")
        if rel in self.written:
            raise SiteError(f"refusing to write {rel} twice")
        self.written.add(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.bytes_written += len(data)

    def copy_tree(self, source: Path, rel: str) -> None:
        """Copy a folder of static files into ``rel``."""
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            self.write(f"{rel}/{path.relative_to(source).as_posix()}", path.read_bytes())

    def discard(self) -> None:
        """Remove the staging folder (after a failure)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def swap_into_place(self) -> None:
        """Replace the output folder by the staged one (two renames, then clean-up)."""
        os.chmod(self.root, 0o755)
        old = None
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
            self.out.rename(old)
        self.root.rename(self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
