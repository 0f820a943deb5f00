"""Fit engine, setups: a query's ids looked up and checked, defaults applied. Pure.

``resolve_setup`` answers ``fitatlas fit`` and the pages' per-card questions; ``resolve_row``
gives the matrix one setup per GPU. Every bad input raises ``FitQueryError`` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from generator.catalog.schema import (
    GPU,
    Catalog,
    Interconnect,
    KVDtype,
    Model,
    Quantization,
    Runtime,
    suggest,
)
from generator.fit.memory import GIB

T = TypeVar("T")

#: Context the site's tables assume unless the reader picks another, in tokens.
DEFAULT_CONTEXT = 8192

#: The machine around the cards when nothing else is said: 64 GiB of dual-channel DDR5, whose
#: 5600 MT/s × 16 bytes = 89.6 GB/s peak is rounded down to what reads sustain.
DEFAULT_RAM_GIB = 64
DEFAULT_RAM_BANDWIDTH_GBPS = 80.0


class FitQueryError(ValueError):
    """A query the engine cannot answer: unknown id, unsupported combination, bad number."""


@dataclass(frozen=True)
class Options:
    """What the reader chooses beyond model, quantization and GPU. None = the default."""

    context: int | None = None
    batch: int = 1
    kv_dtype: str | None = None
    runtime: str | None = None
    prompt: int | None = None  # prompt tokens for time to first token; None = the context
    ram_gib: float = DEFAULT_RAM_GIB
    ram_bandwidth_gbps: float = DEFAULT_RAM_BANDWIDTH_GBPS


@dataclass(frozen=True)
class Setup:
    """A fully resolved query: entities, not ids, with defaults applied."""

    model: Model
    quant: Quantization
    gpu: GPU
    link: Interconnect | None
    runtime: Runtime
    kv: KVDtype
    context: int
    batch: int
    prompt: int
    ram_bytes: int
    ram_bandwidth_gbps: float
    runs_here: bool = True  # False: no runtime that loads the format runs on the card's platform

    @property
    def card_capacity(self) -> int:
        """Bytes one card offers: its VRAM, or the GPU's share of unified memory."""
        return _card_bytes(self.gpu.vram_gib, self.gpu.usable_vram_fraction, 1.0)

    @property
    def card_limit(self) -> int:
        """Bytes of one card the runtime lets the model use."""
        gpu = self.gpu
        return _card_bytes(gpu.vram_gib, gpu.usable_vram_fraction, self.runtime.memory_utilization)

    @property
    def bits_per_weight(self) -> float:
        """This model's average bits per weight at this quantization."""
        return self.model.bits_per_weight(self.quant)

    @property
    def honours_window(self) -> bool:
        """Whether the runtime keeps only the window for sliding-window layers."""
        return self.runtime.sliding_window_cache

    def with_gpu(
        self, gpu: GPU, link: Interconnect | None, runtime: Runtime, kv: KVDtype, runs_here: bool
    ) -> Setup:
        """The same query on another card, with the runtime chosen for that card's platform."""
        # Positional rather than dataclasses.replace(), which is slower: the matrix makes one
        # setup per cell.
        return Setup(self.model, self.quant, gpu, link, runtime, kv, self.context, self.batch,
                     self.prompt, self.ram_bytes, self.ram_bandwidth_gbps, runs_here)  # fmt: skip

    def with_runtime(self, runtime: Runtime, kv: KVDtype) -> Setup:
        """The same query on the same card under another runtime and KV cache type."""
        return Setup(self.model, self.quant, self.gpu, self.link, runtime, kv, self.context,
                     self.batch, self.prompt, self.ram_bytes, self.ram_bandwidth_gbps)  # fmt: skip


def card_limit(card_capacity: int, utilization: float) -> int:
    """Bytes of one card the runtime lets the model use (vLLM keeps 1 − utilization back)."""
    return card_capacity - round(card_capacity * (1 - utilization))


@cache
def _card_bytes(vram_gib: float, usable: float, utilization: float) -> int:
    """One card's bytes (``utilization`` 1.0) or what a runtime using that share may fill."""
    capacity = round(vram_gib * usable * GIB)
    return capacity if utilization == 1.0 else card_limit(capacity, utilization)


def resolve_setup(catalog: Catalog, model: str, quant: str, gpu: str, options: Options) -> Setup:
    """Look up every id and apply defaults; raise FitQueryError naming the first bad input."""
    g = _lookup(catalog.gpus, gpu, "GPU")
    base = _resolve_base(catalog, model, quant, options)
    q = base.quant
    here = runtimes_on(catalog, q, g)
    if not here:
        names = ", ".join(catalog.runtimes[r].name for r in q.runtimes)
        raise FitQueryError(f"{q.name} runs on {names}, none of which runs on {g.name}")
    runtime = _resolve_runtime(catalog, q, options.runtime or here[0].id)
    if runtime not in here:
        raise FitQueryError(
            f"{runtime.name} does not run on {g.name} ({g.platform}); "
            f"for {q.name} there: {', '.join(r.name for r in here)}"
        )
    kv = _resolve_kv(catalog, runtime, options.kv_dtype)
    return base.with_gpu(g, catalog.interconnect_of(g), runtime, kv, True)


