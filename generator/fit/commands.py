"""Fit engine, launch commands: the exact command line per runtime for a configuration. Pure.

Flags follow each project's documentation (sources in runtimes.yaml): vLLM
``--tensor-parallel-size``/``--pipeline-parallel-size``, TGI ``--num-shard``, llama.cpp
``-ngl``/``--tensor-split``, ExLlamaV2 ``-gs`` (GB per card).
"""

from __future__ import annotations

import math

from generator.catalog.schema import Model, Quantization, Runtime
from generator.fit.memory import GIB
from generator.fit.splits import plan_parallel_layout

#: vLLM's --quantization value for checkpoints it must be told about; fp8 quantizes on load.
VLLM_QUANT_FLAGS = {"fp8": "fp8", "awq-int4": "awq", "gptq-int4": "gptq"}
TGI_QUANT_FLAGS = {"fp8": "fp8", "awq-int4": "awq", "gptq-int4": "gptq"}
#: Where mlx-lm's converted checkpoints are published (mlx-community/<model>-4bit, -8bit).
MLX_COMMUNITY = "mlx-community"
#: Formats that need a pre-quantized checkpoint rather than the original repo.
PREQUANTIZED_SUFFIX = {"awq-int4": "AWQ", "gptq-int4": "GPTQ-Int4", "mxfp4": ""}
KV_FLAGS = {
    "vllm": {"fp8": "--kv-cache-dtype fp8"},
    "tgi": {"fp8": "--kv-cache-dtype fp8_e4m3fn"},
    "llama-cpp": {
        "q8_0": "-fa on --cache-type-k q8_0 --cache-type-v q8_0",
        "q4_0": "-fa on --cache-type-k q4_0 --cache-type-v q4_0",
    },
}


def render_command(
    model: Model,
    quant: Quantization,
    runtime: Runtime,
    kv_dtype: str,
    cards: int,
    context: int,
    batch: int,
    shares: tuple[int, ...],
) -> str | None:
    """The launch command, or None when this runtime cannot run the configuration.

    ``shares`` is what each card holds of the model (weights and KV cache), bytes.
    """
    if runtime.id not in quant.runtimes or kv_dtype not in runtime.kv_dtypes:
        return None
    base = render_base_command(model, quant, runtime)
    flags = _FLAG_BUILDERS[runtime.launcher](model, quant, kv_dtype, cards, context, batch, shares)
    return None if flags is None else " ".join([base, *flags])


def render_base_command(model: Model, quant: Quantization, runtime: Runtime) -> str:
    """The runtime's command with the model filled in, before any flag."""
    return runtime.command.format(
        repo=_repo(model, quant), local=_local_name(model, quant, runtime)
    )


def _repo(model: Model, quant: Quantization) -> str:
    if quant.format == "mlx":
        return f"{MLX_COMMUNITY}/{_basename(model)}-{quant.id.removeprefix('mlx-')}"
    if PREQUANTIZED_SUFFIX.get(quant.id):
        return f"./{_basename(model)}-{PREQUANTIZED_SUFFIX[quant.id]}"
    return model.hf_repo


def _basename(model: Model) -> str:
    return model.hf_repo.split("/", 1)[1]


def _local_name(model: Model, quant: Quantization, runtime: Runtime) -> str:
    # llama.cpp loads only GGUF files, 16-bit and MXFP4 weights included (converted or
    # downloaded as GGUF under the format's name).
    if quant.format == "gguf" or runtime.launcher == "llama-cpp":
        return f"{_basename(model)}-{quant.id.upper()}.gguf"
    if quant.format == "exl2":
        return f"./{_basename(model)}-{quant.id}"
    return f"./{_basename(model)}"


def _vllm_flags(
    model: Model, quant: Quantization, kv: str, cards: int, context: int, batch: int,
    _: tuple[int, ...],
) -> list[str]:  # fmt: skip
    layout = plan_parallel_layout(model.architecture, cards)
    flags = [f"--tensor-parallel-size {layout.tensor}"]
    if layout.pipeline > 1:
        flags.append(f"--pipeline-parallel-size {layout.pipeline}")
    flags.append(f"--max-model-len {context}")
    if quant.id in VLLM_QUANT_FLAGS:
        flags.append(f"--quantization {VLLM_QUANT_FLAGS[quant.id]}")
    if batch > 1:
        flags.append(f"--max-num-seqs {batch}")
    return flags + _kv_flags("vllm", kv)


def _tgi_flags(
    model: Model, quant: Quantization, kv: str, cards: int, context: int, batch: int,
    _: tuple[int, ...],
) -> list[str] | None:  # fmt: skip
    if model.architecture.attention_heads % cards:
        return None  # TGI shards heads evenly and has no pipeline stages to absorb the rest
    flags = [f"--num-shard {cards}", f"--max-input-tokens {context - 1}"]
    flags.append(f"--max-total-tokens {context}")
    if quant.id in TGI_QUANT_FLAGS:
        flags.append(f"--quantize {TGI_QUANT_FLAGS[quant.id]}")
    if batch > 1:
        flags.append(f"--max-concurrent-requests {batch}")
    return flags + _kv_flags("tgi", kv)


def _llama_cpp_flags(
    model: Model, quant: Quantization, kv: str, cards: int, context: int, batch: int,
    _: tuple[int, ...],
) -> list[str]:  # fmt: skip
    # llama-server splits -c across --parallel slots, so the total is context × sequences.
    flags = ["-ngl 999", f"-c {context * batch}"]
    if batch > 1:
        flags.append(f"--parallel {batch}")
    if cards > 1:
        flags.append("--tensor-split " + ",".join(["1"] * cards))
    return flags + _kv_flags("llama-cpp", kv)


def _exllamav2_flags(
    model: Model,
    quant: Quantization,
    kv: str,
    cards: int,
    context: int,
    batch: int,
    shares: tuple[int, ...],
) -> list[str]:
    flags = [f"-l {context}"]
    if cards > 1:
        # --gpu-split takes GB of weights and cache per card, each rounded up to 0.1 GB.
        split = ",".join(f"{math.ceil(share / GIB * 10) / 10:g}" for share in shares)
        flags.insert(0, f"-gs {split}")
    return flags


def _mlx_flags(
    model: Model, quant: Quantization, kv: str, cards: int, context: int, batch: int,
    _: tuple[int, ...],
) -> list[str]:  # fmt: skip
    # mlx_lm.server grows its cache with the conversation; it has no context-length flag.
    return []


def render_offload_command(
    model: Model, quant: Quantization, runtime: Runtime, kv: str, cards: int, context: int,
    batch: int, gpu_layers: int, cpu_moe_layers: int,
) -> str:  # fmt: skip
    """llama.cpp's command for a plan that keeps part of the model in system RAM: ``-ngl`` below
    the layer count, or every layer on the cards with ``--n-cpu-moe`` layers' experts in RAM."""
    flags = _llama_cpp_flags(model, quant, kv, cards, context, batch, ())
    if cpu_moe_layers:
        flags.insert(1, f"--n-cpu-moe {cpu_moe_layers}")
    else:
        flags[0] = f"-ngl {gpu_layers}"
    return " ".join([render_base_command(model, quant, runtime), *flags])


def _kv_flags(launcher: str, kv: str) -> list[str]:
    flag = KV_FLAGS.get(launcher, {}).get(kv)
    return [flag] if flag else []


_FLAG_BUILDERS = {
    "vllm": _vllm_flags,
    "tgi": _tgi_flags,
    "llama-cpp": _llama_cpp_flags,
    "exllamav2": _exllamav2_flags,
    "mlx": _mlx_flags,
}
