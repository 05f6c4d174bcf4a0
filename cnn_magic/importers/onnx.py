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
``Conv``                                   ``conv N k.. s.. p.. d.. g..`` / ``dwconv``
                                           (``auto_pad`` SAME_UPPER → ``same``)
``ConvTranspose``                          ``deconv N k.. s.. p.. op.. d.. g..``
``Gemm``; ``MatMul`` (+ ``Add`` of a       ``fc N`` (``nobias`` without the bias)
bias initializer)
``MaxPool``, ``AveragePool``               ``maxpool`` / ``avgpool`` ``k.. s.. p.. [ceil]``;
                                           unequal ``pads`` as ``same`` or ``ceil``
``GlobalAveragePool``, ``GlobalMaxPool``   ``gap``, ``gmp``
``ReduceMean`` over H and W                ``gap``
``BatchNormalization``                     ``bn``
``Relu``, ``Clip(0, 6)``, ``LeakyRelu``,   ``relu``, ``relu6``, ``leakyrelu A``, ``prelu``,
``PRelu`` (one slope), ``Elu``,            ``elu A``, ``gelu``, ``hardswish``,
``Gelu``, ``HardSwish``, ``Sigmoid``,      ``sigmoid``, ``tanh``, ``softmax``
``Tanh``, ``Softmax`` (channels)
``LRN`` (size 5)                           ``lrn``
``Dropout``                                ``dropout P``
``Flatten`` (axis 1), ``Reshape`` to       ``flatten``
(N, features)
``Resize`` by whole factors               ``upsample S`` (``linear`` → ``bilinear``)
``Pad`` (constant) before a conv or pool   folded into its padding
``Identity``, ``Constant``                 nothing
``Add`` of two paths, ``Concat`` (axis 1)  the join of a block
=========================================  ==============================================

