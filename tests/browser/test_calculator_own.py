"""The calculator's "your own model" mode equals ``fitatlas fit --config … --json`` (issue #12).

The page's own module (calc-own.js, loaded as the page loads it) reads each config as text, builds
the model entry and hands it to calculator.js's ``compute()``/``present()``; the CLI runs in this
process on the same config written to ``…/your-model/config.json`` (so both call the model
``your-model`` and its commands name the same local repository). Every number is compared as in
test_calculator_parity.py: bytes, cards, contexts, verdicts and commands exactly; speeds and
dollars as the site prints them.
"""

from __future__ import annotations

import io
import json
import random
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from generator import cli
from generator.catalog.schema import Catalog
from generator.fit.setup import runtimes_on
from tests.browser.conftest import SCREENSHOTS, NewPage, open_calculator, record_scripts
from tests.browser.fitcli import catalog_loaded_once
from tests.browser.test_accessibility import SEVERE, run_axe
from tests.browser.test_budgets import SCRIPT_BUDGET, record
from tests.browser.test_calculator_parity import differences
from tests.conftest import ROOT
from tests.test_catalog_add import DEEPSEEK_V2_LITE
from tests.test_hf_config import CATALOG_CONFIGS

pytestmark = pytest.mark.browser

SEED = 20261204
#: Real configs (sources in tests/test_hf_config.py and tests/test_catalog_add.py), one or more
#: per family the mode reads: dense, tied, GQA fallbacks, MoE of every layout, MLA, sliding,
#: chunked and hybrid attention, nested text_config with transformers' defaults.
CONFIGS: dict[str, dict[str, Any]] = {
    **{name: CATALOG_CONFIGS[name] for name in (
        "llama-3.1-8b", "llama-3.1-70b", "llama-3.2-1b", "qwen2.5-72b", "qwen3-4b",
        "qwen3-30b-a3b", "mistral-7b-v0.1", "mistral-small-3.1-24b", "mixtral-8x7b",
        "gemma-2-9b", "gemma-3-27b", "phi-3-mini-4k", "phi-4", "deepseek-v3", "kimi-k2",
        "gpt-oss-20b", "glm-4.5-air", "llama-4-maverick", "qwen3.5-122b-a10b", "qwen3.5-27b",
    )},
    "deepseek-v2-lite": DEEPSEEK_V2_LITE,
    # A repository id in _name_or_path: the model's commands name that repository.
    "qwen3-8b-named": {**CATALOG_CONFIGS["qwen3-8b"], "_name_or_path": "Qwen/Qwen3-8B"},
}  # fmt: skip
#: Random states beyond one per config × quantization (runtimes, KV dtypes, batches).
EXTRA_STATES = 150

#: Imports the page's module as the page does, then sizes each config and computes each state.
EVALUATE = """async ([texts, states]) => {
  const own = await import(document.querySelector("#calc-own summary").dataset.js);
  const raw = await (await fetch(document.getElementById("calc").dataset.src)).json();
  const D = fitatlasCalc.index(raw), models = {};
  for (const [name, text] of Object.entries(texts)) {
    models[name] = own.makeModel(own.parse(text), D);
  }
  return states.map(([name, s]) => {
    own.adopt(D, models[name]);
    const x = fitatlasCalc.compute(D, s), text = fitatlasCalc.present(x);
    if (x.error) return {error: x.error};
    const {m, Q, g, r, k, state, ...numbers} = x;
    return {numbers, text, state};
  });
}"""

#: Each config's error as the page's module words it ("field: message"), or its answer.
EVALUATE_ERRORS = """async (texts) => {
  const own = await import(document.querySelector("#calc-own summary").dataset.js);
  const raw = await (await fetch(document.getElementById("calc").dataset.src)).json();
  const D = fitatlasCalc.index(raw);
  return texts.map((text) => {
    try {
      return {model: own.makeModel(own.parse(text), D).id};
    } catch (e) {
      return {error: e.message, field: e.field};
    }
  });
}"""


