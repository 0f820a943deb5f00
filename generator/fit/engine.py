"""Fit engine, one configuration: resolve ids, then memory, capacity, verdict, speed, cost. Pure.

``answer_fit`` is what ``fitatlas fit`` prints; the matrix and every page use the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
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
from generator.fit.commands import render_command
from generator.fit.memory import (
    GIB,
    MIB,
    MemoryBreakdown,
    compute_kv_layout,
    estimate_kv_cache_bytes,
    kv_bytes_per_token,
)
from generator.fit.offload import (
    Offload,
    Tiers,
    plan_cpu_moe,
    plan_layer_offload,
    solve_cpu_moe_layers,
)
from generator.fit.placement import (
    Layout,
    Placement,
    make_shapes,
    plan_layer_split,
    without_experts,
)
from generator.fit.sizing import Sizing, card_limit, find_max_context, find_min_cards
from generator.fit.speed import (
    compute_cost_per_hour,
    compute_cost_per_million_tokens,
    effective_bandwidth_gbps,
    estimate_decode_tokens_per_s,
    estimate_prefill_tokens_per_s,
    estimate_time_to_first_token_s,
)
from generator.fit.tensors import estimate_weights
from generator.fit.verdict import (
    TIGHT_SHARE,
    Capacity,
    Verdict,
    compute_capacity,
    decide_verdict,
)

T = TypeVar("T")

#: Context the site's tables assume unless the reader picks another, in tokens.
DEFAULT_CONTEXT = 8192


class FitQueryError(ValueError):
    """A query the engine cannot answer: unknown id, unsupported combination, bad number."""


#: The machine around the cards when nothing else is said: 64 GiB of dual-channel DDR5, whose
#: 5600 MT/s × 16 bytes = 89.6 GB/s peak is rounded down to what reads sustain.
DEFAULT_RAM_GIB = 64
DEFAULT_RAM_BANDWIDTH_GBPS = 80.0


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
        # Not dataclasses.replace(), which takes three times as long: the matrix makes one
        # setup per cell.
        return Setup(self.model, self.quant, gpu, link, runtime, kv, self.context, self.batch,
                     self.prompt, self.ram_bytes, self.ram_bandwidth_gbps, runs_here)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FitResult:
    """The engine's answer for a setup on ``cards`` cards. Bytes are integers."""

    setup: Setup
    cards: int
    memory: MemoryBreakdown
    capacity: Capacity
    verdict: Verdict
    decode_tokens_per_s: float
    cost_per_hour_usd: float | None
    decode_tokens_per_s_at_start: float  # with an empty cache: decode slows as context fills
    prefill_tokens_per_s: float | None  # None when the catalog has no TFLOPS for the card
    need: int | None  # bytes the fullest card holds; None when the runtime cannot lay it out

    @property
    def fits(self) -> bool:
        return self.verdict.fits

    @property
    def headroom(self) -> int | None:
        """Bytes the fullest card has to spare within what the runtime may use."""
        return None if self.need is None else self.setup.card_limit - self.need

    @property
    def little_headroom(self) -> bool:
        """Whether the fullest card keeps less than the tight share of the card to spare."""
        return self.headroom is not None and self.headroom < TIGHT_SHARE * self.setup.card_capacity

    @property
    def planning_headroom(self) -> int:
        """The seed's rule: effective VRAM minus the pooled requirement, in bytes."""
        return self.capacity.effective - self.memory.total

    @property
    def planning_fits(self) -> bool:
        """Whether the seed's pooled rule accepts the configuration."""
        return self.planning_headroom >= 0

    @property
    def within_recommended_cards(self) -> bool:
        """Whether the card count is within the seed's recommended maximum."""
        return self.cards <= self.setup.gpu.max_gpus

    @property
    def time_to_first_token_s(self) -> float | None:
        """Seconds to read the prompt and produce the first token."""
        if self.prefill_tokens_per_s is None:
            return None
        return estimate_time_to_first_token_s(
            self.setup.prompt, self.prefill_tokens_per_s, self.decode_tokens_per_s_at_start
        )

    @property
    def aggregate_tokens_per_s(self) -> float:
        return self.decode_tokens_per_s * self.setup.batch

    @property
    def cost_per_million_tokens_usd(self) -> float | None:
        return compute_cost_per_million_tokens(self.cost_per_hour_usd, self.aggregate_tokens_per_s)


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
    runtime = _lookup(catalog.runtimes, options.runtime or here[0].id, "runtime")
    if runtime.id not in q.runtimes:
        raise FitQueryError(
            f"{runtime.name} does not load {q.name}; it loads in: {', '.join(q.runtimes)}"
        )
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


