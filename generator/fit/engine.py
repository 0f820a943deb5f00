"""Fit engine, one configuration: resolve ids, then memory, capacity, verdict, speed, cost. Pure.

``answer_fit`` is what ``fitatlas fit`` prints; the matrix and every page use the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from generator.fit.commands import per_card_share_gib, render_command
from generator.fit.memory import (
    GIB,
    MIB,
    MemoryBreakdown,
    estimate_kv_cache_bytes,
    estimate_overhead_bytes,
    estimate_weight_bytes,
    kv_bytes_per_token,
)
from generator.fit.offload import (
    Offload,
    Tiers,
    plan_expert_offload,
    plan_layer_offload,
    split_moe_params,
)
from generator.fit.placement import (
    Placement,
    place_layer_split,
    place_tensor_parallel,
    split_weights,
)
from generator.fit.speed import (
    compute_cost_per_hour,
    compute_cost_per_million_tokens,
    effective_bandwidth_gbps,
    estimate_decode_tokens_per_s,
    estimate_prefill_tokens_per_s,
    estimate_time_to_first_token_s,
)
from generator.fit.verdict import Capacity, Verdict, compute_capacity, decide_verdict

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

    @property
    def bits_per_weight(self) -> float:
        """This model's average bits per weight at this quantization."""
        return self.model.bits_per_weight(self.quant)

    @property
    def honours_window(self) -> bool:
        """Whether the runtime keeps only the window for sliding-window layers."""
        return self.runtime.sliding_window_cache


@dataclass(frozen=True)
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

    @property
    def fits(self) -> bool:
        return self.verdict.fits

    @property
    def time_to_first_token_s(self) -> float | None:
        """Seconds to read the prompt and produce the first token."""
        if self.prefill_tokens_per_s is None:
            return None
        return estimate_time_to_first_token_s(
            self.setup.prompt, self.prefill_tokens_per_s, self.decode_tokens_per_s_at_start
        )

    @property
    def headroom(self) -> int:
        return self.capacity.effective - self.memory.total

    @property
    def aggregate_tokens_per_s(self) -> float:
        return self.decode_tokens_per_s * self.setup.batch

    @property
    def cost_per_million_tokens_usd(self) -> float | None:
        return compute_cost_per_million_tokens(self.cost_per_hour_usd, self.aggregate_tokens_per_s)


def resolve_setup(catalog: Catalog, model: str, quant: str, gpu: str, options: Options) -> Setup:
    """Look up every id and apply defaults; raise FitQueryError naming the first bad input."""
    m = _lookup(catalog.models, model, "model")
    q = _lookup(catalog.quantizations, quant, "quantization")
    g = _lookup(catalog.gpus, gpu, "GPU")
    if q.id not in m.quantizations:
        raise FitQueryError(
            f"{m.name} is not published as {q.id}; available: {', '.join(m.quantizations)}"
        )
    runtime = _lookup(catalog.runtimes, options.runtime or q.runtimes[0], "runtime")
    if runtime.id not in q.runtimes:
        raise FitQueryError(
            f"{runtime.name} does not load {q.name}; it loads in: {', '.join(q.runtimes)}"
        )
    kv = _lookup(catalog.kv_dtypes, options.kv_dtype or runtime.default_kv_dtype, "KV cache dtype")
    if kv.id not in runtime.kv_dtypes:
        raise FitQueryError(
            f"{runtime.name} has no {kv.id} KV cache; it offers: {', '.join(runtime.kv_dtypes)}"
        )
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
    link = catalog.interconnect_of(g)
    ram = round(options.ram_gib * GIB)
    return Setup(m, q, g, link, runtime, kv, context, options.batch, prompt, ram,
                 options.ram_bandwidth_gbps)  # fmt: skip


