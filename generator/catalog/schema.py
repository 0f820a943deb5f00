"""Catalog schema: a frozen, strict pydantic model per catalog kind, and ``Catalog``. No I/O.

Each field carries its unit in its name (``_gib``, ``_gbps``, ``_b``) and a one-line description.
A model's validators check only that entry. The checks between entries (an id that names no
entry, duplicate ids, a measurement the engine could not estimate) run in the loader, in
generator/catalog/references.py, where each problem gets its file and line; the loader builds a
``Catalog`` only from entries that pass both, so a catalog that loads is one the fit engine can
trust.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field, Strict, StringConstraints, model_validator

from generator.catalog.architecture import Architecture
from generator.catalog.fields import (
    Day,
    Entity,
    Flag,
    Fraction,
    NonNegative,
    Positive,
    PositiveInt,
    Slug,
    Text,
)
from generator.catalog.measurement import Measurement

GPUClass = Literal["datacenter", "workstation", "consumer", "unified"]
#: The software stack a card runs kernels on: what decides which runtimes exist for it.
#: cuda-unified is CUDA on an integrated GPU sharing memory with Arm cores (DGX Spark, Jetson).
Platform = Literal["cuda", "cuda-unified", "rocm", "metal", "xpu", "gaudi"]
SplitMode = Literal["layer", "tensor"]


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' naming up to three close ids, or '' when nothing is close.

    Ids that contain the word come first ('h100' → 'h100-sxm', 'h100-pcie'), then spelling
    neighbours.
    """
    pool = list(choices)
    close = [c for c in pool if word and word in c]
    close += [c for c in difflib.get_close_matches(word, pool, n=3, cutoff=0.6) if c not in close]
    if not close:
        return ""
    return f" (did you mean {' or '.join(repr(c) for c in close[:3])}?)"


#: Per-tensor recipes the fit engine knows (generator/fit/tensors.py): llama.cpp file types, then
#: safetensors layouts.
Recipe = Literal[
    "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S",
    "Q4_1", "Q4_0", "IQ4_NL", "IQ4_XS", "Q3_K_L", "Q3_K_M", "Q3_K_S", "IQ3_M", "IQ3_S",
    "IQ3_XS", "IQ3_XXS", "Q2_K", "Q2_K_S", "IQ2_M", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ1_M",
    "IQ1_S", "MXFP4_MOE",
    "bf16", "fp8", "int4-awq", "int4-gptq", "mxfp4",
]  # fmt: skip
SAFETENSORS_RECIPES = ("bf16", "fp8", "int4-awq", "int4-gptq", "mxfp4")


class Interconnect(Entity):
    """A link between cards, with the seed's default scaling factor."""

    id: Slug
    name: Text
    bandwidth_gbps: Positive = Field(description="Per-GPU bandwidth, GB/s, both directions summed")
    scaling_factor: Fraction = Field(description="Share of n x VRAM usable as one pool (seed rule)")
    source: Text