def _resolve_base(catalog: Catalog, model: str, quant: str, options: Options) -> Setup:
    """A setup with every card-independent choice checked; its GPU is a placeholder."""
    m = _lookup(catalog.models, model, "model")
    q = _lookup(catalog.quantizations, quant, "quantization")
    if q.id not in m.quantizations:
        raise FitQueryError(
            f"{m.name} is not published as {q.id}{suggest(q.id, m.quantizations)}; "
            f"available: {', '.join(m.quantizations)}"
        )
    runtime = _lookup(catalog.runtimes, options.runtime or q.runtimes[0], "runtime")
    if runtime.id not in q.runtimes:
        raise FitQueryError(
            f"{runtime.name} does not load {q.name}; it loads in: {', '.join(q.runtimes)}"
        )
    # Without a named runtime, each card's platform picks one, and that one must offer the KV
    # type (checked per card); the format's first runtime stands in until then.
    asked_kv = options.kv_dtype if options.runtime else None
    if options.kv_dtype is not None:
        _lookup(catalog.kv_dtypes, options.kv_dtype, "KV cache dtype")
    kv = _resolve_kv(catalog, runtime, asked_kv)
    context = min(DEFAULT_CONTEXT, m.max_context) if options.context is None else options.context
    if not 1 <= context <= m.max_context:
        raise FitQueryError(
            f"context must be 1 … {m.max_context} tokens for {m.name}, not {context}"
        )
    if options.batch < 1:
        raise FitQueryError(f"batch must be at least 1, not {options.batch}")
    prompt = context if options.prompt is None else options.prompt
    if not 1 <= prompt <= context:
        raise FitQueryError(f"prompt must be 1 … {context} tokens (the context), not {prompt}")
    if options.ram_gib < 0 or options.ram_bandwidth_gbps <= 0:
        raise FitQueryError("system RAM must be ≥ 0 GiB and its bandwidth > 0 GB/s")
    ram = round(options.ram_gib * GIB)
    placeholder = next(iter(catalog.gpus.values()), None)
    if placeholder is None:
        raise FitQueryError("the catalog has no GPUs")
    return Setup(m, q, placeholder, None, runtime, kv, context, options.batch, prompt, ram,
                 options.ram_bandwidth_gbps)  # fmt: skip


def runtimes_on(catalog: Catalog, quant: Quantization, gpu: GPU) -> list[Runtime]:
    """The runtimes that load ``quant`` and run on ``gpu``'s platform, in the format's order."""
    return [
        catalog.runtimes[r] for r in quant.runtimes if gpu.platform in catalog.runtimes[r].platforms
    ]


def _resolve_kv(catalog: Catalog, runtime: Runtime, kv_dtype: str | None) -> KVDtype:
    kv = _lookup(catalog.kv_dtypes, kv_dtype or runtime.default_kv_dtype, "KV cache dtype")
    if kv.id not in runtime.kv_dtypes:
        raise FitQueryError(
            f"{runtime.name} has no {kv.id} KV cache; it offers: {', '.join(runtime.kv_dtypes)}"
        )
    return kv


def compute_sizing(setup: Setup) -> Sizing:
    """The setup's memory figures that no card changes."""
    model = setup.model
    arch = model.architecture
    weights = estimate_weights(model, setup.quant, gguf=setup.runtime.launcher == "llama-cpp")
    kv = compute_kv_layout(arch, setup.kv.bits_per_element, setup.honours_window)
    return Sizing(
        weights=weights.total,
        active_weights=weights.active(arch.experts, arch.experts_per_token),
        kv=kv,
        batch=setup.batch,
        runtime=setup.runtime,
        context=setup.context,
        max_context=model.max_context,
        kv_cache=kv.cache_bytes(setup.context, setup.batch),
        kv_cache_shortest=kv.cache_bytes(1, setup.batch),
        kv_cache_longest=kv.cache_bytes(model.max_context, setup.batch),
        kv_read=kv.cache_bytes(setup.context, 1),
        kv_read_at_start=kv.cache_bytes(1, 1),
        arch=model.architecture,
        shapes=make_shapes(weights, arch.tie_word_embeddings),
    )


def compute_memory(setup: Setup, cards: int, context: int | None = None) -> MemoryBreakdown:
    """Weights + KV cache + runtime overhead for ``cards`` cards, in bytes."""
    return compute_sizing(setup).memory_at(cards, setup.context if context is None else context)


