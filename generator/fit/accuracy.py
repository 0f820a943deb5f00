"""Fit engine, accuracy: every published measurement beside the engine's estimate. Pure.

For each row of measurements.yaml the engine answers the same configuration (model,
quantization, GPU × cards, runtime, context, batch, KV dtype). Numbers are compared as relative
error (estimate ÷ measured − 1); fit outcomes as agreement, with the dangerous direction —
the estimate said it fits, the run ran out of memory — counted on its own.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import cached_property

from generator.catalog.measurement import Measurement
from generator.catalog.schema import Catalog
from generator.fit.memory import GIB
from generator.fit.result import compute_fit
from generator.fit.setup import Options, Setup, resolve_setup
from generator.fit.verdict import Verdict, decide_planning_verdict

NUMERIC_METRICS = (
    "weights_gib",
    "kv_cache_gib",
    "total_gib",
    "decode_tokens_per_s",
    "prefill_tokens_per_s",
)


@dataclass(frozen=True)
class Comparison:
    """One measurement and what the engine estimates for it."""

    measurement: Measurement
    estimate: float | str | None  # a number; for 'fits' rows the runtime verdict id; None when
    # the engine has no figure (prefill on a card without a compute figure)
    seed_verdict: str | None  # the effective-VRAM rule's verdict id, for 'fits' rows
    verdict: Verdict  # the engine's verdict for the measured setup
    need: int | None  # bytes the engine puts on the fullest card (None: no layout)
    limit: int  # bytes the runtime lets one card use

    @property
    def contradicts(self) -> bool:
        """Whether the engine's verdict denies what the run showed: a run that produced a
        speed or said it loaded must fit; one that ran out of memory must not."""
        m = self.measurement
        ran = m.value if isinstance(m.value, bool) else m.metric == "decode_tokens_per_s"
        if m.metric not in ("fits", "decode_tokens_per_s"):
            return False
        return ran != self.verdict.fits and m.exception is None

    @property
    def error(self) -> float | None:
        """Relative error of a numeric estimate, None for fit outcomes."""
        if not isinstance(self.estimate, float) or isinstance(self.measurement.value, bool):
            return None
        return self.estimate / self.measurement.value - 1


@dataclass(frozen=True)
class ErrorRow:
    """Error statistics of one metric (and runtime) over its measurements."""

    metric: str
    runtime: str  # a runtime id, or "all"
    count: int
    median_abs: float
    worst_abs: float
    worst: Comparison
    median_signed: float


@dataclass(frozen=True)
class FitAgreement:
    """How the estimated verdicts compare with real outcomes.

    "Tight" (headroom under 5 %) is a warning, not a promise, so it is counted on its own.
    """

    rule: str  # "runtime" (per-card placement) or "seed" (effective VRAM)
    count: int
    agree: int  # "fits" that ran, "does not fit" that failed
    false_fits: int  # said "fits", the run failed: the direction that costs users most
    false_misses: int  # said "does not fit", the run worked
    tight_ran: int
    tight_failed: int


@dataclass(eq=False)
class AccuracyReport:
    """Everything the methodology page publishes about the estimator's error.

    A plain class: the index of comparisons by configuration is built on first use and kept.
    """

    comparisons: tuple[Comparison, ...]
    errors: tuple[ErrorRow, ...]
    fits: tuple[FitAgreement, ...]

    @property
    def contradictions(self) -> tuple[Comparison, ...]:
        """Measurements the engine's verdict denies (without an explained exception)."""
        return tuple(c for c in self.comparisons if c.contradicts)

    @property
    def exceptions(self) -> tuple[Comparison, ...]:
        """Measurements that carry an explained exception, for the methodology page."""
        return tuple(c for c in self.comparisons if c.measurement.exception is not None)

    def error(self, metric: str, runtime: str = "all") -> ErrorRow | None:
        return next((r for r in self.errors if r.metric == metric and r.runtime == runtime), None)

    def for_config(self, model: str, quant: str, gpu: str) -> tuple[Comparison, ...]:
        """Measurements of one model × quantization × GPU, for the pages that show them."""
        return self._by_config.get((model, quant, gpu), ())

    @cached_property
    def _by_config(self) -> dict[tuple[str, str, str], tuple[Comparison, ...]]:
        index: dict[tuple[str, str, str], list[Comparison]] = {}
        for c in self.comparisons:
            m = c.measurement
            index.setdefault((m.model, m.quant, m.gpu), []).append(c)
        return {key: tuple(rows) for key, rows in index.items()}


