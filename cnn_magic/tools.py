"""What the other counting tools would report for a network, reproduced layer by layer.

torchinfo, fvcore, ptflops, thop and PyTorch's own ``FlopCounterMode`` all answer
"how many FLOPs?", and for ResNet-50 at 224×224 they answer five different numbers.
None of them is wrong: each counts a different set of operations. Here each tool is
one :class:`Tool`, a pure function from one of our layers to the integer that tool
adds for the PyTorch module(s) of that layer (batch 1), with one sentence on what it
counts. ``net.total("thop")`` is then the sum over the layers, and
``net.compare_tools()`` puts them all side by side.

The formulas were read from each tool's source at the versions pinned in the ``test``
extra and are checked there against the real tools, exactly, on the example networks'
PyTorch twins and on ``net.to_torch()``, whose figure ``net.total`` reproduces where a
model written another way differs (docs/tools.md lists those cases). For ResNet-50
(``cnn_magic.example("resnet50")``):

>>> from cnn_magic import example
>>> net = example("resnet50")
>>> for name in ("torchinfo", "fvcore", "fvcore-eval", "ptflops-pytorch", "ptflops-aten",
...              "thop", "flopcountermode"):
...     print(f"{name:16} {net.total(name):>13,}")
torchinfo        4,089,238,376
fvcore           4,144,854,528
fvcore-eval      4,111,512,576
ptflops-pytorch  4,132,436,968
ptflops-aten     4,089,185,256
thop             4,133,742,592
flopcountermode  8,178,368,512
>>> net.macs
4089184256

Parameters: torchinfo counts what PyTorch's ``parameters()`` holds (= ``net.params``);
Keras also counts batch normalisation's moving mean and variance (non-trainable
weights in Keras), 2·C more per ``bn``:

>>> tool_params(net, "keras") - net.params
53120
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from .errors import CNNError, did_you_mean
from .i18n import N_, _, current_language, display_width, language, pad
from .layers import ACTIVATIONS
from .results import Block, Layer, Network

_CONVS = ("conv", "dwconv")
_POOLS = ("maxpool", "avgpool", "gap", "gmp", "adaptiveavgpool", "adaptivemaxpool")
_ADAPTIVE_AVG = ("gap", "adaptiveavgpool")


def _nothing(layer: Layer) -> int:
    return 0


class Tool(NamedTuple):
    """One tool's way of counting: its name, what it counts, and the per-layer count.

    ``per_layer`` is what the tool adds each time the layer runs. ``per_module`` is the
    part it accumulates on the layer's module by a forward hook and then sums over the
    model's tree of modules (ptflops' module hooks, thop): a module that ``reuse`` runs
    again is both called and found in the tree once more per use, so that part counts
    ``uses`` times per run; thop also hooks it once per place in the tree
    (``Module.apply`` visits it there each time), ``uses²`` times (see :func:`total`)."""

    name: str
    call: str  # how the tool is called to get the figure
    counts: str  # what it counts, one sentence
    per_layer: Callable[[Layer], int]
    per_module: Callable[[Layer], int] = _nothing
    hooked_per_place: bool = False  # thop: a shared module's hook is registered per place
    # fvcore: the rows its trace keeps (the others are left out), given the network
    traced: Callable[[Network], frozenset[int]] | None = None


def _elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _spatial(shape: tuple[int, ...]) -> int:
    """The spatial size of a map, L, H·W or D·H·W (1 for a vector)."""
    return math.prod(shape[:-1]) if len(shape) > 1 else 1


def _bn_elements(layer: Layer) -> int:
    return _elements(layer.in_shape) if layer.op == "bn" else 0


_NORMS = ("layernorm", "groupnorm", "instancenorm")


def _affine(layer: Layer) -> bool:
    """Whether a norm has γ and β (instance norm only when written ``affine``)."""
    return layer.op != "instancenorm" or (layer.args is not None and layer.args.mode == "affine")


# ------------------------------------------------------------------ torchinfo 1.8


def _torchinfo(layer: Layer) -> int:
    """``total_mult_adds``: a conv (or transposed conv) layer's parameters, bias
    included, times its *output* H·W; any other leaf module with parameters (fc, bn,
    prelu, the norms, layerscale) adds its parameter count once."""
    params = layer.weights + layer.biases
    if layer.op in (*_CONVS, "deconv"):
        # prelu's one weight sits in its own module, counted once
        own = params - (layer.activation == "prelu")
        return own * _spatial(layer.out_shape) + (layer.activation == "prelu")
    return params


# ------------------------------------------------------------------ fvcore 0.1.5


def _fvcore(training: bool) -> Callable[[Layer], int]:
    def count(layer: Layer) -> int:
        """conv, deconv and fc MACs without bias; batch norm ``5·elements`` in training
        mode (``2·elements`` in eval mode, with γ, β); layer and group norm ``5·elements``
        and instance norm 5 (affine) or 4 in either mode (no running statistics); 2-D
        adaptive average pooling one per input element; 2-D upsampling 1 (nearest) or
        4 (bilinear) per output; everything else (pooling, activations, adds, products,
        rearrangements) zero. Only the rows its trace keeps count (``_traced``)."""
        if layer.op in (*_CONVS, "deconv", "fc"):
            return layer.macs
        if layer.op == "bn":
            return (5 if training else 2) * _bn_elements(layer)
        if layer.op in _NORMS:
            return (5 if _affine(layer) else 4) * _elements(layer.in_shape)
        if layer.op in _ADAPTIVE_AVG and len(layer.in_shape) == 3:  # only the 2-D op
            return _elements(layer.in_shape)
        if layer.op == "upsample" and len(layer.out_shape) == 3:
            # aten::upsample_nearest2d: 1 per output; upsample_bilinear2d: 4
            bilinear = layer.args is not None and layer.args.mode == "bilinear"
            return (4 if bilinear else 1) * _elements(layer.out_shape)
        return 0

    return count


def _traced(training: bool) -> Callable[[Network], frozenset[int]]:
    def kept(net: Network) -> frozenset[int]:
        """The rows fvcore's ``torch.jit`` trace keeps: those whose output reaches an
        output of the network (the main one, or a side head's), and in training mode
        every batch norm (it updates its running statistics), each with the rows it
        reads from. A layer whose output nothing reads runs, but is left out."""
        reads = _Reads(net)
        roots = [reads.sequence(0, len(net.layers), 0, -1), *reads.outputs]
        if training:
            roots += [index for index, layer in enumerate(net.layers) if layer.op == "bn"]
        found: set[int] = set()
        while roots:
            row = roots.pop()
            if row >= 0 and row not in found:
                found.add(row)
                roots += reads.inputs[row]
        return frozenset(found)

    return kept


class _Reads:
    """Which rows each row reads, walking the blocks as ``to_torch()`` builds them
    (negative rows are the inputs); the side heads' last rows are ``outputs``."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.starts = {(b.first, b.depth): b for b in net.blocks if b.kind != "input"}
        self.inputs: dict[int, tuple[int, ...]] = {}
        self.outputs: list[int] = []

    def sequence(self, lo: int, hi: int, depth: int, value: int) -> int:
        index = lo
        while index < hi:
            block = self.starts.get((index, depth))
            if block is not None:
                value, index = self.block(block, value), block.stop
            else:
                value, index = self.layer(index, (value,)), index + 1
        return value

    def block(self, block: Block, value: int) -> int:
        depth = block.depth + 1
        if block.kind in ("repeat", "group"):
            return self.sequence(block.first, block.stop, depth, value)
        if block.kind == "side":  # the head's output is an output; the input passes on
            self.outputs.append(self.sequence(block.first, block.stop, depth, value))
            return value
        from .torch_export import _Builder  # the same reading of paths as to_torch

        paths = _Builder(self.net, None).paths(block)
        outputs = [self.sequence(lo, hi, depth, value) for _, lo, hi in paths]
        if block.kind in ("residual", "scale") and len(outputs) == 1:
            outputs.append(value)  # the block's input is added, or multiplied
        return self.layer(block.stop - 1, tuple(outputs))

    def layer(self, index: int, inputs: tuple[int, ...]) -> int:
        self.inputs[index] = self.net.layers[index].reads or inputs
        return index


# ------------------------------------------------------------------ ptflops 0.7.5

# ptflops' "pytorch" backend counts an activation's output elements by its module hook
# (nn.ReLU, ReLU6, LeakyReLU, PReLU, ELU, GELU; looked up by exact type) and again by
# its patch of torch.nn.functional (relu, prelu, elu, gelu, silu, softmax) where the
# module's own forward calls that function. Hardswish, hard sigmoid, sigmoid and tanh
# are neither.
_PTFLOPS_MODULE_ACTIVATIONS = frozenset({"relu", "relu6", "leakyrelu", "prelu", "elu", "gelu"})
_PTFLOPS_FUNCTIONAL_ACTIVATIONS = frozenset({"relu", "prelu", "elu", "gelu", "silu", "softmax"})
# nn.ReLU6 calls F.hardtanh and nn.LeakyReLU F.leaky_relu, which are not patched.


def _ptflops_module(layer: Layer) -> int:
    """What ptflops' module hooks add: conv and deconv MACs + one per output element for
    the bias; fc MACs + bias; batch norm, group norm and affine instance norm
    ``2·elements``, layer norm (no ``affine`` attribute) and plain instance norm 1;
    pooling its *input* elements; nn.Upsample its output elements; activations per
    ``_PTFLOPS_MODULE_ACTIVATIONS``; everything else (adds written ``+``, products
    written ``*``, layerscale, shuffles, pads, crops, unpooling) zero."""
    count = _ptflops_activation(_PTFLOPS_MODULE_ACTIVATIONS, layer.activation, layer.out_shape)
    op = layer.op
    if op in (*_CONVS, "deconv"):
        count += layer.macs + (_elements(layer.out_shape) if layer.biases else 0)
    elif op == "fc":
        count += layer.macs + layer.biases
    elif op in ("bn", "groupnorm", "instancenorm"):
        count += (2 if _affine(layer) else 1) * _elements(layer.in_shape)
    elif op == "layernorm":
        count += _elements(layer.in_shape)
    elif op in _POOLS:
        count += _ptflops_pool_input(layer)
    elif op == "upsample":
        count += _elements(layer.out_shape)
    elif op in ACTIVATIONS:
        count += _ptflops_activation(_PTFLOPS_MODULE_ACTIVATIONS, op, layer.out_shape)
    return count


def _ptflops_functional(layer: Layer) -> int:
    """What ptflops' patches of torch.nn.functional add, once per call: pooling its input
    elements again; F.interpolate (nn.Upsample's) its output elements; activations per
    ``_PTFLOPS_FUNCTIONAL_ACTIVATIONS``; local response norm ``3·elements`` (x·x, ·α,
    +k through the patched Tensor.mul/add) plus the patched avg_pool3d over C + 4
    padded channels."""
    count = _ptflops_activation(_PTFLOPS_FUNCTIONAL_ACTIVATIONS, layer.activation, layer.out_shape)
    op = layer.op
    if op in _POOLS:
        count += _ptflops_pool_input(layer)
    elif op == "upsample":
        count += _elements(layer.out_shape)
    elif op == "lrn":  # in 1-D avg_pool2d over (C + 4)×L, in 3-D avg_pool3d: the same count
        count += 3 * _elements(layer.in_shape) + _spatial(layer.in_shape) * (layer.in_shape[-1] + 4)
    elif op in ACTIVATIONS:
        count += _ptflops_activation(_PTFLOPS_FUNCTIONAL_ACTIVATIONS, op, layer.out_shape)
    return count


def _ptflops_pool_input(layer: Layer) -> int:
    """The input as the pooling module receives it: where ``to_torch()`` pads in a
    module in front, the padded map (:func:`~cnn_magic.torch_export.padded_input`)."""
    from .torch_export import padded_input

    return _elements(padded_input(layer) or layer.in_shape)


def _ptflops_activation(counted: frozenset[str], name: str | None, shape: tuple[int, ...]) -> int:
    return _elements(shape) if name in counted else 0


def _ptflops_aten(layer: Layer) -> int:
    """Only ``aten.convolution`` and ``aten.mm``/``addmm``: conv, deconv and fc MACs, plus
    one per output element where there is a bias."""
    if layer.op in (*_CONVS, "deconv", "fc"):
        return layer.macs + (_elements(layer.out_shape) if layer.biases else 0)
    return 0


# ------------------------------------------------------------------ thop 0.1.1


def _thop(layer: Layer) -> int:
    """conv: output elements · C_in/g · k_h·k_w (no bias; for a transposed conv that is
    not its MACs); fc: in·out (no bias); batch norm ``4·elements`` (2, doubled for
    γ, β); layer norm 4 and instance norm 4 (affine) or 2 per element; average pooling
    one per output element; adaptive average pooling ``(H_in·W_in / (H_out·W_out) + 1)``
    per output element, in floating point, truncated; upsampling 1 (nearest), 5
    (linear) or 11 (bilinear) per output, trilinear zero (its hook skips the mode);
    prelu one per element; softmax ``3·C − 1`` per vector; ReLU, max pooling, and any
    module thop has no rule for (GroupNorm, Hardswish, SiLU, GELU, ChannelShuffle, the
    pads but ZeroPad2d, which is zero anyway, MaxUnpool, layerscale) zero."""
    op = layer.op
    count = _thop_activation(layer.activation, layer.out_shape)
    if op in _CONVS:
        count += layer.macs
    elif op == "deconv":
        kernel = math.prod(axis.kernel for axis in layer.axes or ())
        c_in, c_out = layer.in_shape[-1], layer.out_shape[-1]
        groups = c_in * c_out * kernel // layer.weights
        count += _elements(layer.out_shape) * (c_in // groups) * kernel
    elif op == "fc":
        count += layer.macs
    elif op == "bn":
        count += 4 * _bn_elements(layer)
    elif op in ("layernorm", "instancenorm"):  # no rule for nn.GroupNorm
        count += (4 if _affine(layer) else 2) * _elements(layer.in_shape)
    elif op == "avgpool":
        count += _elements(layer.out_shape)
    elif op in _ADAPTIVE_AVG:
        window = 1.0  # thop divides in float64 and multiplies, dimension by dimension
        for size, out in zip(layer.in_shape[:-1], layer.out_shape[:-1], strict=True):
            window *= size / out
        count += int((window + 1) * _elements(layer.out_shape))
    elif op == "upsample":
        mode = layer.args.mode if layer.args is not None else "nearest"
        count += _THOP_UPSAMPLE[mode or "nearest"] * _elements(layer.out_shape)
    elif op in ("prelu", "softmax"):
        count += _thop_activation(op, layer.out_shape)
    return count


# count_upsample: "trilinear" is missing from the modes it counts (its formula, 31, is
# never reached)
_THOP_UPSAMPLE = {"nearest": 1, "linear": 5, "bilinear": 11, "trilinear": 0}


def _thop_activation(name: str | None, shape: tuple[int, ...]) -> int:
    if name == "prelu":
        return _elements(shape)
    if name == "softmax":  # exp, add and divide per feature, one addition fewer
        return 3 * _elements(shape) - _elements(shape) // shape[-1]
    return 0


# ------------------------------------------------------------------ the table


def _flop_counter_mode(layer: Layer) -> int:
    """2 per multiply-add of convolutions and matrix products (``aten.convolution``,
    ``aten.mm``, ``aten.addmm``); bias, batch norm, pooling, activations are zero."""
    return 2 * layer.macs if layer.op in (*_CONVS, "deconv", "fc") else 0


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "torchinfo",
            "torchinfo.summary(model, input_size).total_mult_adds",
            N_(
                "multiply-adds; counts each weight and bias once per output position of a "
                "conv, and the parameters of fc and the norms once, so bias and norms add a "
                "little"
            ),
            _torchinfo,
        ),
        Tool(
            "fvcore",
            "fvcore.nn.FlopCountAnalysis(model, x).total()  (model in training mode)",
            N_(
                "multiply-adds of conv and fc without bias, plus 5 per batch-norm element in "
                "training mode (a fresh model is in training mode), 5 per layer- or group-norm "
                "element and 1 per element of adaptive average pooling"
            ),
            _fvcore(training=True),
            traced=_traced(training=True),
        ),
        Tool(
            "fvcore-eval",
            "fvcore.nn.FlopCountAnalysis(model.train(False), x).total()",
            N_("as fvcore, but batch norm in eval mode costs 2 per element"),
            _fvcore(training=False),
            traced=_traced(training=False),
        ),
        Tool(
            "ptflops-pytorch",
            "ptflops.get_model_complexity_info(model, (C, H, W), backend='pytorch')",
            N_(
                "multiply-adds with bias, BN 2 per element (layer norm 1), and ReLU and "
                "pooling counted twice (module hook and patched functional call) per element"
            ),
            _ptflops_functional,
            _ptflops_module,
        ),
        Tool(
            "ptflops-aten",
            "ptflops.get_model_complexity_info(model, (C, H, W), backend='aten')",
            N_("only convolutions and matrix products: multiply-adds plus one per biased output"),
            _ptflops_aten,
        ),
        Tool(
            "thop",
            "thop.profile(model, inputs=(x,))[0]",
            N_(
                "multiply-adds without bias, batch and layer norm 4 per element, average "
                "pooling; ReLU, max pooling and the modules it has no rule for free"
            ),
            _nothing,
            _thop,
            hooked_per_place=True,
        ),
        Tool(
            "flopcountermode",
            "torch.utils.flop_counter.FlopCounterMode().get_total_flops()",
            N_(
                "FLOPs = 2 per multiply-add of convolutions and matrix products only, bias "
                "excluded: twice our MACs"
            ),
            _flop_counter_mode,
        ),
    )
}
"""The tools by name, in the order the comparison table lists them."""

