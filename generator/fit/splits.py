"""Fit engine, splits: how each runtime divides a model's layers and weights over its cards. Pure.

- **Layer split** (llama.cpp, ExLlamaV2, MLX): whole layers per card, evenly; the token
  embeddings stay in system RAM; the output layer sits on the last card; every card carries its
  own CUDA context and compute buffer. KV cache lives with its layer.
- **Tensor parallel** (vLLM, TGI): every layer is sharded over ``tensor`` cards and stages of
  layers over ``pipeline`` groups. Weights divide by the shard count; KV heads divide too, but
  are replicated when there are fewer KV heads than shards; an MLA latent is replicated on every
  shard. Each card holds the full activation buffer. vLLM claims ``memory_utilization`` of each
  card and fills what its weights and buffers leave with KV cache.

Sources: llama.cpp ``src/llama-model.cpp`` (layer assignment, output on the last device) and
``src/llama-context.cpp``; vLLM ``gpu_worker.py`` memory profiling and ``config.py`` (KV heads
per rank = max(1, kv_heads // tp)); see runtimes.yaml and docs/research/runtime-calibration.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.catalog.architecture import Architecture
from generator.catalog.schema import SplitMode
from generator.fit.memory import KVLayout
from generator.fit.placement import CardShare, Layout
from generator.fit.shapes import Shapes


@dataclass(frozen=True)
class ParallelLayout:
    """How n cards are used: tensor-parallel width × pipeline stages."""

    tensor: int
    pipeline: int


def plan_parallel_layout(arch: Architecture, cards: int) -> ParallelLayout:
    """The widest tensor-parallel size that divides ``cards`` and the attention heads.

    vLLM shards attention heads, so the tensor-parallel size must divide them; KV heads are
    split when divisible and replicated when there are fewer of them than shards. What is left
    of ``cards`` becomes pipeline stages (6 cards, 64 heads → TP 2 × PP 3).
    """
    for tensor in range(cards, 0, -1):
        if cards % tensor or arch.attention_heads % tensor:
            continue
        if arch.kv_heads % tensor == 0 or tensor % arch.kv_heads == 0:
            return ParallelLayout(tensor, cards // tensor)
    return ParallelLayout(1, cards)


def even_layers(layers: int, groups: int) -> list[int]:
    """Layers per group when ``layers`` are split evenly in order (earlier groups get fewer)."""
    bounds = [layers * i // groups for i in range(groups + 1)]
    return [bounds[i + 1] - bounds[i] for i in range(groups)]


def llama_cpp_layers(layers: int, cards: int) -> list[int]:
    """Layers per card under llama.cpp's even --tensor-split.

    It splits ``layers + 1`` slots (the output layer counts as one) in proportion, so layer i
    goes to card floor(i × cards ÷ (layers + 1)) and the last card, which also holds the output
    layer, gets fewer repeating layers (llama.cpp src/llama-model.cpp, load_tensors). Card c
    so starts at layer ceil(c × (layers + 1) ÷ cards).
    """
    starts = [min(layers, -(-card * (layers + 1) // cards)) for card in range(cards + 1)]
    return [starts[card + 1] - starts[card] for card in range(cards)]


def plan_layer_split(
    shapes: Shapes, kv: KVLayout, batch: int, cards: int, fixed: int, buffer_per_token: float
) -> Layout:
    """llama.cpp / ExLlamaV2 / MLX: whole layers per card, the output layer on the last.

    Every device gets its own compute buffer (588 MiB on each of two devices in the llama.cpp
    log of docs/research/placement-logs.md).
    """
    shares = []
    start = 0
    for index, layers in enumerate(llama_cpp_layers(shapes.layers, cards)):
        head = shapes.head_weights if index == cards - 1 else 0
        shares.append(CardShare(index, layers, shapes.span(start, layers) + head))
        start += layers
    return _layout("layer", 1, cards, shares, shapes, kv, batch, fixed, buffer_per_token,
                   round(shapes.embed_weights))  # fmt: skip


def plan_tensor_parallel(
    arch: Architecture, shapes: Shapes, kv: KVLayout, batch: int, cards: int, fixed: int,
    buffer_per_token: float,
) -> Layout:  # fmt: skip
    """vLLM / TGI: layers sharded over ``tensor`` cards, stages of layers over ``pipeline``.

    ``kv`` is the cache of one whole sequence; each shard keeps its heads (see
    ``shard_kv_layout``).
    """
    plan = plan_parallel_layout(arch, cards)
    t, p = plan.tensor, plan.pipeline
    shares = []
    start = 0
    for stage, layers in enumerate(even_layers(shapes.layers, p)):
        weights = shapes.span(start, layers)
        start += layers
        if stage == 0:
            weights += shapes.embed_weights
        if stage == p - 1 and (not shapes.tied or p > 1):
            weights += shapes.head_weights
        shares += [CardShare(stage * t + s, layers, round(weights / t)) for s in range(t)]
    shard = shard_kv_layout(arch, kv, t)
    return _layout("tensor", t, p, shares, shapes, shard, batch, fixed, buffer_per_token, 0)


def shard_kv_layout(arch: Architecture, kv: KVLayout, tensor: int) -> KVLayout:
    """One tensor-parallel shard's cache: GQA heads divided (replicated when the shards
    outnumber them); an MLA latent kept whole on every shard; linear-attention state divided."""
    if tensor == 1:
        return kv
    ratio = 1.0
    if arch.mla is None:
        ratio = max(1, arch.kv_heads // tensor) / arch.kv_heads
    return KVLayout(
        round(kv.growing * ratio), round(kv.windowed * ratio), kv.window, kv.bits,
        round(kv.state / tensor),
    )  # fmt: skip


def _layout(
    split: SplitMode, tensor: int, pipeline: int, shares: list[CardShare], shapes: Shapes,
    kv: KVLayout, batch: int, fixed: int, buffer_per_token: float, host: int,
) -> Layout:  # fmt: skip
    # A card can be the fullest only if no other card holds at least as many weights and layers.
    candidates = tuple(
        c for c in shares
        if not any(o is not c and o.weights >= c.weights and o.layers >= c.layers
                   and (o.weights, o.layers, -o.index) > (c.weights, c.layers, -c.index)
                   for o in shares)
    )  # fmt: skip
    return Layout(split, tensor, pipeline, tuple(shares), shapes.layers, kv, batch, fixed,
                  buffer_per_token, host, candidates)  # fmt: skip
