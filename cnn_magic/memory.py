"""How much memory a training step needs: parameters, gradients, optimizer state, and
the activations autograd keeps for the backward pass, per layer and in total.

The activation figure follows what PyTorch's CPU kernels save for backward (read off
``torch.autograd.graph.saved_tensors_hooks``, and checked against it on the example
networks' PyTorch twins in ``tests/test_memory.py``):

- conv, dwconv, deconv, fc, bn, the norms, pooling with a window, and the
  activations relu6, leakyrelu, prelu, elu, gelu, silu, hardswish, hardsigmoid keep
  their *input*; reflection and replication padding too;
- relu, sigmoid, tanh and softmax keep their *output*; a product (``scale:``, ``mul``)
  keeps each factor whose partner needs a gradient (``layerscale``: its input, unless
  frozen);
- bn also keeps a mean and an inverse deviation per channel (float32); layernorm one
  each per position and sample, groupnorm per group and sample, instancenorm per
  channel and sample (and γ repeated per sample when affine); max pooling keeps the
  argmax of every output (int64), and a max unpooling the argmax again (``to_torch()``
  computes it a second time); dropout keeps its mask (one value per element); lrn keeps
  two more input-sized tensors and its padded square (C + 4 channels);
- gap (a mean), add, concat, split, flatten, identity, crop (a view), zero and circular
  padding, the shuffles and upsampling keep nothing.

A side head keeps what its layers keep; a reused layer keeps what it keeps each time it
runs; a layer that reads a label (``from=``, ``concat A, B``) reads that output's
storage. A conv or pooling that ``to_torch()`` pads in a module in front keeps the
padded map (``torch_export.padded_input``).

A tensor kept by several layers (a ReLU's output is also the next convolution's input)
is one storage and is counted once, at the first layer that keeps it. An activation
written after a layer (``conv 64 k3 relu``) is a separate module, as ``to_torch()``
builds it; in-place activations (``nn.ReLU6(inplace=True)``) keep one tensor less.

>>> from cnn_magic import example
>>> report = example("lenet5").memory(batch=1, optimizer="adam")
>>> report.params, report.grads, report.optimizer_state
(246824, 246824, 493688)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .conventions import DTYPE_BYTES
from .errors import CNNError, did_you_mean
from .i18n import N_, _, current_language, display_width, language, pad
from .results import Block, Layer, Network
from .torch_export import padded_input

OPTIMIZERS = {
    "sgd": 0,  # plain SGD keeps no state
    "momentum": 1,  # one momentum buffer per parameter
    "adam": 2,  # first and second moments; plus one float32 step per parameter tensor
}

_KEEPS_INPUT = frozenset(
    {
        "conv",
        "dwconv",
        "deconv",
        "fc",
        "bn",
        "maxpool",
        "avgpool",
        "adaptiveavgpool",
        "adaptivemaxpool",
        "gmp",
        "lrn",
        "relu6",
        "leakyrelu",
        "prelu",
        "elu",
        "gelu",
        "silu",
        "hardswish",
        "hardsigmoid",
        "layernorm",
        "groupnorm",
        "instancenorm",
    }
)
_KEEPS_OUTPUT = frozenset({"relu", "sigmoid", "tanh", "softmax"})
_VIEWS = frozenset({"flatten", "identity", "crop"})  # their output is their input's storage


@dataclass(frozen=True, slots=True)
class LayerMemory:
    """Bytes one layer adds: its parameters, their gradients and optimizer state, and
    the activations first kept for backward at this layer."""

    name: str
    params: int
    grads: int
    optimizer_state: int
    activations: int

    @property
    def total(self) -> int:
        return self.params + self.grads + self.optimizer_state + self.activations


@dataclass(frozen=True, slots=True)
class Memory:
    """A training step's memory, per layer and in total (bytes)."""

    batch: int
    dtype: str
    optimizer: str
    training: bool
    layers: tuple[LayerMemory, ...]
    assumptions: tuple[str, ...]  # in English; shown in the language below
    lang: str = "en"  # the language in force when it was made

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def grads(self) -> int:
        return sum(layer.grads for layer in self.layers)

    @property
    def optimizer_state(self) -> int:
        return sum(layer.optimizer_state for layer in self.layers)

    @property
    def activations(self) -> int:
        return sum(layer.activations for layer in self.layers)

    @property
    def total(self) -> int:
        return self.params + self.grads + self.optimizer_state + self.activations

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"

    def __str__(self) -> str:
        """A table in bytes, one row per layer, the totals, and the assumptions."""
        from .table import format_bytes

        with language(self.lang):
            columns = (_("params"), _("grads"), _("optimizer"), _("activations"))
            first, total = _("layer"), _("total")
            summary = _("altogether {size}, batch {batch}, {dtype}, {optimizer}").format(
                size=format_bytes(self.total),
                batch=self.batch,
                dtype=self.dtype,
                optimizer=self.optimizer,
            )
            assumptions = [_(line) for line in self.assumptions]
        names = [m.name for m in self.layers]
        width = max(display_width(name) for name in [*names, first, total])

        def row(name: str, values: tuple[str, ...]) -> str:
            return pad(name, width) + "".join("  " + pad(value, 15, right=True) for value in values)

        lines = [row(first, columns)]
        lines += [
            row(m.name, _grouped(m.params, m.grads, m.optimizer_state, m.activations))
            for m in self.layers
        ]
        totals = _grouped(self.params, self.grads, self.optimizer_state, self.activations)
        lines.append(row(total, totals))
        lines.append(summary)
        lines += [f"- {line}" for line in assumptions]
        return "\n".join(lines)


