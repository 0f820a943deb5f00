"""Runtimes exist per platform: no page or answer offers a runtime where it does not run."""

from __future__ import annotations

import pytest

from generator.catalog.schema import Catalog
from generator.cli import main
from generator.fit.answers import render_commands
from generator.fit.matrix import FitMatrix, compute_matrix
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def matrix(catalog: Catalog) -> FitMatrix:
    return compute_matrix(catalog)


def test_every_cell_runs_a_runtime_of_its_cards_platform_or_says_none_does(
    matrix: FitMatrix,
) -> None:
    checked = 0
    for (_, _, gpu), cell in matrix.all_cells().items():
        platform = matrix.catalog.gpus[gpu].platform
        if cell.setup.runs_here:
            assert platform in cell.setup.runtime.platforms
        else:
            assert cell.min_gpus is None and cell.result.verdict == "no-runtime"
            checked += 1
    assert checked > 0  # Apple machines list formats nothing on Metal loads (FP8, AWQ, EXL2)


def test_mac_and_dgx_spark_commands_name_only_runtimes_that_run_there(matrix: FitMatrix) -> None:
    catalog = matrix.catalog
    allowed = {"metal": {"llama-cpp", "mlx"}, "cuda-unified": {"llama-cpp", "vllm"}}
    seen: set[str] = set()
    for (_, _, gpu), cell in matrix.all_cells().items():
        platform = catalog.gpus[gpu].platform
        if platform not in allowed or not cell.fits:
            continue
        commands = render_commands(cell.result, catalog, matrix.sizing_for)
        assert set(commands) <= allowed[platform], (cell.setup.model.id, gpu, commands)
        seen |= set(commands)
    assert seen == {"llama-cpp", "mlx", "vllm"}


def test_llama_cpp_commands_always_load_a_gguf_file(matrix: FitMatrix) -> None:
    for cell in list(matrix.all_cells().values())[::11]:
        if cell.fits:
            command = render_commands(cell.result, matrix.catalog, matrix.sizing_for).get(
                "llama-cpp"
            )
            assert command is None or ".gguf " in command


@pytest.mark.parametrize(
    ("quant", "runtime", "message"),
    [
        ("bf16", "vllm", "does not run on Apple M3 Max"),
        ("fp8", None, "none of which runs on Apple M3 Max"),
    ],
    ids=["vllm-on-a-mac", "fp8-on-a-mac"],
)
def test_fit_refuses_a_runtime_or_format_that_does_not_run_on_a_mac(
    capsys: pytest.CaptureFixture[str], quant: str, runtime: str | None, message: str
) -> None:
    args = ["--project", str(ROOT), "fit", "--model", "llama-3.1-8b", "--quant", quant,
            "--gpu", "apple-m3-max-128gb"]  # fmt: skip
    if runtime:
        args += ["--runtime", runtime]
    assert main(args) == 1
    assert message in capsys.readouterr().err