PARAM_TOOLS = {
    "torchinfo": N_("parameters PyTorch trains: weights, biases, batch norm's γ and β"),
    "keras": N_(
        "also batch norm's moving mean and variance (Keras's non-trainable weights): "
        "2·C more per batch norm"
    ),
}


def tool(name: str) -> Tool:
    """The :class:`Tool` called ``name``, or a CNNError listing the known ones."""
    found = TOOLS.get(str(name).lower())
    if found is None:
        raise CNNError(
            _("unknown tool {name!r}").format(name=name),
            hint=did_you_mean(str(name), [*TOOLS, *PARAM_TOOLS]),
        )
    return found


KNOWN_OPS = frozenset(
    {
        "conv",
        "dwconv",
        "deconv",
        "fc",
        "flatten",
        "bn",
        "dropout",
        "lrn",
        "identity",
        "upsample",
        "add",
        "concat",
        "mul",
        *_NORMS,
        "layerscale",
        "channelshuffle",
        "pixelshuffle",
        "pixelunshuffle",
        "pad",
        "crop",
        "maxunpool",
        *_POOLS,
        *ACTIVATIONS,
    }
)
"""The layer kinds whose PyTorch twins the tools' rules above were checked on; any
other layer is an error, never a silent zero."""


def _not_modelled(name: str, layer: Layer) -> CNNError:
    if layer.op == "opaque":  # no tool can be asked either: it has no PyTorch twin
        return CNNError(
            _("{name}'s count of {name2} cannot be given: it is opaque").format(
                name=name, name2=layer.name
            ),
            hint=_("run the tool on the model that was imported"),
        )
    return CNNError(
        _("{name}'s count of {name2} ({op}, {value}-D) is not modelled here").format(
            name=name, name2=layer.name, op=layer.op, value=len(layer.in_shape) - 1
        ),
        hint=_("compare with the tool itself on net.to_torch()"),
    )