def run_cli(config: Path, state: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """``fitatlas fit --config … --json`` in this process: (its JSON or None, its stderr)."""
    args = ["--project", str(ROOT), "fit", "--json", "--config", str(config)]
    flags = {"quant": "--quant", "gpu": "--gpu", "count": "--count", "context": "--context",
             "batch": "--batch", "kv": "--kv-dtype", "runtime": "--runtime"}  # fmt: skip
    for key, flag in flags.items():
        if state.get(key) is not None:
            args += [flag, str(state[key])]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(args)
    return (json.loads(out.getvalue()) if code == 0 else None), err.getvalue()


def write(folder: Path, config: dict[str, Any] | str) -> Path:
    path = folder / "your-model" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config if isinstance(config, str) else json.dumps(config), encoding="utf-8")
    return path


def context_for(rng: random.Random, config: dict[str, Any], within: bool) -> int | None:
    """A context for the state: within the model's maximum, or (``within`` False) at times past
    it, which the page and the CLI must both refuse. (Gemma 3 configs leave the maximum to
    transformers' default, 131,072.)"""
    top = (config.get("text_config") or config).get("max_position_embeddings") or 131072
    context = rng.choice([None, 1, 4096, 32768, top, round(2 ** rng.uniform(0, 20))])
    return context if context is None or not within else min(context, top)


def own_states(catalog: Catalog) -> list[tuple[str, dict[str, Any]]]:
    """Every config in every quantization (on a GPU some runtime of it runs on, at a random card
    count and context), then EXTRA_STATES random ones over runtimes, KV dtypes and batches."""
    rng = random.Random(SEED)
    gpus = list(catalog.gpus.values())
    states: list[tuple[str, dict[str, Any]]] = []

    def state(name: str, quant_id: str, extra: bool) -> dict[str, Any] | None:
        quant = catalog.quantizations[quant_id]
        usable = [g for g in gpus if runtimes_on(catalog, quant, g)]
        if not usable:
            return None
        gpu = rng.choice(usable)
        here = [r.id for r in runtimes_on(catalog, quant, gpu)]
        runtime = rng.choice([None, *here]) if extra else None
        context = context_for(rng, CONFIGS[name], within=not extra)
        return {
            "model": "your-model", "quant": quant_id, "gpu": gpu.id, "runtime": runtime,
            "kv": rng.choice([None, *catalog.runtimes[runtime or here[0]].kv_dtypes])
            if extra else None,
            "count": rng.choice([None, rng.randint(1, gpu.node_max_gpus)]),
            "context": context, "batch": rng.choice([None, 1, 4, 32]) if extra else None,
        }  # fmt: skip

    for name in CONFIGS:
        for quant_id in catalog.quantizations:
            s = state(name, quant_id, extra=False)
            if s is not None:
                states.append((name, s))
    while len(states) < len(CONFIGS) * len(catalog.quantizations) + EXTRA_STATES:
        name = rng.choice(list(CONFIGS))
        s = state(name, rng.choice(list(catalog.quantizations)), extra=True)
        if s is not None:
            states.append((name, s))
    return states


def test_the_own_model_mode_computes_what_fit_config_prints_for_every_quantization(
    page: Page, catalog: Catalog, tmp_path: Path
) -> None:
    states = own_states(catalog)
    open_calculator(page)
    texts = {name: json.dumps(config, indent=2) for name, config in CONFIGS.items()}
    computed = page.evaluate(EVALUATE, [texts, states])
    problems: list[str] = []
    refused: list[str] = []
    clis: list[dict[str, Any]] = []
    paths = {name: write(tmp_path / name, text) for name, text in texts.items()}
    with catalog_loaded_once():
        for (name, state), result in zip(states, computed, strict=True):
            cli_json, err = run_cli(paths[name], state)
            if cli_json is None:
                # Out of range for this model (a context past its max): both must refuse.
                assert result.get("error"), f"{name} {state}: the CLI refused ({err}), page not"
                refused.append(name)
                continue
            assert "error" not in result, f"{name} {state}: the page refused: {result}"
            problems += [f"{name} {p}" for p in differences(state, cli_json, result)]
            clis.append(cli_json)
    assert problems == [], f"{len(problems)} differences, first ones:\n" + "\n".join(problems[:15])
    # Every quantization was compared on every config, and the sample reaches every verdict.
    compared = {(name, s["quant"]) for (name, s), r in zip(states, computed, strict=True)
                if "error" not in r}  # fmt: skip
    assert len(compared) == len(CONFIGS) * len(catalog.quantizations)
    assert {c["verdict"] for c in clis} >= {"fits", "tight", "does-not-fit"}
    assert len(refused) < len(states) // 10