def _grouped(*values: int) -> tuple[str, ...]:
    return tuple(f"{value:,}" for value in values)


def memory(
    net: Network,
    batch: int = 1,
    dtype: str = "float32",
    optimizer: str = "sgd",
    training: bool = True,
    frozen: frozenset[int] = frozenset(),
) -> Memory:
    """The memory of one training step of ``net`` (see the module docstring).

    ``frozen``: indices of layers whose parameters are not trained (no gradients, no
    optimizer state); the layers the text marks frozen are added to them."""
    if dtype not in DTYPE_BYTES:
        raise CNNError(
            _("unknown dtype {dtype!r}").format(dtype=dtype),
            hint=did_you_mean(str(dtype), DTYPE_BYTES),
        )
    if optimizer not in OPTIMIZERS:
        raise CNNError(
            _("unknown optimizer {optimizer!r}").format(optimizer=optimizer),
            hint=did_you_mean(str(optimizer), OPTIMIZERS),
        )
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise CNNError(_("batch must be a whole number ≥ 1, not {batch!r}").format(batch=batch))
    size = DTYPE_BYTES[dtype]
    frozen = frozen | frozen_layers(net)
    kept = _kept(net, batch, size, frozen) if training else {}
    rows = []
    for index, layer in enumerate(net.layers):
        params = layer.params * size
        trains = training and index not in frozen
        grads = params if trains else 0
        state = 0
        if trains and optimizer != "sgd":
            state = OPTIMIZERS[optimizer] * params
            if optimizer == "adam":
                state += 4 * _tensors(layer)
        rows.append(LayerMemory(layer.name, params, grads, state, kept.get(index, 0)))
    return Memory(
        batch,
        dtype,
        optimizer,
        training,
        tuple(rows),
        _assumptions(training, optimizer),
        current_language(),
    )


def frozen_layers(net: Network) -> frozenset[int]:
    """Indices of the layers whose parameters the text marks frozen (see
    :mod:`cnn_magic.frozen`)."""
    from .frozen import frozen_indices

    return frozen_indices(net)


