"""Site settings: site.yaml at the project root (title, URL, what the home page features).

Validated like the catalog; ids are checked against the catalog by ``check_settings``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generator.catalog.schema import Catalog, suggest
from generator.errors import SiteError, not_utf8


class SiteSettings(BaseModel):
    """What an operator sets once for the whole site."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(description="Site name, shown in the header and <title>")
    base_url: str = Field(description="Where the site is published, e.g. https://host/path/")
    home_quant: str = Field(description="Quantization of the home page's headline table")
    featured_models: tuple[str, ...] = Field(min_length=1, description="Home table rows")
    featured_gpus: tuple[str, ...] = Field(min_length=1, description="Home table columns")


def load_settings(path: Path, catalog: Catalog) -> SiteSettings:
    """Read site.yaml and check its ids; raise SiteError listing every problem."""
    try:
        data = path.read_bytes()
        raw = yaml.safe_load(data.decode("utf-8"))
        settings = SiteSettings.model_validate(raw)
    except UnicodeDecodeError as exc:
        line, _, message = not_utf8(data, exc)
        raise SiteError(f"{path.name}:{line}: {message}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise SiteError(f"{path.name}: cannot read settings: {exc}") from None
    except ValidationError as exc:
        lines = [f"{path.name}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise SiteError("\n".join(lines)) from None
    problems = []
    if settings.home_quant not in catalog.quantizations:
        problems.append(f"{path.name}: home_quant: unknown quantization {settings.home_quant!r}")
    for key, table in (("featured_models", catalog.models), ("featured_gpus", catalog.gpus)):
        for ident in getattr(settings, key):
            if ident not in table:
                problems.append(f"{path.name}: {key}: unknown id {ident!r}{suggest(ident, table)}")
    if problems:
        raise SiteError("\n".join(problems))
    return settings
