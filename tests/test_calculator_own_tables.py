"""The tables the calculator's "your own model" mode reads (calculator.json's ``own`` part) are
complete: every family ``fit --config`` knows, every quantization, every type a rule can name.
The browser test tests/browser/test_calculator_own.py checks the numbers against the CLI."""

from __future__ import annotations

import re
from pathlib import Path

from generator.calculator import make_calculator_data
from generator.catalog.hf_config import FAMILIES
from generator.catalog.schema import Catalog

SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "static" / "calc-own.js"


def test_every_model_type_fit_config_reads_is_in_the_tables(catalog: Catalog) -> None:
    own = make_calculator_data(catalog)["own"]
    assert set(own["model_types"]) == set(FAMILIES)
    for model_type, index in own["model_types"].items():
        family = own["families"][index]
        assert family["label"] == FAMILIES[model_type].label
        assert family["defaults"] == dict(FAMILIES[model_type].defaults)


def test_every_quantization_has_a_recipe_the_script_can_size(catalog: Catalog) -> None:
    own = make_calculator_data(catalog)["own"]
    assert set(own["quants"]) == set(catalog.quantizations)
    for quant_id, (recipe, embed_output, bits) in own["quants"].items():
        known = recipe is None or recipe in own["ftype_default"] or recipe in own["safetensors"]
        assert known, quant_id
        assert embed_output is None or embed_output in own["blocks"], quant_id
        assert bits == catalog.quantizations[quant_id].bits_per_weight
    for recipe in own["conversion"].values():
        assert recipe in own["ftype_default"]


def test_every_ggml_type_the_script_names_has_a_block_size(catalog: Catalog) -> None:
    """A type written in calc-own.js's rules or reachable through the tables has a block size,
    so the script never looks up a missing one."""
    own = make_calculator_data(catalog)["own"]
    named = set(re.findall(r'"((?:I?Q\d|MXFP|F|BF)[0-9A-Z_]*)"', SCRIPT.read_text()))
    file_types = set(own["ftype_default"]) | set(own["iq2_family"]) | set(own["output_q5k"])
    file_types |= set(own["attn_out_q5k_8e"])
    reachable = set(own["ftype_default"].values()) | set(own["fallback"].values())
    missing = (named - file_types) - set(own["blocks"]) | reachable - set(own["blocks"])
    assert missing == set()
