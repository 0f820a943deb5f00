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
    compute_kv_layout,
    estimate_kv_cache_bytes,
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
from generator.fit.sizing import Sizing, find_max_context, find_min_cards
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
    Capacity,
    Verdict,
    compute_capacities,
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

    @property
    def bits_per_weight(self) -> float:
        """This model's average bits per weight at this quantization."""
        return self.model.bits_per_weight(self.quant)

    @property
    def honours_window(self) -> bool:
        """Whether the runtime keeps only the window for sliding-window layers."""
        return self.runtime.sliding_window_cache

    def with_gpu(self, gpu: GPU, link: Interconnect | None) -> Setup:
        """The same query on another card (no other choice depends on the card)."""
        # Not dataclasses.replace(), which takes three times as long: the matrix makes one
        # setup per cell.
        return Setup(self.model, self.quant, gpu, link, self.runtime, self.kv, self.context,
                     self.batch, self.prompt, self.ram_bytes, self.ram_bandwidth_gbps)  # fmt: skip


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
    verdict = decide_verdict(memory.total, capacity, setup.gpu.max_gpus)
    decode, decode_at_start = _decode_speeds(setup, sizing, cards, capacity)
    cost = compute_cost_per_hour(setup.gpu.price_per_hour_usd, cards)
    prefill = _prefill_speed(setup, cards, capacity)
    # Positional, in field order: keywords would add 4 % to the matrix's time.
    return FitResult(
        setup, cards, memory, capacity, verdict, decode, cost, decode_at_start, prefill
    )


def compute_min_gpus(setup: Setup) -> int | None:
    """The smallest card count (1 … the card's maximum) that fits, or None."""
    capacities = compute_capacities(setup.gpu, setup.link)
    return find_min_cards(compute_sizing(setup), capacities)


def compute_max_context(setup: Setup, cards: int) -> int:
    """The longest context (tokens, up to the model's maximum) that fits on ``cards``; 0 if none."""
    if cards > setup.gpu.max_gpus:
        return 0
    capacity = compute_capacity(setup.gpu, setup.link, cards).effective
    return find_max_context(compute_sizing(setup), cards, capacity)


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


def compute_placement(
    setup: Setup, cards: int, memory: MemoryBreakdown | None = None
) -> Placement | None:
    """What each card holds under the setup's runtime, or None when it cannot shard this way
    (a runtime without pipeline stages needs the cards to divide the attention heads).

    ``memory`` (``compute_memory(setup, cards)``), when the caller has it, saves working it out.
    """
    runtime = setup.runtime
    arch = setup.model.architecture
    memory = compute_memory(setup, cards) if memory is None else memory
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


def compute_offload(
    setup: Setup, cards: int, memory: MemoryBreakdown | None = None
) -> Offload | None:
    """The faster llama.cpp plan that splits the model between the cards and system RAM, or
    None when it fits without one, the runtime cannot offload, or the memory is unified.

    ``memory`` (``compute_memory(setup, cards)``), when the caller has it, saves working it out.
    """
    if setup.runtime.launcher != "llama-cpp" or setup.gpu.gpu_class == "unified":
        return None
    memory = compute_memory(setup, cards) if memory is None else memory
    placement = compute_placement(setup, cards, memory)
    if placement is None or placement.fits:
        return None
    arch = setup.model.architecture
    shapes = split_weights(arch, setup.model.params_b, setup.bits_per_weight)
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
    if ident in table:
        return table[ident]
    raise FitQueryError(f"unknown {noun} {ident!r}{suggest(ident, table)}")