def total(net: Network, name: str) -> int:
    """What the tool ``name`` reports for ``net``'s PyTorch twin at batch 1.

    A reused row (``reuse``) runs the module of the row it shares, so it is counted
    with that row's parameters. ``to_torch()`` registers that module once more under
    each reuse, so a tool that sums per-module totals over the tree of modules finds it
    ``uses`` times, each time with every call's count: its ``per_module`` part of
    each use's row counts ``uses`` times (``uses²`` for thop, which hooks it at each
    place as well)."""
    entry = tool(name)
    for layer in net.layers:
        if layer.op not in KNOWN_OPS:
            raise _not_modelled(name, layer)
    uses: dict[int, int] = {}
    for layer in net.layers:
        if layer.shared >= 0:
            uses[layer.shared] = uses.get(layer.shared, 1) + 1
    kept = entry.traced(net) if entry.traced is not None else None
    count = 0
    for index, layer in enumerate(net.layers):
        if kept is not None and index not in kept:
            continue
        owner = layer.shared if layer.shared >= 0 else index
        if layer.shared >= 0:
            original = net.layers[owner]
            layer = layer._replace(weights=original.weights, biases=original.biases)
        weight = uses.get(owner, 1) ** (2 if entry.hooked_per_place else 1)
        count += entry.per_layer(layer) + weight * entry.per_module(layer)
    return count