def compute_fit(
    setup: Setup, cards: int, sizing: Sizing | None = None, capacity: Capacity | None = None
) -> FitResult:
    """Everything the site shows for one setup on ``cards`` identical cards.

    ``sizing`` (``compute_sizing(setup)``) and ``capacity`` (of ``cards`` cards), when the
    caller already has them, save working them out again.
    """
    sizing = compute_sizing(setup) if sizing is None else sizing
    if capacity is None:
        capacity = compute_capacity(setup.gpu, setup.link, cards)
    memory = sizing.memory(cards)
    need = sizing.need(cards) if setup.runs_here else None
    verdict = _verdict(setup, cards, need, memory.total <= capacity.effective)
    decode, decode_at_start = _decode_speeds(setup, sizing, cards, capacity)
    cost = compute_cost_per_hour(setup.gpu.price_per_hour_usd, cards)
    prefill = _prefill_speed(setup, cards, capacity)
    # Positional, in field order: keywords would add 4 % to the matrix's time.
    return FitResult(
        setup, cards, memory, capacity, verdict, decode, cost, decode_at_start, prefill, need
    )


def _verdict(setup: Setup, cards: int, need: int | None, pooled_ok: bool) -> Verdict:
    if not setup.runs_here:
        return Verdict.NO_RUNTIME
    gpu = setup.gpu
    headroom = None if need is None else setup.card_limit - need
    planning_ok = pooled_ok and cards <= gpu.max_gpus
    return decide_verdict(headroom, setup.card_capacity, cards, gpu.node_max_gpus, planning_ok)


def compute_min_gpus(setup: Setup, sizing: Sizing | None = None) -> int | None:
    """The smallest card count (1 … the physical limit) whose every card holds its share."""
    if not setup.runs_here:
        return None
    sizing = compute_sizing(setup) if sizing is None else sizing
    return find_min_cards(sizing, setup.card_limit, setup.gpu.node_max_gpus)


def compute_max_sequences(setup: Setup, cards: int, sizing: Sizing | None = None) -> int:
    """The most concurrent sequences of the setup's context that ``cards`` cards hold."""
    if not setup.runs_here or cards > setup.gpu.node_max_gpus:
        return 0
    sizing = compute_sizing(setup) if sizing is None else sizing
    layout = sizing.layout(cards)
    return 0 if layout is None else layout.max_sequences(setup.context, setup.card_limit)


def compute_max_context(setup: Setup, cards: int, sizing: Sizing | None = None) -> int:
    """The longest context (tokens, up to the model's maximum) that fits on ``cards``; 0 if none."""
    if cards > setup.gpu.node_max_gpus or not setup.runs_here:
        return 0
    sizing = compute_sizing(setup) if sizing is None else sizing
    return find_max_context(sizing, cards, setup.card_limit)


def render_commands(
    result: FitResult, catalog: Catalog, sizing_of: Callable[[Setup], Sizing] = compute_sizing
) -> dict[str, str]:
    """Launch commands by runtime id, for every runtime that loads this quantization, runs on
    the card's platform and fits under its own layout. ``sizing_of`` may serve sizings from a
    cache (the matrix keeps one per model, quantization and runtime)."""
    s = result.setup
    commands = {}
    for runtime in runtimes_on(catalog, s.quant, s.gpu):
        kv = s.kv.id if s.kv.id in runtime.kv_dtypes else runtime.default_kv_dtype
        setup = s if runtime is s.runtime else _with_runtime(s, runtime, catalog.kv_dtypes[kv])
        placement = compute_placement(setup, result.cards, sizing_of(setup))
        if placement is None or not placement.fits:
            continue
        shares = tuple(c.weights + c.kv_cache for c in placement.cards)
        text = render_command(
            s.model, s.quant, runtime, kv, result.cards, s.context, s.batch, shares
        )
        if text is not None:
            commands[runtime.id] = text
    return commands


def _with_runtime(setup: Setup, runtime: Runtime, kv: KVDtype) -> Setup:
    return Setup(setup.model, setup.quant, setup.gpu, setup.link, runtime, kv, setup.context,
                 setup.batch, setup.prompt, setup.ram_bytes, setup.ram_bandwidth_gbps)  # fmt: skip


def compute_placement(setup: Setup, cards: int, sizing: Sizing | None = None) -> Placement | None:
    """What each card holds under the setup's runtime at the setup's context, or None when it
    cannot shard this way (a runtime without pipeline stages needs the cards to divide the
    attention heads) or does not run on the card.

    ``sizing`` (``compute_sizing(setup)``), when the caller has it, saves working it out.
    """
    if not setup.runs_here:
        return None
    sizing = compute_sizing(setup) if sizing is None else sizing
    layout = sizing.layout(cards)
    if layout is None:
        return None
    return layout.place(setup.context, setup.card_capacity, setup.runtime.memory_utilization)


def kv_growth_per_token(setup: Setup) -> int:
    """KV bytes each token adds past any sliding window, for one sequence."""
    return kv_bytes_per_token(
        setup.model.architecture, setup.kv.bits_per_element, setup.honours_window
    )


