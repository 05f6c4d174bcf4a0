"""Frozen results: one :class:`Layer` per leaf layer, a :class:`Network` over them.

Totals are derived from the layers, never stored. Nothing here formats a number;
``table.py`` does that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .conventions import Rounding, check_convention, check_dtype, check_flag
from .layers import Args
from .shapes import Axis, ReceptiveField, Shape, elements

if TYPE_CHECKING:
    from .explain import Explanation
    from .pictures.svg import Svg

__all__ = ["Block", "Layer", "Network", "ReceptiveField"]


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
    axes: tuple[Axis, ...] | None = None  # one per spatial dimension of a window layer
    receptive_field: tuple[ReceptiveField, ...] | None = None  # per spatial dimension
    branches: tuple[Shape, ...] = ()  # merge rows (add, concat): the shapes merged
    args: Args | None = None  # the typed arguments its rule read, defaults filled in
    # references: the rows whose outputs it reads instead of the previous one (-1: the
    # input); a layer written with from=LABEL reads one, a merge of labels several
    reads: tuple[int, ...] = ()
    shared: int = -1  # a reused layer: the row whose weights it uses (its params count there)

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
        return elements(self.out_shape)

    def count(self, convention: str = "flops", *, all_ops: bool = False) -> int:
        """This layer's operations under ``convention`` ("flops", "macs" or "exact")."""
        return _count(self, check_convention(convention), check_flag("all_ops", all_ops))

    def windows_svg(self) -> Svg:
        """An SVG picture of this layer's windows along each spatial dimension: padding,
        each window and the output it makes, what the rounding leaves out or adds.
        Conv, pooling and transposed conv layers only. See :mod:`cnn_magic.pictures`."""
        from .pictures import layer_windows

        return layer_windows(self)


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


def _count(layer: Layer, convention: str, all_ops: bool) -> int:
    if convention == "flops":
        base = 2 * layer.macs
    else:
        base = layer.macs if convention == "macs" else layer.exact
    return base + layer.ops if all_ops else base