class GPU(Entity):
    """One accelerator model as sold; memory in vendor GB, which are GiB for HBM/GDDR cards."""

    id: Slug
    name: Text
    vendor: Text
    gpu_class: GPUClass = Field(alias="class", description="Market segment shown in filters")
    vram_gib: Positive = Field(description="Memory per card as sold ('80GB' = 80 GiB)")
    usable_vram_fraction: Fraction = Field(
        1.0, description="Share of memory the GPU may use; below 1 only for unified memory"
    )
    memory_type: Text
    memory_bandwidth_gbps: Positive = Field(description="Peak memory bandwidth, decimal GB/s")
    fp16_tflops: Positive | None = Field(None, description="Dense FP16/BF16 tensor TFLOPS")
    fp8_tflops: Positive | None = Field(None, description="Dense FP8 tensor TFLOPS, if accelerated")
    interconnect: Slug | None = Field(None, description="Interconnect id; none for single-card")
    interconnect_bandwidth_gbps: Positive | None = Field(
        None, description="Overrides the interconnect's bandwidth for this card"
    )
    scaling_factor: Fraction | None = Field(
        None, description="Overrides the interconnect's factor for this card (seed table)"
    )
    platform: Platform = Field(description="Kernel stack that decides which runtimes run here")
    max_gpus: PositiveInt = Field(
        1, description="Recommended largest card count (seed table): the planning margin"
    )
    node_max_gpus: PositiveInt = Field(
        description="Physical limit: cards one server, rig or NVLink domain holds (1 = unified)"
    )
    price_per_hour_usd: Positive | None = Field(None, description="Cloud price per card-hour")
    price_source: Text | None = None
    price_is_estimate: Flag = False
    sources: tuple[Text, ...] = Field(min_length=1)
    notes: Text | None = None

    @model_validator(mode="after")
    def _multi_gpu_needs_link(self) -> GPU:
        if max(self.max_gpus, self.node_max_gpus) > 1 and self.interconnect is None:
            raise ValueError("max_gpus or node_max_gpus > 1 needs an interconnect")
        if self.max_gpus > self.node_max_gpus:
            raise ValueError("max_gpus (recommended) exceeds node_max_gpus (physical)")
        if self.price_per_hour_usd is not None and self.price_source is None:
            raise ValueError("price_per_hour_usd needs a price_source")
        return self


