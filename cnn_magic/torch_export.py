"""``Network.to_torch()``: the network as a PyTorch module, to check our numbers in one line.

PyTorch is optional: it is imported inside the functions here, never by ``import
cnn_magic``; without it they raise an ImportError that says ``pip install torch``.

The data layout differs: we write shapes H×W×C, PyTorch wants a batch of NCHW tensors.
Feed a map of H×W×C as ``torch.zeros(1, C, H, W)`` and a vector of N as
``torch.zeros(1, N)``; :func:`input_tensor` builds that tensor for you::

    net = cnn_magic.example("lenet5")
    model = net.to_torch()
    model(torch.zeros(1, 1, 32, 32)).shape               # torch.Size([1, 10])
    sum(p.numel() for p in model.parameters())           # 61706 == net.params
    cnn_magic.torch_export.compare(net)                  # [] : every layer agrees

The module is returned in eval mode (batch norm uses its running statistics, dropout
is off), ready to run a single sample; call ``.train()`` to train it.

Its structure follows the text: an ``nn.Sequential`` with one child per layer or
block, named after it (``.`` becomes ``_``). ``repeat`` is an ``nn.Sequential``,
``residual`` a :class:`Residual` (``body(x) + shortcut(x)``), ``concat`` a
:class:`Concat` (channels joined) and ``add`` an :class:`Add`. A layer that needs
several modules is an ``nn.Sequential`` of them: padding, the layer, its activation
(``fc`` on a feature map starts with ``nn.Flatten``). ``model.layer_modules[i]`` is
the module whose output is ``net.layers[i]``'s (for merge rows, the whole block).

How each layer maps:

=========================  ==========================================================
ours                       PyTorch
=========================  ==========================================================
conv, dwconv               ``nn.Conv2d`` (dwconv: ``groups`` = input channels)
deconv                     ``nn.ConvTranspose2d`` with ``output_padding``
maxpool, avgpool           ``nn.MaxPool2d`` / ``nn.AvgPool2d``; ``ceil_mode=True``
                           where the layer was rounded up (textbook rounding pools)
gap, gmp, adaptive pools   ``nn.AdaptiveAvgPool2d`` / ``nn.AdaptiveMaxPool2d``
fc, flatten                ``nn.Linear`` (after ``nn.Flatten`` for a map), ``nn.Flatten``
bn                         ``nn.BatchNorm2d`` on maps, ``nn.BatchNorm1d`` on vectors
dropout, lrn, identity     ``nn.Dropout(P)``, ``nn.LocalResponseNorm(5, k=2)``
                           (AlexNet's), ``nn.Identity``
activations                ``nn.ReLU`` … ``nn.Softmax(dim=1)`` (over channels)
=========================  ==========================================================

Padding: equal padding on both sides goes into the layer. Padding PyTorch cannot
express there — ``same`` with an odd total (the extra pixel after, as TensorFlow does;
PyTorch refuses ``padding='same'`` with a stride), a convolution rounded up, pooling
padding over half the undilated kernel — becomes an explicit ``nn.ZeroPad2d`` in
front (for max pooling a ``-inf`` ``nn.ConstantPad2d``, which is how PyTorch pads).
One difference in values, not in shapes: an average pool after unequal ``same``
padding counts the padded zeros, where TensorFlow leaves them out.
"""

from __future__ import annotations

import functools
import math
import operator

from .dsl import parse
from .evaluate import format_shape
from .layers import Axis, lookup, read_args
from .results import Block, Layer, Network

_CONTAINERS = ("Residual", "Concat", "Add")


def _torch():
    try:
        import torch
        from torch import nn
    except ImportError as err:
        raise ImportError(
            "to_torch() needs PyTorch, which is not installed here: "
            "pip install torch (or pip install 'cnn-magic[torch]')"
        ) from err
    return torch, nn


def to_torch(net: Network):
    """An ``nn.Module`` equivalent to ``net``, in eval mode; input NCHW (see the module
    docstring)."""
    _, nn = _torch()
    builder = _Builder(net, nn)
    model = builder.sequence(0, len(net.layers), 0)
    model.layer_modules = tuple(builder.modules)
    return model.train(False)  # inference mode: batch norm uses its running buffers


