"""``Network.to_torch()``: the network as a PyTorch module, to check our numbers in one line.

PyTorch is optional: it is imported inside the functions here, never by ``import
cnn_magic``; without it they raise an ImportError that says ``pip install torch``.

The data layout differs: we write shapes channels last (H×W×C), PyTorch wants a batch of
channels-first tensors. Feed a map of H×W×C as ``torch.zeros(1, C, H, W)`` (L×C as
``(1, C, L)``, D×H×W×C as ``(1, C, D, H, W)``) and a vector of N as ``torch.zeros(1, N)``;
:func:`input_tensor` builds that tensor for you::

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

Each layer's modules come from its rule (``RULES[layer.op].torch(nn, layer)``, built
from the layer's typed arguments), with the 1-D, 2-D or 3-D class as its input has
(``nn.Conv1d``/``Conv2d``/``Conv3d``, ...): conv and dwconv are ``nn.ConvNd``, deconv
``nn.ConvTransposeNd``, pools ``nn.MaxPoolNd``/``AvgPoolNd`` (``ceil_mode=True`` where
the layer was rounded up), gap/gmp and the adaptive pools ``nn.AdaptiveAvg/MaxPoolNd``,
fc ``nn.Linear`` (after ``nn.Flatten`` for a map), bn ``nn.BatchNormNd``
(``BatchNorm1d`` on vectors), lrn AlexNet's ``nn.LocalResponseNorm(5, k=2)``,
activations ``nn.ReLU`` … ``nn.Softmax(dim=1)`` (over channels).

Padding: equal padding on both sides goes into the layer. Padding PyTorch cannot
express there — ``same`` with an odd total (the extra pixel after, as TensorFlow does;
PyTorch refuses ``padding='same'`` with a stride), a convolution rounded up, pooling
padding over half the undilated kernel — becomes an explicit zero
``nn.ConstantPadNd`` in front (``-inf`` for max pooling, which is how PyTorch pads).
One difference in values, not in shapes: an average pool after unequal ``same``
padding counts the padded zeros, where TensorFlow leaves them out.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from .layers import ACTIVATIONS, RULES, _pads
from .results import Block, Layer, Network
from .shapes import Shape, format_shape

Module = Any  # torch.nn.Module: torch is optional, so never imported at module level
RESERVED = ("layer_modules",)
"""Attribute names the exported model uses itself: a child never takes them."""

_CONTAINERS = (
    "Residual",
    "Concat",
    "Add",
    "Scale",
    "Split",
    "Side",
    "Reads",
    "Tape",
    "Shared",
    "Unpool",
)


def _torch() -> tuple[Any, Any]:
    try:
        import torch
        from torch import nn
    except ImportError as err:
        raise ImportError(
            "to_torch() needs PyTorch, which is not installed here: "
            "pip install torch (or pip install 'cnn-magic[torch]')"
        ) from err
    return torch, nn


def to_torch(net: Network) -> Module:
    """An ``nn.Module`` equivalent to ``net``, in eval mode; input NCHW (see the module
    docstring)."""
    _, nn = _torch()
    builder = _Builder(net, nn)
    model = builder.sequence(0, len(net.layers), 0)
    for layer in net.layers:  # max unpooling reads the indices its pooling kept
        if layer.op == "maxunpool" and layer.args is not None and layer.args.pool_row is not None:
            row = layer.args.pool_row
            pools = [m for m in builder.modules[row].modules() if "MaxPool" in type(m).__name__]
            pools[-1].register_forward_hook(_KeepIndices(builder.tape, row))
    read = {i for layer in net.layers for i in layer.reads}
    if read:  # references: labelled outputs are kept on a tape for the layers that read them
        for index in read - {-1}:
            builder.modules[index].register_forward_hook(_Keep(builder.tape, index))
        model = _classes()["Tape"](model, builder.tape)
    model.layer_modules = tuple(builder.modules)
    return model.train(False)  # inference mode: batch norm uses its running buffers


class _KeepIndices:
    """A forward hook that keeps where a max pooling found its maxima (as
    ``return_indices``) on the tape. An object rather than a closure, so that
    ``copy.deepcopy(model)`` gives the copy's hooks the copy's tape; and it calls
    ``max_poolNd_with_indices``, not ``F.max_poolNd``, so that a counter patching the
    latter (ptflops) sees each pooling once."""

    def __init__(self, tape: dict[int, Any], row: int) -> None:
        self.tape, self.row = tape, row

    def __call__(self, module: Any, inputs: Any, output: Any) -> None:
        import torch.nn.functional as F

        dims = inputs[0].dim() - 2
        pool = getattr(F, f"max_pool{dims}d_with_indices")
        _, indices = pool(
            inputs[0],
            module.kernel_size,
            module.stride,
            module.padding,
            module.dilation,
            module.ceil_mode,
            return_indices=True,
        )
        self.tape[-1000 - self.row] = indices  # rows are ≥ 0 and inputs −1, −2, ...: no clash


SHARING = -(10**9)
"""The tape's count of reused modules running: their original's rows keep nothing then."""


class _Keep:
    """A forward hook that keeps a labelled output on the tape (an object, for deepcopy)."""

    def __init__(self, tape: dict[int, Any], index: int) -> None:
        self.tape, self.index = tape, index

    def __call__(self, module: Any, inputs: Any, output: Any) -> None:
        if not self.tape.get(SHARING):  # a reuse runs the original's very module: not its row
            self.tape[self.index] = output


def input_tensor(net: Network, batch: int = 1) -> Any:
    """Zeros in PyTorch's layout for ``net``'s input: ``(batch, C, *spatial)`` for a map
    (``(batch, C, H, W)`` in 2-D) or ``(batch, N)``."""
    return input_tensors(net, batch)[0]


def input_tensors(net: Network, batch: int = 1) -> tuple[Any, ...]:
    """Zeros for each of ``net``'s inputs, in order: ``model(*input_tensors(net))``."""
    torch, _ = _torch()
    return tuple(
        torch.zeros(batch, *shape)
        if len(shape) == 1
        else torch.zeros(batch, shape[-1], *shape[:-1])
        for _, shape in net.inputs
    )


