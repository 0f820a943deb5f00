"""Measurements win: no verdict denies a recorded run of the same setup, and a planted
contradiction stops `fitatlas check` with the row's id, place and both figures."""

from __future__ import annotations

import subprocess
import sys

from generator.catalog.schema import Catalog
from generator.fit.accuracy import compute_accuracy
from tests.conftest import ROOT, MakeProject

#: A row that says two RTX 3090s could not hold Llama 3.3 70B at Q4_K_M at 8K: the engine
#: (rightly) says they can.
PLANTED = """- id: m-9999
  model: llama-3.3-70b
  quant: q4_k_m
  gpu: rtx-3090
  cards: 2
  runtime: llama-cpp
  context: 8192
  batch: 1
  kv_dtype: f16
  metric: fits
  value: false
  source: https://example.org/planted-for-a-test
  date: 2026-12-04
"""


def test_no_verdict_contradicts_a_recorded_run(catalog: Catalog) -> None:
    report = compute_accuracy(catalog)
    walked = [
        c for c in report.comparisons if c.measurement.metric in ("fits", "decode_tokens_per_s")
    ]
    assert len(walked) > 100  # every fit row and every decode row is a claim about fitting
    assert report.contradictions == ()
    for c in walked:
        ran = c.measurement.value if c.measurement.metric == "fits" else True
        assert ran == c.verdict.fits or c.measurement.exception, c.measurement.id


def test_a_planted_contradiction_fails_check_naming_the_row(make_project: MakeProject) -> None:
    site_yaml = (ROOT / "site.yaml").read_text(encoding="utf-8")
    project = make_project({"site.yaml": site_yaml}, copy=("catalog", "content", "templates"))
    measurements = project / "catalog" / "measurements.yaml"
    measurements.write_text(measurements.read_text(encoding="utf-8") + PLANTED, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "generator", "--project", str(project), "check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    line = next(x for x in done.stderr.splitlines() if "m-9999" in x)
    assert "measurements.yaml:" in line and "fits: false" in line
    assert "'tight'" in line or "'fits'" in line
    assert "GiB of 24.00 GiB" in line  # the fullest card against the card's limit
