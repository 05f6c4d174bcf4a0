"""Frozen results: one :class:`Layer` per leaf layer, a :class:`Network` over them.

Totals are derived from the layers, never stored. Nothing here formats a number;
``table.py`` does that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from .conventions import CONVENTIONS
from .errors import CNNError
from .layers import Axis, Shape


class ReceptiveField(NamedTuple):
    """The receptive field along one dimension, in input pixels.

    ``size``: pixels one output sees; ``jump``: input pixels between neighbouring
    outputs; ``start``: centre of the first output's field (0 = centre of the first
    input pixel; negative when it lies in the padding).
    """

    size: int
    jump: int
    start: float


class Layer(NamedTuple):
    """One leaf layer, with every count it contributes.

    A named tuple rather than a frozen dataclass: as immutable, and four times cheaper to
    create, which a 10,000-layer network notices.
    """

    name: str
    op: str  # canonical layer name: "conv", "maxpool", "fc", "add", ...
    text: str  # the statement as written, without its label
    line: int
    depth: int  # how many blocks enclose it
    block: str  # enclosing blocks' names joined by "/", "" at top level
    in_shape: Shape
    out_shape: Shape
    weights: int
    biases: int
    macs: int
    exact: int  # multiplications + additions, the notes' way
    ops: int  # other operations, counted only by "all ops"
    activation: str | None = None
    axes: tuple[Axis, Axis] | None = None
    receptive_field: tuple[ReceptiveField, ReceptiveField] | None = None
    branches: tuple[Shape, ...] = ()  # merge rows (add, concat): the shapes merged

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def flops(self) -> int:
        """FLOPs = 2 · MACs (the notes' main convention)."""
        return 2 * self.macs

    @property
    def elements(self) -> int:
        """Output elements: the activation memory of this layer, in values."""
        return math.prod(self.out_shape)

    def count(self, convention: str = "flops", all_ops: bool = False) -> int:
        """This layer's operations under ``convention`` ("flops", "macs" or "exact")."""
        base = {"flops": 2 * self.macs, "macs": self.macs, "exact": self.exact}[convention]
        return base + self.ops if all_ops else base


class Block(NamedTuple):
    """A block of the text (repeat, residual, concat, add): where its layers are."""

    name: str
    kind: str
    line: int
    depth: int
    block: str  # enclosing blocks, as for Layer
    in_shape: Shape
    out_shape: Shape
    first: int  # index of its first layer in Network.layers
    stop: int  # one past its last layer


@dataclass(frozen=True, slots=True)
class Network:
    """The evaluated network: layers in execution order, blocks expanded."""

    text: str
    rounding: str
    input_shape: Shape
    layers: tuple[Layer, ...]
    blocks: tuple[Block, ...] = ()
    declared_rounding: str | None = None  # what the text's `rounding` statement says

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].out_shape if self.layers else self.input_shape

    @property
    def weights(self) -> int:
        return sum(layer.weights for layer in self.layers)

    @property
    def biases(self) -> int:
        return sum(layer.biases for layer in self.layers)

    @property
    def params(self) -> int:
        return sum(layer.weights + layer.biases for layer in self.layers)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of conv, deconv and fc layers."""
        return sum(layer.macs for layer in self.layers)

    @property
    def flops(self) -> int:
        """FLOPs = 2 · MACs of conv, deconv and fc layers (the notes' convention)."""
        return 2 * self.macs

    @property
    def exact(self) -> int:
        """Multiplications + additions of conv, deconv and fc, bias adds where present."""
        return sum(layer.exact for layer in self.layers)

    @property
    def ops(self) -> int:
        """The other operations that "all ops" adds: pooling, activations, BN, adds."""
        return sum(layer.ops for layer in self.layers)

    @property
    def receptive_field(self) -> tuple[ReceptiveField, ReceptiveField] | None:
        for layer in reversed(self.layers):
            return layer.receptive_field
        return (ReceptiveField(1, 1, 0.0),) * 2 if len(self.input_shape) == 3 else None

    def total(self, convention: str = "flops", all_ops: bool = False) -> int:
        """The network's operations under ``convention``, optionally with all ops."""
        if convention not in CONVENTIONS:
            raise CNNError(
                f"unknown FLOPs convention {convention!r}", hint="valid: " + ", ".join(CONVENTIONS)
            )
        return sum(layer.count(convention, all_ops) for layer in self.layers)

    def to_frame(self, convention: str = "flops", all_ops: bool = False, dtype: str = "float32"):
        """A pandas DataFrame, one row per layer (pandas is imported only here), with the
        chosen convention's ``count`` and the activation ``bytes`` at ``dtype``."""
        from .table import to_frame

        return to_frame(self, convention=convention, all_ops=all_ops, dtype=dtype)

    # The exports below share their keywords: ``convention`` ("flops", "macs" or "exact"),
    # ``all_ops`` (also count pooling, activations, BN, adds) and ``units`` (k/M/G instead
    # of exact integers). Each table carries the totals row and states its conventions.

    def _render(self, renderer: str, convention: str, all_ops: bool, units: bool) -> str:
        from . import table  # imported on first export only: import cnn_magic stays light

        return getattr(table, renderer)(self, convention, all_ops, units=units)

    def to_text(
        self, convention: str = "flops", all_ops: bool = False, *, units: bool = False
    ) -> str:
        """The aligned plain-text table that ``cnn-magic`` prints."""
        return self._render("to_text", convention, all_ops, units)

    def to_markdown(
        self, convention: str = "flops", all_ops: bool = False, *, units: bool = False
    ) -> str:
        """A Markdown table; numbers with thousands separators."""
        return self._render("to_markdown", convention, all_ops, units)

    def to_csv(
        self, convention: str = "flops", all_ops: bool = False, *, units: bool = False
    ) -> str:
        """CSV, one line per layer and the totals; raw integers unless ``units``."""
        return self._render("to_csv", convention, all_ops, units)

    def to_json(
        self, convention: str = "flops", all_ops: bool = False, *, units: bool = False
    ) -> str:
        """JSON: per-layer records, totals and conventions; raw integers unless ``units``."""
        return self._render("to_json", convention, all_ops, units)

    def to_latex(
        self, convention: str = "flops", all_ops: bool = False, *, units: bool = False
    ) -> str:
        """A booktabs ``tabular`` as a paper prints it."""
        return self._render("to_latex", convention, all_ops, units)

    def to_torch(self):
        """An equivalent ``torch.nn.Module`` (in eval mode), to check the numbers against
        PyTorch; it takes NCHW input: ``torch.zeros(1, C, H, W)``. See
        :mod:`cnn_magic.torch_export`."""
        from .torch_export import to_torch

        return to_torch(self)

    def _repr_html_(self) -> str:
        from .table import to_html

        return to_html(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        from .table import to_text

        printer.text(repr(self) if cycle else to_text(self))

    def __repr__(self) -> str:
        return (
            f"<Network {len(self.layers)} layers, input {self.input_shape}, "
            f"output {self.output_shape}, {self.params:,} params, "
            f"{self.macs:,} MACs>"
        )