def compare(net: Network, model: Module = None, *, device: str = "cpu") -> list[str]:
    """Where PyTorch disagrees with us: runs zeros through ``model`` (by default
    ``net.to_torch()``) and compares every layer's output shape and parameter count, and
    the total. An empty list means every figure agrees. ``device="meta"`` checks shapes
    without allocating weights or computing anything (fast for VGG-sized networks)."""
    torch, _ = _torch()
    with torch.device(device):
        model = to_torch(net) if model is None else model
        zeros = input_tensors(net)
    shapes: dict[int, tuple[int, ...]] = {}

    def hook(index: int) -> Any:
        return lambda module, inputs, output: shapes.__setitem__(index, _hwc(output.shape))

    handles = [m.register_forward_hook(hook(i)) for i, m in enumerate(model.layer_modules)]
    try:
        with torch.no_grad():
            model(*zeros)
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
        if layer.op not in ("add", "concat", "mul") and layer.shared < 0:  # merges hold blocks
            count = sum(p.numel() for p in module.parameters())
            if count != layer.params:
                problems.append(
                    f"{layer.name}: {layer.params:,} parameters here, {count:,} in PyTorch"
                )
    total = sum(p.numel() for p in model.parameters())
    if total != net.params:
        problems.append(f"total: {net.params:,} parameters here, {total:,} in PyTorch")
    return problems


def padded_input(layer: Layer) -> tuple[int, ...] | None:
    """The map a conv or pooling layer's own module receives where ``to_torch()`` pads
    in a module of its own in front (padding PyTorch's layer cannot take: unequal, or
    over half a pooling's kernel), channels last; None where the layer pads itself.
    Counting tools and autograd see this map, not the layer's input."""
    axes = layer.axes
    if not axes or layer.op not in ("conv", "dwconv", "maxpool", "avgpool"):
        return None
    if layer.op in ("maxpool", "avgpool"):  # as Pool.torch decides
        native = all(a.pad_before == a.pad_after and 2 * a.pad_before <= a.kernel for a in axes)
    else:  # as Conv.torch decides
        native = all(before == after for before, after in map(_pads, axes))
    if native:
        return None
    return (*(a.size + sum(_pads(a)) for a in axes), layer.in_shape[-1])


def _hwc(torch_shape: Any) -> tuple[int, ...]:
    """PyTorch's (N, C, *spatial) or (N, F) in our order, without the batch."""
    shape = tuple(int(v) for v in torch_shape[1:])
    return (*shape[1:], shape[0]) if len(shape) > 1 else shape