def input_tensor(net: Network, batch: int = 1):
    """Zeros in PyTorch's layout for ``net``'s input: ``(batch, C, H, W)`` or ``(batch, N)``."""
    torch, _ = _torch()
    shape = net.input_shape
    return (
        torch.zeros(batch, shape[2], shape[0], shape[1])
        if len(shape) == 3
        else torch.zeros(batch, *shape)
    )


def compare(net: Network, model=None, *, device: str = "cpu") -> list[str]:
    """Where PyTorch disagrees with us: runs zeros through ``model`` (by default
    ``net.to_torch()``) and compares every layer's output shape and parameter count, and
    the total. An empty list means every figure agrees. ``device="meta"`` checks shapes
    without allocating weights or computing anything (fast for VGG-sized networks)."""
    torch, _ = _torch()
    with torch.device(device):
        model = to_torch(net) if model is None else model
        zeros = input_tensor(net)
    shapes: dict[int, tuple[int, ...]] = {}

    def hook(index):
        return lambda module, inputs, output: shapes.__setitem__(index, _hwc(output.shape))

    handles = [m.register_forward_hook(hook(i)) for i, m in enumerate(model.layer_modules)]
    try:
        with torch.no_grad():
            model(zeros)
    finally:
        for handle in handles:
            handle.remove()
    problems = []
    for index, (layer, module) in enumerate(zip(net.layers, model.layer_modules, strict=True)):
        theirs = shapes.get(index)
        if theirs != layer.out_shape:
            problems.append(
                f"{layer.name}: output {format_shape(layer.out_shape)} here, "
                f"{format_shape(theirs) if theirs else 'never run'} in PyTorch"
            )
        if layer.op not in ("add", "concat"):  # a merge module holds its whole block
            count = sum(p.numel() for p in module.parameters())
            if count != layer.params:
                problems.append(
                    f"{layer.name}: {layer.params:,} parameters here, {count:,} in PyTorch"
                )
    total = sum(p.numel() for p in model.parameters())
    if total != net.params:
        problems.append(f"total: {net.params:,} parameters here, {total:,} in PyTorch")
    return problems


def _hwc(torch_shape) -> tuple[int, ...]:
    """PyTorch's (N, C, H, W) or (N, F) in our order, without the batch."""
    shape = tuple(torch_shape[1:])
    return (*shape[1:], shape[0]) if len(shape) == 3 else shape


class _Builder:
    """Rebuilds the block structure from ``net.blocks`` (index ranges into
    ``net.layers``) and each layer's path, and makes one module per layer."""

    def __init__(self, net: Network, nn) -> None:
        self.net, self.nn = net, nn
        self.starts = {(block.first, block.depth): block for block in net.blocks}
        self.modules: list = [None] * len(net.layers)

    def sequence(self, lo: int, hi: int, depth: int):
        """``net.layers[lo:hi]`` at ``depth``, blocks nested, as an ``nn.Sequential``."""
        seq = self.nn.Sequential()
        index = lo
        while index < hi:
            block = self.starts.get((index, depth))
            if block is not None:
                name, module, index = block.name, self.block(block), block.stop
            else:
                layer = self.net.layers[index]
                name, module = layer.name, self.leaf(layer)
                self.modules[index] = module
                index += 1
            seq.add_module(_child_name(seq, name), module)
        return seq

    def block(self, block: Block):
        depth = block.depth + 1
        if block.kind == "repeat":
            return self.sequence(block.first, block.stop, depth)
        merge = block.stop - 1  # the add/concat row closes the block
        paths = {label: self.sequence(lo, hi, depth) for label, lo, hi in self.paths(block)}
        containers = _classes()
        if block.kind == "residual":
            shortcut = paths.get("shortcut", self.nn.Identity())
            module = containers["Residual"](paths[""], shortcut)
        else:
            module = containers["Concat" if block.kind == "concat" else "Add"](paths)
        self.modules[merge] = module
        return module

    def paths(self, block: Block) -> list[tuple[str, int, int]]:
        """The parallel paths of a merge block: (label, first, stop) each, in order;
        a residual's body has the label ``""``."""
        inner = f"{block.block}/{block.name}" if block.block else block.name
        out: list[tuple[str, int, int]] = []
        for index in range(block.first, block.stop - 1):
            label = self.path_label(index, inner, block.kind)
            if out and out[-1][0] == label:
                out[-1] = (label, out[-1][1], index + 1)
            else:
                out.append((label, index, index + 1))
        return out

    def path_label(self, index: int, inner: str, kind: str) -> str:
        path = self.net.layers[index].block
        label = path[len(inner) + 1 :].split("/", 1)[0] if path != inner else ""
        if kind != "residual":
            return label
        # a block of the body that the user labelled "shortcut:" is not the shortcut
        nested = any(
            b.block == inner and b.name == label and b.first <= index < b.stop
            for b in self.net.blocks
        )
        return "shortcut" if label == "shortcut" and not nested else ""

    def leaf(self, layer: Layer):
        statement = parse(layer.text)[0]
        op, rule = lookup(statement)
        args = read_args(statement, op, rule.accepts)
        make = _LEAVES.get(op)
        if make is None:
            raise NotImplementedError(f"to_torch() does not know the layer '{op}' yet")
        parts = make(self.nn, layer, args)
        if layer.activation is not None:
            parts.append(_activation(self.nn, layer.activation, None))
        return parts[0] if len(parts) == 1 else self.nn.Sequential(*parts)


