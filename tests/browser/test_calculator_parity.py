"""The calculator page's arithmetic equals ``fitatlas fit --json`` (issue #4: one source of truth).

500 random configurations, seeded, over every model, quantization, runtime, KV dtype, GPU, card
count (up to the physical limit), context and batch size, each one the CLI accepts (a runtime that
runs on the GPU's platform), are computed by the page's own ``compute()``/``present()`` (the
functions that fill its visible fields) in one ``page.evaluate`` and compared with the CLI:
bytes (the fullest card, the card limit and the planning margin's pooled figures), card counts,
contexts, verdicts and commands exactly; tokens/s and dollars as the site
displays them (test_calculator.py checks that the visible fields show ``present()``'s text).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from typing import Any

import pytest
from playwright.sync_api import Page

from generator.catalog.schema import Catalog
from generator.filters import gib, money, tokens_per_s
from generator.fit.setup import runtimes_on
from generator.fit.splits import plan_parallel_layout
from tests.browser.conftest import open_calculator
from tests.browser.fitcli import argv, catalog_loaded_once, fit_json

pytestmark = pytest.mark.browser

CONFIGURATIONS = 500
SEED = 20261126
#: Exact equality: the CLI key → the key of the page's compute() result.
EXACT = {
    "count": "count", "context": "context", "batch": "batch", "weights_bytes": "weights",
    "kv_cache_bytes": "kv_cache", "overhead_bytes": "overhead", "total_bytes": "total",
    "raw_vram_bytes": "raw", "effective_vram_bytes": "effective", "scaling_factor": "factor",
    "headroom_bytes": "headroom", "fits": "fits", "verdict": "verdict", "min_gpus": "min_gpus",
    "max_context": "max_context", "kv_bytes_per_token": "kv_per_token", "command": "command",
    "commands": "commands", "fullest_card_bytes": "need", "card_limit_bytes": "limit",
    "planning_fits": "planning_fits", "planning_headroom_bytes": "planning",
    "within_recommended_cards": "within", "node_max_gpus": "node_max_gpus",
}  # fmt: skip
#: As displayed: the CLI key → (the key of the page's present() text, the site's formatter).
DISPLAYED = {
    "decode_tokens_per_s": ("tps", tokens_per_s),
    "aggregate_tokens_per_s": ("aggregate", tokens_per_s),
    "cost_per_hour_usd": ("cost", money),
    "cost_per_million_tokens_usd": ("cost_per_million", lambda v: money(v, "")),
    "weights_bytes": ("weights", gib),
    "kv_cache_bytes": ("kv_cache", gib),
    "overhead_bytes": ("overhead", gib),
    "total_bytes": ("total", gib),
    "effective_vram_bytes": ("effective", gib),
    "headroom_bytes": ("headroom", gib),
    "fullest_card_bytes": ("need", gib),
    "card_limit_bytes": ("limit", gib),
}

#: Runs compute() and present() on every state, with the page's own data file.
EVALUATE = """async (states) => {
  const raw = await (await fetch(document.getElementById("calc").dataset.src)).json();
  const D = fitatlasCalc.index(raw);
  return states.map((s) => {
    const x = fitatlasCalc.compute(D, s), text = fitatlasCalc.present(x);
    if (x.error) return {error: x.error};
    const {m, Q, g, r, k, state, ...numbers} = x;
    return {numbers, text, state};
  });
}"""


def random_states(catalog: Catalog, n: int, seed: int) -> list[dict[str, Any]]:
    """n valid calculator states; None leaves a choice to the defaults (as the CLI does).

    Valid: the quantization has a runtime on the GPU's platform, the runtime is one of those,
    the card count is within the GPU's physical limit, the KV dtype is one the runtime that
    runs there offers.
    """
    rng = random.Random(seed)
    models, gpus = list(catalog.models.values()), list(catalog.gpus.values())
    states: list[dict[str, Any]] = []
    while len(states) < n:
        model, gpu = rng.choice(models), rng.choice(gpus)
        quants = [
            catalog.quantizations[q]
            for q in model.quantizations
            if runtimes_on(catalog, catalog.quantizations[q], gpu)
        ]
        if not quants:
            continue
        quant = rng.choice(quants)
        here = [r.id for r in runtimes_on(catalog, quant, gpu)]
        runtime = rng.choice([None, *here])
        kv_choices = catalog.runtimes[runtime or here[0]].kv_dtypes
        context = rng.choice([
            None, 1, model.max_context, rng.choice([4096, 8192, 32768, 131072]),
            round(2 ** rng.uniform(0, 1) * model.max_context / 2),
            round(2 ** rng.uniform(0, 24)),
        ])  # fmt: skip
        states.append({
            "model": model.id, "quant": quant.id, "gpu": gpu.id, "runtime": runtime,
            "kv": rng.choice([None, *kv_choices]),
            "count": rng.choice([None, rng.randint(1, gpu.node_max_gpus)]),
            "context": None if context is None else min(max(context, 1), model.max_context),
            "batch": rng.choice([None, 1, 1, 2, 4, 16, 64]),
        })  # fmt: skip
    return states


def differences(state: dict[str, Any], cli: dict[str, Any], page: dict[str, Any]) -> list[str]:
    found = []
    for cli_key, page_key in EXACT.items():
        if cli[cli_key] != page["numbers"][page_key]:
            found.append(f"{cli_key}: CLI {cli[cli_key]!r}, page {page['numbers'][page_key]!r}")
    for cli_key, (text_key, fmt) in DISPLAYED.items():
        if fmt(cli[cli_key]) != page["text"][text_key]:
            found.append(f"{cli_key}: CLI {fmt(cli[cli_key])!r}, page {page['text'][text_key]!r}")
    for key in ("model", "quant", "gpu", "runtime", "kv_dtype"):
        page_key = "kv" if key == "kv_dtype" else key
        if cli[key] != page["state"][page_key]:
            found.append(f"{key}: CLI {cli[key]!r}, page {page['state'][page_key]!r}")
    return [f"{json.dumps(state)}: {d}" for d in found]


def test_the_page_computes_what_fitatlas_fit_prints_for_500_random_configurations(
    page: Page, catalog: Catalog
) -> None:
    states = random_states(catalog, CONFIGURATIONS, SEED)
    open_calculator(page)
    computed = page.evaluate(EVALUATE, states)
    problems: list[str] = []
    clis: list[dict[str, Any]] = []
    with catalog_loaded_once():
        for state, result in zip(states, computed, strict=True):
            cli, err = fit_json(state)
            assert cli is not None, f"{state}: the CLI refused a valid state: {err}"
            assert "error" not in result, f"{state}: the page refused a valid state: {result}"
            problems += differences(state, cli, result)
            clis.append(cli)
    assert problems == [], f"{len(problems)} differences, first ones:\n" + "\n".join(problems[:15])
    # The sample covers what makes the arithmetic differ.
    assert {r["numbers"]["verdict"] for r in computed} >= {"fits", "tight", "does-not-fit"}
    assert any(
        s["count"] is None and r["numbers"]["min_gpus"] is None
        for s, r in zip(states, computed, strict=True)
    )
    assert len({s["runtime"] for s in states}) == len(catalog.runtimes) + 1
    laid_out = [c for c in clis if c["fullest_card_bytes"] is not None and c["count"] > 1]
    split = [catalog.runtimes[c["runtime"]].split for c in laid_out]
    assert "layer" in split, "no layer split over several cards"
    assert any(
        kind == "tensor"
        and plan_parallel_layout(catalog.models[c["model"]].architecture, c["count"]).pipeline > 1
        for c, kind in zip(laid_out, split, strict=True)
    ), "no tensor-parallel layout with pipeline stages"
    # Both sides of the planning margin, and a fit outside it (tight for that reason alone).
    assert {c["planning_fits"] for c in clis} == {True, False}
    assert any(
        c["fits"] and not (c["planning_fits"] and c["within_recommended_cards"]) for c in clis
    )


def test_the_in_process_cli_prints_what_the_installed_command_prints(catalog: Catalog) -> None:
    for state in random_states(catalog, 3, SEED + 1):
        done = subprocess.run(
            [sys.executable, "-m", "generator", *argv(state)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(done.stdout) == fit_json(state)[0]


BAD_STATES: list[dict[str, Any]] = [
    {"model": "no-such-model", "quant": "q4_k_m", "gpu": "rtx-4090"},
    {"model": "llama-3.1-8b", "quant": "q4_k_m", "gpu": "no-such-gpu"},
    {"model": "llama-3.1-8b", "quant": "no-such-quant", "gpu": "rtx-4090"},
    {"model": "llama-3.1-8b", "quant": "q4_k_m", "gpu": "rtx-4090", "context": -5},
    {"model": "llama-3.1-8b", "quant": "q4_k_m", "gpu": "rtx-4090", "context": 10**9},
    {"model": "llama-3.1-8b", "quant": "q4_k_m", "gpu": "rtx-4090", "batch": 0},
    {"model": "llama-3.1-8b", "quant": "q4_k_m", "gpu": "rtx-4090", "runtime": "vllm"},
    {"model": "llama-3.1-8b", "quant": "q4_k_m", "gpu": "rtx-4090", "kv": "fp8"},
    {"model": "llama-3.1-8b", "quant": "q4_k_m", "gpu": "rtx-4090", "count": 0},
    {"model": "llama-3.1-8b", "quant": "bf16", "gpu": "apple-m3-max-128gb", "runtime": "vllm"},
    {"model": "llama-3.1-8b", "quant": "fp8", "gpu": "apple-m3-max-128gb"},
]


def test_the_page_refuses_every_configuration_the_cli_refuses(page: Page) -> None:
    open_calculator(page)
    computed = page.evaluate(EVALUATE, BAD_STATES)
    with catalog_loaded_once():
        for state, result in zip(BAD_STATES, computed, strict=True):
            assert fit_json(state)[0] is None, state
            assert result.get("error"), f"{state}: the page answered {result}"