def compute_memory(setup: Setup, cards: int, context: int | None = None) -> MemoryBreakdown:
    """Weights + KV cache + runtime overhead for ``cards`` cards, in bytes."""
    ctx = setup.context if context is None else context
    return MemoryBreakdown(
        weights=estimate_weight_bytes(setup.model.params_b, setup.bits_per_weight),
        kv_cache=estimate_kv_cache_bytes(
            setup.model.architecture,
            ctx,
            setup.batch,
            setup.kv.bits_per_element,
            setup.honours_window,
        ),
        overhead=estimate_overhead_bytes(setup.runtime, cards, ctx),
    )


def compute_fit(setup: Setup, cards: int) -> FitResult:
    """Everything the site shows for one setup on ``cards`` identical cards."""
    memory = compute_memory(setup, cards)
    capacity = compute_capacity(setup.gpu, setup.link, cards)
    verdict = decide_verdict(memory.total, capacity, setup.gpu.max_gpus)
    return FitResult(
        setup=setup,
        cards=cards,
        memory=memory,
        capacity=capacity,
        verdict=verdict,
        decode_tokens_per_s=_decode_speed(setup, cards, capacity),
        cost_per_hour_usd=compute_cost_per_hour(setup.gpu.price_per_hour_usd, cards),
        decode_tokens_per_s_at_start=_decode_speed(setup, cards, capacity, context=1),
        prefill_tokens_per_s=_prefill_speed(setup, cards, capacity),
    )


def compute_min_gpus(setup: Setup) -> int | None:
    """The smallest card count (1 … the card's maximum) that fits, or None."""
    for cards in range(1, setup.gpu.max_gpus + 1):
        if _fits(setup, cards, setup.context):
            return cards
    return None


def compute_max_context(setup: Setup, cards: int) -> int:
    """The longest context (tokens, up to the model's maximum) that fits on ``cards``; 0 if none.

    Memory never shrinks as context grows and is linear between the sliding-window kink points,
    so an interpolation search (with bisection when interpolation stalls) finds the exact
    boundary in a handful of evaluations. Invariant: ``low`` fits, ``high`` does not.
    """
    if cards > setup.gpu.max_gpus:
        return 0
    capacity = compute_capacity(setup.gpu, setup.link, cards).effective

    def need(context: int) -> int:
        return compute_memory(setup, cards, context).total

    low, high = 1, setup.model.max_context
    need_low, need_high = need(low), need(high)
    if need_low > capacity:
        return 0
    if need_high <= capacity:
        return high
    bisect = False
    while high - low > 1:
        width = high - low
        slope = (need_high - need_low) / width
        if bisect or slope <= 0:
            guess = (low + high) // 2
        else:
            guess = min(max(low + int((capacity - need_low) / slope), low + 1), high - 1)
        need_guess = need(guess)
        if need_guess <= capacity:
            low, need_low = guess, need_guess
        else:
            high, need_high = guess, need_guess
        # Interpolation can crawl on a bent curve: bisect next whenever it gained too little.
        bisect = not bisect and (high - low) * 2 > width
    return low


def render_commands(result: FitResult, catalog: Catalog) -> dict[str, str]:
    """Launch commands by runtime id, for every runtime that loads this quantization."""
    s = result.setup
    share = per_card_share_gib(result.memory.weights, result.memory.kv_cache, result.cards)
    commands = {}
    for runtime_id in s.quant.runtimes:
        runtime = catalog.runtimes[runtime_id]
        kv = s.kv.id if s.kv.id in runtime.kv_dtypes else runtime.default_kv_dtype
        text = render_command(
            s.model, s.quant, runtime, kv, result.cards, s.context, s.batch, share
        )
        if text is not None:
            commands[runtime_id] = text
    return commands


