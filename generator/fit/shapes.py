"""Fit engine, shapes: a checkpoint's bytes as the parts a placement moves between cards. Pure.

Embeddings, each repeating layer (as running sums, so any run of layers costs two lookups), the
output head and the routed experts; ``without_experts`` is llama.cpp's ``--n-cpu-moe``.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.fit.weights import WeightSizes


@dataclass(frozen=True, slots=True)
class Shapes:
    """The parts of a model a placement moves around, in bytes at the chosen precisions."""

    layers: int
    prefix: tuple[int, ...]  # prefix[i]: bytes of repeating layers 0 … i − 1 (layers + 1 items)
    embed_weights: int  # token embeddings
    head_weights: int  # output projection (the embeddings again when tied)
    tied: bool
    routed_experts: int  # bytes of every routed expert, all layers
    routed_prefix: tuple[int, ...] = (0,)  # routed_prefix[i]: routed experts of layers 0 … i − 1

    @property
    def layer_weights(self) -> float:
        """The average repeating layer, bytes."""
        return self.prefix[-1] / self.layers

    def span(self, start: int, count: int) -> int:
        """Bytes of ``count`` repeating layers from ``start``."""
        return self.prefix[start + count] - self.prefix[start]


def make_shapes(sizes: WeightSizes, tied: bool) -> Shapes:
    """A placement's view of a checkpoint's tensor sizes (``fit.weights``)."""
    head = sizes.embedding if tied else sizes.output
    return Shapes(
        len(sizes.layers), _prefix(sizes.layers), sizes.embedding, head + sizes.other, tied,
        sizes.routed_total, _prefix(sizes.routed_experts),
    )  # fmt: skip


def without_experts(shapes: Shapes, layers: int) -> Shapes:
    """The shapes with the routed experts of the first ``layers`` layers kept off the cards
    (llama.cpp's ``--n-cpu-moe N``): those layers stay on their cards, lighter."""
    routed = shapes.routed_prefix
    prefix = tuple(p - routed[min(i, layers)] for i, p in enumerate(shapes.prefix))
    return Shapes(
        shapes.layers, prefix, shapes.embed_weights, shapes.head_weights, shapes.tied,
        shapes.routed_experts - routed[layers], routed,
    )  # fmt: skip


def _prefix(values: tuple[int, ...]) -> tuple[int, ...]:
    sums = [0]
    for value in values:
        sums.append(sums[-1] + value)
    return tuple(sums)
