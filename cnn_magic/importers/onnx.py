"""``from_onnx(path_or_model)``: an ONNX graph as layer-language text, with the ``onnx``
package only (no runtime: nothing is executed).

``onnx.shape_inference`` gives every value's shape; the initializers give the weights.
Each node becomes one statement, labelled with the module path its weight carries
(``layer1.0.conv1.weight`` → ``layer1.0.conv1``) or else the path in its node name
(``/layer1/layer1.0/relu/Relu`` → ``layer1.0.relu``). Blocks, repeats and the check of
every layer against the graph's shapes and weights are :mod:`cnn_magic.importers.graph`'s.

=========================================  ==============================================
ONNX                                       layer language
=========================================  ==============================================
``Conv`` (1-D, 2-D and 3-D throughout)     ``conv N k.. s.. p.. d.. g..`` / ``dwconv``
                                           (``auto_pad`` SAME_UPPER → ``same``)
``ConvTranspose``                          ``deconv N k.. s.. p.. op.. d.. g..``
``Gemm``; ``MatMul`` (+ ``Add`` of a       ``fc N`` (``nobias`` without the bias)
bias initializer)
``MaxPool``, ``AveragePool``               ``maxpool`` / ``avgpool`` ``k.. s.. p.. [ceil]``;
                                           unequal ``pads`` as ``same`` or ``ceil``
``GlobalAveragePool``, ``GlobalMaxPool``   ``gap``, ``gmp``
``ReduceMean`` over the spatial axes        ``gap``
``BatchNormalization``                     ``bn``
``Relu``, ``Clip(0, 6)``, ``LeakyRelu``,   ``relu``, ``relu6``, ``leakyrelu A``, ``prelu``,
``PRelu`` (one slope), ``Elu``,            ``elu A``, ``gelu``, ``hardswish``,
``Gelu``, ``HardSwish``, ``Sigmoid``,      ``sigmoid``, ``tanh``, ``softmax``
``Tanh``, ``Softmax`` (channels);
GELU as Div, Erf, Add, Mul, Mul, or
its tanh form in nine nodes;
SiLU as Mul(x, Sigmoid(x)), HardSwish
as Mul(x, HardSigmoid(x)) before opset 14
``LRN`` (size 5)                           ``lrn``
``Dropout``                                ``dropout P``
``Flatten`` (axis 1), ``Reshape`` to       ``flatten``
(N, features)
``Resize``, ``Upsample`` by whole factors ``upsample S`` (``linear`` → ``bilinear`` ...)
``Pad`` (zeros) before a conv or pool      folded into its padding
``Pad`` elsewhere                          ``pad ..`` (``reflect``, ``edge`` → ``replicate``,
                                           ``wrap`` → ``circular``)
``Slice`` of the spatial axes              ``crop HxW`` or ``crop top= ...``
``LayerNormalization`` (last axis), or     ``layernorm`` (vectors, or channels moved last)
its nine nodes before opset 17
``MatMul`` with the channels last          ``conv N k1``
``GroupNormalization`` (opset 21)          ``groupnorm G``
``InstanceNormalization``                  ``instancenorm`` (``affine`` with weights)
``Mul`` by one weight per channel          ``layerscale``
``Mul`` of a map and a gate computed       ``scale:``
from it
``Mul`` of other paths                     ``mul A, B`` (broadcast as PyTorch does)
``Split``, ``Slice`` of channels joined    ``split N:``
again by a ``Concat``
``Concat`` of Slices of a map and the      ``pad .. circular``
map (circular padding before opset 19)
``Reshape``-``Transpose``-``Reshape``       ``channelshuffle G``
of a channel shuffle
``DepthToSpace``, ``SpaceToDepth``         ``pixelshuffle R``, ``pixelunshuffle R``
(or Reshape-Transpose-Reshape, as
PyTorch exports ``pixel_unshuffle``)
``HardSigmoid`` (α = 1/6, β = 1/2)         ``hardsigmoid``
``MaxUnpool`` of a ``MaxPool``'s indices   ``maxunpool POOL``
``Transpose`` channels last and back,      nothing
``Identity``, ``Constant``
``Add`` of two paths, ``Concat`` (axis 1)  the join of a block, or ``add A, B``, ``concat A, B``
several graph outputs                      the first the model's, the others ``side:``
=========================================  ==============================================

Sizes the graph computes from constants (the pads PyTorch's exporter writes as a small
subgraph) are folded first, each such operator evaluated on its few integers by onnx's
reference implementation; no layer is ever run. Anything else (``Mul`` by a constant,
``Resize`` by a fraction, ...) is listed in one :class:`CNNError` naming each node, its
operator and why. Files are untrusted: at most ``max_bytes`` are read, and anything
that is not a valid ONNX model is one clear error.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from ..errors import CNNError, did_you_mean
from ..i18n import _, _n
from ..results import Network
from .graph import MERGES, SLICE, Node, build
from .words import (
    Dims,
    Pads,
    Unwritable,
    adaptive_words,
    conv_words,
    crop_words,
    deconv_words,
    number,
    pad_words,
    pool_words,
    upsample_words,
    words,
)
from .words import label as word_label

MAX_BYTES = 2**31  # protobuf's own limit for one message
UNKNOWN = ("error", "opaque")


class _Unknown(Exception):
    """A node the language has no word for; the message says why."""


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as err:  # pragma: no cover - onnx is in the test extra
        raise ImportError(_("from_onnx() needs the onnx package: pip install onnx")) from err
    return onnx


def load(source: Any, max_bytes: int = MAX_BYTES) -> Any:
    """An ``onnx.ModelProto`` from a path, bytes or a model; CNNError for anything else."""
    onnx = _onnx()
    if isinstance(source, onnx.ModelProto):
        return source
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        where = _("the bytes given")
    elif isinstance(source, str | os.PathLike):
        where = os.fspath(source)
        try:
            if os.path.exists(where) and not os.path.isfile(where):  # a device, a pipe
                raise CNNError(
                    _("{where} is not a regular file").format(where=where),
                    hint=_("give the path of a .onnx file"),
                )
            size = os.path.getsize(where)
            if size > max_bytes:
                raise CNNError(
                    _("{where} is {size:,} bytes, more than the {limit:,} allowed").format(
                        where=where, size=size, limit=max_bytes
                    ),
                    hint=_("pass max_bytes= to read a larger model"),
                )
            with open(where, "rb") as file:
                data = file.read(max_bytes + 1)
        except OSError as err:
            raise CNNError(
                _("cannot read {where}: {why}").format(where=where, why=err.strerror or err)
            ) from None
    else:
        raise CNNError(
            _("from_onnx() takes a file path, bytes or an onnx.ModelProto, not {kind}").format(
                kind=type(source).__name__
            )
        )
    if len(data) > max_bytes:
        raise CNNError(
            _("{where} is more than the {limit:,} bytes allowed").format(
                where=where, limit=max_bytes
            )
        )
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf raises DecodeError, and others on some garbage
        raise CNNError(
            _("{where} is not an ONNX model (it does not parse)").format(where=where)
        ) from None
    if not model.HasField("graph") or not model.graph.node:
        raise CNNError(_("{where} is not an ONNX model (it has no graph)").format(where=where))
    return model


def from_onnx(
    source: Any,
    *,
    input: Sequence[int] | None = None,
    unknown: str = "error",
    repeat: bool = True,
    max_bytes: int = MAX_BYTES,
) -> Network:
    """The network of an ONNX model: a path, bytes or an ``onnx.ModelProto``.
    ``input`` (``(3, 224, 224)``) fixes an input whose shape the file leaves open."""
    if unknown not in UNKNOWN:
        raise CNNError(
            _("unknown={value} is not valid").format(value=repr(unknown)),
            hint=did_you_mean(str(unknown), UNKNOWN),
        )
    onnx = _onnx()
    model = load(source, max_bytes)
    graph = model.graph
    weights = {init.name: tuple(init.dims) for init in graph.initializer}
    same: dict[str, str] = {}  # an unnamed copy of a weight → the weight
    for node in graph.node:  # PyTorch's exporter writes a parameter equal to another
        if node.op_type == "Identity" and node.input and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]  # as an Identity of it
            if node.output[0].startswith("onnx::"):  # a value it computed, used again
                same[node.output[0]] = same.get(node.input[0], node.input[0])
    inputs = [value for value in graph.input if value.name not in weights]
    if len(inputs) != 1:
        raise CNNError(
            _("the graph has {count} inputs; one image or vector input is needed").format(
                count=len(inputs)
            )
        )
    shape = _input_shape(inputs[0], input)
    _set_input(onnx, inputs[0], shape)
    model = _fold_sizes(onnx, model)
    _fuse_circular_pads(onnx, model)
    fused = _fuse_written_out(onnx, model)
    try:
        # data_prop: sizes computed from constants (Resize's scales) are followed too
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as err:
        raise CNNError(
            _("the graph's shapes cannot be inferred: {why}").format(why=_first_line(err))
        ) from None
    shapes = {
        value.name: _dims(value)
        for value in (*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input)
    }
    reader = _Reader(inferred.graph, weights, shapes, inputs[0].name)
    reader.fused = fused
    reader.same = same
    last = _channels_last_input(graph, inputs[0].name, len(shape))
    if last:  # Keras's (N, H, W, C), moved to PyTorch's order by the first Transpose
        reader.layouts[inputs[0].name] = "last"
    nodes, problems, notes = reader.convert(unknown)
    if problems:
        listed = "\n".join(f"  {name} ({op}): {why}" for name, op, why in problems)
        raise CNNError(
            _n(
                "{count} node of the graph has no word in the layer language:\n{listed}",
                "{count} nodes of the graph have no word in the layer language:\n{listed}",
                len(problems),
            ).format(count=len(problems), listed=listed),
            hint=_(
                'from_onnx(..., unknown="opaque") writes each as an opaque layer, counted as '
                "zero and marked"
            ),
        )
    name = graph.name or "graph"
    header = [
        _("{name}, imported from ONNX (opset {opset})").format(name=name, opset=_opset(model)),
        *notes,
    ]
    ours = (*shape[2:], shape[1]) if len(shape) >= 3 and not last else shape[1:]
    return build(nodes, ours, header, repeat=repeat, output=reader.output)


# Operators that compute sizes (pads, scales, shapes) from constants: PyTorch's exporter
# writes explicit padding as such a small subgraph when it does not fold constants.
_SIZE_OPS = frozenset(
    {
        "Shape",
        "Gather",
        "Unsqueeze",
        "Squeeze",
        "Concat",
        "Reshape",
        "Slice",
        "Transpose",
        "Cast",
        "ConstantOfShape",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Neg",
        "Identity",
    }
)
_SMALL = 4096  # elements: sizes, never feature maps
# Operators whose output has their input's shape, which onnx's shape inference may skip
# (GroupNormalization is a function of opset 18 and 21 without its own inference).
_SAME_SHAPE = frozenset({"GroupNormalization"})


def _fold_sizes(onnx: Any, model: Any) -> Any:
    """The model with the sizes it computes from constants replaced by Constant nodes,
    each evaluated by onnx's reference implementation of that one operator (a few
    integers: the layers themselves are never run)."""
    import numpy as np
    from onnx.reference import ReferenceEvaluator

    to_array, from_array = onnx.numpy_helper.to_array, onnx.numpy_helper.from_array
    if not _has_sizes(onnx, model):
        return model  # nothing to fold: spare a shape inference of the whole model
    for _round in range(8):  # each round may make a Shape's input known; a few suffice
        try:
            inferred = onnx.shape_inference.infer_shapes(model)
        except Exception:
            return model
        shapes = {
            value.name: _dims(value)
            for value in (*inferred.graph.value_info, *inferred.graph.input)
        }
        known: dict[str, Any] = {
            init.name: to_array(init)
            for init in model.graph.initializer
            if init.data_type == onnx.TensorProto.INT64 and math.prod(init.dims) <= _SMALL
        }
        changed = False
        nodes = []
        for node in model.graph.node:
            size = None
            if node.op_type in _SAME_SHAPE and shapes.get(node.input[0]):
                size = list(shapes[node.input[0]] or ())
            if node.op_type == "MaxUnpool" and len(node.input) > 2 and node.input[2] in known:
                size = [int(v) for v in known[node.input[2]]]  # its output_shape input
            if size is not None and shapes.get(node.output[0]) is None:  # onnx infers none
                infos = model.graph.value_info
                for stale in [v for v in infos if v.name == node.output[0]]:
                    infos.remove(stale)
                filled = onnx.helper.make_tensor_value_info(
                    node.output[0], onnx.TensorProto.FLOAT, size
                )
                for output in model.graph.output:  # the graph's output: its own entry
                    if output.name == node.output[0]:
                        output.CopyFrom(filled)
                        break
                else:
                    infos.append(filled)
                changed = True
            values: Any = None
            if node.op_type == "Constant":
                if node.attribute and node.attribute[0].name == "value":
                    known[node.output[0]] = to_array(node.attribute[0].t)
            elif node.op_type == "Shape" and shapes.get(node.input[0]) and not node.attribute:
                values = [np.array(shapes[node.input[0]], dtype=np.int64)]
            elif node.op_type in _SIZE_OPS and all(i in known for i in node.input if i):
                feeds = {i: known[i] for i in node.input if i}
                if node.op_type == "ConstantOfShape" and math.prod(feeds[node.input[0]]) > _SMALL:
                    feeds = {}
                try:
                    values = ReferenceEvaluator(node).run(None, feeds) if feeds else None
                except Exception:
                    values = None
            if values is None or any(np.size(v) > _SMALL for v in values):
                nodes.append(node)
                continue
            changed = True
            for name, value in zip(node.output, values, strict=False):
                known[name] = np.asarray(value)
                nodes.append(
                    onnx.helper.make_node(
                        "Constant", [], [name], name=node.name, value=from_array(np.asarray(value))
                    )
                )
        if not changed:
            return model
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    return model


def _dataflow(graph: Any, nodes: list[Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """(the node producing each value, the nodes reading it); a graph output is read by
    ``None``, the graph itself, so a value it returns is never fused away."""
    producer = {out: node for node in nodes for out in node.output}
    readers: dict[str, list[Any]] = {}
    for node in nodes:
        for value in node.input:
            readers.setdefault(value, []).append(node)
    for output in graph.output:
        readers.setdefault(output.name, []).append(None)
    return producer, readers


def _fuse_written_out(onnx: Any, model: Any) -> dict[str, tuple[str, ...]]:
    """Layers written out in several nodes, made one node again (HardSwish before
    opset 14 as ``x · HardSigmoid(x)``, like SiLU below); GELU as exporters write it
    before opset 20 — ``x · 0.5 · (1 + erf(x / √2))`` in five nodes (Div, Erf,
    Add, Mul, Mul), or its tanh approximation ``0.5 · x · (1 + tanh(√(2/π) · (x +
    0.044715 · x³)))`` in nine —, SiLU, which ONNX has no operator for — ``x ·
    sigmoid(x)`` —, and layer normalization over the last axis as exporters write it
    before opset 17 — ``(x − mean) / √(var + ε) · γ + β`` in nine nodes (ReduceMean,
    Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add). Each becomes an ``Erf`` from ``x``
    to the last node's output (the same shape: onnx infers it at any opset), which the
    reader writes with its word. Returns those outputs, each with its word and the
    weights it learns (γ and β of a layer norm)."""
    graph = model.graph
    every = list(graph.node)  # one wrapper per node, so that their ids stay the same
    scalars: dict[str, float] = {}
    for init in graph.initializer:
        if math.prod(init.dims) == 1 and init.data_type == onnx.TensorProto.FLOAT:
            scalars[init.name] = float(onnx.numpy_helper.to_array(init).reshape(-1)[0])
    for node in every:
        value = node.attribute[0] if node.op_type == "Constant" and node.attribute else None
        if value is not None and value.name == "value" and math.prod(value.t.dims) == 1:
            scalars[node.output[0]] = float(onnx.numpy_helper.to_array(value.t).reshape(-1)[0])
    producer, readers = _dataflow(graph, every)

    def only_reader(value: str, op: str) -> Any:
        found = readers.get(value, [])
        return found[0] if len(found) == 1 and found[0] and found[0].op_type == op else None

    def other(node: Any, value: str) -> str:
        rest = [i for i in node.input if i != value]
        return rest[0] if len(rest) == 1 else ""

    def near(value: str, wanted: float) -> bool:
        return value in scalars and abs(scalars[value] - wanted) < 1e-6

    fused: dict[str, tuple[str, ...]] = {}
    drop: set[int] = set()
    replace: dict[int, Any] = {}
    for erf in every:
        if erf.op_type != "Erf":
            continue
        div = producer.get(erf.input[0])
        if div is None or div.op_type != "Div" or not near(div.input[1], math.sqrt(2)):
            continue
        x = div.input[0]
        add = only_reader(erf.output[0], "Add")
        times_x = add and only_reader(add.output[0], "Mul")
        half = times_x and only_reader(times_x.output[0], "Mul")
        if not (add and times_x and half) or only_reader(div.output[0], "Erf") is not erf:
            continue
        if not near(other(add, erf.output[0]), 1.0) or other(times_x, add.output[0]) != x:
            continue
        if not near(other(half, times_x.output[0]), 0.5):
            continue
        gelu = onnx.helper.make_node("Erf", [x], [half.output[0]], name=div.name)
        parts = [id(node) for node in (div, add, times_x, half)]
        drop.update(parts)
        replace[id(erf)] = gelu
        fused[half.output[0]] = ("gelu",)
    # SiLU (ONNX has no operator for it): Mul(x, Sigmoid(x)), the Sigmoid read only
    # there; and HardSwish before opset 14: Mul(x, HardSigmoid(x)) with PyTorch's α, β
    for mul in every:
        if mul.op_type != "Mul" or len(mul.input) != 2 or id(mul) in drop:
            continue
        for x, gate in (tuple(mul.input), tuple(mul.input)[::-1]):
            sigmoid = producer.get(gate)
            if sigmoid is None or list(sigmoid.input[:1]) != [x]:
                continue
            word = {"Sigmoid": "silu", "HardSigmoid": "hardswish"}.get(sigmoid.op_type)
            if word is None or (word == "hardswish" and not _pytorch_hard_sigmoid(sigmoid)):
                continue
            if only_reader(gate, "Mul") is not mul or id(sigmoid) in drop:
                continue
            drop.add(id(sigmoid))
            replace[id(mul)] = onnx.helper.make_node("Erf", [x], [mul.output[0]], name=mul.name)
            fused[mul.output[0]] = (word,)
            break
    # GELU's tanh approximation, from its Tanh: back to x, then on to the output
    for tanh in every:
        if tanh.op_type != "Tanh" or id(tanh) in drop:
            continue
        scaled = producer.get(tanh.input[0])
        if scaled is None or scaled.op_type != "Mul" or len(scaled.input) != 2:
            continue
        inner_value = next((v for v in scaled.input if not near(v, math.sqrt(2 / math.pi))), "")
        inner = producer.get(inner_value)
        if inner is None or inner.op_type != "Add":
            continue
        if not near(other(scaled, inner_value), math.sqrt(2 / math.pi)):
            continue
        found = None
        for x, cubic in (tuple(inner.input), tuple(inner.input)[::-1]):
            k = producer.get(cubic)
            cube = k and producer.get(other(k, next((v for v in k.input if near(v, 0.044715)), "")))
            square = cube and cube.op_type == "Mul" and producer.get(other(cube, x))
            if not (k and k.op_type == "Mul" and square and square.op_type == "Mul"):
                continue
            if cube and list(square.input) == [x, x] and x in cube.input:
                found = (x, square, cube, k)
                break
        if found is None:
            continue
        x, square, cube, k = found
        one = only_reader(tanh.output[0], "Add")
        times_x = one and only_reader(one.output[0], "Mul")
        half = times_x and only_reader(times_x.output[0], "Mul")
        if not (one and times_x and half) or not near(other(one, tanh.output[0]), 1.0):
            continue
        if other(times_x, one.output[0]) != x or not near(other(half, times_x.output[0]), 0.5):
            continue
        chain = (square, cube, k, inner, scaled)
        if any(
            only_reader(a.output[0], b.op_type) is not b
            for a, b in zip(chain, (*chain[1:], tanh), strict=True)
        ):
            continue
        if any(id(node) in drop for node in (*chain, one, times_x, half)):
            continue
        drop.update(id(node) for node in (*chain, tanh, one, times_x))
        replace[id(half)] = onnx.helper.make_node("Erf", [x], [half.output[0]], name=half.name)
        fused[half.output[0]] = ("gelu",)
    # layer normalization before opset 17, from its first mean
    weights = {init.name for init in graph.initializer}
    for mean in every:
        if mean.op_type != "ReduceMean" or id(mean) in drop or not _last_axis(mean):
            continue
        x = mean.input[0]
        sub = only_reader(mean.output[0], "Sub")
        if sub is None or list(sub.input) != [x, mean.output[0]]:
            continue
        users = readers.get(sub.output[0], [])
        power = next((n for n in users if n and n.op_type == "Pow"), None)
        div = next((n for n in users if n and n.op_type == "Div"), None)
        if len(users) != 2 or power is None or div is None or not near(power.input[1], 2.0):
            continue
        variance = only_reader(power.output[0], "ReduceMean")
        plus = variance and _last_axis(variance) and only_reader(variance.output[0], "Add")
        root = plus and only_reader(plus.output[0], "Sqrt")
        if not (variance and plus and root) or other(plus, variance.output[0]) not in scalars:
            continue
        if list(div.input) != [sub.output[0], root.output[0]]:
            continue
        scale = only_reader(div.output[0], "Mul")
        shift = scale and only_reader(scale.output[0], "Add")
        gamma = scale and other(scale, div.output[0])
        beta = shift and other(shift, scale.output[0])
        if not (scale and shift and gamma in weights and beta in weights):
            continue
        steps = (mean, sub, power, variance, plus, root, div, scale, shift)
        if any(id(node) in drop for node in steps):
            continue
        drop.update(id(node) for node in steps[:-1])
        replace[id(shift)] = onnx.helper.make_node("Erf", [x], [shift.output[0]], name=scale.name)
        fused[shift.output[0]] = ("layernorm", gamma, beta)
    if fused:
        nodes = [replace.get(id(n), n) for n in every if id(n) not in drop]
        del graph.node[:]
        graph.node.extend(nodes)
    return fused


def _fuse_circular_pads(onnx: Any, model: Any) -> None:
    """Circular padding as PyTorch's exporter writes it (ONNX's ``wrap`` mode came only
    in opset 19): per axis, ``Concat(x[-b:], x, x[:a])`` of two Slices of ``x`` along
    that axis. Each becomes a ``Pad`` in ``wrap`` mode again, and a pad of the next axis
    reading only that one joins it, so that ``F.pad(x, (1, 1, 1, 1), "circular")`` is
    one Pad, as it is one ``pad 1 circular``."""
    import numpy as np

    graph = model.graph
    every = list(graph.node)
    to_array = onnx.numpy_helper.to_array
    known: dict[str, list[int]] = {}
    for init in graph.initializer:
        if init.data_type == onnx.TensorProto.INT64 and math.prod(init.dims) <= 8:
            known[init.name] = [int(v) for v in to_array(init).reshape(-1)]
    for node in every:
        value = node.attribute[0] if node.op_type == "Constant" and node.attribute else None
        if value is None or value.name != "value" or math.prod(value.t.dims) > 8:
            continue
        if value.t.data_type == onnx.TensorProto.INT64:
            known[node.output[0]] = [int(v) for v in to_array(value.t).reshape(-1)]
    producer, readers = _dataflow(graph, every)

    def cut(value: str, x: str, axis: int) -> tuple[int, int] | None:
        """(b, 0) for ``x[-b:]`` along ``axis``, (0, a) for ``x[:a]``, read only once."""
        node = producer.get(value)
        if node is None or node.op_type != "Slice" or node.input[0] != x or len(node.input) < 4:
            return None
        starts, ends, axes = (known.get(v) for v in node.input[1:4])
        steps = known.get(node.input[4]) if len(node.input) > 4 else [1]
        if len(readers.get(value, [])) != 1 or axes != [axis] or steps != [1]:
            return None
        if starts is None or ends is None:
            return None
        if starts[0] < 0 and ends[0] >= 2**62:
            return (-starts[0], 0)
        if starts[0] == 0 and 0 < ends[0] < 2**62:
            return (0, ends[0])
        return None

    found: dict[int, tuple[str, int, tuple[int, int], list[Any]]] = {}
    for concat in every:
        axis = next((int(a.i) for a in concat.attribute if a.name == "axis"), 0)
        if concat.op_type != "Concat" or axis < 2 or len(concat.input) not in (2, 3):
            continue
        for x in dict.fromkeys(concat.input):
            if list(concat.input).count(x) != 1:
                continue
            place = list(concat.input).index(x)
            before = [cut(v, x, axis) for v in concat.input[:place]]
            after = [cut(v, x, axis) for v in concat.input[place + 1 :]]
            if len(before) > 1 or len(after) > 1 or None in before or None in after:
                continue
            if any(c[1] for c in before if c) or any(c[0] for c in after if c):
                continue
            sides = (
                before[0][0] if before and before[0] else 0,
                after[0][1] if after and after[0] else 0,
            )
            slices = [producer[v] for v in concat.input if v != x]
            found[id(concat)] = (x, axis, sides, slices)
            break
    if not found:
        return
    try:
        shapes = {
            v.name: len(v.type.tensor_type.shape.dim)
            for v in (*onnx.shape_inference.infer_shapes(model).graph.value_info, *graph.input)
        }
    except Exception:
        return
    pads: dict[str, tuple[str, list[int], Any]] = {}  # a made Pad's output → input, pads
    drop: set[int] = set()
    replace: dict[int, list[Any]] = {}
    for concat in every:
        if id(concat) not in found:
            continue
        x, axis, (b, a), slices = found[id(concat)]
        rank = shapes.get(x) or shapes.get(concat.output[0])
        if not rank or axis >= rank:
            continue
        source, flat = x, [0] * (2 * rank)
        earlier = pads.get(x)
        if earlier is not None and len(readers.get(x, [])) == len(slices) + 1:
            source, flat, made = earlier  # the pad of the axis before: one pad
            drop.add(id(made))
        flat = list(flat)
        flat[axis] += b
        flat[rank + axis] += a
        name = concat.output[0] + "_pads"
        sizes = onnx.helper.make_node(
            "Constant", [], [name], value=onnx.numpy_helper.from_array(np.array(flat, np.int64))
        )
        scope = concat.name.rsplit("/", 1)[0] if "/" in concat.name else ""
        pad = onnx.helper.make_node(  # named as F.pad's call in the Concat's module
            "Pad", [source, name], [concat.output[0]], name=f"{scope}/pad/Pad", mode="wrap"
        )
        drop.update(id(s) for s in slices)
        replace[id(concat)] = [sizes, pad]
        pads[concat.output[0]] = (source, flat, pad)
    nodes = []
    for node in every:
        if id(node) not in drop:
            nodes.extend(replace.get(id(node), [node]))
    del graph.node[:]
    graph.node.extend(n for n in nodes if id(n) not in drop)  # merged Pads too


def _pytorch_hard_sigmoid(node: Any) -> bool:
    """A HardSigmoid with PyTorch's α = 1/6 and β = 1/2 (ONNX's defaults are Keras's
    0.2 and 0.5)."""
    attrs = {a.name: _attribute(a) for a in node.attribute}
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))
    return abs(alpha - 1 / 6) < 1e-6 and beta == 0.5


def _last_axis(mean: Any) -> bool:
    """A ReduceMean over the last axis only, keeping it (``axes`` an attribute, as
    before opset 18)."""
    attrs = {a.name: _attribute(a) for a in mean.attribute}
    return list(attrs.get("axes", ())) == [-1] and int(attrs.get("keepdims", 1)) == 1


def _channels_last_input(graph: Any, name: str, rank: int) -> bool:
    """An input with the channels last (Keras's N, H, W, C, as TensorFlow's converters
    keep it): read only by Transposes that move the channels to axis 1."""
    back = (0, rank - 1, *range(1, rank - 1))
    readers = [node for node in graph.node if name in node.input]
    return (
        rank >= 3
        and bool(readers)
        and all(
            node.op_type == "Transpose"
            and tuple(next((a.ints for a in node.attribute if a.name == "perm"), ())) == back
            for node in readers
        )
    )


def _has_sizes(onnx: Any, model: Any) -> bool:
    """Whether the graph computes a size from constants, or has an operator whose shape
    ``_fold_sizes`` fills in."""
    constant = {
        init.name for init in model.graph.initializer if init.data_type == onnx.TensorProto.INT64
    }
    for node in model.graph.node:
        if node.op_type in ("Shape", "MaxUnpool") or node.op_type in _SAME_SHAPE:
            return True
        if node.op_type == "Constant":
            constant.update(node.output)
        elif node.op_type in _SIZE_OPS and all(i in constant for i in node.input if i):
            return True
    return False


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


def _opset(model: Any) -> int:
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)


def _dims(value: Any) -> tuple[int, ...] | None:
    kind = value.type.tensor_type
    if not kind.HasField("shape"):
        return None
    dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in kind.shape.dim)
    return None if -1 in dims[1:] else dims


def _input_shape(value: Any, given: Sequence[int] | None) -> tuple[int, ...]:
    """(1, C, *spatial) or (1, F) of the input: vectors, 1-D, 2-D or 3-D maps; ``given``
    (without the batch, or with it where the file's rank says so) where the file leaves
    a dimension open."""
    dims = _dims(value) or ()
    rank = len(value.type.tensor_type.shape.dim)
    if given is not None:
        wanted = tuple(int(d) for d in given)
        # the batch given too: as many numbers as the file's axes (4 when it says none)
        if len(wanted) == (rank or 4):
            wanted = wanted[1:]
        if len(wanted) not in (1, 2, 3, 4) or min(wanted) < 1:
            raise CNNError(
                _("input={given} is not a shape").format(given=tuple(given)),
                hint=_("pass input=(C, H, W)"),
            )
        return (1, *wanted)
    if len(dims) not in (2, 3, 4, 5) or min(dims[1:], default=0) < 1:
        raise CNNError(
            _(
                "input {name} has shape {shape}; vectors (N, F) or maps (N, C, L), "
                "(N, C, H, W), (N, C, D, H, W) with known sizes are needed"
            ).format(name=repr(value.name), shape=dims or _("unknown")),
            hint=_("pass input=(C, H, W)"),
        )
    return (1, *dims[1:])


def _set_input(onnx: Any, value: Any, shape: tuple[int, ...]) -> None:
    dims = value.type.tensor_type.shape.dim
    del dims[:]
    for size in shape:
        dims.add().dim_value = size


class _Reader:
    """Walks the nodes in order (ONNX requires a topological order)."""

    def __init__(
        self,
        graph: Any,
        weights: dict[str, tuple[int, ...]],
        shapes: dict[str, tuple[int, ...] | None],
        input_name: str,
    ) -> None:
        self.graph = graph
        self.weights = weights
        self.shapes = shapes
        self.values = {init.name: init for init in graph.initializer}
        self.alias: dict[str, str] = {input_name: ""}  # ONNX value → producing node
        self.constants = set(weights)
        self.pads: dict[str, tuple[Any, Pads | None, str | None, str]] = {}
        # a Pad's output → (the Pad, its sides to fold, its own statement, why not)
        self.layouts: dict[str, str] = {}  # "last": the channels moved last by a Transpose
        self.crops: dict[str, tuple[Node, Pads, Dims]] = {}  # a crop's output → its parts
        self.fused: dict[str, tuple[str, ...]] = {}  # layers written out in several nodes
        # a MaxPool's second output (where the maxima were) → its node and input shape
        self.indices: dict[str, tuple[str, tuple[int, ...]]] = {}
        self.matmuls: dict[str, Node] = {}  # a MatMul's output → its node, for the bias
        self.output: str | None = None  # the node giving the graph's first output
        self.cut: dict[str, int] = {}  # a split's part → the channels of what it cuts
        # (operator, the weights it reads) → the first node that reads them
        self.owners: dict[tuple[str, tuple[str, ...]], str] = {}
        # a weight the exporter computed once and wrote again as an Identity (the
        # transposed weight of a linear layer called twice) → the first
        self.same: dict[str, str] = {}

    def convert(self, unknown: str) -> tuple[list[Node], list[tuple[str, str, str]], list[str]]:
        nodes: list[Node] = []
        problems: list[tuple[str, str, str]] = []
        notes: list[str] = []
        for index, proto in enumerate(self.graph.node):
            name = proto.name or f"{proto.op_type.lower()}{index}"
            if proto.op_type == "Constant":
                self.constants.update(proto.output)
                self._constant(proto)
                continue
            if all(value in self.constants for value in proto.input if value):
                self.constants.update(proto.output)  # computed from constants alone
                continue
            for value in proto.input:
                if value in self.pads and not self._folds(proto, value):
                    self.place_pad(value, nodes, problems)
            try:
                node = self.node(proto, name)
            except (_Unknown, Unwritable) as why:
                try:
                    source = self._sources(proto)
                except _Unknown:  # it reads what nothing produced: no opaque row either
                    source = ()
                out = self._out(proto)
                single = sum(bool(value) for value in proto.output) == 1
                if unknown == "opaque" and len(source) == 1 and out and single:
                    label = self.label(proto, name)
                    weights = sum(
                        math.prod(self.weights[v]) for v in proto.input if v in self.weights
                    )
                    notes.append(  # ONNX does not tell weights from constants: both said
                        _n(
                            "opaque, counted as zero: {label} ({op}, initializers of {count:,} "
                            "value): {why}",
                            "opaque, counted as zero: {label} ({op}, initializers of {count:,} "
                            "values): {why}",
                            weights,
                        ).format(label=label, op=proto.op_type, count=weights, why=why)
                    )
                    keeps = self.shapes.get(proto.input[0]) == self.shapes.get(proto.output[0])
                    statement = "opaque" if keeps else "opaque " + "x".join(map(str, out))
                    node = Node(name, label, statement, source, out, -1)
                else:
                    problems.append((name, proto.op_type, str(why)))
                    # every output: its readers are listed for their own reasons only
                    self.alias.update((value, name) for value in proto.output if value)
                    continue
            if node is None:
                continue
            if isinstance(node, list):  # a Split: one part per output
                nodes.extend(node)
                self.alias.update(
                    (v, part.name) for v, part in zip(proto.output, node, strict=True)
                )
                continue
            same = [i for i, n in enumerate(nodes) if n.name == node.name]
            if same:  # a MatMul that took on its bias
                nodes[same[0]] = node
            else:
                nodes.append(node)
            self.alias[proto.output[0]] = node.name
        for output in list(self.pads):
            self.place_pad(output, nodes, problems)
        nodes = self._nest_split_concats(nodes)
        made = {node.name for node in nodes}
        outputs = [self.alias.get(value.name) for value in self.graph.output]
        if nodes and not problems and outputs[0] not in made:
            problems.append(
                (
                    self.graph.output[0].name,
                    _("output"),
                    _("the graph's first output is computed by no layer"),
                )
            )
        # the first output is the model's; the others, where nothing reads them, are
        # side outputs (an auxiliary head), as the graph writes any path nothing reads
        self.output = outputs[0] if outputs and outputs[0] in made else None
        return nodes, problems, notes

    def _nest_split_concats(self, nodes: list[Node]) -> list[Node]:
        """PyTorch's exporter writes a concatenation of concatenations as one Concat
        (``cat([a, cat([b(x1), c(x2)])])`` of a split ``x1, x2`` gives ``Concat(a, b, c)``).
        A run of a Concat's inputs whose paths start with the consecutive parts of one
        split, covering all its channels, is that split's concatenation again, nested,
        so that it is a ``split:`` block."""
        by_name = {node.name: node for node in nodes}
        readers: dict[str, int] = {}
        for node in nodes:
            for source in node.inputs:
                readers[source] = readers.get(source, 0) + 1

        def part(value: str) -> Node | None:
            """The split's part a path starts with, walking back a chain read only once."""
            node = by_name.get(value)
            while node is not None and node.statement != SLICE:
                if len(node.inputs) != 1 or readers.get(node.name) != 1 or node.is_merge:
                    return None
                node = by_name.get(node.inputs[0])
            return node if node is not None and readers.get(node.name) == 1 else None

        out: list[Node] = []
        for node in nodes:
            if node.statement == "concat":  # each run of a split's parts, nested
                while (run := self._split_run(node, [part(v) for v in node.inputs])) is not None:
                    begin, stop = run
                    values = node.inputs[begin:stop]
                    channels = sum(by_name[value].out_shape[-1] for value in values)
                    shape = (*node.out_shape[:-1], channels)
                    inner = Node(f"{node.name}:{begin}", node.label, "concat", values, shape, 0)
                    # where the model would join them: right after the last of its paths
                    last = max(i for i, done in enumerate(out) if done.name in values)
                    out.insert(last + 1, inner)
                    node = node._replace(
                        inputs=(*node.inputs[:begin], inner.name, *node.inputs[stop:])
                    )
            out.append(node)
        return out

    def _split_run(self, concat: Node, parts: list[Node | None]) -> tuple[int, int] | None:
        """(first, stop) of the inputs of ``concat`` whose paths start with every part of
        one split in order, when they are not all its inputs; None if there is none."""
        for begin, first in enumerate(parts):
            if first is None or first.part[0] != 0:
                continue
            stop, end = begin + 1, first.part[1]
            while stop < len(parts) and end < self.cut.get(first.name, -1):
                after = parts[stop]
                if after is None or after.inputs != first.inputs or after.part[0] != end:
                    break
                stop, end = stop + 1, after.part[1]
            if end == self.cut.get(first.name) and 2 <= stop - begin < len(parts):
                return begin, stop
        return None

    def _crop(
        self, proto: Any, name: str, attrs: dict[str, Any], sources: tuple[str, ...]
    ) -> Node | None:
        """A Slice of the spatial axes: ``crop``. PyTorch's exporter slices one axis at a
        time; a Slice of a Slice (its only reader) is one crop."""
        ranges = _slice_ranges(self, proto, attrs)
        dims = self._in(proto)
        whole = [(0, size) for size in dims]
        if ranges[0] != whole[0]:
            raise _Unknown(_("slices the batch: crop slices the spatial axes"))
        if ranges[1] != whole[1]:  # a run of channels: one part of a split
            if ranges[2:] != whole[2:]:
                raise _Unknown(
                    _("slices the channels and the spatial axes at once: split: cuts the channels")
                )
            out = self._out(proto)
            self.cut[name] = dims[1]
            return Node(name, self.label(proto, name), SLICE, sources, out, 0, -1, part=ranges[1])
        if len(dims) < 3:
            raise _Unknown(_("slicing by values the graph computes, or not of a map"))
        sides = tuple(
            (begin, size - stop) for (begin, stop), size in zip(ranges[2:], dims[2:], strict=True)
        )
        if not any(b or a for b, a in sides):
            self.alias[proto.output[0]] = sources[0]
            return None
        size = self._in(proto)[2:]
        before = self.crops.get(proto.input[0])
        readers = sum(proto.input[0] in other.input for other in self.graph.node)
        if before is not None and readers == 1:
            node, first, size = before
            sides = tuple((b + b2, a + a2) for (b, a), (b2, a2) in zip(first, sides, strict=True))
            name, sources = node.name, node.inputs
        node = Node(
            name,
            self.label(proto, name),
            crop_words(sides, size),
            sources,
            self._out(proto),
            0,
        )
        self.crops[proto.output[0]] = (node, sides, size)
        return node

    def _split(
        self, proto: Any, name: str, attrs: dict[str, Any], sources: tuple[str, ...]
    ) -> list[Node]:
        """A Split of the channels: one part per output, each a consecutive run, as
        ``torch.split`` and ``torch.chunk`` cut them. The sizes are the inferred shapes
        of the outputs, which covers every form (``split`` as an attribute before opset
        13, as an input from 13, ``num_outputs`` from 18)."""
        dims = self._in(proto)
        if int(attrs.get("axis", 0)) % len(dims) != 1 or self.layouts.get(proto.input[0]):
            raise _Unknown(
                _("splits along axis {axis}: split: cuts the channels (axis 1)").format(
                    axis=attrs.get("axis", 0)
                )
            )
        label = self.label(proto, name)
        parts, first = [], 0
        for index, value in enumerate(proto.output):
            shape = self.shapes.get(value)
            if shape is None:
                raise _Unknown(_("the sizes of its parts are not known"))
            part = (first, first + shape[1])
            out = (*shape[2:], shape[1]) if len(shape) >= 3 else tuple(shape[1:])
            parts.append(Node(f"{name}:{index}", label, SLICE, sources, out, 0, -1, part=part))
            self.cut[f"{name}:{index}"] = dims[1]
            first = part[1]
        return parts

    def _transpose(self, proto: Any, attrs: dict[str, Any], sources: tuple[str, ...]) -> None:
        """A Transpose that moves the channels last, or back: no layer, a layout."""
        rank = len(self._in(proto))
        perm = tuple(int(p) for p in attrs.get("perm", range(rank - 1, -1, -1)))
        layout = self.layouts.get(proto.input[0], "")
        if perm == tuple(range(rank)):
            new = layout
        elif rank > 2 and not layout and perm == (0, *range(2, rank), 1):
            new = "last"
        elif rank > 2 and layout == "last" and perm == (0, rank - 1, *range(1, rank - 1)):
            new = ""
        elif layout.startswith("groups") and perm == (0, 2, 1, *range(3, rank)):
            new = layout.replace("groups", "shuffled")  # the middle step of a shuffle
        elif layout.startswith("blocks") and perm == (0, 1, 3, 5, 2, 4):
            new = layout.replace("blocks", "unshuffled")  # pixel_unshuffle's middle step
        else:
            raise _Unknown(
                _("moves the axes to {perm}: only the channels to the end and back").format(
                    perm=perm
                )
            )
        self.alias[proto.output[0]] = sources[0]
        self.layouts[proto.output[0]] = new

    # ------------------------------------------------------------- padding

    def _folds(self, proto: Any, value: str) -> bool:
        """Whether the Pad giving ``value`` becomes the padding of ``proto``: a conv or
        pool reading it, the Pad's only reader, its padding zeros."""
        readers = sum(value in other.input for other in self.graph.node)
        sides = self.pads[value][1]
        first = proto.input[0] if proto.input else ""
        return proto.op_type in _PADDED and readers == 1 and sides is not None and first == value

    def place_pad(
        self, value: str, nodes: list[Node], problems: list[tuple[str, str, str]]
    ) -> None:
        """A Pad that no conv or pool takes on: a ``pad`` statement of its own."""
        proto, _, statement, why = self.pads.pop(value)
        name = proto.name or proto.output[0]
        if statement is None:
            problems.append((name, "Pad", why))
            return
        node = Node(
            name, self.label(proto, name), statement, self._sources(proto), self._out(proto), 0
        )
        nodes.append(node)
        self.alias[value] = node.name

    # ------------------------------------------------------------- helpers

    def _constant(self, proto: Any) -> None:
        for attribute in proto.attribute:
            if attribute.name == "value":
                self.values[proto.output[0]] = attribute.t

    def _sources(self, proto: Any) -> tuple[str, ...]:
        """The producing nodes of a node's non-constant inputs."""
        out = []
        for value in proto.input:
            if value and value not in self.constants and value not in self.indices:
                if value not in self.alias:
                    raise _Unknown(
                        _("reads {value}, which nothing before it produced").format(
                            value=repr(value)
                        )
                    )
                out.append(self.alias[value])
        return tuple(out)

    def _out(self, proto: Any) -> tuple[int, ...]:
        """Our shape of the node's first output: (H, W, C) or (N,); () when unknown."""
        dims = self.shapes.get(proto.output[0])
        if not dims:
            return ()
        if len(dims) >= 3 and self.layouts.get(proto.output[0]) != "last":
            return (*dims[2:], dims[1])
        return tuple(dims[1:])

    def _in(self, proto: Any) -> tuple[int, ...]:
        dims = self.shapes.get(proto.input[0])
        if dims is None:
            raise _Unknown(_("its input's shape is not known"))
        return dims

    def label(self, proto: Any, name: str) -> str:
        """``layer1.0.conv1`` from a weight ``layer1.0.conv1.weight``; else the path in
        the node's name, whose scopes PyTorch's exporter names by their attribute, or by
        their path from the scope above the attribute when that is a container's
        (``/layer1/layer1.0/relu/Relu`` → ``layer1.0.relu``, ``/4/block/block.2/Mul`` →
        ``4.block.2``): a scope that extends the one before it replaces it."""
        weights = [*proto.input[1:2], *self.fused.get(proto.output[0], ())[1:2]]
        for value in weights:  # a layer norm made one node again: its γ
            if value in self.weights and value.endswith((".weight", ".bias")):
                return word_label(value.rsplit(".", 1)[0])
        parts = [p for p in name.strip("/").split("/") if p]
        if len(parts) == 1 and name.startswith("/") and parts[0].startswith(proto.op_type):
            return word_label(parts[0].lower())  # "/Mul_1" at the top: "mul_1", as traced
        if len(parts) > 1:
            path: list[str] = []
            for part in parts[:-1]:
                if path and part.startswith(path[-1] + "."):
                    path[-1] = part
                else:
                    path.append(part)
            parts = path
        return word_label(".".join(parts))

    def params(self, proto: Any, *positions: int) -> int:
        return sum(
            math.prod(self.weights[proto.input[i]])
            for i in positions
            if i < len(proto.input) and proto.input[i] in self.weights
        )

    def tensor(self, name: str) -> list[float] | None:
        """The values of a constant input (pads, slopes, clip bounds), if known."""
        onnx = _onnx()
        value = self.values.get(name)
        if value is None:
            return None
        return [float(v) for v in onnx.numpy_helper.to_array(value).reshape(-1)]

    # ------------------------------------------------------------- nodes

    def node(self, proto: Any, name: str) -> Node | list[Node] | None:
        op = proto.op_type
        attrs = {a.name: _attribute(a) for a in proto.attribute}
        sources = self._sources(proto)
        if op == "Identity":
            self.alias[proto.output[0]] = sources[0] if sources else ""
            return None
        if op == "Pad":
            self.pads[proto.output[0]] = (proto, *self._pad(proto, attrs))
            self.alias[proto.output[0]] = sources[0]
            return None
        viewed = self.layouts.get(proto.input[0], "") if proto.input else ""
        if viewed.startswith(("blocks", "unshuffled")) and op not in ("Reshape", "Transpose"):
            raise _Unknown(
                _(
                    "reads a map viewed as blocks of {r}×{r}: only a pixel unshuffle is known"
                ).format(r=viewed.split()[1])
            )
        if viewed.startswith(("groups", "shuffled")) and op not in ("Reshape", "Transpose"):
            raise _Unknown(
                _(
                    "reads channels viewed as {groups} groups: only a channel shuffle is known"
                ).format(groups=viewed.split()[1])
            )
        if op != "MaxUnpool" and any(value in self.indices for value in proto.input):
            raise _Unknown(_("reads where a max pooling found its maxima: only max unpooling does"))
        if op == "Transpose":
            self._transpose(proto, attrs, sources)
            return None
        if op == "Slice":
            return self._crop(proto, name, attrs, sources)
        if op == "Split":
            return self._split(proto, name, attrs, sources)
        if self.layouts.get(proto.input[0]) == "last" and op not in _CHANNELS_LAST:
            raise _Unknown(
                _(
                    "reads a map with the channels last (after a Transpose): only layer norm, "
                    "matrix products, activations and layer scale are known there"
                )
            )
        handler = _HANDLERS.get(op)
        if handler is None:
            raise _Unknown(_("no layer word for this operator"))
        kind, text, params = handler(self, proto, attrs)
        if any(self.layouts.get(value) == "last" for value in proto.input):
            self.layouts[proto.output[0]] = "last"  # a layer on a channels-last map keeps it
        if kind == "bias":  # Add of a bias after a MatMul: becomes the fc's bias
            matmul = self.matmuls.pop(next(i for i in proto.input if i in self.matmuls))
            return matmul._replace(
                statement=matmul.statement.replace(" nobias", ""),
                params=0 if matmul.shares else matmul.params + params,  # reuse: counted once
                out_shape=self._out(proto),
            )
        if kind == "maxunpool":  # reads its pooling's indices by the pooling's label
            out = self._out(proto)
            return Node(name, self.label(proto, name), "maxunpool", sources, out, 0, undoes=text)
        if kind == "layout":  # axes moved, no layer: the value's new layout
            self.alias[proto.output[0]] = sources[0]
            self.layouts[proto.output[0]] = text
            return None
        if kind == "pass":
            self.alias[proto.output[0]] = sources[0]
            self.layouts[proto.output[0]] = self.layouts.get(proto.input[0], "")
            return None
        statement = kind if kind in MERGES else text
        macs = self.macs(proto)
        # the same weights read by another node of the same operator: a module called
        # again, ``reuse`` of the first (its parameters counted once, there)
        used = tuple(self.same.get(v, v) for v in proto.input[1:] if v in self.weights)
        shares = self.owners.setdefault((op, used), name) if used and params else name
        node = Node(
            name,
            self.label(proto, name),
            statement,
            sources,
            self._out(proto),
            params if shares == name else 0,
            macs,
            shares="" if shares == name else shares,
        )
        if op == "MaxPool" and len(proto.output) > 1 and proto.output[1]:
            self.indices[proto.output[1]] = (node.name, self._in(proto))
        if op == "MatMul":
            self.matmuls[proto.output[0]] = node
        return node

    def macs(self, proto: Any) -> int:
        """Multiply-adds from the graph's own shapes, to check ours: a convolution's
        output elements · its weight's size per output channel; a transposed one's input
        elements · its weight's size per input channel; a matrix product's weight size
        (per row of a batch of 1). -1 where there is nothing to check."""
        weight = self.weights.get(proto.input[1]) if len(proto.input) > 1 else None
        if weight is None:
            return -1
        if proto.op_type == "Conv":
            out = self.shapes.get(proto.output[0])
            return math.prod(out[1:]) * math.prod(weight[1:]) if out else -1
        if proto.op_type == "ConvTranspose":
            return math.prod(self._in(proto)[1:]) * math.prod(weight[1:])
        if proto.op_type in ("Gemm", "MatMul"):  # per row: per vector, or per position
            return math.prod(weight) * math.prod(self._in(proto)[1:-1])
        return -1

    def _pad(self, proto: Any, attrs: dict[str, Any]) -> tuple[Pads | None, str | None, str]:
        """(sides to fold into a conv or pool, the ``pad`` statement, why not) of a Pad:
        ``pads`` lists every axis's start, then every axis's end."""
        mode = str(attrs.get("mode", "constant"))
        pads = attrs.get("pads")
        if pads is None and len(proto.input) > 1:
            pads = self.tensor(proto.input[1])
        rank = len(self._in(proto))
        value = 0.0
        if len(proto.input) > 2 and proto.input[2]:
            found = self.tensor(proto.input[2])
            value = found[0] if found else math.nan
        if len(proto.input) > 3 and proto.input[3] and pads is not None:
            # opset 18's axes: pads for those axes only, the others unpadded
            axes = self.tensor(proto.input[3])
            if axes is None or len(pads) != 2 * len(axes):
                return None, None, _("padding of chosen axes")
            full = [0.0] * (2 * rank)
            for i, axis in enumerate(int(a) % rank for a in axes):
                full[axis], full[rank + axis] = pads[i], pads[len(axes) + i]
            pads = full
        if pads is None or len(pads) != 2 * rank or rank < 3 or self.layouts.get(proto.input[0]):
            return None, None, _("padding other than the spatial axes of a map")
        flat = [int(p) for p in pads]
        if any(flat[i] for i in (0, 1, rank, rank + 1)) or min(flat) < 0:
            return None, None, _("padding the batch or the channels, or cropping")
        sides: Pads = tuple((flat[i], flat[rank + i]) for i in range(2, rank))
        fold = sides if mode == "constant" and value in (0.0, -math.inf) else None
        if mode not in _PAD_MODES or (mode == "constant" and value != 0.0):
            why = (
                _("pads with {value}: pad fills with zeros, reflect, replicate or circular")
                if mode == "constant"
                else _("mode {mode}: pad fills with zeros, reflect, replicate or circular")
            )
            return fold, None, why.format(value=value, mode=repr(mode))
        try:
            return fold, pad_words(sides, _PAD_MODES[mode]), ""
        except Unwritable as why:
            return fold, None, str(why)

    def unpadded(self, proto: Any) -> tuple[int, ...]:
        """The shape of a conv's or pool's input before a Pad that folds into it."""
        pad = self.pads.get(proto.input[0])
        if pad is not None and pad[1] is not None:
            return self.shapes.get(pad[0].input[0]) or self._in(proto)
        return self._in(proto)

    def window_pads(
        self,
        proto: Any,
        attrs: dict[str, Any],
        kernel: Dims,
        stride: Dims,
        dilation: Dims,
    ) -> Pads:
        """(before, after) per axis from ``pads`` or ``auto_pad``, plus a Pad in front."""
        pad = self.pads.pop(proto.input[0], None)
        extra = (pad[0].input[0], pad[1]) if pad is not None and pad[1] is not None else None
        unpadded = self.shapes.get(extra[0]) if extra is not None else self._in(proto)
        if unpadded is None:
            raise _Unknown(_("its input's shape is not known"))
        size = unpadded[2:]
        auto = attrs.get("auto_pad", "NOTSET")
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            sides = []
            for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
                out = -(-n // s)
                total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
                small, large = total // 2, total - total // 2
                sides.append((small, large) if auto == "SAME_UPPER" else (large, small))
            pads: Pads = tuple(sides)
        else:
            n = len(kernel)
            flat = [int(v) for v in attrs.get("pads", [0] * 2 * n)]
            if len(flat) != 2 * n:
                raise _Unknown(_("{pads} pads for {n} spatial axes").format(pads=len(flat), n=n))
            pads = tuple((flat[i], flat[n + i]) for i in range(n))
        if extra is not None:
            pads = tuple((b + eb, a + ea) for (b, a), (eb, ea) in zip(pads, extra[1], strict=True))
        return pads


def _attribute(attribute: Any) -> Any:
    onnx = _onnx()
    value = onnx.helper.get_attribute_value(attribute)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _nd(values: Any, default: int, n: int) -> Dims:
    """An attribute with one number per spatial axis (``n`` of them)."""
    if not values:
        return (default,) * n
    numbers = tuple(int(v) for v in values)
    if len(numbers) != n:
        raise _Unknown(_("{count} numbers for {n} spatial axes").format(count=len(numbers), n=n))
    return numbers


def _spatial(reader: _Reader, proto: Any) -> int:
    """How many spatial axes the node's input has (1, 2 or 3)."""
    n = len(reader._in(proto)) - 2
    if n not in (1, 2, 3):
        raise _Unknown(
            _("an input of {axes} axes: windows slide over 1, 2 or 3 dimensions").format(axes=n + 2)
        )
    return n


def _conv(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    n = _spatial(reader, proto)
    weight = reader.weights.get(proto.input[1])
    if weight is None or len(weight) != n + 2:
        raise _Unknown(_("a convolution whose weights are not an initializer of its rank"))
    kernel = _nd(attrs.get("kernel_shape"), 0, n) if "kernel_shape" in attrs else weight[2:]
    stride = _nd(attrs.get("strides"), 1, n)
    dilation = _nd(attrs.get("dilations"), 1, n)
    groups = int(attrs.get("group", 1))
    dims = reader.unpadded(proto)
    pads = reader.window_pads(proto, attrs, kernel, stride, dilation)
    bias = len(proto.input) > 2 and bool(proto.input[2])
    text = conv_words(dims[1], weight[0], kernel, stride, pads, dilation, groups, bias, dims[2:])
    return "leaf", text, reader.params(proto, 1, 2)


def _conv_transpose(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    n = _spatial(reader, proto)
    weight = reader.weights.get(proto.input[1])
    if weight is None or len(weight) != n + 2:
        raise _Unknown(
            _("a transposed convolution whose weights are not an initializer of its rank")
        )
    if "output_shape" in attrs or attrs.get("auto_pad", "NOTSET") != "NOTSET":
        raise _Unknown(_("output_shape or auto_pad: write pads and output_padding instead"))
    groups = int(attrs.get("group", 1))
    flat = [int(v) for v in attrs.get("pads", [0] * 2 * n)]
    if len(flat) != 2 * n or flat[:n] != flat[n:]:
        raise _Unknown(_("unequal padding on a transposed convolution"))
    text = deconv_words(
        weight[1] * groups,
        _nd(attrs.get("kernel_shape"), 0, n) if "kernel_shape" in attrs else weight[2:],
        _nd(attrs.get("strides"), 1, n),
        tuple(flat[:n]),
        _nd(attrs.get("output_padding"), 0, n),
        _nd(attrs.get("dilations"), 1, n),
        groups,
        len(proto.input) > 2 and bool(proto.input[2]),
    )
    return "leaf", text, reader.params(proto, 1, 2)


def _gemm(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    weight = reader.weights.get(proto.input[1])
    if weight is None or len(weight) != 2 or attrs.get("transA", 0):
        raise _Unknown(_("a matrix product whose second factor is not a weight initializer"))
    if reader.layouts.get(proto.input[0]) == "last" and proto.op_type == "MatMul":
        # on each position of a channels-last map: a 1×1 convolution
        return "leaf", f"conv {weight[1]} k1 nobias", reader.params(proto, 1)
    if len(reader._in(proto)) != 2:
        raise _Unknown(_("a matrix product over more than a batch of vectors"))
    n = weight[0] if attrs.get("transB", 0) else weight[1]
    bias = len(proto.input) > 2 and bool(proto.input[2])
    return "leaf", words(f"fc {n}", None if bias else "nobias"), reader.params(proto, 1, 2)


def _matmul(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    return _gemm(reader, proto, {})


def _pool(op: str) -> Any:
    def convert(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
        n = _spatial(reader, proto)
        kernel = _nd(attrs.get("kernel_shape"), 0, n)
        stride = _nd(attrs.get("strides"), 1, n)  # ONNX's default is 1, not the kernel
        dilation = _nd(attrs.get("dilations"), 1, n)
        size = reader.unpadded(proto)[2:]
        pads = reader.window_pads(proto, attrs, kernel, stride, dilation)
        ceil = bool(attrs.get("ceil_mode", 0))
        return "leaf", pool_words(op, kernel, stride, pads, dilation, ceil, size), 0

    return convert


def _global(kind: str) -> Any:
    def convert(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
        return "leaf", adaptive_words(kind, (1,) * _spatial(reader, proto)), 0

    return convert


def _reduce_mean(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    axes = attrs.get("axes")
    if axes is None and len(proto.input) > 1:
        found = reader.tensor(proto.input[1])
        axes = [int(a) for a in found] if found is not None else None
    rank = len(reader._in(proto))
    if sorted(a % rank for a in axes or ()) != list(range(2, rank)) or rank < 3:
        raise _Unknown(_("a mean over other axes than the spatial ones"))
    if not attrs.get("keepdims", 1):
        raise _Unknown(_("a mean without keepdims"))
    return "leaf", "gap", 0


def _batch_norm(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    return "leaf", "bn", reader.params(proto, 1, 2)  # γ, β; mean and variance are statistics


def _simple(word: str) -> Any:
    def convert(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
        return "leaf", word, 0

    return convert


def _leaky(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    return "leaf", f"leakyrelu {number(float(attrs.get('alpha', 0.01)))}", 0


def _elu(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    return "leaf", f"elu {number(float(attrs.get('alpha', 1.0)))}", 0


def _prelu(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    slopes = reader.params(proto, 1)
    if slopes != 1:
        raise _Unknown(_("{count} slopes: prelu has one weight").format(count=slopes))
    return "leaf", "prelu", 1


def _clip(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    bounds = [attrs.get("min"), attrs.get("max")]
    for i in (1, 2):
        if len(proto.input) > i and proto.input[i]:
            found = reader.tensor(proto.input[i])
            bounds[i - 1] = found[0] if found else None
    if bounds == [0.0, 6.0]:
        return "leaf", "relu6", 0
    raise _Unknown(_("clip to {bounds}: only ReLU6's [0, 6] has a word").format(bounds=bounds))


def _softmax(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    rank = len(reader._in(proto))
    axis = int(attrs.get("axis", -1))
    if axis % rank == 1 and (rank == 2 or axis == 1):
        return "leaf", "softmax", 0
    raise _Unknown(
        _("softmax over axis {axis}: the language's softmax is over the channels").format(axis=axis)
    )


def _lrn(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    if int(attrs.get("size", 0)) != 5:
        raise _Unknown(_("size other than 5: lrn counts a window of 5"))
    return "leaf", "lrn", 0


def _dropout(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    ratio = attrs.get("ratio")
    if ratio is None and len(proto.input) > 1 and proto.input[1]:
        found = reader.tensor(proto.input[1])
        ratio = found[0] if found else None
    return "leaf", f"dropout {number(float(0.5 if ratio is None else ratio))}", 0


def _flatten(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    if int(attrs.get("axis", 1)) != 1:
        raise _Unknown(_("flattening from another axis than 1"))
    return "leaf", "flatten", 0


def _reshape(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    """Flattening; and the first and last steps of a channel shuffle (ShuffleNet's
    Reshape to (N, G, C/G, ...), Transpose, Reshape back)."""
    dims, out = reader._in(proto), reader.shapes.get(proto.output[0])
    layout = reader.layouts.get(proto.input[0], "")
    if out == dims:
        return "pass", "", 0
    if layout.startswith("shuffled") and out == (dims[0], dims[1] * dims[2], *dims[3:]):
        return "leaf", f"channelshuffle {dims[2]}", 0
    grouped = (
        out is not None
        and len(dims) > 2
        and len(out) == len(dims) + 1
        and out[3:] == dims[2:]
        and out[0] == dims[0]
        and out[1] * out[2] == dims[1]
    )
    if not layout and grouped and out is not None:
        return "layout", f"groups {out[1]}", 0
    # PyTorch's pixel_unshuffle: (N, C, H/r, r, W/r, r), Transpose, (N, C·r², H/r, W/r)
    blocks = (
        out is not None
        and len(dims) == 4
        and len(out) == 6
        and out[3] == out[5]
        and out[:2] == dims[:2]
        and (out[2] * out[3], out[4] * out[5]) == dims[2:]
    )
    if not layout and blocks and out is not None:
        return "layout", f"blocks {out[3]}", 0
    if layout.startswith("unshuffled") and len(dims) == 6:  # (N, C, r, r, H/r, W/r)
        r = dims[2]
        if out == (dims[0], dims[1] * r * r, dims[4], dims[5]):
            return "leaf", f"pixelunshuffle {r}", 0
    if out is not None and len(out) == 2 and out[1] == math.prod(dims[1:]):
        return "leaf", "flatten", 0
    raise _Unknown(
        _("reshapes {dims} to {out}: only flattening to (N, features) is known").format(
            dims=dims, out=out
        )
    )


def _add(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    constant = [i for i in proto.input if i in reader.constants]
    product = [i for i in proto.input if i in reader.matmuls]
    if len(constant) == 1 and len(product) == 1 and constant[0] in reader.weights:
        return "bias", "", math.prod(reader.weights[constant[0]])  # either order
    if constant:
        raise _Unknown(_("adds a constant: not counted"))
    _broadcasts(reader, proto)
    return "add", "add", 0


def _broadcasts(reader: _Reader, proto: Any) -> None:
    """Paths of one rank whose every dimension is the output's or 1: the broadcasting
    the language's ``add`` and ``mul`` do (a gate of 1×1×C on an H×W×C map)."""
    out = reader.shapes.get(proto.output[0])
    shapes = [reader.shapes.get(value) for value in proto.input]
    fits = out is not None and all(
        shape is not None
        and len(shape) == len(out)
        and all(d in (1, o) for d, o in zip(shape, out, strict=True))
        for shape in shapes
    )
    if not fits:
        raise _Unknown(
            _("combines shapes {shapes}: each dimension must be the output's or 1").format(
                shapes=_(" and ").join(str(shape) for shape in shapes)
            )
        )


def _concat(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    rank = len(reader._in(proto))
    if len(proto.input) == 1 and int(attrs.get("axis", 0)) % rank != 1:
        return "pass", "", 0  # one map along a spatial axis: itself (a circular pad's)
    if int(attrs.get("axis", 0)) % rank != 1:
        raise _Unknown(
            _("joins along axis {axis}: concat joins channels (axis 1)").format(
                axis=attrs.get("axis")
            )
        )
    if any(i in reader.constants for i in proto.input):
        raise _Unknown(_("joins a constant"))
    return "concat", "concat", 0


def _resize(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    """``Resize`` (by ``scales`` or to ``sizes``) and the older ``Upsample``."""
    dims, out = reader._in(proto), reader.shapes.get(proto.output[0])
    if out is None or len(dims) < 3 or out[:2] != dims[:2]:
        raise _Unknown(_("resizing other than the spatial axes of a map"))
    return "leaf", upsample_words(dims[2:], out[2:], str(attrs.get("mode", "nearest"))), 0


def _mul(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    """The product of two paths (broadcast as PyTorch does: a squeeze-and-excitation
    gate, 1×1×C, on its H×W×C input is ``scale:``, other products ``mul A, B``); a path
    times a weight with one factor per channel: ``layerscale``."""
    weights = [i for i in proto.input if i in reader.weights]
    paths = [i for i in proto.input if i not in reader.constants]
    if len(paths) == 2:
        _broadcasts(reader, proto)
        return "mul", "mul", 0
    if len(weights) != 1 or len(paths) != 1:
        raise _Unknown(_("multiplies by a constant: not counted"))
    shape, gamma = reader.shapes.get(paths[0]) or (), reader.weights[weights[0]]
    last = len(shape) == 2 or reader.layouts.get(paths[0]) == "last"
    axis = len(shape) - 1 if last else 1
    wanted = tuple(shape[axis] if i == axis else 1 for i in range(len(shape)))
    if len(gamma) > len(shape) or (1,) * (len(shape) - len(gamma)) + gamma != wanted:
        raise _Unknown(
            _(
                "multiplies {shape} by a weight of shape {gamma}: layer scale has one factor "
                "per channel"
            ).format(shape=shape, gamma=gamma)
        )
    return "leaf", "layerscale", math.prod(gamma)


def _layer_norm(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    dims = reader._in(proto)
    last = len(dims) == 2 or reader.layouts.get(proto.input[0]) == "last"
    if int(attrs.get("axis", -1)) % len(dims) != len(dims) - 1 or not last:
        raise _Unknown(
            _(
                "normalises over more than the last axis, or over a map's last spatial axis: "
                "the language's layernorm is over the channels (or a vector's features)"
            )
        )
    if reader.params(proto, 1) != dims[-1] or reader.params(proto, 2) != dims[-1]:
        raise _Unknown(_("without a weight and a bias per channel: layernorm learns γ and β"))
    return "leaf", "layernorm", reader.params(proto, 1, 2)


def _group_norm(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    channels = reader._in(proto)[1]
    if reader.params(proto, 1) != channels or reader.params(proto, 2) != channels:
        raise _Unknown(_("a scale and bias per group (opset 18): groupnorm learns one per channel"))
    return "leaf", f"groupnorm {int(attrs['num_groups'])}", reader.params(proto, 1, 2)


def _instance_norm(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    """Affine when its scale and bias are weights; constants (PyTorch's export of
    ``affine=False``) leave it without."""
    params = reader.params(proto, 1, 2)
    if params:
        if params != 2 * reader._in(proto)[1]:
            raise _Unknown(_("a scale or bias that is a weight, the other not"))
        return "leaf", "instancenorm affine", params
    return "leaf", "instancenorm", 0


def _depth_to_space(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    """DepthToSpace in either channel order (DCR, TensorFlow's; CRD, PyTorch's): the
    same sizes and counts."""
    if len(reader._in(proto)) != 4:
        raise _Unknown(_("not a 2-D map"))
    word = "pixelshuffle" if proto.op_type == "DepthToSpace" else "pixelunshuffle"
    return "leaf", f"{word} {int(attrs['blocksize'])}", 0


def _hard_sigmoid(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))
    if not _pytorch_hard_sigmoid(proto):
        raise _Unknown(
            _("alpha={alpha}, beta={beta}: hardsigmoid is PyTorch's, x/6 + 1/2 clipped").format(
                alpha=f"{alpha:g}", beta=f"{beta:g}"
            )
        )
    return "leaf", "hardsigmoid", 0


def _max_unpool(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    """``maxunpool POOL``, POOL the label of the MaxPool whose indices it reads."""
    found = reader.indices.get(proto.input[1]) if len(proto.input) > 1 else None
    if found is None:
        raise _Unknown(_("max unpooling reads its pooling's indices: write maxunpool POOL"))
    pool, before = found
    out = reader.shapes.get(proto.output[0])
    if out != before:
        raise _Unknown(
            _("unpools to {out}, not to the size before {pool} ({size})").format(
                out=out, pool=pool, size=before
            )
        )
    return "maxunpool", pool, 0  # the graph writes maxunpool and the pooling's label


def _erf(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    """A GELU, SiLU or layer norm made one node again (see ``_fuse_written_out``); any
    other Erf has no word."""
    word, *weights = reader.fused.get(proto.output[0], ("",))
    if not word:
        raise _Unknown(_("no layer word for this operator"))
    if word != "layernorm":
        return "leaf", word, 0
    dims = reader._in(proto)
    last = len(dims) == 2 or reader.layouts.get(proto.input[0]) == "last"
    sizes = {math.prod(reader.weights[w]) for w in weights}
    if not last or sizes != {dims[-1]}:
        raise _Unknown(
            _(
                "normalises a map's last spatial axis, or with a weight and a bias of "
                "another size than the channels: the language's layernorm is over the "
                "channels (or a vector's features)"
            )
        )
    return "leaf", "layernorm", 2 * dims[-1]


def _slice_ranges(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> list[tuple[int, int]]:
    """(first, stop) on every axis of the map a Slice reads (the whole axis where it
    does not cut), from its ``starts``, ``ends``, ``axes`` and ``steps`` (inputs from
    opset 10, attributes before)."""
    dims = reader._in(proto)
    rank = len(dims)
    found = [
        reader.tensor(proto.input[i]) if len(proto.input) > i and proto.input[i] else None
        for i in range(1, 5)
    ]
    starts = found[0] if len(proto.input) > 1 else attrs.get("starts")
    ends = found[1] if len(proto.input) > 2 else attrs.get("ends")
    axes = found[2] if found[2] is not None else attrs.get("axes", range(len(starts or ())))
    steps = found[3] if found[3] is not None else [1] * len(starts or ())
    if starts is None or ends is None or rank < 2 or reader.layouts.get(proto.input[0]):
        raise _Unknown(_("slicing by values the graph computes, or not of a map"))
    ranges = [(0, size) for size in dims]
    for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        axis = int(axis) % rank
        big = 2**62  # ONNX writes "to the end" as the largest int64
        begin, stop, stride = slice(
            int(max(min(start, big), -big)), int(max(min(end, big), -big)), int(step)
        ).indices(dims[axis])
        if stride != 1 or stop <= begin:
            raise _Unknown(_("slices with step {step} or to nothing").format(step=stride))
        ranges[axis] = (begin, stop)
    return ranges


_HANDLERS = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "MaxPool": _pool("maxpool"),
    "AveragePool": _pool("avgpool"),
    "GlobalAveragePool": _global("avg"),
    "GlobalMaxPool": _global("max"),
    "ReduceMean": _reduce_mean,
    "BatchNormalization": _batch_norm,
    "Relu": _simple("relu"),
    "Sigmoid": _simple("sigmoid"),
    "Tanh": _simple("tanh"),
    "HardSwish": _simple("hardswish"),
    "Gelu": _simple("gelu"),
    "LeakyRelu": _leaky,
    "Elu": _elu,
    "PRelu": _prelu,
    "Clip": _clip,
    "Softmax": _softmax,
    "LRN": _lrn,
    "Dropout": _dropout,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Add": _add,
    "Concat": _concat,
    "Mul": _mul,
    "Resize": _resize,
    "Upsample": _resize,
    "LayerNormalization": _layer_norm,
    "GroupNormalization": _group_norm,
    "InstanceNormalization": _instance_norm,
    "DepthToSpace": _depth_to_space,
    "SpaceToDepth": _depth_to_space,
    "HardSigmoid": _hard_sigmoid,
    "MaxUnpool": _max_unpool,
    "Erf": _erf,
}
"""The operators understood, by ONNX name."""

# What may read a map whose channels a Transpose moved last (ConvNeXt's blocks).
_CHANNELS_LAST = frozenset(
    {
        "Erf",  # a GELU, SiLU or layer norm made one node again (see _fuse_written_out)
        "LayerNormalization",
        "MatMul",
        "Add",
        "Mul",
        "Relu",
        "Gelu",
        "Sigmoid",
        "Tanh",
        "HardSwish",
        "HardSigmoid",
        "LeakyRelu",
        "Elu",
        "Dropout",
    }
)

_PADDED = ("Conv", "MaxPool", "AveragePool")  # the operators a zero Pad folds into

# ONNX's padding modes → the language's
_PAD_MODES = {"constant": "zeros", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}