def _child_name(parent, name: str) -> str:
    """A module name for ``name``: no dots, and no clash with a sibling or an attribute."""
    base = name.replace(".", "_")
    key, number = base, 1
    while key in parent._modules or hasattr(parent, key):
        number += 1
        key = f"{base}_{number}"
    return key


# ------------------------------------------------------------------- one layer each


def _conv(nn, layer: Layer, args) -> list:
    c, n = layer.in_shape[2], layer.out_shape[2]
    groups = c if layer.op == "dwconv" else args.groups
    (top, bottom), (left, right) = (_pads(axis) for axis in layer.axes)
    pad = [] if (top, left) == (bottom, right) else [nn.ZeroPad2d((left, right, top, bottom))]
    padding = (top, left) if not pad else 0
    return [
        *pad,
        nn.Conv2d(
            c,
            n,
            _pair(layer, "kernel"),
            _pair(layer, "stride"),
            padding,
            _pair(layer, "dilation"),
            groups,
            bias=args.bias,
        ),
    ]


def _pads(axis: Axis) -> tuple[int, int]:
    """Padding before and after with which PyTorch's rounding down gives ``axis.out``.

    Rounding down over ``size + before + after`` gives ``out`` for any ``after`` from
    ``needed = (out − 1)·S + k_eff − size − before`` to ``needed + S − 1``; of those, the
    one closest to the written padding. A layer rounded up needs more padding after
    (or less, where the ceil rule dropped a window that starts in the padding)."""
    k_eff = axis.dilation * (axis.kernel - 1) + 1
    needed = (axis.out - 1) * axis.stride + k_eff - axis.size - axis.pad_before
    return axis.pad_before, min(max(axis.pad_after, needed), needed + axis.stride - 1)


def _pair(layer: Layer, field: str) -> tuple[int, int]:
    return tuple(getattr(axis, field) for axis in layer.axes)


def _deconv(nn, layer: Layer, args) -> list:
    c, n = layer.in_shape[2], layer.out_shape[2]
    return [
        nn.ConvTranspose2d(
            c,
            n,
            _pair(layer, "kernel"),
            _pair(layer, "stride"),
            _pair(layer, "pad_before"),
            _pair(layer, "out_pad"),
            args.groups,
            bias=args.bias,
            dilation=_pair(layer, "dilation"),
        )
    ]


def _pool(nn, layer: Layer, args) -> list:
    """PyTorch's own padding and ``ceil_mode`` where it accepts them (equal padding, at
    most half the kernel — PyTorch checks the kernel before dilation); explicit padding
    and rounding down otherwise (``-inf`` for max pooling, as PyTorch pads)."""
    axes, maximum = layer.axes, layer.op == "maxpool"
    native = all(a.pad_before == a.pad_after and 2 * a.pad_before <= a.kernel for a in axes)
    pad, padding = [], tuple(a.pad_before for a in axes)
    if not native:
        (top, bottom), (left, right) = (_pads(axis) for axis in axes)
        pads = (left, right, top, bottom)
        pad = [nn.ConstantPad2d(pads, -math.inf) if maximum else nn.ZeroPad2d(pads)]
        padding = 0
    common = dict(
        kernel_size=_pair(layer, "kernel"),
        stride=_pair(layer, "stride"),
        padding=padding,
        ceil_mode=native and axes[0].rule == "ceil",
    )
    if maximum:
        return [*pad, nn.MaxPool2d(dilation=_pair(layer, "dilation"), **common)]
    # TensorFlow's 'same' leaves the padding out of the average; Caffe's and PyTorch's
    # explicit padding counts it
    return [*pad, nn.AvgPool2d(count_include_pad=axes[0].rule != "same", **common)]


