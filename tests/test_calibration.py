"""The engine against published numbers: GGUF file sizes and measured decode speeds.

The rows live in tests/data/*.csv, each with its source (docs/research/ has the details). The
bounds below are the accuracy we claim on the methodology page; a change that makes the engine
worse than this fails here.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import pytest

from generator.catalog.schema import Catalog
from generator.fit import gguf_types, weights
from generator.fit.result import compute_fit
from generator.fit.setup import Options, resolve_setup
from generator.fit.weights import estimate_weights

DATA = Path(__file__).parent / "data"
#: Weights: median and worst relative error against published GGUF files, sized tensor by
#: tensor (generator/fit/weights.py).
WEIGHTS_MEDIAN_BOUND = 0.005
WEIGHTS_WORST_BOUND = 0.02
#: Files the bounds must hold for: the table's rows, and the models they cover.
WEIGHTS_MIN_ROWS = 200
WEIGHTS_MIN_MODELS = 25
#: Decode: median error, and the share of rows within 25 %. Apple Silicon running small MoE
#: models is the known outlier (its per-step overhead is larger than the runtime's).
SPEED_MEDIAN_BOUND = 0.15
SPEED_WITHIN_25_SHARE = 0.8


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def weight_errors(catalog: Catalog) -> list[float]:
    errors = []
    for row in rows("published_gguf_sizes.csv"):
        model = catalog.models[row["model"]]
        assert row["quant"] in model.quantizations, row
        assert row["source"], row
        quant = catalog.quantizations[row["quant"]]
        # Every row is a GGUF file: a safetensors format (gpt-oss's MXFP4) is sized as its GGUF.
        ours = estimate_weights(model, quant, imatrix=row["imatrix"] == "yes", gguf=True).total
        errors.append(ours / int(row["published_bytes"]) - 1)
    return errors


def speed_errors(catalog: Catalog) -> list[float]:
    errors = []
    for row in rows("published_decode_speeds.csv"):
        options = Options(context=int(row["context"]), runtime=row["runtime"])
        setup = resolve_setup(catalog, row["model"], row["quant"], row["gpu"], options)
        ours = compute_fit(setup, int(row["cards"])).decode_tokens_per_s
        errors.append(ours / float(row["tokens_per_s"]) - 1)
    return errors


def test_weights_match_published_gguf_sizes_within_the_stated_bounds(catalog: Catalog) -> None:
    errors = [abs(e) for e in weight_errors(catalog)]
    assert len(errors) >= WEIGHTS_MIN_ROWS
    assert len({row["model"] for row in rows("published_gguf_sizes.csv")}) >= WEIGHTS_MIN_MODELS
    assert statistics.median(errors) <= WEIGHTS_MEDIAN_BOUND
    assert max(errors) <= WEIGHTS_WORST_BOUND


def test_decode_speed_matches_published_measurements_within_the_stated_bounds(
    catalog: Catalog,
) -> None:
    errors = [abs(e) for e in speed_errors(catalog)]
    assert len(errors) >= 12
    assert statistics.median(errors) <= SPEED_MEDIAN_BOUND
    assert sum(e <= 0.25 for e in errors) / len(errors) >= SPEED_WITHIN_25_SHARE


def test_a_wrong_block_size_would_break_the_weights_bound(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Q4_K at 4.25 instead of 4.5 bits per weight (136 instead of 144 bytes per block).
    monkeypatch.setitem(gguf_types.BLOCKS, "Q4_K", (256, 136))
    weights.forget_sizes()
    try:
        with pytest.raises(AssertionError):
            test_weights_match_published_gguf_sizes_within_the_stated_bounds(catalog)
    finally:
        monkeypatch.undo()
        weights.forget_sizes()


def test_mixtral_and_qwen_72b_files_are_sized_within_two_percent(catalog: Catalog) -> None:
    # Mixtral 8x7B is missing: only December 2023 files (an older expert ffn_down rule) were
    # found with sizes, and rows whose file was not named are left out of the table.
    wanted = {("mixtral-8x22b", q) for q in ("q2_k", "q3_k_m", "q4_k_m")} | {
        ("qwen2.5-72b", q) for q in ("q4_k_m", "q5_k_m", "q6_k")
    }
    found = set()
    for row, error in zip(rows("published_gguf_sizes.csv"), weight_errors(catalog), strict=True):
        key = (row["model"], row["quant"])
        if key in wanted:
            found.add(key)
            assert abs(error) <= 0.02, (key, error)
    assert found == wanted