def setup_for(catalog: Catalog, m: Measurement) -> Setup:
    """The engine's setup for a measured run."""
    options = Options(context=m.context, batch=m.batch, kv_dtype=m.kv_dtype, runtime=m.runtime)
    return resolve_setup(catalog, m.model, m.quant, m.gpu, options)


def estimate_measurement(catalog: Catalog, m: Measurement) -> Comparison:
    """The engine's answer for the same configuration as ``m``."""
    setup = setup_for(catalog, m)
    result = compute_fit(setup, m.cards)
    if m.metric == "fits":
        seed = decide_planning_verdict(result.memory.total, result.capacity, setup.gpu.max_gpus)
        return Comparison(
            m, result.verdict.value, seed.value, result.verdict, result.need, setup.card_limit
        )
    values: dict[str, float | None] = {
        "weights_gib": result.memory.weights / GIB,
        "kv_cache_gib": result.memory.kv_cache / GIB,
        "total_gib": result.memory.total / GIB,
        "decode_tokens_per_s": result.aggregate_tokens_per_s,
        "prefill_tokens_per_s": result.prefill_tokens_per_s,
    }
    return Comparison(m, values[m.metric], None, result.verdict, result.need, setup.card_limit)


def compute_accuracy(catalog: Catalog) -> AccuracyReport:
    """Compare every measurement with its estimate and summarise the errors."""
    comparisons = tuple(estimate_measurement(catalog, m) for m in catalog.measurements.values())
    errors = []
    for metric in NUMERIC_METRICS:
        rows = [c for c in comparisons if c.measurement.metric == metric]
        for runtime in ["all", *catalog.runtimes]:
            subset = [
                c for c in rows if runtime in ("all", c.measurement.runtime) and c.error is not None
            ]
            if subset:
                errors.append(_error_row(metric, runtime, subset))
    fit_rows = [c for c in comparisons if c.measurement.metric == "fits"]
    fits = (
        _agreement("runtime", [(str(c.estimate), bool(c.measurement.value)) for c in fit_rows]),
        _agreement("seed", [(str(c.seed_verdict), bool(c.measurement.value)) for c in fit_rows]),
    )
    return AccuracyReport(comparisons, tuple(errors), fits)


def _error_row(metric: str, runtime: str, rows: list[Comparison]) -> ErrorRow:
    signed = [c.error for c in rows if c.error is not None]
    worst = max(rows, key=lambda c: abs(c.error or 0))
    return ErrorRow(
        metric, runtime, len(signed), statistics.median(abs(e) for e in signed),
        max(abs(e) for e in signed), worst, statistics.median(signed),
    )  # fmt: skip


def _agreement(rule: str, pairs: list[tuple[str, bool]]) -> FitAgreement:
    def count(verdict: str, ran: bool) -> int:
        return sum(est == verdict and real == ran for est, real in pairs)

    return FitAgreement(
        rule, len(pairs),
        agree=count("fits", True) + count("does-not-fit", False),
        false_fits=count("fits", False), false_misses=count("does-not-fit", True),
        tight_ran=count("tight", True), tight_failed=count("tight", False),
    )  # fmt: skip


def describe_contradiction(c: Comparison) -> str:
    """One line naming the measurement, what it showed and what the engine says, with figures."""
    m = c.measurement
    shown = f"fits: {str(m.value).lower()}" if m.metric == "fits" else f"{m.value:g} tokens/s"
    if c.need is None:
        engine = "the runtime cannot lay the model out on that many cards"
    else:
        engine = f"fullest card {c.need / GIB:.2f} GiB of {c.limit / GIB:.2f} GiB"
    return (
        f"{m.id}: measured {shown} for {m.model} at {m.quant} on {m.cards}× {m.gpu} "
        f"({m.runtime}, {m.context:,} tokens × {m.batch}), but the engine says "
        f"'{c.verdict.value}' ({engine}); correct the row or the engine, or give the row an "
        "'exception:' that explains the difference"
    )