def _fc(nn, layer: Layer, args) -> list:
    flat = [nn.Flatten()] if len(layer.in_shape) == 3 else []
    return [*flat, nn.Linear(math.prod(layer.in_shape), layer.out_shape[0], bias=args.bias)]


def _bn(nn, layer: Layer, args) -> list:
    if len(layer.in_shape) == 3:
        return [nn.BatchNorm2d(layer.in_shape[2])]
    return [nn.BatchNorm1d(layer.in_shape[0])]


def _dropout(nn, layer: Layer, args) -> list:
    return [nn.Dropout(args.size[0] if args.size else 0.5)]


def _activation(nn, name: str, number: float | None):
    """The module of an activation; ``number``: leakyrelu's slope or elu's alpha."""
    if name == "leakyrelu":
        return nn.LeakyReLU(0.01 if number is None else number)
    if name == "elu":
        return nn.ELU(1.0 if number is None else number)
    if name == "softmax":
        return nn.Softmax(dim=1)  # over channels (NCHW) or features: our last axis
    return getattr(nn, _ACTIVATION_CLASS[name])()


_ACTIVATION_CLASS = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "prelu": "PReLU",
    "gelu": "GELU",
    "silu": "SiLU",
    "hardswish": "Hardswish",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
}


def _standalone_activation(nn, layer: Layer, args) -> list:
    return [_activation(nn, layer.op, args.size[0] if args.size else None)]


_LEAVES = {
    "conv": _conv,
    "dwconv": _conv,
    "deconv": _deconv,
    "maxpool": _pool,
    "avgpool": _pool,
    "gap": lambda nn, layer, args: [nn.AdaptiveAvgPool2d(1)],
    "gmp": lambda nn, layer, args: [nn.AdaptiveMaxPool2d(1)],
    "adaptiveavgpool": lambda nn, layer, args: [nn.AdaptiveAvgPool2d(layer.out_shape[:2])],
    "adaptivemaxpool": lambda nn, layer, args: [nn.AdaptiveMaxPool2d(layer.out_shape[:2])],
    "fc": _fc,
    "flatten": lambda nn, layer, args: [nn.Flatten()],
    "bn": _bn,
    "dropout": _dropout,
    "lrn": lambda nn, layer, args: [nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)],
    "identity": lambda nn, layer, args: [nn.Identity()],
    **{
        name: _standalone_activation
        for name in (
            "relu",
            "relu6",
            "leakyrelu",
            "prelu",
            "elu",
            "gelu",
            "silu",
            "hardswish",
            "sigmoid",
            "tanh",
            "softmax",
        )
    },
}


# ------------------------------------------------------------------- the containers


@functools.cache
def _classes() -> dict[str, type]:
    """The block modules, defined once torch is imported. They are reachable as
    ``cnn_magic.torch_export.Residual`` etc. (module ``__getattr__``), so a saved model
    can be loaded again."""
    torch, nn = _torch()

    class Residual(nn.Module):
        """``body(x) + shortcut(x)``; the shortcut is ``nn.Identity`` when none is written."""

        def __init__(self, body, shortcut) -> None:
            super().__init__()
            self.body, self.shortcut = body, shortcut

        def forward(self, x):
            return self.body(x) + self.shortcut(x)

    class Concat(nn.Module):
        """The branches' outputs joined along the channels (dim 1, NCHW)."""

        def __init__(self, branches: dict) -> None:
            super().__init__()
            self.branches = nn.ModuleDict(branches)

        def forward(self, x):
            return torch.cat([branch(x) for branch in self.branches.values()], dim=1)

    class Add(Concat):
        """The element-wise sum of the branches' outputs."""

        def forward(self, x):
            outputs = [branch(x) for branch in self.branches.values()]
            return functools.reduce(operator.add, outputs)  # `+`, as models write it

    classes = {"Residual": Residual, "Concat": Concat, "Add": Add}
    for name, cls in classes.items():
        cls.__module__, cls.__qualname__ = __name__, name
    return classes


def __getattr__(name: str):
    if name in _CONTAINERS:
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