def tool_params(net: Network, name: str = "torchinfo") -> int:
    """Parameters as ``name`` counts them: ``"torchinfo"`` (PyTorch's) or ``"keras"``."""
    if name == "torchinfo":
        return net.params
    if name == "keras":
        statistics = (layer for layer in net.layers if layer.op == "bn" and layer.shared < 0)
        return net.params + sum(2 * layer.in_shape[-1] for layer in statistics)
    raise CNNError(
        _("unknown parameter convention {name!r}").format(name=name),
        hint=did_you_mean(name, PARAM_TOOLS),
    )


class ToolRow(NamedTuple):
    tool: str
    figure: int
    ratio: float  # to our MACs
    counts: str  # in English; shown in the comparison's language


class ToolComparison(NamedTuple):
    """Every tool's figure for one network, with our MACs as the yardstick; shown in the
    language in force when it was made."""

    macs: int
    params: int
    keras_params: int
    rows: tuple[ToolRow, ...]
    trainable: int = 0  # torchinfo's "Trainable params"; Keras's too
    frozen: int = 0  # torchinfo's "Non-trainable params"; Keras adds the BN statistics
    lang: str = "en"

    def _words(self) -> tuple[list[tuple[str, str, str, str]], str, str]:
        """(tool, figure, ratio, what it counts) rows, yardstick first; the two
        parameter lines."""
        with language(self.lang):
            rows = [(_("cnn_magic MACs"), f"{self.macs:,}", "1.000×", _("the yardstick"))]
            rows += [
                (row.tool, f"{row.figure:,}", f"{row.ratio:.3f}×", _(row.counts))
                for row in self.rows
            ]
            params = _(
                "parameters: {params} (PyTorch, torchinfo); {keras} (Keras, with batch "
                "norm's moving statistics)"
            ).format(params=f"{self.params:,}", keras=f"{self.keras_params:,}")
            trainable = _(
                "trainable: {trainable}; non-trainable: {frozen} (torchinfo), "
                "{keras_frozen} (Keras)"
            ).format(
                trainable=f"{self.trainable:,}",
                frozen=f"{self.frozen:,}",
                keras_frozen=f"{self.keras_params - self.trainable:,}",
            )
        return rows, params, trainable

    def __str__(self) -> str:
        rows, params, trainable = self._words()
        width = max(display_width(row[0]) for row in rows)
        lines = [
            f"{pad(name, width)}  {figure:>15}  {ratio}  {counts}"
            for name, figure, ratio, counts in rows
        ]
        return "\n".join([*lines, params, trainable])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        import html

        rows, params, trainable = self._words()
        with language(self.lang):
            head = [_("tool"), _("count"), _("÷ MACs"), _("what it counts")]
        cells = "".join(
            f"<tr><td>{html.escape(name)}</td><td style='text-align:right'>{figure}</td>"
            f"<td>{ratio}</td><td>{html.escape(counts)}</td></tr>"
            for name, figure, ratio, counts in rows
        )
        header = "".join(f"<th>{html.escape(word)}</th>" for word in head)
        return (
            f"<table><thead><tr>{header}</tr></thead><tbody>{cells}</tbody></table>"
            f"<p>{html.escape(params)}<br>{html.escape(trainable)}</p>"
        )


def compare_tools(net: Network) -> ToolComparison:
    """Every tool's total for ``net`` side by side, with what each counts."""
    macs = net.macs
    rows = []
    for name, entry in TOOLS.items():
        count = total(net, name)
        rows.append(ToolRow(name, count, count / macs if macs else 0.0, entry.counts))
    from .frozen import non_trainable, trainable

    return ToolComparison(
        macs,
        net.params,
        tool_params(net, "keras"),
        tuple(rows),
        trainable(net),
        non_trainable(net),
        current_language(),
    )
