"""Fit engine, weight sizes: a checkpoint's bytes as its writer lays them out, by part. Pure.

``estimate_weights`` sums the tensors of ``fit.tensors`` at the types their writer gives them:
``fit.gguf_types`` for llama.cpp files, a fixed recipe for safetensors checkpoints, and the
model's average bits per weight for formats without a recipe. ``WeightSizes`` splits the total
into the parts a placement moves between cards.

Facts, not code, are taken from public sources:

- The GGUF header (tokenizer, metadata) as ``GGUF_METADATA_BYTES_PER_TOKEN`` × vocabulary.
- Safetensors recipes: BF16 everywhere; FP8 linear layers with BF16 embeddings, head, norms and
  router; AWQ/GPTQ INT4 with 128-weight groups (FP16 scale and a 4-bit zero per group, GPTQ's
  int32 ``g_idx`` per input row) and FP16 embeddings and head; MXFP4 experts (gpt-oss) with
  the rest in BF16.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from generator.catalog.architecture import Architecture
from generator.catalog.schema import SAFETENSORS_RECIPES, Model, Quantization
from generator.fit.gguf_types import GgufTyper, tensor_bytes
from generator.fit.tensors import Role, Tensor, model_tensors

#: GGUF header bytes per vocabulary entry: token strings, scores, types and BPE merges. From
#: Llama 3.1 8B's Q8_0 file: 8,540,775,808 B published (bartowski/ThomasBaruzier LFS pointer)
#: less 8,532,934,912 B of tensors = 7,840,896 B over 128,256 tokens ≈ 61.
GGUF_METADATA_BYTES_PER_TOKEN = 61

#: What llama.cpp makes of a safetensors checkpoint it converts to GGUF.
GGUF_CONVERSION: dict[str, str] = {"bf16": "BF16", "mxfp4": "MXFP4_MOE"}

#: Bytes of a tensor in a given layer (−1 outside the repeating layers).
Sizer = Callable[[Tensor, int], int]
#: What a sizer's answer for a layer depends on besides the layer's tensors.
LayerKey = Callable[[int], tuple[bool, ...]]


@dataclass(frozen=True, slots=True)
class WeightSizes:
    """A checkpoint's weights in bytes, split the way placements move them.

    ``layers[i]`` is everything in repeating layer ``i`` (its routed experts included);
    ``routed_experts[i]`` is the part of it that is routed experts (0 for dense layers).
    """

    embedding: int  # token embeddings
    output: int  # output projection; 0 when tied (the embedding table serves)
    layers: tuple[int, ...]
    routed_experts: tuple[int, ...]
    other: int  # final norm and file header

    @property
    def total(self) -> int:
        return self.embedding + self.output + sum(self.layers) + self.other

    @property
    def routed_total(self) -> int:
        return sum(self.routed_experts)

    def active(self, experts: int | None, experts_per_token: int | None) -> int:
        """Bytes one decode step reads: everything but the routed experts the token is not
        sent to and, when the output has its own tensor, the embedding table (a step reads one
        row of it)."""
        read = self.total - (self.embedding if self.output else 0)
        if not experts or not experts_per_token:
            return read
        return read - round(self.routed_total * (1 - experts_per_token / experts))


def estimate_weights(
    model: Model, quant: Quantization, imatrix: bool = True, gguf: bool = False
) -> WeightSizes:
    """The weights of ``model`` published as ``quant``, in bytes, split by part.

    ``gguf``: the runtime loads GGUF files only (llama.cpp), so a safetensors checkpoint is
    sized as its GGUF conversion (gpt-oss's MXFP4 becomes MXFP4_MOE: experts MXFP4, the rest
    Q8_0, as ggml-org publishes it).

    ``imatrix``: whether a GGUF was quantized with an importance matrix, which changes a few
    of llama.cpp's choices (Q4_0/Q5_0, IQ4 and IQ3_XXS files); most published files were.

    A quantization without a recipe (EXL2) falls back to the model's average bits per weight
    spread evenly over the layers.
    """
    arch = model.architecture
    recipe: str | None = quant.recipe
    if gguf and recipe in GGUF_CONVERSION:
        recipe = GGUF_CONVERSION[recipe]
    if recipe is None:
        return _even_split(model, model.bits_per_weight(quant))
    return _sized(arch, recipe, quant.embed_output_type, imatrix)


@lru_cache(maxsize=4096)
def _sized(arch: Architecture, recipe: str, embed_output: str | None, imatrix: bool) -> WeightSizes:
    """The sizes of one architecture under one recipe (memoized: the matrix asks each many
    times, and the answer depends on nothing else)."""
    tensors = model_tensors(arch)
    size, key, header = _sizer(arch, recipe, embed_output, imatrix)
    embedding = output = 0
    for t in tensors.head:
        if t.role is Role.EMBED:
            embedding = size(t, -1)
        else:
            output = size(t, -1)
    other = sum(size(t, -1) for t in tensors.rest) + header
    per_layer, routed = _layer_sizes(tensors.layers, size, key)
    return WeightSizes(embedding, output, per_layer, routed, other)


def _sizer(
    arch: Architecture, recipe: str, embed_output: str | None, imatrix: bool
) -> tuple[Sizer, LayerKey, int]:
    """How ``recipe`` sizes a tensor, what its answer for a layer depends on, and the bytes
    of the file header."""
    if recipe in SAFETENSORS_RECIPES:
        plain = _SafetensorsSizer(recipe)
        return (lambda t, _layer: plain(t)), (lambda _layer: ()), 0
    typer = GgufTyper(arch, recipe, embed_output, imatrix)
    header = GGUF_METADATA_BYTES_PER_TOKEN * arch.vocab_size
    return (lambda t, layer: tensor_bytes(typer.pick(t, layer), t)), typer.layer_key, header


def _layer_sizes(
    layers: tuple[tuple[Tensor, ...], ...], size: Sizer, key: LayerKey
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Each repeating layer's bytes and the routed experts' part of them."""
    seen: dict[tuple[object, ...], tuple[int, int]] = {}
    per_layer: list[int] = []
    routed: list[int] = []
    for index, layer in enumerate(layers):
        # Layers with the same tensors and the same position flags get the same types.
        signature = (id(layer), *key(index))
        found = seen.get(signature)
        if found is None:
            total = experts = 0
            for t in layer:
                b = size(t, index)
                total += b
                if t.expert:
                    experts += b
            found = seen[signature] = (total, experts)
        per_layer.append(found[0])
        routed.append(found[1])
    return tuple(per_layer), tuple(routed)


