"""The calculator page as a visitor uses it: fields, shared links, history, bad input, copy."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from generator.catalog.schema import Catalog
from generator.filters import gib, money, tokens_per_s
from tests.browser.conftest import NewPage, open_calculator
from tests.browser.fitcli import catalog_loaded_once, fit_json
from tests.browser.test_calculator_parity import random_states

pytestmark = pytest.mark.browser

#: data-out field → (CLI key, the site's formatter) for the figures a visitor reads.
SHOWN = {
    "weights": ("weights_bytes", gib),
    "kv_cache": ("kv_cache_bytes", gib),
    "overhead": ("overhead_bytes", gib),
    "total": ("total_bytes", gib),
    "raw": ("raw_vram_bytes", gib),
    "effective": ("effective_vram_bytes", gib),
    "headroom": ("headroom_bytes", gib),
    "tps": ("decode_tokens_per_s", tokens_per_s),
    "cost": ("cost_per_hour_usd", money),
}
BYTES = ("weights", "kv_cache", "overhead", "total", "raw", "effective", "headroom")


def shown(page: Page) -> dict[str, dict[str, str | None]]:
    """Every output field: its text and, for <data>, its raw value."""
    fields: dict[str, dict[str, str | None]] = page.eval_on_selector_all(
        "[data-out]",
        "els => Object.fromEntries(els.map(e => [e.dataset.out, {text: e.textContent, "
        "value: e.tagName === 'DATA' ? e.value : null}]))",
    )
    return fields


def assert_page_equals_cli(page: Page, state: dict[str, Any]) -> dict[str, Any]:
    with catalog_loaded_once():
        cli, err = fit_json(state)
    assert cli is not None, err
    fields = shown(page)
    for key, (cli_key, fmt) in SHOWN.items():
        assert fields[key]["text"] == fmt(cli[cli_key]), key
    for key in BYTES:
        assert fields[key]["value"] == str(cli[SHOWN[key][0]]), key
    assert fields["max_context"]["value"] == str(cli["max_context"])
    assert fields["command"]["text"] == (cli["command"] or fields["command"]["text"])
    return cli


def query(page: Page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def test_the_calculator_answers_for_its_default_setup_as_the_cli_does(page: Page) -> None:
    open_calculator(page)
    expect(page.locator("#calc-model")).to_have_value("Llama 3.1 8B Instruct")
    expect(page.locator("#calc-gpu")).to_have_value("rtx-4090")
    expect(page.locator("#calc-quant")).to_have_value("q4_k_m")
    expect(page.locator("#calc-context")).to_have_value("8192")
    cli = assert_page_equals_cli(
        page, {"model": "llama-3.1-8b", "quant": "q4_k_m", "gpu": "rtx-4090"}
    )
    expect(page.locator("#calc-summary [data-out=verdict]")).to_have_text("Fits")
    expect(page.locator("#calc-command")).to_have_text(cli["command"])
    assert page.url.endswith("/calculator/"), "an untouched page keeps its address"


def test_the_visible_fields_show_what_compute_and_present_return(
    page: Page, catalog: Catalog
) -> None:
    for state in random_states(catalog, 6, seed=7):
        open_calculator(page, "?" + "&".join(f"{k}={v}" for k, v in state.items() if v is not None))
        expected = page.evaluate(
            """async (s) => {
              const raw = await (await fetch(document.getElementById("calc").dataset.src)).json();
              const x = fitatlasCalc.compute(fitatlasCalc.index(raw), s);
              return fitatlasCalc.present(x);
            }""",
            state,
        )
        texts = {k: v["text"] for k, v in shown(page).items()}
        assert texts == {k: v for k, v in expected.items() if k in texts}, state


def test_typing_a_model_name_offers_only_its_quantizations_and_updates_the_link(
    page: Page, catalog: Catalog
) -> None:
    open_calculator(page)
    model = catalog.models["qwen3-32b"]
    page.locator("#calc-model").fill(model.name)
    expect(page.locator("#calc-quant option")).to_have_count(len(model.quantizations))
    values = page.locator("#calc-quant option").evaluate_all("os => os.map(o => o.value)")
    assert sorted(values) == sorted(model.quantizations)
    assert query(page)["model"] == "qwen3-32b"
    assert_page_equals_cli(page, {k: v for k, v in query(page).items()})


def test_a_shared_link_reproduces_the_whole_setup(new_page: NewPage) -> None:
    setup = {
        "model": "llama-3.3-70b", "quant": "q8_0", "context": "32768", "batch": "4",
        "kv": "q8_0", "runtime": "llama-cpp", "gpu": "a100-80gb-sxm", "count": "4",
    }  # fmt: skip
    link = "?" + "&".join(f"{k}={v}" for k, v in setup.items())
    page = open_calculator(new_page(), link)
    expect(page.locator("#calc-model")).to_have_value("Llama 3.3 70B Instruct")
    for field, value in setup.items():
        if field != "model":
            expect(page.locator(f"#calc-{field}")).to_have_value(value)
    cli = assert_page_equals_cli(page, query(page))
    assert cli["count"] == 4 and "--tensor-split 1,1,1,1" in cli["command"]
    # The same link in a fresh browser gives the same page.
    other = open_calculator(new_page(viewport="phone"), link)
    assert shown(other) == shown(page)


def test_back_and_forward_return_to_earlier_setups(page: Page) -> None:
    open_calculator(page)
    first = shown(page)
    page.locator("#calc-gpu").select_option("h100-sxm")
    expect(page.locator("#calc-gpu")).to_have_value("h100-sxm")
    second = shown(page)
    page.locator("#calc-count").select_option("2")
    assert query(page)["count"] == "2"
    page.go_back()
    expect(page.locator("#calc-count")).to_have_value("")
    assert query(page)["gpu"] == "h100-sxm" and shown(page) == second
    page.go_back()
    expect(page.locator("#calc-gpu")).to_have_value("rtx-4090")
    assert shown(page) == first
    page.go_forward()
    page.go_forward()
    expect(page.locator("#calc-count")).to_have_value("2")
    assert_page_equals_cli(page, query(page))


def test_the_card_count_goes_from_one_to_the_cards_physical_limit(
    page: Page, catalog: Catalog
) -> None:
    open_calculator(page, "?gpu=h100-sxm")
    options = page.locator("#calc-count option").evaluate_all("os => os.map(o => o.value)")
    most = catalog.gpus["h100-sxm"].node_max_gpus
    assert options == ["", *[str(n) for n in range(1, most + 1)]]


def test_context_presets_stop_at_the_models_maximum(page: Page, catalog: Catalog) -> None:
    small = min(catalog.models.values(), key=lambda m: m.max_context)
    open_calculator(page, f"?model={small.id}")
    for preset in page.locator("[data-ctx]").all():
        value = preset.get_attribute("data-ctx")
        if value != "max" and int(str(value)) >= small.max_context:
            expect(preset).to_be_hidden()
    page.locator("[data-ctx=max]").click()
    expect(page.locator("#calc-context")).to_have_value(str(small.max_context))
    assert query(page)["context"] == str(small.max_context)


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("?model=no-such-model", "no model “no-such-model”"),
        ("?gpu=h100", "no GPU “h100”"),
        ("?model=llama-3.1-8b&quant=q9_z", "not published as “q9_z”"),
        ("?context=-5", "not “-5”"),
        ("?context=banana", "not “banana”"),
        ("?context=99999999", "not “99999999”"),
        ("?batch=0", "not “0”"),
        ("?gpu=rtx-4090&count=9", "not “9”"),
        ("?runtime=vllm", "does not load"),
        ("?quant=bf16&gpu=apple-m3-max-128gb&runtime=vllm", "does not run on"),
        ("?quant=fp8&gpu=apple-m3-max-128gb", "No runtime for FP8"),
    ],
    ids=["unknown model", "unknown gpu", "unknown quant", "negative context", "text context",
         "context over the maximum", "no sequences", "too many cards", "runtime not loading it",
         "runtime not on the platform", "no runtime on the platform"],
)  # fmt: skip
def test_bad_input_in_a_link_shows_a_message_and_no_numbers(
    page: Page, link: str, message: str
) -> None:
    open_calculator(page, link)
    expect(page.locator("#calc-error")).to_be_visible()
    expect(page.locator("#calc-error")).to_contain_text(message)
    expect(page.locator("#calc-result")).to_be_hidden()


def test_typing_a_negative_context_shows_a_message_until_it_is_fixed(page: Page) -> None:
    open_calculator(page)
    field = page.locator("#calc-context")
    field.fill("-4096")
    expect(page.locator("#calc-error")).to_contain_text("not “-4096”")
    expect(page.locator("#calc-result")).to_be_hidden()
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("16k")
    expect(page.locator("#calc-result")).to_be_visible()
    expect(field).not_to_have_attribute("aria-invalid", "true")
    assert query(page)["context"] == "16384"
    assert_page_equals_cli(page, query(page))


def test_an_unknown_model_name_is_refused_when_the_field_is_left(page: Page) -> None:
    open_calculator(page)
    page.locator("#calc-model").fill("Llama 9")
    expect(page.locator("#calc-result")).to_be_visible()  # still typing: nothing changes yet
    page.locator("#calc-model").press("Tab")
    expect(page.locator("#calc-error")).to_contain_text("no model “Llama 9”")
    expect(page.locator("#calc-result")).to_be_hidden()


def test_the_copy_button_puts_the_launch_command_on_the_clipboard(new_page: NewPage) -> None:
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_calculator(page, "?model=llama-3.1-8b&quant=awq-int4&gpu=l40s&count=2&runtime=vllm")
    command = page.locator("#calc-command").text_content()
    assert command and command.startswith("vllm serve") and "--tensor-parallel-size 2" in command
    page.get_by_role("button", name="Copy command").click()
    expect(page.locator("#calc-copied")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == command


def test_a_setup_that_does_not_fit_says_so_and_offers_no_command(page: Page) -> None:
    open_calculator(page, "?model=deepseek-r1&quant=q4_k_m&gpu=rtx-4090&count=1")
    expect(page.locator("#calc-summary [data-out=verdict]")).to_have_text("Does not fit")
    expect(page.locator("#calc-copy")).to_be_hidden()
    cli = assert_page_equals_cli(page, query(page))
    assert cli["fits"] is False and cli["command"] is None


def test_moving_to_a_gpu_of_another_platform_picks_a_runtime_that_runs_there(page: Page) -> None:
    open_calculator(page, "?model=llama-3.1-8b&quant=bf16&gpu=h100-sxm&runtime=vllm")
    expect(page.locator("#calc-runtime")).to_have_value("vllm")
    page.locator("#calc-gpu").select_option("apple-m3-max-128gb")
    expect(page.locator("#calc-runtime")).to_have_value("llama-cpp")
    runtimes = page.locator("#calc-runtime option").evaluate_all("os => os.map(o => o.value)")
    assert runtimes == ["llama-cpp", "mlx"]
    cli = assert_page_equals_cli(page, query(page))
    assert cli["runtime"] == "llama-cpp" and cli["gpu"] == "apple-m3-max-128gb"
