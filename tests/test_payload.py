"""The fit --json payload: built once, and each JSON API result is the same answer's fields."""

from __future__ import annotations

import pytest

from generator.catalog.schema import Catalog
from generator.fit.answers import compute_min_gpus
from generator.fit.matrix import plan_matrix
from generator.fit.result import compute_fit
from generator.fit.setup import Options, resolve_setup
from generator.payload import FIT_KEYS, answer_fields, detail_fields, fit_payload

QUESTIONS = [
    ("llama-3.1-70b", "q4_k_m", "rtx-4090"),
    ("deepseek-r1", "fp8", "h200-sxm"),
    ("gpt-oss-120b", "mxfp4", "apple-m4-max-128gb"),
]


@pytest.mark.parametrize(("model", "quant", "gpu"), QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_the_printed_keys_are_the_answer_fields_and_the_details_each_once(
    catalog: Catalog, model: str, quant: str, gpu: str
) -> None:
    setup = resolve_setup(catalog, model, quant, gpu, Options())
    result = compute_fit(setup, 2)
    answer = answer_fields(result, compute_min_gpus(setup), 8192)
    details = detail_fields(result, catalog)
    assert not answer.keys() & details.keys()
    assert sorted(answer.keys() | details.keys()) == sorted(FIT_KEYS)
    assert len(set(FIT_KEYS)) == len(FIT_KEYS)


@pytest.mark.parametrize(("model", "quant", "gpu"), QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_an_api_result_equals_the_fit_payload_of_the_same_question(
    catalog: Catalog, model: str, quant: str, gpu: str
) -> None:
    cell = plan_matrix(catalog).cell(model, quant, gpu)
    api = answer_fields(cell.result, cell.min_gpus, cell.max_context)
    setup = resolve_setup(catalog, model, quant, gpu, Options())
    payload = fit_payload(setup, cell.result.cards, compute_min_gpus(setup), catalog)
    assert api == {key: payload[key] for key in api}
    assert list(payload)[: len(FIT_KEYS)] == list(FIT_KEYS)
