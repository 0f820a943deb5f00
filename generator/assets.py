"""Static files (templates/static/) as published: read once, scripts minified, each under a
content-hashed name so browsers may cache it forever."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import rjsmin  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Asset:
    """A static file as published, under its content-hashed name."""

    hashed: str  # 'site.3f2a9c1b.css'
    data: bytes


def load_assets(static: Path) -> dict[str, Asset]:
    """Static files by name, each read once, so the name's hash always matches the bytes."""
    assets = {}
    for path in sorted(p for p in static.glob("*") if p.is_file()):
        data = read_asset(path)
        digest = hashlib.sha256(data).hexdigest()[:10]
        assets[path.name] = Asset(f"{path.stem}.{digest}{path.suffix}", data)
    return assets


def read_asset(path: Path) -> bytes:
    """A static file as published: scripts minified (comments and spaces out), others as is."""
    data = path.read_bytes()
    return bytes(rjsmin.jsmin(data)) if path.suffix == ".js" else data
