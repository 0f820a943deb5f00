"""Fit engine, tensor-level weight sizes: a checkpoint's bytes as its writer lays them out. Pure.

One average bits-per-weight figure cannot size every model: llama.cpp picks a type for each
tensor from the file type (ftype), the tensor's role, its layer and the model's shape, and falls
back to another type when a row is not a whole number of blocks. This module lists a model's
tensors from its architecture, gives each the type its writer picks, and sums the blocks.

Facts, not code, are taken from public sources:

- Block sizes (elements, bytes per block) from ggml's ``ggml-common.h`` block structs.
- The choice of type per tensor from llama.cpp ``src/llama-quant.cpp`` (``llama_tensor_get_type``,
  ``tensor_type_fallback``, ``llama_ftype_get_default_type``), ggml-org/llama.cpp @007dbbf3.
  Two assumptions: the file was made with an importance matrix (as bartowski, unsloth and
  mradermacher publish), and only Llama/Qwen2-style dense models with 80 layers count as
  llama.cpp's "70B" type. Falcon's special cases are left out (no Falcon in the catalog).
- The GGUF header (tokenizer, metadata) as ``GGUF_METADATA_BYTES_PER_TOKEN`` × vocabulary.
- Safetensors recipes: BF16 everywhere; FP8 linear layers with BF16 embeddings, head, norms and
  router; AWQ/GPTQ INT4 with 128-weight groups (FP16 scale and a 4-bit zero per group, GPTQ's
  int32 ``g_idx`` per input row) and FP16 embeddings and head; MXFP4 experts (gpt-oss) with
  the rest in BF16.

``estimate_weights`` is the public entry point; ``WeightSizes`` splits the total into the parts
a placement moves between cards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from generator.catalog.architecture import Architecture
from generator.catalog.schema import SAFETENSORS_RECIPES, Model, Quantization

#: Elements and bytes of one block of each ggml type (ggml-common.h).
BLOCKS: dict[str, tuple[int, int]] = {
    "F32": (1, 4), "F16": (1, 2), "BF16": (1, 2),
    "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22), "Q5_1": (32, 24), "Q8_0": (32, 34),
    "Q2_K": (256, 84), "Q3_K": (256, 110), "Q4_K": (256, 144), "Q5_K": (256, 176),
    "Q6_K": (256, 210),
    "IQ1_S": (256, 50), "IQ1_M": (256, 56), "IQ2_XXS": (256, 66), "IQ2_XS": (256, 74),
    "IQ2_S": (256, 82), "IQ3_XXS": (256, 98), "IQ3_S": (256, 110), "IQ4_NL": (32, 18),
    "IQ4_XS": (256, 136), "MXFP4": (32, 17),
}  # fmt: skip

#: The type llama.cpp writes when a row is not a whole number of the chosen type's blocks.
FALLBACK: dict[str, str] = {
    "IQ1_S": "IQ4_NL", "IQ1_M": "IQ4_NL", "IQ2_XXS": "IQ4_NL", "IQ2_XS": "IQ4_NL",
    "IQ2_S": "IQ4_NL", "IQ3_XXS": "IQ4_NL", "IQ3_S": "IQ4_NL", "IQ4_XS": "IQ4_NL",
    "Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0",
}  # fmt: skip

#: The bulk type of each llama.cpp file type (what a tensor gets unless a rule says otherwise).
FTYPE_DEFAULT: dict[str, str] = {
    "F16": "F16", "BF16": "BF16", "Q8_0": "Q8_0", "Q6_K": "Q6_K",
    "Q5_K_M": "Q5_K", "Q5_K_S": "Q5_K", "Q5_1": "Q5_1", "Q5_0": "Q5_0",
    "Q4_K_M": "Q4_K", "Q4_K_S": "Q4_K", "Q4_1": "Q4_1", "Q4_0": "Q4_0",
    "IQ4_NL": "IQ4_NL", "IQ4_XS": "IQ4_XS",
    "Q3_K_L": "Q3_K", "Q3_K_M": "Q3_K", "Q3_K_S": "Q3_K",
    "IQ3_M": "IQ3_S", "IQ3_S": "IQ3_S", "IQ3_XS": "IQ3_S", "IQ3_XXS": "IQ3_XXS",
    "Q2_K": "Q2_K", "Q2_K_S": "Q2_K",
    "IQ2_M": "IQ2_S", "IQ2_S": "IQ2_XS", "IQ2_XS": "IQ2_XS", "IQ2_XXS": "IQ2_XXS",
    "IQ1_M": "IQ1_M", "IQ1_S": "IQ1_S", "MXFP4_MOE": "MXFP4",
}  # fmt: skip


#: GGUF header bytes per vocabulary entry: token strings, scores, types and BPE merges. From
#: Llama 3.1 8B's Q8_0 file: 8,540,775,808 B published (bartowski/ThomasBaruzier LFS pointer)
#: less 8,532,934,912 B of tensors = 7,840,896 B over 128,256 tokens ≈ 61.
GGUF_METADATA_BYTES_PER_TOKEN = 61

_IQ2_FAMILY = frozenset({"IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M"})
_OUTPUT_Q5K = frozenset({"IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"})
_ATTN_OUT_Q5K_8E = frozenset({
    "Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ3_S",
    "IQ3_M", "IQ4_XS",
})  # fmt: skip


class Role(Enum):
    """What a tensor does, as far as llama.cpp's choice of type cares."""

    EMBED = "token_embd"
    OUTPUT = "output"
    ATTN_Q = "attn_q"
    ATTN_K = "attn_k"
    ATTN_V = "attn_v"  # also fused QKV (linear attention): llama.cpp treats both alike
    ATTN_OUT = "attn_output"
    FFN_GATE = "ffn_gate"
    FFN_UP = "ffn_up"
    FFN_DOWN = "ffn_down"
    OTHER = "other"  # quantized at the file's bulk type (MLA and linear-attention projections)
    KEEP = "keep"  # never quantized: norms, routers, convolutions, biases (F32 in GGUF)


