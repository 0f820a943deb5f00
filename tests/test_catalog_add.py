"""``fitatlas fit --config`` and ``fitatlas catalog add``: a config.json as a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.catalog.loader import load_catalog
from generator.cli import main
from tests.conftest import MakeProject

#: DeepSeek-V2-Lite (deepseek-ai/DeepSeek-V2-Lite), not in the catalog: the keys the engine reads
#: from the copy of its config.json in github:mlc-ai/mlc-llm
#: python/mlc_llm/model/model_preset.py @79d603f0 ["deepseek_v2_lite"].
DEEPSEEK_V2_LITE: dict[str, Any] = {
    "architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2",
    "num_hidden_layers": 27, "hidden_size": 2048, "intermediate_size": 10944,
    "moe_intermediate_size": 1408, "num_attention_heads": 16, "num_key_value_heads": 16,
    "vocab_size": 102400, "max_position_embeddings": 163840, "n_routed_experts": 64,
    "n_shared_experts": 2, "num_experts_per_tok": 6, "first_k_dense_replace": 1,
    "moe_layer_freq": 1, "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
    "v_head_dim": 128, "attention_bias": False, "torch_dtype": "bfloat16",
}  # fmt: skip


def write_config(folder: Path, config: dict[str, Any], name: str = "config.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def test_fit_config_gives_the_mla_cache_and_the_weights_of_a_model_outside_the_catalog(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    """DeepSeek-V2-Lite by hand.

    KV per token (MLA, fp16): (kv_lora_rank 512 + qk_rope_head_dim 64) × 27 layers × 2 B
    = 31,104 B, so 8,192 tokens hold 254,803,968 B.

    Parameters: embedding and untied head 2 × 102,400 × 2,048 = 419,430,400, final norm 2,048.
    Each layer: attention (no q_lora_rank, so Q is direct) q 2,048 × 16 × 192 = 6,291,456,
    kv_a 2,048 × 576 = 1,179,648, its norm 512, kv_b 512 × 16 × 256 = 2,097,152,
    o 16 × 128 × 2,048 = 4,194,304: 13,763,072; two norms 4,096 → 27 × 13,767,168
    = 371,713,536. Layer 0 dense FFN 3 × 2,048 × 10,944 = 67,239,936. 26 MoE layers of
    64 × 3 × 2,048 × 1,408 = 553,648,128 experts + 3 × 2,048 × 2,816 = 17,301,504 shared +
    2,048 × 64 = 131,072 router = 571,080,704 → 14,848,098,304.
    Total 15,706,484,224 parameters; BF16 weights are twice that in bytes: 31,412,968,448 B.
    """
    project = make_project()
    config = write_config(project, DEEPSEEK_V2_LITE, "deepseek-v2-lite.json")
    args = ["--project", str(project), "fit", "--json", "--config", str(config), "--quant",
            "bf16", "--gpu", "h100-sxm", "--kv-dtype", "f16", "--context", "8192"]  # fmt: skip
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["model"] == "deepseek-v2-lite"
    assert payload["kv_bytes_per_token"] == 31_104
    assert payload["kv_cache_bytes"] == 31_104 * 8192 == 254_803_968
    assert payload["weights_bytes"] == 31_412_968_448
    assert payload["fits"] is True


def test_fit_config_with_a_missing_field_names_the_file_and_field(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project()
    broken = {k: v for k, v in DEEPSEEK_V2_LITE.items() if k != "num_hidden_layers"}
    config = write_config(project, broken, "my.json")
    args = ["--project", str(project), "fit", "--config", str(config), "--quant", "bf16",
            "--gpu", "h100-sxm"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"{config}: num_hidden_layers: missing"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (json.dumps({**DEEPSEEK_V2_LITE, "model_type": "mamba"}), "model_type: unknown family"),
        ('{"model_type": "llama",', ":1: malformed JSON"),
        ("[1, 2]", ": expected a JSON object"),
    ],
    ids=["unknown-family", "malformed", "not-an-object"],
)
def test_fit_config_refuses_what_it_cannot_size_without_a_traceback(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    project = make_project({"my.json": text})
    args = ["--project", str(project), "fit", "--config", str(project / "my.json"),
            "--quant", "bf16", "--gpu", "h100-sxm"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(str(project / "my.json")) and message in err
    assert "Traceback" not in err


def test_fit_takes_model_or_config_not_both(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["fit", "--model", "llama-3.1-8b", "--config", "x.json", "--quant", "bf16",
              "--gpu", "h100-sxm"])  # fmt: skip
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def add_args(project: Path, config: Path, *extra: str) -> list[str]:
    return ["--project", str(project), "catalog", "add", str(config), "--id", "deepseek-v2-lite",
            "--name", "DeepSeek-V2-Lite", "--source",
            "https://huggingface.co/deepseek-ai/DeepSeek-V2-Lite/blob/main/config.json",
            *extra]  # fmt: skip


FACTS = ("--license", "DeepSeek Model License", "--release-date", "2024-05-16")


def test_catalog_add_appends_an_entry_that_loads_and_keeps_the_file(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project()
    models = project / "catalog" / "models.yaml"
    before = models.read_text(encoding="utf-8")
    config = write_config(project, DEEPSEEK_V2_LITE)
    assert main(add_args(project, config, *FACTS)) == 0
    assert "added deepseek-v2-lite" in capsys.readouterr().out
    after = models.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n") + "\n\n  - id: deepseek-v2-lite\n")
    model = load_catalog(project / "catalog").models["deepseek-v2-lite"]
    assert model.hf_repo == "deepseek-ai/DeepSeek-V2-Lite"  # taken from the --source URL
    assert (model.params_b, model.active_params_b) == (15.706, 2.661)
    assert model.architecture.mla is not None and model.architecture.first_dense_layers == 1
    assert model.quantizations[0] == "bf16" and model.release_date.isoformat() == "2024-05-16"
    assert all(len(line) <= 100 for line in after[len(before) :].splitlines())
    entry = yaml.safe_load(after)["models"][-1]
    assert entry["sources"][0].startswith("https://huggingface.co/deepseek-ai/")


def test_catalog_add_then_fit_answers_for_the_new_id(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project()
    assert main(add_args(project, write_config(project, DEEPSEEK_V2_LITE), *FACTS)) == 0
    capsys.readouterr()
    args = ["--project", str(project), "fit", "--json", "--model", "deepseek-v2-lite",
            "--quant", "q4_k_m", "--gpu", "rtx-4090", "--kv-dtype", "f16"]  # fmt: skip
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["kv_bytes_per_token"] == 31_104


@pytest.mark.parametrize(
    ("extra", "config", "message"),
    [
        ((), DEEPSEEK_V2_LITE, "--license: missing"),
        ((*FACTS, "--quant", "bf16,q9_9"), DEEPSEEK_V2_LITE, "unknown quantization 'q9_9'"),
        ((*FACTS, "--release-date", "May 2024"), DEEPSEEK_V2_LITE, "--release-date: "),
        (FACTS, {**DEEPSEEK_V2_LITE, "vocab_size": None}, "config.json: vocab_size: missing"),
        ((*FACTS, "--id", "DeepSeek V2"), DEEPSEEK_V2_LITE, "--id: 'DeepSeek V2' is not a slug"),
    ],
    ids=["no-license", "unknown-quant", "bad-date", "missing-field", "not-a-slug"],
)  # fmt: skip
def test_catalog_add_refuses_a_bad_entry_and_leaves_the_file_alone(
    make_project: MakeProject,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    config: dict[str, Any],
    message: str,
) -> None:
    project = make_project()
    models = project / "catalog" / "models.yaml"
    before = models.read_text(encoding="utf-8")
    assert main(add_args(project, write_config(project, config), *extra)) == 1
    assert message in capsys.readouterr().err
    assert models.read_text(encoding="utf-8") == before


def test_catalog_add_refuses_an_id_already_in_the_catalog(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project()
    config = write_config(project, DEEPSEEK_V2_LITE)
    args = add_args(project, config, *FACTS)
    args[args.index("deepseek-v2-lite")] = "deepseek-v3"
    assert main(args) == 1
    assert "'deepseek-v3' is already in the catalog" in capsys.readouterr().err


def test_catalog_without_an_action_still_lists_ids(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project", str(make_project()), "catalog", "--json"]) == 0
    assert "llama-3.1-8b" in {m["id"] for m in json.loads(capsys.readouterr().out)["models"]}


@pytest.mark.parametrize(
    ("folder", "model_id"),
    [("DeepSeek-V2-Lite", "deepseek-v2-lite"), ("deepseek-v3", "deepseek-v3-config")],
    ids=["folder-name", "clashing-catalog-id"],
)
def test_fit_config_names_a_config_json_after_its_folder_without_shadowing_the_catalog(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str], folder: str, model_id: str
) -> None:
    project = make_project()
    (project / folder).mkdir()
    config = write_config(project / folder, DEEPSEEK_V2_LITE)
    args = ["--project", str(project), "fit", "--json", "--config", str(config), "--quant",
            "bf16", "--gpu", "h100-sxm"]  # fmt: skip
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["model"] == model_id