def _assumptions(training: bool, optimizer: str) -> tuple[str, ...]:
    if not training:
        return (N_("inference: no gradients, no optimizer state, nothing kept for backward"),)
    return (
        N_(
            "activations: the tensors PyTorch's CPU kernels keep for backward, each storage "
            "counted once, at the first layer that keeps it"
        ),
        N_("activations written after a layer are separate modules, not in-place"),
        N_("gradients: one per trained parameter, in the same dtype"),
        {
            "sgd": N_("plain SGD keeps no state"),
            "momentum": N_("SGD with momentum keeps one buffer per parameter"),
            "adam": N_(
                "Adam keeps two moments per parameter and one float32 step per parameter tensor"
            ),
        }[optimizer],
        N_(
            "not counted: the input batch's gradient, temporary buffers of the kernels, "
            "the allocator's rounding, and the framework itself"
        ),
    )


def _tensors(layer: Layer) -> int:
    """Parameter tensors of a layer: weight, bias, and prelu's slope."""
    prelu = int(layer.activation == "prelu" or layer.op == "prelu")
    weights = layer.weights - (prelu if layer.op != "prelu" else 0)
    return int(weights > 0 and layer.op != "prelu") + int(layer.biases > 0) + prelu


# ----------------------------------------------------------------- what backward keeps


def _kept(net: Network, batch: int, size: int, frozen: frozenset[int]) -> dict[int, int]:
    """Bytes first kept for backward at each layer index."""
    flow = _Flow(net, batch, size, frozen)
    flow.sequence(0, len(net.layers), 0, flow.values[-1])
    seen: set[object] = set()
    kept: dict[int, int] = {}
    for index, storages in flow.saved:
        for key, nbytes in storages:
            if key not in seen:
                seen.add(key)
                kept[index] = kept.get(index, 0) + nbytes
    return kept


Value = tuple[object, tuple[int, ...], bool]  # (storage key, shape, requires grad)


