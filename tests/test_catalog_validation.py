"""The catalog loader: every problem at once, each with file, line and location."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.catalog.loader import load_catalog
from generator.catalog.problems import CatalogError
from generator.cli import main
from tests.conftest import ROOT, MakeProject


def edit(project: Path, kind: str, change: Any) -> None:
    path = project / "catalog" / f"{kind}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data[kind])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_the_shipped_catalog_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--project", str(ROOT), "check"]) == 0
    assert "no problems" in capsys.readouterr().out


def test_ten_planted_mistakes_give_ten_located_messages(make_project: MakeProject) -> None:
    project = make_project()
    planted = [
        ("gpus", lambda g: g[0].update(vram_gib=-80), "gpus[0].vram_gib", "greater than 0"),
        ("gpus", lambda g: g[1].update(id="H100 SXM"), "gpus[1].id", "is not a slug"),
        ("gpus", lambda g: g[2].update(interconnect="nvlink-9"), "gpus[2].interconnect",
         "unknown interconnect 'nvlink-9'"),
        ("gpus", lambda g: g[3].update(colour="green"), "gpus[3].colour", "unknown key"),
        ("gpus", lambda g: g[5].update(id=g[4]["id"]), "gpus[5].id", "duplicate id"),
        ("models", lambda m: m[0]["quantizations"].append("q4_k_z"), "models[0].quantizations",
         "unknown quantization 'q4_k_z' (did you mean 'q4_k_s' or 'q4_k_m'"),
        ("models", lambda m: m[1].pop("max_context"), "models[1].max_context", "Field required"),
        ("quantizations", lambda q: q[0].update(runtimes=["vllmm"]), "quantizations[0].runtimes[0]",
         "unknown runtime 'vllmm' (did you mean 'vllm'?)"),
        ("runtimes", lambda r: r[0].update(decode_efficiency=1.7), "runtimes[0].decode_efficiency",
         "less than or equal to 1"),
        ("interconnects", lambda i: i[0].update(bandwidth_gbps="fast"),
         "interconnects[0].bandwidth_gbps", "valid number"),
    ]  # fmt: skip
    for kind, change, _, _ in planted:
        edit(project, kind, change)
    with pytest.raises(CatalogError) as raised:
        load_catalog(project / "catalog")
    lines = str(raised.value).splitlines()
    assert len(lines) == len(planted) == 10
    for _, _, location, message in planted:
        hit = [line for line in lines if f": {location}" in line]
        assert hit, f"no message for {location} in {lines}"
        assert message in hit[0]
        assert hit[0].split(":")[1].isdigit(), "each message names its line"


def test_malformed_yaml_names_file_and_line(make_project: MakeProject) -> None:
    project = make_project()
    path = project / "catalog" / "runtimes.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(project / "catalog")
    message = str(raised.value)
    assert "runtimes.yaml:" in message and "malformed YAML" in message


def test_check_command_exits_non_zero_and_prints_every_problem(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project()
    edit(project, "gpus", lambda g: g[0].update(max_gpus=0))
    edit(project, "models", lambda m: m[0].update(id="Llama 3"))
    assert main(["--project", str(project), "check"]) == 1
    err = capsys.readouterr().err
    assert "gpus[0].max_gpus" in err and "models[0].id" in err
    assert "Traceback" not in err


def test_a_missing_catalog_file_is_reported_not_raised(make_project: MakeProject) -> None:
    project = make_project()
    (project / "catalog" / "kv_dtypes.yaml").unlink()
    with pytest.raises(CatalogError, match=r"kv_dtypes.yaml: cannot read"):
        load_catalog(project / "catalog")
