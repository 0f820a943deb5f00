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
    pair_gpus: tuple[str, ...] | None = Field(
        None,
        description="GPUs with a page per model (/models/<model>/on/<gpu>/); every other pair "
        "links to the calculator, filled in. Absent: every GPU has them.",
    )

    def has_pair_pages(self, gpu: str) -> bool:
        """Whether ``gpu`` has a page per model."""
        return self.pair_gpus is None or gpu in self.pair_gpus


def load_settings(path: Path, catalog: Catalog) -> SiteSettings:
    """Read site.yaml and check its ids; raise SiteError listing every problem."""
    text = ""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
        raw = yaml.safe_load(text)
        settings = SiteSettings.model_validate(raw)
    except UnicodeDecodeError as exc:
        line, _, message = not_utf8(data, exc)
        raise SiteError(f"{path.name}:{line}: {message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SiteError(f"{path.name}:{line}: malformed YAML: {exc}") from None
    except OSError as exc:
        raise SiteError(f"{path.name}: cannot read settings: {exc}") from None
    except ValidationError as exc:
        lines = [
            f"{path.name}:{_line_of(text, *e['loc'][:2])}: {'.'.join(map(str, e['loc']))}: "
            f"{e['msg']}"
            for e in exc.errors()
        ]
        raise SiteError("\n".join(lines)) from None
    problems = []
    if settings.home_quant not in catalog.quantizations:
        problems.append(
            f"{path.name}:{_line_of(text, 'home_quant')}: home_quant: unknown quantization "
            f"{settings.home_quant!r}{suggest(settings.home_quant, catalog.quantizations)}"
        )
    lists = (("featured_models", catalog.models), ("featured_gpus", catalog.gpus),
             ("pair_gpus", catalog.gpus))  # fmt: skip
    for key, table in lists:
        for index, ident in enumerate(getattr(settings, key) or ()):
            if ident not in table:
                problems.append(
                    f"{path.name}:{_line_of(text, key, index)}: {key}: unknown id "
                    f"{ident!r}{suggest(ident, table)}"
                )
    for index, ident in enumerate(settings.featured_gpus):
        if ident in catalog.gpus and not settings.has_pair_pages(ident):
            problems.append(
                f"{path.name}:{_line_of(text, 'featured_gpus', index)}: featured_gpus: "
                f"{ident!r} is not in pair_gpus (the home table links to its pages)"
            )
    if problems:
        raise SiteError("\n".join(problems))
    return settings


def _line_of(text: str, key: object = None, index: object = None) -> int:
    """The line of top-level ``key`` in ``text``, or of its list item ``index``; else line 1."""
    lines = text.split("\n")
    start = next(
        (n for n, line in enumerate(lines) if key is not None and line.startswith(f"{key}:")), None
    )
    if start is None:
        return 1
    if isinstance(index, int):
        items = [n for n in range(start + 1, len(lines)) if lines[n].lstrip().startswith("- ")]
        # Items run until the next top-level key.
        end = next((n for n in range(start + 1, len(lines)) if lines[n][:1].isalpha()), len(lines))
        items = [n for n in items if n < end]
        if index < len(items):
            return items[index] + 1
    return start + 1
