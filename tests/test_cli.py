"""The command line: the fit --json contract, catalog ids, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from generator.catalog.loader import load_catalog
from generator.cli import main
from tests.conftest import ROOT

CATALOG = load_catalog(ROOT / "catalog")

CONTRACT_KEYS = {
    "model", "quant", "gpu", "count", "context", "batch", "kv_dtype", "runtime", "weights_bytes",
    "kv_cache_bytes", "overhead_bytes", "total_bytes", "raw_vram_bytes", "effective_vram_bytes",
    "scaling_factor", "fits", "verdict", "headroom_bytes", "min_gpus", "max_context",
    "decode_tokens_per_s", "cost_per_hour_usd",
}  # fmt: skip


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["--project", str(ROOT), *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def fit(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    return run_json(capsys, "fit", "--json", *args)


def test_fit_json_has_every_contract_key_with_consistent_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    p = fit(capsys, "--model", "llama-3.1-405b", "--quant", "q4_k_m", "--gpu", "h100-sxm")
    assert p.keys() >= CONTRACT_KEYS
    assert p["total_bytes"] == p["weights_bytes"] + p["kv_cache_bytes"] + p["overhead_bytes"]  # type: ignore[operator]
    assert p["headroom_bytes"] == p["card_limit_bytes"] - p["fullest_card_bytes"]  # type: ignore[operator]
    assert p["planning_headroom_bytes"] == p["effective_vram_bytes"] - p["total_bytes"]  # type: ignore[operator]
    assert p["fits"] is True and p["count"] == p["min_gpus"]
    assert p["effective_vram_bytes"] == round(p["raw_vram_bytes"] * p["scaling_factor"])  # type: ignore[operator]
    assert p["cost_per_hour_usd"] == pytest.approx(3.25 * p["count"])  # type: ignore[operator]
    assert p["context"] == 8192 and p["batch"] == 1 and p["runtime"] == "llama-cpp"
    assert "--tensor-split" in p["command"]  # type: ignore[operator]


def test_fit_ids_are_the_ids_catalog_json_lists(capsys: pytest.CaptureFixture[str]) -> None:
    listing = run_json(capsys, "catalog", "--json")
    assert set(listing) == {"models", "gpus", "quantizations", "runtimes", "kv_dtypes"}
    p = fit(capsys, "--model", "llama-3.1-405b", "--quant", "q4_k_m", "--gpu", "h100-sxm")
    for kind, key in [("models", "model"), ("gpus", "gpu"), ("quantizations", "quant")]:
        assert p[key] in {e["id"] for e in listing[kind]}  # type: ignore[attr-defined]
    assert all("name" in e for e in listing["models"])  # type: ignore[attr-defined]


def test_fit_with_an_explicit_count_reports_that_count(capsys: pytest.CaptureFixture[str]) -> None:
    p = fit(
        capsys, "--model", "llama-3.1-405b", "--quant", "q4_k_m", "--gpu", "h100-sxm",
        "--count", "2",
    )  # fmt: skip
    assert p["count"] == 2 and p["fits"] is False and p["verdict"] == "does-not-fit"
    assert p["headroom_bytes"] < 0  # type: ignore[operator]
    assert p["command"] is None


def test_fit_grows_with_context_and_batch(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--model", "llama-3.1-8b", "--quant", "q4_k_m", "--gpu", "rtx-4090"]
    short = fit(capsys, *base, "--context", "4096")
    long = fit(capsys, *base, "--context", "32768", "--batch", "2")
    assert long["kv_cache_bytes"] == 16 * short["kv_cache_bytes"]  # type: ignore[operator]


def test_unknown_model_id_suggests_the_closest_match(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(ROOT), "fit", "--model", "llama-3.1-70", "--quant", "q4_k_m",
                 "--gpu", "h100-sxm"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "unknown model 'llama-3.1-70'" in err and "did you mean 'llama-3.1-70b'" in err
    assert "Traceback" not in err


def test_unknown_gpu_id_suggests_the_closest_match(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(ROOT), "fit", "--model", "llama-3.1-8b", "--quant", "q4_k_m",
                 "--gpu", "h100"])  # fmt: skip
    assert code == 1
    assert "did you mean 'h100-" in capsys.readouterr().err


def test_context_beyond_the_model_maximum_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--project", str(ROOT), "fit", "--model", "phi-3-mini-4k", "--quant", "q4_k_m",
                 "--gpu", "rtx-4090", "--context", "100000"])  # fmt: skip
    assert code == 1
    assert "context must be 1 … 4096 tokens" in capsys.readouterr().err


def test_fit_text_output_is_a_readable_breakdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(ROOT), "fit", "--model", "llama-3.1-8b", "--quant", "q4_k_m",
                 "--gpu", "rtx-4090"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    for label in ("weights", "KV cache", "overhead", "effective VRAM", "verdict", "decode"):
        assert label in out


def test_python_dash_m_generator_runs_the_same_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "generator", "--project", str(ROOT), "catalog", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "llama-3.1-405b" in {m["id"] for m in json.loads(done.stdout)["models"]}


def test_debug_flag_shows_the_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "generator", "--debug", "--project", str(ROOT), "fit",
         "--model", "nope", "--quant", "q4_k_m", "--gpu", "h100-sxm"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_two_rtx_3090s_run_llama_3_3_70b_at_q4_k_m_with_a_llama_cpp_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    p = fit(capsys, "--model", "llama-3.3-70b", "--quant", "q4_k_m", "--gpu", "rtx-3090",
            "--count", "2")  # fmt: skip
    assert p["verdict"] in ("fits", "tight") and p["fits"] is True
    assert p["effective_vram_bytes"] == 36 * 2**30  # the seed's rule, kept as the margin
    assert p["planning_fits"] is False and p["within_recommended_cards"] is True
    command = p["commands"]["llama-cpp"]
    assert isinstance(command, str) and "--tensor-split 1,1" in command and ".gguf" in command
    fewest = fit(capsys, "--model", "llama-3.3-70b", "--quant", "q4_k_m", "--gpu", "rtx-3090")
    assert fewest["count"] == fewest["min_gpus"] == 2


def test_six_rtx_3090s_run_llama_3_1_8b_past_the_recommended_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    p = fit(capsys, "--model", "llama-3.1-8b", "--quant", "q4_k_m", "--gpu", "rtx-3090",
            "--count", "6")  # fmt: skip
    assert p["fits"] is True and p["within_recommended_cards"] is False
    assert p["verdict"] == "tight"  # fits, with the diminishing-returns note, never refused


def test_two_h100s_still_cannot_hold_llama_3_1_405b_at_q4_k_m(
    capsys: pytest.CaptureFixture[str],
) -> None:
    p = fit(capsys, "--model", "llama-3.1-405b", "--quant", "q4_k_m", "--gpu", "h100-sxm",
            "--count", "2")  # fmt: skip
    assert p["verdict"] == "does-not-fit" and p["commands"] == {}
    assert p["fullest_card_bytes"] > p["card_limit_bytes"]  # type: ignore[operator]


def test_fit_without_a_model_lists_every_model_that_runs_with_its_best_quantization(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listing = run_json(capsys, "fit", "--json", "--gpu", "rtx-3090", "--count", "2")
    rows = {r["model"]: r for r in listing["models"]}  # type: ignore[attr-defined]
    assert rows["llama-3.3-70b"]["quant"] == "q4_k_m"
    assert all(r["fits"] for r in rows.values())
    assert "llama-3.1-405b" not in rows


def test_fit_without_a_quant_lists_every_quantization_of_the_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listing = run_json(capsys, "fit", "--json", "--model", "llama-3.3-70b", "--gpu", "rtx-3090")
    quants = [r["quant"] for r in listing["quantizations"]]  # type: ignore[attr-defined]
    assert quants == list(CATALOG.models["llama-3.3-70b"].quantizations)
    q4 = next(r for r in listing["quantizations"] if r["quant"] == "q4_k_m")  # type: ignore[attr-defined]
    assert q4["min_gpus"] == 2


def test_ids_are_case_insensitive_and_context_takes_a_k_suffix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    p = fit(capsys, "--model", "Llama-3.3-70B", "--quant", "Q4_K_M", "--gpu", "RTX-3090",
            "--context", "32k")  # fmt: skip
    assert (p["model"], p["quant"], p["gpu"], p["context"]) == (
        "llama-3.3-70b", "q4_k_m", "rtx-3090", 32768,
    )  # fmt: skip


def test_an_unknown_quantization_suggests_the_closest_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--project", str(ROOT), "fit", "--model", "llama-3.3-70b", "--quant", "q4_km",
            "--gpu", "rtx-3090"]  # fmt: skip
    assert main(args) == 1
    assert "did you mean 'q4_k_m'" in capsys.readouterr().err