def compute_placement(setup: Setup, cards: int) -> Placement | None:
    """What each card holds under the setup's runtime, or None when it cannot shard this way
    (a runtime without pipeline stages needs the cards to divide the attention heads)."""
    runtime = setup.runtime
    arch = setup.model.architecture
    memory = compute_memory(setup, cards)
    capacity = round(setup.gpu.vram_gib * setup.gpu.usable_vram_fraction * GIB)
    shapes = split_weights(arch, setup.model.params_b, setup.bits_per_weight)
    per_card = round(runtime.per_gpu_overhead_mib * MIB)
    buffer = round(runtime.compute_buffer_mib * MIB) + round(
        runtime.compute_buffer_bytes_per_token * setup.context
    )
    if runtime.split == "layer":
        return place_layer_split(shapes, memory, cards, capacity, per_card, buffer)
    if not runtime.pipeline_parallel and arch.attention_heads % cards:
        return None
    return place_tensor_parallel(
        arch, shapes, cards, setup.context, setup.batch, setup.kv.bits_per_element, capacity,
        per_card, buffer, runtime.memory_utilization, setup.honours_window,
    )  # fmt: skip


def kv_growth_per_token(setup: Setup) -> int:
    """KV bytes each token adds past any sliding window, for one sequence."""
    return kv_bytes_per_token(
        setup.model.architecture, setup.kv.bits_per_element, setup.honours_window
    )


def _fits(setup: Setup, cards: int, context: int) -> bool:
    if cards > setup.gpu.max_gpus:
        return False
    required = compute_memory(setup, cards, context).total
    return required <= compute_capacity(setup.gpu, setup.link, cards).effective


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


def compute_offload(setup: Setup, cards: int) -> Offload | None:
    """The faster llama.cpp plan that splits the model between the cards and system RAM, or
    None when it fits without one, the runtime cannot offload, or the memory is unified."""
    placement = compute_placement(setup, cards)
    if setup.runtime.launcher != "llama-cpp" or setup.gpu.gpu_class == "unified":
        return None
    if placement is None or placement.fits:
        return None
    arch = setup.model.architecture
    shapes = split_weights(arch, setup.model.params_b, setup.bits_per_weight)
    memory = compute_memory(setup, cards)
    tiers = Tiers(
        placement.card_capacity, cards, placement.cards[0].overhead,
        round(shapes.head_weights),
        setup.gpu.memory_bandwidth_gbps, setup.ram_bytes, setup.ram_bandwidth_gbps,
    )  # fmt: skip
    active_b = setup.model.active_params_b or setup.model.params_b
    layer_active = shapes.layer_weights * active_b / setup.model.params_b
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
    shared_b, routed_b = split_moe_params(setup.model)
    if routed_b > 0:
        scale = setup.bits_per_weight / 8 * 1e9
        share = (arch.experts_per_token or 0) / (arch.experts or 1)
        plans.append(plan_expert_offload(
            arch.layers, shared_b * scale, routed_b * scale, routed_b * share * scale,
            memory.kv_cache, kv_read, tiers, rt.decode_efficiency, rt.decode_step_overhead_ms,
        ))  # fmt: skip
    usable = [p for p in plans if p is not None and p.fits]
    candidates = usable or [p for p in plans if p is not None]
    return max(candidates, key=lambda p: p.decode_tokens_per_s, default=None)


def _decode_speed(
    setup: Setup, cards: int, capacity: Capacity, context: int | None = None
) -> float:
    arch = setup.model.architecture
    active_b = setup.model.active_params_b or setup.model.params_b
    active = estimate_weight_bytes(active_b, setup.bits_per_weight)
    kv_read = estimate_kv_cache_bytes(
        arch, context or setup.context, 1, setup.kv.bits_per_element, setup.honours_window
    )
    bandwidth = effective_bandwidth_gbps(
        setup.gpu.memory_bandwidth_gbps, cards, setup.runtime.split, capacity.scaling_factor
    )
    runtime = setup.runtime
    return estimate_decode_tokens_per_s(
        active,
        kv_read,
        bandwidth,
        runtime.decode_efficiency,
        runtime.decode_step_overhead_ms,
        setup.batch,
    )


def _lookup(table: dict[str, T], ident: str, noun: str) -> T:
    if ident in table:
        return table[ident]
    raise FitQueryError(f"unknown {noun} {ident!r}{suggest(ident, table)}")