def _prefill_speed(setup: Setup, cards: int, capacity: Capacity) -> float | None:
    gpu = setup.gpu
    fp8 = setup.quant.id == "fp8" and gpu.fp8_tflops is not None
    tflops = gpu.fp8_tflops if fp8 else gpu.fp16_tflops
    if tflops is None:
        return None
    if setup.runtime.split == "tensor" and cards > 1:
        tflops *= cards * capacity.scaling_factor
    active_b = setup.model.active_params_b or setup.model.params_b
    return estimate_prefill_tokens_per_s(active_b, tflops, setup.runtime.prefill_efficiency)


def compute_offload(setup: Setup, cards: int, sizing: Sizing | None = None) -> Offload | None:
    """The faster llama.cpp plan that splits the model between the cards and system RAM, or
    None when it fits without one, the runtime cannot offload, or the memory is unified.

    ``sizing`` (``compute_sizing(setup)``), when the caller has it, saves working it out.
    """
    if setup.runtime.launcher != "llama-cpp" or setup.gpu.gpu_class == "unified":
        return None
    sizing = compute_sizing(setup) if sizing is None else sizing
    memory = sizing.memory(cards)
    placement = compute_placement(setup, cards, sizing)
    if placement is None or placement.fits:
        return None
    arch = setup.model.architecture
    shapes = sizing.shapes
    tiers = Tiers(
        placement.card_capacity, cards, placement.cards[0].overhead,
        round(shapes.head_weights),
        setup.gpu.memory_bandwidth_gbps, setup.ram_bytes, setup.ram_bandwidth_gbps,
    )  # fmt: skip
    layer_active = shapes.layer_weights * sizing.active_weights / sizing.weights
    kv_read = estimate_kv_cache_bytes(
        arch, setup.context, 1, setup.kv.bits_per_element, setup.honours_window
    )
    rt = setup.runtime
    plans = [
        plan_layer_offload(
            arch.layers, shapes.layer_weights, layer_active, memory.kv_cache / arch.layers,
            placement.host_weights, tiers, rt.decode_efficiency, rt.decode_step_overhead_ms,
        )
    ]  # fmt: skip
    if shapes.routed_experts > 0:
        plans.append(_cpu_moe_plan(setup, sizing, cards, placement, tiers, kv_read))
    usable = [p for p in plans if p is not None and p.fits]
    candidates = usable or [p for p in plans if p is not None]
    return max(candidates, key=lambda p: p.decode_tokens_per_s, default=None)


def _cpu_moe_plan(
    setup: Setup, sizing: Sizing, cards: int, placement: Placement, tiers: Tiers, kv_read: int
) -> Offload | None:
    """llama.cpp's ``--n-cpu-moe N`` with the smallest N whose remaining layers fit each card."""
    rt, shapes, limit = setup.runtime, sizing.shapes, setup.card_limit
    fixed = round(rt.per_gpu_overhead_mib * MIB) + round(rt.compute_buffer_mib * MIB)

    def layout(n: int) -> Layout:
        lighter = without_experts(shapes, n)
        return plan_layer_split(
            lighter, sizing.kv, sizing.batch, cards, fixed, rt.compute_buffer_bytes_per_token
        )

    n = solve_cpu_moe_layers(lambda n: layout(n).need(setup.context) <= limit, shapes.layers)
    if n is None:
        return None
    in_ram = shapes.routed_prefix[n]
    arch = setup.model.architecture
    share = (arch.experts_per_token or 0) / (arch.experts or 1)
    gpu_bytes = sizing.weights - in_ram - placement.host_weights + sizing.kv_cache
    return plan_cpu_moe(
        n, gpu_bytes, in_ram + placement.host_weights, sizing.active_weights - in_ram * share
        + kv_read, in_ram * share, tiers, rt.decode_efficiency, rt.decode_step_overhead_ms,
        shapes.layers,
    )  # fmt: skip


def _decode_speeds(
    setup: Setup, sizing: Sizing, cards: int, capacity: Capacity
) -> tuple[float, float]:
    """Tokens/s of each sequence at the setup's context and with an empty cache."""
    runtime = setup.runtime
    bandwidth = effective_bandwidth_gbps(
        setup.gpu.memory_bandwidth_gbps, cards, runtime.split, capacity.scaling_factor
    )
    rest = (bandwidth, runtime.decode_efficiency, runtime.decode_step_overhead_ms, setup.batch)
    return (
        estimate_decode_tokens_per_s(sizing.active_weights, sizing.kv_read, *rest),
        estimate_decode_tokens_per_s(sizing.active_weights, sizing.kv_read_at_start, *rest),
    )


def _lookup(table: dict[str, T], ident: str, noun: str) -> T:
    """The entry for ``ident``; ids are lowercase slugs, so 'Q4_K_M' finds 'q4_k_m'."""
    found = table.get(ident) or table.get(ident.strip().lower())
    if found is not None:
        return found
    raise FitQueryError(f"unknown {noun} {ident!r}{suggest(ident.strip().lower(), table)}")
