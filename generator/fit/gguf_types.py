"""Fit engine, GGUF tensor types: the ggml type llama.cpp's quantizer gives each tensor. Pure.

One average bits-per-weight figure cannot size every model: llama.cpp picks a type for each
tensor from the file type (ftype), the tensor's role, its layer and the model's shape, and falls
back to another type when a row is not a whole number of blocks. ``GgufTyper`` makes the same
choice; ``tensor_bytes`` sizes a tensor in the chosen type.

Facts, not code, are taken from public sources:

- Block sizes (elements, bytes per block) from ggml's ``ggml-common.h`` block structs.
- The choice of type per tensor from llama.cpp ``src/llama-quant.cpp`` (``llama_tensor_get_type``,
  ``tensor_type_fallback``, ``llama_ftype_get_default_type``), ggml-org/llama.cpp @007dbbf3.
  Two assumptions: the file was made with an importance matrix (as bartowski, unsloth and
  mradermacher publish), and only Llama/Qwen2-style dense models with 80 layers count as
  llama.cpp's "70B" type. Falcon's special cases are left out (no Falcon in the catalog).
"""

from __future__ import annotations

from collections.abc import Callable

from generator.catalog.architecture import Architecture
from generator.fit.tensors import Role, Tensor, is_moe_layer

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

_IQ2_FAMILY = frozenset({"IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M"})
_OUTPUT_Q5K = frozenset({"IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"})
_ATTN_OUT_Q5K_8E = frozenset({
    "Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ3_S",
    "IQ3_M", "IQ4_XS",
})  # fmt: skip
#: The attention output's type by file type, for models without 8 experts.
_ATTN_OUT: dict[str, str] = {
    "Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K", "IQ3_M": "Q4_K",
}  # fmt: skip


def tensor_bytes(ggml_type: str, tensor: Tensor) -> int:
    """Bytes of ``tensor`` stored as ``ggml_type`` (rows are whole blocks)."""
    per_block, size = BLOCKS[ggml_type]
    return tensor.rows * tensor.count * (tensor.cols // per_block) * size


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
        """The quantizer's choice before the block-size fallback: the output (and a tied
        embedding) first, then MXFP4 files, the embedding, the IQ1/IQ2 files, then by role."""
        if t.role is Role.OUTPUT or (self.arch.tie_word_embeddings and t.role is Role.EMBED):
            return self._output_type(t)
        if self.ftype == "MXFP4_MOE":
            return "MXFP4" if t.expert else "Q8_0"
        if t.role is Role.EMBED:
            return self._embedding_type()
        if self.ftype in _IQ2_FAMILY:
            return self._iq2_type(t, layer)
        by_role = _ROLE_RULES.get(t.role)
        return self.default if by_role is None else by_role(self, layer)

    def _output_type(self, t: Tensor) -> str:
        ft, new = self.ftype, self.default
        if self.embed_output:
            return self.embed_output
        if ft == "MXFP4_MOE" or t.cols % BLOCKS[new][0]:
            return "Q8_0"
        if ft in _OUTPUT_Q5K:
            return "Q5_K"
        return new if new == "Q8_0" else "Q6_K"

    def _embedding_type(self) -> str:
        ft = self.ftype
        if self.embed_output:
            return self.embed_output
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "Q2_K"
        if ft in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "IQ3_S"
        return self.default

    def _attn_v_type(self, layer: int) -> str:
        ft, new, gqa = self.ftype, self.default, self.gqa
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
        return "Q8_0" if self.n_expert == 8 else new

    def _attn_k_type(self, layer: int) -> str:
        if self.n_expert == 8:
            return "Q8_0"
        return self._attn_q_type(layer)

    def _attn_q_type(self, layer: int) -> str:
        if self.ftype == "IQ3_XS":
            return "IQ3_XXS"
        if self.ftype == "IQ3_XXS":
            return "IQ2_S"
        return self.default

    def _ffn_down_type(self, layer: int) -> str:
        ft, new, i, n = self.ftype, self.default, layer, self.n_layers
        first_eighth, more = i < n // 8, use_more_bits(i, n)
        if ft == "Q2_K":
            return "Q3_K"
        if ft == "Q2_K_S":
            return "Q4_K" if first_eighth else new
        if ft == "IQ3_XXS" and not self.imatrix:
            return "Q4_K" if first_eighth else "Q3_K"
        if ft == "Q3_K_M":
            return "Q5_K" if i < n // 16 else "Q4_K"
        if ft == "IQ3_M" and (first_eighth or (self.n_expert == 8 and more)):
            return "Q4_K"
        if ft == "Q3_K_L":
            return "Q5_K"
        if ft == "Q4_K_M":
            return "Q6_K" if more else new
        if first_eighth and ft in ("IQ4_NL", "IQ4_XS") and not self.imatrix:
            return "Q5_K"
        if ft == "Q5_K_M" and more:
            return "Q6_K"
        if ft == "Q4_K_S" and first_eighth:
            return "Q5_K"
        if ft in ("Q4_0", "Q5_0") and self.imatrix and first_eighth:
            return "Q4_1" if ft == "Q4_0" else "Q5_1"
        return new

    def _attn_out_type(self, layer: int) -> str:
        ft, new = self.ftype, self.default
        if self.n_expert == 8:
            return "Q5_K" if ft in _ATTN_OUT_Q5K_8E else new
        return _ATTN_OUT.get(ft, new)

    def _ffn_gate_up_type(self, layer: int) -> str:
        n = self.n_layers
        if self.ftype == "IQ3_XS" and n // 8 <= layer < 7 * n // 8:
            return "IQ3_XXS"
        return self.default

    def _iq2_type(self, t: Tensor, layer: int) -> str:
        """The rules of the IQ1 and IQ2 file types, which go by the ffn_down count."""
        ft, new = self.ftype, self.default
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


#: The rule for each role of a repeating layer (files outside the IQ1/IQ2 family); a role not
#: listed gets the file's bulk type.
_ROLE_RULES: dict[Role, Callable[[GgufTyper, int], str]] = {
    Role.ATTN_V: GgufTyper._attn_v_type,
    Role.ATTN_K: GgufTyper._attn_k_type,
    Role.ATTN_Q: GgufTyper._attn_q_type,
    Role.FFN_DOWN: GgufTyper._ffn_down_type,
    Role.ATTN_OUT: GgufTyper._attn_out_type,
    Role.FFN_GATE: GgufTyper._ffn_gate_up_type,
    Role.FFN_UP: GgufTyper._ffn_gate_up_type,
}