@dataclass(frozen=True, slots=True)
class Tensor:
    """One weight matrix (or a stack of ``count`` equal ones, e.g. routed experts)."""

    role: Role
    cols: int  # row length (ggml ne[0], the input dimension)
    rows: int
    count: int = 1
    expert: bool = False  # a routed expert stack (MXFP4 and expert offload care)
    shared_expert: bool = False

    @property
    def elements(self) -> int:
        return self.cols * self.rows * self.count


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


def tensor_bytes(ggml_type: str, tensor: Tensor) -> int:
    """Bytes of ``tensor`` stored as ``ggml_type`` (rows are whole blocks)."""
    per_block, size = BLOCKS[ggml_type]
    return tensor.rows * tensor.count * (tensor.cols // per_block) * size


@dataclass(frozen=True, slots=True)
class ModelTensors:
    """A model's tensors: embedding and output, each repeating layer's, and the rest.

    Layers of one kind (attention or linear attention, dense or MoE) hold the same tensors, so
    ``layers[i]`` is one of a few shared tuples.
    """

    head: tuple[Tensor, ...]
    layers: tuple[tuple[Tensor, ...], ...]
    rest: tuple[Tensor, ...]


@lru_cache(maxsize=256)
def model_tensors(arch: Architecture) -> ModelTensors:
    """The tensors of ``arch`` (worked out once per architecture)."""
    h = arch.hidden_size
    head = [Tensor(Role.EMBED, h, arch.vocab_size)]
    if not arch.tie_word_embeddings:
        head.append(Tensor(Role.OUTPUT, h, arch.vocab_size))
    kinds: dict[tuple[bool, bool], tuple[Tensor, ...]] = {}
    layers = []
    for i in range(arch.layers):
        kind = (is_linear_layer(arch, i), is_moe_layer(arch, i))
        if kind not in kinds:
            kinds[kind] = tuple(_layer_tensors(arch, i))
        layers.append(kinds[kind])
    return ModelTensors(tuple(head), tuple(layers), (Tensor(Role.KEEP, h, 1),))


def is_linear_layer(arch: Architecture, layer: int) -> bool:
    """Whether ``layer`` is a linear-attention layer: full attention comes every n-th layer."""
    if arch.linear_attention is None:
        return False
    full = arch.layers - arch.linear_attention.layers
    period = arch.layers // full if full else arch.layers + 1
    return (layer + 1) % period != 0


def is_moe_layer(arch: Architecture, layer: int) -> bool:
    """Whether ``layer`` holds routed experts (leading dense layers and interleaving aside)."""
    if arch.experts is None or layer < (arch.first_dense_layers or 0):
        return False
    step = arch.moe_layer_step or 1
    return (layer + 1) % step == 0


def _layer_tensors(arch: Architecture, layer: int) -> list[Tensor]:
    h = arch.hidden_size
    out: list[Tensor] = [Tensor(Role.KEEP, h, 2)]  # the two norms
    if is_linear_layer(arch, layer):
        la = arch.linear_attention
        assert la is not None
        key = la.key_heads * la.key_head_dim
        value = la.value_heads * la.value_head_dim
        out += [
            Tensor(Role.ATTN_V, h, 2 * key + value),  # fused q, k, v projection
            Tensor(Role.OTHER, h, value),  # output gate z
            Tensor(Role.OTHER, h, 2 * la.value_heads),  # beta and alpha
            Tensor(Role.OTHER, value, h),  # out_proj
            Tensor(Role.KEEP, la.conv_kernel, 2 * key + value),  # conv1d, A, dt, norm
        ]
    elif arch.mla is not None:
        mla = arch.mla
        nope = mla.qk_nope_head_dim or arch.head_dim - mla.qk_rope_head_dim
        v_dim = mla.v_head_dim or nope
        heads = arch.attention_heads
        q_width = heads * (nope + mla.qk_rope_head_dim)
        if mla.q_lora_rank:
            out += [
                Tensor(Role.OTHER, h, mla.q_lora_rank),
                Tensor(Role.OTHER, mla.q_lora_rank, q_width),
            ]
        else:
            out.append(Tensor(Role.ATTN_Q, h, q_width))
        out += [
            Tensor(Role.OTHER, h, mla.kv_lora_rank + mla.qk_rope_head_dim),  # kv_a
            Tensor(Role.OTHER, nope, mla.kv_lora_rank * heads),  # k_b (per head)
            Tensor(Role.OTHER, mla.kv_lora_rank, v_dim * heads),  # v_b (per head)
            Tensor(Role.ATTN_OUT, heads * v_dim, h),
            Tensor(Role.KEEP, mla.kv_lora_rank + (mla.q_lora_rank or 0), 1),  # latent norms
        ]
    else:
        q = arch.attention_heads * arch.head_dim
        kv = arch.kv_heads * arch.head_dim
        gate = 2 if arch.attention_output_gate else 1
        out += [
            Tensor(Role.ATTN_Q, h, q * gate),
            Tensor(Role.ATTN_K, h, kv),
            Tensor(Role.ATTN_V, h, kv),
            Tensor(Role.ATTN_OUT, q, h),
        ]
    if is_moe_layer(arch, layer):
        assert arch.experts is not None
        width = arch.moe_intermediate_size or arch.intermediate_size or h
        out += [
            Tensor(Role.KEEP, h, arch.experts),  # router (F32)
            Tensor(Role.FFN_GATE, h, width, arch.experts, expert=True),
            Tensor(Role.FFN_UP, h, width, arch.experts, expert=True),
            Tensor(Role.FFN_DOWN, width, h, arch.experts, expert=True),
        ]
        shared = (arch.shared_experts or 0) * (arch.shared_expert_intermediate_size or width)
        if shared:
            out += [
                Tensor(Role.FFN_GATE, h, shared, shared_expert=True),
                Tensor(Role.FFN_UP, h, shared, shared_expert=True),
                Tensor(Role.FFN_DOWN, shared, h, shared_expert=True),
            ]
    else:
        width = arch.intermediate_size or arch.moe_intermediate_size or h
        out += [
            Tensor(Role.FFN_GATE, h, width),
            Tensor(Role.FFN_UP, h, width),
            Tensor(Role.FFN_DOWN, width, h),
        ]
    return out


def use_more_bits(i: int, n: int) -> bool:
    """llama.cpp's pick of layers that get a bigger type: the first and last eighth, and every
    third layer between."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


class GgufTyper:
    """Picks each tensor's type for one model and llama.cpp file type, as the quantizer does."""

    def __init__(
        self, arch: Architecture, ftype: str, embed_output: str | None, imatrix: bool = True
    ) -> None:
        self.arch = arch
        self.imatrix = imatrix
        self.ftype = ftype
        self.default = FTYPE_DEFAULT[ftype]
        self.embed_output = embed_output
        self.quantized = self.default not in ("F16", "BF16")
        self.n_expert = arch.experts or 0
        self.gqa = arch.attention_heads // arch.kv_heads if arch.mla is None else 1
        self.is_70b = arch.experts is None and arch.layers == 80
        self.n_layers = arch.layers
        # Every layer has one attn_v-like tensor (linear-attention layers their fused QKV),
        # except in MLA files, whose k_b / v_b split no rule names.
        self.n_attn_v = 0 if arch.mla is not None else arch.layers
        # llama.cpp meets tensors layer by layer and counts the ffn_down ones (a MoE layer with a
        # shared expert has two); the IQ1/IQ2 rules go by that count, not by the layer.
        starts = [0]
        for i in range(arch.layers):
            shared = is_moe_layer(arch, i) and bool(arch.shared_experts)
            starts.append(starts[-1] + (2 if shared else 1))
        self.ffn_down_start = starts

    def layer_key(self, layer: int) -> tuple[bool, ...]:
        """Everything about a layer's position that any rule looks at: layers with equal keys
        (and equal tensors) get equal types."""
        n, c = self.n_layers, self.ffn_down_start[layer]
        return (
            use_more_bits(layer, n), layer < n // 16, layer < n // 8, layer < 2, layer < 4,
            n // 8 <= layer < 7 * n // 8, c < n // 8, c + 1 < n // 8,
        )  # fmt: skip

    def pick(self, tensor: Tensor, layer: int) -> str:
        """The ggml type of ``tensor`` in ``layer`` (−1 outside the repeating layers)."""
        if tensor.role is Role.KEEP:
            return "F32"
        if not self.quantized:
            return self.default
        chosen = self._rule(tensor, layer)
        if tensor.cols % BLOCKS[chosen][0]:
            chosen = FALLBACK.get(chosen, "F16")
            if tensor.cols % BLOCKS[chosen][0]:
                chosen = "F16"
        return chosen

    def _rule(self, t: Tensor, layer: int) -> str:
        ft, new = self.ftype, self.default
        tied = self.arch.tie_word_embeddings
        if t.role is Role.OUTPUT or (tied and t.role is Role.EMBED):
            if self.embed_output:
                return self.embed_output
            if ft == "MXFP4_MOE" or t.cols % BLOCKS[new][0]:
                return "Q8_0"
            if ft in _OUTPUT_Q5K:
                return "Q5_K"
            return new if new == "Q8_0" else "Q6_K"
        if ft == "MXFP4_MOE":
            return "MXFP4" if t.expert else "Q8_0"
        if t.role is Role.EMBED:
            if self.embed_output:
                return self.embed_output
            if ft in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
                return "Q2_K"
            if ft in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
                return "IQ3_S"
            return new
        if ft in _IQ2_FAMILY:
            return self._iq2_rule(t, new, layer)
        role, n_exp, gqa = t.role, self.n_expert, self.gqa
        if role is Role.ATTN_V:
            i, n = layer, self.n_attn_v
            if ft == "Q2_K":
                new = "Q4_K" if gqa >= 4 else "Q3_K"
            elif ft == "Q2_K_S" and gqa >= 4:
                new = "Q4_K"
            elif ft == "IQ3_XXS":
                new = "Q4_K" if gqa >= 4 else "IQ3_XXS" if self.imatrix else "IQ3_S"
            elif (ft in ("IQ3_XS", "IQ3_S") and gqa >= 4) or ft == "IQ3_M":
                new = "Q4_K"
            elif ft == "Q3_K_M":
                new = "Q5_K" if i < 2 else "Q4_K"
            elif ft == "Q3_K_L" or (ft in ("IQ4_NL", "IQ4_XS") and gqa >= 4):
                new = "Q5_K"
            elif ft in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n):
                new = "Q6_K"
            elif ft == "Q4_K_S" and i < 4:
                new = "Q5_K"
            if self.is_70b and new in ("Q3_K", "Q4_K"):
                new = "Q5_K"
            if n_exp == 8:
                new = "Q8_0"
            return new
        if role is Role.ATTN_K:
            if n_exp == 8:
                return "Q8_0"
            if ft == "IQ3_XS":
                return "IQ3_XXS"
            if ft == "IQ3_XXS":
                return "IQ2_S"
            return new
        if role is Role.ATTN_Q:
            if ft == "IQ3_XS":
                return "IQ3_XXS"
            if ft == "IQ3_XXS":
                return "IQ2_S"
            return new
        if role is Role.FFN_DOWN:
            i, n = layer, self.n_layers
            more = use_more_bits(i, n)
            if ft == "Q2_K":
                return "Q3_K"
            if ft == "Q2_K_S":
                return "Q4_K" if i < n // 8 else new
            if ft == "IQ3_XXS" and not self.imatrix:
                return "Q4_K" if i < n // 8 else "Q3_K"
            if ft == "Q3_K_M":
                return "Q5_K" if i < n // 16 else "Q4_K"
            if ft == "IQ3_M" and (i < n // 8 or (n_exp == 8 and more)):
                return "Q4_K"
            if ft == "Q3_K_L":
                return "Q5_K"
            if ft == "Q4_K_M":
                return "Q6_K" if more else new
            if i < n // 8 and ft in ("IQ4_NL", "IQ4_XS") and not self.imatrix:
                return "Q5_K"
            if ft == "Q5_K_M" and more:
                return "Q6_K"
            if ft == "Q4_K_S" and i < n // 8:
                return "Q5_K"
            if ft in ("Q4_0", "Q5_0") and self.imatrix and i < n // 8:
                return "Q4_1" if ft == "Q4_0" else "Q5_1"
            return new
        if role is Role.ATTN_OUT:
            if n_exp == 8:
                return "Q5_K" if ft in _ATTN_OUT_Q5K_8E else new
            return {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K",
                    "IQ3_M": "Q4_K"}.get(ft, new)  # fmt: skip
        if role in (Role.FFN_GATE, Role.FFN_UP):
            n = self.n_layers
            if ft == "IQ3_XS" and n // 8 <= layer < 7 * n // 8:
                return "IQ3_XXS"
        return new

    def _iq2_rule(self, t: Tensor, new: str, layer: int) -> str:
        ft = self.ftype
        wide = ft in ("IQ2_S", "IQ2_M")
        if t.role is Role.ATTN_V:
            if self.gqa >= 4 or self.n_expert >= 4:
                return "Q4_K"
            return "IQ3_S" if wide else "Q2_K"
        if self.n_expert == 8 and t.role is Role.ATTN_K:
            return "Q4_K"
        if t.role is Role.FFN_DOWN:
            i = self.ffn_down_start[layer] + (1 if t.shared_expert else 0)
            if i < self.n_layers // 8:
                return "IQ3_S" if wide else "Q2_K"
            return new
        if t.role is Role.ATTN_OUT:
            if self.n_expert == 8:
                return "Q5_K"
            if ft in ("IQ1_S", "IQ1_M"):
                return "IQ2_XXS"
            if wide:
                return "IQ3_S"
        return new


#: Bytes of a tensor in a given layer (−1 outside the repeating layers).
Sizer = Callable[[Tensor, int], int]


#: What llama.cpp makes of a safetensors checkpoint it converts to GGUF.
GGUF_CONVERSION: dict[str, str] = {"bf16": "BF16", "mxfp4": "MXFP4_MOE"}


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
    size: Sizer
    key: Callable[[int], tuple[bool, ...]]
    if recipe in SAFETENSORS_RECIPES:
        plain = _SafetensorsSizer(recipe)
        size = lambda t, _layer: plain(t)  # noqa: E731
        key = lambda _layer: ()  # noqa: E731
        header = 0
    else:
        typer = GgufTyper(arch, recipe, embed_output, imatrix)
        size = lambda t, layer: tensor_bytes(typer.pick(t, layer), t)  # noqa: E731
        key = typer.layer_key
        header = GGUF_METADATA_BYTES_PER_TOKEN * arch.vocab_size
    embedding = output = 0
    for t in tensors.head:
        if t.role is Role.EMBED:
            embedding = size(t, -1)
        else:
            output = size(t, -1)
    other = sum(size(t, -1) for t in tensors.rest) + header
    seen: dict[tuple[object, ...], tuple[int, int]] = {}
    per_layer: list[int] = []
    routed: list[int] = []
    for index, layer in enumerate(tensors.layers):
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
    return WeightSizes(embedding, output, tuple(per_layer), tuple(routed), other)


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