Anything else (``Mul`` of two paths, ``Resize`` by a fraction, ...) is listed in one
:class:`CNNError` naming each node, its operator and why. Files are untrusted: at most
``max_bytes`` are read, and anything that is not a valid ONNX model is one clear error.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from ..errors import CNNError, did_you_mean
from ..results import Network
from .graph import Node, build
from .words import (
    Pads,
    Unwritable,
    adaptive_words,
    conv_words,
    deconv_words,
    number,
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
        raise ImportError("from_onnx() needs the onnx package: pip install onnx") from err
    return onnx


def load(source: Any, max_bytes: int = MAX_BYTES) -> Any:
    """An ``onnx.ModelProto`` from a path, bytes or a model; CNNError for anything else."""
    onnx = _onnx()
    if isinstance(source, onnx.ModelProto):
        return source
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        where = "the bytes given"
    elif isinstance(source, str | os.PathLike):
        where = os.fspath(source)
        try:
            if os.path.exists(where) and not os.path.isfile(where):  # a device, a pipe
                raise CNNError(
                    f"{where} is not a regular file", hint="give the path of a .onnx file"
                )
            size = os.path.getsize(where)
            if size > max_bytes:
                raise CNNError(
                    f"{where} is {size:,} bytes, more than the {max_bytes:,} allowed",
                    hint="pass max_bytes= to read a larger model",
                )
            with open(where, "rb") as file:
                data = file.read(max_bytes + 1)
        except OSError as err:
            raise CNNError(f"cannot read {where}: {err.strerror or err}") from None
    else:
        raise CNNError(
            f"from_onnx() takes a file path, bytes or an onnx.ModelProto, not "
            f"{type(source).__name__}"
        )
    if len(data) > max_bytes:
        raise CNNError(f"{where} is more than the {max_bytes:,} bytes allowed")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf raises DecodeError, and others on some garbage
        raise CNNError(f"{where} is not an ONNX model (it does not parse)") from None
    if not model.HasField("graph") or not model.graph.node:
        raise CNNError(f"{where} is not an ONNX model (it has no graph)")
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
            f"unknown={unknown!r} is not valid", hint=did_you_mean(str(unknown), UNKNOWN)
        )
    onnx = _onnx()
    model = load(source, max_bytes)
    graph = model.graph
    weights = {init.name: tuple(init.dims) for init in graph.initializer}
    inputs = [value for value in graph.input if value.name not in weights]
    if len(inputs) != 1:
        raise CNNError(f"the graph has {len(inputs)} inputs; one image or vector input is needed")
    shape = _input_shape(inputs[0], input)
    _set_input(onnx, inputs[0], shape)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as err:
        raise CNNError(f"the graph's shapes cannot be inferred: {_first_line(err)}") from None
    shapes = {
        value.name: _dims(value)
        for value in (*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input)
    }
    reader = _Reader(inferred.graph, weights, shapes, inputs[0].name)
    nodes, problems, notes = reader.convert(unknown)
    if problems:
        listed = "\n".join(f"  {name} ({op}): {why}" for name, op, why in problems)
        raise CNNError(
            f"{len(problems)} node{'s' if len(problems) > 1 else ''} of the graph "
            f"{'have' if len(problems) > 1 else 'has'} no word in the layer language:\n{listed}",
            hint='from_onnx(..., unknown="opaque") writes each as an opaque layer, counted as '
            "zero and marked",
        )
    name = graph.name or "graph"
    header = [f"{name}, imported from ONNX (opset {_opset(model)})", *notes]
    ours = (*shape[2:], shape[1]) if len(shape) == 4 else shape[1:]
    return build(nodes, ours, header, repeat=repeat)


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
    """NCHW (or N, F) of the input, batch 1; ``given`` (without batch) where the file
    leaves a dimension open."""
    dims = _dims(value) or ()
    if given is not None:
        wanted = tuple(int(d) for d in given)
        return (1, *wanted[-3:]) if len(wanted) >= 3 else (1, *wanted[-1:])
    if len(dims) not in (2, 4) or min(dims[1:], default=0) < 1:
        raise CNNError(
            f"input {value.name!r} has shape {dims or 'unknown'}; an image batch (N, C, H, W) "
            "or vectors (N, F) with known sizes is needed",
            hint="pass input=(C, H, W)",
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
        self.pads: dict[str, tuple[str, Pads]] = {}  # a Pad's output → (its input, pads)
        self.matmuls: dict[str, Node] = {}  # a MatMul's output → its node, for the bias

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
            try:
                node = self.node(proto, name)
            except (_Unknown, Unwritable) as why:
                source = self._sources(proto)
                out = self._out(proto)
                if unknown == "opaque" and len(source) == 1 and out:
                    label = self.label(proto, name)
                    weights = sum(
                        math.prod(self.weights[v]) for v in proto.input if v in self.weights
                    )
                    notes.append(  # ONNX does not tell weights from constants: both said
                        f"opaque, counted as zero: {label} ({proto.op_type}, initializers of "
                        f"{weights:,} value{'' if weights == 1 else 's'}): {why}"
                    )
                    keeps = self.shapes.get(proto.input[0]) == self.shapes.get(proto.output[0])
                    statement = "opaque" if keeps else "opaque " + "x".join(map(str, out))
                    node = Node(name, label, statement, source, out, -1)
                else:
                    problems.append((name, proto.op_type, str(why)))
                    self.alias[proto.output[0]] = name
                    continue
            if node is None:
                continue
            same = [i for i, n in enumerate(nodes) if n.name == node.name]
            if same:  # a MatMul that took on its bias
                nodes[same[0]] = node
            else:
                nodes.append(node)
            self.alias[proto.output[0]] = node.name
        for pad_input, _ in self.pads.values():
            problems.append((pad_input, "Pad", "padding that no conv or pool takes on"))
        out_names = [self.alias.get(value.name, value.name) for value in self.graph.output]
        if nodes and not problems and out_names[:1] != [nodes[-1].name]:
            problems.append(("output", "graph", "the graph's output is not its last layer's"))
        return nodes, problems, notes

    # ------------------------------------------------------------- helpers

    def _constant(self, proto: Any) -> None:
        for attribute in proto.attribute:
            if attribute.name == "value":
                self.values[proto.output[0]] = attribute.t

    def _sources(self, proto: Any) -> tuple[str, ...]:
        """The producing nodes of a node's non-constant inputs."""
        out = []
        for value in proto.input:
            if value and value not in self.constants:
                if value not in self.alias:
                    raise _Unknown(f"reads {value!r}, which nothing before it produced")
                out.append(self.alias[value])
        return tuple(out)

    def _out(self, proto: Any) -> tuple[int, ...]:
        """Our shape of the node's first output: (H, W, C) or (N,); () when unknown."""
        dims = self.shapes.get(proto.output[0])
        if not dims:
            return ()
        return (*dims[2:], dims[1]) if len(dims) == 4 else tuple(dims[1:])

    def _in(self, proto: Any) -> tuple[int, ...]:
        dims = self.shapes.get(proto.input[0])
        if dims is None:
            raise _Unknown("its input's shape is not known")
        return dims

    def label(self, proto: Any, name: str) -> str:
        """``layer1.0.conv1`` from a weight ``layer1.0.conv1.weight``; else the path in
        the node's name (``/layer1/layer1.0/relu/Relu`` → ``layer1.0.relu``)."""
        for value in proto.input[1:2]:
            if value in self.weights and value.endswith((".weight", ".bias")):
                return word_label(value.rsplit(".", 1)[0])
        parts = [p for p in name.strip("/").split("/") if p]
        if len(parts) > 1:
            parts = parts[:-1]
            dotted = [i for i, p in enumerate(parts) if "." in p]
            if dotted:
                parts = parts[dotted[-1] :]
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

    def node(self, proto: Any, name: str) -> Node | None:
        op = proto.op_type
        attrs = {a.name: _attribute(a) for a in proto.attribute}
        sources = self._sources(proto)
        if op == "Identity":
            self.alias[proto.output[0]] = sources[0] if sources else ""
            return None
        if op == "Pad":
            self.pads[proto.output[0]] = (proto.input[0], self._pad(proto, attrs))
            self.alias[proto.output[0]] = sources[0]
            return None
        handler = _HANDLERS.get(op)
        if handler is None:
            raise _Unknown("no layer word for this operator")
        kind, text, params = handler(self, proto, attrs)
        if kind == "bias":  # Add of a bias after a MatMul: becomes the fc's bias
            matmul = self.matmuls.pop(proto.input[0])
            return matmul._replace(
                statement=matmul.statement.replace(" nobias", ""),
                params=matmul.params + params,
                out_shape=self._out(proto),
            )
        if kind == "pass":
            self.alias[proto.output[0]] = sources[0]
            return None
        statement = kind if kind in ("add", "concat") else text
        macs = self.macs(proto)
        node = Node(
            name, self.label(proto, name), statement, sources, self._out(proto), params, macs
        )
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
        if proto.op_type in ("Gemm", "MatMul"):
            return math.prod(weight)
        return -1

    def _pad(self, proto: Any, attrs: dict[str, Any]) -> Pads:
        mode = attrs.get("mode", "constant")
        if mode != "constant":
            raise _Unknown(f"mode {mode!r}")
        pads = attrs.get("pads")
        if pads is None and len(proto.input) > 1:
            pads = self.tensor(proto.input[1])
        if pads is None or len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
            raise _Unknown("padding other than height and width of an image")
        top, left, bottom, right = (int(pads[i]) for i in (2, 3, 6, 7))
        return ((top, bottom), (left, right))

    def window_pads(
        self,
        proto: Any,
        attrs: dict[str, Any],
        kernel: tuple[int, int],
        stride: tuple[int, int],
        dilation: tuple[int, int],
    ) -> Pads:
        """(before, after) per axis from ``pads`` or ``auto_pad``, plus a Pad in front."""
        extra = self.pads.pop(proto.input[0], None)
        unpadded = self.shapes.get(extra[0]) if extra is not None else self._in(proto)
        if unpadded is None:
            raise _Unknown("its input's shape is not known")
        size = unpadded[2:]
        auto = attrs.get("auto_pad", "NOTSET")
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            sides = []
            for n, k, s, d in zip(size, kernel, stride, dilation, strict=True):
                out = -(-n // s)
                total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
                small, large = total // 2, total - total // 2
                sides.append((small, large) if auto == "SAME_UPPER" else (large, small))
            pads: Pads = (sides[0], sides[1])
        else:
            flat = [int(v) for v in attrs.get("pads", [0, 0, 0, 0])]
            pads = ((flat[0], flat[2]), (flat[1], flat[3]))
        if extra is not None:
            (t, b), (lft, r) = extra[1]
            pads = ((pads[0][0] + t, pads[0][1] + b), (pads[1][0] + lft, pads[1][1] + r))
        return pads


def _attribute(attribute: Any) -> Any:
    onnx = _onnx()
    value = onnx.helper.get_attribute_value(attribute)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _pair(values: Any, default: int) -> tuple[int, int]:
    """An attribute with one number per dimension of an image; other ranks are refused
    (the ONNX reader handles images and vectors only, so far)."""
    if not values:
        return (default, default)
    numbers = [int(v) for v in values]
    if len(numbers) != 2:
        raise _Unknown(f"{len(numbers)}-D: only 2-D operators are read from ONNX so far")
    return (numbers[0], numbers[1])


def _conv(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    weight = reader.weights.get(proto.input[1])
    if weight is None or len(weight) != 4:
        raise _Unknown("a convolution whose weights are not a 4-D initializer")
    n, _, kh, kw = weight
    kernel = _pair(attrs.get("kernel_shape"), 0) if "kernel_shape" in attrs else (kh, kw)
    stride = _pair(attrs.get("strides"), 1)
    dilation = _pair(attrs.get("dilations"), 1)
    groups = int(attrs.get("group", 1))
    pads = reader.window_pads(proto, attrs, kernel, stride, dilation)
    dims = reader._in(proto)
    bias = len(proto.input) > 2 and bool(proto.input[2])
    text = conv_words(dims[1], n, kernel, stride, pads, dilation, groups, bias, (dims[2], dims[3]))
    return "leaf", text, reader.params(proto, 1, 2)


def _conv_transpose(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    weight = reader.weights.get(proto.input[1])
    if weight is None or len(weight) != 4:
        raise _Unknown("a transposed convolution whose weights are not a 4-D initializer")
    if "output_shape" in attrs or attrs.get("auto_pad", "NOTSET") != "NOTSET":
        raise _Unknown("output_shape or auto_pad: write pads and output_padding instead")
    _, n_per_group, kh, kw = weight
    groups = int(attrs.get("group", 1))
    flat = [int(v) for v in attrs.get("pads", [0, 0, 0, 0])]
    if (flat[0], flat[1]) != (flat[2], flat[3]):
        raise _Unknown("unequal padding on a transposed convolution")
    text = deconv_words(
        n_per_group * groups,
        _pair(attrs.get("kernel_shape"), 0) if "kernel_shape" in attrs else (kh, kw),
        _pair(attrs.get("strides"), 1),
        (flat[0], flat[1]),
        _pair(attrs.get("output_padding"), 0),
        _pair(attrs.get("dilations"), 1),
        groups,
        len(proto.input) > 2 and bool(proto.input[2]),
    )
    return "leaf", text, reader.params(proto, 1, 2)


def _gemm(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    weight = reader.weights.get(proto.input[1])
    if weight is None or len(weight) != 2 or attrs.get("transA", 0):
        raise _Unknown("a matrix product whose second factor is not a weight initializer")
    if len(reader._in(proto)) != 2:
        raise _Unknown("a matrix product over more than a batch of vectors")
    n = weight[0] if attrs.get("transB", 0) else weight[1]
    bias = len(proto.input) > 2 and bool(proto.input[2])
    return "leaf", words(f"fc {n}", None if bias else "nobias"), reader.params(proto, 1, 2)


def _matmul(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    return _gemm(reader, proto, {})


def _pool(op: str) -> Any:
    def convert(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
        kernel = _pair(attrs.get("kernel_shape"), 0)
        stride = _pair(attrs.get("strides"), 1)  # ONNX's default is 1, not the kernel
        dilation = _pair(attrs.get("dilations"), 1)
        pads = reader.window_pads(proto, attrs, kernel, stride, dilation)
        size = reader._in(proto)[2:]
        ceil = bool(attrs.get("ceil_mode", 0))
        return "leaf", pool_words(op, kernel, stride, pads, dilation, ceil, (size[0], size[1])), 0

    return convert


def _global(kind: str) -> Any:
    def convert(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
        return "leaf", adaptive_words(kind, (1, 1)), 0

    return convert


def _reduce_mean(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    axes = attrs.get("axes")
    if axes is None and len(proto.input) > 1:
        found = reader.tensor(proto.input[1])
        axes = [int(a) for a in found] if found is not None else None
    if sorted(a % 4 for a in axes or ()) != [2, 3] or not attrs.get("keepdims", 1):
        raise _Unknown("a mean over other axes than height and width, or without keepdims")
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
        raise _Unknown(f"{slopes} slopes: prelu has one weight")
    return "leaf", "prelu", 1


def _clip(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    bounds = [attrs.get("min"), attrs.get("max")]
    for i in (1, 2):
        if len(proto.input) > i and proto.input[i]:
            found = reader.tensor(proto.input[i])
            bounds[i - 1] = found[0] if found else None
    if bounds == [0.0, 6.0]:
        return "leaf", "relu6", 0
    raise _Unknown(f"clip to {bounds}: only ReLU6's [0, 6] has a word")


def _softmax(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    rank = len(reader._in(proto))
    axis = int(attrs.get("axis", -1))
    if axis % rank == 1 and (rank == 2 or axis == 1):
        return "leaf", "softmax", 0
    raise _Unknown(f"softmax over axis {axis}: the language's softmax is over the channels")


def _lrn(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    if int(attrs.get("size", 0)) != 5:
        raise _Unknown("size other than 5: lrn counts a window of 5")
    return "leaf", "lrn", 0


def _dropout(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    ratio = attrs.get("ratio")
    if ratio is None and len(proto.input) > 1 and proto.input[1]:
        found = reader.tensor(proto.input[1])
        ratio = found[0] if found else None
    return "leaf", f"dropout {number(float(0.5 if ratio is None else ratio))}", 0


def _flatten(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    if int(attrs.get("axis", 1)) != 1:
        raise _Unknown("flattening from another axis than 1")
    return "leaf", "flatten", 0


def _reshape(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    dims, out = reader._in(proto), reader.shapes.get(proto.output[0])
    if out == dims:
        return "pass", "", 0
    if out is not None and len(out) == 2 and out[1] == math.prod(dims[1:]):
        return "leaf", "flatten", 0
    raise _Unknown(f"reshapes {dims} to {out}: only flattening to (N, features) is known")


def _add(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    constant = [i for i in proto.input if i in reader.constants]
    if len(constant) == 1 and proto.input[0] in reader.matmuls and proto.input[1] in reader.weights:
        return "bias", "", math.prod(reader.weights[proto.input[1]])
    if constant:
        raise _Unknown("adds a constant")
    shapes = {reader.shapes.get(i) for i in proto.input}
    if len(shapes) != 1:
        raise _Unknown("adds tensors of different shapes (broadcasting)")
    return "add", "add", 0


def _concat(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    rank = len(reader._in(proto))
    if int(attrs.get("axis", 0)) % rank != 1:
        raise _Unknown(f"joins along axis {attrs.get('axis')}: concat joins channels (axis 1)")
    if any(i in reader.constants for i in proto.input):
        raise _Unknown("joins a constant")
    return "concat", "concat", 0


def _resize(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    dims, out = reader._in(proto), reader.shapes.get(proto.output[0])
    if out is None or len(dims) != 4 or out[:2] != dims[:2]:
        raise _Unknown("resizing other than the height and width of an image")
    return "leaf", upsample_words(dims[2:], out[2:], str(attrs.get("mode", "nearest"))), 0


def _mul(reader: _Reader, proto: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
    raise _Unknown("an element-wise product: no multiplication merge in the language yet")


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
}
"""The operators understood, by ONNX name."""
