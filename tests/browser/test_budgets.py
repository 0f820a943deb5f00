"""Issue #4's budgets: the calculator's own JavaScript and its data file, measured as served.

The figures are also written to test-artifacts/budgets.json for CI to keep.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import SCREENSHOTS, open_calculator, record_scripts

pytestmark = pytest.mark.browser

#: Our own scripts on the calculator page, minified, in bytes (issue #4: "no more than 15 KB").
SCRIPT_BUDGET = 15_000
#: The calculator's data file, gzipped as hosts serve it, in bytes: a few round trips on a phone.
DATA_GZIP_BUDGET = 40_000


def record(key: str, value: object) -> None:
    path = SCREENSHOTS.parent / "budgets.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[key] = value
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


def test_the_calculator_page_loads_at_most_15_kb_of_our_own_javascript(page: Page) -> None:
    scripts = record_scripts(page)
    open_calculator(page)
    assert all(path.startswith("/assets/") for path in scripts), scripts
    assert any("/calculator." in path for path in scripts) and not any(
        "tables." in p for p in scripts
    )
    record("calculator_page_scripts_bytes", scripts)
    assert sum(scripts.values()) <= SCRIPT_BUDGET, scripts


def test_the_calculator_data_file_is_small_enough_for_a_phone(built_site: Path) -> None:
    data = (built_site / "api" / "calculator.json").read_bytes()
    packed = len(gzip.compress(data, compresslevel=6))
    record("calculator_json_bytes", {"raw": len(data), "gzip": packed})
    assert packed <= DATA_GZIP_BUDGET, (len(data), packed)