class _Builder:
    """Rebuilds the block structure from ``net.blocks`` (index ranges into
    ``net.layers``) and each layer's path, and makes one module per layer."""

    def __init__(self, net: Network, nn: Any) -> None:
        self.net, self.nn = net, nn
        self.starts = {(b.first, b.depth): b for b in net.blocks if b.kind != "input"}
        self.modules: list[Module] = [None] * len(net.layers)
        self.tape: dict[int, Any] = {}  # row index (-1: the input) → its latest output

    def sequence(self, lo: int, hi: int, depth: int) -> Module:
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
                if layer.reads:  # from=LABEL, or a merge of labelled outputs
                    module = _classes()["Reads"](
                        None if RULES[layer.op].merge else module, layer.op, layer.reads, self.tape
                    )
                self.modules[index] = module
                index += 1
            seq.add_module(_child_name(seq, name), module)
        return seq

    def block(self, block: Block) -> Module:
        depth = block.depth + 1
        if block.kind in ("repeat", "group"):
            return self.sequence(block.first, block.stop, depth)
        containers = _classes()
        if block.kind == "side":
            return containers["Side"](self.sequence(block.first, block.stop, depth))
        merge = block.stop - 1  # the add/concat/mul row closes the block
        spans = self.paths(block)
        paths = {label: self.sequence(lo, hi, depth) for label, lo, hi in spans}
        if block.kind == "residual":
            shortcut = paths.get("shortcut", self.nn.Identity())
            module = containers["Residual"](paths[""], shortcut)
        elif block.kind == "scale":
            module = containers["Scale"](paths[""])
        elif block.kind == "split":
            sizes = [self.path_input(lo, depth)[-1] for _, lo, _ in spans]
            module = containers["Split"](paths, sizes)
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

    def path_input(self, first: int, depth: int) -> Shape:
        """The input of a path starting at row ``first``: that of the block it opens with
        (a nested block's first row may read a part of it), else of its first layer."""
        nested = self.starts.get((first, depth))
        return nested.in_shape if nested is not None else self.net.layers[first].in_shape

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

    def leaf(self, layer: Layer) -> Module:
        """The layer's modules, from its rule and typed arguments; a trailing activation
        follows in an ``nn.Sequential``."""
        if RULES[layer.op].merge:  # a merge of labelled outputs: Reads does the work
            return None
        if layer.shared >= 0:  # reused: the very module of the row whose weights it shares
            original = self.modules[layer.shared]
            shared = getattr(original, "module", None) or original
            return _classes()["Shared"](shared, self.tape)
        parts = RULES[layer.op].torch(self.nn, layer)
        if layer.op == "maxunpool" and layer.args is not None and layer.args.pool_row is not None:
            size = layer.out_shape[:-1]
            return _classes()["Unpool"](parts[0], self.tape, layer.args.pool_row, size)
        if layer.activation is not None:
            parts += ACTIVATIONS[layer.activation].torch(self.nn, layer)
        module = parts[0] if len(parts) == 1 else self.nn.Sequential(*parts)
        if layer.args is not None and layer.args.frozen:
            module.requires_grad_(False)  # "frozen": not trained
        return module


def _child_name(parent: Module, name: str) -> str:
    """A module name for ``name``: no dots, and no clash with a sibling, an attribute or
    a name the model reserves (``layer_modules``)."""
    base = name.replace(".", "_")
    key, number = base, 1
    while key in parent._modules or hasattr(parent, key) or key in RESERVED:
        number += 1
        key = f"{base}_{number}"
    return key


# ------------------------------------------------------------------- the containers


