"""Models from a Hugging Face ``config.json``: ``fit --config`` and ``catalog add``.

``load_hf_config`` reads the file; ``make_config_catalog`` adds a model built from it to a loaded
catalog for one ``fit`` question; ``write_catalog_entry`` appends a validated entry to
catalog/models.yaml in the file's own style, then loads the catalog again to prove it loads.
Every problem is a ``ConfigFileError`` printed as ``path: field: message``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generator.catalog.hf_config import ConfigShapes, make_architecture, read_config
from generator.catalog.hf_fields import ConfigError
from generator.catalog.loader import load_catalog
from generator.catalog.params import compute_param_counts
from generator.catalog.problems import CatalogError
from generator.catalog.schema import Catalog, Model
from generator.errors import SiteError

#: Quantizations listed for a new entry when --quant is not given: the released format first,
#: then the formats the catalog lists for most open-weights models (loadable from any checkpoint
#: its family's runtimes support).
COMMON_QUANTS = ("bf16", "fp8", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "iq4_xs", "q3_k_m",
                 "q2_k")  # fmt: skip
#: A released format (config dtype or quant_method) → the catalog's quantization id.
NATIVE_QUANT = {"bf16": "bf16", "fp16": "bf16", "fp32": "bf16", "fp8": "fp8", "mxfp4": "mxfp4"}
#: ``fit --config`` builds a model for one question; the engine never reads its release date.
UNDATED = date(1970, 1, 1)
#: Model fields given on the command line, by the flag that gives them.
_FLAGS = {"id": "--id", "name": "--name", "hf_repo": "--hf-repo", "family": "--family",
          "license": "--license", "release_date": "--release-date", "notes": "--notes",
          "sources.0": "--source"}  # fmt: skip
_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")
_HF_URL = re.compile(r"^https?://huggingface\.co/([\w.-]+/[\w.-]+)")


class ConfigFileError(SiteError):
    """A config.json that cannot be read or sized, or an entry that would not load."""


@dataclass(frozen=True)
class EntryFacts:
    """What a catalog entry needs beyond the config: given on the command line."""

    id: str
    name: str
    source: str
    hf_repo: str | None = None
    family: str | None = None
    license: str | None = None
    release_date: str | None = None
    quantizations: Sequence[str] | None = None
    notes: str | None = None


def load_hf_config(path: Path) -> dict[str, Any]:
    """The parsed JSON object of ``path``; ConfigFileError when unreadable or not an object."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigFileError(f"{path}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: expected a JSON object (a Hugging Face config.json)")
    return data


def read_shapes(path: Path) -> ConfigShapes:
    """The shapes of the config at ``path``, errors located in that file."""
    try:
        return read_config(load_hf_config(path))
    except ConfigError as exc:
        raise ConfigFileError(f"{path}: {exc}") from None


def make_config_catalog(catalog: Catalog, path: Path) -> tuple[Catalog, str]:
    """``catalog`` plus a model built from the config at ``path``, and that model's id.

    The model lists every quantization in the catalog (the question names one), its released
    format first; its repo is the config's ``_name_or_path`` when that is a repo id.
    """
    shapes = read_shapes(path)
    stem = _slug(path.parent.name if path.name == "config.json" else path.stem) or "model"
    ident = stem if stem not in catalog.models else f"{stem}-config"
    repo = shapes.name_or_path if _is_repo(shapes.name_or_path) else f"local/{ident}"
    native = NATIVE_QUANT.get(shapes.native_dtype)
    quants = [q for q in catalog.quantizations if q == native]
    quants += [q for q in catalog.quantizations if q != native]
    facts = EntryFacts(ident, f"{shapes.name_or_path or stem} ({path.name})", str(path), repo,
                       license="not given (read from a config.json)",
                       release_date=UNDATED.isoformat(), quantizations=quants)  # fmt: skip
    model = _make_model(path, shapes, facts, exact=True)
    return dataclasses.replace(catalog, models={**catalog.models, model.id: model}), model.id


def write_catalog_entry(catalog_dir: Path, config_path: Path, facts: EntryFacts) -> Model:
    """Append the model read from ``config_path`` to ``catalog_dir``/models.yaml; return it.

    The entry is checked against the schema and the catalog's ids first; after writing, the
    catalog is loaded again and must give back the same model, or the file is restored.
    """
    catalog = load_catalog(catalog_dir)
    shapes = read_shapes(config_path)
    model = _make_model(config_path, shapes, _complete(facts, shapes, catalog))
    if model.id in catalog.models:
        raise ConfigFileError(f"{config_path}: --id: {model.id!r} is already in the catalog")
    target = catalog_dir / "models.yaml"
    original = target.read_text(encoding="utf-8")
    target.write_text(original.rstrip("\n") + "\n\n" + render_model_yaml(model), encoding="utf-8")
    try:
        loaded = load_catalog(catalog_dir).models.get(model.id)
    except CatalogError as exc:
        target.write_text(original, encoding="utf-8")
        raise ConfigFileError(
            f"{target}: the new entry does not load, file restored:\n{exc}"
        ) from None
    if loaded != model:
        target.write_text(original, encoding="utf-8")
        raise ConfigFileError(f"{target}: the new entry reads back differently, file restored")
    return model