@dataclass(frozen=True)
class _SafetensorsSizer:
    recipe: str

    def __call__(self, t: Tensor) -> int:
        n = t.elements
        linear = t.role not in (Role.EMBED, Role.OUTPUT, Role.KEEP)
        if self.recipe == "bf16" or not linear:
            return 2 * n
        if self.recipe == "fp8":
            # One byte per weight and an fp32 scale per 128 × 128 block.
            blocks = math.ceil(t.rows / 128) * math.ceil(t.cols / 128) * t.count
            return n + 4 * blocks
        if self.recipe == "mxfp4":
            return n * 17 // 32 if t.expert else 2 * n
        # INT4, 128-weight groups along the input: 4-bit weights, an FP16 scale and a 4-bit zero.
        groups = math.ceil(t.cols / 128) * t.rows * t.count
        size = n // 2 + groups * 2 + groups // 2
        if self.recipe == "int4-gptq":
            size += 4 * t.cols * t.count  # g_idx: the group of each input row
        return size


def _even_split(model: Model, bits: float) -> WeightSizes:
    """Parameters × bits ÷ 8, embeddings and head apart, the rest evenly over the layers."""
    arch = model.architecture
    scale = bits / 8
    embed = arch.vocab_size * arch.hidden_size
    head = 0 if arch.tie_word_embeddings else embed
    total = round(model.params_b * 1e9 * scale)
    embedding, output = round(embed * scale), round(head * scale)
    body = total - embedding - output
    base, extra = divmod(body, arch.layers)
    layers = tuple(base + (1 if i < extra else 0) for i in range(arch.layers))
    routed = tuple(0 for _ in layers)
    if arch.experts and arch.experts_per_token and model.active_params_b:
        share = arch.experts_per_token / arch.experts
        routed_params = (model.params_b - model.active_params_b) / (1 - share)
        per = round(routed_params * 1e9 * scale / arch.layers)
        routed = tuple(min(per, size) for size in layers)
    return WeightSizes(embedding, output, layers, routed, 0)


def forget_sizes() -> None:
    """Drop the memoized sizes (for tests that change a block size or a rule)."""
    _sized.cache_clear()