class Model(Entity):
    """An open-weights LLM and the quantizations published for it."""

    id: Slug
    name: Text
    family: Text
    hf_repo: Annotated[str, Strict(), StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")]
    license: Text
    release_date: Day
    params_b: Positive = Field(description="Total parameters, billions (all experts)")
    active_params_b: Positive | None = Field(None, description="Parameters per token (MoE)")
    native_dtype: Text
    max_context: PositiveInt = Field(description="Tokens, as max_position_embeddings")
    architecture: Architecture
    quantizations: tuple[Slug, ...] = Field(min_length=1)
    bits_per_weight_overrides: dict[Slug, Positive] = Field(
        default_factory=dict,
        description="Measured average bits/weight of this model's files where the format's "
        "average misleads (e.g. MXFP4 experts with BF16 attention); cite it in sources",
    )
    sources: tuple[Text, ...] = Field(min_length=1)
    notes: Text | None = None

    def bits_per_weight(self, quant: Quantization) -> float:
        """This model's average bits per weight at ``quant``."""
        return self.bits_per_weight_overrides.get(quant.id, quant.bits_per_weight)

    @model_validator(mode="after")
    def _consistent(self) -> Model:
        unknown = set(self.bits_per_weight_overrides) - set(self.quantizations)
        if unknown:
            raise ValueError(
                f"bits_per_weight_overrides names unlisted quantizations {sorted(unknown)}"
            )
        if self.active_params_b is not None and self.active_params_b > self.params_b:
            raise ValueError("active_params_b exceeds params_b")
        is_moe = self.architecture.experts is not None
        if is_moe != (self.active_params_b is not None):
            raise ValueError("MoE models (experts set) need active_params_b, dense ones none")
        return self


class Quantization(Entity):
    """A weight format: average bits per weight, and which runtimes load it."""

    id: Slug
    name: Text
    bits_per_weight: Positive = Field(description="Average over all tensors, scales included")
    quality_rank: PositiveInt = Field(description="1 = closest to the original weights")
    format: Literal["safetensors", "gguf", "exl2", "mlx"]
    runtimes: tuple[Slug, ...] = Field(min_length=1)
    source: Text
    recipe: Recipe | None = Field(
        None,
        description="How the file types each tensor: a llama.cpp file type (ftype) for GGUF, "
        "or a safetensors layout; None sizes the file by bits_per_weight alone (EXL2)",
    )
    embed_output_type: Literal["Q8_0"] | None = Field(
        None,
        description="Type of the token embeddings and output tensor when the publisher "
        "overrides it (bartowski's _L / _XL files: Q8_0)",
    )
    common: Flag = Field(
        False, description="Shown first on pages; the other formats sit behind a disclosure"
    )

    @model_validator(mode="after")
    def _recipe_matches_format(self) -> Quantization:
        gguf = self.recipe is not None and self.recipe not in SAFETENSORS_RECIPES
        if self.recipe is not None and gguf != (self.format == "gguf"):
            raise ValueError(f"recipe {self.recipe} does not describe a {self.format} file")
        if self.embed_output_type is not None and not gguf:
            raise ValueError("embed_output_type needs a GGUF recipe")
        return self


class KVDtype(Entity):
    """A KV cache element type, with its real size including block scales."""

    id: Slug
    name: Text
    bits_per_element: Positive
    source: Text


class Runtime(Entity):
    """An inference engine: how it splits a model, what memory it adds, how fast it decodes."""

    id: Slug
    name: Text
    split: SplitMode = Field(
        description="layer: whole layers per card; tensor: every layer sharded"
    )
    kv_dtypes: tuple[Slug, ...] = Field(min_length=1)
    default_kv_dtype: Slug
    per_gpu_overhead_mib: NonNegative = Field(
        description="CUDA context and runtime state on every card, MiB"
    )
    compute_buffer_mib: NonNegative = Field(
        description="Activation / compute buffer independent of context, MiB (once)"
    )
    compute_buffer_bytes_per_token: NonNegative = Field(
        description="Compute buffer growth per context token, bytes"
    )
    memory_utilization: Fraction = Field(
        description="Share of each card the runtime claims (vLLM's gpu_memory_utilization)"
    )
    pipeline_parallel: Flag = Field(
        description="Whether it can add pipeline stages when cards do not divide the heads"
    )
    sliding_window_cache: Flag = Field(
        description="Whether windowed layers keep only their window (else full length)"
    )
    decode_efficiency: Fraction = Field(description="Share of memory bandwidth reached in decode")
    prefill_efficiency: Fraction = Field(description="Share of tensor TFLOPS reached in prefill")
    decode_step_overhead_ms: NonNegative = Field(
        description="Fixed time per decode step (launches, sampling, sync), milliseconds"
    )
    platforms: tuple[Platform, ...] = Field(
        min_length=1, description="Kernel stacks the runtime runs on (cuda, rocm, metal, ...)"
    )
    launcher: Literal["vllm", "tgi", "llama-cpp", "exllamav2", "mlx"] = Field(
        description="Which flag style the engine writes after the command"
    )
    command: Text = Field(description="Base command; {repo} and {local} are filled in")
    docs_url: Text
    sources: tuple[Text, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_kv_listed(self) -> Runtime:
        if self.default_kv_dtype not in self.kv_dtypes:
            raise ValueError(f"default_kv_dtype {self.default_kv_dtype!r} not in kv_dtypes")
        return self


@dataclass(frozen=True)
class Catalog:
    """The validated catalog: entries in file order, looked up by id.

    ``load_catalog`` builds it only from entries that passed their schema and the checks between
    entries (generator/catalog/references.py).
    """

    interconnects: dict[str, Interconnect]
    gpus: dict[str, GPU]
    models: dict[str, Model]
    quantizations: dict[str, Quantization]
    kv_dtypes: dict[str, KVDtype]
    runtimes: dict[str, Runtime]
    measurements: dict[str, Measurement] = field(default_factory=dict)
    #: Where each entry was read, by (kind, id): "catalog/measurements.yaml:1005".
    locations: dict[tuple[str, str], str] = field(default_factory=dict, compare=False)

    def interconnect_of(self, gpu: GPU) -> Interconnect | None:
        """The interconnect a card uses, or None for single-card products."""
        return self.interconnects[gpu.interconnect] if gpu.interconnect else None
