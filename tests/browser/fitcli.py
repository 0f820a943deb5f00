"""``fitatlas fit --json`` run in this process, for comparing the calculator page with it."""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any

import pytest

from generator import cli
from generator.catalog.loader import load_catalog
from tests.conftest import ROOT

#: Calculator state key → `fitatlas fit` option.
OPTIONS = {
    "model": "--model", "quant": "--quant", "gpu": "--gpu", "count": "--count",
    "context": "--context", "batch": "--batch", "kv": "--kv-dtype", "runtime": "--runtime",
}  # fmt: skip


@contextmanager
def catalog_loaded_once() -> Iterator[None]:
    """The CLI exactly as installed, except that the catalog files are parsed only once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "load_catalog", functools.cache(load_catalog))
        yield


def argv(state: dict[str, Any]) -> list[str]:
    """The command line for a calculator state (keys left out or None use the CLI's defaults)."""
    args = ["--project", str(ROOT), "fit", "--json"]
    for key, flag in OPTIONS.items():
        if state.get(key) is not None:
            args += [flag, str(state[key])]
    return args


def fit_json(state: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """(the printed JSON object, or None when the CLI refused; what it wrote to stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv(state))
    return (json.loads(out.getvalue()) if code == 0 else None), err.getvalue()