def without(config: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != key}


LLAMA = CATALOG_CONFIGS["llama-3.1-8b"]
#: Configs the CLI refuses, one per kind of problem: unknown or missing family, a missing field
#: (top level, MLA, MoE, nested text_config), a float, a string, a bad flag, a bad layer list.
BAD_CONFIGS: list[str] = [
    json.dumps({**LLAMA, "model_type": "falcon"}),
    json.dumps(without(LLAMA, "num_hidden_layers")),
    json.dumps(without(LLAMA, "model_type")),
    json.dumps(without(DEEPSEEK_V2_LITE, "kv_lora_rank")),
    json.dumps({**CATALOG_CONFIGS["mixtral-8x7b"], "num_experts_per_tok": None}),
    json.dumps(LLAMA).replace('"hidden_size": 4096', '"hidden_size": 4096.0'),
    json.dumps({**LLAMA, "num_attention_heads": "32"}),
    json.dumps({**LLAMA, "tie_word_embeddings": "no"}),
    json.dumps({**CATALOG_CONFIGS["gemma-3-27b"], "text_config": without(
        CATALOG_CONFIGS["gemma-3-27b"]["text_config"], "num_attention_heads")}),
    json.dumps({**CATALOG_CONFIGS["gpt-oss-20b"], "layer_types": ["full_attention"] * 3}),
    json.dumps({"model_type": "gemma3", "text_config": {"model_type": "nope"}}),
]  # fmt: skip


def test_a_config_the_cli_refuses_gets_the_same_field_and_message_on_the_page(
    page: Page, tmp_path: Path
) -> None:
    open_calculator(page)
    results = page.evaluate(EVALUATE_ERRORS, BAD_CONFIGS)
    with catalog_loaded_once():
        for text, result in zip(BAD_CONFIGS, results, strict=True):
            path = write(tmp_path, text)
            cli_json, err = run_cli(path, {"quant": "q4_k_m", "gpu": "rtx-4090"})
            assert cli_json is None, text
            # The CLI prints "path: field: message"; the page "field: message".
            assert f"{path}: " in err, err
            cli_message = err.split(f"{path}: ", 1)[1].strip()
            assert result.get("error") == cli_message, (text, result, err)
            assert result["field"] == cli_message.split(":", 1)[0]


def open_own_mode(page: Page, query: str = "") -> None:
    """The calculator with its "your own model" part opened (and its script loaded)."""
    open_calculator(page, query)
    page.click("#calc-own summary")
    page.wait_for_selector("#calc-own-ready:not([hidden])")


def shown(page: Page) -> dict[str, Any]:
    """The state in the page's address and the raw numbers of its result fields."""
    query = page.evaluate("location.search")
    values = page.eval_on_selector_all(
        "data[data-out]", "els => Object.fromEntries(els.map((e) => [e.dataset.out, e.value]))"
    )
    text = page.eval_on_selector_all(
        "[data-out]", "els => Object.fromEntries(els.map((e) => [e.dataset.out, e.textContent]))"
    )
    state = dict(pair.split("=", 1) for pair in query.lstrip("?").split("&") if pair)
    return {"state": state, "values": values, "text": text}


def assert_page_shows_cli(page: Page, config: Path) -> None:
    got = shown(page)
    assert got["state"]["model"] == "your-model", got
    cli_json, err = run_cli(config, got["state"])
    assert cli_json is not None, err
    for key, cli_key in (("weights", "weights_bytes"), ("kv_per_token", "kv_bytes_per_token"),
                         ("total", "total_bytes"), ("need", "fullest_card_bytes"),
                         ("max_context", "max_context")):  # fmt: skip
        assert int(got["values"][key]) == cli_json[cli_key], (key, got, cli_json[cli_key])
    assert page.get_attribute("#calc-summary", "class") == f"answer verdict-{cli_json['verdict']}"
    if cli_json["command"]:
        assert got["text"]["command"] == cli_json["command"]