@functools.cache
def _classes() -> dict[str, Any]:
    """The block modules, defined once torch is imported. They are reachable as
    ``cnn_magic.torch_export.Residual`` etc. (module ``__getattr__``), so a saved model
    can be loaded again."""
    torch, nn = _torch()

    # torch is optional and imported here, so its Module is Any to the type checker
    class Residual(nn.Module):  # type: ignore[misc, name-defined]
        """``body(x) + shortcut(x)``; the shortcut is ``nn.Identity`` when none is written."""

        def __init__(self, body: Module, shortcut: Module) -> None:
            super().__init__()
            self.body, self.shortcut = body, shortcut

        def forward(self, x: Any) -> Any:
            return self.body(x) + self.shortcut(x)

    class Concat(nn.Module):  # type: ignore[misc, name-defined]
        """The branches' outputs joined along the channels (dim 1, channels first)."""

        def __init__(self, branches: dict[str, Module]) -> None:
            super().__init__()
            self.branches = nn.ModuleDict(branches)

        def forward(self, x: Any) -> Any:
            return torch.cat([branch(x) for branch in self.branches.values()], dim=1)

    class Add(Concat):
        """The element-wise sum of the branches' outputs."""

        def forward(self, x: Any) -> Any:
            outputs = [branch(x) for branch in self.branches.values()]
            return functools.reduce(operator.add, outputs)  # `+`, as models write it

    class Scale(nn.Module):  # type: ignore[misc, name-defined]
        """``x * gate(x)``, the gate broadcast over x (squeeze-and-excitation)."""

        def __init__(self, gate: Module) -> None:
            super().__init__()
            self.gate = gate

        def forward(self, x: Any) -> Any:
            return x * self.gate(x)

    class Split(Concat):
        """The channels cut into parts, one per branch, the outputs joined again."""

        def __init__(self, branches: dict[str, Module], sizes: list[int]) -> None:
            super().__init__(branches)
            self.sizes = list(sizes)

        def forward(self, x: Any) -> Any:
            parts = torch.split(x, self.sizes, dim=1)
            outputs = [b(p) for b, p in zip(self.branches.values(), parts, strict=True)]
            return torch.cat(outputs, dim=1)

    class Side(nn.Module):  # type: ignore[misc, name-defined]
        """A side output: runs ``head`` on its input, keeps the result in ``output``
        and passes the input on unchanged."""

        def __init__(self, head: Module) -> None:
            super().__init__()
            self.head = head
            self.output = None

        def forward(self, x: Any) -> Any:
            self.output = self.head(x)
            return x

        def __getstate__(self) -> dict[str, Any]:
            """Copies and pickles leave out the last pass's output (a deepcopy of a
            tensor that autograd recorded would fail)."""
            return {**self.__dict__, "output": None}

    class Reads(nn.Module):  # type: ignore[misc, name-defined]
        """A layer that reads labelled outputs (kept on ``tape`` by hooks) instead of its
        input: ``module`` on the one it names, or their merge (concat, add or mul)."""

        def __init__(
            self, module: Module, op: str, reads: tuple[int, ...], tape: dict[int, Any]
        ) -> None:
            super().__init__()
            self.module, self.op, self.reads, self.tape = module, op, tuple(reads), tape

        def forward(self, x: Any) -> Any:
            values = [self.tape[i] for i in self.reads]
            if self.module is not None:
                return self.module(values[0])
            if self.op == "concat":
                return torch.cat(values, dim=1)
            # `+` and `*`, as models write them (as Add and Scale do)
            combine = operator.add if self.op == "add" else operator.mul
            return functools.reduce(combine, values)

    class Unpool(nn.Module):  # type: ignore[misc, name-defined]
        """Max unpooling with the indices its pooling kept on the tape."""

        def __init__(
            self, unpool: Module, tape: dict[int, Any], row: int, size: tuple[int, ...]
        ) -> None:
            super().__init__()
            self.unpool, self.tape, self.row, self.size = unpool, tape, row, tuple(size)

        def forward(self, x: Any) -> Any:
            return self.unpool(x, self.tape[-1000 - self.row], output_size=self.size)

    class Shared(nn.Module):  # type: ignore[misc, name-defined]
        """Another use of ``module``, its weights shared (counted once by parameters())."""

        def __init__(self, module: Module, tape: dict[int, Any] | None = None) -> None:
            super().__init__()
            self.module, self.tape = module, tape

        def forward(self, x: Any) -> Any:
            if self.tape is None:
                return self.module(x)
            # the original's rows must not take this output as theirs (their hooks fire)
            self.tape[SHARING] = self.tape.get(SHARING, 0) + 1
            try:
                return self.module(x)
            finally:
                self.tape[SHARING] -= 1

    class Tape(nn.Module):  # type: ignore[misc, name-defined]
        """The model, with its input kept on the tape (row −1) for references to it."""

        def __init__(self, model: Module, tape: dict[int, Any]) -> None:
            super().__init__()
            self.model, self.tape = model, tape

        def forward(self, *inputs: Any) -> Any:
            for number, x in enumerate(inputs, start=1):  # rows −1, −2, ...: the inputs
                self.tape[-number] = x
            try:
                return self.model(inputs[0])
            finally:  # the kept outputs are not held after the pass
                self.tape.clear()

    classes = {
        "Reads": Reads,
        "Shared": Shared,
        "Unpool": Unpool,
        "Tape": Tape,
        "Residual": Residual,
        "Concat": Concat,
        "Add": Add,
        "Scale": Scale,
        "Split": Split,
        "Side": Side,
    }
    for name, cls in classes.items():
        cls.__module__, cls.__qualname__ = __name__, name
    return classes


def __getattr__(name: str) -> Any:
    if name in _CONTAINERS:
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
