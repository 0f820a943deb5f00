"""``fitatlas fit --config`` on real config.json files of models outside the catalog, against the
GGUF files published for them.

The configs (tests/data/hf_configs/) and the file sizes (tests/data/config_gguf_sizes.csv) each
name their source; tests/data/hf_configs/README.md says where each came from.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
CONFIGS = DATA / "hf_configs"
#: The bound the issue sets for a model the catalog does not know.
WORST = 0.02

with (DATA / "config_gguf_sizes.csv").open(encoding="utf-8") as handle:
    ROWS = list(csv.DictReader(handle))


def fit_config(model: str, quant: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    args = ["--project", str(ROOT), "fit", "--json", "--config", str(CONFIGS / f"{model}.json"),
            "--quant", quant, "--gpu", "h200-sxm", "--context", "4096"]  # fmt: skip
    assert main(args) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_the_published_sizes_cover_several_families_outside_the_catalog() -> None:
    models = {row["model"] for row in ROWS}
    catalog = (ROOT / "catalog" / "models.yaml").read_text()
    assert len(ROWS) >= 30 and len(models) >= 5
    assert all(f"id: {model}\n" not in catalog for model in models)
    families = {json.loads((CONFIGS / f"{m}.json").read_text())["model_type"] for m in models}
    assert {"mistral", "qwen2", "gemma2", "phi3", "deepseek_v2"} <= families


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['model']}-{r['quant']}")
def test_fit_config_weights_are_within_two_percent_of_the_published_file(
    row: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = fit_config(row["model"], row["quant"], capsys)
    published = int(row["published_bytes"])
    error = int(str(result["weights_bytes"])) / published - 1
    assert abs(error) <= WORST, f"{error:+.2%}"


@pytest.mark.parametrize(
    ("model", "per_token"),
    [
        # 40 layers × 8 KV heads × head_dim 128 × (K and V) × 2 bytes
        ("mistral-nemo-instruct-2407", 40 * 8 * 128 * 2 * 2),
        # 36 layers × 2 KV heads × 128 × 2 × 2 bytes
        ("qwen2.5-3b-instruct", 36 * 2 * 128 * 2 * 2),
        # MLA: (kv_lora_rank 512 + rope dims 64) × 27 layers × 2 bytes, one latent for K and V
        ("deepseek-v2-lite", (512 + 64) * 27 * 2),
    ],
)
def test_fit_config_gives_the_exact_kv_bytes_per_token(
    model: str, per_token: int, capsys: pytest.CaptureFixture[str]
) -> None:
    result = fit_config(model, "q8_0", capsys)
    assert result["kv_bytes_per_token"] == per_token