def test_the_own_model_script_loads_only_when_its_part_is_opened(page: Page) -> None:
    scripts = record_scripts(page)
    open_calculator(page)
    first = dict(scripts)
    assert not any("calc-own" in path for path in first), first
    assert sum(first.values()) <= SCRIPT_BUDGET, first
    page.click("#calc-own summary")
    page.wait_for_selector("#calc-own-ready:not([hidden])")
    own = {path: size for path, size in scripts.items() if "/calc-own." in path}
    assert len(own) == 1, scripts
    record("calculator_own_model_script_bytes", own)


def test_a_pasted_config_gives_the_answer_of_fit_config(page: Page, tmp_path: Path) -> None:
    config = write(tmp_path, json.dumps(DEEPSEEK_V2_LITE, indent=2))
    open_own_mode(page, "?gpu=rtx-4090&quant=q4_k_m&context=32k")
    page.fill("#calc-own-config", config.read_text(encoding="utf-8"))
    page.click("#calc-own-paste")
    page.wait_for_function("document.getElementById('calc-model').value.includes('your config')")
    assert page.is_hidden("#calc-own-error")
    assert "DeepSeek-V2" in (page.text_content("#calc-own-status") or "")
    with catalog_loaded_once():
        assert_page_shows_cli(page, config)
        # Another quantization and card count, chosen in the form, still answer as the CLI does.
        page.select_option("#calc-quant", "iq2_xs")
        page.select_option("#calc-count", "2")
        assert_page_shows_cli(page, config)


def test_typed_numbers_answer_as_fit_config_on_the_config_they_make(
    page: Page, tmp_path: Path
) -> None:
    numbers = {"num_hidden_layers": 32, "hidden_size": 4096, "intermediate_size": 14336,
               "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
               "max_position_embeddings": 131072, "num_local_experts": 8,
               "num_experts_per_tok": 2}  # fmt: skip
    open_own_mode(page, "?gpu=h100-sxm&quant=q3_k_m")
    for key, value in numbers.items():
        page.fill(f"#calc-own-{key}", str(value))
    page.click("#calc-own-typed")
    page.wait_for_function("document.getElementById('calc-model').value.includes('your config')")
    config = write(tmp_path, {"model_type": "mixtral", "tie_word_embeddings": False, **numbers})
    with catalog_loaded_once():
        assert_page_shows_cli(page, config)


@pytest.mark.parametrize(
    ("paste", "message"),
    [
        ("{", "config.json: malformed JSON"),
        ("[1, 2]", "config.json: expected a JSON object"),
        (json.dumps(without(LLAMA, "num_hidden_layers")), "num_hidden_layers: missing"),
        (json.dumps({**LLAMA, "model_type": "bert"}), "model_type: unknown family 'bert'"),
    ],
)
def test_a_config_that_cannot_be_sized_shows_a_message_naming_the_problem(
    page: Page, paste: str, message: str
) -> None:
    open_own_mode(page)
    before = shown(page)
    page.fill("#calc-own-config", paste)
    page.click("#calc-own-paste")
    page.wait_for_selector("#calc-own-error:not([hidden])")
    assert message in (page.text_content("#calc-own-error") or "")
    assert shown(page) == before  # the calculator keeps its answer


def test_a_blank_typed_number_is_named_in_the_message(page: Page) -> None:
    open_own_mode(page)
    page.fill("#calc-own-hidden_size", "4096")
    page.click("#calc-own-typed")
    page.wait_for_selector("#calc-own-error:not([hidden])")
    assert "num_hidden_layers: missing" in (page.text_content("#calc-own-error") or "")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_opened_own_model_part_is_accessible_and_fits_a_phone(
    new_page: NewPage, viewport: str
) -> None:
    page = new_page(viewport=viewport)
    open_own_mode(page, "?gpu=rtx-4090&quant=q4_k_m")
    page.fill("#calc-own-config", json.dumps(CATALOG_CONFIGS["qwen3-30b-a3b"], indent=2))
    page.click("#calc-own-paste")
    page.wait_for_function("document.getElementById('calc-model').value.includes('your config')")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"calculator-own-{viewport}.png"), full_page=True)
    severe = [f"{v['id']}: {v['nodes']}" for v in run_axe(page) if v["impact"] in SEVERE]
    assert severe == []
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