class Network:
    """The evaluated network: layers in execution order, blocks expanded. Immutable.

    A plain class with slots rather than a frozen dataclass: ``import dataclasses``
    (and the ``inspect`` it pulls in) was a third of ``import cnn_magic``.
    """

    __slots__ = (
        "blocks",
        "declared_rounding",
        "input_label",
        "input_shape",
        "layers",
        "rounding",
        "text",
    )

    text: str
    rounding: Rounding
    input_shape: Shape
    layers: tuple[Layer, ...]
    blocks: tuple[Block, ...]
    declared_rounding: Rounding | None  # what the text's `rounding` statement says
    input_label: str  # the first input's label: `x: input ...`, else "input"

    def __init__(
        self,
        text: str,
        rounding: Rounding,
        input_shape: Shape,
        layers: tuple[Layer, ...],
        blocks: tuple[Block, ...] = (),
        declared_rounding: Rounding | None = None,
        input_label: str = "input",
    ) -> None:
        setter = object.__setattr__  # the fields are set once, here
        setter(self, "text", text)
        setter(self, "rounding", rounding)
        setter(self, "input_shape", input_shape)
        setter(self, "layers", layers)
        setter(self, "blocks", blocks)
        setter(self, "declared_rounding", declared_rounding)
        setter(self, "input_label", input_label)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Network is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Network is immutable: cannot delete {name!r}")

    def _fields(
        self,
    ) -> tuple[str, Rounding, Shape, tuple[Layer, ...], tuple[Block, ...], Rounding | None, str]:
        return (
            self.text,
            self.rounding,
            self.input_shape,
            self.layers,
            self.blocks,
            self.declared_rounding,
            self.input_label,
        )

    def replace(self, **changes: Any) -> Network:
        """A copy with some fields changed: ``net.replace(layers=...)``."""
        fields: dict[str, Any] = {
            "text": self.text,
            "rounding": self.rounding,
            "input_shape": self.input_shape,
            "layers": self.layers,
            "blocks": self.blocks,
            "declared_rounding": self.declared_rounding,
            "input_label": self.input_label,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"Network has no field {sorted(unknown)[0]!r}")
        fields.update(changes)
        return Network(**fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Network) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Network, self._fields())

    @property
    def output_shape(self) -> Shape:
        """The main output's shape (side outputs are in :attr:`side_outputs`)."""
        layers = self.main.layers
        return layers[-1].out_shape if layers else self.input_shape

    @property
    def inputs(self) -> tuple[tuple[str, Shape], ...]:
        """(name, shape) of each input, in order: ``input`` for the first unless labelled."""
        more = tuple((b.name, b.out_shape) for b in self.blocks if b.kind == "input")
        return ((self.input_label, self.input_shape), *more)

    @property
    def side_outputs(self) -> tuple[tuple[str, Shape], ...]:
        """(name, shape) of each side output (``side:`` block), in order."""
        return tuple((b.name, b.out_shape) for b in self.blocks if b.kind == "side")

    @property
    def main(self) -> Network:
        """The network without its side outputs: what runs at inference when auxiliary
        heads are only for training (GoogLeNet as torchvision ships it)."""
        sides = [(b.first, b.stop) for b in self.blocks if b.kind == "side"]
        if not sides:
            return self
        keep = [i for i in range(len(self.layers)) if not any(lo <= i < hi for lo, hi in sides)]
        blocks = [
            b._replace(first=sum(i < b.first for i in keep), stop=sum(i < b.stop for i in keep))
            for b in self.blocks
            if not any(lo <= b.first and b.stop <= hi for lo, hi in sides)
        ]
        return self.replace(layers=tuple(self.layers[i] for i in keep), blocks=tuple(blocks))

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
    def receptive_field(self) -> tuple[ReceptiveField, ...] | None:
        for layer in reversed(self.layers):
            return layer.receptive_field
        dims = len(self.input_shape) - 1
        return (ReceptiveField(1, 1, 0.0),) * dims if dims else None

    def total(self, convention: str = "flops", *, all_ops: bool = False) -> int:
        """The network's operations under ``convention``, optionally with all ops.

        ``convention`` may also name another tool ("torchinfo", "fvcore", "thop", ...):
        the figure that tool reports for this network's PyTorch twin (see
        :mod:`cnn_magic.tools`; ``all_ops`` does not apply there)."""
        from . import tools  # pure Python; imported on first use only

        if isinstance(convention, str) and convention.lower() in tools.TOOLS:
            return tools.total(self, convention)
        checked, every = check_convention(convention), check_flag("all_ops", all_ops)
        return sum(_count(layer, checked, every) for layer in self.layers)

    def to_frame(
        self,
        convention: str = "flops",
        *,
        all_ops: bool = False,
        dtype: str = "float32",
        units: bool = False,
    ) -> Any:
        """A pandas DataFrame, one row per layer (pandas is imported only here), with the
        chosen convention's ``count`` and the activation ``bytes`` at ``dtype``;
        ``units=True``: counts as k/M/G text."""
        from .table import to_frame

        return to_frame(self, convention=convention, all_ops=all_ops, dtype=dtype, units=units)

    # The exports below share their keywords: ``convention`` ("flops", "macs" or "exact"),
    # ``all_ops`` (also count pooling, activations, BN, adds) and ``units`` (k/M/G instead
    # of exact integers). Each table carries the totals row and states its conventions.

    def _render(self, renderer: str, convention: str, all_ops: bool, units: bool) -> str:
        from . import table  # imported on first export only: import cnn_magic stays light

        checked = check_convention(convention)
        flags = check_flag("all_ops", all_ops), check_flag("units", units)
        text: str = getattr(table, renderer)(self, checked, flags[0], units=flags[1])
        return text

    def to_text(
        self, convention: str = "flops", *, all_ops: bool = False, units: bool = False
    ) -> str:
        """The aligned plain-text table that ``cnn-magic`` prints."""
        return self._render("to_text", convention, all_ops, units)

    def to_markdown(
        self, convention: str = "flops", *, all_ops: bool = False, units: bool = False
    ) -> str:
        """A Markdown table; numbers with thousands separators."""
        return self._render("to_markdown", convention, all_ops, units)

    def to_csv(
        self, convention: str = "flops", *, all_ops: bool = False, units: bool = False
    ) -> str:
        """CSV, one line per layer and the totals; raw integers unless ``units``."""
        return self._render("to_csv", convention, all_ops, units)

    def to_json(
        self, convention: str = "flops", *, all_ops: bool = False, units: bool = False
    ) -> str:
        """JSON: per-layer records, totals and conventions; raw integers unless ``units``."""
        return self._render("to_json", convention, all_ops, units)

    def to_latex(
        self, convention: str = "flops", *, all_ops: bool = False, units: bool = False
    ) -> str:
        """A booktabs ``tabular`` as a paper prints it."""
        return self._render("to_latex", convention, all_ops, units)

    def to_svg(self, title: str = "") -> Svg:
        """The network's picture as SVG: feature maps as boxes sized by their shapes,
        vectors as bars, blocks as branches that split and merge, repeats drawn once
        with ×N. A ``str`` that a notebook displays. See :mod:`cnn_magic.pictures`."""
        from .pictures import network_picture

        return network_picture(self, title)

    def cost_svg(self, by: str = "layer", convention: str = "flops", all_ops: bool = False) -> Svg:
        """Where the parameters, operations (under ``convention``) and activation memory
        go, per layer or per block (``by="block"``): bars and a cumulative line, as SVG."""
        from .pictures import cost_picture

        return cost_picture(self, by, convention, all_ops)

    def explain(
        self, convention: str = "flops", *, all_ops: bool = False, dtype: str = "float32"
    ) -> Explanation:
        """Every layer's numbers worked out with its own values (see :mod:`cnn_magic.explain`)."""
        from .explain import explain

        return explain(self, convention, all_ops=all_ops, dtype=check_dtype(dtype))

    def compare_tools(self) -> Any:
        """What torchinfo, fvcore, ptflops, thop and FlopCounterMode report for this
        network's PyTorch twin, side by side with what each counts (a
        :class:`cnn_magic.tools.ToolComparison`; ``print`` it or show it in a notebook)."""
        from .tools import compare_tools

        return compare_tools(self)

    def memory(
        self,
        batch: int = 1,
        dtype: str = "float32",
        optimizer: str = "sgd",
        training: bool = True,
    ) -> Any:
        """Memory of a training step: parameters, gradients, optimizer state ("sgd",
        "momentum" or "adam") and the activations kept for backward, per layer and in
        total, in bytes (a :class:`cnn_magic.memory.Memory`; ``print`` it)."""
        from .memory import memory

        return memory(self, batch, dtype, optimizer, training)

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Module`` (in eval mode), to check the numbers against
        PyTorch; it takes channels-first input: ``torch.zeros(1, C, H, W)`` (``(1, C, L)``,
        ``(1, C, D, H, W)``). See :mod:`cnn_magic.torch_export`."""
        from .torch_export import to_torch

        return to_torch(self)

    def _repr_html_(self) -> str:
        from .table import to_html

        return to_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from .table import to_text

        printer.text(repr(self) if cycle else to_text(self))

    def __repr__(self) -> str:
        return (
            f"<Network {len(self.layers)} layers, input {self.input_shape}, "
            f"output {self.output_shape}, {self.params:,} params, "
            f"{self.macs:,} MACs>"
        )
