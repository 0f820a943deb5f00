"""Fit engine, tensor inventory: the weight tensors an architecture's checkpoint holds. Pure.

``model_tensors`` lists every tensor a llama.cpp or safetensors checkpoint of an architecture
holds, with the role that decides its type (``fit.gguf_types``) and its shape; ``fit.weights``
sums their bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from generator.catalog.architecture import MLA, Architecture


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
    """One repeating layer: its two norms, its attention and its feed-forward tensors."""
    norms = [Tensor(Role.KEEP, arch.hidden_size, 2)]
    return norms + _attention_tensors(arch, layer) + _feed_forward_tensors(arch, layer)


def _attention_tensors(arch: Architecture, layer: int) -> list[Tensor]:
    if is_linear_layer(arch, layer):
        return _linear_attention_tensors(arch)
    if arch.mla is not None:
        return _mla_tensors(arch, arch.mla)
    q = arch.attention_heads * arch.head_dim
    kv = arch.kv_heads * arch.head_dim
    gate = 2 if arch.attention_output_gate else 1
    h = arch.hidden_size
    return [
        Tensor(Role.ATTN_Q, h, q * gate),
        Tensor(Role.ATTN_K, h, kv),
        Tensor(Role.ATTN_V, h, kv),
        Tensor(Role.ATTN_OUT, q, h),
    ]


def _linear_attention_tensors(arch: Architecture) -> list[Tensor]:
    """A Gated DeltaNet layer's projections and its never-quantized convolution and gates."""
    la = arch.linear_attention
    assert la is not None
    h = arch.hidden_size
    key = la.key_heads * la.key_head_dim
    value = la.value_heads * la.value_head_dim
    return [
        Tensor(Role.ATTN_V, h, 2 * key + value),  # fused q, k, v projection
        Tensor(Role.OTHER, h, value),  # output gate z
        Tensor(Role.OTHER, h, 2 * la.value_heads),  # beta and alpha
        Tensor(Role.OTHER, value, h),  # out_proj
        Tensor(Role.KEEP, la.conv_kernel, 2 * key + value),  # conv1d, A, dt, norm
    ]


def _mla_tensors(arch: Architecture, mla: MLA) -> list[Tensor]:
    """Multi-head latent attention: low-rank query and key-value projections."""
    h = arch.hidden_size
    nope = mla.qk_nope_head_dim or arch.head_dim - mla.qk_rope_head_dim
    v_dim = mla.v_head_dim or nope
    heads = arch.attention_heads
    q_width = heads * (nope + mla.qk_rope_head_dim)
    if mla.q_lora_rank:
        query = [
            Tensor(Role.OTHER, h, mla.q_lora_rank),
            Tensor(Role.OTHER, mla.q_lora_rank, q_width),
        ]
    else:
        query = [Tensor(Role.ATTN_Q, h, q_width)]
    return [
        *query,
        Tensor(Role.OTHER, h, mla.kv_lora_rank + mla.qk_rope_head_dim),  # kv_a
        Tensor(Role.OTHER, nope, mla.kv_lora_rank * heads),  # k_b (per head)
        Tensor(Role.OTHER, mla.kv_lora_rank, v_dim * heads),  # v_b (per head)
        Tensor(Role.ATTN_OUT, heads * v_dim, h),
        Tensor(Role.KEEP, mla.kv_lora_rank + (mla.q_lora_rank or 0), 1),  # latent norms
    ]


def _feed_forward_tensors(arch: Architecture, layer: int) -> list[Tensor]:
    h = arch.hidden_size
    if not is_moe_layer(arch, layer):
        return _gated_ffn(h, arch.intermediate_size or arch.moe_intermediate_size or h)
    assert arch.experts is not None
    width = arch.moe_intermediate_size or arch.intermediate_size or h
    tensors = [
        Tensor(Role.KEEP, h, arch.experts),  # router (F32)
        Tensor(Role.FFN_GATE, h, width, arch.experts, expert=True),
        Tensor(Role.FFN_UP, h, width, arch.experts, expert=True),
        Tensor(Role.FFN_DOWN, width, h, arch.experts, expert=True),
    ]
    shared = (arch.shared_experts or 0) * (arch.shared_expert_intermediate_size or width)
    if shared:
        tensors += _gated_ffn(h, shared, shared_expert=True)
    return tensors


def _gated_ffn(hidden: int, width: int, shared_expert: bool = False) -> list[Tensor]:
    """Gate, up and down projections of one feed-forward block ``width`` wide."""
    return [
        Tensor(Role.FFN_GATE, hidden, width, shared_expert=shared_expert),
        Tensor(Role.FFN_UP, hidden, width, shared_expert=shared_expert),
        Tensor(Role.FFN_DOWN, width, hidden, shared_expert=shared_expert),
    ]