def _complete(facts: EntryFacts, shapes: ConfigShapes, catalog: Catalog) -> EntryFacts:
    """Fill what the command line left out from the config and the source, or say what is
    missing."""
    repo = facts.hf_repo
    match = _HF_URL.match(facts.source)
    if repo is None and match:
        repo = match.group(1)
    if repo is None and _is_repo(shapes.name_or_path):
        repo = shapes.name_or_path
    for value, flag in ((repo, "--hf-repo"), (facts.license, "--license"),
                        (facts.release_date, "--release-date")):  # fmt: skip
        if value is None:
            raise ConfigFileError(f"{flag}: missing (the config does not say; pass {flag})")
    quants = facts.quantizations
    if quants is None:
        native = NATIVE_QUANT.get(shapes.native_dtype, "bf16")
        quants = [native] + [q for q in COMMON_QUANTS if q != native]
    unknown = [q for q in quants if q not in catalog.quantizations]
    if unknown:
        raise ConfigFileError(f"--quant: unknown quantization {', '.join(map(repr, unknown))}")
    return dataclasses.replace(
        facts, hf_repo=repo, family=facts.family or shapes.family.label, quantizations=quants
    )


def _make_model(path: Path, shapes: ConfigShapes, facts: EntryFacts, exact: bool = False) -> Model:
    """The catalog Model; parameters in billions to 3 decimals as catalog rows give them, or
    unrounded (``exact``) for a one-off fit question."""
    try:
        arch = make_architecture(shapes)
    except ConfigError as exc:
        raise ConfigFileError(f"{path}: {exc}") from None
    counts = compute_param_counts(shapes)
    total, active = (counts.total / 1e9, counts.active / 1e9)
    if not exact:
        total, active = round(total, 3), round(active, 3)
    moe = shapes.moe is not None
    computed = "parameters computed by fitatlas from the config's shapes (embedding, head, " \
        "attention, FFN/experts, norms; vision towers and MTP layers excluded)"  # fmt: skip
    fields: dict[str, Any] = {
        "id": facts.id, "name": facts.name, "family": facts.family or shapes.family.label,
        "hf_repo": facts.hf_repo, "license": facts.license,
        "release_date": _as_date(facts.release_date), "params_b": total,
        "active_params_b": active if moe else None,
        "native_dtype": shapes.native_dtype, "max_context": shapes.max_context,
        "architecture": arch, "quantizations": tuple(facts.quantizations or ()),
        "sources": (facts.source, computed), "notes": facts.notes,
    }  # fmt: skip
    try:
        return Model.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        if where == "id" and err["type"] == "string_pattern_mismatch":
            msg = "not a slug (lowercase letters, digits, '-', '.', '_')"
            raise ConfigFileError(f"--id: {facts.id!r} is {msg}") from None
        if where in _FLAGS:  # a value from the command line, not from the config
            raise ConfigFileError(f"{_FLAGS[where]}: {err['msg']}") from None
        raise ConfigFileError(f"{path}: {where}: {err['msg']}") from None


def _as_date(text: str | None) -> date | str | None:
    """An ISO date from the command line as a date (the schema takes dates, not strings); left
    as given when it is none, so the schema names the flag."""
    try:
        return date.fromisoformat(text) if text is not None else None
    except ValueError:
        return text


def render_model_yaml(model: Model) -> str:
    """One ``models:`` list item in catalog/models.yaml's style (two-space indents, flow list of
    quantizations wrapped at 100 columns, folded sources)."""
    data = model.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    lines = [f"  - id: {_scalar(data.pop('id'))}"]
    for key, value in data.items():
        if key == "architecture":
            lines += ["    architecture:", *_mapping(value, "      ")]
        elif key == "quantizations":
            lines += _flow_list("    quantizations: ", value)
        elif key == "sources":
            lines.append("    sources:")
            for source in value:
                one_line = f"      - {_scalar(source)}"
                short = len(one_line) <= 100 and "\n" not in source
                lines += [one_line] if short else ["      - >-", *_folded(source, "        ")]
        elif key == "release_date":
            lines.append(f"    {key}: {value}")  # unquoted, so YAML reads a date
        elif key == "notes":
            lines += ["    notes: >-", *_folded(value, "      ")]
        else:
            lines.append(f"    {key}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def _mapping(data: Mapping[str, Any], indent: str) -> list[str]:
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += [f"{indent}{key}:", *_mapping(value, indent + "  ")]
        else:
            lines.append(f"{indent}{key}: {_scalar(value)}")
    return lines


def _flow_list(head: str, items: Sequence[str]) -> list[str]:
    wrapped = textwrap.wrap(", ".join(items), width=100 - len(head) - 1, break_long_words=False,
                            break_on_hyphens=False)  # fmt: skip
    lines = [head + "[" + wrapped[0]] + ["      " + part for part in wrapped[1:]]
    lines[-1] += "]"
    return lines


def _folded(text: str, indent: str) -> list[str]:
    words = " ".join(text.split())  # folding keeps single spaces between words only
    return textwrap.wrap(words, width=100, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)  # fmt: skip


def _scalar(value: Any) -> str:
    """A YAML scalar: plain when YAML reads it back as the same string, else JSON-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if (
        re.fullmatch(r"[A-Za-z][\w .()/+-]*", text)
        and not re.fullmatch(r"(?i)(true|false|yes|no|on|off|null|~)", text)
        and text == text.strip()
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def _is_repo(value: str | None) -> bool:
    return value is not None and bool(_REPO.match(value))
