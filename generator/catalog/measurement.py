"""Measurements: published runs of real configurations, which the estimator is scored against.

No I/O. A row names its configuration by catalog ids; whether those ids exist, and whether the
engine could estimate that configuration, is checked with the other references in
generator/catalog/references.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from generator.catalog.fields import Day, Entity, Flag, Number, PositiveInt, Slug, Text

Metric = Literal[
    "decode_tokens_per_s",
    "prefill_tokens_per_s",
    "weights_gib",
    "kv_cache_gib",
    "total_gib",
    "fits",
]


class Measurement(Entity):
    """A published measurement of a real run, used to score the estimator."""

    id: Slug
    model: Slug
    quant: Slug
    gpu: Slug
    cards: PositiveInt
    runtime: Slug
    context: PositiveInt = Field(description="Tokens in the KV cache when measured")
    batch: PositiveInt = Field(description="Concurrent sequences (speed is then the aggregate)")
    kv_dtype: Slug
    metric: Metric
    value: Flag | Number = Field(description="tokens/s, GiB, or for 'fits' whether it ran")
    source: Text
    date: Day
    notes: Text | None = None
    exception: Text | None = Field(
        None,
        description="Why the engine may disagree with this row; listed on the methodology page",
    )

    @model_validator(mode="after")
    def _value_matches_metric(self) -> Measurement:
        if (self.metric == "fits") != isinstance(self.value, bool):
            raise ValueError("metric 'fits' takes true/false; every other metric a number")
        if not isinstance(self.value, bool) and self.value <= 0:
            raise ValueError("value must be greater than 0")
        return self
