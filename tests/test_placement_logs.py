"""Per-card placement checked against published multi-device load logs (llama.cpp and vLLM).

Each row is a real load log: the numbers are copied from the source named in the row, the
configuration (model, quantization, context, device count) is the one the log ran. Excerpts,
arithmetic and the gaps found are in docs/research/placement-logs.md.

Units: llama.cpp prints MiB (2^20 bytes). vLLM's "Loading model weights took X GB" and
"model weights take X GiB" both divide by 2^30, so both are GiB.

Tolerances, from the data:

- llama.cpp weights: within 3.5% per card. The layer assignment is exact (see the structural
  test below: the logged buffers equal whole layers of GGUF blocks to 0.01 MiB); the error is
  entirely the catalog's Q4_0 average of 4.64 bits per weight, which is the 8B file's average.
  A 70B Q4_0 file stores its repeating layers at 4.5 bits and only its output matrix at Q6_K
  (6.5625 bits), so our per-layer bytes run 3.1% high and our output layer 29% low; measured
  +3.10% on the first card, +1.68% on the last, +3.11% for the host-side embeddings.
- llama.cpp KV cache: exact (to the log's 0.01 MiB rounding); the layout is known (F16 K and V,
  kv_heads × head_dim per token per layer, each card holding its own layers).
- vLLM weights: within 0.5% per GPU. BF16 is exactly 2 bytes per parameter and the shards are
  equal; what we leave out is the rotary cos/sin cache and the RMSNorm weights, which every
  rank keeps whole (32 MiB + 2.6 MiB for a 70B at 131072 positions: −0.21% measured on 8
  ranks; −0.02% for Llama-3-8B on 1 and 2 ranks).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from generator.catalog.schema import Catalog
from generator.fit.answers import compute_placement
from generator.fit.placement import Placement
from generator.fit.setup import Options, resolve_setup
from generator.fit.splits import llama_cpp_layers

MIB = 2**20
GIB = 2**30

LLAMA_CPP_WEIGHTS_TOLERANCE = 0.035  # relative, per card and for the host-side embeddings
LLAMA_CPP_KV_TOLERANCE_MIB = 0.01  # the log prints two decimals
VLLM_WEIGHTS_TOLERANCE = 0.005  # relative, per GPU


@dataclass(frozen=True)
class LayerSplitLog:
    """A llama.cpp load log of one model split by layers over several devices."""

    id: str
    model: str
    quant: str
    gpu: str  # the card we model it on; weights and KV do not depend on the card
    context: int
    model_buffers_mib: tuple[float, ...]  # "<device> model buffer size", device order
    host_mib: float  # "CPU_Mapped model buffer size": the token embeddings
    kv_buffers_mib: tuple[float, ...]  # "<device> KV buffer size", device order


@dataclass(frozen=True)
class TensorParallelLog:
    """A vLLM load log: weight memory on one rank of a tensor-parallel group."""

    id: str
    model: str
    gpu: str
    tensor: int
    context: int  # max_model_len of the run
    weights_gib: float


LAYER_SPLIT_LOGS = [
    # Source: ArmDeveloperEcosystem/arm-learning-paths, content/learning-paths/
    # servers-and-cloud-computing/distributed-inference-with-llama-cpp/how-to-3.md
    # (https://github.com/ArmDeveloperEcosystem/arm-learning-paths/blob/main/content/
    # learning-paths/servers-and-cloud-computing/distributed-inference-with-llama-cpp/how-to-3.md),
    # llama.cpp build 6209 (fb22dd07), August 2025. llama-cli -ngl 999 over two RPC devices with
    # 31491 MiB free each (so an even split), Llama-3.1-70B Q4_0 (37.22 GiB, 4.53 BPW), n_ctx 4096,
    # F16 KV cache, one sequence. RPC devices run llama.cpp's ordinary layer split.
    LayerSplitLog(
        id="arm-learning-path-llama-3.1-70b-q4_0-2x-rpc",
        model="llama-3.1-70b",
        quant="q4_0",
        gpu="rtx-5090",
        context=4096,
        model_buffers_mib=(18821.56, 18725.42),
        host_mib=563.62,
        kv_buffers_mib=(656.00, 624.00),
    ),
]

TENSOR_PARALLEL_LOGS = [
    # Source: vllm-project/vllm PR #10511, comment by youkaichao, 2024-12-14
    # (https://github.com/vllm-project/vllm/pull/10511). `vllm serve meta-llama/Meta-Llama-3-8B`
    # on H100 80GB (total_gpu_memory 79.22GiB): "model weights take 14.96GiB". Meta-Llama-3-8B has
    # Llama-3.1-8B's shapes and parameter count.
    TensorParallelLog(
        id="vllm-pr-10511-llama-3-8b-bf16-tp1-h100",
        model="llama-3.1-8b",
        gpu="h100-sxm",
        tensor=1,
        context=8192,
        weights_gib=14.96,
    ),
    # Same source and date, `-tp 2`: "model weights take 7.48GiB" per GPU.
    TensorParallelLog(
        id="vllm-pr-10511-llama-3-8b-bf16-tp2-h100",
        model="llama-3.1-8b",
        gpu="h100-sxm",
        tensor=2,
        context=8192,
        weights_gib=7.48,
    ),
    # Source: vllm-project/vllm-ascend issue #2235, 2025-08-06
    # (https://github.com/vllm-project/vllm-ascend/issues/2235). vLLM 0.10.0 on 8 Ascend NPUs,
    # `--model DeepSeek-R1-Distill-Llama-70B -tp=8 --max-model-len=32767`: every rank logs
    # "Loading model weights took 16.4610 GB". The catalog has no Ascend card; the card does not
    # enter the weight share. Same shapes and parameter count as Llama-3.1-70B, so this is the
    # tensor-parallel counterpart of the llama.cpp 70B row above.
    TensorParallelLog(
        id="vllm-ascend-2235-r1-distill-llama-70b-bf16-tp8",
        model="deepseek-r1-distill-llama-70b",
        gpu="h100-sxm",
        tensor=8,
        context=32767,
        weights_gib=16.4610,
    ),
]


def layer_split_placement(catalog: Catalog, log: LayerSplitLog) -> Placement:
    setup = resolve_setup(
        catalog, log.model, log.quant, log.gpu,
        Options(context=log.context, kv_dtype="f16", runtime="llama-cpp"),
    )  # fmt: skip
    placement = compute_placement(setup, len(log.model_buffers_mib))
    assert placement is not None and placement.split == "layer"
    return placement


def tensor_parallel_placement(catalog: Catalog, log: TensorParallelLog) -> Placement:
    setup = resolve_setup(
        catalog, log.model, "bf16", log.gpu, Options(context=log.context, runtime="vllm")
    )
    placement = compute_placement(setup, log.tensor)
    assert placement is not None
    assert (placement.split, placement.tensor, placement.pipeline) == ("tensor", log.tensor, 1)
    return placement


@pytest.mark.parametrize("log", LAYER_SPLIT_LOGS, ids=[log.id for log in LAYER_SPLIT_LOGS])
def test_llama_cpp_weights_per_card_are_within_3_5_percent_of_the_logged_model_buffers(
    catalog: Catalog, log: LayerSplitLog
) -> None:
    """Known gap, not hidden: our per-card weights use the quantization's file-average bits per
    weight (Q4_0: 4.64, the 8B file's average), but a 70B Q4_0 file keeps its repeating layers
    at 4.5 bits and its output matrix at Q6_K. That puts the cards holding only layers 3.1% high
    and the last card (layers + a Q6_K output counted at 4.64 bits) 1.7% high. A per-tensor
    bits model (layer bits vs output/embedding bits) would close it; see placement-logs.md."""
    placement = layer_split_placement(catalog, log)
    for card, logged in zip(placement.cards, log.model_buffers_mib, strict=True):
        assert card.weights / MIB == pytest.approx(logged, rel=LLAMA_CPP_WEIGHTS_TOLERANCE), (
            f"card {card.index}"
        )
    assert placement.host_weights / MIB == pytest.approx(
        log.host_mib, rel=LLAMA_CPP_WEIGHTS_TOLERANCE
    )


@pytest.mark.parametrize("log", LAYER_SPLIT_LOGS, ids=[log.id for log in LAYER_SPLIT_LOGS])
def test_llama_cpp_kv_cache_per_card_equals_the_logged_kv_buffers(
    catalog: Catalog, log: LayerSplitLog
) -> None:
    placement = layer_split_placement(catalog, log)
    for card, logged in zip(placement.cards, log.kv_buffers_mib, strict=True):
        assert card.kv_cache / MIB == pytest.approx(logged, abs=LLAMA_CPP_KV_TOLERANCE_MIB)


def test_llama_cpp_gives_41_and_39_layers_with_the_output_on_the_last_card_as_logged(
    catalog: Catalog,
) -> None:
    """The logged buffers are whole layers of GGUF blocks: 41 on the first device and 39 plus
    the Q6_K output matrix on the second, to the log's 0.01 MiB. This checks the layer split
    and the output placement independently of the bits-per-weight approximation."""
    log = LAYER_SPLIT_LOGS[0]
    arch = catalog.models[log.model].architecture
    ff = 28672  # n_ff printed by the same log; the catalog does not record the FFN width
    h, kv, vocab = arch.hidden_size, arch.kv_heads * arch.head_dim, arch.vocab_size
    q4_0, q6_k, f32 = 18 / 32, 210 / 256, 4  # bytes per element (ggml block sizes)
    layer = (2 * h * h + 2 * h * kv + 3 * h * ff) * q4_0 + 2 * h * f32  # + attn/ffn norms
    output = vocab * h * q6_k + h * f32  # output.weight (Q6_K) + output_norm
    placement = layer_split_placement(catalog, log)
    assert [card.layers for card in placement.cards] == [41, 39]
    for card, logged in zip(placement.cards, log.model_buffers_mib, strict=True):
        last = card.index == len(placement.cards) - 1
        expected = card.layers * layer + (output if last else 0)
        assert expected / MIB == pytest.approx(logged, abs=0.01)
    assert vocab * h * q4_0 / MIB == pytest.approx(log.host_mib, abs=0.01)  # token_embd Q4_0


@pytest.mark.parametrize("log", TENSOR_PARALLEL_LOGS, ids=[log.id for log in TENSOR_PARALLEL_LOGS])
def test_vllm_weights_per_gpu_are_within_half_a_percent_of_the_logged_weight_memory(
    catalog: Catalog, log: TensorParallelLog
) -> None:
    placement = tensor_parallel_placement(catalog, log)
    for card in placement.cards:
        assert card.weights / GIB == pytest.approx(log.weights_gib, rel=VLLM_WEIGHTS_TOLERANCE)


def test_llama_cpp_layer_counts_match_assigning_each_layer_to_its_card_one_by_one() -> None:
    for layers in range(1, 130):
        for cards in range(1, 17):
            one_by_one = [0] * cards
            for layer in range(layers):
                one_by_one[layer * cards // (layers + 1)] += 1
            assert llama_cpp_layers(layers, cards) == one_by_one, (layers, cards)