class _Flow:
    """Walks the layers as tensors flow through them: which storage each layer reads,
    makes and keeps."""

    def __init__(self, net: Network, batch: int, size: int, frozen: frozenset[int]) -> None:
        self.net = net
        self.frozen = frozen
        self.starts = {(block.first, block.depth): block for block in net.blocks}
        self.saved: list[tuple[int, list[tuple[object, int]]]] = []
        self.per_sample = batch * size  # bytes of one value across the batch
        self.batch = batch
        self.size = size
        # each row's output, and the inputs (-1, -2, ...), for layers that read labels
        self.values: dict[int, Value] = {
            -number: (("input", number), shape, False)
            for number, (_, shape) in enumerate(net.inputs, start=1)
        }

    def sequence(self, lo: int, hi: int, depth: int, value: Value) -> Value:
        index = lo
        while index < hi:
            block = self.starts.get((index, depth))
            if block is not None:
                value = self.block(block, value)
                index = block.stop
            else:
                value = self.layer(index, [value])
                index += 1
        return value

    def block(self, block: Block, value: Value) -> Value:
        if block.kind in ("repeat", "group"):
            return self.sequence(block.first, block.stop, block.depth + 1, value)
        if block.kind == "side":  # the head runs on the input, which passes on unchanged
            self.sequence(block.first, block.stop, block.depth + 1, value)
            return value
        outputs = [self.sequence(lo, hi, block.depth + 1, value) for lo, hi in self.paths(block)]
        if block.kind == "residual" and len(outputs) == 1:
            outputs.append(value)  # no shortcut: the block's input is added
        if block.kind == "scale":
            outputs.insert(0, value)  # the input times the gate
        return self.layer(block.stop - 1, outputs)

    def paths(self, block: Block) -> Iterator[tuple[int, int]]:
        from .torch_export import _Builder  # the same reading of paths as to_torch

        for _path, lo, hi in _Builder(self.net, None).paths(block):
            yield lo, hi

    def layer(self, index: int, inputs: list[Value]) -> Value:
        """The output of layer ``index``; what it keeps goes to ``self.saved``. Autograd
        records a layer only where an input requires a gradient or the layer trains
        parameters: layers before the first trained one keep nothing."""
        layer = self.net.layers[index]
        if layer.reads:  # from=LABEL, or a merge of labelled outputs
            inputs = [self.values[row] for row in layer.reads]
        out = self._layer(index, layer, inputs)
        self.values[index] = out
        return out

    def _layer(self, index: int, layer: Layer, inputs: list[Value]) -> Value:
        op, (source, _, grad) = layer.op, inputs[0]
        owner = layer.shared if layer.shared >= 0 else index  # reuse: that row's weights
        recorded = any(value[2] for value in inputs) or (
            self.net.layers[owner].params > 0 and owner not in self.frozen
        )
        out: Value = ((index, "out"), layer.out_shape, recorded)
        if op in _VIEWS:
            out = (source, layer.out_shape, grad)
        if not recorded:
            return out
        saved: list[tuple[object, int]] = []

        def keep(value: Value) -> None:
            saved.append((value[0], math.prod(value[1]) * self.per_sample))

        def extra(nbytes: int) -> None:
            saved.append(((index, len(saved)), nbytes))

        if op in _KEEPS_INPUT and not (op == "adaptiveavgpool" and _to_one(layer)):
            padded = padded_input(layer)  # a pad module in front: the padded map is kept
            keep(inputs[0] if padded is None else ((index, "padded"), padded, True))
        elif op in _KEEPS_OUTPUT:
            keep(out)
        elif op == "pad" and _pad_keeps_input(layer):
            keep(inputs[0])
        elif op == "layerscale" and owner not in self.frozen:
            keep(inputs[0])  # γ's gradient needs x (x's needs γ, a parameter)
        elif op == "mul":
            # a product keeps each factor the other's gradient needs, one product at a time
            product = inputs[0]
            for step, factor in enumerate(inputs[1:]):
                if factor[2]:
                    keep(product)
                if product[2]:
                    keep(factor)
                product = ((index, "product", step), layer.out_shape, product[2] or factor[2])
        samples = self.per_sample
        statistic = 4 * self.batch  # bytes of one float32 statistic per sample
        if op == "layernorm":  # a mean and 1/σ per position
            extra(2 * math.prod(layer.in_shape[:-1]) * statistic)
        if op == "groupnorm":  # a mean and 1/σ per group
            assert layer.args is not None and layer.args.groups is not None
            extra(2 * layer.args.groups * statistic)
        if op == "instancenorm":  # batch norm over N·C channels: a mean and 1/σ each,
            channels = layer.in_shape[-1]
            extra(2 * channels * statistic)
            if self.net.layers[owner].weights:  # and γ repeated for each sample
                extra(channels * samples)
        if op == "maxunpool":  # the indices of its pooling, computed again (int64)
            extra(math.prod(layer.in_shape) * 8 * samples // self.size)
        if op == "bn":
            extra(2 * layer.in_shape[-1] * 4)  # mean and 1/σ per channel, float32, once
        if op in ("maxpool", "gmp", "adaptivemaxpool"):
            # the argmax of every output element, int64
            extra(math.prod(layer.out_shape) * 8 * samples // self.size)
        if op == "dropout":
            extra(math.prod(layer.out_shape) * samples)  # the mask, in the activations' dtype
        if op == "lrn":
            spatial, c = math.prod(layer.in_shape[:-1]), layer.in_shape[-1]
            extra((2 * spatial * c + spatial * (c + 4)) * samples)
        if layer.activation is not None:
            before = ((index, "before"), layer.out_shape, True)
            if layer.activation in _KEEPS_OUTPUT:
                keep(out)
            elif layer.activation in _KEEPS_INPUT:
                keep(before)
        self.saved.append((index, saved))
        return out


def _pad_keeps_input(layer: Layer) -> bool:
    """Reflection and replication padding keep their input; zeros and circular do not."""
    return layer.args is not None and layer.args.mode in ("reflect", "replicate")


def _to_one(layer: Layer) -> bool:
    return layer.out_shape[:-1] == (1, 1)