def resolve_row(catalog: Catalog, model: str, quant: str, options: Options) -> list[Setup]:
    """The setup on every GPU in catalog order, each with the runtime its platform offers.

    A GPU on which no runtime for the format runs (or not the one ``options`` names) gets a
    setup marked ``runs_here=False``; every other bad input raises FitQueryError.
    """
    base = _resolve_base(catalog, model, quant, options)
    q = base.quant
    setups = []
    for g in catalog.gpus.values():
        here = runtimes_on(catalog, q, g)
        if options.runtime is not None:
            here = [r for r in here if r.id == options.runtime]
        runtime = here[0] if here else base.runtime
        kv = _resolve_kv(catalog, runtime, options.kv_dtype)
        setups.append(base.with_gpu(g, catalog.interconnect_of(g), runtime, kv, bool(here)))
    return setups


def resolve_model(catalog: Catalog, model: str) -> str:
    """The catalog id of ``model`` (any case), or FitQueryError with suggestions."""
    return _lookup(catalog.models, model, "model").id


def runtimes_on(catalog: Catalog, quant: Quantization, gpu: GPU) -> list[Runtime]:
    """The runtimes that load ``quant`` and run on ``gpu``'s platform, in the format's order."""
    return [
        catalog.runtimes[r] for r in quant.runtimes if gpu.platform in catalog.runtimes[r].platforms
    ]


def _resolve_base(catalog: Catalog, model: str, quant: str, options: Options) -> Setup:
    """A setup with every card-independent choice checked; its GPU is a placeholder."""
    m = _lookup(catalog.models, model, "model")
    q = _lookup(catalog.quantizations, quant, "quantization")
    if q.id not in m.quantizations:
        raise FitQueryError(
            f"{m.name} is not published as {q.id}{suggest(q.id, m.quantizations)}; "
            f"available: {', '.join(m.quantizations)}"
        )
    runtime = _resolve_runtime(catalog, q, options.runtime or q.runtimes[0])
    # Without a named runtime, each card's platform picks one, and that one must offer the KV
    # type (checked per card); the format's first runtime stands in until then.
    asked_kv = options.kv_dtype if options.runtime else None
    if options.kv_dtype is not None:
        _lookup(catalog.kv_dtypes, options.kv_dtype, "KV cache dtype")
    kv = _resolve_kv(catalog, runtime, asked_kv)
    context, prompt = _check_numbers(m, options)
    placeholder = next(iter(catalog.gpus.values()), None)
    if placeholder is None:
        raise FitQueryError("the catalog has no GPUs")
    return Setup(m, q, placeholder, None, runtime, kv, context, options.batch, prompt,
                 round(options.ram_gib * GIB), options.ram_bandwidth_gbps)  # fmt: skip


def _check_numbers(model: Model, options: Options) -> tuple[int, int]:
    """The context and prompt in tokens, after checking every number ``options`` gives."""
    limit = model.max_context
    context = min(DEFAULT_CONTEXT, limit) if options.context is None else options.context
    if not 1 <= context <= limit:
        raise FitQueryError(f"context must be 1 … {limit} tokens for {model.name}, not {context}")
    if options.batch < 1:
        raise FitQueryError(f"batch must be at least 1, not {options.batch}")
    prompt = context if options.prompt is None else options.prompt
    if not 1 <= prompt <= context:
        raise FitQueryError(f"prompt must be 1 … {context} tokens (the context), not {prompt}")
    if options.ram_gib < 0 or options.ram_bandwidth_gbps <= 0:
        raise FitQueryError("system RAM must be ≥ 0 GiB and its bandwidth > 0 GB/s")
    return context, prompt


def _resolve_runtime(catalog: Catalog, quant: Quantization, runtime_id: str) -> Runtime:
    """The runtime ``runtime_id`` names, which must load ``quant``."""
    runtime = _lookup(catalog.runtimes, runtime_id, "runtime")
    if runtime.id not in quant.runtimes:
        raise FitQueryError(
            f"{runtime.name} does not load {quant.name}; it loads in: {', '.join(quant.runtimes)}"
        )
    return runtime


def _resolve_kv(catalog: Catalog, runtime: Runtime, kv_dtype: str | None) -> KVDtype:
    kv = _lookup(catalog.kv_dtypes, kv_dtype or runtime.default_kv_dtype, "KV cache dtype")
    if kv.id not in runtime.kv_dtypes:
        raise FitQueryError(
            f"{runtime.name} has no {kv.id} KV cache; it offers: {', '.join(runtime.kv_dtypes)}"
        )
    return kv


def _lookup(table: dict[str, T], ident: str, noun: str) -> T:
    """The entry for ``ident``; ids are lowercase slugs, so 'Q4_K_M' finds 'q4_k_m'."""
    found = table.get(ident) or table.get(ident.strip().lower())
    if found is not None:
        return found
    raise FitQueryError(f"unknown {noun} {ident!r}{suggest(ident.strip().lower(), table)}")
